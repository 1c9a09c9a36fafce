//! Client-side helpers and scenarios shared by the cluster test files:
//! topologies of three nodes, `async-nats` clients, waiting for interest to
//! cross the cluster, and the scenarios every topology must pass.
#![allow(dead_code)] // each test file uses a different subset

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

/// Flushes (bounded).
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

/// Three-node topologies of the issue.
#[derive(Debug, Clone, Copy)]
pub struct Topology {
    /// Kinds of nodes 0, 1, 2; nodes 1 and 2 solicit a route to node 0.
    pub kinds: [Kind; 3],
    /// Where the cluster settings are given.
    pub via: ClusterVia,
}

impl Topology {
    /// Starts the three nodes with [`ACCOUNTS`], route authorization as in
    /// the container configuration, and waits for the full mesh.
    pub fn start(self, cluster_name: &str) -> Cluster {
        let mut cluster = Cluster::new(cluster_name);
        let auth = Some(RouteAuth::container_default());
        let names = ["A", "B", "C"];
        let mut seed = String::new();
        for (index, kind) in self.kinds.into_iter().enumerate() {
            let mut spec = cluster
                .spec(kind, names[index])
                .via(self.via)
                .auth(auth.clone())
                .config(ACCOUNTS);
            if index > 0 {
                spec = spec.route(seed.clone());
            }
            let added = cluster.add(spec);
            if index == 0 {
                seed = cluster.node(added).route_url();
            }
        }
        if let Err(e) = cluster.wait_for_mesh(MESH_TIMEOUT) {
            panic!("{e}\n{}", cluster.logs());
        }
        cluster
    }
}

/// Which node publishes and which two nodes subscribe in one rotation.
#[derive(Debug, Clone, Copy)]
pub struct Roles {
    /// Publisher's node.
    pub publisher: usize,
    /// First subscriber node.
    pub first: usize,
    /// Second subscriber node.
    pub second: usize,
    /// Distinguishes subjects of different rotations.
    pub tag: usize,
}

/// The three rotations: every node publishes once to the two others.
pub fn rotations() -> [Roles; 3] {
    [0, 1, 2].map(|p| Roles {
        publisher: p,
        first: (p + 1) % 3,
        second: (p + 2) % 3,
        tag: p,
    })
}

/// Plain pub/sub: both remote subscribers receive every message once, in order.
pub async fn pubsub(cluster: &Cluster, roles: Roles) {
    let subject = format!("ps.{}", roles.tag);
    let publisher = connect(&cluster.node(roles.publisher).url(), ALICE).await;
    let c1 = connect(&cluster.node(roles.first).url(), ALICE).await;
    let c2 = connect(&cluster.node(roles.second).url(), ALICE).await;
    let mut s1 = subscribe(&c1, &subject).await;
    let mut s2 = subscribe(&c2, &subject).await;
    wait_interest(&publisher, &subject, &mut [&mut s1]).await;
    wait_interest(&publisher, &subject, &mut [&mut s2]).await;
    let expected = numbered("m", 100);
    for payload in &expected {
        publish(&publisher, &subject, payload.as_bytes()).await;
    }
    flush(&publisher).await;
    for (name, sub) in [("first", &mut s1), ("second", &mut s2)] {
        let got: Vec<String> = collect(sub, expected.len())
            .await
            .into_iter()
            .map(|(_, p)| p)
            .collect();
        assert_eq!(got, expected, "{name} subscriber, {roles:?}");
    }
    assert_no_extra(&mut [&mut s1, &mut s2], &format!("duplicates, {roles:?}")).await;
}

/// Wildcard subscriptions on remote nodes get exactly the matching subjects.
pub async fn wildcards(cluster: &Cluster, roles: Roles) {
    let t = roles.tag;
    let publisher = connect(&cluster.node(roles.publisher).url(), ALICE).await;
    let c1 = connect(&cluster.node(roles.first).url(), ALICE).await;
    let c2 = connect(&cluster.node(roles.second).url(), ALICE).await;
    let mut star = subscribe(&c1, &format!("wc{t}.*.x")).await;
    let mut full = subscribe(&c1, &format!("wc{t}.>")).await;
    let mut mid = subscribe(&c2, &format!("wc{t}.a.*")).await;
    wait_interest(&publisher, &format!("wc{t}.probe.x"), &mut [&mut star]).await;
    wait_interest(&publisher, &format!("wc{t}.probe.x"), &mut [&mut full]).await;
    wait_interest(&publisher, &format!("wc{t}.a.probe"), &mut [&mut mid]).await;
    let subjects = ["a.x", "b.y", "a.x.z", "c.x", "a.q", "other"];
    for (i, s) in subjects.iter().enumerate() {
        let subject = if *s == "other" {
            format!("nomatch{t}.a.x")
        } else {
            format!("wc{t}.{s}")
        };
        publish(&publisher, &subject, format!("w-{i}").as_bytes()).await;
    }
    flush(&publisher).await;
    let want =
        |list: &[&str]| -> Vec<String> { list.iter().map(|s| format!("wc{t}.{s}")).collect() };
    for (name, sub, expected) in [
        ("*.x", &mut star, want(&["a.x", "c.x"])),
        (">", &mut full, want(&["a.x", "b.y", "a.x.z", "c.x", "a.q"])),
        ("a.*", &mut mid, want(&["a.x", "a.q"])),
    ] {
        let got: Vec<String> = collect(sub, expected.len())
            .await
            .into_iter()
            .map(|(s, _)| s)
            .collect();
        assert_eq!(got, expected, "subscription {name}, {roles:?}");
    }
    let context = format!("*.x, >, a.*: {roles:?}");
    assert_no_extra(&mut [&mut star, &mut full, &mut mid], &context).await;
}

