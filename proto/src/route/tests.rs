//! Tests of the route parser and encoders over bytes captured from `nats-server` 2.15.1.
//!
//! Fixtures (`fixtures/*.bin`) are the raw byte streams of the route connections between
//! two reference servers, recorded by a TCP proxy (`fixtures/proxy.py`, turned into files by
//! `fixtures/mkfix.py`). `t1`: two servers, default options (pool of 3 + a `$SYS` pinned
//! connection), clients exercising plain/queue/header messages. `t2`: accounts `ACC1`
//! (pinned with `cluster { accounts: [ACC1] }`) and `ACC2`, plus a leafnode server of
//! cluster `leafc` bound to `ACC2` (for `LS+`/`LS-`/`LMSG`). `solicitor` = bytes the server
//! that dialled sent, `acceptor` = bytes the server that accepted sent.

use bytes::{Bytes, BytesMut};

use super::{encode, QueueNames, RouteOp, RouteParseError, RouteParser};
use crate::ParserLimits;

/// A fixture and the account the connection is pinned to, which the parser of the
/// acceptor's bytes (the soliciting side) must be told (the acceptor's INFO lacks it).
const FIXTURES: &[(&str, &[u8], Option<&str>)] = &[
    (
        "t1-c1-solicitor",
        include_bytes!("fixtures/t1-c1-solicitor.bin"),
        None,
    ),
    (
        "t1-c1-acceptor",
        include_bytes!("fixtures/t1-c1-acceptor.bin"),
        None,
    ),
    (
        "t1-c2-solicitor",
        include_bytes!("fixtures/t1-c2-solicitor.bin"),
        None,
    ),
    (
        "t1-c2-acceptor",
        include_bytes!("fixtures/t1-c2-acceptor.bin"),
        Some("$SYS"),
    ),
    (
        "t1-c3-solicitor",
        include_bytes!("fixtures/t1-c3-solicitor.bin"),
        None,
    ),
    (
        "t1-c3-acceptor",
        include_bytes!("fixtures/t1-c3-acceptor.bin"),
        None,
    ),
    (
        "t1-c4-solicitor",
        include_bytes!("fixtures/t1-c4-solicitor.bin"),
        None,
    ),
    (
        "t1-c4-acceptor",
        include_bytes!("fixtures/t1-c4-acceptor.bin"),
        None,
    ),
    (
        "t2-c1-solicitor",
        include_bytes!("fixtures/t2-c1-solicitor.bin"),
        None,
    ),
    (
        "t2-c1-acceptor",
        include_bytes!("fixtures/t2-c1-acceptor.bin"),
        Some("$SYS"),
    ),
    (
        "t2-c2-solicitor",
        include_bytes!("fixtures/t2-c2-solicitor.bin"),
        None,
    ),
    (
        "t2-c2-acceptor",
        include_bytes!("fixtures/t2-c2-acceptor.bin"),
        None,
    ),
    (
        "t2-c3-solicitor",
        include_bytes!("fixtures/t2-c3-solicitor.bin"),
        None,
    ),
    (
        "t2-c3-acceptor",
        include_bytes!("fixtures/t2-c3-acceptor.bin"),
        Some("ACC1"),
    ),
    (
        "t2-c4-solicitor",
        include_bytes!("fixtures/t2-c4-solicitor.bin"),
        None,
    ),
    (
        "t2-c4-acceptor",
        include_bytes!("fixtures/t2-c4-acceptor.bin"),
        None,
    ),
    (
        "t2-c5-solicitor",
        include_bytes!("fixtures/t2-c5-solicitor.bin"),
        None,
    ),
    (
        "t2-c5-acceptor",
        include_bytes!("fixtures/t2-c5-acceptor.bin"),
        None,
    ),
];

fn parser_for(pinned: Option<&str>) -> RouteParser {
    let mut p = RouteParser::default();
    p.set_pinned_account(pinned.map(|a| Bytes::copy_from_slice(a.as_bytes())));
    p
}

