//! Engine behaviour without sockets: bytes and instants in, bytes out.

use std::net::SocketAddr;
use std::sync::Arc;
use std::task::Waker;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use engine::{Client, CloseReason, Server, ServerConfig, ServerSeed, Transmit};

const SEED: ServerSeed = ServerSeed {
    identity: [7; 32],
    rng: 42,
};

fn server_with(config: ServerConfig) -> (Arc<Server>, Instant) {
    let now = Instant::now();
    (Server::new(config, SEED, now), now)
}

fn server() -> (Arc<Server>, Instant) {
    server_with(ServerConfig::default())
}

fn peer() -> SocketAddr {
    "127.0.0.1:50000".parse().unwrap()
}

/// Everything queued for the client so far, as text.
fn drain(c: &Client) -> String {
    let mut out = BytesMut::new();
    let mut text = String::new();
    for _ in 0..1000 {
        match c.shared().outbound.poll_transmit(&mut out, Waker::noop()) {
            Transmit::Data => {
                text.push_str(&String::from_utf8_lossy(&out));
                out.clear();
                c.shared().outbound.handle_written();
            }
            Transmit::Idle | Transmit::Close(_) => break,
        }
    }
    text
}

fn send(c: &mut Client, bytes: &str, now: Instant) {
    let mut buf = BytesMut::from(bytes.as_bytes());
    c.handle_input(&mut buf, now);
}

/// A connected, non-verbose client with its INFO drained.
fn client(s: &Arc<Server>, now: Instant, connect: &str) -> Client {
    let mut c = s.accept(peer(), now);
    let info = drain(&c);
    assert!(info.starts_with("INFO {"), "{info}");
    send(&mut c, &format!("CONNECT {connect}\r\n"), now);
    c
}

const QUIET: &str = r#"{"verbose":false,"pedantic":false}"#;

#[test]
fn info_first_with_client_fields() {
    let (s, now) = server();
    let c = s.accept(peer(), now);
    let info = drain(&c);
    assert!(
        info.starts_with("INFO {") && info.ends_with("} \r\n"),
        "{info}"
    );
    let json: serde_json::Value = serde_json::from_str(&info[5..info.len() - 3]).unwrap();
    assert_eq!(json["client_id"], c.cid());
    assert_eq!(json["client_ip"], "127.0.0.1");
    assert_eq!(json["max_payload"], 1048576);
    assert_eq!(json["headers"], true);
    assert_eq!(json["proto"], 1);
    assert!(json["server_id"].as_str().unwrap().starts_with('N'));
}

#[test]
fn verbose_is_the_default_until_connect() {
    let (s, now) = server();
    let mut c = s.accept(peer(), now);
    drain(&c);
    send(&mut c, "SUB foo 1\r\nPUB foo 2\r\nhi\r\nPING\r\n", now);
    assert_eq!(drain(&c), "+OK\r\n+OK\r\nMSG foo 1 2\r\nhi\r\nPONG\r\n");
    send(
        &mut c,
        &format!("CONNECT {QUIET}\r\nPUB foo 1\r\nx\r\n"),
        now,
    );
    assert_eq!(drain(&c), "MSG foo 1 1\r\nx\r\n");
}

#[test]
fn pub_sub_between_clients_with_wildcards() {
    let (s, now) = server();
    let mut sub = client(&s, now, QUIET);
    let mut publ = client(&s, now, QUIET);
    send(&mut sub, "SUB foo.* 1\r\nSUB foo.> 2\r\nSUB bar 3\r\n", now);
    send(
        &mut publ,
        "PUB foo.bar reply.x 5\r\nhello\r\nPUB foo.bar.baz 0\r\n\r\n",
        now,
    );
    assert_eq!(
        drain(&sub),
        // The reference's order: `foo.>` before `foo.*`.
        "MSG foo.bar 2 reply.x 5\r\nhello\r\nMSG foo.bar 1 reply.x 5\r\nhello\r\nMSG foo.bar.baz 2 0\r\n\r\n"
    );
    assert_eq!(drain(&publ), "");
    assert_eq!(
        s.stats.in_msgs.load(std::sync::atomic::Ordering::Relaxed),
        2
    );
    assert_eq!(
        s.stats.out_msgs.load(std::sync::atomic::Ordering::Relaxed),
        3
    );
}

