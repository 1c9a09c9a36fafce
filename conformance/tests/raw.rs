//! Raw-socket end-to-end tests against our server (set `NATS_SERVER_BIN` to
//! run them against another binary, e.g. the reference, to check the tests).

use std::io::{ErrorKind, Read};
use std::thread;
use std::time::{Duration, Instant};

use conformance::raw::{Collected, RawClient, DEFAULT_TIMEOUT};
use conformance::server::run_to_completion;
use conformance::{our_binary, ServerProcess};

const MAX_PAYLOAD: usize = 1024 * 1024;

fn start() -> ServerProcess {
    ServerProcess::start(&our_binary(), &[])
}

/// Connects and sends a non-verbose CONNECT.
fn client(server: &ServerProcess) -> RawClient {
    let mut client = RawClient::connect(&server.addr()).expect("connect");
    client
        .send(b"CONNECT {\"verbose\":false,\"pedantic\":false}\r\n")
        .expect("send CONNECT");
    client
}

/// Syncs and asserts the connection is still open and answered.
fn sync(client: &mut RawClient) -> Collected {
    let collected = client.sync(1, DEFAULT_TIMEOUT).expect("sync");
    assert!(!collected.closed, "connection closed: {collected:?}");
    assert!(!collected.timed_out, "no PONG: {collected:?}");
    collected
}

fn text(frames: &[Vec<u8>]) -> String {
    frames
        .iter()
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect()
}

#[test]
fn info_has_the_reference_fields() {
    let server = start();
    let client = RawClient::connect(&server.addr()).expect("connect");
    let frame = client.info_frame();
    assert!(
        frame.ends_with(b"} \r\n"),
        "INFO must end with '}} \\r\\n': {frame:?}"
    );
    let info = client.info_json().expect("INFO carries a JSON object");
    let server_id = info["server_id"].as_str().expect("server_id is a string");
    assert_eq!(server_id.len(), 56, "server_id {server_id:?}");
    assert!(server_id.starts_with('N'), "server_id {server_id:?}");
    assert!(info["server_name"].is_string(), "{info}");
    assert_eq!(info["version"], "2.15.1");
    assert_eq!(info["proto"], 1);
    assert_eq!(info["headers"], true);
    assert_eq!(info["max_payload"], MAX_PAYLOAD as u64);
    assert_eq!(info["host"], "127.0.0.1");
    assert_eq!(info["port"], u64::from(server.port()));
    assert!(info["client_id"].is_u64(), "{info}");
    assert_eq!(info["client_ip"], "127.0.0.1");
    assert!(info.get("auth_required").is_none(), "{info}");
    assert!(info.get("tls_required").is_none(), "{info}");
}

#[test]
fn client_ids_increase_per_connection() {
    let server = start();
    let first = RawClient::connect(&server.addr()).expect("connect");
    let second = RawClient::connect(&server.addr()).expect("connect");
    let id = |c: &RawClient| c.info_json().and_then(|i| i["client_id"].as_u64());
    let (a, b) = (id(&first).expect("id"), id(&second).expect("id"));
    assert!(b > a, "client ids {a} then {b}");
}

#[test]
fn ping_gets_pong() {
    let server = start();
    let mut client = client(&server);
    client.send(b"PING\r\n").expect("send");
    // Two PONGs: ours above plus the marker PING of `sync`.
    let collected = client.sync(2, DEFAULT_TIMEOUT).expect("sync");
    assert_eq!(text(&collected.frames), "PONG\r\n");
    assert!(!collected.closed && !collected.timed_out, "{collected:?}");
}

#[test]
fn pub_sub_round_trip_between_two_clients() {
    let server = start();
    let mut subscriber = client(&server);
    let mut publisher = client(&server);
    subscriber.send(b"SUB greet.* 7\r\n").expect("send");
    sync(&mut subscriber);
    publisher
        .send(b"PUB greet.joe _INBOX.1 5\r\nhello\r\n")
        .expect("send");
    sync(&mut publisher);
    let collected = sync(&mut subscriber);
    assert_eq!(
        text(&collected.frames),
        "MSG greet.joe 7 _INBOX.1 5\r\nhello\r\n"
    );
}

#[test]
fn max_payload_is_accepted() {
    let server = start();
    let mut subscriber = client(&server);
    subscriber.send(b"SUB big 1\r\n").expect("send");
    sync(&mut subscriber);
    let mut publisher = client(&server);
    let payload: Vec<u8> = (0..MAX_PAYLOAD).map(|i| (i % 251) as u8).collect();
    let mut op = format!("PUB big {MAX_PAYLOAD}\r\n").into_bytes();
    op.extend_from_slice(&payload);
    op.extend_from_slice(b"\r\n");
    publisher.send(&op).expect("send");
    let answer = sync(&mut publisher);
    assert!(answer.frames.is_empty(), "{:?}", text(&answer.frames));
    let collected = subscriber.sync(1, Duration::from_secs(10)).expect("sync");
    assert_eq!(collected.frames.len(), 1, "{collected:?}");
    let header = format!("MSG big 1 {MAX_PAYLOAD}\r\n");
    let frame = &collected.frames[0];
    assert!(frame.starts_with(header.as_bytes()));
    assert_eq!(&frame[header.len()..frame.len() - 2], payload.as_slice());
}

#[test]
fn max_payload_plus_one_is_rejected_and_closed() {
    let server = start();
    let mut publisher = client(&server);
    publisher
        .send(format!("PUB big {}\r\n", MAX_PAYLOAD + 1).as_bytes())
        .expect("send");
    let collected = publisher
        .collect_until_closed(DEFAULT_TIMEOUT)
        .expect("collect");
    assert_eq!(
        text(&collected.frames),
        "-ERR 'Maximum Payload Violation'\r\n"
    );
    assert!(collected.closed, "connection stays open: {collected:?}");
}

