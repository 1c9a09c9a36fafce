//! The two tasks of one client connection: the reader (owns the engine `Client`) and the
//! writer (drains the connection's outbound queue).
//!
//! Both loops are generic over the stream: plain TCP runs them on the socket itself (no
//! locks, no extra copies); TLS runs them on the two halves of the TLS stream.

use std::future::poll_fn;
use std::net::TcpStream;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use engine::config::TlsSettings;
use engine::{Client, ClientShared, CloseReason, Connection, LogLevel, Transmit};
use futures_rustls::rustls::ServerConfig;
use smol::future::FutureExt;
use smol::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use smol::{Async, Executor, Timer};

use crate::tls::{self, SharedTcp};

/// Smallest and largest read sizes: start small (idle connections stay cheap), double while
/// reads fill the buffer, halve after short reads.
const MIN_READ: usize = 512;
const MAX_READ: usize = 64 * 1024;

/// Outbound buffers larger than this are released after they are written.
const KEEP_OUT_CAPACITY: usize = 1024 * 1024;

/// Most outbound batches written in plain text before a TLS handshake (INFO, and an error
/// when the client is refused).
const MAX_PLAIN_BATCHES: usize = 8;

/// Longest the TLS `close_notify` may take when a TLS connection closes.
const TLS_CLOSE_TIMEOUT: Duration = Duration::from_millis(500);

/// TLS of a listener: the rustls configuration and the engine's settings (timeout,
/// handshake first).
#[derive(Debug, Clone)]
pub(crate) struct ListenerTls {
    pub(crate) config: Arc<ServerConfig>,
    pub(crate) settings: TlsSettings,
}

/// Runs one connection to its end.
pub(crate) async fn run(
    ex: Arc<Executor<'static>>,
    client: Client,
    stream: Async<TcpStream>,
    tls: Option<ListenerTls>,
) {
    let stream = SharedTcp(Arc::new(stream));
    client.shared().outbound.set_abort_waker(stream.cutter());
    match tls {
        None => run_plain(ex, client, stream).await,
        Some(tls) => run_tls(ex, client, stream, tls).await,
    }
}

async fn run_plain(ex: Arc<Executor<'static>>, mut client: Client, stream: SharedTcp) {
    let shared = client.shared().clone();
    let deadline = client.write_deadline();
    let writer = ex.spawn(write_loop(
        shared,
        stream.clone(),
        deadline,
        stream.clone(),
        false,
    ));
    read_loop(&mut client, &mut &*stream.0).await;
    writer.await;
    end(client);
}

async fn run_tls(ex: Arc<Executor<'static>>, mut client: Client, tcp: SharedTcp, tls: ListenerTls) {
    let shared = client.shared().clone();
    let deadline = client.write_deadline();
    let mut plain_info = !tls.settings.handshake_first;
    if let (true, Some(delay)) = (
        tls.settings.handshake_first,
        tls.settings.handshake_first_fallback,
    ) {
        // `handshake_first: auto`: a client that waits for INFO gets it in plain text.
        plain_info = !speaks_within(&tcp, delay).await;
    }
    if plain_info && !write_plain_info(&client, &tcp, deadline).await {
        tcp.shutdown();
        end(client);
        return;
    }
    log::debug!(
        "{} - cid:{} - Starting TLS client connection handshake",
        shared.peer,
        shared.cid
    );
    let stream = match tls::handshake(tls.config, tcp.0.clone(), tls.settings.timeout).await {
        Ok(stream) => stream,
        Err(e) => {
            log::debug!(
                "{} - cid:{} - TLS handshake error: {e}",
                shared.peer,
                shared.cid
            );
            client.handle_read_closed(CloseReason::TlsHandshakeError);
            tcp.shutdown();
            end(client);
            return;
        }
    };
    client.handle_tls_handshake(Instant::now());
    if let Some(leaf) = stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
    {
        client.handle_peer_certificate(leaf.as_ref());
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
        tls::describe(stream.get_ref().1)
    );
    let (mut reader, writer) = smol::io::split(stream);
    let writer = ex.spawn(write_loop(shared, writer, deadline, tcp, true));
    read_loop(&mut client, &mut reader).await;
    writer.await;
    end(client);
}

/// Whether the client sends something (or closes) within `delay`.
async fn speaks_within(tcp: &SharedTcp, delay: Duration) -> bool {
    async { tcp.0.readable().await.is_ok() }
        .or(async {
            Timer::after(delay).await;
            false
        })
        .await
}

/// Writes what the engine queued at accept (INFO; an error too when the client is refused)
/// in plain text, before the TLS handshake. Returns whether the connection goes on.
async fn write_plain_info(client: &Client, tcp: &SharedTcp, deadline: Duration) -> bool {
    let shared = client.shared();
    let mut out = BytesMut::new();
    let mut writer = &*tcp.0;
    for _ in 0..MAX_PLAIN_BATCHES {
        let next =
            poll_fn(|cx| Poll::Ready(shared.outbound.poll_transmit(&mut out, cx.waker()))).await;
        match next {
            Transmit::Data => {
                if let Err(reason) = write_all(&mut writer, &out, deadline).await {
                    shared.outbound.close(reason);
                    return false;
                }
                shared.outbound.handle_written();
                out.clear();
            }
            Transmit::Idle => return client.close_reason().is_none(),
            Transmit::Close(_) => return false,
        }
    }
    client.close_reason().is_none()
}

