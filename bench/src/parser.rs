//! A tight, counting parser for what a NATS server sends to a client.
//!
//! It recognises `MSG`, `HMSG`, `PING`, `PONG`, `INFO`, `+OK` and `-ERR`,
//! reports them to a [`Handler`] and skips payloads by their declared size
//! without copying them, even when a payload spans several reads.

use crate::error::BenchError;

/// Longest control line accepted before the input is declared invalid.
pub const MAX_CONTROL_LINE: usize = 64 * 1024;

/// Receives the operations found by [`Parser::feed`].
pub trait Handler {
    /// A `MSG`/`HMSG` header; `len` is the total payload size (headers included).
    fn msg(&mut self, subject: &[u8], reply: Option<&[u8]>, len: usize);
    /// A `PONG`.
    fn pong(&mut self) {}
    /// A `PING` from the server (the caller owes it a `PONG`).
    fn ping(&mut self) {}
    /// An `INFO` line; `json` is the raw object.
    fn info(&mut self, _json: &[u8]) {}
    /// A `-ERR` line; `text` is what follows `-ERR `.
    fn err(&mut self, _text: &[u8]) {}
}

/// Streaming parser state: only the number of payload bytes still to skip.
#[derive(Debug, Default)]
pub struct Parser {
    skip: usize,
}

impl Parser {
    /// Creates a parser positioned at the start of a control line.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses as much of `buf` as possible and returns how many bytes were
    /// consumed; the unconsumed tail is an incomplete control line that the
    /// caller must present again, followed by more input.
    pub fn feed<H: Handler>(&mut self, buf: &[u8], h: &mut H) -> Result<usize, BenchError> {
        let mut pos = self.skip.min(buf.len());
        self.skip -= pos;
        // Every iteration consumes at least one full line or returns.
        while pos < buf.len() {
            let rest = &buf[pos..];
            let Some(nl) = rest.iter().position(|&b| b == b'\n') else {
                if rest.len() > MAX_CONTROL_LINE {
                    return Err(BenchError::Protocol("control line too long".into()));
                }
                return Ok(pos);
            };
            let line = strip_cr(&rest[..nl]);
            let after = pos + nl + 1;
            let payload = match line.first() {
                Some(b'M') if line.starts_with(b"MSG ") => Some(msg_header(&line[4..], false, h)?),
                Some(b'H') if line.starts_with(b"HMSG ") => Some(msg_header(&line[5..], true, h)?),
                Some(b'P') if line == b"PONG" => {
                    h.pong();
                    None
                }
                Some(b'P') if line == b"PING" => {
                    h.ping();
                    None
                }
                Some(b'I') if line.starts_with(b"INFO ") => {
                    h.info(&line[5..]);
                    None
                }
                Some(b'+') if line == b"+OK" => None,
                Some(b'-') if line.starts_with(b"-ERR") => {
                    h.err(trim_space(&line[4..]));
                    None
                }
                _ => {
                    return Err(BenchError::Protocol(format!(
                        "unexpected line {:?}",
                        show(line)
                    )))
                }
            };
            pos = after;
            if let Some(len) = payload {
                let need = len + 2;
                let avail = buf.len() - pos;
                if avail < need {
                    self.skip = need - avail;
                    return Ok(buf.len());
                }
                if &buf[pos + len..pos + need] != b"\r\n" {
                    return Err(BenchError::Protocol("payload not followed by CRLF".into()));
                }
                pos += need;
            }
        }
        Ok(pos)
    }
}

/// Parses `subject sid [reply] [hdr_len] total_len`, reports it and returns
/// the payload size.
fn msg_header<H: Handler>(args: &[u8], headers: bool, h: &mut H) -> Result<usize, BenchError> {
    let mut fields: [&[u8]; 5] = [&[]; 5];
    let mut n = 0;
    for f in args
        .split(|&b| b == b' ' || b == b'\t')
        .filter(|f| !f.is_empty())
    {
        if n == fields.len() {
            return Err(BenchError::Protocol("too many MSG arguments".into()));
        }
        fields[n] = f;
        n += 1;
    }
    let min = if headers { 4 } else { 3 };
    if n < min || n > min + 1 {
        return Err(BenchError::Protocol(format!(
            "bad MSG arguments {:?}",
            show(args)
        )));
    }
    let reply = (n == min + 1).then_some(fields[2]);
    let len = parse_size(fields[n - 1])?;
    h.msg(fields[0], reply, len);
    Ok(len)
}

