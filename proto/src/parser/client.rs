//! Server-side parser of what a client sends.

use bytes::{Buf, Bytes, BytesMut};

use super::args::{self, is_pub_sep, is_sub_sep, parse_size};
use super::line::LineScan;
use super::verb::{is_space, match_verb, AfterName, Side, Verb, VerbMatch};
use super::ParserLimits;
use crate::{ClientOp, ConnectInfo, ParseError};

/// What the parser is in the middle of.
#[derive(Debug)]
enum State {
    /// The next byte starts an op.
    Start,
    /// After `PING`/`PONG`/`+OK`: skipping to the end of the line.
    RestOfLine(Verb),
    /// After an op name: skipping spaces and tabs before its argument.
    Separators(Verb),
    /// Reading an argument, which starts at offset 0 of the buffer.
    Argument(Verb, LineScan),
    /// Control line done: waiting for `size` payload bytes and `\r\n`.
    Payload(PendingPayload),
}

/// A parsed `PUB`/`HPUB` head (or a client `HMSG`) whose payload has not all arrived.
#[derive(Debug)]
struct PendingPayload {
    size: usize,
    head: Head,
}

#[derive(Debug)]
enum Head {
    Pub {
        subject: Bytes,
        reply: Option<Bytes>,
        size_width: u8,
    },
    HPub {
        subject: Bytes,
        reply: Option<Bytes>,
        hdr: usize,
        widths: [u8; 2],
    },
    /// `HMSG` from a client: the reference reads an empty payload and ignores it.
    ClientHmsg,
}

/// Server-side parser of what a client sends.
///
/// Follows the reference server's grammar: op names in any case; spaces and tabs (runs of
/// them) between arguments; lines ending in `\r\n` or a bare `\n`; `+OK` and a valid `INFO`
/// from a client silently ignored. It also keeps the connection's merged `CONNECT` options,
/// because a second `CONNECT` only changes the keys it names and because `HPUB` is only
/// valid once headers have been negotiated.
#[derive(Debug)]
pub struct ClientParser {
    limits: ParserLimits,
    state: State,
    connect: ConnectInfo,
    server_headers: bool,
    awaiting_connect: bool,
}

impl ClientParser {
    /// A parser with the given limits.
    pub fn new(limits: ParserLimits) -> Self {
        ClientParser {
            limits,
            state: State::Start,
            connect: ConnectInfo::default(),
            server_headers: true,
            awaiting_connect: false,
        }
    }

    /// Changes the limits (for example after a config reload).
    pub fn set_limits(&mut self, limits: ParserLimits) {
        self.limits = limits;
    }

    /// The limits in force.
    pub fn limits(&self) -> ParserLimits {
        self.limits
    }

    /// Whether the server supports headers at all (default true; the reference's
    /// `no_header_support` option turns it off). `HPUB` is accepted only when this and the
    /// client's `"headers":true` both hold.
    pub fn set_server_headers(&mut self, supported: bool) {
        self.server_headers = supported;
    }

    /// Requires `CONNECT` as the first op (set it when the server requires authentication
    /// and no `no_auth_user` applies). Until a `CONNECT` has been parsed, an op starting with
    /// any other byte fails with [`ParseError::AuthViolation`] as soon as that byte arrives.
    pub fn set_auth_required(&mut self, required: bool) {
        self.awaiting_connect = required;
    }

    /// The connection's options: the defaults merged with every `CONNECT` parsed so far.
    pub fn connect_info(&self) -> &ConnectInfo {
        &self.connect
    }

    /// Whether `HPUB` is currently accepted.
    pub fn headers_enabled(&self) -> bool {
        self.server_headers && self.connect.headers
    }

