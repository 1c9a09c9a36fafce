//! Builders over a server driven without sockets.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::BytesMut;

use super::*;
use crate::{Client, CloseReason, Server, ServerConfig, ServerSeed};

const SEED: ServerSeed = ServerSeed {
    identity: [3; 32],
    rng: 9,
};

fn ctx(now: Instant) -> Context {
    Context {
        clock: Clock {
            now,
            wall: SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000),
        },
        http: HttpListen {
            host: "127.0.0.1".into(),
            port: 8222,
            ..HttpListen::default()
        },
        process: ProcessStats::default(),
        http_req_stats: BTreeMap::new(),
        tls_cert_not_after: None,
    }
}

fn connect(server: &Arc<Server>, port: u16, input: &str, now: Instant) -> Client {
    let peer = SocketAddr::from(([127, 0, 0, 1], port));
    let mut c = server.accept(peer, now);
    let mut buf = BytesMut::from(input.as_bytes());
    c.handle_input(&mut buf, now);
    c
}

/// A subscriber (2 subscriptions), a publisher of 3 × 5 bytes, and a closed client.
fn situation() -> (Arc<Server>, Instant, Vec<Client>) {
    let t0 = Instant::now();
    let server = Server::new(ServerConfig::default(), SEED, t0);
    let sub = connect(
        &server,
        1001,
        "CONNECT {\"verbose\":false,\"name\":\"s\"}\r\nSUB foo 1\r\nSUB bar.* q 2\r\n",
        t0,
    );
    let publisher = connect(
        &server,
        1002,
        "CONNECT {\"verbose\":false}\r\nPUB foo 5\r\nhello\r\nPUB foo 5\r\nhello\r\nPUB foo 5\r\nhello\r\n",
        t0 + Duration::from_secs(1),
    );
    let mut gone = connect(&server, 1003, "CONNECT {}\r\n", t0);
    gone.handle_read_closed(CloseReason::ClientClosed);
    gone.finish(t0 + Duration::from_secs(2));
    (server, t0 + Duration::from_secs(5), vec![sub, publisher])
}

#[test]
fn varz_counts_messages_and_connections() {
    let (server, now, _clients) = situation();
    let v = varz(&server, &ctx(now));
    assert_eq!(
        (v.in_msgs, v.in_bytes, v.out_msgs, v.out_bytes),
        (3, 15, 3, 15)
    );
    assert_eq!((v.connections, v.total_connections), (2, 3));
    assert_eq!(v.subscriptions, 2);
    assert_eq!(v.uptime, "5s");
    assert_eq!(v.now, "2027-01-15T08:00:00Z");
    assert_eq!(v.http_port, 8222);
}

