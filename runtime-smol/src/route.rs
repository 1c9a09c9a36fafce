//! Routes: the cluster listener, the dialer of the routes the engine asks for, and the two
//! tasks of a route connection (the same reader and writer loops as clients).

use std::future::poll_fn;
use std::io;
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use engine::{CloseReason, RouteConn, RouteDial, Server};
use futures_rustls::rustls::pki_types::ServerName;
use futures_rustls::rustls::{ClientConfig, ServerConfig};
use futures_rustls::TlsConnector;
use smol::future::FutureExt;
use smol::io::{AsyncRead, AsyncWrite};
use smol::{Async, Executor, Timer};

use crate::connection::{read_loop, write_log, write_loop};
use crate::tls::SharedTcp;

/// Route TLS as the route tasks use it.
#[derive(Debug, Clone)]
pub(crate) struct Tls {
    pub(crate) server: Arc<ServerConfig>,
    pub(crate) client: Arc<ClientConfig>,
    pub(crate) timeout: Duration,
}

/// How a route connection's bytes travel.
enum Transport<'a> {
    Plain,
    /// Accepted: we are the TLS server.
    Accepted(&'a Tls),
    /// Dialled `host`: we are the TLS client.
    Dialled(&'a Tls, String),
}

/// Longest a route dial may take.
const DIAL_TIMEOUT: Duration = Duration::from_secs(2);

/// Runs one route connection to its end (TLS first when configured: routes have no
/// plain-text INFO before the handshake).
async fn run(
    ex: Arc<Executor<'static>>,
    mut conn: RouteConn,
    stream: Async<TcpStream>,
    transport: Transport<'_>,
) {
    let tcp = SharedTcp(Arc::new(stream));
    let shared = conn.shared().clone();
    shared.outbound.set_abort_waker(tcp.cutter());
    let deadline = conn.write_deadline();
    write_log(&mut conn);
    let prefix = format!("{} - rid:{} - ", shared.peer, shared.cid);
    match transport {
        Transport::Plain => {
            let writer = ex.spawn(write_loop(
                shared,
                tcp.clone(),
                deadline,
                tcp.clone(),
                false,
            ));
            read_loop(&mut conn, &mut &*tcp.0).await;
            writer.await;
        }
        Transport::Accepted(tls) => {
            log::debug!("{prefix}Starting TLS route server handshake");
            match crate::tls::handshake(tls.server.clone(), tcp.0.clone(), tls.timeout).await {
                Ok(stream) => {
                    log::debug!("{prefix}TLS handshake complete");
                    let (mut reader, writer) = smol::io::split(stream);
                    run_split(&ex, &mut conn, &mut reader, writer, tcp.clone(), deadline).await;
                }
                Err(e) => {
                    log::error!("{prefix}TLS route handshake error: {e}");
                    conn.handle_read_closed(CloseReason::TlsHandshakeError);
                    tcp.shutdown();
                }
            }
        }
        Transport::Dialled(tls, host) => {
            log::debug!("{prefix}Starting TLS route client handshake");
            let name = ServerName::try_from(host.clone())
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e));
            let connector = TlsConnector::from(tls.client.clone());
            let handshake = async {
                match name {
                    Ok(name) => Some(connector.connect(name, tcp.clone()).await),
                    Err(e) => Some(Err(e)),
                }
            }
            .or(async {
                Timer::after(tls.timeout).await;
                None
            })
            .await;
            match handshake {
                Some(Ok(stream)) => {
                    log::debug!("{prefix}TLS handshake complete");
                    let (mut reader, writer) = smol::io::split(stream);
                    run_split(&ex, &mut conn, &mut reader, writer, tcp.clone(), deadline).await;
                }
                other => {
                    let why = match other {
                        Some(Err(e)) => e.to_string(),
                        _ => "i/o timeout".to_string(),
                    };
                    log::error!("{prefix}TLS route handshake error: {why}");
                    conn.handle_read_closed(CloseReason::TlsHandshakeError);
                    tcp.shutdown();
                }
            }
        }
    }
    conn.finish(Instant::now());
    write_log(&mut conn);
}

