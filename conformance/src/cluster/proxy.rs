//! A loopback TCP proxy that can cut every connection through it, e.g. to
//! break a route between two servers and let it heal.
//!
//! One accept thread plus two copy threads per proxied connection. Every
//! socket operation has a short timeout, so all threads notice a cut or the
//! proxy being dropped within [`TICK`].

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// How often the threads look at the proxy's flags.
const TICK: Duration = Duration::from_millis(50);

/// Bound on dialling the target.
const DIAL_TIMEOUT: Duration = Duration::from_secs(2);

/// State shared by the proxy handle and its threads.
#[derive(Default)]
struct Shared {
    /// New connections are closed at once and live ones are shut down.
    blocked: AtomicBool,
    /// The proxy is being dropped.
    stopping: AtomicBool,
    /// Connections accepted and forwarded so far.
    forwarded: AtomicUsize,
    /// Both sockets of every live proxied connection (clones, for shutdown).
    live: Mutex<Vec<TcpStream>>,
    /// Bytes copied so far, per connection and direction, oldest first.
    captured: Mutex<Vec<Captured>>,
    /// The loopback port connections are forwarded to; 0 while unknown
    /// (connections wait in the listen backlog until it is set).
    target: AtomicU16,
}

/// What went through one proxied connection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Captured {
    /// Bytes from the dialling side to the target.
    pub to_target: Vec<u8>,
    /// Bytes from the target back to the dialling side.
    pub from_target: Vec<u8>,
}

/// Upper bound on captured bytes per connection and direction.
const CAPTURE_LIMIT: usize = 1 << 20;

impl Shared {
    fn shut_all(&self) {
        if let Ok(mut live) = self.live.lock() {
            for stream in live.drain(..) {
                let _ = stream.shutdown(Shutdown::Both);
            }
        }
    }
}

/// A proxy from a free loopback port to `127.0.0.1:<target>`.
pub struct TcpProxy {
    port: u16,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl TcpProxy {
    /// Listens on a free loopback port and forwards each connection to
    /// `127.0.0.1:<target_port>`.
    pub fn start(target_port: u16) -> TcpProxy {
        Self::start_on(0, target_port).expect("bind a proxy port")
    }

    /// Listens on `127.0.0.1:<listen_port>` (0: any free port) and forwards
    /// each connection to `127.0.0.1:<target_port>`. With a target of 0,
    /// connections wait (in the listen backlog) until [`TcpProxy::set_target`].
    pub fn start_on(listen_port: u16, target_port: u16) -> std::io::Result<TcpProxy> {
        let listener = TcpListener::bind(("127.0.0.1", listen_port))?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let shared = Arc::new(Shared::default());
        shared.target.store(target_port, Ordering::SeqCst);
        let acceptor = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || accept_loop(listener, shared))
        };
        Ok(TcpProxy {
            port,
            shared,
            acceptor: Some(acceptor),
        })
    }

    /// Sets the port connections are forwarded to (e.g. once the server
    /// behind the proxy has started).
    pub fn set_target(&self, target_port: u16) {
        self.shared.target.store(target_port, Ordering::SeqCst);
    }

    /// The port clients (or routes) should dial.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Shuts down every live connection and refuses (accepts and closes at
    /// once) new ones until [`TcpProxy::restore`].
    pub fn cut(&self) {
        self.shared.blocked.store(true, Ordering::SeqCst);
        self.shared.shut_all();
    }

    /// Forwards new connections again after a [`TcpProxy::cut`].
    pub fn restore(&self) {
        self.shared.blocked.store(false, Ordering::SeqCst);
    }

    /// The first bytes (up to 1 MiB per direction) of every connection
    /// forwarded so far, in the order they were accepted.
    pub fn captured(&self) -> Vec<Captured> {
        self.shared
            .captured
            .lock()
            .map(|c| c.clone())
            .unwrap_or_default()
    }

    /// How many connections were forwarded to the target so far.
    pub fn forwarded(&self) -> usize {
        self.shared.forwarded.load(Ordering::SeqCst)
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        self.shared.shut_all();
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    // Ends when the proxy is dropped; each turn waits at most one TICK.
    while !shared.stopping.load(Ordering::SeqCst) {
        let target_port = shared.target.load(Ordering::SeqCst);
        if target_port == 0 {
            thread::sleep(TICK);
            continue;
        }
        let target = SocketAddr::from(([127, 0, 0, 1], target_port));
        let client = match listener.accept() {
            Ok((stream, _)) => stream,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                thread::sleep(TICK);
                continue;
            }
            Err(_) => {
                thread::sleep(TICK);
                continue;
            }
        };
        if shared.blocked.load(Ordering::SeqCst) {
            let _ = client.shutdown(Shutdown::Both);
            continue;
        }
        let Ok(server) = TcpStream::connect_timeout(&target, DIAL_TIMEOUT) else {
            let _ = client.shutdown(Shutdown::Both);
            continue;
        };
        if forward(client, server, &shared).is_ok() {
            shared.forwarded.fetch_add(1, Ordering::SeqCst);
        }
    }
    shared.shut_all();
}

/// Registers both sockets and starts one copy thread per direction.
fn forward(client: TcpStream, server: TcpStream, shared: &Arc<Shared>) -> std::io::Result<()> {
    client.set_nonblocking(false)?;
    for stream in [&client, &server] {
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(TICK))?;
        stream.set_write_timeout(Some(DIAL_TIMEOUT))?;
    }
    if let Ok(mut live) = shared.live.lock() {
        live.push(client.try_clone()?);
        live.push(server.try_clone()?);
    }
    let index = match shared.captured.lock() {
        Ok(mut captured) => {
            captured.push(Captured::default());
            captured.len() - 1
        }
        Err(_) => usize::MAX,
    };
    let (client_in, server_in) = (client.try_clone()?, server.try_clone()?);
    for (from, to, toward_target) in [(client_in, server, true), (server_in, client, false)] {
        let shared = Arc::clone(shared);
        thread::spawn(move || copy(from, to, &shared, (index, toward_target)));
    }
    Ok(())
}

/// Copies `from` into `to` until either side closes, the proxy cuts, or it
/// stops; records the bytes under `slot` (connection index, toward target).
fn copy(mut from: TcpStream, mut to: TcpStream, shared: &Shared, slot: (usize, bool)) {
    let mut buf = vec![0u8; 64 * 1024];
    // Ends on EOF, on an error, on a cut or when the proxy stops.
    loop {
        if shared.stopping.load(Ordering::SeqCst) || shared.blocked.load(Ordering::SeqCst) {
            break;
        }
        match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                record(shared, slot, &buf[..n]);
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}

/// Appends `bytes` to the capture of one connection and direction.
fn record(shared: &Shared, (index, toward_target): (usize, bool), bytes: &[u8]) {
    let Ok(mut captured) = shared.captured.lock() else {
        return;
    };
    let Some(connection) = captured.get_mut(index) else {
        return;
    };
    let buffer = if toward_target {
        &mut connection.to_target
    } else {
        &mut connection.from_target
    };
    let room = CAPTURE_LIMIT.saturating_sub(buffer.len());
    buffer.extend_from_slice(&bytes[..bytes.len().min(room)]);
}