#[test]
fn queue_group_delivers_each_message_once() {
    let (s, now) = server();
    let mut members: Vec<Client> = (0..3).map(|_| client(&s, now, QUIET)).collect();
    for m in &mut members {
        send(m, "SUB work q 1\r\n", now);
    }
    let mut plain = client(&s, now, QUIET);
    send(&mut plain, "SUB work 9\r\n", now);
    let mut publ = client(&s, now, QUIET);
    for _ in 0..300 {
        send(&mut publ, "PUB work 1\r\nx\r\n", now);
    }
    let counts: Vec<usize> = members
        .iter()
        .map(|m| drain(m).matches("MSG work 1 1").count())
        .collect();
    assert_eq!(counts.iter().sum::<usize>(), 300, "{counts:?}");
    assert!(counts.iter().all(|&n| n > 0), "{counts:?}");
    assert_eq!(drain(&plain).matches("MSG work 9 1").count(), 300);
}

#[test]
fn auto_unsubscribe_is_exact() {
    let (s, now) = server();
    let mut sub = client(&s, now, QUIET);
    send(&mut sub, "SUB foo 1\r\nUNSUB 1 2\r\n", now);
    let mut publ = client(&s, now, QUIET);
    for _ in 0..5 {
        send(&mut publ, "PUB foo 1\r\nx\r\n", now);
    }
    assert_eq!(drain(&sub).matches("MSG foo 1 1").count(), 2);
    assert_eq!(s.num_subscriptions(), 0);
    // Limit already reached when UNSUB arrives: removed at once.
    send(&mut sub, "SUB bar 2\r\n", now);
    send(&mut publ, "PUB bar 1\r\nx\r\n", now);
    send(&mut sub, "UNSUB 2 1\r\n", now);
    assert_eq!(s.num_subscriptions(), 0);
    assert_eq!(drain(&sub).matches("MSG bar 2 1").count(), 1);
}

