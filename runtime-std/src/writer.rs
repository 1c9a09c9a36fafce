//! The writer of one connection: drains the outbound queue, parked while it is empty, and
//! cuts the client off when a write does not finish within the write deadline.

use std::io::{self, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use engine::{ClientShared, CloseReason, Transmit};

use crate::connection::WRITER_STACK;
use crate::reader::is_timeout;
use crate::thread_waker::current_thread_waker;
use crate::tls::TlsConn;

/// Outbound buffers larger than this are released after they are written.
const KEEP_OUT_CAPACITY: usize = 1024 * 1024;

/// Starts the writer thread of a connection (`name` plus its cid names the thread).
pub(crate) fn spawn_writer(
    name: &str,
    shared: &Arc<ClientShared>,
    stream: &Arc<TcpStream>,
    deadline: Duration,
    tls: Option<&Arc<TlsConn>>,
) -> io::Result<std::thread::JoinHandle<()>> {
    let (shared, stream, tls) = (shared.clone(), stream.clone(), tls.cloned());
    std::thread::Builder::new()
        .name(format!("{name}-{}", shared.cid))
        .stack_size(WRITER_STACK)
        .spawn(move || write_loop(&shared, &stream, deadline, tls.as_deref()))
}

/// Writes what `shared.outbound` hands out until it says close (or a write fails), then shuts
/// the socket down, which also ends the reader.
pub(crate) fn write_loop(
    shared: &Arc<ClientShared>,
    stream: &TcpStream,
    deadline: Duration,
    tls: Option<&TlsConn>,
) {
    let waker = current_thread_waker();
    let mut out = BytesMut::new();
    let mut deadline_writer = DeadlineWriter::new(stream, deadline);
    let mut failed = false;
    loop {
        match shared.outbound.poll_transmit(&mut out, &waker) {
            Transmit::Data => {
                let written = match tls {
                    None => deadline_writer.write_all(&out),
                    Some(tls) => tls.write_all(&mut deadline_writer, &out),
                };
                if let Err(reason) = written {
                    shared.outbound.close(reason);
                    failed = true;
                    break;
                }
                shared.outbound.handle_written();
                if out.capacity() > KEEP_OUT_CAPACITY {
                    out = BytesMut::new();
                } else {
                    out.clear();
                }
            }
            Transmit::Idle => std::thread::park(),
            Transmit::Close(_) => break,
        }
    }
    if let (Some(tls), false) = (tls, failed) {
        tls.close(stream);
    }
    let _ = stream.shutdown(Shutdown::Both);
}

/// Writes whole buffers to a socket, each within a deadline (`None`: no deadline).
#[derive(Debug)]
pub(crate) struct DeadlineWriter<'a> {
    stream: &'a TcpStream,
    deadline: Option<Duration>,
    /// The write timeout set on the socket (`None`: none, as a new socket has).
    armed: Option<Duration>,
}

impl<'a> DeadlineWriter<'a> {
    /// A writer for `stream`; a zero `deadline` means none.
    pub(crate) fn new(stream: &'a TcpStream, deadline: Duration) -> Self {
        DeadlineWriter {
            stream,
            deadline: (!deadline.is_zero()).then_some(deadline),
            armed: None,
        }
    }

    /// Writes all of `data`, failing with [`CloseReason::SlowConsumerWriteDeadline`] when that
    /// takes longer than the deadline and [`CloseReason::WriteError`] when the socket fails.
    pub(crate) fn write_all(&mut self, data: &[u8]) -> Result<(), CloseReason> {
        let start = Instant::now();
        self.arm(self.deadline)?;
        let mut written = 0;
        while written < data.len() {
            match (&*self.stream).write(&data[written..]) {
                Ok(0) => return Err(CloseReason::WriteError),
                Ok(n) => {
                    written += n;
                    if written < data.len() {
                        // The socket pushed back: only what is left of the deadline remains.
                        if let Some(deadline) = self.deadline {
                            let left = deadline.saturating_sub(start.elapsed());
                            if left.is_zero() {
                                return Err(CloseReason::SlowConsumerWriteDeadline);
                            }
                            self.arm(Some(left))?;
                        }
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if is_timeout(&e) => return Err(CloseReason::SlowConsumerWriteDeadline),
                Err(_) => return Err(CloseReason::WriteError),
            }
        }
        Ok(())
    }

    fn arm(&mut self, timeout: Option<Duration>) -> Result<(), CloseReason> {
        if self.armed != timeout {
            self.stream
                .set_write_timeout(timeout)
                .map_err(|_| CloseReason::WriteError)?;
            self.armed = timeout;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::net::TcpListener;

    fn pair() -> (TcpStream, TcpStream) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let a = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (b, _) = l.accept().unwrap();
        (a, b)
    }

    #[test]
    fn writes_everything_to_a_reading_peer() {
        let (a, mut b) = pair();
        let data = vec![7u8; 4 * 1024 * 1024];
        let reader = std::thread::spawn(move || {
            let mut got = Vec::new();
            b.read_to_end(&mut got).unwrap();
            got
        });
        let mut w = DeadlineWriter::new(&a, Duration::from_secs(10));
        w.write_all(&data).unwrap();
        a.shutdown(Shutdown::Write).unwrap();
        assert_eq!(reader.join().unwrap(), data);
    }

    #[test]
    fn peer_that_does_not_read_hits_the_deadline() {
        let (a, _b) = pair();
        let data = vec![7u8; 256 * 1024 * 1024];
        let mut w = DeadlineWriter::new(&a, Duration::from_millis(200));
        let start = Instant::now();
        assert_eq!(
            w.write_all(&data),
            Err(CloseReason::SlowConsumerWriteDeadline)
        );
        assert!(start.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn closed_peer_is_an_error() {
        let (a, b) = pair();
        drop(b);
        let data = vec![7u8; 1024 * 1024];
        let mut w = DeadlineWriter::new(&a, Duration::from_secs(2));
        let mut result = Ok(());
        for _ in 0..100 {
            result = w.write_all(&data);
            if result.is_err() {
                break;
            }
        }
        // Linux reports the reset; Wine lets the write block until the deadline instead.
        if cfg!(unix) {
            assert_eq!(result, Err(CloseReason::WriteError));
        } else {
            assert!(result.is_err());
        }
    }
}
