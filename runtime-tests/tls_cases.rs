// The TLS cases both runtimes must pass, included by runtime-smol/tests/tls.rs and
// runtime-std/tests/tls.rs, each with `runtime` naming its driver crate.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use engine::config::TlsSettings;
use engine::{Server, ServerConfig, ServerSeed};
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use runtime::tls::rustls;
use runtime::ServeHandle;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

/// Longest any read in these tests waits.
const PATIENCE: Duration = Duration::from_secs(5);

/// A CA certificate and a server certificate for `localhost` signed by it.
struct Pki {
    ca: CertificateDer<'static>,
    chain: Vec<CertificateDer<'static>>,
    key: Vec<u8>,
}

fn pki() -> Pki {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().expect("CA key");
    let ca = ca_params.self_signed(&ca_key).expect("CA");
    let key = KeyPair::generate().expect("server key");
    let cert = CertificateParams::new(vec!["localhost".to_string()])
        .expect("server params")
        .signed_by(&key, &ca, &ca_key)
        .expect("server certificate");
    Pki {
        ca: ca.der().clone(),
        chain: vec![cert.der().clone()],
        key: key.serialize_der(),
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn server_tls(pki: &Pki) -> Arc<rustls::ServerConfig> {
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pki.key.clone()));
    Arc::new(
        rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(pki.chain.clone(), key)
            .expect("server config"),
    )
}

