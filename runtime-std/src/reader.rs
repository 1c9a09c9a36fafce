//! The reader of one connection: blocking reads into the engine `Client`, with the read
//! timeout set to the client's next deadline so keepalive PINGs and stale detection fire.

use std::io::{self, Read};
use std::net::TcpStream;
use std::time::Instant;

use bytes::BytesMut;
use engine::{CloseReason, Connection, LogLevel};

use crate::read_size::{ReadSize, MIN_READ};
use crate::read_timer::ReadTimer;
use crate::tls::TlsConn;

/// Reads `stream` (through `tls` when the connection has it) into `client` (a client or a
/// route) until it decides to close.
pub(crate) fn read_loop<C: Connection>(client: &mut C, stream: &TcpStream, tls: Option<&TlsConn>) {
    let mut buf = BytesMut::with_capacity(MIN_READ);
    let mut size = ReadSize::new();
    let mut timer = ReadTimer::default();
    while client.close_reason().is_none() {
        let now = Instant::now();
        let remaining = match client.poll_timeout() {
            Some(at) if at <= now => {
                client.handle_timeout(now);
                continue;
            }
            Some(at) => Some(at - now),
            None => None,
        };
        if let Some(timeout) = timer.rearm(remaining) {
            if stream.set_read_timeout(timeout).is_err() {
                client.handle_read_closed(CloseReason::ReadError);
                break;
            }
            timer.armed(timeout);
        }
        let start = buf.len();
        buf.resize(start + size.get(), 0);
        let read = match tls {
            None => read_some(stream, &mut buf[start..]),
            Some(tls) => tls.read(stream, &mut buf[start..]),
        };
        match read {
            Ok(0) => {
                buf.truncate(start);
                client.handle_read_closed(CloseReason::ClientClosed);
            }
            Ok(n) => {
                buf.truncate(start + n);
                size.observe(n);
                client.handle_input(&mut buf, Instant::now());
            }
            Err(e) if is_timeout(&e) => buf.truncate(start),
            Err(_) => {
                buf.truncate(start);
                client.handle_read_closed(CloseReason::ReadError);
            }
        }
        write_log(client);
    }
    write_log(client);
}

/// Hands the engine's log events (trace lines, errors, slow consumers) to the logger.
pub(crate) fn write_log<C: Connection>(client: &mut C) {
    client.drain_log_into(&mut |event| match event.level {
        LogLevel::Error => log::error!("{}", event.text),
        LogLevel::Info => log::info!("{}", event.text),
        LogLevel::Debug => log::debug!("{}", event.text),
        LogLevel::Trace => log::trace!("{}", event.text),
    });
}

/// One read, retried when interrupted by a signal.
fn read_some(mut stream: &TcpStream, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match stream.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            other => return other,
        }
    }
}

/// Whether a socket error means its timeout passed (`WouldBlock` on Unix, `TimedOut` on
/// Windows).
pub(crate) fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}