#[test]
fn connz_sorts_pages_and_filters() {
    let (server, now, _clients) = situation();
    let c = ctx(now);
    let all = connz(&server, &ConnzOptions::default(), &c).unwrap_or_else(|e| panic!("{e}"));
    let conns = all.connections.unwrap_or_default();
    assert_eq!(conns.iter().map(|i| i.cid).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(conns[0].out_msgs, 3);
    assert_eq!(conns[0].name.as_deref(), Some("s"));
    assert_eq!(conns[1].in_bytes, 15);
    assert_eq!(conns[1].uptime, "4s");

    let opts = ConnzOptions {
        sort: SortOpt::MsgsFrom,
        limit: 1,
        ..ConnzOptions::default()
    };
    let top = connz(&server, &opts, &c).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((top.total, top.num_connections, top.limit), (2, 1, 1));
    assert_eq!(top.connections.unwrap_or_default()[0].cid, 2);

    let opts = ConnzOptions {
        state: ConnState::All,
        offset: 2,
        ..ConnzOptions::default()
    };
    let tail = connz(&server, &opts, &c).unwrap_or_else(|e| panic!("{e}"));
    let tail = tail.connections.unwrap_or_default();
    assert_eq!(tail.len(), 1);
    assert_eq!(tail[0].reason.as_deref(), Some("Client Closed"));
    assert_eq!(tail[0].uptime, "2s");

    let opts = ConnzOptions {
        subs_detail: true,
        cid: 1,
        ..ConnzOptions::default()
    };
    let one = connz(&server, &opts, &c).unwrap_or_else(|e| panic!("{e}"));
    let detail = one.connections.unwrap_or_default()[0]
        .subscriptions_list_detail
        .clone()
        .unwrap_or_default();
    let foo = detail.iter().find(|d| d.subject == "foo");
    assert_eq!(foo.map(|d| d.msgs), Some(3));
    assert!(detail.iter().any(|d| d.qgroup.as_deref() == Some("q")));

    let unknown = ConnzOptions {
        account: Some("nope".into()),
        ..ConnzOptions::default()
    };
    let doc = connz(&server, &unknown, &c).unwrap_or_else(|e| panic!("{e}"));
    assert!(doc.connections.is_none() && doc.server_id.is_empty());

    let bad = ConnzOptions {
        sort: SortOpt::Stop,
        ..ConnzOptions::default()
    };
    assert_eq!(
        connz(&server, &bad, &c).err(),
        Some(MonitorError::SortNeedsClosed("stop"))
    );
}

#[test]
fn subsz_lists_and_tests_subjects() {
    let (server, now, _clients) = situation();
    let c = ctx(now);
    let opts = SubszOptions {
        subs: true,
        test: Some("bar.x".into()),
        ..SubszOptions::default()
    };
    let s = subsz(&server, &opts, &c).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.total, 1);
    let list = s.subscriptions_list.unwrap_or_default();
    assert_eq!(list[0].subject, "bar.*");
    assert_eq!(list[0].account.as_deref(), Some(GLOBAL_ACCOUNT));
    let bad = SubszOptions {
        test: Some("foo.*".into()),
        ..SubszOptions::default()
    };
    assert!(matches!(
        subsz(&server, &bad, &c),
        Err(MonitorError::InvalidTestSubject(_))
    ));
}