fn client_tls(pki: &Pki) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    roots.add(pki.ca.clone()).expect("root");
    Arc::new(
        ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// A server running `serve_tls` on a thread; shut down when dropped.
struct Running {
    addr: SocketAddr,
    server: Arc<Server>,
    handle: ServeHandle,
    thread: Option<JoinHandle<()>>,
}

impl Running {
    fn start(pki: &Pki, settings: TlsSettings) -> Running {
        Running::start_with(pki, settings, ServerConfig::default())
    }

    fn start_with(pki: &Pki, settings: TlsSettings, base: ServerConfig) -> Running {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let config = ServerConfig {
            host: "127.0.0.1".into(),
            port: addr.port(),
            tls: Some(settings),
            ..base
        };
        let seed = ServerSeed {
            identity: [7; 32],
            rng: 1,
        };
        let server = Server::new(config, seed, Instant::now());
        let (tx, rx) = std::sync::mpsc::channel();
        let tls = server_tls(pki);
        let s = server.clone();
        let thread = std::thread::spawn(move || {
            runtime::serve_tls(s, listener, 2, Some(tls), move |h| {
                let _ = tx.send(h);
            })
            .expect("serve");
        });
        let handle = rx.recv_timeout(PATIENCE).expect("server ready");
        Running {
            addr,
            server,
            handle,
            thread: Some(thread),
        }
    }

    /// Waits (bounded) until the server has `n` clients.
    fn wait_clients(&self, n: usize) {
        let deadline = Instant::now() + PATIENCE;
        while self.server.num_clients() != n {
            assert!(
                Instant::now() < deadline,
                "{} clients",
                self.server.num_clients()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.handle.shutdown();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn tcp(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(PATIENCE)).expect("timeout");
    s
}

/// Reads a line (byte by byte, so no TLS bytes behind it are consumed).
fn line(r: &mut impl Read) -> String {
    let mut out = Vec::new();
    let mut b = [0u8; 1];
    while !out.ends_with(b"\r\n") && out.len() < 64 * 1024 {
        match r.read(&mut b) {
            Ok(1) => out.push(b[0]),
            other => panic!("line cut short ({other:?}): {out:?}"),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads until `needle` (bounded); returns what was read.
fn until(r: &mut impl Read, needle: &str) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    let deadline = Instant::now() + PATIENCE;
    while !String::from_utf8_lossy(&got).contains(needle) {
        assert!(
            Instant::now() < deadline,
            "no {needle:?} in {} bytes",
            got.len()
        );
        match r.read(&mut buf) {
            Ok(0) => panic!("closed before {needle:?}"),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => panic!("read failed before {needle:?}: {e}"),
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

/// Whether the server closes `s` without sending anything, within `within`.
fn closed_silently(s: &mut TcpStream, within: Duration) -> bool {
    s.set_read_timeout(Some(within)).expect("timeout");
    let mut buf = [0u8; 256];
    matches!(s.read(&mut buf), Ok(0))
        || matches!(s.read(&mut buf), Err(e) if e.kind() == ErrorKind::ConnectionReset)
}

type Tls = StreamOwned<ClientConnection, TcpStream>;

fn handshake(pki: &Pki, sock: TcpStream) -> Tls {
    let name = ServerName::try_from("localhost").expect("name");
    let conn = ClientConnection::new(client_tls(pki), name).expect("client");
    let mut tls = StreamOwned::new(conn, sock);
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock).expect("handshake");
    }
    tls
}

/// Plain INFO, then TLS.
fn connect(pki: &Pki, addr: SocketAddr) -> Tls {
    let mut sock = tcp(addr);
    let info = line(&mut sock);
    assert!(info.contains("\"tls_required\":true"), "{info}");
    handshake(pki, sock)
}

#[test]
fn handshake_first_sends_info_over_tls() {
    let pki = pki();
    let settings = TlsSettings {
        handshake_first: true,
        ..TlsSettings::default()
    };
    let server = Running::start(&pki, settings);
    let mut tls = handshake(&pki, tcp(server.addr));
    let info = line(&mut tls);
    assert!(info.starts_with("INFO {"), "{info}");
    assert!(info.contains("\"tls_required\":true"), "{info}");
    tls.write_all(b"CONNECT {\"verbose\":false}\r\nPING\r\n")
        .expect("write");
    until(&mut tls, "PONG\r\n");
}

#[test]
fn handshake_first_says_nothing_to_a_plain_client() {
    let pki = pki();
    let settings = TlsSettings {
        handshake_first: true,
        timeout: Duration::from_millis(300),
        ..TlsSettings::default()
    };
    let server = Running::start(&pki, settings);
    let mut sock = tcp(server.addr);
    let started = Instant::now();
    assert!(closed_silently(&mut sock, Duration::from_secs(3)));
    assert!(started.elapsed() >= Duration::from_millis(250));
    server.wait_clients(0);
}

#[test]
fn handshake_first_auto_falls_back_to_info_for_clients_that_wait() {
    let pki = pki();
    let settings = TlsSettings {
        handshake_first: true,
        handshake_first_fallback: Some(Duration::from_millis(50)),
        ..TlsSettings::default()
    };
    let server = Running::start(&pki, settings);
    // A client that waits gets INFO in plain text, then does the usual handshake.
    let mut waiting = connect(&pki, server.addr);
    waiting
        .write_all(b"CONNECT {\"verbose\":false}\r\nPING\r\n")
        .expect("write");
    until(&mut waiting, "PONG\r\n");
    // A client that starts with TLS gets INFO over TLS.
    let mut eager = handshake(&pki, tcp(server.addr));
    let info = line(&mut eager);
    assert!(info.starts_with("INFO {"), "{info}");
}

#[test]
fn the_configured_tls_timeout_cuts_a_silent_client() {
    let pki = pki();
    let settings = TlsSettings {
        timeout: Duration::from_millis(200),
        ..TlsSettings::default()
    };
    let server = Running::start(&pki, settings);
    let mut sock = tcp(server.addr);
    let _ = line(&mut sock);
    let started = Instant::now();
    assert!(closed_silently(&mut sock, Duration::from_secs(3)));
    let waited = started.elapsed();
    assert!(waited < Duration::from_secs(2), "{waited:?}");
    server.wait_clients(0);
    // Other connections (a readiness probe) may close around the same time: look for ours.
    let closed = server.server.closed_clients();
    let reasons: Vec<String> = closed.iter().map(|c| c.reason.to_string()).collect();
    assert!(
        reasons.iter().any(|r| r == "TLS Handshake Failure"),
        "{reasons:?}"
    );
}

#[test]
fn the_auth_timeout_counts_from_the_end_of_the_handshake() {
    let pki = pki();
    let mut base = ServerConfig::default();
    base.auth.token = Some(engine::auth::Secret::new("s3cret".to_string()));
    base.auth.timeout = Duration::from_millis(400);
    let server = Running::start_with(&pki, TlsSettings::default(), base);
    let mut sock = tcp(server.addr);
    let info = line(&mut sock);
    assert!(info.contains("\"auth_required\":true"), "{info}");
    // Longer than the auth timeout before the handshake...
    std::thread::sleep(Duration::from_millis(600));
    let started = Instant::now();
    let mut tls = handshake(&pki, sock);
    // ...and the client still gets the whole timeout after it.
    let text = until(&mut tls, "Authentication Timeout");
    let waited = started.elapsed();
    assert!(text.contains("-ERR 'Authentication Timeout'"), "{text}");
    assert!(waited >= Duration::from_millis(300), "{waited:?}");
}

#[test]
fn garbage_does_not_hurt_other_clients() {
    let pki = pki();
    let server = Running::start(&pki, TlsSettings::default());
    let mut sub = connect(&pki, server.addr);
    sub.write_all(b"CONNECT {\"verbose\":false}\r\nSUB g 1\r\nPING\r\n")
        .expect("sub");
    until(&mut sub, "PONG\r\n");
    // Junk that starts like a TLS record, junk that does not, and a client that leaves.
    let junk: [&[u8]; 4] = [
        b"\x16\x03\x01\x00\x05hello-not-really",
        b"\x16\xff\xff\xff\xff\xff\xff\xff\xff",
        b"GET / HTTP/1.1\r\n\r\n",
        b"",
    ];
    for bytes in junk {
        let mut s = tcp(server.addr);
        let _ = line(&mut s);
        let _ = s.write_all(bytes);
        if bytes.is_empty() {
            let _ = s.shutdown(std::net::Shutdown::Write);
        }
        let mut buf = [0u8; 512];
        let deadline = Instant::now() + PATIENCE;
        // Whatever the server answers (an alert at most), it closes.
        loop {
            assert!(Instant::now() < deadline, "not closed for {bytes:?}");
            match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    }
    let mut publisher = connect(&pki, server.addr);
    publisher
        .write_all(b"CONNECT {\"verbose\":false}\r\nPUB g 2\r\nok\r\nPING\r\n")
        .expect("pub");
    until(&mut publisher, "PONG\r\n");
    until(&mut sub, "MSG g 1 2\r\nok\r\n");
    server.wait_clients(2);
}

#[test]
fn large_messages_and_many_clients_over_tls() {
    let pki = pki();
    let server = Running::start(&pki, TlsSettings::default());
    let mut subs: Vec<Tls> = (0..8)
        .map(|i| {
            let mut s = connect(&pki, server.addr);
            s.write_all(
                format!("CONNECT {{\"verbose\":false}}\r\nSUB big {i}\r\nPING\r\n").as_bytes(),
            )
            .expect("sub");
            until(&mut s, "PONG\r\n");
            s
        })
        .collect();
    let mut publisher = connect(&pki, server.addr);
    let payload = vec![b'z'; 1024 * 1024];
    let mut op = format!(
        "CONNECT {{\"verbose\":false}}\r\nPUB big {}\r\n",
        payload.len()
    )
    .into_bytes();
    op.extend_from_slice(&payload);
    op.extend_from_slice(b"\r\nPING\r\n");
    publisher.write_all(&op).expect("publish");
    until(&mut publisher, "PONG\r\n");
    for (i, s) in subs.iter_mut().enumerate() {
        let head = format!("MSG big {i} {}\r\n", payload.len());
        let mut got = Vec::new();
        let mut buf = [0u8; 64 * 1024];
        let want = head.len() + payload.len() + 2;
        let deadline = Instant::now() + PATIENCE;
        while got.len() < want {
            assert!(
                Instant::now() < deadline,
                "subscriber {i}: {} bytes",
                got.len()
            );
            let n = s.read(&mut buf).expect("read");
            assert!(n > 0, "subscriber {i} closed");
            got.extend_from_slice(&buf[..n]);
        }
        assert!(got.starts_with(head.as_bytes()));
        assert!(got[head.len()..want - 2].iter().all(|&b| b == b'z'));
    }
}

#[test]
fn shutdown_closes_tls_clients() {
    let pki = pki();
    let server = Running::start(&pki, TlsSettings::default());
    let mut c = connect(&pki, server.addr);
    c.write_all(b"CONNECT {\"verbose\":false}\r\nPING\r\n")
        .expect("write");
    until(&mut c, "PONG\r\n");
    server.handle.shutdown();
    let mut buf = [0u8; 64];
    let deadline = Instant::now() + PATIENCE;
    loop {
        assert!(Instant::now() < deadline, "still open after shutdown");
        match c.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
}
