//! Load and stall behaviour of our `nats-server` binary over real sockets, with bounded
//! counts and time. Behaviour tests, not benchmarks: the numbers they measure are printed
//! (`--nocapture`), the assertions leave room for a busy machine.
//!
//! * a subscriber that stops reading is cut off at `max_pending` while the publisher keeps
//!   its pace and a healthy subscriber receives everything;
//! * 2,000 concurrent connections, each with subscriptions, are all served;
//! * 2,000 connect/disconnect cycles leave the server's RSS near its baseline;
//! * a client that stops answering PINGs is cut off as stale, one that answers is kept.
//!
//! A client vanishing without FIN cannot be produced on loopback (the kernel always ends a
//! closed socket with FIN or RST); to the server it is a client that stops answering, which
//! the stale test covers here and `engine/tests/simulation.rs` covers in virtual time.
//!
//! The tests run one at a time (they share the machine's two cores).

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use conformance::server::free_port;
use conformance::{our_binary, ServerProcess};

/// Serializes the tests of this file.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// How long any single read may wait before a test gives up.
const READ_TIMEOUT: Duration = Duration::from_secs(20);

const QUIET_CONNECT: &[u8] = b"CONNECT {\"verbose\":false,\"pedantic\":false}\r\n";

/// A server started with a configuration file and a monitoring port.
struct Server {
    process: ServerProcess,
    monitor: u16,
    conf: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.conf);
    }
}

impl Server {
    fn start(name: &str, conf: &str) -> Server {
        let path =
            std::env::temp_dir().join(format!("nats-load-{}-{name}.conf", std::process::id()));
        std::fs::write(&path, conf).expect("write config file");
        let monitor = free_port();
        let path_arg = path.to_string_lossy().into_owned();
        let monitor_arg = monitor.to_string();
        let process = ServerProcess::start(&our_binary(), &["-c", &path_arg, "-m", &monitor_arg]);
        Server {
            process,
            monitor,
            conf: path,
        }
    }

    fn addr(&self) -> String {
        self.process.addr()
    }

    /// `/varz` as JSON.
    fn varz(&self) -> serde_json::Value {
        let mut stream =
            TcpStream::connect(("127.0.0.1", self.monitor)).expect("connect to monitoring port");
        stream
            .set_read_timeout(Some(READ_TIMEOUT))
            .expect("set timeout");
        stream
            .write_all(b"GET /varz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            .expect("send request");
        let mut response = Vec::new();
        stream.read_to_end(&mut response).expect("read /varz");
        let text = String::from_utf8_lossy(&response);
        let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
        serde_json::from_str(body).unwrap_or_else(|e| panic!("/varz is not JSON ({e}): {text}"))
    }

    fn varz_u64(&self, key: &str) -> u64 {
        self.varz()[key].as_u64().unwrap_or(u64::MAX)
    }

    /// Waits (bounded) until `/varz` reports `want` for `key`; returns the last value.
    fn wait_varz(&self, key: &str, want: u64, timeout: Duration) -> u64 {
        let deadline = Instant::now() + timeout;
        loop {
            let got = self.varz_u64(key);
            if got == want || Instant::now() >= deadline {
                return got;
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Resident set size of the server process, in KiB.
    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.process.pid()))
            .expect("read /proc/<pid>/status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS line")
    }
}

/// What a raw client reads.
#[derive(Debug, PartialEq, Eq)]
enum Op {
    Info,
    Msg { subject: String, payload: Vec<u8> },
    Ping,
    Pong,
    Ok,
    Err(String),
}

/// A minimal blocking protocol reader.
struct Reader {
    r: BufReader<TcpStream>,
    line: String,
}

impl Reader {
    fn new(stream: TcpStream) -> Reader {
        Reader {
            r: BufReader::with_capacity(64 * 1024, stream),
            line: String::new(),
        }
    }