/// A subscriber that never reads is disconnected as a slow consumer once
/// more than max_pending (64 MiB) is queued for it, while the publisher and
/// a healthy subscriber carry on.
#[test]
fn slow_consumer_is_cut_off_without_hurting_others() {
    const CHUNK: usize = 64 * 1024;
    const COUNT: usize = 1280; // 80 MiB
    let server = start();
    let mut stalled = client(&server);
    stalled.send(b"SUB flood 1\r\n").expect("send");
    sync(&mut stalled);
    let mut healthy = client(&server);
    healthy.send(b"SUB flood 2\r\n").expect("send");
    sync(&mut healthy);
    // The healthy subscriber reads as fast as it can and just counts bytes.
    let expected_bytes = COUNT * (format!("MSG flood 2 {CHUNK}\r\n").len() + CHUNK + 2);
    let mut healthy_stream = healthy.into_stream();
    healthy_stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    let reader = thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut received = 0usize;
        let mut buf = vec![0u8; 1024 * 1024];
        while received < expected_bytes && Instant::now() < deadline {
            match healthy_stream.read(&mut buf) {
                Ok(0) => return (received, true),
                Ok(n) => received += n,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(_) => return (received, true),
            }
        }
        (received, false)
    });

    let mut publisher = client(&server);
    let mut op = format!("PUB flood {CHUNK}\r\n").into_bytes();
    op.extend(std::iter::repeat_n(b'x', CHUNK));
    op.extend_from_slice(b"\r\n");
    let started = Instant::now();
    for _ in 0..COUNT {
        publisher.send(&op).expect("publish");
        assert!(!publisher.is_closed(), "the publisher was disconnected");
    }
    let answer = publisher
        .sync(1, Duration::from_secs(30))
        .expect("publisher sync");
    assert!(
        !answer.closed && !answer.timed_out,
        "publisher not answered after {:?}: {answer:?}",
        started.elapsed()
    );

    let (received, closed) = reader.join().expect("reader thread");
    assert!(
        !closed,
        "the healthy subscriber was disconnected after {received} messages"
    );
    // `>=`: a keepalive PING may be mixed in.
    assert!(
        received >= expected_bytes,
        "the healthy subscriber got {received} of {expected_bytes} bytes"
    );

    // The stalled subscriber was cut off: draining its socket ends in EOF
    // (or reset) before all 80 MiB arrived.
    let mut stalled_stream = stalled.into_stream();
    stalled_stream
        .set_read_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut drained = 0usize;
    let mut buf = vec![0u8; 256 * 1024];
    let closed = loop {
        if Instant::now() >= deadline {
            break false;
        }
        match stalled_stream.read(&mut buf) {
            Ok(0) => break true,
            Ok(n) => drained += n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => break true,
        }
    };
    assert!(
        closed,
        "the stalled subscriber was not disconnected ({drained} bytes drained)"
    );
    assert!(
        drained < COUNT * CHUNK,
        "the stalled subscriber got everything ({drained} bytes)"
    );
    assert!(
        server.wait_for_log(
            "Slow Consumer Detected: MaxPending of 67108864 Exceeded",
            Duration::from_secs(2)
        ),
        "no slow consumer log line; log:\n{}",
        server.log_lines().join("\n")
    );
}

#[test]
fn two_hundred_concurrent_clients() {
    const CLIENTS: usize = 200;
    let server = start();
    let mut clients: Vec<RawClient> = (0..CLIENTS)
        .map(|i| {
            let mut c = client(&server);
            c.send(format!("SUB all {i}\r\nSUB own.{i} {}\r\n", i + 1000).as_bytes())
                .expect("send");
            c
        })
        .collect();
    for c in &mut clients {
        sync(c);
    }
    let handles: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(i, mut c)| {
            thread::spawn(move || {
                c.send(format!("PUB own.{i} 2\r\nok\r\n").as_bytes())
                    .expect("send");
                let collected = sync(&mut c);
                assert_eq!(
                    text(&collected.frames),
                    format!("MSG own.{i} {} 2\r\nok\r\n", i + 1000)
                );
                c
            })
        })
        .collect();
    let mut clients: Vec<RawClient> = handles
        .into_iter()
        .map(|h| h.join().expect("client thread"))
        .collect();
    let mut publisher = client(&server);
    publisher.send(b"PUB all 3\r\nall\r\n").expect("send");
    sync(&mut publisher);
    for (i, c) in clients.iter_mut().enumerate() {
        let collected = sync(c);
        assert_eq!(text(&collected.frames), format!("MSG all {i} 3\r\nall\r\n"));
    }
}

#[test]
fn version_flag_prints_the_version() {
    let output = run_to_completion(&our_binary(), &["-v"], Duration::from_secs(10)).expect("-v");
    assert_eq!(output.trim(), "nats-server: v2.15.1");
}

#[test]
fn sigterm_stops_the_server_cleanly() {
    let server = start();
    let mut connected = client(&server);
    sync(&mut connected);
    let log = server.log_handle();
    let started = Instant::now();
    let status = server.stop();
    assert!(
        status.is_some(),
        "the server ignored SIGTERM for {:?}",
        started.elapsed()
    );
    assert!(
        log.wait_for("Server Exiting..", Duration::from_secs(2)),
        "no 'Server Exiting..' in the log:\n{}",
        log.lines().join("\n")
    );
    let after = connected
        .collect_until_closed(DEFAULT_TIMEOUT)
        .expect("read after stop");
    assert!(after.closed, "client still connected after SIGTERM");
}