    /// Parses the next op from the front of `buf`, splitting its bytes off (payloads are
    /// zero-copy `Bytes` views of them). `Ok(None)`: `buf` holds no whole op yet; call again
    /// with more bytes appended.
    ///
    /// After an error the parser drops the bytes of the offending op it has seen and can be
    /// called again; the reference closes the connection on every error but
    /// [`ParseError::HmsgFromClient`] (see [`ParseError::closes`]).
    pub fn next_op(&mut self, buf: &mut BytesMut) -> Result<Option<ClientOp>, ParseError> {
        loop {
            let step = match &mut self.state {
                State::Start => self.start(buf),
                State::RestOfLine(verb) => {
                    let verb = *verb;
                    rest_of_line(buf, verb)
                }
                State::Separators(verb) => {
                    let verb = *verb;
                    self.separators(buf, verb)
                }
                State::Argument(verb, scan) => {
                    let (verb, scan) = (*verb, *scan);
                    self.scan_argument(buf, verb, scan)
                }
                State::Payload(pending) => payload(buf, pending),
            };
            match step {
                Step::NeedMore => return Ok(None),
                Step::Next(state) => self.state = state,
                Step::Wait(state) => {
                    self.state = state;
                    return Ok(None);
                }
                Step::Done(op) => {
                    self.state = State::Start;
                    if op.is_some() {
                        return Ok(op);
                    }
                }
                Step::Fail(err, consumed) => {
                    self.state = State::Start;
                    buf.advance(consumed.min(buf.len()));
                    return Err(err);
                }
            }
        }
    }

    /// At the start of an op: checks auth, matches the name, consumes it.
    fn start(&mut self, buf: &mut BytesMut) -> Step {
        let Some(&first) = buf.first() else {
            return Step::NeedMore;
        };
        if self.awaiting_connect && first != b'C' && first != b'c' {
            return Step::Fail(ParseError::AuthViolation, line_or_all(buf));
        }
        let verb = match match_verb(Side::FromClient, buf) {
            VerbMatch::Incomplete => return Step::NeedMore,
            VerbMatch::Unknown => return Step::Fail(ParseError::UnknownOp, line_or_all(buf)),
            VerbMatch::Matched(verb) => verb,
        };
        let len = verb.name().len();
        match verb.after_name() {
            AfterName::RestIgnored => {
                buf.advance(len);
                Step::Next(State::RestOfLine(verb))
            }
            AfterName::SeparatorOptional => {
                buf.advance(len);
                self.separators(buf, verb)
            }
            AfterName::SeparatorRequired => match buf.get(len) {
                None => Step::NeedMore,
                Some(&b) if is_space(b) => {
                    buf.advance(len + 1);
                    self.separators(buf, verb)
                }
                Some(_) => Step::Fail(ParseError::UnknownOp, line_or_all(buf)),
            },
        }
    }

    /// Skips the spaces and tabs before an argument, then reads it as far as it has come.
    fn separators(&mut self, buf: &mut BytesMut, verb: Verb) -> Step {
        let n = buf.iter().take_while(|&&b| is_space(b)).count();
        buf.advance(n);
        if buf.is_empty() {
            Step::Wait(State::Separators(verb))
        } else {
            self.scan_argument(buf, verb, LineScan::default())
        }
    }

    /// Looks for the end of the argument at the front of `buf`, enforcing
    /// `max_control_line` on what has arrived; handles the line once it is whole.
    fn scan_argument(&mut self, buf: &mut BytesMut, verb: Verb, mut scan: LineScan) -> Step {
        match scan.find_end(buf) {
            None if scan.arg_len(buf.len()) > self.limits.max_control_line => {
                Step::Fail(ParseError::MaxControlLine, buf.len())
            }
            None => Step::Wait(State::Argument(verb, scan)),
            Some(lf) => {
                let arg_len = scan.arg_len(lf);
                if arg_len > self.limits.max_control_line {
                    Step::Fail(ParseError::MaxControlLine, lf + 1)
                } else {
                    self.argument(buf, verb, lf, arg_len)
                }
            }
        }
    }

