//! HTTP monitoring (`-m/--http_port`): the reference's JSON endpoints plus `/metrics`,
//! served by `tiny_http` on worker threads of their own, away from the client runtime.
//!
//! Each request snapshots the engine's counters (no lock or atomic is added to the message
//! path) and builds its document with `engine::monitor`.

mod process;
mod query;
mod routes;
pub mod system;

use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use engine::monitor::HttpListen;
use engine::Server;

pub use routes::{MonitorState, Reply};

/// Threads answering monitoring requests.
const WORKERS: usize = 2;

/// Pause after a failed accept.
const ACCEPT_RETRY: std::time::Duration = std::time::Duration::from_millis(10);

/// Why the monitor could not start.
#[derive(Debug, thiserror::Error)]
pub enum MonitorStartError {
    /// The port could not be bound; the text is the reference's.
    #[error("can't listen to the monitor port: listen tcp {addr}: {reason}")]
    Bind {
        /// `host:port` asked for.
        addr: String,
        /// What the OS said, worded as Go words it.
        reason: String,
    },
    /// The HTTP server or a worker thread could not be set up.
    #[error("can't start monitor: {0}")]
    Setup(String),
}

/// A running monitor; stop it with [`Monitor::shutdown`] (also on drop).
pub struct Monitor {
    http: Arc<tiny_http::Server>,
    workers: Vec<JoinHandle<()>>,
    stopping: Arc<AtomicBool>,
    addr: SocketAddr,
}

impl Monitor {
    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting requests and waits for the workers.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.stopping.store(true, Ordering::Release);
        for _ in 0..self.workers.len() {
            self.http.unblock();
        }
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `host:port`, with brackets around IPv6 hosts.
fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Go's wording of a failed `bind`.
fn bind_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::AddrInUse => "bind: address already in use".to_string(),
        std::io::ErrorKind::AddrNotAvailable => "bind: cannot assign requested address".to_string(),
        std::io::ErrorKind::PermissionDenied => "bind: permission denied".to_string(),
        _ => e.to_string(),
    }
}

/// Starts monitoring `server` on `host:port` (port 0: any free port) and logs
/// `Starting http monitor on host:port` as the reference does. Callable from the flags
/// path (`-m`) and the configuration path (`http`, `http_port`, `monitor_port`).
pub fn start(server: Arc<Server>, host: &str, port: u16) -> Result<Monitor, MonitorStartError> {
    let wanted = host_port(host, port);
    let bind_error = |reason: String| MonitorStartError::Bind {
        addr: wanted.clone(),
        reason,
    };
    let listener = TcpListener::bind(wanted.as_str()).map_err(|e| bind_error(bind_reason(&e)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| bind_error(e.to_string()))?;
    let http = tiny_http::Server::from_listener(listener, None)
        .map_err(|e| MonitorStartError::Setup(e.to_string()))?;
    log::info!("Starting http monitor on {}", host_port(host, addr.port()));
    let http = Arc::new(http);
    let state = Arc::new(MonitorState::new(
        server,
        HttpListen {
            host: host.to_string(),
            port: addr.port(),
            https_port: 0,
            base_path: String::new(),
        },
    ));
    let mut monitor = Monitor {
        http: http.clone(),
        workers: Vec::with_capacity(WORKERS),
        stopping: Arc::new(AtomicBool::new(false)),
        addr,
    };
    for i in 0..WORKERS {
        let (http, state, stopping) = (http.clone(), state.clone(), monitor.stopping.clone());
        let worker = std::thread::Builder::new()
            .name(format!("monitor-{i}"))
            .spawn(move || serve(&http, &state, &stopping))
            .map_err(|e| MonitorStartError::Setup(e.to_string()))?;
        monitor.workers.push(worker);
    }
    Ok(monitor)
}

/// Answers requests until `stopping` is set (and the server unblocked).
fn serve(http: &tiny_http::Server, state: &MonitorState, stopping: &AtomicBool) {
    // One request per iteration; a failed accept is skipped, the stop flag ends the loop.
    while !stopping.load(Ordering::Acquire) {
        let Ok(request) = http.recv() else {
            // Unblocked for shutdown, or a failed accept: do not spin on a persistent one.
            std::thread::sleep(ACCEPT_RETRY);
            continue;
        };
        let url = request.url().to_string();
        let (path, query) = url.split_once('?').unwrap_or((url.as_str(), ""));
        let reply = state.handle(path, query, Instant::now());
        let _ = request.respond(to_response(reply));
    }
}

fn header(name: &str, value: &str) -> Option<tiny_http::Header> {
    tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()).ok()
}

fn to_response(reply: Reply) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    let mut response = tiny_http::Response::from_data(reply.body).with_status_code(reply.status);
    let mut headers = vec![header("Content-Type", reply.content_type)];
    if reply.cors {
        headers.push(header("Access-Control-Allow-Origin", "*"));
    }
    if reply.status == 404 {
        headers.push(header("X-Content-Type-Options", "nosniff"));
    }
    for h in headers.into_iter().flatten() {
        response.add_header(h);
    }
    response
}
