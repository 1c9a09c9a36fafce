//! TLS on client and route connections for the blocking driver.
//!
//! The handshake runs on the reader thread before the writer starts (bounded by the TLS
//! timeout): as the TLS server for accepted connections, as the TLS client for dialled
//! routes. Afterwards the reader and the writer share one `rustls::ServerConnection` under a
//! short lock that is never held across a socket read: the reader reads ciphertext from the
//! socket on its own, then feeds it to rustls; the writer encrypts under the lock and writes
//! the records after releasing it. Sending (writer data, or an alert the reader must answer
//! with) is serialised by a second lock so records reach the socket in order.
//!
//! Plain-text connections never touch this module.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use engine::CloseReason;
use rustls::pki_types::ServerName;
use rustls::{
    ClientConfig, ClientConnection, Connection, ProtocolVersion, ServerConfig, ServerConnection,
};

use crate::reader::is_timeout;
use crate::writer::DeadlineWriter;

/// The rustls this runtime was built with: build the [`rustls::ServerConfig`] given to
/// [`crate::serve_tls`] with it.
pub use rustls;

/// Type of the first byte of every TLS record that starts a handshake.
const HANDSHAKE_RECORD: u8 = 0x16;

/// Longest the `close_notify` of a closing connection may take to write.
const CLOSE_TIMEOUT: Duration = Duration::from_millis(500);

/// Most socket reads one [`TlsConn::read`] makes before returning without plaintext (the
/// reader loop then simply reads again).
const MAX_READ_ROUNDS: usize = 64;

/// Why a TLS handshake did not complete. `Display` follows the reference's wording where it
/// has one.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HandshakeError {
    /// The client did not finish within the TLS timeout.
    #[error("i/o timeout")]
    Timeout,
    /// The client closed the connection before the handshake completed.
    #[error("EOF")]
    Closed,
    /// The first bytes are not a TLS handshake record (a plain-text client, for instance).
    #[error("tls: first record does not look like a TLS handshake")]
    NotTls,
    /// TLS refused the client (bad certificate, no common version...).
    #[error("{0}")]
    Tls(#[from] rustls::Error),
    /// The socket failed.
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// Locks, ignoring poisoning: the state under these locks stays consistent between calls.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The TLS state of one connection, shared by its reader and writer threads.
#[derive(Debug)]
pub(crate) struct TlsConn {
    inner: Mutex<Inner>,
    /// Held while records are taken out of rustls and written to the socket.
    send: Mutex<()>,
}

#[derive(Debug)]
struct Inner {
    /// The server side (accepted connections) or the client side (dialled routes).
    conn: Connection,
    /// Ciphertext read from the socket that rustls has not taken yet.
    pending: Vec<u8>,
}

/// Runs the server side of a TLS handshake on `stream` within `timeout`. A client whose
/// first byte cannot start a TLS handshake is refused without an answer, as the reference
/// does. The socket's timeouts are cleared afterwards.
pub(crate) fn handshake(
    stream: &TcpStream,
    config: Arc<ServerConfig>,
    timeout: Duration,
) -> Result<TlsConn, HandshakeError> {
    let deadline = Instant::now() + timeout;
    let result = handshake_until(stream, config, deadline);
    let _ = stream.set_read_timeout(None);
    let _ = stream.set_write_timeout(None);
    result
}

fn handshake_until(
    stream: &TcpStream,
    config: Arc<ServerConfig>,
    deadline: Instant,
) -> Result<TlsConn, HandshakeError> {
    arm(stream, deadline)?;
    let mut first = [0u8; 1];
    match stream.peek(&mut first).map_err(handshake_io)? {
        0 => return Err(HandshakeError::Closed),
        _ if first[0] != HANDSHAKE_RECORD => return Err(HandshakeError::NotTls),
        _ => {}
    }
    drive(stream, ServerConnection::new(config)?.into(), deadline)
}

/// Runs the client side of a TLS handshake on a dialled route within `timeout`, checking the
/// peer's certificate against `host` (the route URL's host). The socket's timeouts are
/// cleared afterwards.
pub(crate) fn client_handshake(
    stream: &TcpStream,
    config: Arc<ClientConfig>,
    host: &str,
    timeout: Duration,
) -> Result<TlsConn, HandshakeError> {
    let deadline = Instant::now() + timeout;
    let result = ServerName::try_from(host.to_string())
        .map_err(|e| HandshakeError::Io(io::Error::new(io::ErrorKind::InvalidInput, e)))
        .and_then(|name| Ok(ClientConnection::new(config, name)?))
        .and_then(|conn| drive(stream, conn.into(), deadline));
    let _ = stream.set_read_timeout(None);
    let _ = stream.set_write_timeout(None);
    result
}

/// Moves handshake records between `conn` and `stream` until the handshake is done or
/// `deadline` passes.
fn drive(
    stream: &TcpStream,
    mut conn: Connection,
    deadline: Instant,
) -> Result<TlsConn, HandshakeError> {
    // Each round moves at least one record or fails; the deadline bounds the rounds.
    while conn.is_handshaking() {
        arm(stream, deadline)?;
        let (read, _) = conn.complete_io(&mut &*stream).map_err(handshake_io)?;
        if read == 0 && conn.is_handshaking() && !conn.wants_write() {
            return Err(HandshakeError::Closed);
        }
    }
    while conn.wants_write() {
        arm(stream, deadline)?;
        conn.write_tls(&mut &*stream).map_err(handshake_io)?;
    }
    Ok(TlsConn {
        inner: Mutex::new(Inner {
            conn,
            pending: Vec::new(),
        }),
        send: Mutex::new(()),
    })
}

/// Sets the socket's timeouts to what is left until `deadline`.
fn arm(stream: &TcpStream, deadline: Instant) -> Result<(), HandshakeError> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(HandshakeError::Timeout);
    }
    stream.set_read_timeout(Some(left))?;
    stream.set_write_timeout(Some(left))?;
    Ok(())
}