/// Parses `chunks` fed one after the other; returns the ops and the first error.
fn parse_chunks(
    p: &mut RouteParser,
    chunks: &[&[u8]],
) -> (Vec<RouteOp>, Option<RouteParseError>, usize) {
    let mut buf = BytesMut::new();
    let mut ops = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        for _ in 0..=buf.len() {
            match p.next_op(&mut buf) {
                Ok(Some(op)) => ops.push(op),
                Ok(None) => break,
                Err(e) => return (ops, Some(e), buf.len()),
            }
        }
    }
    (ops, None, buf.len())
}

fn parse_all(pinned: Option<&str>, data: &[u8]) -> Vec<RouteOp> {
    let (ops, err, left) = parse_chunks(&mut parser_for(pinned), &[data]);
    assert_eq!(err, None);
    assert_eq!(left, 0, "bytes left over");
    ops
}

fn parse_one(p: &mut RouteParser, data: &[u8]) -> Result<Option<RouteOp>, RouteParseError> {
    let mut buf = BytesMut::from(data);
    p.next_op(&mut buf)
}

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

fn fixture(name: &str) -> (&'static [u8], Option<&'static str>) {
    FIXTURES
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, d, p)| (*d, *p))
        .expect("known fixture")
}

#[test]
fn every_fixture_parses_completely() {
    for (name, data, pinned) in FIXTURES {
        let (ops, err, left) = parse_chunks(&mut parser_for(*pinned), &[data]);
        assert_eq!(err, None, "{name}");
        assert_eq!(left, 0, "{name}: bytes left over");
        assert!(ops.len() >= 3, "{name}: {} ops", ops.len());
        assert!(
            matches!(ops.first(), Some(RouteOp::Info(_) | RouteOp::Connect(_))),
            "{name} starts with the handshake"
        );
    }
}

#[test]
fn fixtures_reencode_byte_for_byte() {
    // Our encoders write exactly what the reference wrote: JSON field order, markers,
    // sizes, the space before the INFO line end.
    for (name, data, pinned) in FIXTURES {
        let mut out = BytesMut::new();
        for op in parse_all(*pinned, data) {
            encode::op(&mut out, &op);
        }
        assert_eq!(
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(data),
            "{name}"
        );
    }
}

#[test]
fn every_split_point_gives_the_same_ops() {
    for name in [
        "t1-c4-solicitor",
        "t1-c4-acceptor",
        "t2-c3-solicitor",
        "t2-c3-acceptor",
        "t2-c5-acceptor",
        "t2-c5-solicitor",
    ] {
        let (data, pinned) = fixture(name);
        let whole = parse_all(pinned, data);
        for cut in 0..=data.len() {
            let (ops, err, left) =
                parse_chunks(&mut parser_for(pinned), &[&data[..cut], &data[cut..]]);
            assert_eq!((err, left), (None, 0), "{name} cut at {cut}");
            assert_eq!(ops, whole, "{name} cut at {cut}");
        }
        let bytes: Vec<&[u8]> = data.chunks(1).collect();
        let (ops, err, _) = parse_chunks(&mut parser_for(pinned), &bytes);
        assert_eq!(err, None);
        assert_eq!(ops, whole, "{name} one byte at a time");
    }
}