    /// A whole argument line `buf[..=lf]` whose argument is `buf[..arg_len]`.
    fn argument(&mut self, buf: &mut BytesMut, verb: Verb, lf: usize, arg_len: usize) -> Step {
        let arg = &buf[..arg_len];
        match verb {
            Verb::Pub => self.pub_head(buf, lf, arg_len),
            Verb::HPub => self.hpub_head(buf, lf, arg_len),
            Verb::Sub => {
                let a = args::split(arg, is_sub_sep);
                let (subject, queue, sid) = match a.count() {
                    2 => (0, None, 1),
                    3 => (0, Some(1), 2),
                    _ => return Step::Fail(ParseError::InvalidSub, lf + 1),
                };
                let line = buf.split_to(lf + 1).freeze();
                Step::Done(Some(ClientOp::Sub {
                    subject: line.slice(a.range(subject)),
                    queue: queue.map(|q| line.slice(a.range(q))),
                    sid: line.slice(a.range(sid)),
                }))
            }
            Verb::Unsub => {
                let a = args::split(arg, is_sub_sep);
                let max = match a.count() {
                    1 => None,
                    2 => parse_size(a.get(arg, 1)).map(|n| n as u64),
                    _ => return Step::Fail(ParseError::InvalidUnsub, lf + 1),
                };
                let line = buf.split_to(lf + 1).freeze();
                Step::Done(Some(ClientOp::Unsub {
                    sid: line.slice(a.range(0)),
                    max,
                }))
            }
            Verb::Connect => {
                let mut merged = self.connect.clone();
                if merged.merge_json(arg).is_err() {
                    return Step::Fail(ParseError::InvalidConnect, lf + 1);
                }
                buf.advance(lf + 1);
                self.connect = merged.clone();
                self.awaiting_connect = false;
                Step::Done(Some(ClientOp::Connect(Box::new(merged))))
            }
            Verb::Info => {
                let valid = matches!(
                    serde_json::from_slice::<serde_json::Value>(arg),
                    Ok(serde_json::Value::Object(_) | serde_json::Value::Null)
                );
                if !valid {
                    return Step::Fail(ParseError::InvalidInfo, lf + 1);
                }
                buf.advance(lf + 1);
                Step::Done(None)
            }
            Verb::Err => Step::Fail(ParseError::PeerErr, lf + 1),
            Verb::HMsg => {
                buf.advance(lf + 1);
                Step::Next(State::Payload(PendingPayload {
                    size: 0,
                    head: Head::ClientHmsg,
                }))
            }
            Verb::Msg | Verb::Ping | Verb::Pong | Verb::Ok => {
                Step::Fail(ParseError::UnknownOp, lf + 1)
            }
        }
    }

    fn pub_head(&mut self, buf: &mut BytesMut, lf: usize, arg_len: usize) -> Step {
        let arg = &buf[..arg_len];
        let a = args::split(arg, is_pub_sep);
        let (reply, size_at) = match a.count() {
            2 => (None, 1),
            3 => (Some(1), 2),
            _ => return Step::Fail(ParseError::InvalidPub, lf + 1),
        };
        let size_text = a.get(arg, size_at);
        let Some(size) = parse_size(size_text) else {
            return Step::Fail(ParseError::InvalidPub, lf + 1);
        };
        let size_width = echo_width(size_text);
        if self.limits.payload_too_big(size) {
            return Step::Fail(ParseError::MaxPayload, lf + 1);
        }
        let start = lf + 1;
        if let Some(step) = whole_op_fast(buf, start, size, |all, payload| ClientOp::Pub {
            subject: all.slice(a.range(0)),
            reply: reply.map(|r| all.slice(a.range(r))),
            payload,
            size_width,
        }) {
            return step;
        }
        let line = buf.split_to(start).freeze();
        Step::Next(State::Payload(PendingPayload {
            size,
            head: Head::Pub {
                subject: line.slice(a.range(0)),
                reply: reply.map(|r| line.slice(a.range(r))),
                size_width,
            },
        }))
    }

    fn hpub_head(&mut self, buf: &mut BytesMut, lf: usize, arg_len: usize) -> Step {
        if !self.headers_enabled() {
            return Step::Fail(ParseError::HeadersNotSupported, lf + 1);
        }
        let arg = &buf[..arg_len];
        let a = args::split(arg, is_pub_sep);
        let (reply, hdr_at) = match a.count() {
            3 => (None, 1),
            4 => (Some(1), 2),
            _ => return Step::Fail(ParseError::InvalidHpub, lf + 1),
        };
        let (hdr_text, size_text) = (a.get(arg, hdr_at), a.get(arg, hdr_at + 1));
        let (Some(hdr), Some(size)) = (parse_size(hdr_text), parse_size(size_text)) else {
            return Step::Fail(ParseError::InvalidHpub, lf + 1);
        };
        let widths = [echo_width(hdr_text), echo_width(size_text)];
        if hdr > size {
            return Step::Fail(ParseError::InvalidHpub, lf + 1);
        }
        if self.limits.payload_too_big(size) {
            return Step::Fail(ParseError::MaxPayload, lf + 1);
        }
        let start = lf + 1;
        let line = buf.split_to(start).freeze();
        let pending = PendingPayload {
            size,
            head: Head::HPub {
                subject: line.slice(a.range(0)),
                reply: reply.map(|r| line.slice(a.range(r))),
                hdr,
                widths,
            },
        };
        Step::Next(State::Payload(pending))
    }
}

