//! Encoders of route ops: byte-for-byte what `nats-server` 2.15.1 writes on a route.
//!
//! `account: None` leaves the account out, as on a connection pinned to one account.
//! `queues` is the space-separated list of queue group names (`b""` for none): when it is
//! not empty a message line uses the marker form (`+ <reply> <queues>` or `| <queues>`).

use bytes::{BufMut, BytesMut};

use super::{RouteConnect, RouteInfo, RouteOp};

const CRLF: &[u8] = b"\r\n";

/// Appends `<verb> <words...>[ <sizes...>]\r\n` then, when `bodies` is `Some`, the bodies
/// and `\r\n`. Empty words are skipped.
fn line(
    buf: &mut BytesMut,
    verb: &[u8],
    words: &[&[u8]],
    sizes: &[usize],
    bodies: Option<&[&[u8]]>,
) {
    let mut nums = [itoa::Buffer::new(), itoa::Buffer::new()];
    let num_len: usize = nums
        .iter_mut()
        .zip(sizes)
        .map(|(slot, &n)| 1 + slot.format(n).len())
        .sum();
    let words_len: usize = words
        .iter()
        .filter(|w| !w.is_empty())
        .map(|w| 1 + w.len())
        .sum();
    let body_len: usize = bodies.map_or(0, |b| b.iter().map(|x| x.len()).sum::<usize>() + 2);
    buf.reserve(verb.len() + words_len + num_len + 2 + body_len);
    buf.put_slice(verb);
    for w in words.iter().filter(|w| !w.is_empty()) {
        buf.put_u8(b' ');
        buf.put_slice(w);
    }
    for (slot, &n) in nums.iter_mut().zip(sizes) {
        buf.put_u8(b' ');
        buf.put_slice(slot.format(n).as_bytes());
    }
    buf.put_slice(CRLF);
    if let Some(bodies) = bodies {
        for b in bodies {
            buf.put_slice(b);
        }
        buf.put_slice(CRLF);
    }
}

/// Appends `INFO {json} \r\n` (with the space before `\r\n`, as the reference sends its
/// handshake INFO; see [`info_gossip`] for forwarded ones).
pub fn info(buf: &mut BytesMut, info: &RouteInfo) {
    json_op(buf, b"INFO ", info, b" \r\n");
}

/// Appends `INFO {json}\r\n` without the space: the form of the INFO a server forwards
/// after the handshake to tell its routes about a new cluster member (gossip).
pub fn info_gossip(buf: &mut BytesMut, info: &RouteInfo) {
    json_op(buf, b"INFO ", info, CRLF);
}

/// Appends `CONNECT {json}\r\n`.
pub fn connect(buf: &mut BytesMut, connect: &RouteConnect) {
    json_op(buf, b"CONNECT ", connect, CRLF);
}

fn json_op<T: serde::Serialize>(buf: &mut BytesMut, verb: &[u8], value: &T, tail: &[u8]) {
    // These plain structs always serialize; `{}` stands in should that ever change.
    let json = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    buf.reserve(verb.len() + json.len() + tail.len());
    buf.put_slice(verb);
    buf.put_slice(&json);
    buf.put_slice(tail);
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

/// Appends `RS+ [account] <subject>[ <queue> <weight>]\r\n`.
pub fn rs_sub(
    buf: &mut BytesMut,
    account: Option<&[u8]>,
    subject: &[u8],
    queue: Option<(&[u8], u32)>,
) {
    sub_line(buf, b"RS+", None, account, subject, queue);
}

/// Appends `RS- [account] <subject>[ <queue>]\r\n`.
pub fn rs_unsub(buf: &mut BytesMut, account: Option<&[u8]>, subject: &[u8], queue: Option<&[u8]>) {
    let words = [
        account.unwrap_or_default(),
        subject,
        queue.unwrap_or_default(),
    ];
    line(buf, b"RS-", &words, &[], None);
}

/// Appends `LS+ <origin> [account] <subject>[ <queue> <weight>]\r\n`.
pub fn ls_sub(
    buf: &mut BytesMut,
    origin: &[u8],
    account: Option<&[u8]>,
    subject: &[u8],
    queue: Option<(&[u8], u32)>,
) {
    sub_line(buf, b"LS+", Some(origin), account, subject, queue);
}

/// Appends `LS- [origin] [account] <subject>[ <queue>]\r\n` (the origin only to peers that
/// announced `"lnocu":true`).
pub fn ls_unsub(
    buf: &mut BytesMut,
    origin: Option<&[u8]>,
    account: Option<&[u8]>,
    subject: &[u8],
    queue: Option<&[u8]>,
) {
    let words = [
        origin.unwrap_or_default(),
        account.unwrap_or_default(),
        subject,
        queue.unwrap_or_default(),
    ];
    line(buf, b"LS-", &words, &[], None);
}

fn sub_line(
    buf: &mut BytesMut,
    verb: &[u8],
    origin: Option<&[u8]>,
    account: Option<&[u8]>,
    subject: &[u8],
    queue: Option<(&[u8], u32)>,
) {
    let mut n = itoa::Buffer::new();
    let (q, weight) = match queue {
        Some((q, w)) => (q, n.format(w).as_bytes()),
        None => (&[][..], &[][..]),
    };
    let words = [
        origin.unwrap_or_default(),
        account.unwrap_or_default(),
        subject,
        q,
        weight,
    ];
    line(buf, verb, &words, &[], None);
}

/// The words between the subject and the sizes: `reply`, or `+ reply queues` /
/// `| queues` when there are queues.
fn reply_words<'a>(reply: Option<&'a [u8]>, queues: &'a [u8]) -> [&'a [u8]; 3] {
    match (reply, queues.is_empty()) {
        (reply, true) => [reply.unwrap_or_default(), b"", b""],
        (Some(r), false) => [b"+", r, queues],
        (None, false) => [b"|", queues, b""],
    }
}