/// A queue group with members on the two remote nodes gets every message
/// exactly once cluster-wide, and both nodes serve some.
pub async fn queue_group(cluster: &Cluster, roles: Roles) {
    let subject = format!("q.{}", roles.tag);
    let publisher = connect(&cluster.node(roles.publisher).url(), ALICE).await;
    let c1 = connect(&cluster.node(roles.first).url(), ALICE).await;
    let c2 = connect(&cluster.node(roles.second).url(), ALICE).await;
    let mut members = vec![
        queue_subscribe(&c1, &subject, "workers").await,
        queue_subscribe(&c1, &subject, "workers").await,
        queue_subscribe(&c2, &subject, "workers").await,
        queue_subscribe(&c2, &subject, "workers").await,
    ];
    // Until a probe reached the first node's members, then the second's.
    for node_members in [0..2, 2..4] {
        let deadline = Instant::now() + INTEREST_WAIT;
        loop {
            let mut refs: Vec<&mut Subscriber> = members.iter_mut().collect();
            let hit = wait_interest(&publisher, &subject, &mut refs).await;
            if node_members.contains(&hit) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "queue members {node_members:?} never got a probe, {roles:?}"
            );
        }
    }
    let n = 200;
    for payload in numbered("m", n) {
        publish(&publisher, &subject, payload.as_bytes()).await;
    }
    flush(&publisher).await;
    let got = collect_spread(&mut members, n).await;
    let mut seen = HashSet::new();
    for (_, payload) in got.iter().flatten() {
        assert!(
            seen.insert(payload.clone()),
            "{payload} delivered twice, {roles:?}"
        );
    }
    assert_eq!(seen.len(), n, "{roles:?}");
    let per_node = [got[0].len() + got[1].len(), got[2].len() + got[3].len()];
    assert!(
        per_node[0] > 0 && per_node[1] > 0,
        "one node's members got nothing: {per_node:?}, {roles:?}"
    );
    let mut refs: Vec<&mut Subscriber> = members.iter_mut().collect();
    assert_no_extra(&mut refs, &format!("queue members, {roles:?}")).await;
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

/// Requests from the publisher's node are answered by a responder on
/// another node, every time.
pub async fn request_reply(cluster: &Cluster, roles: Roles) {
    let subject = format!("svc.echo.{}", roles.tag);
    let requester = connect(&cluster.node(roles.publisher).url(), ALICE).await;
    let responder = connect(&cluster.node(roles.second).url(), ALICE).await;
    let mut service = subscribe(&responder, &subject).await;
    let answering = responder.clone();
    let task = tokio::spawn(async move {
        while let Some(request) = service.next().await {
            if let Some(reply) = request.reply {
                let mut answer = b"echo:".to_vec();
                answer.extend_from_slice(&request.payload);
                let _ = answering.publish(reply, answer.into()).await;
            }
        }
    });
    // Until the service's interest is known at the requester's node.
    let deadline = Instant::now() + INTEREST_WAIT;
    while requester
        .request(subject.clone(), Bytes::from_static(PROBE))
        .await
        .is_err()
    {
        assert!(
            Instant::now() < deadline,
            "no answer to {subject} within {INTEREST_WAIT:?}"
        );
    }
    for i in 0..20 {
        let payload = format!("r-{i}");
        let answer = timeout(
            WAIT,
            requester.request(subject.clone(), payload.clone().into()),
        )
        .await
        .expect("request timed out")
        .unwrap_or_else(|e| panic!("request {i} failed: {e}, {roles:?}"));
        assert_eq!(
            answer.payload.as_ref(),
            format!("echo:{payload}").as_bytes()
        );
    }
    task.abort();
}

/// Two accounts on the same subject across the cluster never see each
/// other's messages.
pub async fn accounts_isolated(cluster: &Cluster, roles: Roles) {
    let subject = format!("iso.{}", roles.tag);
    let alice_pub = connect(&cluster.node(roles.publisher).url(), ALICE).await;
    let bob_pub = connect(&cluster.node(roles.publisher).url(), BOB).await;
    let alice_sub_client = connect(&cluster.node(roles.first).url(), ALICE).await;
    let bob_first = connect(&cluster.node(roles.first).url(), BOB).await;
    let bob_second = connect(&cluster.node(roles.second).url(), BOB).await;
    let mut alice_sub = subscribe(&alice_sub_client, &subject).await;
    let mut bob_sub1 = subscribe(&bob_first, &subject).await;
    let mut bob_sub2 = subscribe(&bob_second, &subject).await;
    wait_interest(&alice_pub, &subject, &mut [&mut alice_sub]).await;
    wait_interest(&bob_pub, &subject, &mut [&mut bob_sub1]).await;
    wait_interest(&bob_pub, &subject, &mut [&mut bob_sub2]).await;
    let (alice_msgs, bob_msgs) = (numbered("alice", 50), numbered("bob", 30));
    for payload in &alice_msgs {
        publish(&alice_pub, &subject, payload.as_bytes()).await;
    }
    for payload in &bob_msgs {
        publish(&bob_pub, &subject, payload.as_bytes()).await;
    }
    flush(&alice_pub).await;
    flush(&bob_pub).await;
    let payloads =
        |v: Vec<(String, String)>| -> Vec<String> { v.into_iter().map(|(_, p)| p).collect() };
    let got = payloads(collect(&mut alice_sub, alice_msgs.len()).await);
    assert_eq!(got, alice_msgs, "ACC_A subscriber, {roles:?}");
    for (name, sub) in [("first", &mut bob_sub1), ("second", &mut bob_sub2)] {
        let got = payloads(collect(sub, bob_msgs.len()).await);
        assert_eq!(got, bob_msgs, "ACC_B {name} subscriber, {roles:?}");
    }
    let context = format!("alice, bob, bob: leaked or duplicated, {roles:?}");
    assert_no_extra(
        &mut [&mut alice_sub, &mut bob_sub1, &mut bob_sub2],
        &context,
    )
    .await;
}

