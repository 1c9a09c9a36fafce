//! The system account across routes, with real processes: `$SYS.REQ.SERVER.PING`-style
//! requests get one answer per server of the cluster whichever server the requester is on,
//! requests naming one server by id reach it, and client CONNECT/DISCONNECT advisories reach
//! system subscribers on every server. Mixed with the reference (ours between two of its
//! servers) and with ours only.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use conformance::ours::our_binary;
use conformance::reference::reference_binary;
use conformance::server::{free_port, ServerProcess};

const WAIT: Duration = Duration::from_secs(10);

/// A system-account user and an application account, the same on every server.
const ACCOUNTS: &str = "accounts {\n  $SYS { users [{user: sys, password: sys}] }\n  APP { users [{user: app, password: app}] }\n}\n";

/// A client connection speaking the text protocol.
struct Conn {
    s: TcpStream,
    seen: Vec<u8>,
}

impl Conn {
    fn open(port: u16, user: &str) -> Conn {
        let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
        let mut c = Conn {
            s,
            seen: Vec::new(),
        };
        c.send(&format!(
            "CONNECT {{\"verbose\":false,\"pedantic\":false,\"protocol\":1,\"user\":\"{user}\",\"pass\":\"{user}\"}}\r\n"
        ));
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
                Ok(n) => self.seen.extend_from_slice(&buf[..n]),
                Err(_) => {}
            }
        }
    }

    fn pongs(&self) -> usize {
        String::from_utf8_lossy(&self.seen)
            .matches("PONG\r\n")
            .count()
    }

    /// PING and read until the PONG (everything before it stays in `seen`).
    fn sync(&mut self) {
        let before = self.pongs();
        self.send("PING\r\n");
        let end = Instant::now() + WAIT;
        while self.pongs() == before && Instant::now() < end {
            self.read_for(Duration::from_millis(20));
        }
    }

    /// The messages received so far, as (subject, payload), and forgets them.
    fn take_msgs(&mut self) -> Vec<(String, Vec<u8>)> {
        let data = std::mem::take(&mut self.seen);
        let mut out = Vec::new();
        let mut rest = &data[..];
        while let Some(end) = rest.windows(2).position(|w| w == b"\r\n") {
            let line = String::from_utf8_lossy(&rest[..end]).into_owned();
            rest = &rest[end + 2..];
            let words: Vec<&str> = line.split_whitespace().collect();
            if words.first() != Some(&"MSG") {
                continue;
            }
            let size: usize = words.last().and_then(|w| w.parse().ok()).unwrap_or(0);
            if rest.len() < size + 2 {
                break;
            }
            out.push((words[1].to_string(), rest[..size].to_vec()));
            rest = &rest[size + 2..];
        }
        out
    }
}

/// The name of the server in a system message's `server` block (an `IDZ` answer is the
/// bare `{name, host, id}`).
fn server_name(payload: &[u8]) -> String {
    let v: serde_json::Value = serde_json::from_slice(payload).unwrap_or_default();
    v["server"]["name"]
        .as_str()
        .or(v["name"].as_str())
        .unwrap_or_default()
        .to_string()
}

fn http_get(port: u16, path: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("monitor");
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.split("\r\n\r\n").nth(1).unwrap_or_default().to_string()
}

fn varz(monitor: u16) -> serde_json::Value {
    serde_json::from_str(&http_get(monitor, "/varz")).unwrap_or_default()
}

struct Node {
    server: ServerProcess,
    monitor: u16,
    name: String,
}

/// Starts `name` from a config file with the accounts above, in cluster `sys`, routing to
/// `seed`'s cluster port.
fn start(dir: &Path, bin: &Path, name: &str, cluster_port: u16, seed: Option<u16>) -> Node {
    let routes = seed.map_or(String::new(), |p| format!("\"nats-route://127.0.0.1:{p}\""));
    let text = format!(
        "server_name: {name}\n{ACCOUNTS}cluster {{\n  name: sys\n  listen: \"127.0.0.1:{cluster_port}\"\n  routes: [{routes}]\n}}\n"
    );
    let conf = dir.join(format!("{name}.conf"));
    std::fs::write(&conf, text).unwrap();
    let monitor = free_port();
    let m = monitor.to_string();
    let c = conf.display().to_string();
    Node {
        server: ServerProcess::start(bin, &["-c", &c, "-m", &m]),
        monitor,
        name: name.to_string(),
    }
}