#[test]
fn accounts_and_metrics() {
    let (server, now, _clients) = situation();
    let c = ctx(now);
    let st = accstatz(&server, false, &c);
    assert_eq!(st.account_statz.len(), 1);
    assert_eq!(st.account_statz[0].received.msgs, 3);
    assert_eq!(accstatz(&server, true, &c).account_statz.len(), 2);
    let detail = accountz(
        &server,
        &AccountzOptions {
            account: Some("$G".into()),
        },
        &c,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(detail.account_detail.map(|d| d.client_connections), Some(2));
    let text = metrics::render(&server, &c);
    let id = server.id();
    assert!(text.contains(&format!("gnatsd_varz_in_bytes{{server_id=\"{id}\"}} 15\n")));
    assert!(text.contains("account=\"$SYS\""));
}

fn input(c: &mut Client, text: &str, now: Instant) {
    let mut buf = BytesMut::from(text.as_bytes());
    c.handle_input(&mut buf, now);
}

/// Whether the server queued a PING for `c` since the last call.
fn pinged(c: &Client) -> bool {
    let mut out = BytesMut::new();
    let mut text = String::new();
    while let crate::Transmit::Data = c
        .shared()
        .outbound
        .poll_transmit(&mut out, std::task::Waker::noop())
    {
        text.push_str(&String::from_utf8_lossy(&out));
        out.clear();
        c.shared().outbound.handle_written();
    }
    text.contains("PING\r\n")
}

fn rtt_of(server: &Server, cid: u64, now: Instant) -> String {
    let opts = ConnzOptions {
        cid,
        state: ConnState::All,
        ..ConnzOptions::default()
    };
    let doc = connz(server, &opts, &ctx(now)).unwrap_or_else(|e| panic!("{e}"));
    doc.connections.unwrap_or_default()[0].rtt.clone()
}

#[test]
fn rtt_from_connect_then_from_each_answered_server_ping() {
    let t0 = Instant::now();
    let server = Server::new(ServerConfig::default(), SEED, t0);
    let mut c = server.accept(SocketAddr::from(([127, 0, 0, 1], 1)), t0);
    let cid = c.shared().cid;
    assert_eq!(
        rtt_of(&server, cid, t0),
        "0s",
        "not measured before CONNECT"
    );
    // CONNECT gives the first estimate: accept (INFO sent) to CONNECT.
    input(
        &mut c,
        "CONNECT {}\r\n",
        t0 + Duration::from_nanos(3_133_692),
    );
    assert_eq!(rtt_of(&server, cid, t0), "3.133692ms");
    // A PONG nobody asked for measures nothing.
    input(&mut c, "PONG\r\n", t0 + Duration::from_secs(1));
    assert_eq!(rtt_of(&server, cid, t0), "3.133692ms");
    // The first keepalive PING, answered 831.457 µs later: shown in whole microseconds.
    let ping = c.poll_timeout().unwrap_or(t0);
    c.handle_timeout(ping);
    assert!(pinged(&c));
    input(&mut c, "PONG\r\n", ping + Duration::from_nanos(831_457));
    assert_eq!(rtt_of(&server, cid, ping), "831µs");
    // The closed connection keeps its last round-trip time.
    c.finish(ping + Duration::from_secs(1));
    let closed = connz(
        &server,
        &ConnzOptions {
            state: ConnState::Closed,
            ..ConnzOptions::default()
        },
        &ctx(ping),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(closed.connections.unwrap_or_default()[0].rtt, "831µs");
}

#[test]
fn sort_by_rtt_descends() {
    let t0 = Instant::now();
    let server = Server::new(ServerConfig::default(), SEED, t0);
    let mut clients = Vec::new();
    for (port, micros) in [(1, 500), (2, 9_000), (3, 40)] {
        let mut c = server.accept(SocketAddr::from(([127, 0, 0, 1], port)), t0);
        input(&mut c, "CONNECT {}\r\n", t0 + Duration::from_micros(micros));
        clients.push(c);
    }
    let opts = ConnzOptions {
        sort: SortOpt::Rtt,
        ..ConnzOptions::default()
    };
    let doc = connz(&server, &opts, &ctx(t0)).unwrap_or_else(|e| panic!("{e}"));
    let order: Vec<(u64, String)> = doc
        .connections
        .unwrap_or_default()
        .into_iter()
        .map(|c| (c.cid, c.rtt))
        .collect();
    assert_eq!(
        order,
        [(2, "9ms".into()), (1, "500µs".into()), (3, "40µs".into())]
    );
}

#[test]
fn an_active_client_is_pinged_again_once_its_rtt_is_an_hour_old() {
    let t0 = Instant::now();
    let server = Server::new(ServerConfig::default(), SEED, t0);
    let mut c = server.accept(SocketAddr::from(([127, 0, 0, 1], 1)), t0);
    input(&mut c, "CONNECT {\"verbose\":false}\r\n", t0);
    let first = c.poll_timeout().unwrap_or(t0);
    c.handle_timeout(first);
    assert!(pinged(&c));
    input(&mut c, "PONG\r\n", first);
    // Busy for a while: every keepalive tick sees data, so no PING until the last
    // measurement is more than an hour old.
    let mut pings = Vec::new();
    for _ in 0..40 {
        let at = c.poll_timeout().unwrap_or(t0);
        input(&mut c, "PUB x 0\r\n\r\n", at);
        c.handle_timeout(at);
        if pinged(&c) {
            pings.push(at.saturating_duration_since(first));
            input(&mut c, "PONG\r\n", at);
        }
    }
    // Ticks every 2 minutes: the first after more than an hour is at 62 minutes.
    assert_eq!(
        pings.first().copied(),
        Some(Duration::from_secs(62 * 60)),
        "{pings:?}"
    );
    assert_eq!(c.close_reason(), None);
}

#[test]
fn closed_connections_keep_their_subscriptions() {
    let t0 = Instant::now();
    let server = Server::new(ServerConfig::default(), SEED, t0);
    let mut c = server.accept(SocketAddr::from(([127, 0, 0, 1], 1)), t0);
    input(
        &mut c,
        "CONNECT {}\r\nSUB a.> 1\r\nSUB b q 2\r\nSUB gone 3\r\nUNSUB 3\r\n",
        t0,
    );
    c.finish(t0 + Duration::from_secs(1));
    assert_eq!(server.num_subscriptions(), 0, "removed from the index");
    let closed = |subs, subs_detail| {
        let opts = ConnzOptions {
            state: ConnState::Closed,
            subs,
            subs_detail,
            ..ConnzOptions::default()
        };
        let doc = connz(&server, &opts, &ctx(t0)).unwrap_or_else(|e| panic!("{e}"));
        doc.connections.unwrap_or_default().remove(0)
    };
    let plain = closed(false, false);
    assert_eq!(plain.subscriptions, 2);
    assert!(plain.subscriptions_list.is_none() && plain.subscriptions_list_detail.is_none());
    let mut list = closed(true, false).subscriptions_list.unwrap_or_default();
    list.sort();
    assert_eq!(list, ["a.>", "b"]);
    let mut detail = closed(false, true)
        .subscriptions_list_detail
        .unwrap_or_default();
    detail.sort_by(|x, y| x.sid.cmp(&y.sid));
    assert_eq!(detail.len(), 2);
    assert_eq!(detail[1].qgroup.as_deref(), Some("q"));
    assert_eq!(detail[0].account.as_deref(), Some(GLOBAL_ACCOUNT));
    assert_eq!(detail[0].account_tag.as_deref(), Some(GLOBAL_ACCOUNT));
    assert_eq!(detail[0].cid, 1);
}

/// A server with a user `a` in account `A` and a user `g` in `$G`, both connected with a
/// subscription, and a closed connection of `a` that held one.
fn accounts_situation() -> (Arc<Server>, Instant, Vec<Client>) {
    use crate::auth::{AuthConfig, Secret, User};
    let t0 = Instant::now();
    let user = |name: &str, account: Option<&str>| User {
        username: name.into(),
        password: Secret::new(name.to_string()),
        permissions: None,
        account: account.map(str::to_string),
    };
    let config = ServerConfig {
        auth: AuthConfig {
            users: vec![user("a", Some("A")), user("g", None)],
            ..AuthConfig::default()
        },
        accounts: vec![crate::AccountConfig {
            name: "A".into(),
            ..crate::AccountConfig::default()
        }],
        ..ServerConfig::default()
    };
    let server = Server::new(config, SEED, t0);
    let login = |port, name: &str, sub: &str| {
        connect(
            &server,
            port,
            &format!("CONNECT {{\"user\":\"{name}\",\"pass\":\"{name}\"}}\r\nSUB {sub} 1\r\n"),
            t0,
        )
    };
    let a = login(1, "a", "s.a");
    let g = login(2, "g", "s.g");
    let mut gone = login(3, "a", "c.a");
    gone.finish(t0 + Duration::from_secs(1));
    (server, t0, vec![a, g])
}

#[test]
fn connz_shows_and_filters_users_and_accounts() {
    let (server, now, _clients) = accounts_situation();
    let c = ctx(now);
    let list = |opts: ConnzOptions| {
        let doc = connz(&server, &opts, &c).unwrap_or_else(|e| panic!("{e}"));
        let total = doc.total;
        (total, doc.connections.unwrap_or_default())
    };
    let (_, all) = list(ConnzOptions {
        auth: true,
        ..ConnzOptions::default()
    });
    let shown: Vec<_> = all
        .iter()
        .map(|i| {
            (
                i.cid,
                i.authorized_user.as_deref(),
                i.account.as_deref(),
                i.name_tag.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            (1, Some("a"), Some("A"), Some("A")),
            (2, Some("g"), None, Some(GLOBAL_ACCOUNT))
        ]
    );
    let (total, only_a) = list(ConnzOptions {
        account: Some("A".into()),
        ..ConnzOptions::default()
    });
    assert_eq!((total, only_a.len(), only_a[0].cid), (1, 1, 1));
    assert!(only_a[0].authorized_user.is_none(), "only with auth=1");
    // The total counts before the user filter, as the reference's does.
    let (total, by_user) = list(ConnzOptions {
        user: Some("g".into()),
        ..ConnzOptions::default()
    });
    assert_eq!((total, by_user.len(), by_user[0].cid), (2, 1, 2));
    // Closed connections keep user and account; `$G` ones have none to filter on.
    let (_, closed) = list(ConnzOptions {
        state: ConnState::Closed,
        account: Some("A".into()),
        auth: true,
        subs_detail: true,
        ..ConnzOptions::default()
    });
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0].authorized_user.as_deref(), Some("a"));
    assert_eq!(closed[0].account.as_deref(), Some("A"));
    let detail = closed[0]
        .subscriptions_list_detail
        .clone()
        .unwrap_or_default();
    assert_eq!(detail[0].account.as_deref(), Some("A"));
    let (total, none) = list(ConnzOptions {
        state: ConnState::Closed,
        account: Some(GLOBAL_ACCOUNT.into()),
        ..ConnzOptions::default()
    });
    assert_eq!((total, none.len()), (0, 0));
    let unknown = connz(
        &server,
        &ConnzOptions {
            account: Some("nope".into()),
            ..ConnzOptions::default()
        },
        &c,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(unknown.connections.is_none() && unknown.server_id.is_empty());
}

#[test]
fn accounts_are_listed_with_their_own_usage() {
    let (server, now, _clients) = accounts_situation();
    let c = ctx(now);
    let doc = accountz(&server, &AccountzOptions::default(), &c).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        doc.accounts.unwrap_or_default(),
        ["$G", "$SYS", "A"].map(String::from)
    );
    let one = |name: &str| {
        accountz(
            &server,
            &AccountzOptions {
                account: Some(name.into()),
            },
            &c,
        )
        .unwrap_or_else(|e| panic!("{e}"))
        .account_detail
        .unwrap_or_else(|| panic!("no detail for {name}"))
    };
    let a = one("A");
    assert_eq!(
        (a.client_connections, a.subscriptions, a.is_system),
        (1, 1, false)
    );
    assert!(one(SYSTEM_ACCOUNT).is_system);
    let statz = accstatz(&server, false, &c);
    let per: Vec<_> = statz
        .account_statz
        .iter()
        .map(|s| (s.acc.as_str(), s.conns, s.num_subscriptions))
        .collect();
    assert_eq!(per, [("$G", 1, 1), ("A", 1, 1)]);
    assert_eq!(accstatz(&server, true, &c).account_statz.len(), 3);
    let subs = subsz(
        &server,
        &SubszOptions {
            subs: true,
            ..SubszOptions::default()
        },
        &c,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut seen: Vec<_> = subs
        .subscriptions_list
        .unwrap_or_default()
        .into_iter()
        .map(|d| (d.account.unwrap_or_default(), d.subject))
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("$G".to_string(), "s.g".to_string()),
            ("A".into(), "s.a".into())
        ]
    );
    assert_eq!(subs.stats.num_subscriptions, 2);
}

#[test]
fn stale_connections_are_counted() {
    let t0 = Instant::now();
    let server = Server::new(ServerConfig::default(), SEED, t0);
    let mut c = connect(&server, 1, "CONNECT {}\r\n", t0);
    // PINGs nobody answers: the third tick closes the connection as stale.
    for _ in 0..3 {
        let at = c.poll_timeout().unwrap_or(t0);
        c.handle_timeout(at);
    }
    assert_eq!(c.close_reason(), Some(CloseReason::StaleConnection));
    let v = varz(&server, &ctx(t0));
    assert_eq!(v.stale_connections, 1);
    assert_eq!(v.stale_connection_stats.clients, 1);
}