/// The reader and writer of a route over the two halves of a TLS stream.
async fn run_split<R, W>(
    ex: &Arc<Executor<'static>>,
    conn: &mut RouteConn,
    reader: &mut R,
    writer: W,
    tcp: SharedTcp,
    deadline: Duration,
) where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let shared = conn.shared().clone();
    let writer = ex.spawn(write_loop(shared, writer, deadline, tcp, true));
    read_loop(conn, reader).await;
    writer.await;
}

/// Accepts route connections on the cluster listener until `stop` completes.
pub(crate) async fn accept_loop(
    ex: Arc<Executor<'static>>,
    server: Arc<Server>,
    listener: Async<TcpListener>,
    tls: Option<Tls>,
    stop: impl std::future::Future<Output = ()>,
) -> io::Result<()> {
    let mut stop = std::pin::pin!(stop);
    loop {
        let accepted = async { Some(listener.accept().await) }
            .or(async {
                stop.as_mut().await;
                None
            })
            .await;
        match accepted {
            None => return Ok(()),
            Some(Ok((stream, peer))) => {
                let _ = stream.get_ref().set_nodelay(true);
                let conn = server.accept_route(peer, Instant::now());
                let (ex2, tls) = (ex.clone(), tls.clone());
                ex.spawn(async move {
                    let transport = match &tls {
                        Some(t) => Transport::Accepted(t),
                        None => Transport::Plain,
                    };
                    run(ex2, conn, stream, transport).await;
                })
                .detach();
            }
            Some(Err(e)) => {
                log::error!("Error accepting route connection: {e}");
                Timer::after(Duration::from_millis(10)).await;
            }
        }
    }
}

/// Dials every route the engine queues (each at the instant it says), until `stop`.
pub(crate) async fn dial_loop(
    ex: Arc<Executor<'static>>,
    server: Arc<Server>,
    tls: Option<Tls>,
    stop: impl std::future::Future<Output = ()>,
) {
    let mut stop = std::pin::pin!(stop);
    loop {
        let dials = async {
            Some(
                poll_fn(|cx| {
                    let dials = server.poll_route_dials(cx.waker());
                    if dials.is_empty() {
                        Poll::Pending
                    } else {
                        Poll::Ready(dials)
                    }
                })
                .await,
            )
        }
        .or(async {
            stop.as_mut().await;
            None
        })
        .await;
        let Some(dials) = dials else {
            return;
        };
        for dial in dials {
            ex.spawn(dial_one(ex.clone(), server.clone(), dial, tls.clone()))
                .detach();
        }
    }
}

/// Waits for the dial's time, connects, and runs the route (or reports the failure).
async fn dial_one(
    ex: Arc<Executor<'static>>,
    server: Arc<Server>,
    dial: RouteDial,
    tls: Option<Tls>,
) {
    if let Some(at) = dial.not_before {
        Timer::at(at).await;
    }
    if server.is_shutting_down() {
        server.route_dial_failed(dial, Instant::now());
        return;
    }
    let address = dial.url.address();
    let resolved = address.to_socket_addrs().ok().and_then(|mut a| a.next());
    let shown = resolved.map_or_else(|| address.clone(), |a| a.to_string());
    log::debug!("Trying to connect to route on {address} ({shown})");
    let connected = match resolved {
        Some(addr) => async { Async::<TcpStream>::connect(addr).await.ok() }
            .or(async {
                Timer::after(DIAL_TIMEOUT).await;
                None
            })
            .await
            .map(|s| (s, addr)),
        None => None,
    };
    match connected {
        Some((stream, addr)) => {
            let _ = stream.get_ref().set_nodelay(true);
            let host = dial.url.host.clone();
            let conn = server.solicit_route(dial, addr, Instant::now());
            let transport = match &tls {
                Some(t) => Transport::Dialled(t, host),
                None => Transport::Plain,
            };
            run(ex, conn, stream, transport).await;
        }
        None => {
            log::debug!("Error trying to connect to route ({address}), will retry");
            server.route_dial_failed(dial, Instant::now());
        }
    }
}