/// Appends `RMSG [account] <subject> [reply | + reply queues | | queues] <size>\r\n<payload>\r\n`.
pub fn rmsg(
    buf: &mut BytesMut,
    account: Option<&[u8]>,
    subject: &[u8],
    reply: Option<&[u8]>,
    queues: &[u8],
    payload: &[u8],
) {
    let [a, b, c] = reply_words(reply, queues);
    let words = [account.unwrap_or_default(), subject, a, b, c];
    line(buf, b"RMSG", &words, &[payload.len()], Some(&[payload]));
}

/// Appends `HMSG [account] <subject> [...] <hdr size> <total size>\r\n<headers><payload>\r\n`.
pub fn hmsg(
    buf: &mut BytesMut,
    account: Option<&[u8]>,
    subject: &[u8],
    reply: Option<&[u8]>,
    queues: &[u8],
    headers: &[u8],
    payload: &[u8],
) {
    let [a, b, c] = reply_words(reply, queues);
    let words = [account.unwrap_or_default(), subject, a, b, c];
    let sizes = [headers.len(), headers.len() + payload.len()];
    line(buf, b"HMSG", &words, &sizes, Some(&[headers, payload]));
}

/// Appends `LMSG <origin> [account] <subject> [...] <hdr size> <total size>\r\n...` (the
/// header size is always there, 0 without headers).
#[allow(clippy::too_many_arguments)]
pub fn lmsg(
    buf: &mut BytesMut,
    origin: &[u8],
    account: Option<&[u8]>,
    subject: &[u8],
    reply: Option<&[u8]>,
    queues: &[u8],
    headers: &[u8],
    payload: &[u8],
) {
    let [a, b, c] = reply_words(reply, queues);
    let words = [origin, account.unwrap_or_default(), subject, a, b, c];
    let sizes = [headers.len(), headers.len() + payload.len()];
    line(buf, b"LMSG", &words, &sizes, Some(&[headers, payload]));
}

fn d(b: &Option<bytes::Bytes>) -> Option<&[u8]> {
    b.as_deref()
}

/// Appends any op.
pub fn op(buf: &mut BytesMut, op: &RouteOp) {
    match op {
        RouteOp::Info(i) => info(buf, i),
        RouteOp::Connect(c) => connect(buf, c),
        RouteOp::Ping => ping(buf),
        RouteOp::Pong => pong(buf),
        RouteOp::Ok => ok(buf),
        RouteOp::Err(text) => err(buf, text),
        RouteOp::Sub {
            account,
            subject,
            queue,
        } => rs_sub(
            buf,
            d(account),
            subject,
            queue.as_ref().map(|(q, w)| (&q[..], *w)),
        ),
        RouteOp::Unsub {
            account,
            subject,
            queue,
        } => rs_unsub(buf, d(account), subject, d(queue)),
        RouteOp::LeafSub {
            origin,
            account,
            subject,
            queue,
        } => ls_sub(
            buf,
            origin,
            d(account),
            subject,
            queue.as_ref().map(|(q, w)| (&q[..], *w)),
        ),
        RouteOp::LeafUnsub {
            origin,
            account,
            subject,
            queue,
        } => ls_unsub(buf, d(origin), d(account), subject, d(queue)),
        RouteOp::Msg {
            account,
            subject,
            reply,
            queues,
            payload,
        } => rmsg(
            buf,
            d(account),
            subject,
            d(reply),
            queues.as_wire(),
            payload,
        ),
        RouteOp::HMsg {
            account,
            subject,
            reply,
            queues,
            headers,
            payload,
        } => hmsg(
            buf,
            d(account),
            subject,
            d(reply),
            queues.as_wire(),
            headers,
            payload,
        ),
        RouteOp::LMsg {
            origin,
            account,
            subject,
            reply,
            queues,
            headers,
            payload,
        } => lmsg(
            buf,
            origin,
            d(account),
            subject,
            d(reply),
            queues.as_wire(),
            headers,
            payload,
        ),
    }
}
