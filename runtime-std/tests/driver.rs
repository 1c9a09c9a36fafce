//! The std driver against real loopback sockets.

mod support;

use std::time::{Duration, Instant};

use engine::ServerConfig;
use support::{Conn, Running, PATIENCE};

#[test]
fn sends_info_and_answers_ping() {
    let server = Running::start(ServerConfig::default());
    let mut c = Conn::open(server.addr);
    c.send(b"PING\r\n");
    c.expect("PONG\r\n");
}

#[test]
fn verbose_connect_gets_ok() {
    let server = Running::start(ServerConfig::default());
    let mut c = Conn::open(server.addr);
    c.send(b"CONNECT {\"verbose\":true}\r\n");
    c.expect("+OK\r\n");
}

#[test]
fn delivers_between_connections() {
    let server = Running::start(ServerConfig::default());
    let mut sub = Conn::connected(server.addr);
    sub.send(b"SUB foo.* 1\r\nPING\r\n");
    sub.expect("PONG\r\n");
    let mut publisher = Conn::connected(server.addr);
    publisher.send(b"PUB foo.bar reply 5\r\nhello\r\nPING\r\n");
    publisher.expect("PONG\r\n");
    sub.expect("MSG foo.bar 1 reply 5\r\nhello\r\n");
}

#[test]
fn delivers_a_one_mebibyte_payload() {
    let server = Running::start(ServerConfig::default());
    let mut sub = Conn::connected(server.addr);
    sub.send(b"SUB big 7\r\nPING\r\n");
    sub.expect("PONG\r\n");
    sub.received.clear();
    let mut publisher = Conn::connected(server.addr);
    let payload = vec![b'x'; 1024 * 1024];
    let mut op = b"PUB big 1048576\r\n".to_vec();
    op.extend_from_slice(&payload);
    op.extend_from_slice(b"\r\n");
    publisher.send(&op);
    let head = "MSG big 7 1048576\r\n";
    sub.expect_len(head.len() + payload.len() + 2);
    assert!(sub.received.starts_with(head.as_bytes()));
    assert_eq!(
        &sub.received[head.len()..head.len() + payload.len()],
        &payload[..]
    );
    assert!(sub.received.ends_with(b"\r\n"));
}

/// A subject of 2000 tokens goes through parsing, the index and routing on the reader's
/// small stack.
#[test]
fn deep_subject_fits_the_small_reader_stack() {
    let server = Running::start(ServerConfig::default());
    let subject = vec!["a"; 2000].join(".");
    let mut sub = Conn::connected(server.addr);
    sub.send(format!("SUB {subject} 1\r\nPUB {subject} 2\r\nhi\r\nPING\r\n").as_bytes());
    sub.expect("PONG\r\n");
    sub.expect(&format!("MSG {subject} 1 2\r\nhi\r\n"));
}

#[test]
fn sends_keepalive_pings_and_cuts_off_stale_clients() {
    let config = ServerConfig {
        ping_interval: Duration::from_millis(100),
        first_ping_delay: Duration::from_millis(50),
        ping_max: 2,
        ..ServerConfig::default()
    };
    let server = Running::start(config);
    let mut c = Conn::connected(server.addr);
    let start = Instant::now();
    c.expect("PING\r\n");
    let text = c.expect_closed();
    assert!(text.contains("-ERR 'Stale Connection'\r\n"), "{text}");
    assert!(start.elapsed() < Duration::from_secs(5));
    server.wait_clients(0);
}

#[test]
fn answered_pings_keep_the_client() {
    let config = ServerConfig {
        ping_interval: Duration::from_millis(200),
        first_ping_delay: Duration::from_millis(20),
        ping_max: 2,
        ..ServerConfig::default()
    };
    let server = Running::start(config);
    let mut c = Conn::connected(server.addr);
    // Unanswered, the client would be stale after three ticks.
    for _ in 0..6 {
        c.expect("PING\r\n");
        c.received.clear();
        c.send(b"PONG\r\n");
    }
    assert_eq!(server.server.num_clients(), 1);
}