/// What one state-machine step decided.
enum Step {
    /// `buf` holds no more of the op: wait for bytes.
    NeedMore,
    /// Move to this state and keep going.
    Next(State),
    /// Move to this state and wait for bytes.
    Wait(State),
    /// An op is complete (`None`: one that yields nothing, like `+OK`).
    Done(Option<ClientOp>),
    /// Reject the op, dropping this many bytes of it.
    Fail(ParseError, usize),
}

/// How many bytes to drop after an error at the start of `buf`: its first line, or all.
fn line_or_all(buf: &[u8]) -> usize {
    memchr::memchr(b'\n', buf).map_or(buf.len(), |lf| lf + 1)
}

/// Skips what follows `PING`/`PONG`/`+OK` up to the newline (unbounded, as the reference).
fn rest_of_line(buf: &mut BytesMut, verb: Verb) -> Step {
    match memchr::memchr(b'\n', buf) {
        None => {
            let n = buf.len();
            buf.advance(n);
            Step::NeedMore
        }
        Some(lf) => {
            buf.advance(lf + 1);
            Step::Done(match verb {
                Verb::Ping => Some(ClientOp::Ping),
                Verb::Pong => Some(ClientOp::Pong),
                _ => None,
            })
        }
    }
}

/// Checks the `\r\n` after a payload of `size` bytes at `buf[start..]`, as far as it has
/// arrived. `Err(consumed)` if a wrong byte is there.
fn check_terminator(buf: &[u8], start: usize, size: usize) -> Result<bool, usize> {
    let end = start + size;
    match (buf.get(end), buf.get(end + 1)) {
        (Some(b'\r'), Some(b'\n')) => Ok(true),
        (Some(b'\r'), None) | (None, _) => Ok(false),
        (Some(b'\r'), Some(_)) => Err(end + 2),
        (Some(_), _) => Err(end + 1),
    }
}

/// How many digits a size was written with, when that is more than it needs (leading
/// zeros); 0 otherwise. Sizes are at most 9 digits.
fn echo_width(text: &[u8]) -> u8 {
    if text.len() > 1 && text[0] == b'0' {
        u8::try_from(text.len()).unwrap_or(0)
    } else {
        0
    }
}

/// The hot path: when the control line, payload and `\r\n` are all in `buf`, splits them
/// off at once and builds the op from the frozen bytes and the payload slice.
fn whole_op_fast(
    buf: &mut BytesMut,
    start: usize,
    size: usize,
    build: impl FnOnce(&Bytes, Bytes) -> ClientOp,
) -> Option<Step> {
    match check_terminator(buf, start, size) {
        Ok(false) => None,
        Err(consumed) => Some(Step::Fail(ParseError::UnknownOp, consumed)),
        Ok(true) => {
            let all = buf.split_to(start + size + 2).freeze();
            let payload = all.slice(start..start + size);
            Some(Step::Done(Some(build(&all, payload))))
        }
    }
}

/// Waits for the payload of a parsed head, then completes the op.
fn payload(buf: &mut BytesMut, pending: &mut PendingPayload) -> Step {
    let size = pending.size;
    match check_terminator(buf, 0, size) {
        Ok(false) => return Step::NeedMore,
        Err(consumed) => return Step::Fail(ParseError::UnknownOp, consumed),
        Ok(true) => {}
    }
    let mut data = buf.split_to(size + 2);
    data.truncate(size);
    let data = data.freeze();
    let head = std::mem::replace(&mut pending.head, Head::ClientHmsg);
    match head {
        Head::Pub {
            subject,
            reply,
            size_width,
        } => Step::Done(Some(ClientOp::Pub {
            subject,
            reply,
            payload: data,
            size_width,
        })),
        Head::HPub {
            subject,
            reply,
            hdr,
            widths,
        } => Step::Done(Some(ClientOp::HPub {
            subject,
            reply,
            headers: data.slice(..hdr),
            payload: data.slice(hdr..),
            widths,
        })),
        Head::ClientHmsg => Step::Fail(ParseError::HmsgFromClient, 0),
    }
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
