//! A blocking client connection: handshake, buffered reads fed to the
//! counting parser, and PING/PONG synchronisation.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use crate::error::{BenchError, Result};
use crate::parser::{Handler, Parser};

/// Size of each connection's receive buffer.
const READ_BUF: usize = 256 * 1024;
/// How long a single blocking read may wait before the caller regains control.
pub const READ_TICK: Duration = Duration::from_millis(100);
/// What the client announces in `CONNECT`.
const CONNECT: &[u8] = b"CONNECT {\"verbose\":false,\"pedantic\":false,\"tls_required\":false,\
\"name\":\"nats-bench\",\"lang\":\"rust\",\"version\":\"0.1.0\",\"protocol\":1,\"echo\":true}\r\n";

/// What one call to [`Conn::pump`] observed.
#[derive(Debug, PartialEq, Eq)]
pub enum Pumped {
    /// Some bytes were read and parsed.
    Data,
    /// The read timed out without data.
    Idle,
}

/// One client connection to a NATS server.
pub struct Conn {
    stream: TcpStream,
    parser: Parser,
    buf: Box<[u8]>,
    /// Bytes at the front of `buf` holding an incomplete control line.
    held: usize,
}

impl Conn {
    /// Connects to `addr` (retrying until `wait` elapses, so a server that is
    /// still starting is tolerated), performs the handshake and waits for the
    /// first `PONG`.
    pub fn connect(addr: &str, wait: Duration) -> Result<Self> {
        let stream = connect_with_retry(addr, wait)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(READ_TICK))?;
        let mut conn = Self {
            stream,
            parser: Parser::new(),
            buf: vec![0; READ_BUF].into_boxed_slice(),
            held: 0,
        };
        conn.write_all(CONNECT)?;
        conn.sync(wait)?;
        Ok(conn)
    }

    /// Writes all of `bytes` to the socket.
    pub fn write_all(&mut self, bytes: &[u8]) -> Result<()> {
        self.stream.write_all(bytes)?;
        Ok(())
    }

    /// Sends `PING` and waits for the matching `PONG`, which proves that the
    /// server has processed everything sent before it. Messages arriving
    /// meanwhile are counted and dropped.
    pub fn sync(&mut self, timeout: Duration) -> Result<u64> {
        self.write_all(b"PING\r\n")?;
        let mut h = UntilPong::default();
        let deadline = Instant::now() + timeout;
        while h.pongs == 0 {
            if Instant::now() > deadline {
                return Err(BenchError::Stalled("no PONG from server"));
            }
            self.pump(&mut h)?;
            if let Some(e) = h.err.take() {
                return Err(BenchError::Server(e));
            }
        }
        Ok(h.msgs)
    }

    /// Performs one read (waiting at most [`READ_TICK`]), feeds the bytes to
    /// `h`, and answers any server `PING`.
    pub fn pump<H: Handler>(&mut self, h: &mut H) -> Result<Pumped> {
        let n = match self.stream.read(&mut self.buf[self.held..]) {
            Ok(0) => return Err(BenchError::Closed),
            Ok(n) => n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Ok(Pumped::Idle)
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => return Ok(Pumped::Idle),
            Err(e) => return Err(e.into()),
        };
        let end = self.held + n;
        let mut wrap = AnswerPings { inner: h, pings: 0 };
        let used = self.parser.feed(&self.buf[..end], &mut wrap)?;
        let pings = wrap.pings;
        self.buf.copy_within(used..end, 0);
        self.held = end - used;
        for _ in 0..pings {
            self.write_all(b"PONG\r\n")?;
        }
        Ok(Pumped::Data)
    }
}

/// Opens a TCP connection, retrying refused attempts until `wait` elapses.
fn connect_with_retry(addr: &str, wait: Duration) -> Result<TcpStream> {
    let deadline = Instant::now() + wait;
    loop {
        match TcpStream::connect(addr) {
            Ok(s) => return Ok(s),
            Err(e) if Instant::now() < deadline && e.kind() == ErrorKind::ConnectionRefused => {
                thread::sleep(Duration::from_millis(20));
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Forwards to an inner handler while counting server `PING`s.
struct AnswerPings<'h, H> {
    inner: &'h mut H,
    pings: u32,
}

impl<H: Handler> Handler for AnswerPings<'_, H> {
    fn msg(&mut self, subject: &[u8], reply: Option<&[u8]>, len: usize) {
        self.inner.msg(subject, reply, len);
    }
    fn pong(&mut self) {
        self.inner.pong();
    }
    fn ping(&mut self) {
        self.pings += 1;
    }
    fn info(&mut self, json: &[u8]) {
        self.inner.info(json);
    }
    fn err(&mut self, text: &[u8]) {
        self.inner.err(text);
    }
}

/// Waits for a `PONG`, counting messages and remembering the first error.
#[derive(Default)]
struct UntilPong {
    pongs: u32,
    msgs: u64,
    err: Option<String>,
}

impl Handler for UntilPong {
    fn msg(&mut self, _: &[u8], _: Option<&[u8]>, _: usize) {
        self.msgs += 1;
    }
    fn pong(&mut self) {
        self.pongs += 1;
    }
    fn err(&mut self, text: &[u8]) {
        self.err
            .get_or_insert_with(|| String::from_utf8_lossy(text).into_owned());
    }
}
