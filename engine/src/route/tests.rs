//! Servers wired together in process: route bytes are shuttled between their
//! [`RouteConn`]s, no sockets, no clock.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Wake, Waker};
use std::time::Instant;

use bytes::BytesMut;

use super::{RouteConn, RouteDial, RouteStart, RouteUrl};
use crate::account::AccountConfig;
use crate::auth::{Secret, User};
use crate::config::{ClusterConfig, RouteAuth};
use crate::{Client, Server, ServerConfig, ServerSeed, Transmit};

struct Noop;
impl Wake for Noop {
    fn wake(self: Arc<Self>) {}
}

fn waker() -> Waker {
    Waker::from(Arc::new(Noop))
}

/// Moves what `from` queued for writing into a buffer; true if there was something.
fn drain(shared: &crate::ClientShared, out: &mut BytesMut) -> bool {
    let mut buf = BytesMut::new();
    let mut moved = false;
    while let Transmit::Data = shared.outbound.poll_transmit(&mut buf, &waker()) {
        out.extend_from_slice(&buf);
        buf.clear();
        shared.outbound.handle_written();
        moved = true;
    }
    moved
}

fn closed(shared: &crate::ClientShared) -> bool {
    shared.outbound.close_reason().is_some()
}

/// One route connection between two servers: the dialling end and the accepting end.
struct Link {
    dialler: usize,
    acceptor: usize,
    solicit: RouteConn,
    accept: RouteConn,
    s_in: BytesMut,
    a_in: BytesMut,
    done: bool,
}

/// A set of servers whose dials are answered by connecting in memory.
struct Net {
    servers: Vec<Arc<Server>>,
    links: Vec<Link>,
    /// Cluster port → server index.
    ports: HashMap<u16, usize>,
    now: Instant,
    /// Dials to unreachable ports, seen by the test.
    failed: Vec<RouteDial>,
}

fn cluster_port(i: usize) -> u16 {
    16222 + i as u16
}

fn url(i: usize) -> RouteUrl {
    RouteUrl::parse(&format!("nats-route://127.0.0.1:{}", cluster_port(i))).unwrap()
}

fn seed(i: usize) -> ServerSeed {
    let mut identity = [0u8; 32];
    identity[0] = i as u8 + 1;
    identity[1] = 0x5a;
    ServerSeed {
        identity,
        rng: 0x1234_5678 + i as u64,
    }
}

fn base_config(name: &str, routes: Vec<RouteUrl>) -> ServerConfig {
    ServerConfig {
        server_name: Some(name.to_string()),
        cluster: Some(ClusterConfig {
            name: Some("t".to_string()),
            routes,
            ..ClusterConfig::default()
        }),
        ..ServerConfig::default()
    }
}

impl Net {
    fn new(configs: Vec<ServerConfig>) -> Net {
        let now = Instant::now();
        let mut net = Net {
            servers: Vec::new(),
            links: Vec::new(),
            ports: HashMap::new(),
            now,
            failed: Vec::new(),
        };
        for (i, c) in configs.into_iter().enumerate() {
            net.add(i, c);
        }
        net
    }

    fn add(&mut self, i: usize, config: ServerConfig) {
        let server = Server::new(config, seed(i), self.now);
        server.start_routes(RouteStart {
            listen: SocketAddr::from(([127, 0, 0, 1], cluster_port(i))),
            client_urls: vec![format!("127.0.0.1:{}", 14222 + i)],
        });
        self.ports.insert(cluster_port(i), i);
        if i < self.servers.len() {
            self.servers[i] = server;
        } else {
            self.servers.push(server);
        }
    }

