//! Tests of [`ClientParser`] against the reference server's observed behaviour.

use bytes::{Bytes, BytesMut};

use super::ClientParser;
use crate::{encode, ClientOp, ConnectInfo, ParseError, ParserLimits};

/// Everything a parser yields for a byte stream, in order.
#[derive(Debug, PartialEq)]
enum Item {
    Op(ClientOp),
    Err(ParseError),
}

/// Feeds `chunks` one after the other; stops at the first closing error.
fn run(parser: &mut ClientParser, chunks: &[&[u8]]) -> Vec<Item> {
    let mut buf = BytesMut::new();
    let mut items = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        // Each call consumes bytes or returns None; bounded by the input length.
        for _ in 0..=buf.len() + 1 {
            match parser.next_op(&mut buf) {
                Ok(Some(op)) => items.push(Item::Op(op)),
                Ok(None) => break,
                Err(e) => {
                    let closes = e.closes();
                    items.push(Item::Err(e));
                    if closes {
                        return items;
                    }
                }
            }
        }
    }
    items
}

fn parse(input: &[u8]) -> Vec<Item> {
    run(&mut ClientParser::new(ParserLimits::default()), &[input])
}

fn with_headers() -> ClientParser {
    let mut p = ClientParser::new(ParserLimits::default());
    let items = run(&mut p, &[b"CONNECT {\"headers\":true}\r\n"]);
    assert_eq!(items.len(), 1);
    p
}

fn b<T: AsRef<[u8]> + ?Sized>(s: &'static T) -> Bytes {
    Bytes::from_static(s.as_ref())
}

fn pub_op(subject: &'static [u8], reply: Option<&'static [u8]>, payload: &'static [u8]) -> Item {
    Item::Op(ClientOp::Pub {
        subject: b(subject),
        reply: reply.map(b),
        payload: b(payload),
        size_width: 0,
    })
}

fn sub_op(subject: &'static [u8], queue: Option<&'static [u8]>, sid: &'static [u8]) -> Item {
    Item::Op(ClientOp::Sub {
        subject: b(subject),
        queue: queue.map(b),
        sid: b(sid),
    })
}

const TRANSCRIPT: &[u8] = b"CONNECT {\"verbose\":false,\"headers\":true}\r\n\
PING\r\nPONG\r\n+OK\r\nINFO {}\r\nSUB foo 1\r\nSUB bar q 22\r\n\
PUB foo 5\r\nhello\r\nPUB foo reply 0\r\n\r\npub\tfoo \t  2\nhi\r\n\
HPUB foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\nHPUB foo r 16 16\r\nNATS/1.0 503\r\n\r\n\r\n\
UNSUB 1\r\nunsub 22 5\r\nping\n";

fn transcript_ops() -> Vec<Item> {
    let connect = ConnectInfo {
        verbose: false,
        headers: true,
        ..ConnectInfo::default()
    };
    vec![
        Item::Op(ClientOp::Connect(Box::new(connect))),
        Item::Op(ClientOp::Ping),
        Item::Op(ClientOp::Pong),
        sub_op(b"foo", None, b"1"),
        sub_op(b"bar", Some(b"q"), b"22"),
        pub_op(b"foo", None, b"hello"),
        pub_op(b"foo", Some(b"reply"), b""),
        pub_op(b"foo", None, b"hi"),
        Item::Op(ClientOp::HPub {
            subject: b("foo"),
            reply: None,
            headers: b(b"NATS/1.0\r\n\r\n"),
            payload: b(b"hi"),
            widths: [0, 0],
        }),
        Item::Op(ClientOp::HPub {
            subject: b("foo"),
            reply: Some(b("r")),
            headers: b(b"NATS/1.0 503\r\n\r\n"),
            payload: b(b""),
            widths: [0, 0],
        }),
        Item::Op(ClientOp::Unsub {
            sid: b("1"),
            max: None,
        }),
        Item::Op(ClientOp::Unsub {
            sid: b("22"),
            max: Some(5),
        }),
        Item::Op(ClientOp::Ping),
    ]
}

#[test]
fn whole_transcript() {
    assert_eq!(parse(TRANSCRIPT), transcript_ops());
}

#[test]
fn transcript_split_at_every_byte_boundary() {
    let want = transcript_ops();
    for cut in 0..=TRANSCRIPT.len() {
        let mut p = ClientParser::new(ParserLimits::default());
        let got = run(&mut p, &[&TRANSCRIPT[..cut], &TRANSCRIPT[cut..]]);
        assert_eq!(got, want, "cut at {cut}");
    }
}