#[test]
fn slow_consumer_is_cut_off_and_publisher_keeps_going() {
    let config = ServerConfig {
        max_pending: 256 * 1024,
        // The cut-off must not wait for the writer's blocked write to time out.
        write_deadline: Duration::from_secs(300),
        ..ServerConfig::default()
    };
    let server = Running::start(config);
    let mut sub = Conn::connected(server.addr);
    sub.send(b"SUB slow 1\r\nPING\r\n");
    sub.expect("PONG\r\n");
    // The subscriber never reads from now on.
    let mut publisher = Conn::connected(server.addr);
    let payload = vec![b'y'; 64 * 1024];
    let mut op = b"PUB slow 65536\r\n".to_vec();
    op.extend_from_slice(&payload);
    op.extend_from_slice(b"\r\n");
    let start = Instant::now();
    while server
        .server
        .stats
        .slow_consumers
        .load(std::sync::atomic::Ordering::Relaxed)
        == 0
    {
        assert!(start.elapsed() < PATIENCE, "no slow consumer");
        for _ in 0..16 {
            publisher.send(&op);
        }
        publisher.send(b"PING\r\n");
        publisher.expect("PONG\r\n");
        publisher.received.clear();
    }
    server.wait_clients(1);
    publisher.send(b"PING\r\n");
    publisher.expect("PONG\r\n");
}

#[test]
fn refuses_clients_over_max_connections() {
    let config = ServerConfig {
        max_connections: 1,
        ..ServerConfig::default()
    };
    let server = Running::start(config);
    let _first = Conn::connected(server.addr);
    let mut second = Conn::raw(server.addr);
    let text = second.expect_closed();
    assert!(text.starts_with("INFO {"), "{text}");
    assert!(
        text.ends_with("-ERR 'maximum connections exceeded'\r\n"),
        "{text}"
    );
}

#[test]
fn client_disconnect_removes_its_subscriptions() {
    let server = Running::start(ServerConfig::default());
    let mut c = Conn::connected(server.addr);
    c.send(b"SUB a 1\r\nSUB b 2\r\nPING\r\n");
    c.expect("PONG\r\n");
    assert_eq!(server.server.num_subscriptions(), 2);
    drop(c);
    server.wait_clients(0);
    assert_eq!(server.server.num_subscriptions(), 0);
}

#[test]
fn shutdown_closes_clients_and_stops_accepting() {
    let mut server = Running::start(ServerConfig::default());
    let mut clients: Vec<Conn> = (0..20).map(|_| Conn::connected(server.addr)).collect();
    server.wait_clients(20);
    let took = server.stop();
    assert!(took < Duration::from_secs(3), "shutdown took {took:?}");
    for c in &mut clients {
        c.expect_closed();
    }
    assert_eq!(server.server.num_clients(), 0);
    assert!(std::net::TcpStream::connect(server.addr).is_err());
}

#[test]
fn shutdown_before_any_client_returns() {
    let mut server = Running::start(ServerConfig::default());
    let took = server.stop();
    assert!(took < Duration::from_secs(3), "shutdown took {took:?}");
}

/// A client that never reads cannot hold up shutdown past the grace periods. On Unix the
/// socket shutdown ends its blocked write at once; elsewhere (Wine at least) the write only
/// ends at the write deadline, after `serve` returned.
#[test]
fn shutdown_cuts_off_a_client_whose_socket_is_full() {
    let config = ServerConfig {
        write_deadline: Duration::from_secs(3),
        ..ServerConfig::default()
    };
    let mut server = Running::start(config);
    let mut sub = Conn::connected(server.addr);
    sub.send(b"SUB full 1\r\nPING\r\n");
    sub.expect("PONG\r\n");
    let mut publisher = Conn::connected(server.addr);
    let mut op = b"PUB full 65536\r\n".to_vec();
    op.extend_from_slice(&[b'z'; 65536]);
    op.extend_from_slice(b"\r\n");
    // 32 MiB: more than the loopback socket buffers hold, less than max_pending.
    for _ in 0..512 {
        publisher.send(&op);
    }
    publisher.send(b"PING\r\n");
    publisher.expect("PONG\r\n");
    let took = server.stop();
    assert!(took < Duration::from_secs(5), "shutdown took {took:?}");
    if cfg!(unix) {
        assert_eq!(server.server.num_clients(), 0);
    } else {
        server.wait_clients(0);
    }
}

#[test]
fn many_idle_connections() {
    let server = Running::start(ServerConfig::default());
    let clients: Vec<Conn> = (0..200).map(|_| Conn::connected(server.addr)).collect();
    server.wait_clients(200);
    drop(clients);
    server.wait_clients(0);
}
