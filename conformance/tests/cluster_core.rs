//! Clustering end to end, the core cases: three of our servers (one seed, the others
//! joining by `--routes`, the third route learnt by gossip) and a mixed cluster with the
//! reference server (route pooling, `$SYS` pinned, route authorization), over loopback
//! with raw client sockets. The broad suite is `cluster.rs`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use conformance::ours::our_binary;
use conformance::reference::reference_binary;
use conformance::server::{free_port, ServerProcess};

const WAIT: Duration = Duration::from_secs(10);

/// A client connection speaking the text protocol.
struct Conn {
    s: TcpStream,
    seen: String,
}

impl Conn {
    fn open(port: u16) -> Conn {
        let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
        let mut c = Conn {
            s,
            seen: String::new(),
        };
        c.send("CONNECT {\"verbose\":false,\"pedantic\":false,\"protocol\":1}\r\n");
        c.sync();
        c.seen.clear();
        c
    }

    fn send(&mut self, text: &str) {
        self.s.write_all(text.as_bytes()).expect("write");
    }

    fn read_for(&mut self, d: Duration) {
        let end = Instant::now() + d;
        let mut buf = [0u8; 65536];
        while Instant::now() < end {
            match self.s.read(&mut buf) {
                Ok(0) => return,
                Ok(n) => self.seen.push_str(&String::from_utf8_lossy(&buf[..n])),
                Err(_) => {}
            }
        }
    }

    /// PING and read until the PONG (everything before it stays in `seen`).
    fn sync(&mut self) {
        let before = self.seen.matches("PONG\r\n").count();
        self.send("PING\r\n");
        let end = Instant::now() + WAIT;
        while self.seen.matches("PONG\r\n").count() == before && Instant::now() < end {
            self.read_for(Duration::from_millis(20));
        }
    }

    fn take(&mut self) -> String {
        std::mem::take(&mut self.seen)
    }
}

/// Publishes `subject` from `publisher` until `subscriber` receives one (interest crosses
/// routes asynchronously).
fn wait_for_path(publisher: &mut Conn, subscriber: &mut Conn, subject: &str) {
    let end = Instant::now() + WAIT;
    while Instant::now() < end {
        publisher.send(&format!("PUB {subject} 5\r\nprobe\r\n"));
        publisher.sync();
        subscriber.read_for(Duration::from_millis(100));
        if subscriber.seen.contains(&format!("MSG {subject} ")) {
            // Let stragglers arrive, then start clean.
            subscriber.read_for(Duration::from_millis(200));
            subscriber.take();
            return;
        }
    }
    panic!("no message on {subject} crossed the cluster within {WAIT:?}");
}

fn http_get(port: u16, path: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("monitor");
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.split("\r\n\r\n").nth(1).unwrap_or_default().to_string()
}

fn num_routes(monitor: u16) -> u64 {
    let body = http_get(monitor, "/routez");
    serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["num_routes"].as_u64())
        .unwrap_or(0)
}