/// Waits until every node sees `peers` other servers (`/varz` `remotes`).
fn wait_mesh(nodes: &[Node], peers: usize) {
    let end = Instant::now() + WAIT;
    for n in nodes {
        loop {
            let remotes = varz(n.monitor)["remotes"].as_u64().unwrap_or(0) as usize;
            if remotes >= peers {
                break;
            }
            assert!(Instant::now() < end, "{} sees {remotes} peers", n.name);
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cluster-system-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Sends the request `subject` from a system client of `node` until every server of
/// `expected` answered (interest crosses routes asynchronously), then once more on a fresh
/// inbox and returns who answered that one, counted per server name.
fn ask(node: &Node, subject: &str, expected: &[&str]) -> BTreeMap<String, usize> {
    let mut c = Conn::open(node.server.port(), "sys");
    let end = Instant::now() + WAIT;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let inbox = format!("_INBOX.probe.{attempt}");
        c.send(&format!(
            "SUB {inbox} {attempt}\r\nPUB {subject} {inbox} 0\r\n\r\n"
        ));
        c.sync();
        c.read_for(Duration::from_millis(300));
        let names: Vec<String> = c
            .take_msgs()
            .iter()
            .filter(|(s, _)| *s == inbox)
            .map(|(_, p)| server_name(p))
            .collect();
        if expected.iter().all(|e| names.iter().any(|n| n == e)) {
            break;
        }
        assert!(
            Instant::now() < end,
            "{subject} from {}: answers from {names:?}, expected {expected:?}",
            node.name
        );
    }
    c.send(&format!(
        "SUB _INBOX.final 999\r\nPUB {subject} _INBOX.final 0\r\n\r\n"
    ));
    c.sync();
    c.read_for(Duration::from_millis(500));
    let mut counts = BTreeMap::new();
    for (s, p) in c.take_msgs() {
        if s == "_INBOX.final" {
            *counts.entry(server_name(&p)).or_insert(0) += 1;
        }
    }
    counts
}

fn once_each(names: &[&str]) -> BTreeMap<String, usize> {
    names.iter().map(|n| (n.to_string(), 1)).collect()
}

/// Every request form, from every node, is answered once by each server it addresses.
fn check_requests(nodes: &[Node]) {
    let names: Vec<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
    for from in nodes {
        for subject in [
            "$SYS.REQ.SERVER.PING",
            "$SYS.REQ.SERVER.PING.VARZ",
            "$SYS.REQ.SERVER.PING.CONNZ",
            "$SYS.REQ.SERVER.PING.IDZ",
        ] {
            let got = ask(from, subject, &names);
            assert_eq!(got, once_each(&names), "{subject} from {}", from.name);
        }
        // Addressed by id: only that server answers.
        for to in nodes {
            let id = varz(to.monitor)["server_id"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let subject = format!("$SYS.REQ.SERVER.{id}.VARZ");
            let got = ask(from, &subject, &[to.name.as_str()]);
            assert_eq!(got, once_each(&[&to.name]), "{subject} from {}", from.name);
        }
    }
}

/// A client of `APP` connecting to and leaving each node is announced to system
/// subscribers on every node, once each.
fn check_advisories(nodes: &[Node]) {
    let mut watchers: Vec<Conn> = nodes
        .iter()
        .map(|n| {
            let mut c = Conn::open(n.server.port(), "sys");
            c.send("SUB $SYS.ACCOUNT.APP.CONNECT 1\r\nSUB $SYS.ACCOUNT.APP.DISCONNECT 2\r\n");
            c.sync();
            c
        })
        .collect();
    // Each watcher's interest must have reached every node: connect clients until every
    // watcher heard about one from every node.
    let end = Instant::now() + WAIT;
    loop {
        for n in nodes {
            drop(Conn::open(n.server.port(), "app"));
        }
        let mut complete = true;
        for w in watchers.iter_mut() {
            w.read_for(Duration::from_millis(300));
            let from: Vec<String> = w.take_msgs().iter().map(|(_, p)| server_name(p)).collect();
            complete &= nodes.iter().all(|n| from.contains(&n.name));
        }
        if complete {
            break;
        }
        assert!(Instant::now() < end, "advisories did not reach every node");
    }
    for w in watchers.iter_mut() {
        w.read_for(Duration::from_millis(500));
        w.take_msgs();
    }
    // Now exactly one CONNECT and one DISCONNECT per client, from its server.
    for (i, n) in nodes.iter().enumerate() {
        let mut c = Conn::open(n.server.port(), "app");
        c.send("PING\r\n");
        c.sync();
        drop(c);
        for w in watchers.iter_mut() {
            let end = Instant::now() + WAIT;
            let mut got = Vec::new();
            while got.len() < 2 && Instant::now() < end {
                w.read_for(Duration::from_millis(100));
                got.extend(w.take_msgs());
            }
            w.read_for(Duration::from_millis(200));
            got.extend(w.take_msgs());
            let seen: Vec<(String, String)> = got
                .iter()
                .map(|(s, p)| (s.clone(), server_name(p)))
                .collect();
            assert_eq!(
                seen,
                vec![
                    ("$SYS.ACCOUNT.APP.CONNECT".to_string(), n.name.clone()),
                    ("$SYS.ACCOUNT.APP.DISCONNECT".to_string(), n.name.clone()),
                ],
                "client of node {i}"
            );
        }
    }
}

#[test]
fn system_requests_and_advisories_in_a_mixed_cluster() {
    let dir = temp_dir("mixed");
    let (pa, pb, pc) = (free_port(), free_port(), free_port());
    let a = start(&dir, &reference_binary(), "REF_A", pa, None);
    let b = start(&dir, &our_binary(), "OURS_B", pb, Some(pa));
    let c = start(&dir, &reference_binary(), "REF_C", pc, Some(pa));
    let nodes = [a, b, c];
    wait_mesh(&nodes, 2);
    check_requests(&nodes);
    check_advisories(&nodes);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn system_requests_and_advisories_between_ours() {
    let dir = temp_dir("ours");
    let (pa, pb, pc) = (free_port(), free_port(), free_port());
    let a = start(&dir, &our_binary(), "OURS_A", pa, None);
    let b = start(&dir, &our_binary(), "OURS_B", pb, Some(pa));
    let c = start(&dir, &our_binary(), "OURS_C", pc, Some(pa));
    let nodes = [a, b, c];
    wait_mesh(&nodes, 2);
    check_requests(&nodes);
    check_advisories(&nodes);
    let _ = std::fs::remove_dir_all(&dir);
}
