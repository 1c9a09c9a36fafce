//! Encoders: ops in, bytes appended to a caller's buffer.
//!
//! Each function reserves the exact length once and then copies the pieces in, formatting
//! numbers without allocating. The output is byte-for-byte what the reference server (for
//! server ops) or a well-behaved client (for client ops) sends.

use bytes::{BufMut, BytesMut};

use crate::{ConnectInfo, ServerInfo};

const CRLF: &[u8] = b"\r\n";

/// Appends `<verb> <a> <b>... <sizes...>\r\n<body...>\r\n`: the shape of every message op.
/// Each size is zero-padded to at least the matching entry of `widths` (0: no padding).
fn message_op(
    buf: &mut BytesMut,
    verb: &[u8],
    words: &[&[u8]],
    sizes: &[usize],
    widths: &[u8],
    bodies: &[&[u8]],
) {
    let mut nums = [itoa::Buffer::new(), itoa::Buffer::new()];
    let mut num_len = 0;
    for ((slot, &n), &w) in nums.iter_mut().zip(sizes).zip(widths) {
        num_len += 1 + slot.format(n).len().max(usize::from(w));
    }
    let words_len: usize = words.iter().map(|w| 1 + w.len()).sum();
    let body_len: usize = bodies.iter().map(|b| b.len()).sum();
    buf.reserve(verb.len() + words_len + num_len + body_len + 4);
    buf.put_slice(verb);
    for w in words {
        buf.put_u8(b' ');
        buf.put_slice(w);
    }
    for ((slot, &n), &w) in nums.iter_mut().zip(sizes).zip(widths) {
        buf.put_u8(b' ');
        let digits = slot.format(n).as_bytes();
        buf.put_bytes(b'0', usize::from(w).saturating_sub(digits.len()));
        buf.put_slice(digits);
    }
    buf.put_slice(CRLF);
    for b in bodies {
        buf.put_slice(b);
    }
    buf.put_slice(CRLF);
}

/// Appends `MSG <subject> <sid> [reply] <len>\r\n<payload>\r\n`.
pub fn msg(buf: &mut BytesMut, subject: &[u8], sid: &[u8], reply: Option<&[u8]>, payload: &[u8]) {
    msg_padded(buf, subject, sid, reply, payload, 0);
}

/// [`msg`] with the size zero-padded to `size_width` digits: the reference echoes a size
/// written with leading zeros (`PUB foo 0002`) as the publisher wrote it.
pub fn msg_padded(
    buf: &mut BytesMut,
    subject: &[u8],
    sid: &[u8],
    reply: Option<&[u8]>,
    payload: &[u8],
    size_width: u8,
) {
    let (sizes, widths) = ([payload.len()], [size_width]);
    match reply {
        Some(r) => message_op(buf, b"MSG", &[subject, sid, r], &sizes, &widths, &[payload]),
        None => message_op(buf, b"MSG", &[subject, sid], &sizes, &widths, &[payload]),
    }
}

/// Appends `HMSG <subject> <sid> [reply] <hdr len> <total len>\r\n<headers><payload>\r\n`.
pub fn hmsg(
    buf: &mut BytesMut,
    subject: &[u8],
    sid: &[u8],
    reply: Option<&[u8]>,
    headers: &[u8],
    payload: &[u8],
) {
    hmsg_padded(buf, subject, sid, reply, headers, payload, [0, 0]);
}

/// [`hmsg`] with the header and total sizes zero-padded to `widths` digits, as the
/// reference echoes sizes written with leading zeros.
pub fn hmsg_padded(
    buf: &mut BytesMut,
    subject: &[u8],
    sid: &[u8],
    reply: Option<&[u8]>,
    headers: &[u8],
    payload: &[u8],
    widths: [u8; 2],
) {
    let sizes = [headers.len(), headers.len() + payload.len()];
    let bodies = [headers, payload];
    match reply {
        Some(r) => message_op(buf, b"HMSG", &[subject, sid, r], &sizes, &widths, &bodies),
        None => message_op(buf, b"HMSG", &[subject, sid], &sizes, &widths, &bodies),
    }
}