#[test]
fn transcript_one_byte_at_a_time() {
    let chunks: Vec<&[u8]> = TRANSCRIPT.chunks(1).collect();
    let mut p = ClientParser::new(ParserLimits::default());
    assert_eq!(run(&mut p, &chunks), transcript_ops());
}

#[test]
fn op_names_any_case_and_tabs() {
    assert_eq!(
        parse(b"SuB\t\tfoo \t q\t 9\r\n"),
        vec![sub_op(b"foo", Some(b"q"), b"9")]
    );
    assert_eq!(
        parse(b"PiNg\nPONG\r\n"),
        vec![Item::Op(ClientOp::Ping), Item::Op(ClientOp::Pong)]
    );
    assert_eq!(
        parse(b"PUB foo 2 \r\nhi\r\n"),
        vec![pub_op(b"foo", None, b"hi")]
    );
    assert_eq!(
        parse(b"PUB foo 000000002\r\nhi\r\n"),
        vec![Item::Op(ClientOp::Pub {
            subject: b("foo"),
            reply: None,
            payload: b(b"hi"),
            size_width: 9,
        })]
    );
}

#[test]
fn ping_pong_ok_ignore_the_rest_of_the_line() {
    let mut long = b"PING".to_vec();
    long.extend(std::iter::repeat_n(b'x', 10_000));
    long.extend_from_slice(b"\r\n+okay\r\npong bar\n");
    assert_eq!(
        parse(&long),
        vec![Item::Op(ClientOp::Ping), Item::Op(ClientOp::Pong)]
    );
}

#[test]
fn ops_the_reference_rejects_as_unknown() {
    for input in [
        &b"XYZ\r\n"[..],
        b"\r\n",
        b"\n",
        b" PING\r\n",
        b"+O\r\n",
        b"-ERR\r\n",
        b"MSG foo 1 2\r\nhi\r\n",
        b"PUB\r\n",
        b"PUBfoo 2\r\n",
        b"SUB\r\n",
        b"UNSUB\r\n",
        b"HPUB\r\n",
        b"HMSG\r\n",
        b"PX",
    ] {
        assert_eq!(
            parse(input),
            vec![Item::Err(ParseError::UnknownOp)],
            "{input:?}"
        );
    }
}

#[test]
fn payload_must_end_in_crlf() {
    for input in [
        &b"PUB foo 2\r\nhiX\r\n"[..],
        b"PUB foo 2\r\nhi\n",
        b"PUB foo 2\r\nhi\rX",
        b"PUB foo 2\r\nhi\r\nXYZ\r\n",
    ] {
        let got = parse(input);
        assert_eq!(
            got.last(),
            Some(&Item::Err(ParseError::UnknownOp)),
            "{input:?}"
        );
    }
    // The error is reported as soon as the wrong byte is there.
    assert_eq!(
        parse(b"PUB foo 2\r\nhiX"),
        vec![Item::Err(ParseError::UnknownOp)]
    );
}

#[test]
fn bad_arguments_close_silently() {
    for (input, err) in [
        (&b"PUB foo\r\n"[..], ParseError::InvalidPub),
        (b"PUB \r\n", ParseError::InvalidPub),
        (b"PUB foo bar baz 2\r\n", ParseError::InvalidPub),
        (b"PUB foo x\r\n", ParseError::InvalidPub),
        (b"PUB foo -1\r\n", ParseError::InvalidPub),
        (b"PUB foo 1234567890\r\n", ParseError::InvalidPub),
        (b"PUB foo\r2\r\nhi\r\n", ParseError::InvalidPub),
        (b"PUB foo 2\rX\n", ParseError::InvalidPub),
        (b"SUB foo\r\n", ParseError::InvalidSub),
        (b"SUB a b c d\r\n", ParseError::InvalidSub),
        (b"UNSUB 1 2 3\r\n", ParseError::InvalidUnsub),
        (b"CONNECT\r\n", ParseError::InvalidConnect),
        (b"CONNECT {bad\r\n", ParseError::InvalidConnect),
        (
            b"CONNECT {\"verbose\":\"x\"}\r\n",
            ParseError::InvalidConnect,
        ),
        (b"CONNECT {} extra\r\n", ParseError::InvalidConnect),
        (b"INFO {bad\r\n", ParseError::InvalidInfo),
        (b"INFO\r\n", ParseError::InvalidInfo),
        (b"-ERR 'x'\r\n", ParseError::PeerErr),
    ] {
        assert_eq!(parse(input), vec![Item::Err(err.clone())], "{input:?}");
        assert_eq!(err.wire_text(), None);
        assert!(err.closes());
    }
}

