//! Running a `nats-server` binary as a child process on a loopback port.

use std::io::{BufRead, BufReader, Read};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// How long a server may take to accept connections after being spawned.
pub const START_TIMEOUT: Duration = Duration::from_secs(10);

/// How long `stop` waits for the process to exit after SIGTERM.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// Attempts made with fresh ports when the chosen one turns out to be taken.
const PORT_ATTEMPTS: usize = 3;

/// Attempts to bind the old port again on restart (it may linger briefly).
const RESTART_ATTEMPTS: usize = 5;

/// Pause between restart attempts.
const RESTART_PAUSE: Duration = Duration::from_millis(200);

/// A running server process, killed when dropped.
pub struct ServerProcess {
    child: Child,
    port: u16,
    binary: PathBuf,
    args: Vec<String>,
    log: ServerLog,
}

/// Shared, growing copy of a server's stdout and stderr lines; stays
/// readable after the process is gone.
#[derive(Debug, Clone, Default)]
pub struct ServerLog {
    lines: Arc<Mutex<Vec<String>>>,
}

impl ServerLog {
    /// The lines captured so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines
            .lock()
            .map(|lines| lines.clone())
            .unwrap_or_default()
    }

    /// Waits (bounded) until a line contains `needle`; returns whether one did.
    pub fn wait_for(&self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.lines().iter().any(|line| line.contains(needle)) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            thread::sleep(POLL);
        }
    }
}

impl ServerProcess {
    /// Starts `bin -a 127.0.0.1 -p <free port> [extra_args]` and waits until
    /// it accepts connections. Panics if it cannot be started.
    pub fn start(bin: &Path, extra_args: &[&str]) -> ServerProcess {
        let mut last_error = String::new();
        for _ in 0..PORT_ATTEMPTS {
            match Self::try_start_on_port(bin, free_port(), extra_args) {
                Ok(server) => return server,
                Err(message) => last_error = message,
            }
        }
        panic!("could not start {}: {last_error}", bin.display());
    }

    /// Starts the server on a given port (e.g. to restart it where clients
    /// expect it). Panics if it cannot be started.
    pub fn start_on_port(bin: &Path, port: u16, extra_args: &[&str]) -> ServerProcess {
        Self::try_start_on_port(bin, port, extra_args)
            .unwrap_or_else(|message| panic!("could not start {}: {message}", bin.display()))
    }

    /// Starts the server on `port`, returning a description of the failure.
    ///
    /// The server counts as started once its log announces the client
    /// listener on exactly this port and a TCP connection succeeds, so a
    /// foreign process that happens to hold the port is never mistaken for it.
    pub fn try_start_on_port(
        bin: &Path,
        port: u16,
        extra_args: &[&str],
    ) -> Result<ServerProcess, String> {
        let port_arg = port.to_string();
        let mut child = Command::new(bin)
            .args(["-a", "127.0.0.1", "-p", &port_arg])
            .args(extra_args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("spawn failed: {e}"))?;
        let log = ServerLog::default();
        if let Some(stderr) = child.stderr.take() {
            collect_lines(stderr, Arc::clone(&log.lines));
        }
        if let Some(stdout) = child.stdout.take() {
            collect_lines(stdout, Arc::clone(&log.lines));
        }
        let mut server = ServerProcess {
            child,
            port,
            binary: bin.to_path_buf(),
            args: extra_args.iter().map(|arg| arg.to_string()).collect(),
            log,
        };
        server.wait_until_accepting()?;
        Ok(server)
    }