/// Appends `PUB <subject> [reply] <len>\r\n<payload>\r\n`.
pub fn pub_msg(buf: &mut BytesMut, subject: &[u8], reply: Option<&[u8]>, payload: &[u8]) {
    match reply {
        Some(r) => message_op(
            buf,
            b"PUB",
            &[subject, r],
            &[payload.len()],
            &[0],
            &[payload],
        ),
        None => message_op(buf, b"PUB", &[subject], &[payload.len()], &[0], &[payload]),
    }
}

/// Appends `HPUB <subject> [reply] <hdr len> <total len>\r\n<headers><payload>\r\n`.
pub fn hpub(
    buf: &mut BytesMut,
    subject: &[u8],
    reply: Option<&[u8]>,
    headers: &[u8],
    payload: &[u8],
) {
    let sizes = [headers.len(), headers.len() + payload.len()];
    let bodies = [headers, payload];
    match reply {
        Some(r) => message_op(buf, b"HPUB", &[subject, r], &sizes, &[0, 0], &bodies),
        None => message_op(buf, b"HPUB", &[subject], &sizes, &[0, 0], &bodies),
    }
}

/// Appends `SUB <subject> [queue] <sid>\r\n`.
pub fn sub(buf: &mut BytesMut, subject: &[u8], queue: Option<&[u8]>, sid: &[u8]) {
    let q = queue.map_or(0, |q| q.len() + 1);
    buf.reserve(4 + subject.len() + q + 1 + sid.len() + 2);
    buf.put_slice(b"SUB ");
    buf.put_slice(subject);
    if let Some(q) = queue {
        buf.put_u8(b' ');
        buf.put_slice(q);
    }
    buf.put_u8(b' ');
    buf.put_slice(sid);
    buf.put_slice(CRLF);
}

/// Appends `UNSUB <sid> [max]\r\n`.
pub fn unsub(buf: &mut BytesMut, sid: &[u8], max: Option<u64>) {
    let mut n = itoa::Buffer::new();
    let max = max.map(|m| n.format(m).as_bytes());
    buf.reserve(6 + sid.len() + max.map_or(0, |m| m.len() + 1) + 2);
    buf.put_slice(b"UNSUB ");
    buf.put_slice(sid);
    if let Some(m) = max {
        buf.put_u8(b' ');
        buf.put_slice(m);
    }
    buf.put_slice(CRLF);
}

/// Appends `PING\r\n`.
pub fn ping(buf: &mut BytesMut) {
    buf.extend_from_slice(b"PING\r\n");
}

/// Appends `PONG\r\n`.
pub fn pong(buf: &mut BytesMut) {
    buf.extend_from_slice(b"PONG\r\n");
}

/// Appends `+OK\r\n`.
pub fn ok(buf: &mut BytesMut) {
    buf.extend_from_slice(b"+OK\r\n");
}

/// Appends `-ERR '<text>'\r\n`.
pub fn err(buf: &mut BytesMut, text: &str) {
    buf.reserve(8 + text.len());
    buf.put_slice(b"-ERR '");
    buf.put_slice(text.as_bytes());
    buf.put_slice(b"'\r\n");
}

/// Appends `<verb><json><tail>`, with `{}` standing in should serialization ever fail
/// (it cannot for these plain structs).
fn json_op<T: serde::Serialize>(buf: &mut BytesMut, verb: &[u8], value: &T, tail: &[u8]) {
    let json = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    buf.reserve(verb.len() + json.len() + tail.len());
    buf.put_slice(verb);
    buf.put_slice(&json);
    buf.put_slice(tail);
}

/// Appends `INFO {json} \r\n` (with the space before `\r\n`, as the reference sends it).
pub fn info(buf: &mut BytesMut, info: &ServerInfo) {
    json_op(buf, b"INFO ", info, b" \r\n");
}

/// Appends `CONNECT {json}\r\n`.
pub fn connect(buf: &mut BytesMut, connect: &ConnectInfo) {
    json_op(buf, b"CONNECT ", connect, CRLF);
}