/// Parses a non-negative decimal size.
fn parse_size(digits: &[u8]) -> Result<usize, BenchError> {
    if digits.is_empty() || digits.len() > 12 {
        return Err(BenchError::Protocol("bad size".into()));
    }
    digits.iter().try_fold(0usize, |acc, &d| {
        if d.is_ascii_digit() {
            Ok(acc * 10 + usize::from(d - b'0'))
        } else {
            Err(BenchError::Protocol("bad size".into()))
        }
    })
}

fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn trim_space(s: &[u8]) -> &[u8] {
    let start = s
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(s.len());
    &s[start..]
}

fn show(bytes: &[u8]) -> String {
    String::from_utf8_lossy(&bytes[..bytes.len().min(80)]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Log {
        msgs: Vec<(String, Option<String>, usize)>,
        pongs: usize,
        pings: usize,
        infos: usize,
        errs: Vec<String>,
    }

    impl Handler for Log {
        fn msg(&mut self, subject: &[u8], reply: Option<&[u8]>, len: usize) {
            let s = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap();
            self.msgs.push((s(subject), reply.map(s), len));
        }
        fn pong(&mut self) {
            self.pongs += 1;
        }
        fn ping(&mut self) {
            self.pings += 1;
        }
        fn info(&mut self, _json: &[u8]) {
            self.infos += 1;
        }
        fn err(&mut self, text: &[u8]) {
            self.errs.push(String::from_utf8(text.to_vec()).unwrap());
        }
    }

    const STREAM: &[u8] = b"INFO {\"a\":1}\r\nPING\r\nMSG foo 1 5\r\nhello\r\n\
MSG bar.baz 22 _INBOX.x 0\r\n\r\nHMSG h 3 12 14\r\nNATS/1.0\r\n\r\nhi\r\n+OK\r\nPONG\r\n-ERR 'Slow Consumer'\r\n";

    fn check(log: &Log) {
        assert_eq!(log.infos, 1);
        assert_eq!(log.pings, 1);
        assert_eq!(log.pongs, 1);
        assert_eq!(
            log.msgs,
            vec![
                ("foo".into(), None, 5),
                ("bar.baz".into(), Some("_INBOX.x".into()), 0),
                ("h".into(), None, 14),
            ]
        );
        assert_eq!(log.errs, vec!["'Slow Consumer'".to_string()]);
    }

    #[test]
    fn parses_whole_stream() {
        let mut log = Log::default();
        let used = Parser::new().feed(STREAM, &mut log).unwrap();
        assert_eq!(used, STREAM.len());
        check(&log);
    }

    #[test]
    fn parses_stream_split_at_every_point() {
        for chunk in 1..STREAM.len() {
            let mut log = Log::default();
            let mut parser = Parser::new();
            let mut pending: Vec<u8> = Vec::new();
            for piece in STREAM.chunks(chunk) {
                pending.extend_from_slice(piece);
                let used = parser.feed(&pending, &mut log).unwrap();
                pending.drain(..used);
            }
            assert!(pending.is_empty(), "chunk {chunk}");
            check(&log);
        }
    }

    #[test]
    fn rejects_garbage() {
        let mut log = Log::default();
        assert!(Parser::new().feed(b"BOGUS\r\n", &mut log).is_err());
        assert!(Parser::new().feed(b"MSG a 1 x\r\n", &mut log).is_err());
        assert!(Parser::new().feed(b"MSG a 1 2\r\nabXY", &mut log).is_err());
    }
}

#[cfg(test)]
mod speed {
    use super::*;

    struct Count(u64);
    impl Handler for Count {
        fn msg(&mut self, _: &[u8], _: Option<&[u8]>, _: usize) {
            self.0 += 1;
        }
    }

    /// Run with `cargo test --release -p bench -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn parser_rate() {
        let frame = b"MSG bench.s 1 16\r\nabcdefghijklmnop\r\n";
        let buf = frame.repeat(256 * 1024 / frame.len());
        let mut c = Count(0);
        let t = std::time::Instant::now();
        for _ in 0..2000 {
            Parser::new().feed(&buf, &mut c).unwrap();
        }
        let secs = t.elapsed().as_secs_f64();
        println!("parser: {:.1} M msgs/s", c.0 as f64 / secs / 1e6);
    }
}