/// A socket error during a handshake, in the reference's words.
fn handshake_io(e: io::Error) -> HandshakeError {
    if is_timeout(&e) {
        HandshakeError::Timeout
    } else if e.kind() == io::ErrorKind::UnexpectedEof {
        HandshakeError::Closed
    } else {
        HandshakeError::Io(e)
    }
}

impl TlsConn {
    /// The client's certificate (DER), if it presented one.
    pub(crate) fn peer_certificate(&self) -> Option<Vec<u8>> {
        let inner = lock(&self.inner);
        inner
            .conn
            .peer_certificates()
            .and_then(|c| c.first())
            .map(|c| c.as_ref().to_vec())
    }

    /// `TLS version 1.3, cipher suite TLS_AES_128_GCM_SHA256`: what the reference logs after
    /// a handshake (suite names as Go spells them).
    pub(crate) fn describe(&self) -> String {
        let inner = lock(&self.inner);
        let version = match inner.conn.protocol_version() {
            Some(ProtocolVersion::TLSv1_3) => "1.3".to_string(),
            Some(ProtocolVersion::TLSv1_2) => "1.2".to_string(),
            Some(other) => format!("{other:?}"),
            None => "unknown".to_string(),
        };
        let suite = inner
            .conn
            .negotiated_cipher_suite()
            .and_then(|s| s.suite().as_str())
            .map(|s| s.replacen("TLS13_", "TLS_", 1))
            .unwrap_or_else(|| "unknown".to_string());
        format!("TLS version {version}, cipher suite {suite}")
    }

