//! A running std-driver server on a loopback port, and a raw protocol client for it.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use engine::{Server, ServerConfig, ServerSeed};
use runtime_std::ServeHandle;

/// Longest any test waits for something to arrive.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// A server running `runtime_std::serve` on its own thread.
pub struct Running {
    pub server: Arc<Server>,
    pub handle: ServeHandle,
    pub addr: SocketAddr,
    thread: Option<JoinHandle<std::io::Result<()>>>,
}

impl Running {
    /// Starts a server with `config` on an ephemeral loopback port.
    pub fn start(mut config: ServerConfig) -> Running {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        config.host = "127.0.0.1".into();
        config.port = addr.port();
        let seed = ServerSeed {
            identity: [3; 32],
            rng: 9,
        };
        let server = Server::new(config, seed, Instant::now());
        let (tx, rx) = std::sync::mpsc::channel();
        let s = server.clone();
        let thread = std::thread::spawn(move || {
            runtime_std::serve(s, listener, 1, move |h| tx.send(h).unwrap())
        });
        let handle = rx.recv_timeout(PATIENCE).unwrap();
        Running {
            server,
            handle,
            addr,
            thread: Some(thread),
        }
    }

    /// Shuts down and waits for `serve` to return; returns how long that took.
    pub fn stop(&mut self) -> Duration {
        let start = Instant::now();
        self.handle.shutdown();
        if let Some(t) = self.thread.take() {
            t.join().unwrap().unwrap();
        }
        start.elapsed()
    }

    /// Waits until the server has `n` clients.
    pub fn wait_clients(&self, n: usize) {
        let start = Instant::now();
        while self.server.num_clients() != n {
            assert!(
                start.elapsed() < PATIENCE,
                "expected {n} clients, have {}",
                self.server.num_clients()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.thread.is_some() {
            self.stop();
        }
    }
}

/// A raw protocol client collecting everything the server sends.
pub struct Conn {
    pub stream: TcpStream,
    pub received: Vec<u8>,
}

impl Conn {
    /// Connects without reading anything.
    pub fn raw(addr: SocketAddr) -> Conn {
        let stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        Conn {
            stream,
            received: Vec::new(),
        }
    }

    /// Connects and waits for the INFO line.
    pub fn open(addr: SocketAddr) -> Conn {
        let mut c = Conn::raw(addr);
        c.expect("INFO {");
        c.expect("\r\n");
        c.received.clear();
        c
    }

    /// Connects, sends a quiet CONNECT and checks the server answered a PING.
    pub fn connected(addr: SocketAddr) -> Conn {
        let mut c = Conn::open(addr);
        c.send(b"CONNECT {\"verbose\":false,\"pedantic\":false}\r\nPING\r\n");
        c.expect("PONG\r\n");
        c.received.clear();
        c
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
    }

    /// Reads once (up to the read timeout); false at end of stream.
    fn read_some(&mut self) -> bool {
        let mut buf = [0u8; 64 * 1024];
        match self.stream.read(&mut buf) {
            Ok(0) => false,
            Ok(n) => {
                self.received.extend_from_slice(&buf[..n]);
                true
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                true
            }
            Err(_) => false,
        }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.received).into_owned()
    }

    /// Reads until `needle` was received; panics after [`PATIENCE`].
    pub fn expect(&mut self, needle: &str) {
        let start = Instant::now();
        while !self.text().contains(needle) {
            assert!(
                start.elapsed() < PATIENCE,
                "did not receive {needle:?}; got {:?}",
                self.text()
            );
            assert!(
                self.read_some(),
                "closed before {needle:?}; got {:?}",
                self.text()
            );
        }
    }

    /// Reads until at least `n` bytes were received; panics after [`PATIENCE`].
    pub fn expect_len(&mut self, n: usize) {
        let start = Instant::now();
        while self.received.len() < n {
            assert!(
                start.elapsed() < PATIENCE,
                "only {} of {n} bytes",
                self.received.len()
            );
            assert!(
                self.read_some(),
                "closed after {} of {n} bytes",
                self.received.len()
            );
        }
    }

    /// Reads until the server closes the connection; returns everything received.
    pub fn expect_closed(&mut self) -> String {
        let start = Instant::now();
        while self.read_some() {
            assert!(
                start.elapsed() < PATIENCE,
                "not closed; got {:?}",
                self.text()
            );
        }
        self.text()
    }
}