#[test]
fn handshake_fields_from_captures() {
    let ops = parse_all(None, fixture("t1-c4-solicitor").0);
    let RouteOp::Connect(c) = &ops[0] else {
        panic!("CONNECT first: {:?}", ops[0]);
    };
    assert!(c.echo && !c.verbose && !c.pedantic && c.headers && c.lnoc && c.ln);
    assert_eq!(c.cluster, "t");
    assert_eq!(
        c.name,
        "NCD2PRMDHO6XJYQ727A3OVDJFD4BJ5RQ7DODXHXY22VCSDS7OGN5HALY"
    );
    let RouteOp::Info(i) = &ops[1] else {
        panic!("INFO second: {:?}", ops[1]);
    };
    assert_eq!(i.server_name, "B");
    assert_eq!(i.proto, 3);
    assert_eq!(i.port, 26223);
    assert_eq!(i.route_pool_size, 3);
    assert_eq!(i.route_pool_idx, 2);
    assert_eq!(i.compression, "off");
    assert_eq!(i.connect_urls, vec!["127.0.0.1:24223".to_owned()]);
    assert!(i.lnoc && i.lnocu && i.ln && i.route_account.is_empty());

    let ops = parse_all(Some("$SYS"), fixture("t2-c1-acceptor").0);
    let RouteOp::Info(i) = &ops[0] else {
        panic!("INFO first");
    };
    assert_eq!(i.compression, "off");
    assert_eq!(i.leafnode_urls, vec!["127.0.0.1:27422".to_owned()]);
}