    /// Reads plaintext into `buf` (not empty): what rustls already decrypted, else blocking
    /// socket reads (the socket's read timeout applies and its error is returned) fed to
    /// rustls. `Ok(0)`: the client closed. `buf` doubles as the socket read buffer.
    pub(crate) fn read(&self, stream: &TcpStream, buf: &mut [u8]) -> io::Result<usize> {
        for _ in 0..MAX_READ_ROUNDS {
            let wants_write = {
                let mut guard = lock(&self.inner);
                let inner = &mut *guard;
                // Bounded: every round takes at least one pending byte or returns.
                loop {
                    match inner.conn.reader().read(buf) {
                        Ok(n) => return Ok(n),
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(0),
                        Err(e) => return Err(e),
                    }
                    if inner.pending.is_empty() {
                        break;
                    }
                    let took = inner.conn.read_tls(&mut &inner.pending[..])?;
                    if took == 0 {
                        return Err(io::Error::new(io::ErrorKind::InvalidData, "TLS stalled"));
                    }
                    inner.pending.drain(..took);
                    if let Err(e) = inner.conn.process_new_packets() {
                        drop(guard);
                        // Tell the client why (an alert), as far as the socket takes it.
                        let _ = self.flush(stream);
                        return Err(io::Error::new(io::ErrorKind::InvalidData, e));
                    }
                }
                inner.conn.wants_write()
            };
            if wants_write {
                self.flush(stream)?;
            }
            let n = read_some(stream, buf)?;
            let mut inner = lock(&self.inner);
            if n == 0 {
                // End of stream without close_notify: the client went away.
                return Ok(0);
            }
            inner.pending.extend_from_slice(&buf[..n]);
        }
        Err(io::Error::new(
            io::ErrorKind::WouldBlock,
            "no complete TLS record yet",
        ))
    }

    /// Encrypts `data` and writes it with `writer`, in chunks rustls accepts.
    pub(crate) fn write_all(
        &self,
        writer: &mut DeadlineWriter<'_>,
        data: &[u8],
    ) -> Result<(), CloseReason> {
        let _send = lock(&self.send);
        let mut rest = data;
        let mut records = Vec::new();
        while !rest.is_empty() {
            {
                let mut inner = lock(&self.inner);
                let n = inner
                    .conn
                    .writer()
                    .write(rest)
                    .map_err(|_| CloseReason::WriteError)?;
                rest = &rest[n..];
                records.clear();
                while inner.conn.wants_write() {
                    inner
                        .conn
                        .write_tls(&mut records)
                        .map_err(|_| CloseReason::WriteError)?;
                }
                if n == 0 && records.is_empty() {
                    return Err(CloseReason::WriteError);
                }
            }
            writer.write_all(&records)?;
        }
        Ok(())
    }

    /// Sends `close_notify` (best effort, bounded by a short write timeout).
    pub(crate) fn close(&self, stream: &TcpStream) {
        let _ = stream.set_write_timeout(Some(CLOSE_TIMEOUT));
        lock(&self.inner).conn.send_close_notify();
        let _ = self.flush(stream);
    }

    /// Writes whatever records rustls has queued (alerts, key updates).
    fn flush(&self, stream: &TcpStream) -> io::Result<()> {
        let _send = lock(&self.send);
        let mut records = Vec::new();
        {
            let mut inner = lock(&self.inner);
            while inner.conn.wants_write() {
                inner.conn.write_tls(&mut records)?;
            }
        }
        (&*stream).write_all(&records)
    }
}

/// Whether the client sends something (or closes) within `delay`.
pub(crate) fn speaks_within(stream: &TcpStream, delay: Duration) -> bool {
    if delay.is_zero() || stream.set_read_timeout(Some(delay)).is_err() {
        return true;
    }
    let mut first = [0u8; 1];
    let spoke = loop {
        match stream.peek(&mut first) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if is_timeout(&e) => break false,
            _ => break true,
        }
    };
    let _ = stream.set_read_timeout(None);
    spoke
}

/// One socket read, retried when interrupted by a signal.
fn read_some(mut stream: &TcpStream, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match stream.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            other => return other,
        }
    }
}
