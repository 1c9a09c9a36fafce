//! One connection's two threads: the reader (owns the engine `Client`) and the writer
//! (drains the connection's outbound queue).

use std::io;
use std::net::{Shutdown, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use engine::config::TlsSettings;
use engine::{Client, CloseReason, Transmit};

use crate::reader::read_loop;
use crate::socket_cutter::socket_cutter;
use crate::thread_waker::current_thread_waker;
use crate::tls::{self, TlsConn};
use crate::tracker::{Registration, Tracker};
use crate::writer::{spawn_writer, DeadlineWriter};

/// Most outbound batches written in plain text before a TLS handshake (INFO, and an error
/// when the client is refused).
const MAX_PLAIN_BATCHES: usize = 8;

/// TLS of a listener: the rustls configuration and the engine's settings (timeout,
/// handshake first).
#[derive(Debug)]
pub(crate) struct ListenerTls {
    pub(crate) config: Arc<rustls::ServerConfig>,
    pub(crate) settings: TlsSettings,
}

/// Stack of a reader thread: parsing and routing one op at a time, no recursion.
pub(crate) const READER_STACK: usize = 128 * 1024;
/// Stack of a writer thread: it only moves bytes.
pub(crate) const WRITER_STACK: usize = 64 * 1024;

/// Starts the threads of a newly accepted connection. On failure the client is dropped
/// (which cleans it up) and the socket closed.
pub(crate) fn spawn(
    client: Client,
    stream: TcpStream,
    tracker: &Arc<Tracker>,
    tls: Option<Arc<ListenerTls>>,
) -> io::Result<()> {
    let stream = Arc::new(stream);
    client
        .shared()
        .outbound
        .set_abort_waker(socket_cutter(&stream));
    let registration = tracker.register(stream.clone());
    thread::Builder::new()
        .name(format!("nats-read-{}", client.cid()))
        .stack_size(READER_STACK)
        .spawn(move || run(client, stream, registration, tls))
        .map(drop)
}

/// Runs one connection to its end on the reader thread; the writer gets its own thread.
fn run(
    mut client: Client,
    stream: Arc<TcpStream>,
    registration: Registration,
    tls: Option<Arc<ListenerTls>>,
) {
    let shared = client.shared().clone();
    let deadline = client.write_deadline();
    let session = match tls {
        None => None,
        Some(tls) => match start_tls(&mut client, &stream, &tls, deadline) {
            Some(session) => Some(Arc::new(session)),
            None => {
                let _ = stream.shutdown(Shutdown::Both);
                end(client, registration);
                return;
            }
        },
    };
    let writer = spawn_writer("nats-write", &shared, &stream, deadline, session.as_ref());
    match writer {
        Ok(writer) => {
            read_loop(&mut client, &stream, session.as_deref());
            let _ = writer.join();
        }
        Err(e) => {
            log::error!(
                "{} - cid:{} - Could not start the connection's writer: {e}",
                shared.peer,
                shared.cid
            );
            shared.outbound.close(CloseReason::WriteError);
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
    end(client, registration);
}

/// Logs the end of the connection and cleans up after it.
fn end(mut client: Client, registration: Registration) {
    let shared = client.shared().clone();
    let reason = client.final_close_reason();
    log::debug!(
        "{} - cid:{} - Client connection closed: {reason}",
        shared.peer,
        shared.cid
    );
    client.finish(Instant::now());
    drop(registration);
}

/// Writes INFO in plain text (unless TLS comes first) and runs the TLS handshake. `None`:
/// the connection is over (the client was refused or the handshake failed).
fn start_tls(
    client: &mut Client,
    stream: &TcpStream,
    tls: &ListenerTls,
    deadline: Duration,
) -> Option<TlsConn> {
    let shared = client.shared().clone();
    let mut plain_info = !tls.settings.handshake_first;
    if let (true, Some(delay)) = (
        tls.settings.handshake_first,
        tls.settings.handshake_first_fallback,
    ) {
        // `handshake_first: auto`: a client that waits for INFO gets it in plain text.
        plain_info = !tls::speaks_within(stream, delay);
    }
    if plain_info && !write_plain_info(client, stream, deadline) {
        return None;
    }
    log::debug!(
        "{} - cid:{} - Starting TLS client connection handshake",
        shared.peer,
        shared.cid
    );
    match tls::handshake(stream, tls.config.clone(), tls.settings.timeout) {
        Ok(session) => {
            client.handle_tls_handshake(Instant::now());
            if let Some(leaf) = session.peer_certificate() {
                client.handle_peer_certificate(&leaf);
            }
            log::debug!(
                "{} - cid:{} - TLS handshake complete",
                shared.peer,
                shared.cid
            );
            log::debug!(
                "{} - cid:{} - {}",
                shared.peer,
                shared.cid,
                session.describe()
            );
            Some(session)
        }
        Err(e) => {
            log::debug!(
                "{} - cid:{} - TLS handshake error: {e}",
                shared.peer,
                shared.cid
            );
            client.handle_read_closed(CloseReason::TlsHandshakeError);
            None
        }
    }
}

/// Writes what the engine queued at accept (INFO; an error too when the client is refused)
/// in plain text, before the TLS handshake. Returns whether the connection goes on.
fn write_plain_info(client: &Client, stream: &TcpStream, deadline: Duration) -> bool {
    let shared = client.shared();
    let waker = current_thread_waker();
    let mut out = bytes::BytesMut::new();
    let mut writer = DeadlineWriter::new(stream, deadline);
    for _ in 0..MAX_PLAIN_BATCHES {
        match shared.outbound.poll_transmit(&mut out, &waker) {
            Transmit::Data => {
                if let Err(reason) = writer.write_all(&out) {
                    shared.outbound.close(reason);
                    return false;
                }
                shared.outbound.handle_written();
                out.clear();
            }
            Transmit::Idle => break,
            Transmit::Close(_) => return false,
        }
    }
    // The plain writes left a write timeout on the socket; the handshake sets its own.
    let _ = stream.set_write_timeout(None);
    client.close_reason().is_none()
}