#[test]
fn reference_quirks_with_stray_cr_and_lf() {
    // A CR inside the argument drops the byte before the LF.
    assert_eq!(parse(b"SUB foo 1\rX\n"), vec![sub_op(b"foo", None, b"1")]);
    // The first byte of an argument is never a line end.
    assert_eq!(
        parse(b"PUB \nfoo 2\r\nhi\r\n"),
        vec![pub_op(b"\nfoo", None, b"hi")]
    );
    // An UNSUB max that is not a number means "no max" (immediate unsubscribe).
    assert_eq!(
        parse(b"UNSUB 1 abc\r\n"),
        vec![Item::Op(ClientOp::Unsub {
            sid: b("1"),
            max: None
        })]
    );
    // Leading separators before a CONNECT body are skipped and not counted.
    let mut spaced = b"CONNECT".to_vec();
    spaced.extend(std::iter::repeat_n(b' ', 5000));
    spaced.extend_from_slice(b"{}\r\n");
    assert_eq!(
        parse(&spaced),
        vec![Item::Op(ClientOp::Connect(Box::default()))]
    );
    assert_eq!(
        parse(b"CONNECT{\"verbose\":false}\r\n"),
        vec![Item::Op(ClientOp::Connect(Box::new(ConnectInfo {
            verbose: false,
            ..ConnectInfo::default()
        })))]
    );
}

#[test]
fn client_info_and_ok_are_ignored_and_hmsg_does_not_close() {
    assert_eq!(
        parse(b"INFO {}\r\n+OK\r\nPING\r\n"),
        vec![Item::Op(ClientOp::Ping)]
    );
    assert_eq!(
        parse(b"HMSG foo 1 2\r\n\r\nPING\r\n"),
        vec![
            Item::Err(ParseError::HmsgFromClient),
            Item::Op(ClientOp::Ping)
        ]
    );
    assert!(!ParseError::HmsgFromClient.closes());
    assert_eq!(
        parse(b"HMSG foo 1 2\r\nXY"),
        vec![Item::Err(ParseError::UnknownOp)]
    );
}

fn pub_with_subject_len(n: usize) -> Vec<u8> {
    let mut v = b"PUB ".to_vec();
    v.extend(std::iter::repeat_n(b'a', n));
    v.extend_from_slice(b" 1\r\nx\r\n");
    v
}

#[test]
fn max_control_line_counts_the_argument() {
    // Argument = subject + " 1": 4096 is fine, 4097 is not.
    assert_eq!(parse(&pub_with_subject_len(4094)).len(), 1);
    assert!(matches!(parse(&pub_with_subject_len(4094))[0], Item::Op(_)));
    assert_eq!(
        parse(&pub_with_subject_len(4095)),
        vec![Item::Err(ParseError::MaxControlLine)]
    );
    assert_eq!(
        ParseError::MaxControlLine.wire_text(),
        Some("maximum control line exceeded")
    );
    // Without a newline: an error once more than 4096 argument bytes are pending.
    let mut p = ClientParser::new(ParserLimits::default());
    let mut line = b"SUB ".to_vec();
    line.extend(std::iter::repeat_n(b'a', 4096));
    let mut buf = BytesMut::from(&line[..]);
    assert_eq!(p.next_op(&mut buf), Ok(None));
    buf.extend_from_slice(b"a");
    assert_eq!(p.next_op(&mut buf), Err(ParseError::MaxControlLine));
    // A trailing CR is not counted.
    let mut p = ClientParser::new(ParserLimits::default());
    let mut line = b"SUB ".to_vec();
    line.extend(std::iter::repeat_n(b'a', 4096));
    line.push(b'\r');
    assert_eq!(run(&mut p, &[&line]), vec![]);
    // Custom limits apply to every op with an argument.
    let limits = ParserLimits {
        max_control_line: 10,
        max_payload: 100,
    };
    let mut p = ClientParser::new(limits);
    assert_eq!(
        run(&mut p, &[b"CONNECT {\"name\":\"abc\"}\r\n"]),
        vec![Item::Err(ParseError::MaxControlLine)]
    );
    p.set_limits(ParserLimits::default());
    assert_eq!(p.limits(), ParserLimits::default());
}