    /// The next op; `UnexpectedEof` when the server closed.
    fn next(&mut self) -> io::Result<Op> {
        self.line.clear();
        if self.r.read_line(&mut self.line)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let line = self.line.trim_end();
        let mut parts = line.split_ascii_whitespace();
        let verb = parts.next().unwrap_or("");
        match verb {
            "INFO" => Ok(Op::Info),
            "PING" => Ok(Op::Ping),
            "PONG" => Ok(Op::Pong),
            "+OK" => Ok(Op::Ok),
            "-ERR" => Ok(Op::Err(line[4..].trim().to_string())),
            "MSG" => {
                let args: Vec<&str> = parts.collect();
                let subject = args.first().copied().unwrap_or("").to_string();
                let size: usize = args
                    .last()
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| io::Error::other(format!("bad MSG line {line:?}")))?;
                let mut payload = vec![0; size + 2];
                self.r.read_exact(&mut payload)?;
                payload.truncate(size);
                Ok(Op::Msg { subject, payload })
            }
            _ => Err(io::Error::other(format!("unexpected line {line:?}"))),
        }
    }
}

/// Connects, reads INFO, sends a quiet CONNECT plus `setup`, and waits for the PONG.
fn client(addr: &str, setup: &str) -> (TcpStream, Reader) {
    let stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(READ_TIMEOUT))
        .expect("set timeout");
    let _ = stream.set_nodelay(true);
    let mut writer = stream.try_clone().expect("clone stream");
    let mut reader = Reader::new(stream);
    assert_eq!(reader.next().expect("INFO"), Op::Info);
    writer.write_all(QUIET_CONNECT).expect("send CONNECT");
    writer.write_all(setup.as_bytes()).expect("send setup");
    writer.write_all(b"PING\r\n").expect("send PING");
    wait_pong(&mut reader);
    (writer, reader)
}

/// Reads until PONG; panics on anything but INFO or PING before it.
fn wait_pong(reader: &mut Reader) {
    for _ in 0..1000 {
        match reader.next() {
            Ok(Op::Pong) => return,
            // The server's keepalive PING may come first; the client is active anyway.
            Ok(Op::Info | Op::Ping) => {}
            Ok(op) => panic!("expected PONG, got {op:?}"),
            Err(e) => panic!("expected PONG: {e}"),
        }
    }
    panic!("no PONG");
}

