//! HTTP monitoring (`-m/--http_port`) or HTTPS monitoring (`-ms/--https_port`): the
//! reference's JSON endpoints plus `/metrics`, under `http_base_path`, served on threads of
//! their own away from the client runtime (plain HTTP by `tiny_http`, HTTPS by [`https`]).
//!
//! Each request snapshots the engine's counters (no lock or atomic is added to the message
//! path) and builds its document with `engine::monitor`.

mod cert;
mod https;
mod path;
mod process;
mod query;
mod request_options;
mod routes;
pub mod settings;
pub mod system;

use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use engine::monitor::HttpListen;
use engine::Server;

pub use cert::not_after_of_pem_file;
pub use routes::{MonitorState, Reply};
pub use settings::{MonitorSettings, Scheme};

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
    backend: Backend,
    addr: SocketAddr,
    listen: HttpListen,
    scheme: &'static str,
}

/// What serves the requests.
enum Backend {
    /// Plain HTTP: `tiny_http` and its worker threads.
    Http {
        http: Arc<tiny_http::Server>,
        workers: Vec<JoinHandle<()>>,
        stopping: Arc<AtomicBool>,
    },
    /// HTTPS.
    Https(https::HttpsServer),
}

impl Monitor {
    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Where it listens, as `/varz` and the system account's documents report it.
    pub fn listen(&self) -> &HttpListen {
        &self.listen
    }

    /// `http` or `https`.
    pub fn scheme(&self) -> &'static str {
        self.scheme
    }

    /// Stops accepting requests and waits for the workers.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.backend.stop();
    }
}

impl Backend {
    fn stop(&mut self) {
        match self {
            Backend::Http {
                http,
                workers,
                stopping,
            } => stop_workers(http, workers, stopping),
            Backend::Https(server) => server.stop(),
        }
    }
}

/// Ends the `tiny_http` workers: sets the flag, unblocks each, waits for them.
fn stop_workers(
    http: &tiny_http::Server,
    workers: &mut Vec<JoinHandle<()>>,
    stopping: &AtomicBool,
) {
    stopping.store(true, Ordering::Release);
    for _ in 0..workers.len() {
        http.unblock();
    }
    for w in workers.drain(..) {
        let _ = w.join();
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

/// Starts monitoring `server` as `settings` say and logs `Starting http monitor on
/// host:port` (or `https`) as the reference does. `tls_cert_not_after` is the expiry of the
/// client TLS certificate, reported by `/varz`.
pub fn start(
    server: Arc<Server>,
    settings: &MonitorSettings,
    tls_cert_not_after: Option<std::time::SystemTime>,
) -> Result<Monitor, MonitorStartError> {
    let host = settings.host.as_str();
    let wanted = host_port(host, settings.port);
    let bind_error = |reason: String| MonitorStartError::Bind {
        addr: wanted.clone(),
        reason,
    };
    let listener = TcpListener::bind(wanted.as_str()).map_err(|e| bind_error(bind_reason(&e)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| bind_error(e.to_string()))?;
    let scheme = settings.scheme.name();
    log::info!(
        "Starting {scheme} monitor on {}",
        host_port(host, addr.port())
    );
    let (port, https_port) = match settings.scheme {
        Scheme::Http => (addr.port(), 0),
        Scheme::Https(_) => (0, addr.port()),
    };
    let listen = HttpListen {
        host: host.to_string(),
        port,
        https_port,
        base_path: settings.base_path.clone(),
    };
    let state = Arc::new(MonitorState::new(
        server,
        listen.clone(),
        tls_cert_not_after,
    ));
    let backend = match &settings.scheme {
        Scheme::Http => serve_http(listener, &state)?,
        Scheme::Https(tls) => Backend::Https(
            https::HttpsServer::spawn(listener, tls.clone(), state)
                .map_err(|e| MonitorStartError::Setup(e.to_string()))?,
        ),
    };
    Ok(Monitor {
        backend,
        addr,
        listen,
        scheme,
    })
}

/// Serves plain HTTP on `listener` with `tiny_http` and [`WORKERS`] threads.
fn serve_http(
    listener: TcpListener,
    state: &Arc<MonitorState>,
) -> Result<Backend, MonitorStartError> {
    let http = tiny_http::Server::from_listener(listener, None)
        .map_err(|e| MonitorStartError::Setup(e.to_string()))?;
    let http = Arc::new(http);
    let stopping = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::with_capacity(WORKERS);
    for i in 0..WORKERS {
        let (h, state, stop) = (http.clone(), state.clone(), stopping.clone());
        let spawned = std::thread::Builder::new()
            .name(format!("monitor-{i}"))
            .spawn(move || serve(&h, &state, &stop));
        match spawned {
            Ok(worker) => workers.push(worker),
            Err(e) => {
                // Stop the workers already running before giving up.
                stop_workers(&http, &mut workers, &stopping);
                return Err(MonitorStartError::Setup(e.to_string()));
            }
        }
    }
    Ok(Backend::Http {
        http,
        workers,
        stopping,
    })
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
    if let Some(to) = reply.location.as_deref() {
        headers.push(header("Location", to));
    }
    for h in headers.into_iter().flatten() {
        response.add_header(h);
    }
    response
}