/// Logs the end of the connection and cleans up after it.
fn end(mut client: Client) {
    let shared = client.shared().clone();
    let reason = client.final_close_reason();
    log::debug!(
        "{} - cid:{} - Client connection closed: {reason}",
        shared.peer,
        shared.cid
    );
    client.finish(Instant::now());
}

pub(crate) async fn read_loop<C: Connection, R: AsyncRead + Unpin>(client: &mut C, stream: &mut R) {
    if client.close_reason().is_some() {
        return;
    }
    let mut buf = BytesMut::with_capacity(MIN_READ);
    let mut read_size = MIN_READ;
    let mut timer = Timer::never();
    let mut armed: Option<Instant> = None;
    loop {
        let deadline = client.poll_timeout();
        if deadline != armed {
            match deadline {
                Some(at) => timer.set_at(at),
                None => timer = Timer::never(),
            }
            armed = deadline;
        }
        let start = buf.len();
        buf.resize(start + read_size, 0);
        let read = async { Some(stream.read(&mut buf[start..]).await) }
            .or(async {
                (&mut timer).await;
                None
            })
            .await;
        match read {
            None => {
                buf.truncate(start);
                armed = None;
                client.handle_timeout(Instant::now());
            }
            Some(Ok(0)) => {
                buf.truncate(start);
                client.handle_read_closed(CloseReason::ClientClosed);
            }
            Some(Ok(n)) => {
                buf.truncate(start + n);
                if n == read_size && read_size < MAX_READ {
                    read_size *= 2;
                } else if n < read_size / 2 && read_size > MIN_READ {
                    read_size /= 2;
                }
                client.handle_input(&mut buf, Instant::now());
            }
            // TLS reports a peer that closed without `close_notify` this way; the reference
            // counts it as the client closing.
            Some(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                buf.truncate(start);
                client.handle_read_closed(CloseReason::ClientClosed);
            }
            Some(Err(_)) => {
                buf.truncate(start);
                client.handle_read_closed(CloseReason::ReadError);
            }
        }
        write_log(client);
        if client.close_reason().is_some() {
            return;
        }
    }
}

/// Hands the engine's log events (trace lines, errors) to the logger.
pub(crate) fn write_log<C: Connection>(client: &mut C) {
    client.drain_log_into(&mut |event| match event.level {
        LogLevel::Error => log::error!("{}", event.text),
        LogLevel::Info => log::info!("{}", event.text),
        LogLevel::Debug => log::debug!("{}", event.text),
        LogLevel::Trace => log::trace!("{}", event.text),
    });
}

/// Drains the outbound queue into `stream`. When it ends, a TLS stream says `close_notify`
/// (bounded) and the socket is shut down, which ends the reader too.
pub(crate) async fn write_loop<W: AsyncWrite + Unpin>(
    shared: Arc<ClientShared>,
    mut stream: W,
    deadline: Duration,
    socket: SharedTcp,
    tls: bool,
) {
    let mut out = BytesMut::new();
    let mut failed = false;
    loop {
        let next = poll_fn(
            |cx| match shared.outbound.poll_transmit(&mut out, cx.waker()) {
                Transmit::Idle => Poll::Pending,
                t => Poll::Ready(t),
            },
        )
        .await;
        match next {
            Transmit::Data => {
                if let Err(reason) = write_all(&mut stream, &out, deadline).await {
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
            Transmit::Close(_) => break,
            Transmit::Idle => {}
        }
    }
    if tls && !failed {
        let _ = async { stream.close().await }
            .or(async {
                Timer::after(TLS_CLOSE_TIMEOUT).await;
                Ok(())
            })
            .await;
    }
    socket.shutdown();
}

/// Writes all of `data` and flushes it; the write deadline timer is only armed when the
/// socket pushes back.
async fn write_all<W: AsyncWrite + Unpin>(
    stream: &mut W,
    data: &[u8],
    deadline: Duration,
) -> Result<(), CloseReason> {
    let mut written = 0;
    while written < data.len() {
        match smol::future::poll_once(stream.write(&data[written..])).await {
            Some(Ok(0)) | Some(Err(_)) => return Err(CloseReason::WriteError),
            Some(Ok(n)) => written += n,
            None => break,
        }
    }
    if written == data.len() {
        match smol::future::poll_once(stream.flush()).await {
            Some(Ok(())) => return Ok(()),
            Some(Err(_)) => return Err(CloseReason::WriteError),
            None => {}
        }
    }
    let rest = &data[written..];
    async {
        match stream.write_all(rest).await {
            Ok(()) => stream.flush().await.map_err(|_| CloseReason::WriteError),
            Err(_) => Err(CloseReason::WriteError),
        }
    }
    .or(async {
        Timer::after(deadline).await;
        Err(CloseReason::SlowConsumerWriteDeadline)
    })
    .await
}
