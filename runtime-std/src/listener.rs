//! The accept loop, and stopping it from another thread.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use engine::Server;

use crate::connection::{self, ListenerTls};
use crate::tls::rustls;
use crate::tracker::Tracker;

/// How long shutdown lets clients flush and close before their sockets are cut.
const DRAIN_GRACE: Duration = Duration::from_secs(1);
/// How long to wait for connection threads after their sockets were cut.
const CUT_OFF_GRACE: Duration = Duration::from_secs(1);
/// Pause after a failed accept (such as too many open files) before trying again.
const ACCEPT_ERROR_BACKOFF: Duration = Duration::from_millis(10);
/// Longest the wake-up connection of a shutdown may take to connect.
const WAKE_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// How often a server that stopped accepting checks whether it should stop.
const STOP_POLL: Duration = Duration::from_millis(200);

/// Stops a running [`serve`] from another thread (a signal handler, a test).
#[derive(Debug, Clone)]
pub struct ServeHandle {
    inner: Arc<HandleInner>,
}

#[derive(Debug)]
struct HandleInner {
    stop: AtomicBool,
    /// Set by [`ServeHandle::stop_accepting`]: the accept loop ends, clients are served on.
    stop_accepting: AtomicBool,
    /// Whether the accept loop still runs (and a wake-up connection is needed to end it).
    accepting: AtomicBool,
    /// Signalled when `stop` is set.
    stopped: (Mutex<bool>, Condvar),
    server: Arc<Server>,
    /// Where to connect to wake a blocked `accept`.
    wake_addr: SocketAddr,
}

impl ServeHandle {
    /// Stops accepting, tells every client the server is shutting down, and lets `serve`
    /// return once they are gone (or cut off after a short grace period).
    pub fn shutdown(&self) {
        self.inner.server.shutdown();
        if !self.inner.stop.swap(true, Ordering::AcqRel) {
            self.wake_accept_loop();
            let (lock, cvar) = &self.inner.stopped;
            if let Ok(mut stopped) = lock.lock() {
                *stopped = true;
            }
            cvar.notify_all();
        }
    }

    /// Closes the listener (new connections are refused by the operating system) and keeps
    /// serving the connected clients until [`ServeHandle::shutdown`]: lame duck mode.
    pub fn stop_accepting(&self) {
        if !self.inner.stop_accepting.swap(true, Ordering::AcqRel) {
            self.wake_accept_loop();
        }
    }

    /// The accept loop blocks in `accept`: a connection to ourselves wakes it.
    fn wake_accept_loop(&self) {
        if !self.inner.accepting.load(Ordering::Acquire) {
            return;
        }
        if let Err(e) = TcpStream::connect_timeout(&self.inner.wake_addr, WAKE_CONNECT_TIMEOUT) {
            log::error!("Could not wake the accept loop: {e}");
        }
    }

    fn stopping(&self) -> bool {
        self.inner.stop.load(Ordering::Acquire) || self.inner.stop_accepting.load(Ordering::Acquire)
    }

    /// Blocks until [`ServeHandle::shutdown`] (checking at least every `STOP_POLL`).
    fn wait_for_shutdown(&self) {
        let (lock, cvar) = &self.inner.stopped;
        let Ok(mut stopped) = lock.lock() else {
            return;
        };
        while !*stopped && !self.inner.stop.load(Ordering::Acquire) {
            match cvar.wait_timeout(stopped, STOP_POLL) {
                Ok((guard, _)) => stopped = guard,
                Err(_) => return,
            }
        }
    }
}

/// The address a connection to `local` (a listener's address) reaches it at: the loopback
/// address of the same family when it listens on all addresses.
fn wake_address(local: SocketAddr) -> SocketAddr {
    let ip = match local.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, local.port())
}

/// Serves clients of `server` accepted on `listener` until [`ServeHandle::shutdown`], on the
/// calling thread plus two threads per connection. `threads` is accepted for the same shape as
/// the async driver and not otherwise used: blocking connections need their own threads.
/// `ready` is called with the handle once the accept loop is about to run.
pub fn serve(
    server: Arc<Server>,
    listener: TcpListener,
    threads: usize,
    ready: impl FnOnce(ServeHandle),
) -> io::Result<()> {
    serve_tls(server, listener, threads, None, ready)
}

/// Like [`serve`], with TLS on client connections when `tls` is given. The handshake options
/// (timeout, handshake first) come from the server's `tls` settings (defaults when it has
/// none).
pub fn serve_tls(
    server: Arc<Server>,
    listener: TcpListener,
    threads: usize,
    tls: Option<Arc<rustls::ServerConfig>>,
    ready: impl FnOnce(ServeHandle),
) -> io::Result<()> {
    serve_cluster(server, listener, None, threads, tls, ready)
}

