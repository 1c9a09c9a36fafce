//! Client-side parser of what a server sends.

use bytes::{Buf, Bytes, BytesMut};

use super::args::{self, is_pub_sep, parse_size};
use super::verb::{is_space, match_verb, Side, Verb, VerbMatch};
use crate::{ParseError, ServerInfo, ServerOp};

/// A parsed `MSG`/`HMSG` head whose payload has not all arrived.
#[derive(Debug)]
struct PendingMsg {
    subject: Bytes,
    sid: Bytes,
    reply: Option<Bytes>,
    /// Header length for `HMSG`, `None` for `MSG`.
    hdr: Option<usize>,
    size: usize,
}

/// Client-side parser of what a server sends: `INFO`, `MSG`, `HMSG`, `PING`, `PONG`, `+OK`,
/// `-ERR`. Op names in any case, spaces or tabs between arguments, `\r\n` or `\n` line ends.
#[derive(Debug, Default)]
pub struct ServerParser {
    /// Bytes of the current control line already searched for `\n`.
    scanned: usize,
    pending: Option<PendingMsg>,
}

impl ServerParser {
    /// A parser with no limits (for clients and tests).
    pub fn new() -> Self {
        ServerParser::default()
    }

    /// Parses the next op from the front of `buf`, as [`crate::ClientParser::next_op`] does.
    pub fn next_op(&mut self, buf: &mut BytesMut) -> Result<Option<ServerOp>, ParseError> {
        loop {
            if let Some(pending) = self.pending.take() {
                return self.payload(buf, pending);
            }
            let Some(off) = buf
                .get(self.scanned..)
                .and_then(|rest| memchr::memchr(b'\n', rest))
            else {
                self.scanned = buf.len();
                return Ok(None);
            };
            let lf = self.scanned + off;
            self.scanned = 0;
            let end = if lf > 0 && buf[lf - 1] == b'\r' {
                lf - 1
            } else {
                lf
            };
            match self.control_line(buf, lf, end) {
                Err(e) => {
                    buf.advance(lf + 1);
                    return Err(e);
                }
                Ok(Some(op)) => return Ok(Some(op)),
                Ok(None) => {}
            }
        }
    }

    /// Parses the line `buf[..end]` (ending at `lf`) and splits it off; on error leaves `buf`
    /// as it was. `Ok(None)`: a `MSG`/`HMSG` head is now pending.
    fn control_line(
        &mut self,
        buf: &mut BytesMut,
        lf: usize,
        end: usize,
    ) -> Result<Option<ServerOp>, ParseError> {
        let line = &buf[..end];
        let verb = match match_verb(Side::FromServer, line) {
            VerbMatch::Matched(v) => v,
            VerbMatch::Incomplete | VerbMatch::Unknown => return Err(ParseError::UnknownOp),
        };
        let rest = &line[verb.name().len()..];
        let arg_start = verb.name().len() + rest.iter().take_while(|&&b| is_space(b)).count();
        let has_sep = rest.first().is_some_and(|&b| is_space(b));
        let op = match verb {
            Verb::Ping => ServerOp::Ping,
            Verb::Pong => ServerOp::Pong,
            Verb::Ok => ServerOp::Ok,
            Verb::Err if has_sep => {
                let text = trim_end_spaces(&line[arg_start..]);
                let text = match text {
                    [b'\'', inner @ .., b'\''] => inner,
                    other => other,
                };
                ServerOp::Err(String::from_utf8_lossy(text).into_owned())
            }
            Verb::Info => {
                let info: ServerInfo = serde_json::from_slice(&line[arg_start..])
                    .map_err(|_| ParseError::InvalidInfo)?;
                ServerOp::Info(Box::new(info))
            }
            Verb::Msg | Verb::HMsg if has_sep => {
                let arg = &line[arg_start..];
                let a = args::split(arg, is_pub_sep);
                let with_hdr = verb == Verb::HMsg;
                let base = if with_hdr { 4 } else { 3 };
                let reply = match a.count() {
                    n if n == base => None,
                    n if n == base + 1 => Some(2),
                    _ => return Err(ParseError::InvalidMsg),
                };
                let size_at = a.count() - 1;
                let size = parse_size(a.get(arg, size_at)).ok_or(ParseError::InvalidMsg)?;
                let hdr = if with_hdr {
                    let hdr = parse_size(a.get(arg, size_at - 1)).ok_or(ParseError::InvalidMsg)?;
                    if hdr > size {
                        return Err(ParseError::InvalidMsg);
                    }
                    Some(hdr)
                } else {
                    None
                };
                let line = buf.split_to(lf + 1).freeze();
                let shift = |i: usize| {
                    let r = a.range(i);
                    line.slice(r.start + arg_start..r.end + arg_start)
                };
                let pending = PendingMsg {
                    subject: shift(0),
                    sid: shift(1),
                    reply: reply.map(shift),
                    hdr,
                    size,
                };
                self.pending = Some(pending);
                return Ok(None);
            }
            _ => return Err(ParseError::UnknownOp),
        };
        buf.advance(lf + 1);
        Ok(Some(op))
    }

    /// Completes a `MSG`/`HMSG` once its payload and `\r\n` are in `buf`.
    fn payload(
        &mut self,
        buf: &mut BytesMut,
        pending: PendingMsg,
    ) -> Result<Option<ServerOp>, ParseError> {
        let size = pending.size;
        match (buf.get(size), buf.get(size + 1)) {
            (Some(b'\r'), Some(b'\n')) => {}
            (Some(b'\r'), None) | (None, _) => {
                self.pending = Some(pending);
                return Ok(None);
            }
            (Some(b'\r'), Some(_)) => {
                buf.advance(size + 2);
                return Err(ParseError::UnknownOp);
            }
            (Some(_), _) => {
                buf.advance(size + 1);
                return Err(ParseError::UnknownOp);
            }
        }
        let mut data = buf.split_to(size + 2);
        data.truncate(size);
        let data = data.freeze();
        let PendingMsg {
            subject,
            sid,
            reply,
            hdr,
            ..
        } = pending;
        Ok(Some(match hdr {
            None => ServerOp::Msg {
                subject,
                sid,
                reply,
                payload: data,
            },
            Some(hdr) => ServerOp::HMsg {
                subject,
                sid,
                reply,
                headers: data.slice(..hdr),
                payload: data.slice(hdr..),
            },
        }))
    }
}

fn trim_end_spaces(s: &[u8]) -> &[u8] {
    let n = s.iter().rev().take_while(|&&b| is_space(b)).count();
    &s[..s.len() - n]
}

#[cfg(test)]
#[path = "server_tests.rs"]
mod tests;
