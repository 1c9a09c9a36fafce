//! Config reload (`SIGHUP`) of the `cluster {}` options, ours against the reference: the
//! same sequence of file changes (a route added, a route removed, a new cluster name, a new
//! cluster port, a new pool size) is applied to our server and to the reference's, next to
//! two reference peers, and both log the same reload lines (`Reloaded: cluster routes`,
//! `Removed route <url>` per connection closed, `Cluster name updated to <name>`,
//! `Reloaded: cluster`, the refusal of a new port); an added route is dialled and a new
//! name is in force.

#![cfg(unix)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use conformance::ours::our_binary;
use conformance::reference::reference_binary;
use conformance::server::{free_port, ServerProcess};

const WAIT: Duration = Duration::from_secs(10);

fn http_get(port: u16, path: &str) -> serde_json::Value {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("monitor");
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    let body = out.split("\r\n\r\n").nth(1).unwrap_or_default();
    serde_json::from_str(body).unwrap_or_default()
}

/// Names of the servers `monitor`'s server has route connections to.
fn peers(monitor: u16) -> Vec<String> {
    let mut names: Vec<String> = http_get(monitor, "/routez")["routes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["remote_name"].as_str().map(str::to_string))
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Waits until `monitor`'s server routes to exactly `expected` (bounded).
fn wait_peers(monitor: u16, expected: &[&str], what: &str) {
    let end = Instant::now() + WAIT;
    loop {
        let now = peers(monitor);
        if now == expected {
            return;
        }
        assert!(
            Instant::now() < end,
            "{what}: routes to {now:?}, expected {expected:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The server under test's config file: cluster `name` listening on `port`, routes to
/// `routes` (cluster ports), and `extra` lines in the cluster block.
fn write_conf(path: &Path, name: &str, port: u16, routes: &[u16], extra: &str) {
    let routes: Vec<String> = routes
        .iter()
        .map(|p| format!("\"nats://127.0.0.1:{p}\""))
        .collect();
    let text = format!(
        "server_name: A\ncluster {{\n  name: {name}\n  listen: \"127.0.0.1:{port}\"\n  routes: [{}]\n  {extra}\n}}\n",
        routes.join(", ")
    );
    std::fs::write(path, text).unwrap();
}

/// Sends SIGHUP to `server` and returns the lines it logged for that reload (up to its
/// `Reloaded server configuration` or `Failed to reload` line), without timestamps.
fn reload(server: &ServerProcess) -> Vec<String> {
    let before = server.log_lines().len();
    let status = std::process::Command::new("kill")
        .args(["-HUP", &server.pid().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let end = Instant::now() + WAIT;
    loop {
        let lines = server.log_lines();
        let new = &lines[before.min(lines.len())..];
        if let Some(last) = new.iter().position(|l| {
            l.contains("Reloaded server configuration") || l.contains("Failed to reload")
        }) {
            return new[..=last]
                .iter()
                .map(|l| without_time(l).to_string())
                .collect();
        }
        assert!(Instant::now() < end, "no reload outcome logged: {new:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A log line from its level on (`[INF] text`): no pid, date or time.
fn without_time(line: &str) -> &str {
    match line.find(" [") {
        Some(i) => &line[i + 1..],
        None => line,
    }
}

/// The reload lines we compare: the changes, removals, name updates and refusals (not the
/// connection traffic nor the configuration digest).
fn kept(lines: Vec<String>, ports: &[(u16, &str)]) -> Vec<String> {
    lines
        .into_iter()
        .filter(|l| {
            l.contains("Reloaded")
                || l.contains("Removed route")
                || l.contains("Cluster name updated")
                || l.contains("Failed to reload")
        })
        .map(|l| {
            let mut l = match l.find(" (sha256:") {
                Some(i) => l[..i].to_string(),
                None => l,
            };
            for (port, tag) in ports {
                l = l.replace(&port.to_string(), tag);
            }
            l
        })
        .collect()
}

/// Runs the reload sequence with `bin` as the server under test, next to two reference
/// peers `B` and `C`; returns the compared lines of every step.
fn scenario(bin: &Path, dir: &Path) -> Vec<Vec<String>> {
    let (pa, pb, pc, other) = (free_port(), free_port(), free_port(), free_port());
    let monitor = free_port();
    let peer = |name: &str, port: u16| {
        let cluster = format!("nats://127.0.0.1:{port}");
        ServerProcess::start(
            &reference_binary(),
            &["-n", name, "--cluster", &cluster, "--cluster_name", "t"],
        )
    };
    let (_b, _c) = (peer("B", pb), peer("C", pc));
    let conf = dir.join("a.conf");
    write_conf(&conf, "t", pa, &[pb], "");
    let m = monitor.to_string();
    let c = conf.display().to_string();
    let a = ServerProcess::start(bin, &["-c", &c, "-m", &m]);
    wait_peers(monitor, &["B"], "start");
    let ports = [(pa, "PA"), (pb, "PB"), (pc, "PC"), (other, "PX")];
    let mut steps = Vec::new();
    // A route added: dialled (and B learns C through us).
    write_conf(&conf, "t", pa, &[pb, pc], "");
    steps.push(kept(reload(&a), &ports));
    wait_peers(monitor, &["B", "C"], "route added");
    // A route removed: its connections close and it is not dialled again (B may come back
    // as a gossiped peer of C, with the reference as with us).
    write_conf(&conf, "t", pa, &[pc], "");
    steps.push(kept(reload(&a), &ports));
    // A new name.
    write_conf(&conf, "t2", pa, &[pc], "");
    steps.push(kept(reload(&a), &ports));
    let name = http_get(monitor, "/varz")["cluster"]["name"].clone();
    assert_eq!(name, "t2", "{}", bin.display());
    // The cluster port cannot change.
    write_conf(&conf, "t", other, &[pc], "");
    steps.push(kept(reload(&a), &ports));
    // Nor the host.
    write_conf(&conf, "t", pa, &[pc], "");
    let text = std::fs::read_to_string(&conf)
        .unwrap()
        .replace("127.0.0.1:", "localhost:");
    std::fs::write(&conf, text).unwrap();
    steps.push(kept(reload(&a), &ports));
    drop(a);
    steps
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cluster-reload-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn cluster_reload_logs_and_applies_as_the_reference() {
    let (dir_ours, dir_ref) = (temp_dir("ours"), temp_dir("ref"));
    let reference = scenario(&reference_binary(), &dir_ref);
    let ours = scenario(&our_binary(), &dir_ours);
    assert_eq!(ours, reference);
    // The sequence is what the steps say (guards against both logging nothing).
    assert_eq!(
        reference[0],
        [
            "[INF] Reloaded: authorization users",
            "[INF] Reloaded: accounts",
            "[INF] Reloaded: cluster routes",
            "[INF] Reloaded server configuration"
        ]
    );
    assert!(reference[1].contains(&"[INF] Removed route nats://127.0.0.1:PB".to_string()));
    assert!(reference[2].contains(&"[INF] Cluster name updated to t2".to_string()));
    assert_eq!(
        reference[3],
        ["[ERR] Failed to reload server configuration: config reload not supported for cluster port: old=PA, new=PX"]
    );
    let _ = std::fs::remove_dir_all(&dir_ours);
    let _ = std::fs::remove_dir_all(&dir_ref);
}
