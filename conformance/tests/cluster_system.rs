//! The system account and monitoring across routes, with real processes:
//! `$SYS.REQ.SERVER.PING`-style requests get one answer per server of the cluster whichever
//! server the requester is on, requests naming one server by id reach it, and client
//! CONNECT/DISCONNECT advisories reach system subscribers on every server (mixed with the
//! reference, ours between two of its servers, and ours only); `/routez?subs=detail` lists
//! a peer's subscriptions as the reference does, and `/varz` counts routed messages as the
//! reference counts them.

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
    /// Connects, as `user` (password the same) unless empty.
    fn open(port: u16, user: &str) -> Conn {
        let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
        let mut c = Conn {
            s,
            seen: Vec::new(),
        };
        let credentials = if user.is_empty() {
            String::new()
        } else {
            format!(",\"user\":\"{user}\",\"pass\":\"{user}\"")
        };
        c.send(&format!(
            "CONNECT {{\"verbose\":false,\"pedantic\":false,\"protocol\":1{credentials}}}\r\n"
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

/// Starts `name` without accounts, cluster `mon`, routing to `seed`'s cluster port.
fn start_plain(bin: &Path, name: &str, cluster_port: u16, seed: Option<u16>) -> Node {
    let monitor = free_port();
    let (m, cluster) = (
        monitor.to_string(),
        format!("nats://127.0.0.1:{cluster_port}"),
    );
    let mut args = vec![
        "-n",
        name,
        "--cluster",
        &cluster,
        "--cluster_name",
        "mon",
        "-m",
        &m,
    ];
    let routes;
    if let Some(p) = seed {
        routes = format!("nats-route://127.0.0.1:{p}");
        args.extend(["--routes", routes.as_str()]);
    }
    Node {
        server: ServerProcess::start(bin, &args),
        monitor,
        name: name.to_string(),
    }
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

/// Publishes `subject` from `publisher` until `subscriber` got one (interest crosses routes
/// asynchronously), then forgets what the subscriber received.
fn wait_for_path(publisher: &mut Conn, subscriber: &mut Conn, subject: &str) {
    let end = Instant::now() + WAIT;
    loop {
        publisher.send(&format!("PUB {subject} 5\r\nprobe\r\n"));
        publisher.sync();
        subscriber.read_for(Duration::from_millis(100));
        if subscriber.take_msgs().iter().any(|(s, _)| s == subject) {
            subscriber.read_for(Duration::from_millis(200));
            subscriber.take_msgs();
            return;
        }
        assert!(Instant::now() < end, "no message on {subject} crossed");
    }
}

/// The `$G` entries of every route's `subscriptions_list_detail`, as
/// (subject, qgroup, sid, msgs), sorted, and whether each entry's `cid` is its route's id.
fn route_details(monitor: u16) -> (Vec<(String, String, String, u64)>, bool) {
    let routez: serde_json::Value =
        serde_json::from_str(&http_get(monitor, "/routez?subs=detail")).expect("routez json");
    let mut out = Vec::new();
    let mut cids_match = true;
    for r in routez["routes"].as_array().expect("routes") {
        if r.get("account").is_some() {
            continue;
        }
        assert!(r.get("subscriptions_list").is_none(), "{r}");
        for d in r["subscriptions_list_detail"]
            .as_array()
            .into_iter()
            .flatten()
        {
            cids_match &= d["cid"] == r["rid"];
            out.push((
                d["subject"].as_str().unwrap_or_default().to_string(),
                d["qgroup"].as_str().unwrap_or_default().to_string(),
                d["sid"].as_str().unwrap_or_default().to_string(),
                d["msgs"].as_u64().unwrap_or(u64::MAX),
            ));
        }
    }
    out.sort();
    (out, cids_match)
}

/// Both servers of a mixed pair list the other's subscriptions in the same detail.
#[test]
fn routez_subs_detail_matches_the_reference() {
    let (pa, pb) = (free_port(), free_port());
    let ours = start_plain(&our_binary(), "OURS", pa, None);
    let reference = start_plain(&reference_binary(), "REF", pb, Some(pa));
    let nodes = [ours, reference];
    wait_mesh(&nodes, 1);
    // The same subscriptions on both sides, each fed twice from the other side.
    let mut subs: Vec<Conn> = nodes
        .iter()
        .map(|n| Conn::open(n.server.port(), ""))
        .collect();
    let mut pubs: Vec<Conn> = nodes
        .iter()
        .map(|n| Conn::open(n.server.port(), ""))
        .collect();
    for s in subs.iter_mut() {
        s.send("SUB det.plain 1\r\nSUB det.queue grp 2\r\nSUB det.* 3\r\n");
        s.sync();
    }
    for (p, s) in [(0, 1), (1, 0)] {
        wait_for_path(&mut pubs[p], &mut subs[s], "det.plain");
        wait_for_path(&mut pubs[p], &mut subs[s], "det.queue");
    }
    let before: Vec<_> = nodes.iter().map(|n| route_details(n.monitor).0).collect();
    for p in pubs.iter_mut() {
        p.send("PUB det.plain 1\r\nx\r\nPUB det.plain 1\r\nx\r\nPUB det.queue 1\r\ny\r\n");
        p.sync();
    }
    for s in subs.iter_mut() {
        s.read_for(Duration::from_millis(300));
    }
    let (ours_after, ours_cids) = route_details(nodes[0].monitor);
    let (ref_after, ref_cids) = route_details(nodes[1].monitor);
    assert!(ours_cids && ref_cids);
    // Message counts grew by what was sent; compare the growth and the rest exactly.
    let growth = |before: &[(String, String, String, u64)],
                  after: &[(String, String, String, u64)]| {
        after
            .iter()
            .map(|(s, q, sid, m)| {
                let was = before
                    .iter()
                    .find(|b| (&b.0, &b.1, &b.2) == (s, q, sid))
                    .map_or(0, |b| b.3);
                (s.clone(), q.clone(), sid.clone(), m - was)
            })
            .collect::<Vec<_>>()
    };
    let ours_growth = growth(&before[0], &ours_after);
    let ref_growth = growth(&before[1], &ref_after);
    assert_eq!(ours_growth, ref_growth);
    // What the reference shows: a message matching two of a route's subscriptions is
    // counted once, on the first; the queue group was served by its local member.
    let expect = [
        ("det.*", "", "R $G det.*", 1),
        ("det.plain", "", "R $G det.plain", 2),
        ("det.queue", "grp", "R $G det.queue grp", 0),
    ]
    .map(|(s, q, sid, m)| (s.to_string(), q.to_string(), sid.to_string(), m));
    assert_eq!(ours_growth, expect);
}

/// `/varz` `in_msgs`, `in_bytes`, `out_msgs`, `out_bytes`.
fn counters(monitor: u16) -> [u64; 4] {
    let v = varz(monitor);
    ["in_msgs", "in_bytes", "out_msgs", "out_bytes"].map(|k| v[k].as_u64().unwrap_or(u64::MAX))
}

/// Waits until `monitor`'s counters grew by `expect` from `from` (they are published once
/// per read batch, maybe just after the message went out), then checks they grew by that
/// exactly.
fn assert_growth(monitor: u16, from: [u64; 4], expect: [u64; 4], what: &str) {
    let end = Instant::now() + WAIT;
    let grown = loop {
        let now = counters(monitor);
        let grown = [0, 1, 2, 3].map(|i| now[i].wrapping_sub(from[i]));
        if grown == expect || Instant::now() >= end {
            break grown;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(
        grown, expect,
        "{what}: [in_msgs, in_bytes, out_msgs, out_bytes]"
    );
}

/// Messages crossing routes are counted as the reference counts them (measured with two
/// reference servers): the publisher's server counts each message it sends to a route in
/// `out_msgs`, the receiving server counts each routed message in `in_msgs` and each local
/// delivery in `out_msgs`.
#[test]
fn varz_counts_routed_messages_as_the_reference() {
    let (pa, pb) = (free_port(), free_port());
    let ours = start_plain(&our_binary(), "OURS", pa, None);
    let reference = start_plain(&reference_binary(), "REF", pb, Some(pa));
    let nodes = [ours, reference];
    wait_mesh(&nodes, 1);
    let (mut sub_ours, mut sub_ref) = (
        Conn::open(nodes[0].server.port(), ""),
        Conn::open(nodes[1].server.port(), ""),
    );
    sub_ours.send("SUB cnt 1\r\n");
    sub_ours.sync();
    sub_ref.send("SUB cnt 1\r\nSUB cnt 2\r\n");
    sub_ref.sync();
    let (mut pub_ours, mut pub_ref) = (
        Conn::open(nodes[0].server.port(), ""),
        Conn::open(nodes[1].server.port(), ""),
    );
    wait_for_path(&mut pub_ours, &mut sub_ref, "cnt");
    wait_for_path(&mut pub_ref, &mut sub_ours, "cnt");
    sub_ours.read_for(Duration::from_millis(200));
    sub_ours.take_msgs();
    // Ours publishes twice to `cnt` (one local subscriber, one route) and once to a
    // subject nobody wants.
    let before = counters(nodes[0].monitor);
    pub_ours.send("PUB cnt 3\r\nabc\r\nPUB cnt 3\r\nabc\r\nPUB none 3\r\nabc\r\n");
    pub_ours.sync();
    assert_growth(
        nodes[0].monitor,
        before,
        [3, 9, 4, 12],
        "publishing to a route",
    );
    // The reference publishes twice to `cnt`: two routed messages in, one local subscriber.
    let before = counters(nodes[0].monitor);
    pub_ref.send("PUB cnt 3\r\nabc\r\nPUB cnt 3\r\nabc\r\n");
    pub_ref.sync();
    assert_growth(
        nodes[0].monitor,
        before,
        [2, 6, 2, 6],
        "receiving from a route",
    );
    sub_ours.read_for(Duration::from_millis(200));
    assert_eq!(sub_ours.take_msgs().len(), 4);
}