/// Number of bytes [`msg`] appends (for sizing buffers and pending-bytes accounting).
pub fn msg_len(subject: &[u8], sid: &[u8], reply: Option<&[u8]>, payload_len: usize) -> usize {
    4 + subject.len()
        + 1
        + sid.len()
        + reply.map_or(0, |r| r.len() + 1)
        + 1
        + itoa::Buffer::new().format(payload_len).len()
        + 2
        + payload_len
        + 2
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(f: impl FnOnce(&mut BytesMut)) -> Vec<u8> {
        let mut b = BytesMut::new();
        f(&mut b);
        b.to_vec()
    }

    #[test]
    fn message_ops() {
        assert_eq!(
            out(|b| msg(b, b"foo", b"1", None, b"hi")),
            b"MSG foo 1 2\r\nhi\r\n"
        );
        assert_eq!(
            out(|b| msg(b, b"foo", b"1", Some(b"r"), b"")),
            b"MSG foo 1 r 0\r\n\r\n"
        );
        assert_eq!(
            out(|b| hmsg(b, b"foo", b"1", None, b"NATS/1.0\r\n\r\n", b"hi")),
            b"HMSG foo 1 12 14\r\nNATS/1.0\r\n\r\nhi\r\n"
        );
        assert_eq!(
            out(|b| hmsg(b, b"foo", b"1", Some(b"r"), b"NATS/1.0\r\n\r\n", b"")),
            b"HMSG foo 1 r 12 12\r\nNATS/1.0\r\n\r\n\r\n"
        );
        assert_eq!(
            out(|b| pub_msg(b, b"a", Some(b"b"), b"xyz")),
            b"PUB a b 3\r\nxyz\r\n"
        );
        assert_eq!(
            out(|b| hpub(b, b"a", None, b"H", b"P")),
            b"HPUB a 1 2\r\nHP\r\n"
        );
        let big = vec![7u8; 1234567];
        let enc = out(|b| msg(b, b"s", b"9", None, &big));
        assert!(enc.starts_with(b"MSG s 9 1234567\r\n"));
        assert_eq!(enc.len(), msg_len(b"s", b"9", None, big.len()));
    }

    #[test]
    fn control_ops() {
        assert_eq!(out(|b| sub(b, b"foo", None, b"1")), b"SUB foo 1\r\n");
        assert_eq!(
            out(|b| sub(b, b"foo", Some(b"q"), b"1")),
            b"SUB foo q 1\r\n"
        );
        assert_eq!(out(|b| unsub(b, b"1", None)), b"UNSUB 1\r\n");
        assert_eq!(out(|b| unsub(b, b"1", Some(10))), b"UNSUB 1 10\r\n");
        assert_eq!(out(ping), b"PING\r\n");
        assert_eq!(out(pong), b"PONG\r\n");
        assert_eq!(out(ok), b"+OK\r\n");
        assert_eq!(
            out(|b| err(b, "Unknown Protocol Operation")),
            b"-ERR 'Unknown Protocol Operation'\r\n"
        );
    }

    #[test]
    fn info_has_reference_shape() {
        let i = ServerInfo {
            server_id: "ID".into(),
            server_name: "N".into(),
            version: "2.15.1".into(),
            proto: 1,
            go: Some("go1.27.2".into()),
            host: "127.0.0.1".into(),
            port: 4222,
            headers: true,
            max_payload: 1048576,
            client_id: Some(5),
            client_ip: Some("127.0.0.1".into()),
            ..ServerInfo::default()
        };
        let enc = out(|b| info(b, &i));
        let want = concat!(
            r#"INFO {"server_id":"ID","server_name":"N","version":"2.15.1","proto":1,"#,
            r#""go":"go1.27.2","host":"127.0.0.1","port":4222,"headers":true,"#,
            r#""max_payload":1048576,"client_id":5,"client_ip":"127.0.0.1"} "#,
            "\r\n"
        );
        assert_eq!(String::from_utf8_lossy(&enc), want);
    }

    #[test]
    fn connect_round_trips() {
        let c = ConnectInfo {
            verbose: false,
            name: Some("x".into()),
            headers: true,
            ..ConnectInfo::default()
        };
        let enc = out(|b| connect(b, &c));
        assert!(enc.starts_with(b"CONNECT {"));
        assert!(enc.ends_with(b"}\r\n"));
        let back = ConnectInfo::from_json(&enc[8..enc.len() - 2]).expect("valid json");
        assert_eq!(back, c);
    }
}