/// TLS on routes: the handshake comes first on every route connection, certificates are
/// verified both ways (the configurations decide how); the handshake timeout is the
/// cluster's `tls` `timeout` (2 s by default).
#[derive(Debug, Clone)]
pub struct RouteTls {
    /// Accepted routes.
    pub server: Arc<rustls::ServerConfig>,
    /// Dialled routes.
    pub client: Arc<rustls::ClientConfig>,
}

/// Like [`serve_tls`], also accepting routes on `cluster` and dialling the routes the
/// engine asks for (call [`Server::start_routes`] with the bound cluster address first).
pub fn serve_cluster(
    server: Arc<Server>,
    listener: TcpListener,
    cluster: Option<(TcpListener, Option<RouteTls>)>,
    threads: usize,
    tls: Option<Arc<rustls::ServerConfig>>,
    ready: impl FnOnce(ServeHandle),
) -> io::Result<()> {
    let tls = tls.map(|config| {
        Arc::new(ListenerTls {
            config,
            settings: server.config().tls.clone().unwrap_or_default(),
        })
    });
    let _ = threads;
    let handle = ServeHandle {
        inner: Arc::new(HandleInner {
            stop: AtomicBool::new(false),
            stop_accepting: AtomicBool::new(false),
            accepting: AtomicBool::new(true),
            stopped: (Mutex::new(false), Condvar::new()),
            server: server.clone(),
            wake_addr: wake_address(listener.local_addr()?),
        }),
    };
    let tracker = Arc::new(Tracker::default());
    let mut cluster_threads = Vec::new();
    if let Some((cluster, route_tls)) = cluster {
        let timeout = server
            .config()
            .cluster
            .as_ref()
            .and_then(|c| c.tls.as_ref())
            .map_or(Duration::from_secs(2), |t| t.timeout);
        let route_tls = route_tls.map(|t| crate::route::Tls {
            server: t.server,
            client: t.client,
            timeout,
        });
        for dialer in [false, true] {
            let (server, tracker, handle) = (server.clone(), tracker.clone(), handle.clone());
            let tls = route_tls.clone();
            let cluster = if dialer {
                None
            } else {
                Some(cluster.try_clone()?)
            };
            let stop = move || handle.inner.stop.load(Ordering::Acquire);
            cluster_threads.push(
                std::thread::Builder::new()
                    .name(
                        if dialer {
                            "nats-route-dialer"
                        } else {
                            "nats-route-accept"
                        }
                        .into(),
                    )
                    .stack_size(crate::connection::READER_STACK)
                    .spawn(move || match cluster {
                        Some(l) => {
                            crate::route::accept_loop(&server, &l, &tracker, tls.as_ref(), &stop)
                        }
                        None => crate::route::dial_loop(&server, &tracker, tls.as_ref(), &stop),
                    })?,
            );
        }
    }
    ready(handle.clone());
    accept_loop(&server, &listener, &handle, &tracker, tls.as_ref());
    handle.inner.accepting.store(false, Ordering::Release);
    drop(listener);
    // After `stop_accepting` the clients are served on until the shutdown.
    handle.wait_for_shutdown();
    for t in cluster_threads {
        let _ = t.join();
    }
    if !tracker.wait_idle(DRAIN_GRACE) {
        tracker.cut_off_all();
        if !tracker.wait_idle(CUT_OFF_GRACE) {
            log::warn!(
                "{} connections did not finish after shutdown",
                tracker.len()
            );
        }
    }
    Ok(())
}

fn accept_loop(
    server: &Arc<Server>,
    listener: &TcpListener,
    handle: &ServeHandle,
    tracker: &Arc<Tracker>,
    tls: Option<&Arc<ListenerTls>>,
) {
    while !handle.stopping() {
        match listener.accept() {
            Ok(_) if handle.stopping() => return,
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                let client = server.accept(peer, Instant::now());
                let cid = client.cid();
                log::debug!("{peer} - cid:{cid} - Client connection created");
                if let Err(e) = connection::spawn(client, stream, tracker, tls.cloned()) {
                    log::error!("{peer} - cid:{cid} - Could not start the connection: {e}");
                }
            }
            Err(_) if handle.stopping() => return,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                log::error!("Error accepting client connection: {e}");
                std::thread::sleep(ACCEPT_ERROR_BACKOFF);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wake_address_uses_loopback_for_unspecified() {
        let v4: SocketAddr = "0.0.0.0:4222".parse().unwrap();
        assert_eq!(wake_address(v4), "127.0.0.1:4222".parse().unwrap());
        let v6: SocketAddr = "[::]:4222".parse().unwrap();
        assert_eq!(wake_address(v6), "[::1]:4222".parse().unwrap());
        let specific: SocketAddr = "10.1.2.3:5".parse().unwrap();
        assert_eq!(wake_address(specific), specific);
    }
}