#[test]
fn pinned_account_learned_from_first_info() {
    let mut p = RouteParser::default();
    let (ops, err, _) = parse_chunks(&mut p, &[fixture("t2-c3-solicitor").0]);
    assert_eq!(err, None);
    assert_eq!(p.pinned_account(), Some(&b("ACC1")));
    assert!(p.leaf_unsub_origin());
    assert!(ops.contains(&RouteOp::Msg {
        account: None,
        subject: b("p1q"),
        reply: Some(b("rq")),
        queues: QueueNames::from_names(["qq"]),
        payload: b("x"),
    }));
    assert!(ops.contains(&RouteOp::HMsg {
        account: None,
        subject: b("p1q"),
        reply: None,
        queues: QueueNames::from_names(["qq"]),
        headers: b("NATS/1.0\r\n\r\n"),
        payload: Bytes::new(),
    }));
    // A later INFO does not unpin.
    let mut buf = BytesMut::from(&br#"INFO {"server_id":"X"}"#[..]);
    buf.extend_from_slice(b"\r\nRS- a b\r\n");
    assert!(matches!(p.next_op(&mut buf), Ok(Some(RouteOp::Info(_)))));
    assert_eq!(
        p.next_op(&mut buf),
        Ok(Some(RouteOp::Unsub {
            account: None,
            subject: b("a"),
            queue: Some(b("b")),
        }))
    );
}

#[test]
fn pinned_lines_from_captures() {
    let ops = parse_all(Some("ACC1"), fixture("t2-c3-acceptor").0);
    let want = [
        RouteOp::Sub {
            account: None,
            subject: b("p1"),
            queue: None,
        },
        RouteOp::Sub {
            account: None,
            subject: b("p1q"),
            queue: Some((b("qq"), 2)),
        },
        RouteOp::Unsub {
            account: None,
            subject: b("p1q"),
            queue: Some(b("qq")),
        },
    ];
    for w in &want {
        assert!(ops.contains(w), "missing {w:?}");
    }
}

#[test]
fn queue_and_header_messages_from_captures() {
    let ops = parse_all(None, fixture("t1-c4-solicitor").0);
    let want = [
        RouteOp::Msg {
            account: Some(b("$G")),
            subject: b("foo"),
            reply: Some(b("rep.1")),
            queues: QueueNames::default(),
            payload: b("hello"),
        },
        RouteOp::HMsg {
            account: Some(b("$G")),
            subject: b("foo"),
            reply: None,
            queues: QueueNames::default(),
            headers: b("NATS/1.0\r\nX-A: b\r\n\r\n"),
            payload: b("hello"),
        },
        RouteOp::Msg {
            account: Some(b("$G")),
            subject: b("bar"),
            reply: None,
            queues: QueueNames::from_names(["q1"]),
            payload: b("qqq"),
        },
        RouteOp::Msg {
            account: Some(b("$G")),
            subject: b("bar"),
            reply: Some(b("r.q")),
            queues: QueueNames::from_names(["q1"]),
            payload: b("qqq"),
        },
        RouteOp::Msg {
            account: Some(b("$G")),
            subject: b("baz.x"),
            reply: None,
            queues: QueueNames::from_names(["q2"]),
            payload: Bytes::new(),
        },
        RouteOp::HMsg {
            account: Some(b("$G")),
            subject: b("bar"),
            reply: None,
            queues: QueueNames::from_names(["q1"]),
            headers: b("NATS/1.0\r\n\r\n"),
            payload: b("hq"),
        },
    ];
    for w in &want {
        assert!(ops.contains(w), "missing {w:?}");
    }
    let acc = parse_all(None, fixture("t1-c4-acceptor").0);
    assert!(acc.contains(&RouteOp::Sub {
        account: Some(b("$G")),
        subject: b("bar"),
        queue: Some((b("q1"), 2)),
    }));
    assert!(acc.contains(&RouteOp::Unsub {
        account: Some(b("$G")),
        subject: b("wild.>"),
        queue: None,
    }));
}

#[test]
fn leaf_forms_from_captures() {
    let ops = parse_all(None, fixture("t2-c5-acceptor").0);
    let want = [
        RouteOp::LeafSub {
            origin: b("leafc"),
            account: Some(b("ACC2")),
            subject: b("lq"),
            queue: Some((b("grp"), 1)),
        },
        RouteOp::LeafUnsub {
            origin: Some(b("leafc")),
            account: Some(b("ACC2")),
            subject: b("lq"),
            queue: Some(b("grp")),
        },
        RouteOp::LMsg {
            origin: b("leafc"),
            account: Some(b("ACC2")),
            subject: b("lq2"),
            reply: Some(b("rr")),
            queues: QueueNames::from_names(["grp2"]),
            headers: Bytes::new(),
            payload: b("hi"),
        },
        RouteOp::LMsg {
            origin: b("leafc"),
            account: Some(b("ACC2")),
            subject: b("fromleaf"),
            reply: None,
            queues: QueueNames::default(),
            headers: b("NATS/1.0\r\n\r\n"),
            payload: b("hi"),
        },
    ];
    for w in &want {
        assert!(ops.contains(w), "missing {w:?}");
    }
}

#[test]
fn account_forms_depend_on_pinning() {
    let line = b"RMSG a b c 1\r\nx\r\n";
    let mut open = RouteParser::default();
    assert_eq!(
        parse_one(&mut open, line),
        Ok(Some(RouteOp::Msg {
            account: Some(b("a")),
            subject: b("b"),
            reply: Some(b("c")),
            queues: QueueNames::default(),
            payload: b("x"),
        }))
    );
    let mut pinned = parser_for(Some("ACC"));
    assert_eq!(
        parse_one(&mut pinned, line),
        Err(RouteParseError::BadReplyMarker)
    );
    assert_eq!(
        parse_one(&mut pinned, b"RMSG b + c q1 q2 1\r\nx\r\n"),
        Ok(Some(RouteOp::Msg {
            account: None,
            subject: b("b"),
            reply: Some(b("c")),
            queues: QueueNames::from_names(["q1", "q2"]),
            payload: b("x"),
        }))
    );
    // LS- with and without origin.
    let mut p = RouteParser::default();
    assert_eq!(
        parse_one(&mut p, b"LS- $G foo\r\n"),
        Ok(Some(RouteOp::LeafUnsub {
            origin: None,
            account: Some(b("$G")),
            subject: b("foo"),
            queue: None,
        }))
    );
    p.set_leaf_unsub_origin(true);
    assert_eq!(
        parse_one(&mut p, b"LS- $G foo\r\n"),
        Err(RouteParseError::InvalidUnsub)
    );
}

#[test]
fn many_queues_and_odd_spacing() {
    let names: Vec<String> = (0..50).map(|i| format!("q{i}")).collect();
    let mut out = BytesMut::new();
    encode::rmsg(
        &mut out,
        Some(b"$G"),
        b"s",
        Some(b"r"),
        QueueNames::from_names(&names).as_wire(),
        b"hi",
    );
    let ops = parse_all(None, &out);
    let RouteOp::Msg { queues, .. } = &ops[0] else {
        panic!("msg");
    };
    let got: Vec<Bytes> = queues.iter().collect();
    assert_eq!(got.len(), 50);
    assert_eq!(got[49], b("q49"));
    assert_eq!(
        parse_all(None, b"rmsg\t $G  foo\t|  q1 \tq2  2 \r\nhi\r\n"),
        vec![RouteOp::Msg {
            account: Some(b("$G")),
            subject: b("foo"),
            reply: None,
            queues: QueueNames::from_wire(b("q1 \tq2")),
            payload: b("hi"),
        }]
    );
}

#[test]
fn round_trips() {
    let ops = vec![
        RouteOp::Ping,
        RouteOp::Pong,
        RouteOp::Ok,
        RouteOp::Err("Rejecting connection, cluster name \"a\" does not match \"b\"".into()),
        RouteOp::Sub {
            account: Some(b("$G")),
            subject: b("a.*"),
            queue: Some((b("q"), 123456)),
        },
        RouteOp::Unsub {
            account: Some(b("$G")),
            subject: b("a.*"),
            queue: None,
        },
        RouteOp::LeafSub {
            origin: b("o"),
            account: Some(b("A")),
            subject: b(">"),
            queue: None,
        },
        RouteOp::LeafUnsub {
            origin: Some(b("o")),
            account: Some(b("A")),
            subject: b(">"),
            queue: Some(b("q")),
        },
        RouteOp::Msg {
            account: Some(b("A")),
            subject: b("s"),
            reply: None,
            queues: QueueNames::default(),
            payload: Bytes::from(vec![b'\n'; 70000]),
        },
        RouteOp::HMsg {
            account: Some(b("A")),
            subject: b("s"),
            reply: Some(b("r")),
            queues: QueueNames::from_names(["a", "b"]),
            headers: b("NATS/1.0\r\nK: v\r\n\r\n"),
            payload: b("\r\n"),
        },
        RouteOp::LMsg {
            origin: b("o"),
            account: Some(b("A")),
            subject: b("s"),
            reply: None,
            queues: QueueNames::from_names(["a"]),
            headers: Bytes::new(),
            payload: b("p"),
        },
    ];
    let mut wire = BytesMut::new();
    for op in &ops {
        encode::op(&mut wire, op);
    }
    let mut p = RouteParser::default();
    p.set_leaf_unsub_origin(true);
    let (got, err, left) = parse_chunks(&mut p, &[&wire]);
    assert_eq!((err, left), (None, 0));
    assert_eq!(got, ops);

    let pinned_ops = vec![
        RouteOp::Sub {
            account: None,
            subject: b("x"),
            queue: Some((b("q"), 1)),
        },
        RouteOp::Msg {
            account: None,
            subject: b("x"),
            reply: Some(b("r")),
            queues: QueueNames::default(),
            payload: b("1"),
        },
        RouteOp::LMsg {
            origin: b("o"),
            account: None,
            subject: b("s"),
            reply: Some(b("r")),
            queues: QueueNames::from_names(["a"]),
            headers: b("H"),
            payload: b("p"),
        },
    ];
    let mut wire = BytesMut::new();
    for op in &pinned_ops {
        encode::op(&mut wire, op);
    }
    let (got, err, _) = parse_chunks(&mut parser_for(Some("P")), &[&wire]);
    assert_eq!(err, None);
    assert_eq!(got, pinned_ops);
}

#[test]
fn encoders_write_reference_lines() {
    let mut out = BytesMut::new();
    encode::rs_sub(&mut out, Some(b"$G"), b"bar", Some((b"q1", 2)));
    encode::rs_unsub(&mut out, None, b"p1q", Some(b"qq"));
    encode::rmsg(&mut out, Some(b"$G"), b"bar", Some(b"r.q"), b"q1", b"qqq");
    encode::hmsg(
        &mut out,
        None,
        b"p1q",
        None,
        b"qq",
        b"NATS/1.0\r\n\r\n",
        b"",
    );
    encode::lmsg(
        &mut out,
        b"leafc",
        Some(b"ACC2"),
        b"fromleaf",
        None,
        b"",
        b"",
        b"hi",
    );
    encode::ls_unsub(&mut out, Some(b"leafc"), Some(b"ACC2"), b"lsub", None);
    assert_eq!(
        String::from_utf8_lossy(&out),
        concat!(
            "RS+ $G bar q1 2\r\n",
            "RS- p1q qq\r\n",
            "RMSG $G bar + r.q q1 3\r\nqqq\r\n",
            "HMSG p1q | qq 12 12\r\nNATS/1.0\r\n\r\n\r\n",
            "LMSG leafc ACC2 fromleaf 0 2\r\nhi\r\n",
            "LS- leafc ACC2 lsub\r\n",
        )
    );
}

#[test]
fn malformed_inputs_give_typed_errors() {
    // Reactions observed from 2.15.1 with a raw socket acting as a route.
    use RouteParseError::*;
    let cases: &[(&[u8], RouteParseError)] = &[
        (b"RS+ $G foo q\r\n", InvalidSub),
        (b"RS+ $G foo q 1 x\r\n", InvalidSub),
        (b"RS+ $G\r\n", InvalidSub),
        (b"RS+$G foo\r\n", UnknownOp),
        (b"RS- $G foo q x\r\n", InvalidUnsub),
        (b"RS* $G foo\r\n", UnknownOp),
        (b"RMSG $G 2\r\nhi\r\n", InvalidMsg),
        (b"RMSG $G foo x q 2\r\nhi\r\n", BadReplyMarker),
        (b"RMSG $G foo ++ r q 2\r\nhi\r\n", BadReplyMarker),
        (b"RMSG $G foo x\r\nhi\r\n", BadSize),
        (b"RMSG $G foo 1234567890\r\n", BadSize),
        (b"RMSG $G foo 2\r\nhiX\r\n", UnknownOp),
        (b"HMSG $G foo 3 2\r\nhi\r\n", BadSize),
        (b"HMSG $G 0 2\r\nhi\r\n", InvalidMsg),
        (b"LMSG o $G 0 2\r\nhi\r\n", InvalidMsg),
        (b"LS+ o foo\r\n", InvalidSub),
        (b"XYZ\r\n", UnknownOp),
        (b"MSG foo 1 2\r\nhi\r\n", UnknownOp),
        (b"\r\n", UnknownOp),
        (b"INFO {bad\r\n", InvalidInfo),
        (b"INFO []\r\n", InvalidInfo),
        (b"INFO {\"port\":\"x\"}\r\n", InvalidInfo),
        (b"CONNECT {\"echo\":1}\r\n", InvalidConnect),
        (b"PUB foo x\r\n", BadSize),
        (b"PUB foo\r\n", InvalidMsg),
    ];
    for (input, want) in cases {
        let mut p = RouteParser::default();
        let (ops, err, _) = parse_chunks(&mut p, &[input]);
        assert_eq!(
            err.as_ref(),
            Some(want),
            "{:?} gave {ops:?}",
            String::from_utf8_lossy(input)
        );
    }
    assert_eq!(UnknownOp.wire_text(), Some("Unknown Protocol Operation"));
    assert_eq!(InvalidSub.wire_text(), None);
    assert!(BadSize.closes());
}

#[test]
fn accepted_oddities() {
    // All observed to be accepted by 2.15.1 (the connection stays open).
    let ops = parse_all(
        None,
        b"RS+ $G foo q x\r\nRS+ $G foo q 0\r\nrs+ $G foo\r\nRS+\t$G\tfoo\r\n\
          RMSG $G foo | 2\r\nok\r\nRMSG $G foo + r 2\r\nok\r\n+OK\r\nPING\r\n",
    );
    assert_eq!(
        ops,
        vec![
            RouteOp::Sub {
                account: Some(b("$G")),
                subject: b("foo"),
                queue: Some((b("q"), 1)),
            },
            RouteOp::Sub {
                account: Some(b("$G")),
                subject: b("foo"),
                queue: Some((b("q"), 0)),
            },
            RouteOp::Sub {
                account: Some(b("$G")),
                subject: b("foo"),
                queue: None,
            },
            RouteOp::Sub {
                account: Some(b("$G")),
                subject: b("foo"),
                queue: None,
            },
            RouteOp::Msg {
                account: Some(b("$G")),
                subject: b("foo"),
                reply: Some(b("|")),
                queues: QueueNames::default(),
                payload: b("ok"),
            },
            RouteOp::Msg {
                account: Some(b("$G")),
                subject: b("foo"),
                reply: Some(b("r")),
                queues: QueueNames::default(),
                payload: b("ok"),
            },
            RouteOp::Ok,
            RouteOp::Ping,
        ]
    );
    // Client ops are consumed and ignored (nothing is delivered by the reference).
    let ops = parse_all(
        None,
        b"PUB foo 2\r\nhi\r\nHPUB foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\nSUB foo 1\r\nUNSUB 1\r\n\
          A+ $G\r\nA- $G\r\nINFO null\r\nPONG\r\n",
    );
    assert!(matches!(ops.as_slice(), [RouteOp::Info(_), RouteOp::Pong]));
    assert_eq!(
        parse_all(None, b"-ERR 'boom'  \r\n"),
        vec![RouteOp::Err("boom".into())]
    );
}

#[test]
fn control_line_limit_is_64k() {
    let ok_line = [b"RS+ $G ".as_slice(), &vec![b'a'; 65536 - 3], b"\r\n"].concat();
    assert_eq!(parse_all(None, &ok_line).len(), 1);
    let long = [b"RS+ $G ".as_slice(), &vec![b'a'; 65536 - 2], b"\r\n"].concat();
    let (_, err, _) = parse_chunks(&mut RouteParser::default(), &[&long]);
    assert_eq!(err, Some(RouteParseError::MaxControlLine));
    // Detected before the line end arrives.
    let (_, err, _) = parse_chunks(&mut RouteParser::default(), &[&long[..65541]]);
    assert_eq!(err, Some(RouteParseError::MaxControlLine));
    // A caller-set payload limit (the reference has none on routes).
    let mut p = RouteParser::new(ParserLimits {
        max_control_line: 4096,
        max_payload: 4,
    });
    assert_eq!(
        parse_one(&mut p, b"RMSG $G foo 5\r\n"),
        Err(RouteParseError::MaxPayload)
    );
    let mut p = RouteParser::default();
    assert_eq!(parse_one(&mut p, b"RMSG $G foo 999999999\r\n"), Ok(None));
}

#[test]
fn reference_connect_matches_capture() {
    let (data, _) = fixture("t1-c4-solicitor");
    let first_line = &data[..data.iter().position(|&b| b == b'\n').unwrap_or(0) + 1];
    let mut out = BytesMut::new();
    encode::connect(
        &mut out,
        &super::RouteConnect::reference(
            "NCD2PRMDHO6XJYQ727A3OVDJFD4BJ5RQ7DODXHXY22VCSDS7OGN5HALY",
            "t",
            true,
        ),
    );
    assert_eq!(&out[..], first_line);
}

#[test]
fn gossip_info_from_capture() {
    // What A sent B (on the pool connection 0) when a third server C joined via A.
    let data = include_bytes!("fixtures/t1-gossip-info.bin");
    let ops = parse_all(None, data);
    let [RouteOp::Info(i)] = ops.as_slice() else {
        panic!("one INFO: {ops:?}");
    };
    assert_eq!(i.server_name, "C");
    assert_eq!(i.ip, "nats-route://127.0.0.1:26224/");
    assert_eq!(i.gossip_mode, 1);
    assert!(i.nonce.is_empty());
    let mut out = BytesMut::new();
    encode::info_gossip(&mut out, i);
    assert_eq!(&out[..], &data[..]);
}
