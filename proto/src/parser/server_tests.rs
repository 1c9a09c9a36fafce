//! Tests of [`ServerParser`].

use bytes::{Bytes, BytesMut};

use super::ServerParser;
use crate::{encode, ParseError, ServerInfo, ServerOp};

/// Feeds `chunks` in order, collecting ops until the first error.
fn run(chunks: &[&[u8]]) -> Result<Vec<ServerOp>, (Vec<ServerOp>, ParseError)> {
    let mut p = ServerParser::new();
    let mut buf = BytesMut::new();
    let mut ops = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        for _ in 0..=buf.len() + 1 {
            match p.next_op(&mut buf) {
                Ok(Some(op)) => ops.push(op),
                Ok(None) => break,
                Err(e) => return Err((ops, e)),
            }
        }
    }
    Ok(ops)
}

/// Bytes the reference 2.15.1 sent (INFO trimmed of ids), then a no-responders status.
const TRANSCRIPT: &[u8] =
    b"INFO {\"server_id\":\"N\",\"server_name\":\"N\",\"version\":\"2.15.1\",\
\"proto\":1,\"git_commit\":\"b2fd3ef\",\"go\":\"go1.27.2\",\"host\":\"127.0.0.1\",\"port\":14222,\
\"headers\":true,\"max_payload\":1048576,\"client_id\":115,\"client_ip\":\"127.0.0.1\",\
\"api_lvl\":5} \r\n+OK\r\nPING\r\nPONG\r\nMSG foo 1 2\r\nhi\r\nMSG foo 1 r 0\r\n\r\n\
HMSG rep 1 38 38\r\nNATS/1.0 503\r\nNats-Subject: nobody\r\n\r\n\r\n\
-ERR 'Unknown Protocol Operation'\r\nmsg\tfoo\t1 1\nx\r\n";

fn b<T: AsRef<[u8]> + ?Sized>(s: &'static T) -> Bytes {
    Bytes::from_static(s.as_ref())
}

fn expected() -> Vec<ServerOp> {
    let info = ServerInfo {
        server_id: "N".into(),
        server_name: "N".into(),
        version: "2.15.1".into(),
        proto: 1,
        git_commit: Some("b2fd3ef".into()),
        go: Some("go1.27.2".into()),
        host: "127.0.0.1".into(),
        port: 14222,
        headers: true,
        max_payload: 1048576,
        client_id: Some(115),
        client_ip: Some("127.0.0.1".into()),
        api_lvl: Some(5),
        ..ServerInfo::default()
    };
    vec![
        ServerOp::Info(Box::new(info)),
        ServerOp::Ok,
        ServerOp::Ping,
        ServerOp::Pong,
        ServerOp::Msg {
            subject: b("foo"),
            sid: b("1"),
            reply: None,
            payload: b("hi"),
        },
        ServerOp::Msg {
            subject: b("foo"),
            sid: b("1"),
            reply: Some(b("r")),
            payload: b(""),
        },
        ServerOp::HMsg {
            subject: b("rep"),
            sid: b("1"),
            reply: None,
            headers: b("NATS/1.0 503\r\nNats-Subject: nobody\r\n\r\n"),
            payload: b(""),
        },
        ServerOp::Err("Unknown Protocol Operation".into()),
        ServerOp::Msg {
            subject: b("foo"),
            sid: b("1"),
            reply: None,
            payload: b("x"),
        },
    ]
}

#[test]
fn whole_transcript() {
    assert_eq!(run(&[TRANSCRIPT]), Ok(expected()));
}

#[test]
fn split_at_every_byte_boundary() {
    for cut in 0..=TRANSCRIPT.len() {
        assert_eq!(
            run(&[&TRANSCRIPT[..cut], &TRANSCRIPT[cut..]]),
            Ok(expected()),
            "cut at {cut}"
        );
    }
}

#[test]
fn one_byte_at_a_time() {
    let chunks: Vec<&[u8]> = TRANSCRIPT.chunks(1).collect();
    assert_eq!(run(&chunks), Ok(expected()));
}

#[test]
fn encoded_server_ops_round_trip() {
    let mut wire = BytesMut::new();
    let info = ServerInfo {
        server_id: "ID".into(),
        version: "2.15.1".into(),
        max_payload: 1024,
        connect_info: true,
        remote_account: Some("$G".into()),
        ..ServerInfo::default()
    };
    encode::info(&mut wire, &info);
    encode::msg(&mut wire, b"a", b"1", Some(b"r"), b"data");
    encode::hmsg(&mut wire, b"a", b"2", None, b"NATS/1.0\r\n\r\n", b"d");
    encode::ok(&mut wire);
    encode::err(&mut wire, "Invalid Subject");
    encode::ping(&mut wire);
    encode::pong(&mut wire);
    assert_eq!(
        run(&[&wire]),
        Ok(vec![
            ServerOp::Info(Box::new(info)),
            ServerOp::Msg {
                subject: b("a"),
                sid: b("1"),
                reply: Some(b("r")),
                payload: b("data"),
            },
            ServerOp::HMsg {
                subject: b("a"),
                sid: b("2"),
                reply: None,
                headers: b("NATS/1.0\r\n\r\n"),
                payload: b("d"),
            },
            ServerOp::Ok,
            ServerOp::Err("Invalid Subject".into()),
            ServerOp::Ping,
            ServerOp::Pong,
        ])
    );
}

#[test]
fn malformed_input() {
    for (input, err) in [
        (&b"XYZ\r\n"[..], ParseError::UnknownOp),
        (b"PUB foo 1\r\n", ParseError::UnknownOp),
        (b"MSGfoo 1 1\r\n", ParseError::UnknownOp),
        (b"MSG foo 1\r\n", ParseError::InvalidMsg),
        (b"MSG foo 1 x\r\n", ParseError::InvalidMsg),
        (b"HMSG foo 1 3 2\r\n", ParseError::InvalidMsg),
        (b"MSG foo 1 2\r\nhiX", ParseError::UnknownOp),
        (b"INFO {bad\r\n", ParseError::InvalidInfo),
    ] {
        assert_eq!(run(&[input]), Err((vec![], err)), "{input:?}");
    }
}

#[test]
fn continues_after_an_error() {
    let mut p = ServerParser::new();
    let mut buf = BytesMut::from(&b"XYZ\r\nPING\r\n"[..]);
    assert_eq!(p.next_op(&mut buf), Err(ParseError::UnknownOp));
    assert_eq!(p.next_op(&mut buf), Ok(Some(ServerOp::Ping)));
}
