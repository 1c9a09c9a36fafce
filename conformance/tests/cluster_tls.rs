//! Route TLS refusals with real processes, ours next to the reference: a peer whose
//! certificate our server does not trust is refused whether we accept or dial the route
//! (certificates are verified both ways), and a plain-text route to a TLS cluster port
//! fails. The working mixed TLS cluster is `cluster_core::routes_over_tls_with_the_reference`.
//! Run against either runtime (`NATS_SERVER_BIN=target/std/debug/nats-server` for the std
//! build).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use conformance::ours::our_binary;
use conformance::reference::reference_binary;
use conformance::server::{free_port, ServerProcess};

const WAIT: Duration = Duration::from_secs(10);

/// What our server logs when a route's TLS handshake fails (the reference's words).
const HANDSHAKE_ERROR: &str = "TLS route handshake error";

/// Writes a CA and a certificate for 127.0.0.1 it signed (usable as server and client)
/// into `dir` as `<tag>-ca.pem`, `<tag>.pem`, `<tag>.key`.
fn certs(dir: &Path, tag: &str) {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
        KeyUsagePurpose,
    };
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, format!("{tag} CA"));
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_key = KeyPair::generate().unwrap();
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let mut leaf =
        CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
    leaf.distinguished_name.push(DnType::CommonName, tag);
    leaf.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    let key = KeyPair::generate().unwrap();
    let cert = leaf.signed_by(&key, &ca_cert, &ca_key).unwrap();
    std::fs::write(dir.join(format!("{tag}-ca.pem")), ca_cert.pem()).unwrap();
    std::fs::write(dir.join(format!("{tag}.pem")), cert.pem()).unwrap();
    std::fs::write(dir.join(format!("{tag}.key")), key.serialize_pem()).unwrap();
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cluster-tls-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A server config: cluster `tlsneg` on `port`, routes to `seed`, TLS with the certificate
/// `cert` trusting `ca` (both tags of [`certs`]), or no TLS when `cert` is `None`.
fn conf(dir: &Path, name: &str, port: u16, seed: Option<u16>, tls: Option<(&str, &str)>) -> String {
    let routes = seed.map_or(String::new(), |p| format!("\"nats://127.0.0.1:{p}\""));
    let tls = tls.map_or(String::new(), |(cert, ca)| {
        format!(
            "  tls {{\n    cert_file: \"{d}/{cert}.pem\"\n    key_file: \"{d}/{cert}.key\"\n    ca_file: \"{d}/{ca}-ca.pem\"\n    timeout: 2\n  }}\n",
            d = dir.display()
        )
    });
    let text = format!(
        "server_name: {name}\ncluster {{\n  name: tlsneg\n  listen: \"127.0.0.1:{port}\"\n  routes: [{routes}]\n{tls}}}\n"
    );
    let path = dir.join(format!("{name}.conf"));
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

struct Node {
    server: ServerProcess,
    monitor: u16,
}

fn start(bin: &Path, conf: &str) -> Node {
    let monitor = free_port();
    let m = monitor.to_string();
    Node {
        server: ServerProcess::start(bin, &["-c", conf, "-m", &m]),
        monitor,
    }
}

fn num_routes(monitor: u16) -> u64 {
    let mut s = TcpStream::connect(("127.0.0.1", monitor)).expect("monitor");
    write!(s, "GET /routez HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    let body = out.split("\r\n\r\n").nth(1).unwrap_or_default();
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["num_routes"].as_u64())
        .expect("routez")
}

/// Waits for our server to log a failed route handshake, then checks no route formed.
fn assert_refused(ours: &Node, peer: &Node, what: &str) {
    assert!(
        ours.server.wait_for_log(HANDSHAKE_ERROR, WAIT),
        "{what}: no handshake error logged: {:?}",
        ours.server.log_lines()
    );
    assert_eq!(num_routes(ours.monitor), 0, "{what}: ours has a route");
    assert_eq!(num_routes(peer.monitor), 0, "{what}: the peer has a route");
}

/// Certificates are verified both ways: a reference server with a certificate from a CA we
/// do not trust is refused when it dials us and when we dial it, although it trusts ours.
#[test]
fn an_untrusted_peer_certificate_is_refused_both_ways() {
    let dir = temp_dir("untrusted");
    certs(&dir, "good");
    certs(&dir, "other");
    // It dials us.
    let (po, pr) = (free_port(), free_port());
    let ours = start(
        &our_binary(),
        &conf(&dir, "ours1", po, None, Some(("good", "good"))),
    );
    let reference = start(
        &reference_binary(),
        &conf(&dir, "ref1", pr, Some(po), Some(("other", "good"))),
    );
    assert_refused(&ours, &reference, "accepting");
    drop((ours, reference));
    // We dial it.
    let (po, pr) = (free_port(), free_port());
    let reference = start(
        &reference_binary(),
        &conf(&dir, "ref2", pr, None, Some(("other", "good"))),
    );
    let ours = start(
        &our_binary(),
        &conf(&dir, "ours2", po, Some(pr), Some(("good", "good"))),
    );
    assert_refused(&ours, &reference, "dialling");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A route without TLS to a cluster port that requires it fails the handshake.
#[test]
fn a_plain_route_to_a_tls_cluster_fails() {
    let dir = temp_dir("plain");
    certs(&dir, "good");
    let (po, pr) = (free_port(), free_port());
    let ours = start(
        &our_binary(),
        &conf(&dir, "ours", po, None, Some(("good", "good"))),
    );
    let reference = start(&reference_binary(), &conf(&dir, "ref", pr, Some(po), None));
    assert_refused(&ours, &reference, "plain route");
    let _ = std::fs::remove_dir_all(&dir);
}
