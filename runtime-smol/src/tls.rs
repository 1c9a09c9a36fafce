//! TLS on client connections: the handshake (bounded by the TLS timeout) and the socket
//! wrapper the TLS stream runs over.
//!
//! Plain-text connections never touch this module: a listener without TLS runs the same
//! reader and writer loops directly on the socket.

use std::io;
use std::net::{Shutdown, TcpStream};
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

/// The rustls this runtime was built with: build the [`rustls::ServerConfig`] given to
/// [`crate::serve_tls`] with it.
pub use futures_rustls::rustls;
use futures_rustls::server::TlsStream;
use futures_rustls::TlsAcceptor;
use rustls::{ProtocolVersion, ServerConfig};
use smol::future::FutureExt;
use smol::io::{AsyncRead, AsyncWrite};
use smol::{Async, Timer};

/// Type of the first byte of every TLS record that starts a handshake.
const HANDSHAKE_RECORD: u8 = 0x16;

/// A client socket shared between the TLS stream (which owns one handle) and the connection
/// (which keeps another to shut the socket down, ending both tasks).
#[derive(Debug, Clone)]
pub(crate) struct SharedTcp(pub(crate) Arc<Async<TcpStream>>);

impl SharedTcp {
    /// Shuts both directions of the socket down (errors ignored: it may be gone already).
    pub(crate) fn shutdown(&self) {
        let _ = self.0.get_ref().shutdown(Shutdown::Both);
    }

    /// A waker that shuts the socket down (if it still exists): how the engine cuts off a
    /// connection whose writer is stuck in a write. It does not keep the socket open.
    pub(crate) fn cutter(&self) -> Waker {
        Waker::from(Arc::new(SocketCutter(Arc::downgrade(&self.0))))
    }
}

/// See [`SharedTcp::cutter`].
#[derive(Debug)]
struct SocketCutter(Weak<Async<TcpStream>>);

impl Wake for SocketCutter {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if let Some(socket) = self.0.upgrade() {
            let _ = socket.get_ref().shutdown(Shutdown::Both);
        }
    }
}

impl AsyncRead for SharedTcp {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for SharedTcp {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self.0).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self.0).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut &*self.0).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut &*self.0).poll_close(cx)
    }
}

/// Why a TLS handshake did not complete. `Display` follows the reference's wording where it
/// has one.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HandshakeError {
    /// The client did not finish within the TLS timeout.
    #[error("i/o timeout")]
    Timeout,
    /// The client closed the connection before sending anything.
    #[error("EOF")]
    Closed,
    /// The first bytes are not a TLS handshake record (a plain-text client, for instance).
    #[error("tls: first record does not look like a TLS handshake")]
    NotTls,
    /// The socket failed, or TLS refused the client (bad certificate, no common version...).
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// Runs the server side of a TLS handshake on `tcp`, giving up after `timeout`. A client
/// whose first byte cannot start a TLS handshake is refused without an answer, as the
/// reference does.
pub(crate) async fn handshake(
    config: Arc<ServerConfig>,
    tcp: Arc<Async<TcpStream>>,
    timeout: Duration,
) -> Result<TlsStream<SharedTcp>, HandshakeError> {
    async {
        let mut first = [0u8; 1];
        if tcp.peek(&mut first).await? == 0 {
            return Err(HandshakeError::Closed);
        }
        if first[0] != HANDSHAKE_RECORD {
            return Err(HandshakeError::NotTls);
        }
        Ok(TlsAcceptor::from(config).accept(SharedTcp(tcp)).await?)
    }
    .or(async {
        Timer::after(timeout).await;
        Err(HandshakeError::Timeout)
    })
    .await
}

/// `TLS version 1.3, cipher suite TLS_AES_128_GCM_SHA256`: what the reference logs after a
/// handshake (suite names as Go spells them).
pub(crate) fn describe(conn: &rustls::ServerConnection) -> String {
    let version = match conn.protocol_version() {
        Some(ProtocolVersion::TLSv1_3) => "1.3".to_string(),
        Some(ProtocolVersion::TLSv1_2) => "1.2".to_string(),
        Some(other) => format!("{other:?}"),
        None => "unknown".to_string(),
    };
    let suite = conn
        .negotiated_cipher_suite()
        .and_then(|s| s.suite().as_str())
        .map(|s| s.replacen("TLS13_", "TLS_", 1))
        .unwrap_or_else(|| "unknown".to_string());
    format!("TLS version {version}, cipher suite {suite}")
}