    fn peer(i: usize) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 40000 + i as u16))
    }

    /// Answers every dial due now (later ones stay queued until the test moves time).
    fn dial(&mut self) -> bool {
        let mut any = false;
        for i in 0..self.servers.len() {
            let dials = self.servers[i].poll_route_dials(&waker());
            for d in dials {
                if d.not_before.is_some_and(|t| t > self.now) {
                    self.servers[i].routes().requeue_dial(d);
                    continue;
                }
                any = true;
                match self.ports.get(&d.url.port).copied() {
                    Some(j)
                        if self.servers[j].routes().is_enabled()
                            && !self.servers[j].is_shutting_down() =>
                    {
                        let accept = self.servers[j].accept_route(Net::peer(i), self.now);
                        let solicit = self.servers[i].solicit_route(
                            d,
                            SocketAddr::from(([127, 0, 0, 1], cluster_port(j))),
                            self.now,
                        );
                        self.links.push(Link {
                            dialler: i,
                            acceptor: j,
                            solicit,
                            accept,
                            s_in: BytesMut::new(),
                            a_in: BytesMut::new(),
                            done: false,
                        });
                    }
                    _ => {
                        self.failed.push(d.clone());
                        self.servers[i].route_dial_failed(d, self.now);
                    }
                }
            }
        }
        any
    }

    /// Shuttles bytes until nothing moves.
    fn settle(&mut self) {
        let mut idle_steps = 0;
        for _ in 0..400 {
            let mut moved = self.dial();
            for l in self.links.iter_mut().filter(|l| !l.done) {
                if drain(l.solicit.shared(), &mut l.a_in) {
                    moved = true;
                    l.accept.handle_input(&mut l.a_in, self.now);
                }
                if drain(l.accept.shared(), &mut l.s_in) {
                    moved = true;
                    l.solicit.handle_input(&mut l.s_in, self.now);
                }
                let gone = l.solicit.close_reason().is_some()
                    || l.accept.close_reason().is_some()
                    || closed(l.solicit.shared())
                    || closed(l.accept.shared());
                if gone {
                    // Deliver what is left, then both ends see the socket end.
                    drain(l.solicit.shared(), &mut l.a_in);
                    drain(l.accept.shared(), &mut l.s_in);
                    l.accept.handle_input(&mut l.a_in, self.now);
                    l.solicit.handle_input(&mut l.s_in, self.now);
                    l.solicit
                        .handle_read_closed(crate::CloseReason::ClientClosed);
                    l.accept
                        .handle_read_closed(crate::CloseReason::ClientClosed);
                    l.solicit.finish(self.now);
                    l.accept.finish(self.now);
                    l.done = true;
                    moved = true;
                }
            }
            if !moved {
                // Redials wait a second: let time pass while some are queued.
                if self.pending_dials() && idle_steps < 10 {
                    idle_steps += 1;
                    self.now += std::time::Duration::from_secs(1);
                    continue;
                }
                return;
            }
        }
        panic!("the cluster did not settle");
    }

    /// Whether a dial waits for a later instant (answered once time passes).
    fn pending_dials(&self) -> bool {
        let mut any = false;
        for (i, s) in self.servers.iter().enumerate() {
            for d in s.poll_route_dials(&waker()) {
                any |= self.ports.contains_key(&d.url.port) || i == usize::MAX;
                s.routes().requeue_dial(d);
            }
        }
        any
    }

    /// Stops server `i` as a crash would: every route of it ends.
    fn kill(&mut self, i: usize) {
        self.servers[i].shutdown();
        for l in self.links.iter_mut().filter(|l| !l.done) {
            if l.dialler == i || l.acceptor == i {
                l.solicit
                    .handle_read_closed(crate::CloseReason::ClientClosed);
                l.accept
                    .handle_read_closed(crate::CloseReason::ClientClosed);
                l.solicit.finish(self.now);
                l.accept.finish(self.now);
                l.done = true;
            }
        }
        self.ports.remove(&cluster_port(i));
    }

    fn client(&self, i: usize, connect: &str) -> TestClient {
        let mut c = self.servers[i].accept(SocketAddr::from(([127, 0, 0, 1], 50000)), self.now);
        let mut out = BytesMut::new();
        drain(c.shared(), &mut out);
        let mut buf = BytesMut::from(format!("CONNECT {connect}\r\nPING\r\n").as_bytes());
        c.handle_input(&mut buf, self.now);
        let mut tc = TestClient {
            c,
            out: BytesMut::new(),
        };
        tc.take();
        tc
    }
}

struct TestClient {
    c: Client,
    out: BytesMut,
}

impl TestClient {
    fn send(&mut self, net: &mut Net, text: &str) {
        let mut buf = BytesMut::from(text.as_bytes());
        self.c.handle_input(&mut buf, net.now);
        net.settle();
    }

    /// Everything received since the last call.
    fn take(&mut self) -> String {
        drain(self.c.shared(), &mut self.out);
        let s = String::from_utf8_lossy(&self.out).into_owned();
        self.out.clear();
        s
    }

    fn count(&mut self, needle: &str) -> usize {
        self.take().matches(needle).count()
    }
}

const PLAIN: &str = r#"{"verbose":false,"pedantic":false,"protocol":1,"headers":true}"#;

fn remote_count(server: &Server, account: &str) -> usize {
    server
        .routes()
        .routes()
        .iter()
        .filter(|h| h.carries(account))
        .map(|h| h.num_subscriptions())
        .sum()
}

fn two() -> Net {
    Net::new(vec![
        base_config("A", vec![]),
        base_config("B", vec![url(0)]),
    ])
}

#[test]
fn a_pool_and_a_system_connection_per_peer() {
    let mut net = two();
    net.settle();
    // Three pooled connections and the dedicated `$SYS` one, on both sides.
    assert_eq!(net.servers[0].routes().len(), 4);
    assert_eq!(net.servers[1].routes().len(), 4);
    let pinned: Vec<_> = net.servers[0]
        .routes()
        .routes()
        .iter()
        .filter_map(|h| h.pinned_account().map(str::to_string))
        .collect();
    assert_eq!(pinned, vec!["$SYS".to_string()]);
    assert_eq!(net.servers[0].routes().peers().len(), 1);
}

#[test]
fn interest_sent_on_connect_then_deltas() {
    let mut net = Net::new(vec![base_config("A", vec![])]);
    let mut a = net.client(0, PLAIN);
    a.send(&mut net, "SUB foo 1\r\nSUB foo 2\r\nSUB bar q 3\r\n");
    net.add(1, base_config("B", vec![url(0)]));
    net.settle();
    // foo once (plain interest is per subject), bar q with weight 1.
    assert_eq!(remote_count(&net.servers[1], "$G"), 2);
    a.send(&mut net, "SUB bar q 4\r\n");
    let weight = |net: &Net| {
        net.servers[1]
            .routes()
            .routes()
            .iter()
            .flat_map(|h| h.remote_subs.lock().values().cloned().collect::<Vec<_>>())
            .find(|s| s.queue.is_some())
            .map(|s| s.weight())
    };
    assert_eq!(weight(&net), Some(2));
    a.send(&mut net, "UNSUB 3\r\n");
    assert_eq!(weight(&net), Some(1));
    a.send(&mut net, "UNSUB 1\r\n");
    assert_eq!(
        remote_count(&net.servers[1], "$G"),
        2,
        "foo still has sid 2"
    );
    a.send(&mut net, "UNSUB 2\r\nUNSUB 4\r\n");
    assert_eq!(remote_count(&net.servers[1], "$G"), 0);
}