fn wait_routes(monitor: u16, at_least: u64) {
    let end = Instant::now() + WAIT;
    while Instant::now() < end {
        if num_routes(monitor) >= at_least {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "num_routes stayed below {at_least}: {}",
        http_get(monitor, "/routez")
    );
}

struct Node {
    server: ServerProcess,
    monitor: u16,
}

fn start(bin: &Path, cluster_port: u16, routes: Option<String>) -> Node {
    let monitor = free_port();
    let cluster = format!("nats://ruser:T0pS3cr3t@127.0.0.1:{cluster_port}");
    let m = monitor.to_string();
    let mut args = vec!["--cluster", &cluster, "--cluster_name", "core", "-m", &m];
    let routes_arg;
    if let Some(r) = routes {
        routes_arg = r;
        args.push("--routes");
        args.push(&routes_arg);
    }
    Node {
        server: ServerProcess::start(bin, &args),
        monitor,
    }
}

fn route_to(port: u16) -> String {
    format!("nats-route://ruser:T0pS3cr3t@127.0.0.1:{port}")
}

/// Pub/sub from every node to every other, and a queue group served exactly once.
fn check_cluster(nodes: &[Node]) {
    let mut subs: Vec<Conn> = nodes.iter().map(|n| Conn::open(n.server.port())).collect();
    for s in subs.iter_mut() {
        s.send("SUB core.> 1\r\nSUB work q 2\r\n");
        s.sync();
    }
    let mut pubs: Vec<Conn> = nodes.iter().map(|n| Conn::open(n.server.port())).collect();
    for (i, p) in pubs.iter_mut().enumerate() {
        for (j, s) in subs.iter_mut().enumerate() {
            wait_for_path(p, s, &format!("core.path.{i}.{j}"));
        }
    }
    // Every node's subscriber gets each message exactly once (no loops, no duplicates).
    for (i, p) in pubs.iter_mut().enumerate() {
        for k in 0..20 {
            p.send(&format!("PUB core.count.{i} 2\r\n{k:02}\r\n"));
        }
        p.sync();
        for s in subs.iter_mut() {
            s.read_for(Duration::from_millis(300));
            let got = s.take().matches(&format!("MSG core.count.{i} 1 2")).count();
            assert_eq!(got, 20, "node {i}'s messages");
        }
    }
    // The queue group: exactly once cluster-wide, spread over every member (the
    // publisher's local member is not preferred, as with the reference).
    // Interest for the group must have crossed first: probe until every node's member
    // is known everywhere.
    std::thread::sleep(Duration::from_millis(300));
    let total = 60;
    for k in 0..total {
        pubs[1].send(&format!("PUB work 2\r\n{:02}\r\n", k % 100));
    }
    pubs[1].sync();
    let mut counts = Vec::new();
    for s in subs.iter_mut() {
        s.read_for(Duration::from_millis(300));
        counts.push(s.take().matches("MSG work 2 2").count());
    }
    assert_eq!(
        counts.iter().sum::<usize>(),
        total,
        "exactly once: {counts:?}"
    );
    assert!(
        counts.iter().all(|&c| c > 0),
        "spread over the local and the remote members: {counts:?}"
    );
    // Without the local member, the other nodes share the work.
    subs[1].send("UNSUB 2\r\n");
    subs[1].sync();
    std::thread::sleep(Duration::from_millis(300));
    for k in 0..total {
        pubs[1].send(&format!("PUB work 2\r\n{:02}\r\n", k % 100));
    }
    pubs[1].sync();
    let mut counts = Vec::new();
    for s in subs.iter_mut() {
        s.read_for(Duration::from_millis(300));
        counts.push(s.take().matches("MSG work 2 2").count());
    }
    assert_eq!(
        counts.iter().sum::<usize>(),
        total,
        "exactly once: {counts:?}"
    );
    assert_eq!(counts[1], 0);
}

#[test]
fn three_of_ours_form_a_full_mesh_from_one_seed() {
    let ours = our_binary();
    let (pa, pb, pc) = (free_port(), free_port(), free_port());
    let a = start(&ours, pa, None);
    let b = start(&ours, pb, Some(route_to(pa)));
    let c = start(&ours, pc, Some(route_to(pa)));
    // B and C only know A: they must learn of each other by gossip. With pooling, each
    // peer is 3 pooled connections and one for `$SYS`.
    for n in [&a, &b, &c] {
        wait_routes(n.monitor, 8);
    }
    let routez: serde_json::Value = serde_json::from_str(&http_get(b.monitor, "/routez")).unwrap();
    let names: std::collections::BTreeSet<String> = routez["routes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["remote_id"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(names.len(), 2, "{routez}");
    let nodes = [a, b, c];
    check_cluster(&nodes);
    // Clients are told about every member.
    let info = {
        let mut s = TcpStream::connect(("127.0.0.1", nodes[0].server.port())).unwrap();
        let mut buf = vec![0u8; 4096];
        let n = s.read(&mut buf).unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    assert!(info.matches("127.0.0.1:").count() >= 3, "{info}");
}

#[test]
fn ours_joins_a_reference_cluster_with_default_pooling_and_route_auth() {
    let (pa, pb, pc) = (free_port(), free_port(), free_port());
    let a = start(&reference_binary(), pa, None);
    let b = start(&our_binary(), pb, Some(route_to(pa)));
    let c = start(&reference_binary(), pc, Some(route_to(pa)));
    for n in [&a, &b, &c] {
        wait_routes(n.monitor, 8);
    }
    check_cluster(&[a, b, c]);
}

#[test]
fn a_reference_server_joins_ours() {
    let (pa, pb) = (free_port(), free_port());
    let a = start(&our_binary(), pa, None);
    let b = start(&reference_binary(), pb, Some(route_to(pa)));
    wait_routes(a.monitor, 4);
    wait_routes(b.monitor, 4);
    let mut sub = Conn::open(a.server.port());
    sub.send("SUB x 1\r\n");
    sub.sync();
    let mut publ = Conn::open(b.server.port());
    wait_for_path(&mut publ, &mut sub, "x");
    let mut sub_b = Conn::open(b.server.port());
    sub_b.send("SUB y 1\r\n");
    sub_b.sync();
    let mut pub_a = Conn::open(a.server.port());
    wait_for_path(&mut pub_a, &mut sub_b, "y");
}

#[test]
fn wrong_route_credentials_are_refused() {
    let (pa, pb) = (free_port(), free_port());
    let a = start(&our_binary(), pa, None);
    let b = start(
        &our_binary(),
        pb,
        Some(format!("nats-route://ruser:wrong@127.0.0.1:{pa}")),
    );
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(num_routes(a.monitor), 0);
    assert_eq!(num_routes(b.monitor), 0);
    drop(b);
}

/// A CA and one certificate for 127.0.0.1 usable both ways (routes verify both sides).
fn route_certs(dir: &Path) {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
        KeyUsagePurpose,
    };
    std::fs::create_dir_all(dir).unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "Route CA");
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_key = KeyPair::generate().unwrap();
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let mut leaf =
        CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
    leaf.distinguished_name.push(DnType::CommonName, "route");
    leaf.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    let key = KeyPair::generate().unwrap();
    let cert = leaf.signed_by(&key, &ca_cert, &ca_key).unwrap();
    std::fs::write(dir.join("ca.pem"), ca_cert.pem()).unwrap();
    std::fs::write(dir.join("route.pem"), cert.pem()).unwrap();
    std::fs::write(dir.join("route.key"), key.serialize_pem()).unwrap();
}

#[test]
fn routes_over_tls_with_the_reference() {
    let dir = std::env::temp_dir().join(format!("cluster-core-tls-{}", std::process::id()));
    route_certs(&dir);
    let conf = |name: &str, cluster_port: u16, seed: Option<u16>| {
        let routes = seed.map_or(String::new(), |p| format!("\"nats://127.0.0.1:{p}\""));
        let text = format!(
            "cluster {{\n  name: tlscore\n  listen: \"127.0.0.1:{cluster_port}\"\n  routes: [{routes}]\n  tls {{\n    cert_file: \"{d}/route.pem\"\n    key_file: \"{d}/route.key\"\n    ca_file: \"{d}/ca.pem\"\n    timeout: 2\n  }}\n}}\n",
            d = dir.display()
        );
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let (pa, pb, pc) = (free_port(), free_port(), free_port());
    let (ca, cb, cc) = (
        conf("a.conf", pa, None),
        conf("b.conf", pb, Some(pa)),
        conf("c.conf", pc, Some(pa)),
    );
    let node = |bin: &Path, conf: &str| {
        let monitor = free_port();
        let m = monitor.to_string();
        Node {
            server: ServerProcess::start(bin, &["-c", conf, "-m", &m]),
            monitor,
        }
    };
    let a = node(&reference_binary(), &ca);
    let b = node(&our_binary(), &cb);
    let c = node(&our_binary(), &cc);
    for n in [&a, &b, &c] {
        wait_routes(n.monitor, 8);
    }
    let routez = http_get(b.monitor, "/routez");
    check_cluster(&[a, b, c]);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(routez.contains("\"remote_name\""), "{routez}");
}
