//! Helpers and scenarios shared by the cluster test files: `async-nats`
//! clients, waiting for interest to cross the cluster, and the scenarios
//! (one submodule per theme, re-exported here).
#![allow(dead_code)] // each test file uses a different subset

mod faults;
mod membership;
mod scenarios;
mod two_nodes;
mod wire;

#[allow(unused_imports)] // each test file uses a different subset
pub use faults::*;
#[allow(unused_imports)] // each test file uses a different subset
pub use membership::*;
#[allow(unused_imports)] // each test file uses a different subset
pub use scenarios::*;
#[allow(unused_imports)] // each test file uses a different subset
pub use two_nodes::*;
#[allow(unused_imports)] // each test file uses a different subset
pub use wire::*;

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use async_nats::{Client, ConnectOptions, Message, Subscriber};
use bytes::Bytes;
use conformance::cluster::{
    interest_lines, Cluster, ClusterVia, Kind, NodeSpec, RouteAuth, TcpProxy, MESH_TIMEOUT,
    ROUTES_PER_PEER,
};
use futures_util::StreamExt;
use tokio::time::timeout;

/// Bound for a single client operation or delivery.
pub const WAIT: Duration = Duration::from_secs(10);

/// How long to listen when checking that nothing more arrives.
pub const SILENCE: Duration = Duration::from_millis(300);

/// Bound for interest to cross the cluster.
pub const INTEREST_WAIT: Duration = Duration::from_secs(15);

/// Pause between interest probes.
const PROBE_EVERY: Duration = Duration::from_millis(50);

/// Payload of the probe messages (never counted).
pub const PROBE: &[u8] = b"probe";

/// Two accounts with one user each, isolated from each other.
pub const ACCOUNTS: &str = r#"
accounts {
  ACC_A: { users: [ { user: alice, password: pa } ] }
  ACC_B: { users: [ { user: bob, password: pb } ] }
}
"#;

/// A user of [`ACCOUNTS`].
#[derive(Debug, Clone, Copy)]
pub struct User {
    /// User name.
    pub name: &'static str,
    /// Password.
    pub password: &'static str,
}

/// `alice`, in account `ACC_A`.
pub const ALICE: User = User {
    name: "alice",
    password: "pa",
};

/// `bob`, in account `ACC_B`.
pub const BOB: User = User {
    name: "bob",
    password: "pb",
};

/// A multi-threaded runtime for one test (harness calls block outside it).
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Connection options: bounded waits, fast reconnects, credentials.
pub fn options(user: User) -> ConnectOptions {
    ConnectOptions::new()
        .user_and_password(user.name.into(), user.password.into())
        .connection_timeout(WAIT)
        .request_timeout(Some(Duration::from_secs(2)))
        .reconnect_delay_callback(|_| Duration::from_millis(100))
}

/// Connects `user` to `url` (bounded).
pub async fn connect(url: &str, user: User) -> Client {
    timeout(WAIT, options(user).connect(url))
        .await
        .unwrap_or_else(|_| panic!("connect to {url} timed out"))
        .unwrap_or_else(|e| panic!("connect to {url}: {e}"))
}

/// Subscribes and flushes.
pub async fn subscribe(client: &Client, subject: &str) -> Subscriber {
    let sub = client
        .subscribe(subject.to_string())
        .await
        .expect("subscribe");
    flush(client).await;
    sub
}

/// Joins a queue group and flushes.
pub async fn queue_subscribe(client: &Client, subject: &str, group: &str) -> Subscriber {
    let sub = client
        .queue_subscribe(subject.to_string(), group.to_string())
        .await
        .expect("queue subscribe");
    flush(client).await;
    sub
}

/// Flushes (bounded). async-nats only writes its buffer out: this does not
/// wait for the server to have processed what was sent (a probe does).
pub async fn flush(client: &Client) {
    timeout(WAIT, client.flush())
        .await
        .expect("flush timed out")
        .expect("flush failed");
}

/// Publishes `payload` on `subject`.
pub async fn publish(client: &Client, subject: &str, payload: &[u8]) {
    client
        .publish(subject.to_string(), Bytes::copy_from_slice(payload))
        .await
        .expect("publish");
}

/// Publishes probes on `subject` from `publisher` until one reaches one of
/// `subs` (bounded by [`INTEREST_WAIT`]); returns the index of that
/// subscriber. Probes that arrive later are ignored by [`collect`].
pub async fn wait_interest(
    publisher: &Client,
    subject: &str,
    subs: &mut [&mut Subscriber],
) -> usize {
    let deadline = Instant::now() + INTEREST_WAIT;
    // Each turn publishes one probe and listens for PROBE_EVERY.
    while Instant::now() < deadline {
        publish(publisher, subject, PROBE).await;
        flush(publisher).await;
        let turn_end = Instant::now() + PROBE_EVERY;
        for (index, sub) in subs.iter_mut().enumerate() {
            let left = turn_end.saturating_duration_since(Instant::now());
            let left = left.max(Duration::from_millis(5));
            while let Ok(Some(message)) = timeout(left.min(PROBE_EVERY), sub.next()).await {
                if message.payload.as_ref() == PROBE {
                    return index;
                }
            }
        }
    }
    panic!("interest in {subject} did not cross the cluster within {INTEREST_WAIT:?}");
}

