//! The accept loop and the executor threads.

use std::io;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Instant;

use engine::Server;
use smol::channel::Sender;
use smol::future::FutureExt;
use smol::{Async, Executor};

use crate::connection::{self, ListenerTls};
use crate::tls::rustls;

/// Stops a running [`serve`] from another thread (a signal handler, a test).
#[derive(Debug, Clone)]
pub struct ServeHandle {
    stop: Sender<()>,
    stop_accepting: Sender<()>,
    server: Arc<Server>,
}

impl ServeHandle {
    /// Closes the listener (new connections are refused by the operating system) and keeps
    /// serving the connected clients until [`ServeHandle::shutdown`]: lame duck mode.
    pub fn stop_accepting(&self) {
        self.stop_accepting.close();
    }

    /// Stops accepting, tells every client the server is shutting down, and lets `serve`
    /// return once they are gone.
    pub fn shutdown(&self) {
        self.server.shutdown();
        self.stop.close();
    }
}

/// Serves clients of `server` accepted on `listener` until [`ServeHandle::shutdown`].
/// `threads` executor threads are used (at least one, the calling thread). `ready` is called
/// with the handle once the accept loop runs.
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

/// TLS on routes: the configuration accepted routes handshake with (client certificates
/// required) and the one dialled routes present and verify with.
#[derive(Debug, Clone)]
pub struct RouteTls {
    /// Accepted routes.
    pub server: Arc<rustls::ServerConfig>,
    /// Dialled routes.
    pub client: Arc<rustls::ClientConfig>,
}

/// Like [`serve_tls`], also accepting routes on `cluster` and dialling the routes the
/// engine asks for, over TLS when given (call [`Server::start_routes`] with the bound
/// cluster address first).
pub fn serve_cluster(
    server: Arc<Server>,
    listener: TcpListener,
    cluster: Option<(TcpListener, Option<RouteTls>)>,
    threads: usize,
    tls: Option<Arc<rustls::ServerConfig>>,
    ready: impl FnOnce(ServeHandle),
) -> io::Result<()> {
    let tls = tls.map(|config| ListenerTls {
        config,
        settings: server.config().tls.clone().unwrap_or_default(),
    });
    let listener = Async::new(listener)?;
    let ex = Arc::new(Executor::new());
    let (stop_tx, stop_rx) = smol::channel::bounded::<()>(1);
    let (accept_stop_tx, accept_stop_rx) = smol::channel::bounded::<()>(1);
    let (done_tx, done_rx) = smol::channel::bounded::<()>(1);
    let mut workers = Vec::new();
    for i in 1..threads.max(1) {
        let ex = ex.clone();
        let done = done_rx.clone();
        workers.push(
            std::thread::Builder::new()
                .name(format!("nats-worker-{i}"))
                .spawn(move || smol::block_on(ex.run(done.recv())))?,
        );
    }
    ready(ServeHandle {
        stop: stop_tx,
        stop_accepting: accept_stop_tx,
        server: server.clone(),
    });
    let (stop_rx2, accept_stop_rx2) = (stop_rx.clone(), accept_stop_rx.clone());
    let stopped = async move {
        let _ = stop_rx2.recv().await;
    }
    .or(async move {
        let _ = accept_stop_rx2.recv().await;
    });
    // The accept loop is a task of its own: polled only when the listener (or a stop) wakes
    // it, not every time this thread runs other tasks (each poll would cost an `accept`
    // syscall and a re-registration).
    let accepting = ex.spawn(accept_loop(
        ex.clone(),
        server.clone(),
        listener,
        tls,
        stopped,
    ));
    if let Some((cluster, route_tls)) = cluster {
        let cluster = Async::new(cluster)?;
        let timeout = server
            .config()
            .cluster
            .as_ref()
            .and_then(|c| c.tls.as_ref())
            .map_or(std::time::Duration::from_secs(2), |t| t.timeout);
        let route_tls = route_tls.map(|t| crate::route::Tls {
            server: t.server,
            client: t.client,
            timeout,
        });
        let stop = stop_rx.clone();
        ex.spawn(crate::route::accept_loop(
            ex.clone(),
            server.clone(),
            cluster,
            route_tls.clone(),
            async move {
                let _ = stop.recv().await;
            },
        ))
        .detach();
        let stop = stop_rx.clone();
        ex.spawn(crate::route::dial_loop(
            ex.clone(),
            server.clone(),
            route_tls,
            async move {
                let _ = stop.recv().await;
            },
        ))
        .detach();
    }
    let result = smol::block_on(ex.run(accepting));
    // After `stop_accepting` the clients are served on until the shutdown.
    smol::block_on(ex.run(async {
        let _ = stop_rx.recv().await;
    }));
    // Let the connections see the shutdown and flush, bounded.
    smol::block_on(ex.run(drain(&server)));
    drop(done_tx);
    for w in workers {
        let _ = w.join();
    }
    result
}

async fn accept_loop(
    ex: Arc<Executor<'static>>,
    server: Arc<Server>,
    listener: Async<TcpListener>,
    tls: Option<ListenerTls>,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    // The listener is dropped (closed) when this returns.
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
                let client = server.accept(peer, Instant::now());
                log::debug!("{peer} - cid:{} - Client connection created", client.cid());
                ex.spawn(connection::run(ex.clone(), client, stream, tls.clone()))
                    .detach();
            }
            Some(Err(e)) => {
                log::error!("Error accepting client connection: {e}");
                // Back off briefly on errors such as too many open files.
                smol::Timer::after(std::time::Duration::from_millis(10)).await;
            }
        }
    }
}

/// Waits (at most about a second) for every client to be gone after a shutdown.
async fn drain(server: &Arc<Server>) {
    for _ in 0..100 {
        if server.num_clients() == 0 && server.routes().is_empty() {
            return;
        }
        smol::Timer::after(std::time::Duration::from_millis(10)).await;
    }
}