/// A subscriber that reads in its own thread, counting messages and PONGs.
struct Counting {
    writer: TcpStream,
    msgs: Arc<AtomicU64>,
    pongs: Arc<AtomicU64>,
    closed: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Counting {
    fn start(addr: &str, subject: &str) -> Counting {
        let (writer, mut reader) = client(addr, &format!("SUB {subject} 1\r\n"));
        let msgs = Arc::new(AtomicU64::new(0));
        let pongs = Arc::new(AtomicU64::new(0));
        let closed = Arc::new(AtomicBool::new(false));
        let (m, p, c) = (msgs.clone(), pongs.clone(), closed.clone());
        let thread = thread::spawn(move || loop {
            match reader.next() {
                Ok(Op::Msg { .. }) => {
                    m.fetch_add(1, Relaxed);
                }
                Ok(Op::Pong) => {
                    p.fetch_add(1, Relaxed);
                }
                Ok(_) => {}
                Err(_) => {
                    c.store(true, Relaxed);
                    return;
                }
            }
        });
        Counting {
            writer,
            msgs,
            pongs,
            closed,
            thread: Some(thread),
        }
    }

    /// Everything published before this call has been read once this returns.
    fn flush(&mut self) {
        let before = self.pongs.load(Relaxed);
        self.writer.write_all(b"PING\r\n").expect("send PING");
        let deadline = Instant::now() + READ_TIMEOUT;
        while self.pongs.load(Relaxed) == before {
            assert!(Instant::now() < deadline, "subscriber flush timed out");
            assert!(!self.closed.load(Relaxed), "subscriber was disconnected");
            thread::sleep(Duration::from_millis(1));
        }
    }
}

impl Drop for Counting {
    fn drop(&mut self) {
        let _ = self.writer.shutdown(std::net::Shutdown::Both);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// What one publishing phase did.
#[derive(Debug, Clone, Copy)]
struct Phase {
    published: u64,
    elapsed: Duration,
    longest_write: Duration,
}

impl Phase {
    fn rate(&self) -> f64 {
        self.published as f64 / self.elapsed.as_secs_f64()
    }
}

const PAYLOAD: usize = 1024;
const BATCH: usize = 32;

/// Publishes batches of `BATCH` messages for `duration`, then waits for the server to
/// have processed them (PING/PONG).
fn publish_for(writer: &mut TcpStream, reader: &mut Reader, duration: Duration) -> Phase {
    let mut batch = Vec::with_capacity(BATCH * (PAYLOAD + 32));
    for _ in 0..BATCH {
        batch.extend_from_slice(format!("PUB load {PAYLOAD}\r\n").as_bytes());
        batch.extend(std::iter::repeat_n(b'x', PAYLOAD));
        batch.extend_from_slice(b"\r\n");
    }
    let start = Instant::now();
    let mut published = 0u64;
    let mut longest_write = Duration::ZERO;
    // Bounded by time; the iteration cap only guards against a clock that stands still.
    for _ in 0..10_000_000u64 {
        if start.elapsed() >= duration {
            break;
        }
        let t = Instant::now();
        writer.write_all(&batch).expect("publish");
        longest_write = longest_write.max(t.elapsed());
        published += BATCH as u64;
    }
    let elapsed = start.elapsed();
    writer.write_all(b"PING\r\n").expect("send PING");
    wait_pong(reader);
    Phase {
        published,
        elapsed,
        longest_write,
    }
}

/// A stalled subscriber is cut off at `max_pending`; the publisher keeps ≥ 90% of the pace
/// it has with a reading subscriber in its place, and a healthy subscriber gets everything.
#[test]
fn stalled_subscriber_is_cut_off_without_slowing_the_publisher() {
    let _serial = serial();
    let server = Server::start("stall", "max_pending: 16777216\n");
    let addr = server.addr();
    let mut healthy = Counting::start(&addr, "load");
    let (mut publisher, mut pub_reader) = client(&addr, "");
    let phase = Duration::from_secs(2);
    let mut best_ratio = 0.0f64;
    let mut ratios = Vec::new();
    let mut cut_off = 0;
    for attempt in 1..=3 {
        // Phase A: two reading subscribers.
        let mut second = Counting::start(&addr, "load");
        let before = healthy.msgs.load(Relaxed);
        let a = publish_for(&mut publisher, &mut pub_reader, phase);
        healthy.flush();
        second.flush();
        assert_eq!(healthy.msgs.load(Relaxed) - before, a.published);
        assert_eq!(second.msgs.load(Relaxed), a.published);
        drop(second);

        // Phase B: the second subscriber never reads.
        let (stalled, _stalled_reader) = client(&addr, "SUB load 1\r\n");
        let before = healthy.msgs.load(Relaxed);
        let b = publish_for(&mut publisher, &mut pub_reader, phase);
        healthy.flush();
        assert_eq!(
            healthy.msgs.load(Relaxed) - before,
            b.published,
            "the healthy subscriber missed messages"
        );
        assert!(
            b.longest_write < Duration::from_secs(3),
            "the publisher was blocked for {:?}",
            b.longest_write
        );
        cut_off = server.wait_varz("slow_consumers", attempt, Duration::from_secs(10));
        assert_eq!(
            cut_off, attempt,
            "the stalled subscriber was not cut off as a slow consumer"
        );
        drop(stalled);
        let ratio = b.rate() / a.rate();
        eprintln!(
            "attempt {attempt}: with reading subscriber {:.0} msg/s ({} msgs, longest write {:?}); \
             with stalled subscriber {:.0} msg/s ({} msgs, longest write {:?}); ratio {ratio:.2}",
            a.rate(),
            a.published,
            a.longest_write,
            b.rate(),
            b.published,
            b.longest_write
        );
        ratios.push(ratio);
        best_ratio = best_ratio.max(ratio);
        if best_ratio >= 0.9 {
            break;
        }
    }
    assert!(
        server
            .process
            .wait_for_log("Slow Consumer Detected", Duration::from_secs(5)),
        "no slow consumer log line"
    );
    // Timing on a shared machine is noisy: 90% is the target, half is the hard floor (a
    // publisher blocked by the stalled reader would drop to nearly nothing).
    if best_ratio < 0.9 {
        eprintln!("warning: publisher pace ratios {ratios:?} below the 0.9 target");
    }
    assert!(best_ratio >= 0.5, "publisher pace ratios {ratios:?}");
    eprintln!("slow consumers cut off: {cut_off}");
}

/// A slow consumer is cut off at once, not when its blocked write finally hits the write
/// deadline: with a five-minute deadline the stalled connection is still gone within seconds.
#[test]
fn slow_consumer_is_cut_off_before_the_write_deadline() {
    let _serial = serial();
    let server = Server::start("cut", "max_pending: 1048576\nwrite_deadline: \"5m\"\n");
    let addr = server.addr();
    let (stalled, _stalled_reader) = client(&addr, "SUB cut 1\r\n");
    let (mut publisher, mut pub_reader) = client(&addr, "");
    let mut op = b"PUB cut 65536\r\n".to_vec();
    op.extend(std::iter::repeat_n(b'z', 65536));
    op.extend_from_slice(b"\r\n");
    // Far more than the socket buffers and max_pending together can hold.
    for _ in 0..256 {
        publisher.write_all(&op).expect("publish");
    }
    publisher.write_all(b"PING\r\n").expect("send PING");
    wait_pong(&mut pub_reader);
    assert_eq!(
        server.wait_varz("slow_consumers", 1, Duration::from_secs(10)),
        1,
        "no slow consumer"
    );
    assert_eq!(
        server.wait_varz("connections", 1, Duration::from_secs(10)),
        1,
        "the slow consumer's connection outlived its cut-off"
    );
    drop(stalled);
}

/// Raises this process's open-file limit to at least `want` (soft up to hard, with
/// `prlimit`); returns the soft limit in force.
fn ensure_open_files(want: u64) -> u64 {
    let soft = || -> u64 {
        std::fs::read_to_string("/proc/self/limits")
            .ok()
            .and_then(|l| {
                l.lines()
                    .find(|l| l.starts_with("Max open files"))
                    .and_then(|l| l.split_whitespace().nth(3)?.parse().ok())
            })
            .unwrap_or(0)
    };
    if soft() < want {
        let pid = std::process::id().to_string();
        let _ = std::process::Command::new("prlimit")
            .args(["--pid", &pid, &format!("--nofile={want}:")])
            .status();
    }
    soft()
}

const MANY: usize = 2_000;

/// 2,000 concurrent connections with two subscriptions each are all served.
#[test]
fn two_thousand_concurrent_connections_are_served() {
    let _serial = serial();
    let limit = ensure_open_files(MANY as u64 * 2 + 256);
    assert!(
        limit >= MANY as u64 + 256,
        "open-file limit {limit} too low for {MANY} connections"
    );
    let server = Server::start("many", "max_connections: 10000\n");
    let addr = server.addr();
    let start = Instant::now();
    let mut conns = Vec::with_capacity(MANY);
    for i in 0..MANY {
        conns.push(client(&addr, &format!("SUB conn.{i} 1\r\nSUB all 2\r\n")));
    }
    let connected = start.elapsed();
    assert_eq!(server.varz_u64("connections"), MANY as u64);
    assert_eq!(server.varz_u64("subscriptions"), 2 * MANY as u64);
    let (mut publisher, mut pub_reader) = client(&addr, "");
    let mut batch = Vec::new();
    for i in 0..MANY {
        batch.extend_from_slice(
            format!("PUB conn.{i} {}\r\n{i}\r\n", i.to_string().len()).as_bytes(),
        );
    }
    batch.extend_from_slice(b"PUB all 3\r\nall\r\nPING\r\n");
    publisher.write_all(&batch).expect("publish");
    wait_pong(&mut pub_reader);
    for (i, (_, reader)) in conns.iter_mut().enumerate() {
        let mut got = Vec::new();
        for _ in 0..3 {
            if got.len() == 2 {
                break;
            }
            match reader.next() {
                Ok(Op::Msg { subject, payload }) => got.push((subject, payload)),
                // The first keepalive PING may arrive first.
                Ok(Op::Ping) => {}
                other => panic!("connection {i}: expected a message, got {other:?}"),
            }
        }
        got.sort();
        assert_eq!(
            got,
            vec![
                ("all".to_string(), b"all".to_vec()),
                (format!("conn.{i}"), i.to_string().into_bytes())
            ],
            "connection {i}"
        );
    }
    let served = start.elapsed();
    let rss = server.rss_kib();
    drop(conns);
    drop(publisher);
    drop(pub_reader);
    let left = server.wait_varz("connections", 0, Duration::from_secs(20));
    assert_eq!(left, 0, "connections left after all closed");
    assert_eq!(server.varz_u64("subscriptions"), 0);
    eprintln!(
        "{MANY} connections: connected in {connected:?}, all served in {served:?}, server RSS {} MiB",
        rss / 1024
    );
}

/// One connect/subscribe/ping/disconnect cycle.
fn cycle(addr: &str, i: usize) {
    let (writer, _reader) = client(addr, &format!("SUB cycle.{i} 1\r\nSUB cycle.> q 2\r\n"));
    drop(writer);
}

/// 2,000 connect/disconnect cycles leave the server's RSS within 20 MiB of its baseline.
#[test]
fn connect_disconnect_cycles_keep_memory_flat() {
    let _serial = serial();
    let server = Server::start("cycles", "max_closed_clients: 100\n");
    let addr = server.addr();
    for i in 0..200 {
        cycle(&addr, i);
    }
    server.wait_varz("connections", 0, Duration::from_secs(10));
    let baseline = server.rss_kib();
    let start = Instant::now();
    let cycles = 2_000;
    for i in 0..cycles {
        cycle(&addr, i);
    }
    let elapsed = start.elapsed();
    let left = server.wait_varz("connections", 0, Duration::from_secs(20));
    assert_eq!(left, 0, "connections left after the cycles");
    assert_eq!(server.varz_u64("subscriptions"), 0);
    let after = server.rss_kib();
    eprintln!(
        "{cycles} cycles in {elapsed:?}: RSS baseline {baseline} KiB, after {after} KiB (+{} KiB)",
        after.saturating_sub(baseline)
    );
    assert!(
        after < baseline + 20 * 1024,
        "RSS grew from {baseline} KiB to {after} KiB"
    );
}

/// A client that stops answering PINGs is cut off as stale after `ping_max` unanswered
/// PINGs; a client that answers stays.
#[test]
fn client_that_stops_answering_is_cut_off_as_stale() {
    let _serial = serial();
    let server = Server::start("stale", "ping_interval: \"1s\"\nping_max: 2\n");
    let addr = server.addr();
    let (_silent_writer, mut silent) = client(&addr, "SUB x 1\r\n");
    let (mut alive_writer, mut alive) = client(&addr, "SUB x 1\r\n");
    let alive_done = Arc::new(AtomicBool::new(false));
    let done = alive_done.clone();
    let answering = thread::spawn(move || {
        let mut pings = 0;
        while !done.load(Relaxed) {
            match alive.next() {
                Ok(Op::Ping) => {
                    pings += 1;
                    alive_writer.write_all(b"PONG\r\n").expect("send PONG");
                }
                Ok(op) => panic!("answering client got {op:?}"),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => panic!("answering client lost: {e}"),
            }
        }
        pings
    });
    let start = Instant::now();
    let mut pings = 0;
    let outcome = loop {
        match silent.next() {
            Ok(Op::Ping) => pings += 1,
            Ok(Op::Err(text)) => break text,
            Ok(op) => panic!("silent client got {op:?}"),
            Err(e) => panic!("silent client: {e} before -ERR"),
        }
    };
    let detected = start.elapsed();
    assert_eq!(outcome, "'Stale Connection'");
    assert_eq!(pings, 2, "PINGs before the stale verdict");
    assert!(
        matches!(silent.next(), Err(e) if e.kind() == io::ErrorKind::UnexpectedEof || e.kind() == io::ErrorKind::ConnectionReset),
        "connection not closed after the stale verdict"
    );
    assert!(
        detected >= Duration::from_millis(1500) && detected < Duration::from_secs(10),
        "stale after {detected:?}"
    );
    // The answering client outlives the silent one by another interval.
    thread::sleep(Duration::from_millis(1500));
    assert_eq!(server.varz_u64("connections"), 1);
    alive_done.store(true, Relaxed);
    let answered = answering.join().expect("answering client");
    assert!(answered >= 2, "answering client saw {answered} PINGs");
    eprintln!("silent client cut off as stale after {detected:?}; answering client answered {answered} PINGs");
}