/// Receives until `count` non-probe messages arrived (bounded by [`WAIT`]
/// per message); returns them as (subject, payload) pairs.
pub async fn collect(sub: &mut Subscriber, count: usize) -> Vec<(String, String)> {
    let mut got = Vec::with_capacity(count);
    while got.len() < count {
        match timeout(WAIT, sub.next()).await {
            Ok(Some(message)) => {
                if message.payload.as_ref() != PROBE {
                    got.push(text(&message));
                }
            }
            Ok(None) => panic!("subscription ended after {} of {count}: {got:?}", got.len()),
            Err(_) => panic!(
                "only {} of {count} messages within {WAIT:?} after the last one: {got:?}",
                got.len()
            ),
        }
    }
    got
}

/// Waits [`SILENCE`] once, then asserts that none of `subs` received a
/// non-probe message meanwhile (duplicates, leaks, stray deliveries).
pub async fn assert_no_extra(subs: &mut [&mut Subscriber], context: &str) {
    tokio::time::sleep(SILENCE).await;
    for (index, sub) in subs.iter_mut().enumerate() {
        let mut got = Vec::new();
        while let Ok(Some(message)) = timeout(Duration::from_millis(5), sub.next()).await {
            if message.payload.as_ref() != PROBE {
                got.push(text(&message));
            }
        }
        assert!(
            got.is_empty(),
            "subscriber {index} got more: {got:?} ({context})"
        );
    }
}

/// (subject, payload) of a message.
pub fn text(message: &Message) -> (String, String) {
    (
        message.subject.to_string(),
        String::from_utf8_lossy(&message.payload).into_owned(),
    )
}

/// Payloads `<prefix>-0` .. `<prefix>-<n-1>`.
pub fn numbered(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}-{i}")).collect()
}

/// Receives from several subscribers until `total` non-probe messages
/// arrived over all of them (bounded by [`WAIT`] without progress).
pub async fn collect_spread(subs: &mut [Subscriber], total: usize) -> Vec<Vec<(String, String)>> {
    let mut got: Vec<Vec<(String, String)>> = vec![Vec::new(); subs.len()];
    let mut last_progress = Instant::now();
    while got.iter().map(Vec::len).sum::<usize>() < total {
        let mut progressed = false;
        for (index, sub) in subs.iter_mut().enumerate() {
            while let Ok(Some(message)) = timeout(Duration::from_millis(20), sub.next()).await {
                if message.payload.as_ref() != PROBE {
                    got[index].push(text(&message));
                    progressed = true;
                }
            }
        }
        if progressed {
            last_progress = Instant::now();
        }
        let sizes: Vec<usize> = got.iter().map(Vec::len).collect();
        assert!(
            last_progress.elapsed() < WAIT,
            "only {sizes:?} of {total} messages arrived"
        );
    }
    got
}

/// Prints every node's log when the test fails (a panic unwinds through it).
pub struct LogsOnPanic<'a>(pub &'a Cluster);

impl Drop for LogsOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "--- logs of cluster {} ---\n{}",
                self.0.describe(),
                self.0.logs()
            );
        }
    }
}

/// The container's default configuration with its fixed ports replaced by
/// the harness placeholders (see [`ClusterVia::Verbatim`]).
pub fn container_config() -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../containers/nats-server.conf"
    );
    let text = std::fs::read_to_string(path).expect("read containers/nats-server.conf");
    let rewritten = text
        .replace("monitor_port: 8222", "monitor_port: {monitor_port}")
        .replace("port: 4222", "port: {client_port}")
        .replace("port: 6222", "port: {cluster_port}");
    for placeholder in ["{client_port}", "{cluster_port}", "{monitor_port}"] {
        assert!(
            rewritten.contains(placeholder),
            "no {placeholder} in:\n{rewritten}"
        );
    }
    rewritten
}

/// Publishes `m-<i>` for `range` and checks each subscriber receives
/// exactly those, in order.
pub async fn send_and_expect(
    publisher: &Client,
    subject: &str,
    range: std::ops::Range<usize>,
    subs: &mut [&mut Subscriber],
) {
    let expected: Vec<String> = range.map(|i| format!("m-{i}")).collect();
    for payload in &expected {
        publish(publisher, subject, payload.as_bytes()).await;
    }
    flush(publisher).await;
    for (index, sub) in subs.iter_mut().enumerate() {
        let got: Vec<String> = collect(sub, expected.len())
            .await
            .into_iter()
            .map(|(_, p)| p)
            .collect();
        assert_eq!(got, expected, "subscriber {index} on {subject}");
    }
}

/// Connects without credentials (bounded).
pub async fn connect_anonymous(url: &str) -> Client {
    let options = ConnectOptions::new()
        .connection_timeout(WAIT)
        .reconnect_delay_callback(|_| Duration::from_millis(100));
    timeout(WAIT, options.connect(url))
        .await
        .unwrap_or_else(|_| panic!("connect to {url} timed out"))
        .unwrap_or_else(|e| panic!("connect to {url}: {e}"))
}