/// Runs every scenario in every rotation on a started three-node cluster.
pub fn all_scenarios(cluster: &Cluster) {
    let rt = runtime();
    rt.block_on(async {
        // The scenarios of one rotation use distinct subjects: they run together.
        for roles in rotations() {
            tokio::join!(
                pubsub(cluster, roles),
                wildcards(cluster, roles),
                queue_group(cluster, roles),
                request_reply(cluster, roles),
                accounts_isolated(cluster, roles),
            );
        }
    });
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

/// Waits (bounded) until `client` is connected to a server other than the
/// one on `old_port`; returns the new server's port.
pub async fn wait_reconnected_elsewhere(client: &Client, old_port: u16) -> u16 {
    let deadline = Instant::now() + INTEREST_WAIT;
    loop {
        let info = client.server_info();
        if client.connection_state() == async_nats::connection::State::Connected
            && info.port != old_port
        {
            return info.port;
        }
        assert!(
            Instant::now() < deadline,
            "client did not reconnect away from port {old_port}: state {:?}, info {info:?}",
            client.connection_state()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Kill -9 of the seed node: a client that was given only the seed's URL
/// fails over to a node it learnt from `connect_urls`, interest follows it,
/// the node comes back on the same ports and rejoins, and no message is
/// delivered twice.
pub fn failover(topology: Topology, cluster_name: &str) {
    let mut cluster = topology.start(cluster_name);
    let rt = runtime();
    let subject = "fo.s";
    let (x, p, mut sx) = rt.block_on(async {
        let x = connect(&cluster.node(0).url(), ALICE).await;
        let urls = x.server_info().connect_urls;
        for peer in [1, 2] {
            let addr = cluster.node(peer).addr();
            assert!(
                urls.contains(&addr),
                "INFO connect_urls {urls:?} lacks {addr} ({})",
                cluster.describe()
            );
        }
        let p = connect(&cluster.node(2).url(), ALICE).await;
        let mut sx = subscribe(&x, subject).await;
        wait_interest(&p, subject, &mut [&mut sx]).await;
        send_and_expect(&p, subject, 0..50, &mut [&mut sx]).await;
        (x, p, sx)
    });
    let seed_port = cluster.node(0).ports().client;
    cluster.node_mut(0).kill();
    if let Err(e) = cluster.wait_for_mesh(MESH_TIMEOUT) {
        panic!("survivors lost each other: {e}\n{}", cluster.logs());
    }
    rt.block_on(async {
        let port = wait_reconnected_elsewhere(&x, seed_port).await;
        assert!(
            [1, 2]
                .iter()
                .any(|&i| cluster.node(i).ports().client == port),
            "reconnected to unknown port {port}"
        );
        wait_interest(&p, subject, &mut [&mut sx]).await;
        send_and_expect(&p, subject, 50..100, &mut [&mut sx]).await;
    });
    cluster.node_mut(0).restart();
    if let Err(e) = cluster.wait_for_mesh(MESH_TIMEOUT) {
        panic!("the restarted node did not rejoin: {e}\n{}", cluster.logs());
    }
    rt.block_on(async {
        let y = connect(&cluster.node(0).url(), ALICE).await;
        let q = connect(&cluster.node(0).url(), ALICE).await;
        let mut sy = subscribe(&y, subject).await;
        wait_interest(&p, subject, &mut [&mut sy]).await;
        wait_interest(&q, subject, &mut [&mut sx]).await;
        send_and_expect(&p, subject, 100..150, &mut [&mut sx, &mut sy]).await;
        send_and_expect(&q, subject, 150..200, &mut [&mut sx, &mut sy]).await;
        assert_no_extra(&mut [&mut sx, &mut sy], "duplicates after the restart").await;
    });
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

/// A route through a [`TcpProxy`] is cut and heals: messages flow both ways
/// before the cut and again after the soliciting node reconnected.
pub fn route_cut(kinds: [Kind; 2], cluster_name: &str) {
    let mut cluster = Cluster::new(cluster_name);
    let auth = Some(RouteAuth::container_default());
    let a = cluster.add(
        cluster
            .spec(kinds[0], "A")
            .via(ClusterVia::Config)
            .auth(auth.clone())
            .config(ACCOUNTS),
    );
    let proxy = TcpProxy::start(cluster.node(a).ports().cluster);
    let via_proxy = cluster.node(a).route_url_on(proxy.port());
    let b = cluster.add(
        cluster
            .spec(kinds[1], "B")
            .via(ClusterVia::Config)
            .auth(auth)
            .config(ACCOUNTS)
            .route(via_proxy),
    );
    if let Err(e) = cluster.wait_for_mesh(MESH_TIMEOUT) {
        panic!("{e}\n{}", cluster.logs());
    }
    let rt = runtime();
    let clients = rt.block_on(async {
        let on_a = connect(&cluster.node(a).url(), ALICE).await;
        let on_b = connect(&cluster.node(b).url(), ALICE).await;
        let mut sub_a = subscribe(&on_a, "cut.a").await;
        let mut sub_b = subscribe(&on_b, "cut.b").await;
        wait_interest(&on_a, "cut.b", &mut [&mut sub_b]).await;
        wait_interest(&on_b, "cut.a", &mut [&mut sub_a]).await;
        send_and_expect(&on_a, "cut.b", 0..20, &mut [&mut sub_b]).await;
        send_and_expect(&on_b, "cut.a", 0..20, &mut [&mut sub_a]).await;
        (on_a, on_b, sub_a, sub_b)
    });
    let (on_a, on_b, mut sub_a, mut sub_b) = clients;
    let forwarded_before = proxy.forwarded();
    proxy.cut();
    for node in [a, b] {
        if let Err(e) = cluster.node(node).wait_for_routes(0, 0, MESH_TIMEOUT) {
            panic!(
                "the cut did not take the routes down: {e}\n{}",
                cluster.logs()
            );
        }
    }
    proxy.restore();
    if let Err(e) = cluster.wait_for_mesh(MESH_TIMEOUT) {
        panic!("the route did not heal: {e}\n{}", cluster.logs());
    }
    assert!(
        proxy.forwarded() > forwarded_before,
        "healed without going through the proxy"
    );
    rt.block_on(async {
        wait_interest(&on_a, "cut.b", &mut [&mut sub_b]).await;
        wait_interest(&on_b, "cut.a", &mut [&mut sub_a]).await;
        send_and_expect(&on_a, "cut.b", 20..40, &mut [&mut sub_b]).await;
        send_and_expect(&on_b, "cut.a", 20..40, &mut [&mut sub_a]).await;
        assert_no_extra(&mut [&mut sub_a, &mut sub_b], "duplicates after healing").await;
    });
}

/// The container scenario: a server with the default container
/// configuration, a second one with the same configuration plus
/// `--routes=nats-route://ruser:T0pS3cr3t@…` and `-DV`; the second one's
/// log shows the route connected and the first one's subscriptions arriving.
pub fn seed_scenario(kinds: [Kind; 2], cluster_name: &str) {
    let mut cluster = Cluster::new(cluster_name);
    let config = container_config();
    let auth = Some(RouteAuth::container_default());
    let first = cluster.add(
        cluster
            .spec(kinds[0], "seed")
            .via(ClusterVia::Verbatim)
            .auth(auth.clone())
            .config(&config),
    );
    let seed_url = cluster.node(first).route_url();
    assert!(seed_url.starts_with("nats-route://ruser:T0pS3cr3t@127.0.0.1:"));
    let second = cluster.add(
        cluster
            .spec(kinds[1], "joiner")
            .via(ClusterVia::Verbatim)
            .auth(auth)
            .config(&config)
            .route(seed_url)
            .args(&["-DV"]),
    );
    if let Err(e) = cluster.wait_for_mesh(MESH_TIMEOUT) {
        panic!("{e}\n{}", cluster.logs());
    }
    let joiner = cluster.node(second);
    let log_bound = Duration::from_secs(10);
    assert!(
        joiner.wait_for_log("Route connection created", log_bound),
        "no route-connected line in the joiner's log:\n{}",
        cluster.logs()
    );
    let rt = runtime();
    rt.block_on(async {
        let on_seed = connect_anonymous(&cluster.node(first).url()).await;
        let on_joiner = connect_anonymous(&cluster.node(second).url()).await;
        let mut plain = subscribe(&on_seed, "seed.sub").await;
        let _queue = queue_subscribe(&on_seed, "seed.q", "grp").await;
        for needle in ["<<- [RS+ $G seed.sub]", "<<- [RS+ $G seed.q grp 1]"] {
            assert!(
                joiner.wait_for_log(needle, log_bound),
                "no {needle:?} trace line in the joiner's log:\n{}",
                cluster.logs()
            );
        }
        wait_interest(&on_joiner, "seed.sub", &mut [&mut plain]).await;
        send_and_expect(&on_joiner, "seed.sub", 0..10, &mut [&mut plain]).await;
    });
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

/// What [`capture_route`] observed.
pub struct RouteCapture {
    /// Each route connection, in the order the proxy accepted them.
    pub connections: Vec<conformance::cluster::Captured>,
    /// `/routez` of the accepting node, then of the soliciting node.
    pub routez: [serde_json::Value; 2],
}

/// The route connections between an accepting node of kind `kinds[0]` and
/// a soliciting node of kind `kinds[1]`, recorded by a proxy in between
/// once the mesh is up and one subscription crossed in each direction.
pub fn capture_route(kinds: [Kind; 2], cluster_name: &str) -> RouteCapture {
    let mut cluster = Cluster::new(cluster_name);
    let auth = Some(RouteAuth::container_default());
    let a = cluster.add(
        cluster
            .spec(kinds[0], "A")
            .via(ClusterVia::Config)
            .auth(auth.clone()),
    );
    let proxy = TcpProxy::start(cluster.node(a).ports().cluster);
    let via_proxy = cluster.node(a).route_url_on(proxy.port());
    let b = cluster.add(
        cluster
            .spec(kinds[1], "B")
            .via(ClusterVia::Config)
            .auth(auth)
            .route(via_proxy),
    );
    if let Err(e) = cluster.wait_for_mesh(MESH_TIMEOUT) {
        panic!("{e}\n{}", cluster.logs());
    }
    let rt = runtime();
    rt.block_on(async {
        let on_a = connect_anonymous(&cluster.node(a).url()).await;
        let on_b = connect_anonymous(&cluster.node(b).url()).await;
        let mut sub_a = subscribe(&on_a, "cap.a").await;
        let mut members = vec![queue_subscribe(&on_b, "cap.b", "grp").await];
        wait_interest(&on_b, "cap.a", &mut [&mut sub_a]).await;
        wait_interest(&on_a, "cap.b", &mut [&mut members[0]]).await;
        // A second member raises the group's weight.
        members.push(queue_subscribe(&on_b, "cap.b", "grp").await);
        // Every message form, B to A (probes are the only 5-byte payloads).
        let mut sub_m = subscribe(&on_a, "cap.m.>").await;
        wait_interest(&on_b, "cap.m.probe", &mut [&mut sub_m]).await;
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("k", "v");
        let send = async {
            on_b.publish("cap.m.plain", "p1".into()).await?;
            on_b.publish_with_reply("cap.m.reply", "r.1", "p2".into())
                .await?;
            on_b.publish_with_headers("cap.m.hdr", headers.clone(), "p3".into())
                .await?;
            on_b.publish_with_reply_and_headers("cap.m.hdrreply", "r.2", headers, "p4".into())
                .await?;
            on_a.publish_with_reply("cap.b", "r.q", "q1".into()).await?;
            on_a.publish("cap.b", "q2".into()).await
        };
        send.await.expect("publish");
        flush(&on_b).await;
        flush(&on_a).await;
        collect(&mut sub_m, 4).await;
        collect_spread(&mut members, 2).await;
        // Interest that goes away: RS+ then RS-.
        let mut gone = subscribe(&on_a, "cap.gone").await;
        wait_interest(&on_b, "cap.gone", &mut [&mut gone]).await;
        gone.unsubscribe().await.expect("unsubscribe");
        flush(&on_a).await;
        let deadline = Instant::now() + INTEREST_WAIT;
        while !proxy.captured().iter().any(|c| {
            interest_lines(&c.from_target)
                .iter()
                .any(|l| l == "RS- $G cap.gone")
        }) {
            assert!(
                Instant::now() < deadline,
                "no RS- $G cap.gone crossed the route"
            );
            tokio::time::sleep(PROBE_EVERY).await;
        }
        // Taken while the clients still hold their subscriptions.
        let routez = |node: usize| {
            cluster
                .node(node)
                .routez()
                .unwrap_or_else(|e| panic!("{e}"))
        };
        RouteCapture {
            connections: proxy.captured(),
            routez: [routez(a), routez(b)],
        }
    })
}

/// `got` with the one deliberate difference from the reference undone: an
/// accepting server of ours advertises `"compression":"off"` instead of
/// `"accept"` because it does not implement S2 (docs/route-protocol.md §6),
/// which makes a reference solicitor configured for compression fall back
/// to none instead of sending an S2 stream.
fn allow_known_differences(
    what: &str,
    want: &serde_json::Value,
    got: &serde_json::Value,
) -> serde_json::Value {
    let mut got = got.clone();
    if what == "acceptor INFO" && want["compression"] == "accept" && got["compression"] == "off" {
        got["compression"] = want["compression"].clone();
    }
    got
}

/// The `/routez` facts compared with the reference: top-level keys, keys
/// of the route entries, and per entry `did_solicit`, `is_configured` and
/// the pinned `account` (sorted).
pub fn routez_shape(routez: &serde_json::Value) -> (Vec<String>, Vec<String>, Vec<String>) {
    let keys = |v: &serde_json::Value| -> Vec<String> {
        let mut k: Vec<String> = v
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        k.sort();
        k
    };
    let routes = routez["routes"].as_array().cloned().unwrap_or_default();
    let mut entry_keys: Vec<String> = routes.iter().flat_map(keys).collect();
    entry_keys.sort();
    entry_keys.dedup();
    let mut facts: Vec<String> = routes
        .iter()
        .map(|r| {
            format!(
                "did_solicit={} is_configured={} account={}",
                r["did_solicit"], r["is_configured"], r["account"]
            )
        })
        .collect();
    facts.sort();
    (keys(routez), entry_keys, facts)
}

/// The control lines of a captured stream (payloads of RMSG/HMSG skipped
/// only approximately: lines are split at `\r\n`), for reports.
pub fn lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .split("\r\n")
        .map(str::to_string)
        .collect()
}

/// Captures the route connections of `kinds` (acceptor, solicitor) and of
/// two reference servers, and checks that ours write the same handshake
/// (fields, key order, values other than ids/ports/nonces), use the same
/// connections (pool indexes, pinned `$SYS`) and exchange the same interest
/// lines on the same connection as the reference does.
pub fn route_wire_matches_reference(kinds: [Kind; 2], cluster_name: &str) {
    use conformance::cluster::RouteSummary;
    let summarise = |captured: &[conformance::cluster::Captured]| {
        captured
            .iter()
            .map(RouteSummary::of)
            .map(|s| (s.slot(), s))
            .collect::<BTreeMap<String, RouteSummary>>()
    };
    let reference_capture = capture_route([Kind::Reference; 2], cluster_name);
    let actual_capture = capture_route(kinds, cluster_name);
    let reference = summarise(&reference_capture.connections);
    let actual = summarise(&actual_capture.connections);
    let who = format!("acceptor {:?}, solicitor {:?}", kinds[0], kinds[1]);
    let slots = |m: &BTreeMap<String, RouteSummary>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        slots(&actual),
        slots(&reference),
        "route connections ({who})"
    );
    let mut differences = Vec::new();
    for (slot, want) in &reference {
        let got = &actual[slot];
        for (what, w, g) in [
            ("CONNECT", &want.connect, &got.connect),
            ("solicitor INFO", &want.solicitor_info, &got.solicitor_info),
            ("acceptor INFO", &want.acceptor_info, &got.acceptor_info),
        ] {
            let (Some(w), Some(g)) = (w, g) else {
                if w.is_some() != g.is_some() {
                    differences.push(format!(
                        "{slot}: {what} present: ref {} vs {}",
                        w.is_some(),
                        g.is_some()
                    ));
                }
                continue;
            };
            let g_masked = allow_known_differences(what, &w.masked, &g.masked);
            if w.keys != g.keys || w.masked != g_masked {
                differences.push(format!(
                    "{slot}: {what}\n  ref:  {}\n  got:  {}",
                    w.raw.trim_end(),
                    g.raw.trim_end()
                ));
            }
            if w.raw.ends_with("} \r\n") != g.raw.ends_with("} \r\n") {
                differences.push(format!("{slot}: {what} line ending: {:?}", g.raw));
            }
        }
        for (what, w, g) in [
            (
                "solicitor interest",
                &want.solicitor_interest,
                &got.solicitor_interest,
            ),
            (
                "acceptor interest",
                &want.acceptor_interest,
                &got.acceptor_interest,
            ),
            (
                "solicitor messages",
                &want.solicitor_messages,
                &got.solicitor_messages,
            ),
            (
                "acceptor messages",
                &want.acceptor_messages,
                &got.acceptor_messages,
            ),
        ] {
            if w != g {
                differences.push(format!("{slot}: {what}: ref {w:?} vs {g:?}"));
            }
        }
    }
    for (side, want, got) in [
        (
            "acceptor",
            &reference_capture.routez[0],
            &actual_capture.routez[0],
        ),
        (
            "solicitor",
            &reference_capture.routez[1],
            &actual_capture.routez[1],
        ),
    ] {
        let (want, got) = (routez_shape(want), routez_shape(got));
        if want != got {
            differences.push(format!("{side} /routez\n  ref: {want:?}\n  got: {got:?}"));
        }
    }
    assert!(differences.is_empty(), "{who}:\n{}", differences.join("\n"));
}

/// With `--no_advertise` on every node, clients are not told about the
/// other nodes (`connect_urls` lists none of them), while messages still
/// cross the route.
pub fn no_advertise(kinds: [Kind; 2], cluster_name: &str) {
    let mut cluster = Cluster::new(cluster_name);
    let a = cluster.add(cluster.spec(kinds[0], "A").args(&["--no_advertise"]));
    let seed = cluster.node(a).route_url();
    let b = cluster.add(
        cluster
            .spec(kinds[1], "B")
            .route(seed)
            .args(&["--no_advertise"]),
    );
    if let Err(e) = cluster.wait_for_mesh(MESH_TIMEOUT) {
        panic!("{e}\n{}", cluster.logs());
    }
    let rt = runtime();
    rt.block_on(async {
        let on_a = connect_anonymous(&cluster.node(a).url()).await;
        let on_b = connect_anonymous(&cluster.node(b).url()).await;
        for (client, other) in [(&on_a, b), (&on_b, a)] {
            let urls = client.server_info().connect_urls;
            let other = cluster.node(other).addr();
            assert!(
                !urls.contains(&other),
                "--no_advertise, yet connect_urls {urls:?} lists {other}"
            );
        }
        let mut sub = subscribe(&on_b, "na.s").await;
        wait_interest(&on_a, "na.s", &mut [&mut sub]).await;
        send_and_expect(&on_a, "na.s", 0..10, &mut [&mut sub]).await;
    });
}

/// Routes that must be refused are: wrong credentials (the acceptor closes
/// them as an authentication failure) and another cluster name (closed as a
/// name conflict); a server without a cluster name adopts its peer's and
/// joins. `kinds` = (acceptor, joiners).
pub fn refusals_and_dynamic_name(kinds: [Kind; 2], cluster_name: &str) {
    let mut cluster = Cluster::new(cluster_name);
    let auth = RouteAuth::container_default();
    let a = cluster.add(
        cluster
            .spec(kinds[0], "A")
            .via(ClusterVia::Config)
            .auth(Some(auth.clone())),
    );
    let port = cluster.node(a).ports().cluster;
    let bad_password = format!("nats-route://{}:wrong@127.0.0.1:{port}", auth.user);
    let good = cluster.node(a).route_url();
    let intruder = cluster.add(cluster.spec(kinds[1], "B").route(bad_password));
    let foreigner = cluster
        .add(NodeSpec::new(kinds[1], "C", &format!("{cluster_name}-other")).route(good.clone()));
    let nameless = cluster.add(NodeSpec::new(kinds[1], "D", "").route(good));
    let acceptor = cluster.node(a);
    let bound = MESH_TIMEOUT;
    for (needle, what) in [
        (
            "Router connection closed: Authentication Failure",
            "wrong credentials",
        ),
        (
            "Router connection closed: Cluster Name Conflict",
            "another cluster name",
        ),
    ] {
        assert!(
            acceptor.wait_for_log(needle, bound),
            "{what}: no {needle:?} in the acceptor's log\n{}",
            cluster.logs()
        );
    }
    if let Err(e) = cluster
        .node(nameless)
        .wait_for_routes(1, ROUTES_PER_PEER, bound)
    {
        panic!("the nameless server did not join: {e}\n{}", cluster.logs());
    }
    let varz = cluster.node(nameless).varz().expect("/varz");
    assert_eq!(
        varz["cluster"]["name"], cluster_name,
        "adopted name: {varz}"
    );
    for refused in [intruder, foreigner] {
        let view = cluster.node(refused).route_view().expect("/routez");
        assert_eq!(
            view.num_routes,
            0,
            "{}: {view:?}",
            cluster.node(refused).label()
        );
    }
    let view = acceptor.route_view().expect("/routez");
    assert_eq!(
        view.peers.len(),
        1,
        "only the nameless server joined: {view:?}"
    );
}

/// A client connected (with `"protocol":1`) before a second node joins is
/// sent an `INFO` whose `connect_urls` lists the new node, and another one
/// without it after the node is killed. Raw socket, so every INFO is seen.
pub fn connect_urls_follow_membership(kinds: [Kind; 2], cluster_name: &str) {
    use conformance::raw::RawClient;
    let mut cluster = Cluster::new(cluster_name);
    let a = cluster.add(cluster.spec(kinds[0], "A"));
    let mut client = RawClient::connect(&cluster.node(a).addr()).expect("connect");
    client
        .send(b"CONNECT {\"verbose\":false,\"protocol\":1}\r\nPING\r\n")
        .expect("send CONNECT");
    let seed = cluster.node(a).route_url();
    let b = cluster.add(cluster.spec(kinds[1], "B").route(seed));
    if let Err(e) = cluster.wait_for_mesh(MESH_TIMEOUT) {
        panic!("{e}\n{}", cluster.logs());
    }
    let joined = cluster.node(b).addr();
    let urls_of = |frame: &[u8]| -> Option<Vec<String>> {
        let info = conformance::normalize::info_json(frame)?;
        Some(
            info["connect_urls"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|u| u.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
        )
    };
    let wait_for = |client: &mut RawClient, want_listed: bool| -> Vec<Vec<String>> {
        let deadline = Instant::now() + MESH_TIMEOUT;
        let mut seen = Vec::new();
        while Instant::now() < deadline {
            let collected = client
                .collect_for(Duration::from_millis(200))
                .expect("read");
            assert!(!collected.closed, "the server closed the client");
            for frame in &collected.frames {
                if let Some(urls) = urls_of(frame) {
                    let listed = urls.contains(&joined);
                    seen.push(urls);
                    if listed == want_listed {
                        return seen;
                    }
                }
            }
        }
        panic!("no INFO with {joined} listed={want_listed}; INFOs seen: {seen:?}");
    };
    wait_for(&mut client, true);
    cluster.node_mut(b).kill();
    wait_for(&mut client, false);
}

/// The `INFO`s node A forwards to B (through a recording proxy) when C
/// joins by soliciting A: per route connection of B, their keys and masked
/// values (the `ip` URL checked for its form), as `(slot, lines)`.
pub fn capture_gossip(kinds: [Kind; 2], cluster_name: &str) -> BTreeMap<String, Vec<String>> {
    use conformance::cluster::{later_infos, RouteSummary};
    let mut cluster = Cluster::new(cluster_name);
    let a = cluster.add(cluster.spec(kinds[0], "A"));
    let proxy = TcpProxy::start(cluster.node(a).ports().cluster);
    let via_proxy = cluster.node(a).route_url_on(proxy.port());
    cluster.add(cluster.spec(Kind::Reference, "B").route(via_proxy));
    if let Err(e) = cluster.wait_for_mesh(MESH_TIMEOUT) {
        panic!("{e}\n{}", cluster.logs());
    }
    let seed = cluster.node(a).route_url();
    let c = cluster.add(cluster.spec(kinds[1], "C").route(seed));
    if let Err(e) = cluster.wait_for_mesh(MESH_TIMEOUT) {
        panic!("{e}\n{}", cluster.logs());
    }
    let c_route = format!(
        "nats-route://127.0.0.1:{}/",
        cluster.node(c).ports().cluster
    );
    let mut gossip = BTreeMap::new();
    for captured in proxy.captured() {
        let slot = RouteSummary::of(&captured).slot();
        let infos = later_infos(&captured.from_target);
        for info in &infos {
            let ip = info.masked.get("ip").map(|_| info.raw.contains(&c_route));
            assert_ne!(ip, Some(false), "gossip ip is not {c_route}: {}", info.raw);
        }
        let lines = infos
            .iter()
            .map(|i| format!("{:?} {}", i.keys, i.masked))
            .collect();
        gossip.insert(slot, lines);
    }
    gossip
}

/// Node A of kind `kinds[0]` gossips a joining node C of kind `kinds[1]`
/// to B exactly as a reference A gossips a reference C.
pub fn gossip_matches_reference(kinds: [Kind; 2], cluster_name: &str) {
    let want = capture_gossip([Kind::Reference; 2], cluster_name);
    let got = capture_gossip(kinds, cluster_name);
    assert!(
        want.values().any(|lines| !lines.is_empty()),
        "the reference gossiped nothing: {want:#?}"
    );
    assert_eq!(
        got, want,
        "gossip from A {:?} about C {:?}",
        kinds[0], kinds[1]
    );
}

/// A server process started without `-a` (so it listens on every address,
/// as in the container), killed when dropped.
struct AnyAddressServer(std::process::Child);

impl Drop for AnyAddressServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// For two servers running the container configuration as is (listening on
/// every address) — the seed of kind `kinds[0]` and a joiner of kind
/// `kinds[1]` — the hosts each one advertises for its own client port, read
/// from its clients' `INFO connect_urls` once both ports are listed.
pub fn advertised_hosts(kinds: [Kind; 2]) -> [Vec<String>; 2] {
    use conformance::raw::RawClient;
    use conformance::server::free_port;
    let config = container_config();
    let dir = std::env::temp_dir();
    let ports: Vec<[u16; 3]> = (0..2)
        .map(|_| [free_port(), free_port(), free_port()])
        .collect();
    let mut servers = Vec::new();
    for (index, kind) in kinds.into_iter().enumerate() {
        let [client, cluster, monitor] = ports[index];
        let text = config
            .replace("{client_port}", &client.to_string())
            .replace("{cluster_port}", &cluster.to_string())
            .replace("{monitor_port}", &monitor.to_string());
        let path = dir.join(format!("nats-any-{}-{client}.conf", std::process::id()));
        std::fs::write(&path, text).expect("write config");
        let mut command = std::process::Command::new(kind.binary());
        command.arg("-c").arg(&path);
        if index == 1 {
            command.arg(format!(
                "--routes=nats-route://ruser:T0pS3cr3t@127.0.0.1:{}",
                ports[0][1]
            ));
        }
        let child = command
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn server");
        servers.push(AnyAddressServer(child));
    }
    let deadline = Instant::now() + MESH_TIMEOUT;
    let own_hosts = |index: usize| -> Option<Vec<String>> {
        let client = RawClient::connect(&format!("127.0.0.1:{}", ports[index][0])).ok()?;
        let info = client.info_json()?;
        let urls: Vec<String> = info["connect_urls"]
            .as_array()?
            .iter()
            .filter_map(|u| u.as_str().map(str::to_string))
            .collect();
        let port_of = |url: &str, port: u16| url.ends_with(&format!(":{port}"));
        if !ports.iter().all(|p| urls.iter().any(|u| port_of(u, p[0]))) {
            return None;
        }
        let suffix = format!(":{}", ports[index][0]);
        let mut hosts: Vec<String> = urls
            .iter()
            .filter_map(|u| u.strip_suffix(&suffix).map(str::to_string))
            .collect();
        hosts.sort();
        Some(hosts)
    };
    loop {
        if let (Some(seed), Some(joiner)) = (own_hosts(0), own_hosts(1)) {
            return [seed, joiner];
        }
        assert!(
            Instant::now() < deadline,
            "the two servers never both listed each other in connect_urls"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Servers listening on every address advertise the same hosts to clients
/// as the reference does on this machine.
pub fn advertised_hosts_match_reference(kinds: [Kind; 2]) {
    let reference = advertised_hosts([Kind::Reference; 2]);
    let got = advertised_hosts(kinds);
    assert_eq!(
        got, reference,
        "hosts advertised by (seed, joiner) = {kinds:?}"
    );
}

/// On a two-node cluster (B solicits A): a queue group with one member on
/// the publisher's node and one on the other gets every message once, spread
/// over both members (the reference picks among all members, local or not:
/// measured about half each).
pub fn queue_spread(kinds: [Kind; 2], cluster_name: &str) {
    let mut cluster = Cluster::new(cluster_name);
    let a = cluster.add(cluster.spec(kinds[0], "A"));
    let seed = cluster.node(a).route_url();
    let b = cluster.add(cluster.spec(kinds[1], "B").route(seed));
    if let Err(e) = cluster.wait_for_mesh(MESH_TIMEOUT) {
        panic!("{e}\n{}", cluster.logs());
    }
    let _logs = LogsOnPanic(&cluster);
    let rt = runtime();
    rt.block_on(async {
        let on_a = connect_anonymous(&cluster.node(a).url()).await;
        let on_b = connect_anonymous(&cluster.node(b).url()).await;
        let members_a = connect_anonymous(&cluster.node(a).url()).await;
        let members_b = connect_anonymous(&cluster.node(b).url()).await;
        // Local preference, from each side.
        for (publisher, local, remote, tag) in [
            (&on_a, &members_a, &members_b, "a"),
            (&on_b, &members_b, &members_a, "b"),
        ] {
            let subject = format!("lq.{tag}");
            let mut far = queue_subscribe(remote, &subject, "g").await;
            wait_interest(publisher, &subject, &mut [&mut far]).await;
            let near = queue_subscribe(local, &subject, "g").await;
            let mut members = vec![near, far];
            for payload in numbered("m", 100) {
                publish(publisher, &subject, payload.as_bytes()).await;
            }
            flush(publisher).await;
            let got = collect_spread(&mut members, 100).await;
            let mut seen = HashSet::new();
            for (_, payload) in got.iter().flatten() {
                assert!(seen.insert(payload.clone()), "{payload} twice ({tag})");
            }
            let split = [got[0].len(), got[1].len()];
            assert!(
                split[0] > 0 && split[1] > 0,
                "(local, remote) members got {split:?}: not spread over the cluster ({tag})"
            );
            let mut refs: Vec<&mut Subscriber> = members.iter_mut().collect();
            assert_no_extra(&mut refs, &format!("queue members ({tag})")).await;
        }
    });
}

/// On a two-node cluster (B solicits A), a payload close to `max_payload`
/// crosses the route intact, with headers, both ways.
pub fn large_payloads(kinds: [Kind; 2], cluster_name: &str) {
    let mut cluster = Cluster::new(cluster_name);
    let a = cluster.add(cluster.spec(kinds[0], "A"));
    let seed = cluster.node(a).route_url();
    let b = cluster.add(cluster.spec(kinds[1], "B").route(seed));
    if let Err(e) = cluster.wait_for_mesh(MESH_TIMEOUT) {
        panic!("{e}\n{}", cluster.logs());
    }
    let _logs = LogsOnPanic(&cluster);
    let rt = runtime();
    rt.block_on(async {
        let on_a = connect_anonymous(&cluster.node(a).url()).await;
        let on_b = connect_anonymous(&cluster.node(b).url()).await;
        // Large payloads with headers, both ways.
        let big: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        for (publisher, subscriber, tag) in [(&on_a, &on_b, "ab"), (&on_b, &on_a, "ba")] {
            let subject = format!("big.{tag}");
            let mut sub = subscribe(subscriber, &subject).await;
            wait_interest(publisher, &subject, &mut [&mut sub]).await;
            let mut headers = async_nats::HeaderMap::new();
            headers.insert("X-Big", "yes");
            publisher
                .publish_with_headers(subject.clone(), headers, big.clone().into())
                .await
                .expect("publish");
            flush(publisher).await;
            let deadline = Instant::now() + WAIT;
            let message = loop {
                let message = timeout(WAIT, sub.next())
                    .await
                    .expect("no large message")
                    .expect("subscription ended");
                if message.payload.as_ref() != PROBE {
                    break message;
                }
                assert!(Instant::now() < deadline, "only probes arrived");
            };
            assert!(
                message.payload.as_ref() == big.as_slice(),
                "payload altered ({tag})"
            );
            let header = message.headers.as_ref().and_then(|h| h.get("X-Big"));
            assert_eq!(
                header.map(|v| v.as_str()),
                Some("yes"),
                "header lost ({tag})"
            );
        }
    });
}

/// `--cluster_advertise`: node C (kind `kinds[1]`) advertises a proxy in
/// front of its cluster port and joins by soliciting B (reference), which
/// gossips C to A (kind `kinds[0]`). A advertises an address where nothing
/// listens, so the A-C route can only be A dialling C's advertised address,
/// through the proxy.
pub fn cluster_advertise(kinds: [Kind; 2], cluster_name: &str) {
    use conformance::server::free_port;
    let mut cluster = Cluster::new(cluster_name);
    let nowhere = format!("127.0.0.1:{}", free_port());
    let a = cluster.add(
        cluster
            .spec(kinds[0], "A")
            .args(&["--cluster_advertise", &nowhere]),
    );
    let seed = cluster.node(a).route_url();
    let b = cluster.add(cluster.spec(Kind::Reference, "B").route(seed));
    if let Err(e) = cluster.wait_for_mesh(MESH_TIMEOUT) {
        panic!("{e}\n{}", cluster.logs());
    }
    // Listening before C starts; forwarding once C's cluster port is known.
    let proxy = TcpProxy::start_on(0, 0).expect("proxy");
    let advertised = format!("127.0.0.1:{}", proxy.port());
    let via_b = cluster.node(b).route_url();
    let c = cluster.add(
        cluster
            .spec(kinds[1], "C")
            .route(via_b)
            .args(&["--cluster_advertise", &advertised]),
    );
    proxy.set_target(cluster.node(c).ports().cluster);
    if let Err(e) = cluster.wait_for_mesh(MESH_TIMEOUT) {
        panic!("{e}\n{}", cluster.logs());
    }
    assert!(
        proxy.forwarded() > 0,
        "A reached C without C's advertised address\n{}",
        cluster.logs()
    );
}

/// `cluster { accounts: [ACC_A] }` on both nodes pins ACC_A to a route
/// connection of its own (5 per peer); messages of the pinned account
/// (whose route lines leave the account out) and of a pooled one cross in
/// both directions, with replies, queue groups and headers.
pub fn pinned_account(kinds: [Kind; 2], cluster_name: &str) {
    let mut cluster = Cluster::new(cluster_name);
    let auth = Some(RouteAuth::container_default());
    let spec = |cluster: &Cluster, kind, name| {
        cluster
            .spec(kind, name)
            .via(ClusterVia::Config)
            .auth(auth.clone())
            .config(ACCOUNTS)
            .cluster_line("accounts: [ACC_A]")
    };
    let a = cluster.add(spec(&cluster, kinds[0], "A"));
    let seed = cluster.node(a).route_url();
    let b = cluster.add(spec(&cluster, kinds[1], "B").route(seed));
    if let Err(e) = cluster.wait_for_mesh_of(ROUTES_PER_PEER + 1, MESH_TIMEOUT) {
        panic!("{e}\n{}", cluster.logs());
    }
    let _logs = LogsOnPanic(&cluster);
    let rt = runtime();
    rt.block_on(async {
        for user in [ALICE, BOB] {
            for (from, to) in [(a, b), (b, a)] {
                let publisher = connect(&cluster.node(from).url(), user).await;
                let receiver = connect(&cluster.node(to).url(), user).await;
                let subject = format!("pin.{}.{from}", user.name);
                let mut plain = subscribe(&receiver, &subject).await;
                let mut queue = queue_subscribe(&receiver, &subject, "g").await;
                wait_interest(&publisher, &subject, &mut [&mut plain]).await;
                wait_interest(&publisher, &subject, &mut [&mut queue]).await;
                let mut headers = async_nats::HeaderMap::new();
                headers.insert("h", "1");
                publisher
                    .publish_with_reply(subject.clone(), "rep.x", "m-0".into())
                    .await
                    .expect("publish");
                publisher
                    .publish_with_headers(subject.clone(), headers, "m-1".into())
                    .await
                    .expect("publish");
                flush(&publisher).await;
                for sub in [&mut plain, &mut queue] {
                    let got: Vec<String> =
                        collect(sub, 2).await.into_iter().map(|(_, p)| p).collect();
                    assert_eq!(got, ["m-0", "m-1"], "{} from {from} to {to}", user.name);
                }
                let context = format!("{} from {from} to {to}", user.name);
                assert_no_extra(&mut [&mut plain, &mut queue], &context).await;
            }
        }
    });
}
