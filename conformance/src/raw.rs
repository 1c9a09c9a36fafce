//! A raw socket client that records what a server answers.
//!
//! It reads the greeting `INFO`, sends arbitrary bytes, and collects the
//! server's frames until a `PONG` marker, until the connection closes, or
//! until a bounded timeout. Server keepalive `PING`s are answered and left
//! out of the collected frames.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::error::HarnessError;
use crate::frames::{frame_op, FrameSplitter};

/// Default bound for one collection step.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);

/// Granularity of socket reads while waiting.
const READ_SLICE: Duration = Duration::from_millis(25);

/// What the server sent during one collection step.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Collected {
    /// Complete frames, in arrival order (keepalive `PING`s excluded).
    pub frames: Vec<Vec<u8>>,
    /// Bytes after the last complete frame when the connection closed.
    pub partial: Vec<u8>,
    /// The server closed (or reset) the connection.
    pub closed: bool,
    /// The awaited marker did not arrive in time.
    pub timed_out: bool,
}

/// A client connection speaking raw bytes.
pub struct RawClient {
    stream: TcpStream,
    splitter: FrameSplitter,
    info: Vec<u8>,
    closed: bool,
}

impl RawClient {
    /// Connects to `addr` (`host:port`) and reads the server's `INFO` line.
    pub fn connect(addr: &str) -> Result<RawClient, HarnessError> {
        let stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        let mut client = RawClient {
            stream,
            splitter: FrameSplitter::new(),
            info: Vec::new(),
            closed: false,
        };
        let deadline = Instant::now() + DEFAULT_TIMEOUT;
        loop {
            if let Some(frame) = client.splitter.next_frame() {
                if frame_op(&frame) != b"INFO" {
                    return Err(HarnessError::NoInfo(String::from_utf8_lossy(&frame).into()));
                }
                client.info = frame;
                return Ok(client);
            }
            if client.closed || Instant::now() >= deadline {
                let got = client.splitter.take_remainder();
                return Err(HarnessError::NoInfo(String::from_utf8_lossy(&got).into()));
            }
            client.read_some(deadline)?;
        }
    }

    /// The raw `INFO` frame received on connect.
    pub fn info_frame(&self) -> &[u8] {
        &self.info
    }

    /// The JSON object of the `INFO` frame.
    pub fn info_json(&self) -> Option<serde_json::Value> {
        crate::normalize::info_json(&self.info)
    }

    /// Gives up the client and returns its socket (e.g. to drain it with
    /// plain reads). Bytes already buffered by the client are dropped.
    pub fn into_stream(self) -> TcpStream {
        self.stream
    }

    /// Whether the server has closed the connection.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Sends bytes. A failure because the server already closed the
    /// connection marks the client closed instead of failing.
    pub fn send(&mut self, bytes: &[u8]) -> Result<(), HarnessError> {
        if self.closed {
            return Ok(());
        }
        match self.stream.write_all(bytes) {
            Ok(()) => Ok(()),
            Err(e) if is_disconnect(&e) => {
                self.closed = true;
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Sends `PING` and collects frames until `pongs` `PONG`s arrived (the
    /// last one, our marker, is not recorded), the connection closes, or
    /// `timeout` passes.
    pub fn sync(&mut self, pongs: usize, timeout: Duration) -> Result<Collected, HarnessError> {
        self.send(b"PING\r\n")?;
        let mut remaining = pongs.max(1);
        self.collect(timeout, |frame| {
            if frame_op(frame) == b"PONG" {
                remaining -= 1;
            }
            if remaining == 0 {
                Marker::StopWithout
            } else {
                Marker::Continue
            }
        })
    }

    /// Collects frames until the server closes the connection or `timeout`
    /// passes (then `timed_out` is set).
    pub fn collect_until_closed(&mut self, timeout: Duration) -> Result<Collected, HarnessError> {
        self.collect(timeout, |_| Marker::Continue)
    }

    /// Collects whatever arrives during `window`; not a timeout if nothing does.
    pub fn collect_for(&mut self, window: Duration) -> Result<Collected, HarnessError> {
        let mut collected = self.collect(window, |_| Marker::Continue)?;
        collected.timed_out = false;
        Ok(collected)
    }

    /// Reads until `marker` says stop, the connection closes, or `timeout`.
    fn collect(
        &mut self,
        timeout: Duration,
        mut marker: impl FnMut(&[u8]) -> Marker,
    ) -> Result<Collected, HarnessError> {
        let deadline = Instant::now() + timeout;
        let mut collected = Collected::default();
        loop {
            while let Some(frame) = self.splitter.next_frame() {
                if frame.as_slice() == b"PING\r\n" {
                    self.send(b"PONG\r\n")?;
                    continue;
                }
                match marker(&frame) {
                    Marker::Continue => collected.frames.push(frame),
                    Marker::StopWithout => return Ok(collected),
                }
            }
            if self.closed {
                collected.closed = true;
                collected.partial = self.splitter.take_remainder();
                return Ok(collected);
            }
            if Instant::now() >= deadline {
                collected.timed_out = true;
                return Ok(collected);
            }
            self.read_some(deadline)?;
        }
    }

    /// One bounded read into the splitter; marks the client closed on EOF or reset.
    fn read_some(&mut self, deadline: Instant) -> Result<(), HarnessError> {
        let wait = deadline
            .saturating_duration_since(Instant::now())
            .clamp(Duration::from_millis(1), READ_SLICE);
        self.stream.set_read_timeout(Some(wait))?;
        let mut buf = [0u8; 64 * 1024];
        match self.stream.read(&mut buf) {
            Ok(0) => self.closed = true,
            Ok(n) => self.splitter.push(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if is_disconnect(&e) => self.closed = true,
            Err(e) => return Err(e.into()),
        }
        Ok(())
    }
}

/// What the collector does with a frame.
enum Marker {
    /// Record it and keep reading.
    Continue,
    /// Stop, without recording it.
    StopWithout,
}

fn is_disconnect(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::ConnectionReset
            | ErrorKind::ConnectionAborted
            | ErrorKind::BrokenPipe
            | ErrorKind::NotConnected
            | ErrorKind::UnexpectedEof
    )
}