#[test]
fn echo_false_skips_own_messages() {
    let (s, now) = server();
    let mut c = client(&s, now, r#"{"verbose":false,"echo":false}"#);
    let mut other = client(&s, now, QUIET);
    send(&mut c, "SUB foo 1\r\nPUB foo 1\r\na\r\n", now);
    assert_eq!(drain(&c), "");
    send(&mut other, "PUB foo 1\r\nb\r\n", now);
    assert_eq!(drain(&c), "MSG foo 1 1\r\nb\r\n");
}

#[test]
fn no_responders_status_to_requester() {
    let (s, now) = server();
    let mut c = client(
        &s,
        now,
        r#"{"verbose":false,"headers":true,"no_responders":true}"#,
    );
    send(
        &mut c,
        "SUB _INBOX.* 6\r\nSUB _INBOX.1 7\r\nPUB nobody _INBOX.1 0\r\n\r\n",
        now,
    );
    // One status message, naming the subject, to the first own subscription in match order.
    assert_eq!(
        drain(&c),
        "HMSG _INBOX.1 7 38 38\r\nNATS/1.0 503\r\nNats-Subject: nobody\r\n\r\n\r\n"
    );
}

#[test]
fn headers_stripped_for_subscribers_without_headers() {
    let (s, now) = server();
    let mut old = client(&s, now, QUIET);
    let mut new = client(&s, now, r#"{"verbose":false,"headers":true}"#);
    send(&mut old, "SUB h 1\r\n", now);
    send(
        &mut new,
        "SUB h 2\r\nHPUB h 18 20\r\nNATS/1.0\r\nA: B\r\n\r\nhi\r\n",
        now,
    );
    assert_eq!(drain(&old), "MSG h 1 2\r\nhi\r\n");
    assert_eq!(
        drain(&new),
        "HMSG h 2 18 20\r\nNATS/1.0\r\nA: B\r\n\r\nhi\r\n"
    );
}

#[test]
fn max_payload_violation_closes() {
    let (s, now) = server_with(ServerConfig {
        max_payload: 4,
        ..ServerConfig::default()
    });
    let mut c = client(&s, now, QUIET);
    send(&mut c, "PUB foo 5\r\nhello\r\n", now);
    assert_eq!(drain(&c), "-ERR 'Maximum Payload Violation'\r\n");
    assert_eq!(c.close_reason(), Some(CloseReason::MaxPayloadExceeded));
}

#[test]
fn invalid_subjects_keep_the_connection() {
    let (s, now) = server();
    let mut c = client(&s, now, r#"{"verbose":false,"pedantic":true}"#);
    send(&mut c, "SUB foo..bar 1\r\nPUB foo.* 0\r\n\r\nPING\r\n", now);
    assert_eq!(
        drain(&c),
        "-ERR 'Invalid Subject'\r\n-ERR 'Invalid Publish Subject'\r\nPONG\r\n"
    );
    // Like the reference, the message still goes to a subscription with those literal tokens.
    send(&mut c, "SUB foo.* 2\r\nPUB foo.* 1\r\nx\r\n", now);
    assert_eq!(
        drain(&c),
        "-ERR 'Invalid Publish Subject'\r\nMSG foo.* 2 1\r\nx\r\n"
    );
    assert_eq!(c.close_reason(), None);
}

#[test]
fn slow_consumer_is_cut_off_without_hurting_the_publisher() {
    let (s, now) = server_with(ServerConfig {
        max_pending: 4096,
        ..ServerConfig::default()
    });
    let mut slow = client(&s, now, QUIET);
    let mut fast = client(&s, now, QUIET);
    send(&mut slow, "SUB data 1\r\n", now);
    send(&mut fast, "SUB data 1\r\n", now);
    let mut publ = client(&s, now, QUIET);
    let payload = "x".repeat(100);
    for i in 0..100 {
        send(&mut publ, &format!("PUB data 100\r\n{payload}\r\n"), now);
        // The fast subscriber keeps reading.
        assert_eq!(drain(&fast).matches("MSG data").count(), 1, "message {i}");
    }
    assert_eq!(
        slow.shared().outbound.close_reason(),
        Some(CloseReason::SlowConsumerPendingBytes)
    );
    assert_eq!(publ.close_reason(), None);
    assert_eq!(
        s.stats
            .slow_consumers
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    // What was queued before the cut still drains, then the writer is told to close.
    assert!(drain(&slow).len() <= 4096);
    let mut out = BytesMut::new();
    assert_eq!(
        slow.shared()
            .outbound
            .poll_transmit(&mut out, Waker::noop()),
        Transmit::Close(CloseReason::SlowConsumerPendingBytes)
    );
}

#[test]
fn ping_timer_and_stale_connection() {
    let (s, start) = server();
    let mut c = client(&s, start, QUIET);
    let first = c.poll_timeout().expect("first ping armed");
    assert_eq!(first, start + Duration::from_secs(2));
    c.handle_timeout(first);
    assert_eq!(drain(&c), "PING\r\n");
    let second = c.poll_timeout().unwrap();
    assert_eq!(second, first + Duration::from_secs(120));
    c.handle_timeout(second);
    assert_eq!(drain(&c), "PING\r\n");
    let third = c.poll_timeout().unwrap();
    c.handle_timeout(third);
    assert_eq!(drain(&c), "-ERR 'Stale Connection'\r\n");
    assert_eq!(c.close_reason(), Some(CloseReason::StaleConnection));
}

#[test]
fn pong_keeps_the_connection_alive() {
    let (s, start) = server();
    let mut c = client(&s, start, QUIET);
    let mut at = c.poll_timeout().unwrap();
    for _ in 0..10 {
        c.handle_timeout(at);
        assert_eq!(drain(&c), "PING\r\n");
        send(&mut c, "PONG\r\n", at);
        at = c.poll_timeout().unwrap();
    }
    assert_eq!(c.close_reason(), None);
}

#[test]
fn an_active_client_is_not_pinged() {
    let (s, start) = server();
    let mut c = client(&s, start, QUIET);
    let first = c.poll_timeout().unwrap();
    c.handle_timeout(first);
    assert_eq!(drain(&c), "PING\r\n");
    send(&mut c, "PONG\r\nPUB x 0\r\n\r\n", first);
    let next = c.poll_timeout().unwrap();
    c.handle_timeout(next);
    assert_eq!(drain(&c), "", "data arrived since the last PING");
    let next = c.poll_timeout().unwrap();
    c.handle_timeout(next);
    assert_eq!(drain(&c), "PING\r\n");
}

#[test]
fn finish_removes_subscriptions_and_client() {
    let (s, now) = server();
    let mut c = client(&s, now, QUIET);
    send(&mut c, "SUB a 1\r\nSUB b q 2\r\nSUB c.> 3\r\n", now);
    assert_eq!(s.num_subscriptions(), 3);
    assert_eq!(s.num_clients(), 1);
    c.handle_read_closed(CloseReason::ClientClosed);
    c.finish(now);
    assert_eq!(s.num_subscriptions(), 0);
    assert_eq!(s.num_clients(), 0);
}

#[test]
fn max_connections_refuses_with_error() {
    let (s, now) = server_with(ServerConfig {
        max_connections: 1,
        ..ServerConfig::default()
    });
    let _first = client(&s, now, QUIET);
    let second = s.accept(peer(), now);
    let text = drain(&second);
    assert!(
        text.ends_with("-ERR 'maximum connections exceeded'\r\n"),
        "{text}"
    );
    assert_eq!(
        second.close_reason(),
        Some(CloseReason::MaxConnectionsExceeded)
    );
}

#[test]
fn reload_lowering_max_connections_closes_the_newest_clients() {
    let (s, now) = server_with(ServerConfig {
        max_connections: 5,
        ..ServerConfig::default()
    });
    let clients: Vec<Client> = (0..4).map(|_| client(&s, now, QUIET)).collect();
    let mut cfg = (*s.config()).clone();
    cfg.max_connections = 2;
    let outcome = s.reload(cfg).expect("reload");
    assert_eq!(outcome.closed_over_max_connections, 2);
    for (i, c) in clients.iter().enumerate() {
        let text = drain(c);
        if i < 2 {
            assert_eq!(text, "", "client {i}");
            assert_eq!(c.close_reason(), None, "client {i}");
        } else {
            assert_eq!(
                text, "-ERR 'maximum connections exceeded'\r\n",
                "client {i}"
            );
            assert_eq!(
                c.shared().outbound.close_reason(),
                Some(CloseReason::MaxConnectionsExceeded),
                "client {i}"
            );
        }
    }
    // Raising the limit again closes nobody.
    let mut cfg = (*s.config()).clone();
    cfg.max_connections = 10;
    assert_eq!(
        s.reload(cfg).expect("reload").closed_over_max_connections,
        0
    );
}

#[test]
fn max_subscriptions_keeps_connection() {
    let (s, now) = server_with(ServerConfig {
        max_subscriptions: 2,
        ..ServerConfig::default()
    });
    let mut c = client(&s, now, QUIET);
    send(&mut c, "SUB a 1\r\nSUB b 2\r\nSUB c 3\r\nPING\r\n", now);
    assert_eq!(
        drain(&c),
        "-ERR 'Maximum Subscriptions Exceeded'\r\nPONG\r\n"
    );
    assert_eq!(s.num_subscriptions(), 2);
}

#[test]
fn split_input_gives_the_same_output() {
    let input = "SUB foo 1\r\nPUB foo 5\r\nhello\r\nPING\r\n";
    for cut in 0..=input.len() {
        let (s, now) = server();
        let mut c = client(&s, now, QUIET);
        let mut buf = BytesMut::from(&input.as_bytes()[..cut]);
        c.handle_input(&mut buf, now);
        buf.extend_from_slice(&input.as_bytes()[cut..]);
        c.handle_input(&mut buf, now);
        assert_eq!(
            drain(&c),
            "MSG foo 1 5\r\nhello\r\nPONG\r\n",
            "cut at {cut}"
        );
    }
}

#[test]
fn delivery_order_follows_the_reference() {
    // Observed with nats-server 2.15.1: `>`, then the `*` subtree, then the literal path, and
    // at the last level the literal node before the `*` node.
    let (s, now) = server();
    let mut c = client(&s, now, QUIET);
    send(
        &mut c,
        "SUB foo.* 1\r\nSUB foo.> 2\r\nSUB foo.bar 3\r\nSUB > 4\r\nSUB *.bar 5\r\nPUB foo.bar 1\r\nx\r\n",
        now,
    );
    let out = drain(&c);
    let sids: Vec<&str> = out
        .split("\r\n")
        .filter_map(|l| l.strip_prefix("MSG foo.bar "))
        .filter_map(|l| l.split(' ').next())
        .collect();
    assert_eq!(sids, ["4", "5", "2", "3", "1"]);
}

#[test]
fn trace_lines_like_the_reference() {
    let (s, now) = server_with(ServerConfig {
        trace: true,
        ..ServerConfig::default()
    });
    let mut c = s.accept(peer(), now);
    drain(&c);
    send(
        &mut c,
        "CONNECT {\"verbose\":false,\"name\":\"me\",\"lang\":\"py\",\"version\":\"1.0\",\"pass\":\"hunter2\"}\r\nSUB foo 1\r\nPUB foo rep 2\r\nhi\r\nPING\r\n",
        now,
    );
    let lines: Vec<String> = c.drain_log().map(|e| e.text).collect();
    let p = format!("127.0.0.1:50000 - cid:{} - ", c.cid());
    assert!(
        lines[0].starts_with(&format!("{p}<<- [CONNECT {{")),
        "{lines:?}"
    );
    assert!(!lines[0].contains("hunter2"), "{lines:?}");
    let rest: Vec<&str> = lines[1..].iter().map(String::as_str).collect();
    let q = format!("{p}\"v1.0:py:me\" - ");
    assert_eq!(
        rest,
        [
            format!("{q}<<- [SUB foo 1]"),
            format!("{q}<<- [PUB foo rep 2]"),
            format!("{q}<<- MSG_PAYLOAD: [\"hi\"]"),
            format!("{q}->> [MSG foo 1 rep 2]"),
            format!("{q}->> MSG_PAYLOAD: [\"hi\"]"),
            format!("{q}<<- [PING]"),
            format!("{q}->> [PONG]"),
        ]
    );
}

#[test]
fn connect_rules_of_the_reference() {
    let (s, now) = server();
    for (connect, err) in [
        (r#"{"protocol":2}"#, "invalid client protocol"),
        (
            r#"{"no_responders":true}"#,
            "no responders requires headers support",
        ),
        (r#"{"account":"x"}"#, "Authorization Violation"),
    ] {
        let mut c = s.accept(peer(), now);
        drain(&c);
        send(&mut c, &format!("CONNECT {connect}\r\nPING\r\n"), now);
        assert_eq!(drain(&c), format!("-ERR '{err}'\r\n"), "{connect}");
        assert!(c.close_reason().is_some());
    }
}

#[test]
fn protocol_one_clients_get_info_after_their_first_pong() {
    let (s, now) = server();
    let mut c = s.accept(peer(), now);
    drain(&c);
    send(
        &mut c,
        "CONNECT {\"verbose\":false,\"protocol\":1}\r\nPING\r\n",
        now,
    );
    let out = drain(&c);
    let (pong, info) = out.split_once("\r\n").unwrap();
    assert_eq!(pong, "PONG");
    // Only the first PONG is followed by it.
    send(&mut c, "PING\r\n", now);
    assert_eq!(drain(&c), "PONG\r\n");
    // Nothing before the first PING.
    let mut d = s.accept(peer(), now);
    drain(&d);
    send(
        &mut d,
        "CONNECT {\"verbose\":false,\"protocol\":1}\r\n",
        now,
    );
    assert_eq!(drain(&d), "");
    assert!(
        info.starts_with("INFO {") && info.contains("\"connect_info\":true"),
        "{info}"
    );
    assert!(info.contains("\"remote_account\":\"$G\""), "{info}");
}

#[test]
fn sizes_written_with_leading_zeros_are_echoed() {
    let (s, now) = server();
    let mut c = client(&s, now, r#"{"verbose":false,"headers":true}"#);
    send(
        &mut c,
        "SUB foo 1\r\nPUB foo 0002\r\nhi\r\nHPUB foo 012 0014\r\nNATS/1.0\r\n\r\nhi\r\n",
        now,
    );
    assert_eq!(
        drain(&c),
        "MSG foo 1 0002\r\nhi\r\nHMSG foo 1 012 0014\r\nNATS/1.0\r\n\r\nhi\r\n"
    );
}

#[test]
fn lame_duck_tells_protocol_one_clients_and_refuses_new_ones() {
    let (s, now) = server();
    let mut modern = client(&s, now, r#"{"verbose":false,"protocol":1}"#);
    drain(&modern);
    let old = client(&s, now, QUIET);
    s.enter_lame_duck();
    let info = drain(&modern);
    assert!(
        info.starts_with("INFO {") && info.contains("\"ldm\":true"),
        "{info}"
    );
    assert_eq!(drain(&old), "");
    let late = s.accept(peer(), now);
    drain(&late);
    assert_eq!(late.close_reason(), Some(CloseReason::ServerShutdown));
    assert!(s.close_client(modern.cid(), CloseReason::ServerShutdown));
    send(&mut modern, "PING\r\n", now);
    let mut out = BytesMut::new();
    assert_eq!(
        modern
            .shared()
            .outbound
            .poll_transmit(&mut out, Waker::noop()),
        Transmit::Close(CloseReason::ServerShutdown)
    );
}
