//! Routes: the cluster listener, the dialer of the routes the engine asks for, and the two
//! tasks of a route connection (the same reader and writer loops as clients).

use std::future::poll_fn;
use std::io;
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use engine::{RouteConn, RouteDial, Server};
use smol::future::FutureExt;
use smol::{Async, Executor, Timer};

use crate::connection::{read_loop, write_log, write_loop};
use crate::tls::SharedTcp;

/// Longest a route dial may take.
const DIAL_TIMEOUT: Duration = Duration::from_secs(2);

/// Runs one route connection to its end.
pub(crate) async fn run(ex: Arc<Executor<'static>>, mut conn: RouteConn, stream: Async<TcpStream>) {
    let stream = SharedTcp(Arc::new(stream));
    let shared = conn.shared().clone();
    shared.outbound.set_abort_waker(stream.cutter());
    let deadline = conn.write_deadline();
    write_log(&mut conn);
    let writer = ex.spawn(write_loop(
        shared,
        stream.clone(),
        deadline,
        stream.clone(),
        false,
    ));
    read_loop(&mut conn, &mut &*stream.0).await;
    writer.await;
    conn.finish(Instant::now());
    write_log(&mut conn);
}

/// Accepts route connections on the cluster listener until `stop` completes.
pub(crate) async fn accept_loop(
    ex: Arc<Executor<'static>>,
    server: Arc<Server>,
    listener: Async<TcpListener>,
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
                ex.spawn(run(ex.clone(), conn, stream)).detach();
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
            ex.spawn(dial_one(ex.clone(), server.clone(), dial)).detach();
        }
    }
}

/// Waits for the dial's time, connects, and runs the route (or reports the failure).
async fn dial_one(ex: Arc<Executor<'static>>, server: Arc<Server>, dial: RouteDial) {
    if let Some(at) = dial.not_before {
        Timer::at(at).await;
    }
    if server.is_shutting_down() {
        server.route_dial_failed(dial, Instant::now());
        return;
    }
    let address = dial.url.address();
    let resolved = address
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next());
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
            let conn = server.solicit_route(dial, addr, Instant::now());
            run(ex, conn, stream).await;
        }
        None => {
            log::debug!("Error trying to connect to route ({address}), will retry");
            server.route_dial_failed(dial, Instant::now());
        }
    }
}