#[test]
fn max_payload_is_checked_before_the_payload() {
    assert_eq!(
        parse(b"PUB foo 1048577\r\n"),
        vec![Item::Err(ParseError::MaxPayload)]
    );
    assert_eq!(parse(b"PUB foo 1048576\r\n"), vec![]);
    let mut p = with_headers();
    assert_eq!(
        run(&mut p, &[b"HPUB foo 1 1048577\r\n"]),
        vec![Item::Err(ParseError::MaxPayload)]
    );
    assert_eq!(
        ParseError::MaxPayload.wire_text(),
        Some("Maximum Payload Violation")
    );
    let unlimited = ParserLimits {
        max_control_line: 4096,
        max_payload: -1,
    };
    let mut p = ClientParser::new(unlimited);
    assert_eq!(run(&mut p, &[b"PUB foo 999999999\r\n"]), vec![]);
}

#[test]
fn hpub_needs_negotiated_headers() {
    assert_eq!(
        parse(b"HPUB foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\n"),
        vec![Item::Err(ParseError::HeadersNotSupported)]
    );
    let mut p = with_headers();
    p.set_server_headers(false);
    assert!(!p.headers_enabled());
    assert_eq!(
        run(&mut p, &[b"HPUB foo 1 2\r\nab\r\n"]),
        vec![Item::Err(ParseError::HeadersNotSupported)]
    );
}

#[test]
fn hpub_arguments() {
    for input in [
        &b"HPUB foo 3 2\r\n"[..],
        b"HPUB foo 2\r\n",
        b"HPUB foo x 2\r\n",
        b"HPUB foo a b c d\r\n",
    ] {
        let mut p = with_headers();
        assert_eq!(
            run(&mut p, &[input]),
            vec![Item::Err(ParseError::InvalidHpub)],
            "{input:?}"
        );
    }
    // Header blocks are not validated (the reference forwards them as they are).
    let mut p = with_headers();
    assert_eq!(
        run(
            &mut p,
            &[b"HPUB foo 5 7\r\nXXXXXhi\r\nHPUB foo 0 2\r\nhi\r\n"]
        ),
        vec![
            Item::Op(ClientOp::HPub {
                subject: b("foo"),
                reply: None,
                headers: b(b"XXXXX"),
                payload: b(b"hi"),
                widths: [0, 0],
            }),
            Item::Op(ClientOp::HPub {
                subject: b("foo"),
                reply: None,
                headers: b(b""),
                payload: b(b"hi"),
                widths: [0, 0],
            }),
        ]
    );
}

#[test]
fn second_connect_merges_into_the_first() {
    let mut p = with_headers();
    let items = run(&mut p, &[b"CONNECT {\"no_responders\":true}\r\n"]);
    let Some(Item::Op(ClientOp::Connect(info))) = items.first() else {
        panic!("expected CONNECT, got {items:?}");
    };
    assert!(info.headers && info.no_responders);
    assert!(p.connect_info().headers);
    // Keys match case-insensitively, as in the reference.
    let items = run(&mut p, &[b"CONNECT {\"VERBOSE\":false}\r\n"]);
    assert!(matches!(&items[0], Item::Op(ClientOp::Connect(i)) if !i.verbose));
}

#[test]
fn auth_required_means_connect_first() {
    for input in [&b"PING\r\n"[..], b"XYZ\r\n", b"\r\n", b"P"] {
        let mut p = ClientParser::new(ParserLimits::default());
        p.set_auth_required(true);
        assert_eq!(
            run(&mut p, &[input]),
            vec![Item::Err(ParseError::AuthViolation)],
            "{input:?}"
        );
    }
    assert_eq!(
        ParseError::AuthViolation.wire_text(),
        Some("Authorization Violation")
    );
    let mut p = ClientParser::new(ParserLimits::default());
    p.set_auth_required(true);
    assert_eq!(
        run(&mut p, &[b"cXYZ\r\n"]),
        vec![Item::Err(ParseError::UnknownOp)]
    );
    let mut p = ClientParser::new(ParserLimits::default());
    p.set_auth_required(true);
    let items = run(&mut p, &[b"connect {}\r\nPING\r\n"]);
    assert_eq!(items.len(), 2);
    assert_eq!(items[1], Item::Op(ClientOp::Ping));
}