    fn wait_until_accepting(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        let announcement = format!("Listening for client connections on {}", self.addr());
        let addr = self.addr().parse().expect("valid loopback address");
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "exited with {status} before accepting connections on port {}; log:\n{}",
                    self.port,
                    self.log_lines().join("\n")
                ));
            }
            let announced = self
                .log_lines()
                .iter()
                .any(|line| line.contains(&announcement));
            if announced {
                if let Ok(stream) = TcpStream::connect_timeout(&addr, POLL) {
                    let _ = stream.shutdown(Shutdown::Both);
                    return Ok(());
                }
            }
            thread::sleep(POLL);
        }
        Err(format!(
            "did not accept connections on port {} within {START_TIMEOUT:?}; log:\n{}",
            self.port,
            self.log_lines().join("\n")
        ))
    }

    /// Stops the server (SIGTERM, bounded) and starts the same binary with
    /// the same arguments on the same port again.
    pub fn restart(&mut self) -> Result<(), String> {
        self.terminate();
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        let mut attempts_left = RESTART_ATTEMPTS;
        loop {
            match Self::try_start_on_port(&self.binary, self.port, &args) {
                Ok(fresh) => {
                    // Swap the new process in; the old (exited) one is reaped by its Drop.
                    let _old = std::mem::replace(self, fresh);
                    return Ok(());
                }
                Err(message) if attempts_left <= 1 => return Err(message),
                Err(_) => {
                    attempts_left -= 1;
                    thread::sleep(RESTART_PAUSE);
                }
            }
        }
    }

    /// The client port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `host:port` of the client listener.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `nats://127.0.0.1:<port>` for client libraries.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The binary this process runs.
    pub fn binary(&self) -> &Path {
        &self.binary
    }

    /// Lines the server wrote to stderr/stdout so far.
    pub fn log_lines(&self) -> Vec<String> {
        self.log.lines()
    }

    /// A handle on the log that outlives the process (e.g. across `stop`).
    pub fn log_handle(&self) -> ServerLog {
        self.log.clone()
    }

    /// Waits (bounded) until a log line contains `needle`; returns whether it did.
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) -> bool {
        self.log.wait_for(needle, timeout)
    }

    /// Sends SIGTERM and waits (bounded) for the process to exit; kills it
    /// if it does not. Returns the exit status when it exited by itself.
    pub fn stop(mut self) -> Option<ExitStatus> {
        self.terminate()
    }

    /// The operating-system process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn terminate(&mut self) -> Option<ExitStatus> {
        if let Ok(Some(status)) = self.child.try_wait() {
            return Some(status);
        }
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            thread::sleep(POLL);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        None
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// Poll interval while waiting for a process or a log line.
const POLL: Duration = Duration::from_millis(20);

/// The contents of `path` once it exists and holds complete JSON, waiting up to 10 s (a
/// server writes its ports file once every listener is up, which can be a moment after its
/// client port accepts connections). Panics when the wait runs out.
pub fn wait_for_json_file(path: &Path) -> String {
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(text) = std::fs::read_to_string(path) {
            if serde_json::from_str::<serde_json::Value>(&text).is_ok() {
                return text;
            }
        }
        assert!(
            Instant::now() < end,
            "no complete JSON file at {}",
            path.display()
        );
        thread::sleep(POLL);
    }
}

/// First port [`free_port`] hands out.
const FIRST_TEST_PORT: u32 = 20_000;
/// How many ports [`free_port`] cycles through: all below the kernel's ephemeral range
/// (32768 and up on Linux), so that no outgoing connection (a route being dialled, a client)
/// can take a port between the moment it is picked and the moment a server binds it.
const TEST_PORT_SPAN: u32 = 12_000;

/// A loopback port that was free a moment ago and that this process has not handed out
/// before (until it has used all of its range). Each process starts at its own place in the
/// range, so test binaries running side by side rarely meet.
pub fn free_port() -> u16 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let start = std::process::id().wrapping_mul(7919) % TEST_PORT_SPAN;
    for _ in 0..TEST_PORT_SPAN {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = FIRST_TEST_PORT + (start + n) % TEST_PORT_SPAN;
        let port = u16::try_from(port).expect("test ports fit in u16");
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("cannot bind an ephemeral loopback port")
}

fn collect_lines(stream: impl Read + Send + 'static, log: Arc<Mutex<Vec<String>>>) {
    thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if let Ok(mut lines) = log.lock() {
                lines.push(line);
            }
        }
    });
}

/// Runs `bin` with `args` to completion (bounded) and returns its combined
/// stdout and stderr, e.g. for `-v`.
pub fn run_to_completion(bin: &Path, args: &[&str], timeout: Duration) -> Result<String, String> {
    let mut child = Command::new(bin)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("spawn {}: {e}", bin.display()))?;
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut readers = Vec::new();
    for stream in [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .flatten()
    {
        let log = Arc::clone(&log);
        readers.push(thread::spawn(move || {
            let mut text = String::new();
            let mut stream = stream;
            let _ = stream.read_to_string(&mut text);
            if let Ok(mut all) = log.lock() {
                all.push(text);
            }
        }));
    }
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "{} {args:?} did not exit within {timeout:?}",
                bin.display()
            ));
        }
        thread::sleep(POLL);
    }
    for reader in readers {
        let _ = reader.join();
    }
    let text = log.lock().map(|all| all.concat()).unwrap_or_default();
    Ok(text)
}

#[cfg(test)]
mod port_tests {
    use super::*;

    #[test]
    fn free_ports_are_distinct_and_below_the_ephemeral_range() {
        let ports: Vec<u16> = (0..50).map(|_| free_port()).collect();
        let mut unique = ports.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), ports.len(), "{ports:?}");
        assert!(
            ports.iter().all(|&p| (20_000..32_000).contains(&p)),
            "{ports:?}"
        );
    }
}
