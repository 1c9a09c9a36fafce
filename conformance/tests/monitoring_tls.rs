//! HTTPS monitoring (`-ms/--https_port`, `https`/`https_port` in the file) against the
//! reference started with the same generated certificates: the same documents over TLS, no
//! client certificate asked even when clients must present one, the same answer to plain
//! HTTP on the HTTPS port, and the same refusals (exit code and message) when HTTPS cannot
//! be served.

mod monitoring_http;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use conformance::server::free_port;
use conformance::{our_binary, reference_binary, ServerProcess};
use monitoring_http::{get, get_tls, run_to_exit, Http};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore};
use serde_json::Value;

/// How long a server that must refuse to start may take to exit.
const EXIT_WAIT: Duration = Duration::from_secs(10);

/// A CA and a server certificate for `127.0.0.1` in a temporary directory.
struct Certs {
    dir: PathBuf,
}

impl Drop for Certs {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Certs {
    fn generate(tag: &str) -> Certs {
        let dir =
            std::env::temp_dir().join(format!("conformance-mon-tls-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name.push(DnType::CommonName, "Monitor CA");
        ca.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_key = KeyPair::generate().expect("CA key");
        let ca_cert = ca.self_signed(&ca_key).expect("CA certificate");
        let mut leaf = CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()])
            .expect("leaf params");
        leaf.distinguished_name
            .push(DnType::CommonName, "localhost");
        let key = KeyPair::generate().expect("leaf key");
        let cert = leaf
            .signed_by(&key, &ca_cert, &ca_key)
            .expect("leaf certificate");
        for (name, text) in [
            ("ca.pem", ca_cert.pem()),
            ("server.pem", cert.pem()),
            ("server.key", key.serialize_pem()),
        ] {
            std::fs::write(dir.join(name), text).expect("write PEM");
        }
        Certs { dir }
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    /// A TLS client that trusts the CA and presents no certificate.
    fn client(&self) -> Arc<ClientConfig> {
        let pem = std::fs::read(self.dir.join("ca.pem")).expect("CA PEM");
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(&pem) {
            roots.add(cert.expect("CA certificate")).expect("add CA");
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        Arc::new(config)
    }
}

/// A server with HTTPS monitoring on a fresh port, clients required to present certificates
/// (`--tlsverify`), which monitoring must not ask for.
fn start(bin: &Path, certs: &Certs) -> (ServerProcess, u16) {
    let https = free_port();
    let https_arg = https.to_string();
    let (cert, key, ca) = (
        certs.path("server.pem"),
        certs.path("server.key"),
        certs.path("ca.pem"),
    );
    let server = ServerProcess::start(
        bin,
        &[
            "-ms",
            &https_arg,
            "--tlsverify",
            "--tlscert",
            &cert,
            "--tlskey",
            &key,
            "--tlscacert",
            &ca,
        ],
    );
    (server, https)
}

fn doc(r: &Http, what: &str) -> Value {
    assert_eq!(r.status, 200, "{what}: {r:?}");
    serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{what}: {e}: {}", r.body))
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn https_serves_the_reference_documents() {
    let certs = Certs::generate("docs");
    let tls = certs.client();
    let (reference, ref_port) = start(&reference_binary(), &certs);
    let (ours, our_port) = start(&our_binary(), &certs);
    for path in ["/varz", "/connz", "/subsz", "/healthz", "/accountz"] {
        let r = doc(&get_tls(ref_port, path, &tls), path);
        let o = doc(&get_tls(our_port, path, &tls), path);
        assert_eq!(keys(&r), keys(&o), "{path}: reference {r}\n ours {o}");
        let r = get_tls(ref_port, path, &tls);
        let o = get_tls(our_port, path, &tls);
        assert_eq!(r.content_type, o.content_type, "{path}");
    }
    let r = doc(&get_tls(ref_port, "/varz", &tls), "/varz");
    let o = doc(&get_tls(our_port, "/varz", &tls), "/varz");
    for (v, port) in [(&r, ref_port), (&o, our_port)] {
        assert_eq!(v["https_port"], port, "{v}");
        assert_eq!(v["http_port"], 0, "{v}");
        assert_eq!(v["tls_required"], true, "{v}");
        assert_eq!(v["tls_verify"], true, "{v}");
    }
    for key in [
        "http_host",
        "http_base_path",
        "auth_timeout",
        "tls_timeout",
        "tls_cert_not_after",
    ] {
        assert_eq!(r[key], o[key], "{key}");
    }
    assert!(o["tls_cert_not_after"].is_string(), "{o}");

    // The index links the endpoints over HTTPS too; unknown paths are 404 on both.
    let index = get_tls(our_port, "/", &tls);
    assert_eq!(index.status, 200);
    assert!(index.body.contains("href=./varz"), "{}", index.body);
    for path in ["/nope", "/varz/"] {
        let (r, o) = (get_tls(ref_port, path, &tls), get_tls(our_port, path, &tls));
        assert_eq!((r.status, &r.body), (o.status, &o.body), "{path}");
    }

    // Plain HTTP to the HTTPS port gets the same refusal.
    let (r, o) = (get(ref_port, "/varz"), get(our_port, "/varz"));
    assert_eq!(r.status, 400, "{r:?}");
    assert_eq!((r.status, &r.body), (o.status, &o.body));

    for (server, port) in [(&reference, ref_port), (&ours, our_port)] {
        assert!(
            server.wait_for_log(
                &format!("Starting https monitor on 127.0.0.1:{port}"),
                Duration::from_secs(1)
            ),
            "{}: {:?}",
            server.binary().display(),
            server.log_lines()
        );
    }
}

#[test]
fn https_from_the_config_file() {
    let certs = Certs::generate("file");
    let tls = certs.client();
    for bin in [reference_binary(), our_binary()] {
        let https = free_port();
        let conf = certs.dir.join(format!("https-{https}.conf"));
        std::fs::write(
            &conf,
            format!(
                "https: \"127.0.0.1:{https}\"\nhttp_base_path: \"/mon\"\n\
                 tls {{\n  cert_file: \"{}\"\n  key_file: \"{}\"\n}}\n",
                certs.path("server.pem"),
                certs.path("server.key")
            ),
        )
        .expect("write config");
        let ports_dir = certs.dir.join(format!("ports-{https}"));
        std::fs::create_dir_all(&ports_dir).expect("ports dir");
        let server = ServerProcess::start(
            &bin,
            &[
                "-c",
                &conf.display().to_string(),
                "--ports_file_dir",
                &ports_dir.display().to_string(),
            ],
        );
        // The ports file lists the monitoring URL with its scheme.
        let stem = bin
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let ports = ports_dir.join(format!("{stem}_{}.ports", server.pid()));
        // Both servers write the file once every listener is up, which can be a moment
        // after the client port accepts connections.
        let ports_text = conformance::server::wait_for_json_file(&ports);
        let ports: Value = serde_json::from_str(&ports_text).expect("ports JSON");
        assert_eq!(
            ports["monitoring"][0],
            format!("https://127.0.0.1:{https}"),
            "{}: {ports}",
            bin.display()
        );
        let varz = doc(&get_tls(https, "/mon/varz", &tls), "/mon/varz");
        assert_eq!(varz["https_port"], https, "{}: {varz}", bin.display());
        assert_eq!(varz["http_host"], "127.0.0.1");
        assert_eq!(varz["http_base_path"], "/mon");
        assert_eq!(get_tls(https, "/varz", &tls).status, 404);
        drop(server);
    }
}

/// Every refusal to serve HTTPS, with the reference's exit code and message.
#[test]
fn https_refusals_match_the_reference() {
    let certs = Certs::generate("refuse");
    let conf = certs.dir.join("https-no-tls.conf");
    std::fs::write(&conf, "https_port: -1\n").expect("write config");
    let conf = conf.display().to_string();
    let cases: [(&[&str], &str); 3] = [
        (
            &["-ms", "-1"],
            "Can't start monitoring: TLS cert and key required for HTTPS",
        ),
        (
            &["-c", &conf],
            "Can't start monitoring: TLS cert and key required for HTTPS",
        ),
        (
            &["-m", "-1", "-ms", "-1"],
            "Can't start monitoring: can't specify both HTTP (-1) and HTTPs (-1) ports",
        ),
    ];
    for (args, message) in cases {
        let mut all = vec!["-a", "127.0.0.1", "-p", "-1"];
        all.extend_from_slice(args);
        let (ref_code, ref_out) = run_to_exit(&reference_binary(), &all, EXIT_WAIT);
        let (our_code, our_out) = run_to_exit(&our_binary(), &all, EXIT_WAIT);
        assert!(ref_out.contains(message), "reference {args:?}: {ref_out}");
        assert!(our_out.contains(message), "ours {args:?}: {our_out}");
        assert!(our_out.contains("[FTL]"), "ours {args:?}: {our_out}");
        assert_eq!(ref_code, our_code, "{args:?}: {ref_out}\n{our_out}");
    }
}