#[test]
fn payloads_are_zero_copy_slices_of_the_read_buffer() {
    let mut p = ClientParser::new(ParserLimits::default());
    let mut buf = BytesMut::from(&b"PUB subj 5\r\nhello\r\n"[..]);
    let base = buf.as_ptr() as usize;
    let Ok(Some(ClientOp::Pub {
        subject, payload, ..
    })) = p.next_op(&mut buf)
    else {
        panic!("expected PUB");
    };
    assert_eq!(subject.as_ptr() as usize, base + 4);
    assert_eq!(payload.as_ptr() as usize, base + 12);
    assert!(buf.is_empty());
}

#[test]
fn large_payload_in_many_chunks() {
    let payload = vec![b'z'; 200_000];
    let mut wire = BytesMut::new();
    encode::pub_msg(&mut wire, b"big", Some(b"inbox"), &payload);
    let mut p = ClientParser::new(ParserLimits::default());
    let mut buf = BytesMut::new();
    let mut got = None;
    for chunk in wire.chunks(1000) {
        buf.extend_from_slice(chunk);
        if let Some(op) = p.next_op(&mut buf).expect("valid") {
            assert!(got.is_none());
            got = Some(op);
        }
    }
    assert_eq!(
        got,
        Some(ClientOp::Pub {
            subject: b("big"),
            reply: Some(b("inbox")),
            payload: Bytes::from(payload),
            size_width: 0,
        })
    );
}

#[test]
fn parser_resynchronises_after_an_error() {
    let mut p = ClientParser::new(ParserLimits::default());
    let mut buf = BytesMut::from(&b"XYZ\r\nPING\r\n"[..]);
    assert_eq!(p.next_op(&mut buf), Err(ParseError::UnknownOp));
    assert_eq!(p.next_op(&mut buf), Ok(Some(ClientOp::Ping)));
}

#[test]
fn encoded_client_ops_round_trip() {
    let mut wire = BytesMut::new();
    let connect = ConnectInfo {
        verbose: false,
        pedantic: false,
        headers: true,
        no_responders: true,
        name: Some("n".into()),
        user: Some("u".into()),
        protocol: 1,
        ..ConnectInfo::default()
    };
    encode::connect(&mut wire, &connect);
    encode::sub(&mut wire, b"a.*", Some(b"q"), b"7");
    encode::pub_msg(&mut wire, b"a.b", None, b"payload");
    encode::hpub(
        &mut wire,
        b"a.b",
        Some(b"r"),
        b"NATS/1.0\r\nK: v\r\n\r\n",
        b"p",
    );
    encode::unsub(&mut wire, b"7", Some(3));
    encode::ping(&mut wire);
    encode::pong(&mut wire);
    assert_eq!(
        parse(&wire),
        vec![
            Item::Op(ClientOp::Connect(Box::new(connect))),
            sub_op(b"a.*", Some(b"q"), b"7"),
            pub_op(b"a.b", None, b"payload"),
            Item::Op(ClientOp::HPub {
                subject: b("a.b"),
                reply: Some(b("r")),
                headers: b(b"NATS/1.0\r\nK: v\r\n\r\n"),
                payload: b(b"p"),
                widths: [0, 0],
            }),
            Item::Op(ClientOp::Unsub {
                sid: b("7"),
                max: Some(3)
            }),
            Item::Op(ClientOp::Ping),
            Item::Op(ClientOp::Pong),
        ]
    );
}

#[test]
fn sizes_with_leading_zeros_remember_their_width() {
    let mut p = ClientParser::new(ParserLimits::default());
    let mut buf =
        BytesMut::from(&b"PUB foo 0002\r\nhi\r\nHPUB h 012 0014\r\nNATS/1.0\r\n\r\nhi\r\n"[..]);
    match p.next_op(&mut buf) {
        Ok(Some(ClientOp::Pub { size_width, .. })) => assert_eq!(size_width, 4),
        other => panic!("{other:?}"),
    }
    p.connect_info();
    let mut p = ClientParser::new(ParserLimits::default());
    let mut buf = BytesMut::from(
        &b"CONNECT {\"headers\":true}\r\nHPUB h 012 0014\r\nNATS/1.0\r\n\r\nhi\r\n"[..],
    );
    assert!(matches!(
        p.next_op(&mut buf),
        Ok(Some(ClientOp::Connect(_)))
    ));
    match p.next_op(&mut buf) {
        Ok(Some(ClientOp::HPub { widths, .. })) => assert_eq!(widths, [3, 4]),
        other => panic!("{other:?}"),
    }
}
