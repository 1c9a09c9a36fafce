//! Routes on threads: the cluster listener, the dialer of the routes the engine asks for,
//! and the two threads of a route connection (the same reader and writer as clients). With
//! route TLS the handshake comes first, before any INFO, on the reader thread: as the TLS
//! server on accepted routes, as the TLS client (checking the route URL's host) on dialled
//! ones; certificates are verified both ways by the configurations given.

use std::io;
use std::net::{Shutdown, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use engine::{CloseReason, RouteConn, RouteDial, Server};

use crate::connection::READER_STACK;
use crate::reader::{read_loop, write_log};
use crate::socket_cutter::socket_cutter;
use crate::thread_waker::current_thread_waker;
use crate::tls::{self, rustls, HandshakeError, TlsConn};
use crate::tracker::Tracker;
use crate::writer::spawn_writer;

/// Route TLS as the route threads use it.
#[derive(Debug, Clone)]
pub(crate) struct Tls {
    /// For accepted routes.
    pub(crate) server: Arc<rustls::ServerConfig>,
    /// For dialled routes.
    pub(crate) client: Arc<rustls::ClientConfig>,
    /// Longest a handshake may take.
    pub(crate) timeout: Duration,
}

/// How a route connection's bytes travel.
#[derive(Debug, Clone)]
pub(crate) enum Transport {
    /// Plain TCP.
    Plain,
    /// Accepted: we are the TLS server.
    Accepted(Tls),
    /// Dialled `host`: we are the TLS client.
    Dialled(Tls, String),
}

/// Longest a route dial may take.
const DIAL_TIMEOUT: Duration = Duration::from_secs(2);
/// How often the cluster listener and the dialer check whether the server stops.
const STOP_POLL: Duration = Duration::from_millis(100);

/// Starts the threads of a route connection.
pub(crate) fn spawn(
    conn: RouteConn,
    stream: TcpStream,
    tracker: &Arc<Tracker>,
    transport: Transport,
) -> io::Result<()> {
    let stream = Arc::new(stream);
    conn.shared()
        .outbound
        .set_abort_waker(socket_cutter(&stream));
    let registration = tracker.register(stream.clone());
    thread::Builder::new()
        .name(format!("nats-route-{}", conn.rid()))
        .stack_size(READER_STACK)
        .spawn(move || {
            run(conn, &stream, transport);
            drop(registration);
        })
        .map(drop)
}

fn run(mut conn: RouteConn, stream: &Arc<TcpStream>, transport: Transport) {
    let shared = conn.shared().clone();
    let deadline = conn.write_deadline();
    write_log(&mut conn);
    let session = match start_tls(&mut conn, stream, &transport) {
        Ok(session) => session.map(Arc::new),
        Err(()) => {
            let _ = stream.shutdown(Shutdown::Both);
            conn.finish(Instant::now());
            write_log(&mut conn);
            return;
        }
    };
    let writer = spawn_writer("nats-rwrite", &shared, stream, deadline, session.as_ref());
    match writer {
        Ok(writer) => {
            read_loop(&mut conn, stream, session.as_deref());
            let _ = writer.join();
        }
        Err(e) => {
            log::error!("Could not start a route's writer: {e}");
            shared.outbound.close(engine::CloseReason::WriteError);
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
    conn.finish(Instant::now());
    write_log(&mut conn);
}

/// Runs the TLS handshake the transport asks for, logging as the reference does. `Ok(None)`:
/// plain TCP; `Err`: the handshake failed and the connection is over.
fn start_tls(
    conn: &mut RouteConn,
    stream: &TcpStream,
    transport: &Transport,
) -> Result<Option<TlsConn>, ()> {
    let shared = conn.shared().clone();
    let prefix = format!("{} - rid:{} - ", shared.peer, shared.cid);
    let result: Result<TlsConn, HandshakeError> = match transport {
        Transport::Plain => return Ok(None),
        Transport::Accepted(t) => {
            log::debug!("{prefix}Starting TLS route server handshake");
            tls::handshake(stream, t.server.clone(), t.timeout)
        }
        Transport::Dialled(t, host) => {
            log::debug!("{prefix}Starting TLS route client handshake");
            tls::client_handshake(stream, t.client.clone(), host, t.timeout)
        }
    };
    match result {
        Ok(session) => {
            log::debug!("{prefix}TLS handshake complete");
            log::debug!("{prefix}{}", session.describe());
            Ok(Some(session))
        }
        Err(e) => {
            log::error!("{prefix}TLS route handshake error: {e}");
            conn.handle_read_closed(CloseReason::TlsHandshakeError);
            Err(())
        }
    }
}

/// Accepts routes on `listener` until `stopping` says so (polled: the listener does not
/// block, so no wake-up connection is needed).
pub(crate) fn accept_loop(
    server: &Arc<Server>,
    listener: &TcpListener,
    tracker: &Arc<Tracker>,
    tls: Option<&Tls>,
    stopping: &dyn Fn() -> bool,
) {
    if let Err(e) = listener.set_nonblocking(true) {
        log::error!("Error setting up the route listener: {e}");
        return;
    }
    while !stopping() {
        match listener.accept() {
            Ok((stream, peer)) => {
                let _ = stream.set_nonblocking(false);
                let _ = stream.set_nodelay(true);
                let conn = server.accept_route(peer, Instant::now());
                let transport = tls.map_or(Transport::Plain, |t| Transport::Accepted(t.clone()));
                if let Err(e) = spawn(conn, stream, tracker, transport) {
                    log::error!("{peer} - Could not start the route: {e}");
                }
            }
            Err(e) if crate::reader::is_timeout(&e) => thread::sleep(STOP_POLL),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                log::error!("Error accepting route connection: {e}");
                thread::sleep(STOP_POLL);
            }
        }
    }
}

/// Dials the routes the engine queues (each on its own thread, at the instant it says)
/// until `stopping` says so.
pub(crate) fn dial_loop(
    server: &Arc<Server>,
    tracker: &Arc<Tracker>,
    tls: Option<&Tls>,
    stopping: &dyn Fn() -> bool,
) {
    let waker = current_thread_waker();
    while !stopping() {
        let dials = server.poll_route_dials(&waker);
        if dials.is_empty() {
            thread::park_timeout(STOP_POLL);
            continue;
        }
        for dial in dials {
            let (server, tracker, tls) = (server.clone(), tracker.clone(), tls.cloned());
            let spawned = thread::Builder::new()
                .name("nats-dial".into())
                .stack_size(READER_STACK)
                .spawn(move || dial_one(&server, &tracker, dial, tls));
            if let Err(e) = spawned {
                log::error!("Could not start a route dial: {e}");
            }
        }
    }
}

fn dial_one(server: &Arc<Server>, tracker: &Arc<Tracker>, dial: RouteDial, tls: Option<Tls>) {
    if let Some(at) = dial.not_before {
        let now = Instant::now();
        if at > now {
            thread::sleep(at - now);
        }
    }
    if server.is_shutting_down() {
        server.route_dial_failed(dial, Instant::now());
        return;
    }
    let address = dial.url.address();
    let resolved = address.to_socket_addrs().ok().and_then(|mut a| a.next());
    let shown = resolved.map_or_else(|| address.clone(), |a| a.to_string());
    log::debug!("Trying to connect to route on {address} ({shown})");
    let connected = resolved.and_then(|addr| {
        TcpStream::connect_timeout(&addr, DIAL_TIMEOUT)
            .ok()
            .map(|s| (s, addr))
    });
    match connected {
        Some((stream, addr)) => {
            let _ = stream.set_nodelay(true);
            let host = dial.url.host.clone();
            let transport = tls.map_or(Transport::Plain, |t| Transport::Dialled(t, host));
            let conn = server.solicit_route(dial, addr, Instant::now());
            if let Err(e) = spawn(conn, stream, tracker, transport) {
                log::error!("Could not start the route to {address}: {e}");
            }
        }
        None => {
            log::debug!("Error trying to connect to route ({address}), will retry");
            server.route_dial_failed(dial, Instant::now());
        }
    }
}
