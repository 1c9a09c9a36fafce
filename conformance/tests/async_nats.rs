//! End-to-end tests of our server with the official Rust client, `async-nats`.
//! Every wait is bounded. Set `NATS_SERVER_BIN` to run them against another
//! binary (e.g. the reference) to check the tests themselves.

use std::collections::HashMap;
use std::time::Duration;

use async_nats::client::{PublishErrorKind, RequestErrorKind};
use async_nats::connection::State;
use async_nats::{Client, ConnectOptions, HeaderMap, Message, Subscriber};
use bytes::Bytes;
use conformance::{our_binary, ServerProcess};
use futures_util::StreamExt;
use tokio::time::timeout;

/// Bound for any single wait.
const WAIT: Duration = Duration::from_secs(5);

/// How long to listen when checking that nothing (more) arrives.
const SILENCE: Duration = Duration::from_millis(300);

fn start() -> ServerProcess {
    ServerProcess::start(&our_binary(), &[])
}

fn options() -> ConnectOptions {
    ConnectOptions::new()
        .connection_timeout(WAIT)
        .request_timeout(Some(WAIT))
        .reconnect_delay_callback(|_| Duration::from_millis(100))
}

async fn connect(server: &ServerProcess) -> Client {
    timeout(WAIT, options().connect(server.url()))
        .await
        .expect("connect timed out")
        .expect("connect failed")
}

async fn next(subscriber: &mut Subscriber) -> Message {
    timeout(WAIT, subscriber.next())
        .await
        .expect("no message within the bound")
        .expect("subscription ended")
}

/// Asserts that nothing arrives during [`SILENCE`] (and the stream is not over).
async fn assert_silent(subscriber: &mut Subscriber) {
    if let Ok(message) = timeout(SILENCE, subscriber.next()).await {
        panic!("unexpected delivery: {message:?}");
    }
}