#[test]
fn messages_cross_once_per_route() {
    let mut net = two();
    net.settle();
    let mut a = net.client(0, PLAIN);
    a.send(&mut net, "SUB foo 1\r\nSUB foo 2\r\nSUB > 3\r\n");
    let mut b = net.client(1, PLAIN);
    b.send(&mut net, "PUB foo reply.x 5\r\nhello\r\n");
    let got = a.take();
    assert_eq!(
        got.matches("MSG foo 1 reply.x 5\r\nhello").count(),
        1,
        "{got}"
    );
    assert_eq!(got.matches("MSG foo 2 reply.x 5").count(), 1);
    assert_eq!(got.matches("MSG foo 3 reply.x 5").count(), 1);
    // One RMSG carried it, whatever the number of subscriptions on A.
    let sent: u64 = net.servers[1]
        .routes()
        .routes()
        .iter()
        .map(|h| h.shared.outbound.stats().msgs)
        .sum();
    assert_eq!(sent, 1);
    // Headers cross too.
    b.send(&mut net, "HPUB foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\n");
    assert_eq!(a.count("HMSG foo 1 12 14\r\nNATS/1.0\r\n\r\nhi"), 1);
}

/// Publishes `total` messages on `work` from `publisher` and counts what each member got.
fn queue_counts(
    net: &mut Net,
    publisher: &mut TestClient,
    members: &mut [TestClient],
    total: usize,
) -> Vec<usize> {
    let batch = "PUB work 1\r\nx\r\n".repeat(100);
    for _ in 0..total / 100 {
        publisher.send(net, &batch);
    }
    members
        .iter_mut()
        .map(|m| m.count("MSG work 1 1"))
        .collect()
}

#[test]
fn queue_groups_spread_uniformly_over_members_cluster_wide() {
    let mut net = Net::new(vec![
        base_config("A", vec![]),
        base_config("B", vec![url(0)]),
        base_config("C", vec![url(0)]),
    ]);
    net.settle();
    // One member on A, one on B (the publisher's server), two on C.
    let mut members: Vec<TestClient> = [0, 1, 2, 2].iter().map(|&i| net.client(i, PLAIN)).collect();
    for m in members.iter_mut() {
        m.send(&mut net, "SUB work q 1\r\n");
    }
    let mut publisher = net.client(1, PLAIN);
    let counts = queue_counts(&mut net, &mut publisher, &mut members, 3000);
    assert_eq!(
        counts.iter().sum::<usize>(),
        3000,
        "exactly once: {counts:?}"
    );
    // B draws over its member and the routes' weights (A 1, C 2), C over its two members:
    // a quarter each (750), the local member not preferred.
    for c in &counts {
        assert!((600..=900).contains(c), "uneven spread: {counts:?}");
    }
    // With the local member gone, everything crosses the routes, still evenly.
    members[1].send(&mut net, "UNSUB 1\r\n");
    let counts = queue_counts(&mut net, &mut publisher, &mut members, 3000);
    assert_eq!(counts[1], 0);
    assert_eq!(
        counts.iter().sum::<usize>(),
        3000,
        "exactly once: {counts:?}"
    );
    for c in [counts[0], counts[2], counts[3]] {
        assert!((850..=1150).contains(&c), "uneven spread: {counts:?}");
    }
}

#[test]
fn a_routed_queue_message_reaches_exactly_one_local_member() {
    let mut net = Net::new(vec![
        base_config("A", vec![]),
        base_config("B", vec![url(0)]),
    ]);
    net.settle();
    // Members on both servers; A publishes: whatever B gets stays on B.
    let mut members: Vec<TestClient> = [0, 1, 1].iter().map(|&i| net.client(i, PLAIN)).collect();
    for m in members.iter_mut() {
        m.send(&mut net, "SUB work q 1\r\n");
    }
    let mut publisher = net.client(0, PLAIN);
    let counts = queue_counts(&mut net, &mut publisher, &mut members, 3000);
    assert_eq!(
        counts.iter().sum::<usize>(),
        3000,
        "exactly once: {counts:?}"
    );
    for c in &counts {
        assert!((850..=1150).contains(c), "uneven spread: {counts:?}");
    }
    let b_out: u64 = net.servers[1]
        .routes()
        .routes()
        .iter()
        .map(|h| h.shared.outbound.stats().msgs)
        .sum();
    assert_eq!(b_out, 0, "B sent a routed queue message back");
}

#[test]
fn a_routed_message_is_never_forwarded_to_another_route() {
    let mut net = Net::new(vec![
        base_config("A", vec![]),
        base_config("B", vec![url(0)]),
        base_config("C", vec![url(0)]),
    ]);
    net.settle();
    // Gossip made a full mesh: every server has the two others.
    for s in &net.servers {
        assert_eq!(s.routes().peers().len(), 2, "{}", s.name());
    }
    let mut c = net.client(2, PLAIN);
    c.send(&mut net, "SUB loop.> 1\r\n");
    let mut a = net.client(0, PLAIN);
    a.send(&mut net, "PUB loop.x 2\r\nhi\r\n");
    assert_eq!(c.count("MSG loop.x 1 2"), 1);
    let b_out: u64 = net.servers[1]
        .routes()
        .routes()
        .iter()
        .map(|h| h.shared.outbound.stats().msgs)
        .sum();
    assert_eq!(b_out, 0, "B forwarded a routed message");
}