async fn flush(client: &Client) {
    timeout(WAIT, client.flush())
        .await
        .expect("flush timed out")
        .expect("flush failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connects_and_reads_server_info() {
    let server = start();
    let client = connect(&server).await;
    let info = client.server_info();
    assert_eq!(info.version, "2.15.1");
    assert_eq!(info.max_payload, 1024 * 1024);
    assert!(info.headers);
    assert_eq!(info.port, server.port());
    assert_eq!(client.connection_state(), State::Connected);
    flush(&client).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_subscribe() {
    let server = start();
    let client = connect(&server).await;
    let mut subscriber = client.subscribe("greet.joe").await.expect("subscribe");
    flush(&client).await;
    client
        .publish("greet.joe", Bytes::from_static(b"hello"))
        .await
        .expect("publish");
    let message = next(&mut subscriber).await;
    assert_eq!(message.subject.as_str(), "greet.joe");
    assert_eq!(message.payload.as_ref(), b"hello");
    assert!(message.reply.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wildcards_match_tokens() {
    let server = start();
    let client = connect(&server).await;
    let mut star = client.subscribe("a.*.c").await.expect("subscribe");
    let mut tail = client.subscribe("a.>").await.expect("subscribe");
    flush(&client).await;
    for subject in ["a.b.c", "a.b", "a.b.c.d", "x.b.c"] {
        client
            .publish(subject, Bytes::from(subject))
            .await
            .expect("publish");
    }
    flush(&client).await;
    assert_eq!(next(&mut star).await.subject.as_str(), "a.b.c");
    assert_silent(&mut star).await;
    let mut tail_subjects = Vec::new();
    for _ in 0..3 {
        tail_subjects.push(next(&mut tail).await.subject.to_string());
    }
    assert_eq!(tail_subjects, ["a.b.c", "a.b", "a.b.c.d"]);
    assert_silent(&mut tail).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_group_delivers_each_message_once() {
    const MESSAGES: usize = 300;
    let server = start();
    let members: Vec<Client> = vec![
        connect(&server).await,
        connect(&server).await,
        connect(&server).await,
    ];
    let mut subscribers = Vec::new();
    for member in &members {
        subscribers.push(
            member
                .queue_subscribe("jobs", "workers".into())
                .await
                .expect("queue subscribe"),
        );
        flush(member).await;
    }
    let publisher = connect(&server).await;
    for i in 0..MESSAGES {
        publisher
            .publish("jobs", Bytes::from(i.to_string()))
            .await
            .expect("publish");
    }
    flush(&publisher).await;
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut per_member = Vec::new();
    for subscriber in &mut subscribers {
        let mut count = 0;
        while let Ok(Some(message)) = timeout(SILENCE, subscriber.next()).await {
            let payload = String::from_utf8_lossy(&message.payload).into_owned();
            *seen.entry(payload).or_default() += 1;
            count += 1;
        }
        per_member.push(count);
    }
    assert_eq!(seen.len(), MESSAGES, "distinct messages delivered");
    assert!(
        seen.values().all(|&n| n == 1),
        "some message was delivered twice"
    );
    assert_eq!(per_member.iter().sum::<usize>(), MESSAGES, "{per_member:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_reply() {
    let server = start();
    let responder = connect(&server).await;
    let mut service = responder.subscribe("svc.echo").await.expect("subscribe");
    flush(&responder).await;
    let handle = tokio::spawn(async move {
        let request = next(&mut service).await;
        let reply = request.reply.expect("request carries a reply subject");
        let mut answer = b"echo: ".to_vec();
        answer.extend_from_slice(&request.payload);
        responder
            .publish(reply, Bytes::from(answer))
            .await
            .expect("reply");
        flush(&responder).await;
    });
    let requester = connect(&server).await;
    let response = timeout(
        WAIT,
        requester.request("svc.echo", Bytes::from_static(b"ping")),
    )
    .await
    .expect("request timed out")
    .expect("request failed");
    assert_eq!(response.payload.as_ref(), b"echo: ping");
    timeout(WAIT, handle)
        .await
        .expect("responder timed out")
        .expect("responder panicked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_round_trip() {
    let server = start();
    let client = connect(&server).await;
    let mut subscriber = client.subscribe("h").await.expect("subscribe");
    flush(&client).await;
    let mut headers = HeaderMap::new();
    headers.insert("X-Trace", "abc-123");
    headers.append("X-Multi", "one");
    headers.append("X-Multi", "two");
    client
        .publish_with_headers("h", headers, Bytes::from_static(b"body"))
        .await
        .expect("publish");
    let message = next(&mut subscriber).await;
    assert_eq!(message.payload.as_ref(), b"body");
    let received = message.headers.expect("headers delivered");
    assert_eq!(received.get("X-Trace").map(|v| v.as_str()), Some("abc-123"));
    let multi: Vec<&str> = received.get_all("X-Multi").map(|v| v.as_str()).collect();
    assert_eq!(multi, ["one", "two"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_without_responders_fails_fast() {
    let server = start();
    let client = connect(&server).await;
    let started = std::time::Instant::now();
    let error = timeout(
        WAIT,
        client.request("nobody.home", Bytes::from_static(b"?")),
    )
    .await
    .expect("request hung")
    .expect_err("a request nobody serves must fail");
    assert_eq!(error.kind(), RequestErrorKind::NoResponders, "{error}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "no-responders took {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsubscribe_after_n_messages() {
    let server = start();
    let client = connect(&server).await;
    let mut subscriber = client.subscribe("limited").await.expect("subscribe");
    subscriber
        .unsubscribe_after(3)
        .await
        .expect("unsubscribe_after");
    flush(&client).await;
    for i in 0..6 {
        client
            .publish("limited", Bytes::from(i.to_string()))
            .await
            .expect("publish");
    }
    flush(&client).await;
    let mut payloads = Vec::new();
    while let Ok(Some(message)) = timeout(SILENCE, subscriber.next()).await {
        payloads.push(String::from_utf8_lossy(&message.payload).into_owned());
    }
    assert_eq!(payloads, ["0", "1", "2"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flush_makes_publishes_visible() {
    let server = start();
    let client = connect(&server).await;
    let mut subscriber = client.subscribe("f").await.expect("subscribe");
    flush(&client).await;
    for i in 0..1000 {
        client
            .publish("f", Bytes::from(i.to_string()))
            .await
            .expect("publish");
    }
    flush(&client).await;
    for i in 0..1000 {
        let message = next(&mut subscriber).await;
        assert_eq!(message.payload, Bytes::from(i.to_string()), "order");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_payload_is_enforced() {
    let server = start();
    let client = connect(&server).await;
    let mut subscriber = client.subscribe("big").await.expect("subscribe");
    flush(&client).await;
    let max = client.server_info().max_payload;
    client
        .publish("big", Bytes::from(vec![7u8; max]))
        .await
        .expect("a max_payload message is accepted");
    assert_eq!(next(&mut subscriber).await.payload.len(), max);
    let error = client
        .publish("big", Bytes::from(vec![7u8; max + 1]))
        .await
        .expect_err("max_payload + 1 must be refused");
    assert_eq!(error.kind(), PublishErrorKind::MaxPayloadExceeded);
    flush(&client).await;
    assert_eq!(client.connection_state(), State::Connected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnects_after_restart_on_the_same_port() {
    let mut server = start();
    let client = connect(&server).await;
    let mut subscriber = client.subscribe("after").await.expect("subscribe");
    flush(&client).await;
    tokio::task::block_in_place(|| server.restart()).expect("restart");
    // The client notices, reconnects and resubscribes; poll with a bound.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let _ = client.publish("after", Bytes::from_static(b"again")).await;
        if let Ok(Some(message)) = timeout(Duration::from_millis(200), subscriber.next()).await {
            assert_eq!(message.payload.as_ref(), b"again");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no delivery after the restart (state {:?})",
            client.connection_state()
        );
    }
    assert_eq!(client.connection_state(), State::Connected);
}