#[test]
fn no_echo_and_publishers_own_server() {
    let mut net = two();
    net.settle();
    let mut a = net.client(0, r#"{"verbose":false,"echo":false,"protocol":1}"#);
    a.send(&mut net, "SUB e 1\r\n");
    let mut b = net.client(1, PLAIN);
    b.send(&mut net, "SUB e 1\r\n");
    a.send(&mut net, "PUB e 1\r\nx\r\n");
    assert_eq!(a.count("MSG e"), 0, "no echo to the publisher");
    assert_eq!(
        b.count("MSG e 1 1"),
        1,
        "the remote subscriber gets it once"
    );
}

#[test]
fn accounts_stay_apart_across_routes() {
    accounts_apart(false);
}

#[test]
fn a_pinned_account_has_its_own_connection_and_lines_without_account() {
    let net = accounts_apart(true);
    let a = &net.servers[0];
    let pinned: Vec<_> = a
        .routes()
        .routes()
        .iter()
        .filter(|h| h.pinned_account() == Some("ACC1"))
        .cloned()
        .collect();
    assert_eq!(pinned.len(), 1, "one dedicated ACC1 connection");
    // ACC1's message crossed on it (the pooled ones carried none of ACC1's).
    assert!(pinned[0].shared.outbound.stats().msgs + pinned[0].shared.snapshot().in_msgs > 0);
    assert_eq!(a.routes().len(), 5, "3 pooled + $SYS + ACC1");
}

fn accounts_apart(pin_acc1: bool) -> Net {
    let accounts = || {
        let mut c = base_config("X", vec![]);
        c.accounts = vec![
            AccountConfig {
                name: "ACC1".into(),
                ..AccountConfig::default()
            },
            AccountConfig {
                name: "ACC2".into(),
                ..AccountConfig::default()
            },
        ];
        c.auth.users = ["u1", "u2"]
            .iter()
            .zip(["ACC1", "ACC2"])
            .map(|(u, a)| User {
                username: u.to_string(),
                password: Secret::new("p"),
                permissions: None,
                account: Some(a.to_string()),
            })
            .collect();
        c
    };
    let mut a_cfg = accounts();
    a_cfg.server_name = Some("A".into());
    let mut b_cfg = accounts();
    b_cfg.server_name = Some("B".into());
    b_cfg.cluster.as_mut().unwrap().routes = vec![url(0)];
    if pin_acc1 {
        for c in [&mut a_cfg, &mut b_cfg] {
            c.cluster.as_mut().unwrap().pinned_accounts = vec!["ACC1".into()];
        }
    }
    let mut net = Net::new(vec![a_cfg, b_cfg]);
    net.settle();
    let u = |n: &str| format!(r#"{{"verbose":false,"user":"{n}","pass":"p","protocol":1}}"#);
    let mut a1 = net.client(0, &u("u1"));
    a1.send(&mut net, "SUB s 1\r\n");
    let mut b2 = net.client(1, &u("u2"));
    b2.send(&mut net, "PUB s 1\r\nx\r\n");
    assert_eq!(a1.count("MSG s"), 0, "ACC2 leaked into ACC1");
    let mut b1 = net.client(1, &u("u1"));
    b1.send(&mut net, "PUB s 1\r\nx\r\n");
    assert_eq!(a1.count("MSG s 1 1"), 1);
    net
}

#[test]
fn gossip_asks_for_dials_to_new_members() {
    let mut net = Net::new(vec![
        base_config("A", vec![]),
        base_config("B", vec![url(0)]),
    ]);
    net.settle();
    net.add(2, base_config("C", vec![url(0)]));
    // C dials A; A tells B about C; B asks its runtime to dial C.
    let mut saw_dial_to_c = false;
    for _ in 0..50 {
        // Step by hand so the dial request itself can be seen.
        for l in net.links.iter_mut().filter(|l| !l.done) {
            if drain(l.solicit.shared(), &mut l.a_in) {
                l.accept.handle_input(&mut l.a_in, net.now);
            }
            if drain(l.accept.shared(), &mut l.s_in) {
                l.solicit.handle_input(&mut l.s_in, net.now);
            }
        }
        let dials = net.servers[1].routes().poll_dials(&waker());
        if dials
            .iter()
            .any(|d| d.url.port == cluster_port(2) && !d.explicit)
        {
            saw_dial_to_c = true;
        }
        for d in dials {
            net.servers[1].routes().requeue_dial(d);
        }
        net.dial();
        if saw_dial_to_c {
            break;
        }
    }
    assert!(saw_dial_to_c, "B never asked to dial C");
    net.settle();
    assert_eq!(net.servers[1].routes().peers().len(), 2);
    assert_eq!(net.servers[2].routes().peers().len(), 2);
}

#[test]
fn both_sides_dialling_keep_one_connection_per_slot() {
    let mut net = Net::new(vec![
        base_config("A", vec![url(1)]),
        base_config("B", vec![url(0)]),
    ]);
    net.settle();
    for s in &net.servers {
        assert_eq!(s.routes().len(), 4, "{}", s.name());
    }
    // Both ends kept the same connections.
    let mut a_rids: Vec<_> = net.servers[0]
        .routes()
        .routes()
        .iter()
        .map(|h| (format!("{:?}", h.slot), h.solicited))
        .collect();
    a_rids.sort();
    let mut b_rids: Vec<_> = net.servers[1]
        .routes()
        .routes()
        .iter()
        .map(|h| (format!("{:?}", h.slot), !h.solicited))
        .collect();
    b_rids.sort();
    assert_eq!(a_rids, b_rids);
    let mut a = net.client(0, PLAIN);
    a.send(&mut net, "SUB d 1\r\n");
    let mut b = net.client(1, PLAIN);
    b.send(&mut net, "PUB d 1\r\nx\r\n");
    assert_eq!(a.count("MSG d 1 1"), 1);
}

#[test]
fn a_route_to_self_is_dropped() {
    let mut net = Net::new(vec![base_config("A", vec![url(0)])]);
    net.settle();
    assert_eq!(net.servers[0].routes().len(), 0);
    assert!(
        net.servers[0].poll_route_dials(&waker()).is_empty(),
        "no redial to self"
    );
}

#[test]
fn wrong_route_credentials_are_refused() {
    let mut a_cfg = base_config("A", vec![]);
    a_cfg.cluster.as_mut().unwrap().auth = Some(RouteAuth {
        user: "ruser".into(),
        password: Secret::new("T0pS3cr3t"),
    });
    let mut bad = url(0);
    bad.user = Some("ruser".into());
    bad.password = Some("wrong".into());
    let mut net = Net::new(vec![a_cfg.clone(), base_config("B", vec![bad])]);
    net.settle();
    assert_eq!(net.servers[0].routes().len(), 0);
    let mut good = url(0);
    good.user = Some("ruser".into());
    good.password = Some("T0pS3cr3t".into());
    let mut net = Net::new(vec![a_cfg, base_config("B", vec![good])]);
    net.settle();
    assert_eq!(net.servers[0].routes().len(), 4);
}

#[test]
fn refusal_texts_match_the_reference() {
    let mut a_cfg = base_config("A", vec![]);
    a_cfg.cluster.as_mut().unwrap().auth = Some(RouteAuth {
        user: "ruser".into(),
        password: Secret::new("pw"),
    });
    let net = Net::new(vec![a_cfg]);
    let server = &net.servers[0];
    let mut conn = server.accept_route(Net::peer(9), net.now);
    let mut out = BytesMut::new();
    drain(conn.shared(), &mut out);
    assert!(out.starts_with(b"INFO {"), "{out:?}");
    assert!(String::from_utf8_lossy(&out).contains("\"auth_required\":true"));
    let mut input = BytesMut::from(
        &br#"CONNECT {"echo":true,"user":"ruser","pass":"bad","name":"X","cluster":"t"}"#[..],
    );
    input.extend_from_slice(b"\r\n");
    conn.handle_input(&mut input, net.now);
    out.clear();
    drain(conn.shared(), &mut out);
    assert_eq!(&out[..], b"-ERR 'Authorization Violation'\r\n");
    assert!(conn.close_reason().is_some());

    let net = Net::new(vec![base_config("A", vec![])]);
    let mut conn = net.servers[0].accept_route(Net::peer(9), net.now);
    let mut input = BytesMut::from(&br#"CONNECT {"echo":true,"name":"X","cluster":"other"}"#[..]);
    input.extend_from_slice(b"\r\n");
    conn.handle_input(&mut input, net.now);
    out.clear();
    drain(conn.shared(), &mut out);
    let text = String::from_utf8_lossy(&out);
    assert!(
        text.ends_with(
            "-ERR 'Rejecting connection, cluster name \"other\" does not match \"t\"'\r\n"
        ),
        "{text}"
    );
}

#[test]
fn a_generated_cluster_name_adopts_the_peers() {
    let mut b = base_config("B", vec![url(0)]);
    b.cluster.as_mut().unwrap().name = None;
    let mut net = Net::new(vec![base_config("A", vec![]), b]);
    assert!(net.servers[1].routes().cluster_name().1);
    net.settle();
    assert_eq!(
        net.servers[1].routes().cluster_name(),
        ("t".to_string(), false)
    );
    assert_eq!(net.servers[0].routes().len(), 4);
}

#[test]
fn a_lost_explicit_route_is_dialled_again_and_interest_removed() {
    let mut net = two();
    net.settle();
    let mut a = net.client(0, PLAIN);
    a.send(&mut net, "SUB r 1\r\n");
    assert_eq!(remote_count(&net.servers[1], "$G"), 1);
    net.kill(0);
    assert_eq!(net.servers[1].routes().len(), 0);
    assert_eq!(
        net.servers[1].global_account().sublist.count(),
        0,
        "remote interest left over"
    );
    // B retries A (explicit route) until it is back.
    net.failed.clear();
    net.now += std::time::Duration::from_secs(2);
    net.dial();
    assert!(net
        .failed
        .iter()
        .any(|d| d.url.port == cluster_port(0) && d.explicit));
    net.add(0, base_config("A", vec![]));
    net.now += std::time::Duration::from_secs(2);
    net.settle();
    assert_eq!(net.servers[1].routes().len(), 4);
    assert_eq!(
        remote_count(&net.servers[1], "$G"),
        0,
        "A came back without subscriptions"
    );
}

#[test]
fn clients_learn_cluster_urls() {
    let mut net = Net::new(vec![base_config("A", vec![])]);
    let mut a = net.client(0, PLAIN);
    net.add(1, base_config("B", vec![url(0)]));
    net.settle();
    let got = a.take();
    assert!(
        got.contains("\"connect_urls\":[\"127.0.0.1:14222\",\"127.0.0.1:14223\"]"),
        "{got}"
    );
}

#[test]
fn route_permissions_limit_what_crosses() {
    use crate::auth::SubjectRules;
    use crate::config::RoutePermissions;
    let mut a_cfg = base_config("A", vec![]);
    a_cfg.cluster.as_mut().unwrap().permissions = Some(RoutePermissions {
        // A sends only `pub.>` to the cluster and accepts only `in.>` from it.
        export: Some(SubjectRules {
            allow: vec!["pub.>".into()],
            deny: vec![],
        }),
        import: Some(SubjectRules {
            allow: vec!["in.>".into()],
            deny: vec![],
        }),
    });
    let mut net = Net::new(vec![a_cfg, base_config("B", vec![url(0)])]);
    net.settle();
    let mut b = net.client(1, PLAIN);
    b.send(&mut net, "SUB pub.x 1\r\nSUB priv.x 2\r\n");
    let mut a = net.client(0, PLAIN);
    a.send(&mut net, "SUB in.x 1\r\nSUB other.x 2\r\n");
    a.send(&mut net, "PUB pub.x 1\r\n1\r\nPUB priv.x 1\r\n2\r\n");
    let got = b.take();
    assert_eq!(got.matches("MSG pub.x 1 1").count(), 1, "{got}");
    assert_eq!(got.matches("MSG priv.x").count(), 0, "{got}");
    // A announced only the interest it may import.
    let subjects: Vec<String> = net.servers[1]
        .routes()
        .routes()
        .iter()
        .flat_map(|h| h.subscription_subjects())
        .collect();
    assert_eq!(subjects, vec!["in.x".to_string()]);
    b.send(&mut net, "PUB in.x 1\r\n3\r\nPUB other.x 1\r\n4\r\n");
    let got = a.take();
    assert_eq!(got.matches("MSG in.x 1 1").count(), 1, "{got}");
    assert_eq!(got.matches("MSG other.x").count(), 0, "{got}");
}

/// Answers every system request with the server's name and turns client connects into
/// `$SYS.ACCOUNT.<acc>.CONNECT` advisories naming the server, through `publish_internal`.
#[derive(Debug)]
struct NameResponder;

impl crate::system::SystemHandler for NameResponder {
    fn handle(&self, server: &Server, event: crate::system::SystemEvent) {
        use crate::system::SystemEvent;
        let system = server.system_account();
        match event {
            SystemEvent::Request(r) => {
                server.publish_internal(&system, &r.reply, server.name().as_bytes());
            }
            SystemEvent::ClientConnect { account, .. } => {
                let subject = format!("$SYS.ACCOUNT.{account}.CONNECT");
                server.publish_internal(&system, subject.as_bytes(), server.name().as_bytes());
            }
            SystemEvent::ClientDisconnect { .. } => {}
        }
    }
}

fn with_system_users(mut c: ServerConfig) -> ServerConfig {
    c.auth.users = ["sys", "a"]
        .into_iter()
        .map(|u| User {
            username: u.into(),
            password: Secret::new(u),
            permissions: None,
            account: Some(if u == "sys" { "$SYS" } else { "A" }.into()),
        })
        .collect();
    c.accounts = ["$SYS", "A"]
        .into_iter()
        .map(|n| AccountConfig {
            name: n.into(),
            ..AccountConfig::default()
        })
        .collect();
    c
}

#[test]
fn system_requests_and_advisories_cross_routes() {
    let mut net = Net::new(vec![
        with_system_users(base_config("A", vec![])),
        with_system_users(base_config("B", vec![url(0)])),
        with_system_users(base_config("C", vec![url(0)])),
    ]);
    for s in &net.servers {
        s.set_system_handler(Arc::new(NameResponder));
    }
    net.settle();
    // Every server announced the request subjects it answers on its `$SYS` route only.
    let announced: Vec<String> = net.servers[0]
        .routes()
        .routes()
        .iter()
        .filter(|h| h.carries("$SYS"))
        .flat_map(|h| h.subscription_subjects())
        .collect();
    let b_id = net.servers[1].id().to_string();
    assert!(announced.contains(&"$SYS.REQ.SERVER.PING".to_string()));
    assert!(announced.contains(&format!("$SYS.REQ.SERVER.{b_id}.VARZ")));
    assert_eq!(remote_count(&net.servers[0], "A"), 0);
    let sys = r#"{"verbose":false,"user":"sys","pass":"sys","headers":true}"#;
    let mut req = net.client(0, sys);
    req.send(
        &mut net,
        "SUB _INBOX.r 1\r\nPUB $SYS.REQ.SERVER.PING _INBOX.r 0\r\n\r\n",
    );
    let got = req.take();
    // One answer per server: A's own and one from each peer.
    for name in ["A", "B", "C"] {
        assert_eq!(
            got.matches(&format!("MSG _INBOX.r 1 1\r\n{name}\r\n"))
                .count(),
            1,
            "{got}"
        );
    }
    assert_eq!(got.matches("MSG _INBOX.r").count(), 3, "{got}");
    // A request for one server by id is answered by that server only.
    req.send(
        &mut net,
        &format!("PUB $SYS.REQ.SERVER.{b_id}.VARZ _INBOX.r 0\r\n\r\n"),
    );
    assert_eq!(req.take(), "MSG _INBOX.r 1 1\r\nB\r\n");
    // A client connecting to C is announced to A's system subscribers.
    req.send(&mut net, "SUB $SYS.ACCOUNT.*.CONNECT 2\r\nPING\r\n");
    req.take();
    let _a = net.client(2, r#"{"verbose":false,"user":"a","pass":"a"}"#);
    net.settle();
    assert_eq!(req.take(), "MSG $SYS.ACCOUNT.A.CONNECT 2 1\r\nC\r\n");
    // The same subject published in another account is no request.
    let mut other = net.client(1, r#"{"verbose":false,"user":"a","pass":"a"}"#);
    other.send(
        &mut net,
        "SUB _INBOX.r 1\r\nPUB $SYS.REQ.SERVER.PING _INBOX.r 0\r\n\r\n",
    );
    assert_eq!(other.take(), "");
}

#[test]
fn routed_messages_are_counted_as_the_reference() {
    use std::sync::atomic::Ordering::Relaxed;
    let mut net = two();
    net.settle();
    let mut a = net.client(0, PLAIN);
    a.send(&mut net, "SUB foo 1\r\nSUB foo 2\r\n");
    let mut b = net.client(1, PLAIN);
    b.send(&mut net, "SUB foo 1\r\n");
    b.send(
        &mut net,
        "PUB foo 3\r\nabc\r\nPUB foo 3\r\nabc\r\nPUB bar 3\r\nabc\r\n",
    );
    assert_eq!(a.count("MSG foo"), 4);
    let stats = |i: usize| {
        let s = &net.servers[i].stats;
        [&s.in_msgs, &s.in_bytes, &s.out_msgs, &s.out_bytes].map(|c| c.load(Relaxed))
    };
    // B: three messages in; two to its subscriber and two to the route out.
    assert_eq!(stats(1), [3, 9, 4, 12]);
    // A: the two routed messages in, four deliveries out.
    assert_eq!(stats(0), [2, 6, 4, 12]);
    // Each route connection counts a routed message once.
    let route_in: u64 = net.servers[0]
        .routes()
        .routes()
        .iter()
        .map(|h| h.shared.snapshot().in_msgs)
        .sum();
    assert_eq!(route_in, 2);
}

#[test]
fn reload_removes_and_adds_routes_and_refuses_a_new_port() {
    let mut net = Net::new(vec![
        base_config("A", vec![url(1)]),
        base_config("B", vec![]),
    ]);
    net.settle();
    assert_eq!(net.servers[0].routes().len(), 4);
    let with_routes = |routes: Vec<RouteUrl>, name: &str| {
        let mut c = base_config("A", routes);
        c.cluster.as_mut().unwrap().name = Some(name.to_string());
        c
    };
    // Removed: every connection of the route closes and nobody dials it again.
    let outcome = net.servers[0].reload(with_routes(vec![], "t")).unwrap();
    assert_eq!(outcome.cluster.removed_routes, vec![url(1); 4]);
    assert_eq!(outcome.cluster.name, None);
    net.settle();
    assert_eq!(net.servers[0].routes().len(), 0);
    assert_eq!(net.servers[1].routes().len(), 0);
    // Added again, under a new cluster name: dialled, and the name is in force.
    let outcome = net.servers[0]
        .reload(with_routes(vec![url(1)], "t"))
        .unwrap();
    assert!(outcome.cluster.removed_routes.is_empty());
    net.settle();
    assert_eq!(net.servers[0].routes().len(), 4);
    let outcome = net.servers[0]
        .reload(with_routes(vec![url(1)], "t2"))
        .unwrap();
    assert_eq!(outcome.cluster.name.as_deref(), Some("t2"));
    assert_eq!(net.servers[0].routes().cluster_name().0, "t2");
    // The cluster listener cannot move.
    let mut moved = with_routes(vec![url(1)], "t2");
    moved.cluster.as_mut().unwrap().port = 7000;
    let old_port = net.servers[0].config().cluster.as_ref().unwrap().port;
    assert_eq!(
        net.servers[0].reload(moved).unwrap_err().to_string(),
        format!("config reload not supported for cluster port: old={old_port}, new=7000")
    );
}

fn with_pool(name: &str, routes: Vec<RouteUrl>, pool_size: usize) -> ServerConfig {
    let mut config = base_config(name, routes);
    if let Some(cluster) = config.cluster.as_mut() {
        cluster.pool_size = pool_size;
    }
    config
}

/// Subscribes on each server in turn and publishes on the other: every message crosses.
fn messages_cross_both_ways(net: &mut Net) {
    for (sub_on, pub_on) in [(0, 1), (1, 0)] {
        let mut subscriber = net.client(sub_on, PLAIN);
        subscriber.send(net, "SUB cross 1\r\n");
        let mut publisher = net.client(pub_on, PLAIN);
        publisher.send(net, &"PUB cross 1\r\nx\r\n".repeat(20));
        assert_eq!(
            subscriber.count("MSG cross 1 1"),
            20,
            "published on {pub_on}, subscribed on {sub_on}"
        );
    }
}

#[test]
fn different_pool_sizes_connect_with_the_larger_pool() {
    for (a, b) in [(5, 3), (3, 5)] {
        let mut net = Net::new(vec![
            with_pool("A", vec![], a),
            with_pool("B", vec![url(0)], b),
        ]);
        net.settle();
        // Five pooled connections and the `$SYS` one on both sides, whoever dialled.
        assert_eq!(net.servers[0].routes().len(), 6, "pools {a} and {b}");
        assert_eq!(net.servers[1].routes().len(), 6, "pools {a} and {b}");
        messages_cross_both_ways(&mut net);
    }
}

#[test]
fn pooling_disabled_on_one_side_still_sends_interest() {
    for (a, b) in [(0, 3), (3, 0)] {
        let mut net = Net::new(vec![
            with_pool("A", vec![], a),
            with_pool("B", vec![url(0)], b),
        ]);
        net.settle();
        // One connection that carries every account.
        assert_eq!(net.servers[0].routes().len(), 1, "pools {a} and {b}");
        assert_eq!(net.servers[1].routes().len(), 1, "pools {a} and {b}");
        messages_cross_both_ways(&mut net);
    }
}

/// Connects a fresh connection `dialled` from `from` to `to` and shuttles bytes until
/// nothing moves or one end closes; returns (solicited, accepted) after both ended.
fn refused_pair(net: &Net, from: usize, to: usize, route: RouteUrl) -> (Vec<String>, Vec<String>) {
    let dial = RouteDial::new(route, super::RouteSlot::Pool(0), false);
    let mut accept = net.servers[to].accept_route(Net::peer(from), net.now);
    let mut solicit = net.servers[from].solicit_route(
        dial,
        SocketAddr::from(([127, 0, 0, 1], cluster_port(to))),
        net.now,
    );
    let (mut s_in, mut a_in) = (BytesMut::new(), BytesMut::new());
    for _ in 0..20 {
        let mut moved = false;
        if drain(solicit.shared(), &mut a_in) {
            moved = true;
            accept.handle_input(&mut a_in, net.now);
        }
        if drain(accept.shared(), &mut s_in) {
            moved = true;
            solicit.handle_input(&mut s_in, net.now);
        }
        if !moved {
            break;
        }
    }
    solicit.handle_read_closed(crate::CloseReason::ClientClosed);
    accept.handle_read_closed(crate::CloseReason::ClientClosed);
    solicit.finish(net.now);
    accept.finish(net.now);
    let texts = |c: &mut RouteConn| c.drain_log().map(|e| e.text).collect::<Vec<_>>();
    (texts(&mut solicit), texts(&mut accept))
}

fn has(lines: &[String], needle: &str) -> bool {
    lines.iter().any(|l| l.contains(needle))
}

#[test]
fn refused_route_logs_in_the_references_words() {
    let mut a_cfg = base_config("A", vec![]);
    a_cfg.cluster.as_mut().unwrap().auth = Some(RouteAuth {
        user: "ruser".into(),
        password: Secret::new("T0pS3cr3t"),
    });
    let mut other = base_config("C", vec![]);
    other.cluster.as_mut().unwrap().name = Some("other".into());
    let net = Net::new(vec![a_cfg, base_config("B", vec![]), other]);
    let mut bad = url(0);
    bad.user = Some("ruser".into());
    bad.password = Some("wrong".into());
    let (solicited, accepted) = refused_pair(&net, 1, 0, bad);
    assert!(
        has(&accepted, "authentication error - User \"ruser\""),
        "{accepted:?}"
    );
    assert!(
        has(&solicited, "Route Error 'Authorization Violation'"),
        "{solicited:?}"
    );
    assert!(
        has(&solicited, "Router connection closed: Parse Error"),
        "{solicited:?}"
    );
    assert!(
        solicited.iter().any(|l| l
            == "Attempting reconnect for solicited route \"nats-route://ruser:xxxxx@127.0.0.1:16222\""),
        "{solicited:?}"
    );
    // Another configured cluster name: the dialler closes on the acceptor's INFO.
    let (solicited, accepted) = refused_pair(&net, 2, 1, url(1));
    assert!(
        has(
            &solicited,
            "Router connection closed: Cluster Name Conflict"
        ),
        "{solicited:?}"
    );
    assert!(
        has(&accepted, "Router connection closed: Cluster Name Conflict"),
        "{accepted:?}"
    );
}

#[test]
fn a_generated_cluster_name_is_updated_in_the_references_words() {
    let mut b = base_config("B", vec![]);
    b.cluster.as_mut().unwrap().name = None;
    let net = Net::new(vec![base_config("A", vec![]), b]);
    let (solicited, _) = refused_pair(&net, 1, 0, url(0));
    assert!(
        solicited.iter().any(|l| l == "Cluster name updated to t"),
        "{solicited:?}"
    );
}

#[test]
fn a_generated_cluster_name_is_22_random_characters() {
    let mut a = base_config("A", vec![]);
    a.cluster.as_mut().unwrap().name = None;
    let net = Net::new(vec![a]);
    let (name, dynamic) = net.servers[0].routes().cluster_name();
    assert!(dynamic);
    assert_eq!(name.len(), 22, "{name}");
    assert!(name.chars().all(|c| c.is_ascii_alphanumeric()), "{name}");
    // No half of it is padding: both halves vary.
    for half in [&name[..11], &name[11..]] {
        let distinct: std::collections::HashSet<char> = half.chars().collect();
        assert!(distinct.len() >= 5, "{name}");
    }
}

#[test]
fn the_pool_fills_after_each_pong_and_pings_start_within_a_second() {
    let mut configs = vec![base_config("A", vec![]), base_config("B", vec![url(0)])];
    for c in configs.iter_mut() {
        c.trace = true;
    }
    let mut net = Net::new(configs);
    net.settle();
    assert_eq!(net.servers[1].routes().len(), 4);
    let first = net
        .links
        .iter_mut()
        .find(|l| l.dialler == 1 && l.solicit.shared().outbound.close_reason().is_none())
        .expect("a link dialled by B");
    let lines: Vec<String> = first.solicit.drain_log().map(|e| e.text).collect();
    let ping = lines.iter().position(|l| l.ends_with("->> [PING]"));
    let pong = lines.iter().position(|l| l.ends_with("<<- [PONG]"));
    assert!(
        matches!((ping, pong), (Some(a), Some(b)) if a < b),
        "{lines:?}"
    );
    // The first ping timer fires within 1.2 s (1 s and up to a fifth more).
    let at = first.solicit.poll_timeout().expect("a timer");
    assert!(at <= net.now + std::time::Duration::from_millis(1200));
    first
        .solicit
        .handle_timeout(net.now + std::time::Duration::from_millis(1200));
    let lines: Vec<String> = first.solicit.drain_log().map(|e| e.text).collect();
    assert!(has(&lines, "Router Ping Timer"), "{lines:?}");
}
