//! Signals, configuration reload, lame duck mode and logging (log files, rotation, remote
//! syslog): real server processes, ours and the reference, driven by signals and
//! `--signal`; the log lines of both are compared where the same action is cheap to run on
//! both. Every wait is bounded.
#![cfg(unix)]

use std::net::{TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use conformance::raw::RawClient;
use conformance::server::free_port;
use conformance::{our_binary, reference_binary, ServerProcess};

/// Longest wait for a log line, a file or a process.
const WAIT: Duration = Duration::from_secs(10);
/// Poll interval of the waits.
const POLL: Duration = Duration::from_millis(20);

/// A fresh directory for one test and binary.
fn temp_dir(test: &str, bin: &Path) -> PathBuf {
    let kind = if bin == our_binary() { "ours" } else { "ref" };
    let dir =
        std::env::temp_dir().join(format!("nats-signals-{}-{test}-{kind}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// Sends `signal` (`HUP`, `USR1`, ...) to `pid`.
fn signal(pid: u32, signal: &str) {
    let ok = Command::new("kill")
        .args(["-s", signal, &pid.to_string()])
        .status()
        .expect("run kill")
        .success();
    assert!(ok, "kill -s {signal} {pid} failed");
}

/// Waits until `f` holds; returns whether it did.
fn wait_until(mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        thread::sleep(POLL);
    }
    f()
}

/// The text of a log line from its level label on (timestamps and pids differ).
fn message(line: &str) -> String {
    ["[INF]", "[ERR]", "[WRN]", "[DBG]", "[TRC]", "[FTL]"]
        .iter()
        .filter_map(|label| line.find(label))
        .min()
        .map_or(line, |i| &line[i..])
        .to_string()
}

/// The messages of the lines containing `needle`.
fn messages(lines: &[String], needle: &str) -> Vec<String> {
    lines
        .iter()
        .filter(|l| l.contains(needle))
        .map(|l| message(l))
        .collect()
}

/// A server process started by a test itself (its log goes to a file or syslog, where the
/// harness cannot see it); killed when dropped.
struct Spawned {
    child: Child,
}

impl Spawned {
    fn start(bin: &Path, args: &[&str]) -> Spawned {
        let child = Command::new(bin)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn server");
        Spawned { child }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

fn file_text(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn wait_for_file_line(path: &Path, needle: &str) -> bool {
    wait_until(|| file_text(path).contains(needle))
}

/// Connects with `user`/`pass` and answers whether the server accepted them (PONG) or
/// refused them (`-ERR 'Authorization Violation'`).
fn authenticates(addr: &str, user: &str, pass: &str) -> (bool, RawClient) {
    let mut c = RawClient::connect(addr).expect("connect");
    let connect = format!(
        "CONNECT {{\"user\":\"{user}\",\"pass\":\"{pass}\",\"verbose\":false,\"protocol\":1}}\r\n"
    );
    c.send(connect.as_bytes()).expect("send CONNECT");
    let got = c.sync(1, Duration::from_secs(5)).expect("sync");
    let text: String = got
        .frames
        .iter()
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect();
    let refused = text.contains("Authorization Violation") || got.closed;
    (!refused && !got.timed_out, c)
}

fn users_conf(port_line: &str, password: &str, extra: &str) -> String {
    format!(
        "{port_line}\nauthorization {{ users: [ {{user: alice, password: {password}}}, \
         {{user: bob, password: stays}} ] }}\n{extra}\n"
    )
}

/// SIGHUP with a changed password: new connections need the new one, the old one is
/// refused, an open connection of a user whose credentials did not change survives.
/// Open connections whose credentials no longer hold are closed with
/// `-ERR 'Authorization Violation'`, as the reference does. Returns the `Reloaded` lines.
fn reload_changes_password(bin: &Path) -> Vec<String> {
    let dir = temp_dir("reload", bin);
    let conf = dir.join("a.conf");
    std::fs::write(&conf, users_conf("", "old", "")).unwrap();
    let server = ServerProcess::start(bin, &["-c", conf.to_str().unwrap()]);
    let addr = server.addr();
    let (ok, mut alice) = authenticates(&addr, "alice", "old");
    assert!(ok, "old password before the reload");
    let (ok, mut kept) = authenticates(&addr, "bob", "stays");
    assert!(ok);
    std::fs::write(&conf, users_conf("", "new", "")).unwrap();
    signal(server.pid(), "HUP");
    assert!(
        server.wait_for_log("Reloaded server configuration", WAIT),
        "no reload line: {:?}",
        server.log_lines()
    );
    assert!(
        !authenticates(&addr, "alice", "old").0,
        "old password refused"
    );
    assert!(authenticates(&addr, "alice", "new").0, "new password works");
    let still = kept.sync(1, Duration::from_secs(5)).expect("sync");
    assert!(
        !still.closed && !still.timed_out,
        "the open connection survives"
    );
    // The connection whose password changed is closed by the reload, as the reference does.
    let gone = alice.sync(1, Duration::from_secs(5)).expect("sync");
    assert!(
        gone.closed,
        "the invalidated connection is closed: {gone:?}"
    );
    let lines = server.log_lines();
    assert!(lines
        .iter()
        .any(|l| l.contains("Trapped \"hangup\" signal")));
    messages(&lines, "Reloaded")
        .into_iter()
        .map(|m| m.split(" (sha256:").next().unwrap_or(&m).to_string())
        .collect()
}

#[test]
fn reload_changes_a_password_as_the_reference() {
    let ours = reload_changes_password(&our_binary());
    let reference = reload_changes_password(&reference_binary());
    assert_eq!(ours, reference);
}

/// SIGHUP lowering `max_connections` below the number of open clients closes enough of
/// them with `-ERR 'maximum connections exceeded'` (the reference picks them in no fixed
/// order; ours closes the newest). Returns what the clients received and whether they were
/// closed (sorted), then the reload's log messages.
fn reload_lowers_max_connections(bin: &Path) -> (Vec<(String, bool)>, Vec<String>) {
    let dir = temp_dir("maxconn", bin);
    let conf = dir.join("a.conf");
    std::fs::write(&conf, "max_connections: 5\n").unwrap();
    let server = ServerProcess::start(bin, &["-c", conf.to_str().unwrap()]);
    let addr = server.addr();
    let mut clients: Vec<RawClient> = (0..4)
        .map(|_| {
            let mut c = RawClient::connect(&addr).expect("connect");
            c.send(b"CONNECT {\"verbose\":false,\"protocol\":1}\r\n")
                .expect("send CONNECT");
            let got = c.sync(1, Duration::from_secs(5)).expect("sync");
            assert!(!got.closed && !got.timed_out, "{got:?}");
            c
        })
        .collect();
    std::fs::write(&conf, "max_connections: 2\n").unwrap();
    signal(server.pid(), "HUP");
    assert!(
        server.wait_for_log("Reloaded server configuration", WAIT),
        "no reload line: {:?}",
        server.log_lines()
    );
    let mut outcome: Vec<(String, bool)> = clients
        .iter_mut()
        .map(|c| {
            let got = c.sync(1, Duration::from_secs(5)).expect("sync");
            let text: String = got
                .frames
                .iter()
                .map(|f| String::from_utf8_lossy(f).into_owned())
                .filter(|f| f != "PONG\r\n" && !f.starts_with("INFO "))
                .collect();
            (text, got.closed)
        })
        .collect();
    outcome.sort();
    let lines = server.log_lines();
    let mut reload = messages(&lines, "Closed ");
    reload.extend(messages(&lines, "Reloaded: max_connections"));
    (outcome, reload)
}

#[test]
fn reload_lowering_max_connections_closes_clients_as_the_reference() {
    let ours = reload_lowers_max_connections(&our_binary());
    let reference = reload_lowers_max_connections(&reference_binary());
    assert_eq!(ours, reference);
    let closed = ours.0.iter().filter(|(_, closed)| *closed).count();
    assert_eq!(closed, 2, "{ours:?}");
}

/// A reload that changes an option that cannot change at run time is refused and the old
/// options (here the old password) stay. Returns the error line.
fn refused_reload(bin: &Path) -> String {
    let dir = temp_dir("refused", bin);
    let conf = dir.join("a.conf");
    std::fs::write(&conf, users_conf("", "old", "")).unwrap();
    let server = ServerProcess::start(bin, &["-c", conf.to_str().unwrap()]);
    std::fs::write(&conf, users_conf("", "new", "lame_duck_duration: \"40s\"")).unwrap();
    signal(server.pid(), "HUP");
    assert!(server.wait_for_log("Failed to reload server configuration", WAIT));
    let addr = server.addr();
    assert!(authenticates(&addr, "alice", "old").0, "old options stay");
    assert!(!authenticates(&addr, "alice", "new").0);
    // A file that does not parse is refused too, and the server runs on.
    std::fs::write(&conf, "port: [\n").unwrap();
    signal(server.pid(), "HUP");
    assert!(wait_until(|| messages(
        &server.log_lines(),
        "Failed to reload"
    )
    .len()
        == 2));
    assert!(authenticates(&addr, "alice", "old").0, "still serving");
    messages(&server.log_lines(), "Failed to reload")[0].clone()
}

#[test]
fn refused_reload_keeps_the_old_config_as_the_reference() {
    let ours = refused_reload(&our_binary());
    assert_eq!(
        ours,
        "[ERR] Failed to reload server configuration: config reload not supported for \
         LameDuckDuration: old=2m0s, new=40s"
    );
    assert_eq!(ours, refused_reload(&reference_binary()));
}

#[test]
fn reload_without_a_config_file_is_refused_as_the_reference() {
    for bin in [our_binary(), reference_binary()] {
        let server = ServerProcess::start(&bin, &[]);
        signal(server.pid(), "HUP");
        assert!(server.wait_for_log(
            "[ERR] Failed to reload server configuration: can only reload config when a file \
             is provided using -c or --config",
            WAIT
        ));
        signal(server.pid(), "USR1");
        assert!(server.wait_for_log("[INF] File log re-open ignored, not a file logger", WAIT));
    }
}

/// SIGUSR1 after the log file was moved away: a new file appears and gets the lines.
fn reopen(bin: &Path) -> (String, String) {
    let dir = temp_dir("reopen", bin);
    let log = dir.join("n.log");
    let port = free_port().to_string();
    let server = Spawned::start(
        bin,
        &["-a", "127.0.0.1", "-p", &port, "-l", log.to_str().unwrap()],
    );
    assert!(wait_for_file_line(&log, "Server is ready"));
    let moved = dir.join("n.log.1");
    std::fs::rename(&log, &moved).unwrap();
    signal(server.pid(), "USR1");
    assert!(wait_for_file_line(&log, "File log re-opened"), "new file");
    assert!(wait_for_file_line(
        &moved,
        "Trapped \"user defined signal 1\" signal"
    ));
    assert!(!file_text(&log).contains("Starting nats-server"));
    let new_lines: Vec<String> = file_text(&log).lines().map(message).collect();
    let old_last = file_text(&moved)
        .lines()
        .last()
        .map(message)
        .unwrap_or_default();
    (old_last, new_lines.join("\n"))
}

#[test]
fn sigusr1_reopens_the_log_file_as_the_reference() {
    assert_eq!(reopen(&our_binary()), reopen(&reference_binary()));
}

/// Lame duck mode with a short grace period: INFO with `ldm:true` to protocol-1 clients,
/// new connections refused, clients closed, the process exits. Returns the log messages
/// about it.
fn lame_duck(bin: &Path) -> Vec<String> {
    let dir = temp_dir("ldm", bin);
    let conf = dir.join("ldm.conf");
    std::fs::write(
        &conf,
        "lame_duck_duration: \"30s\"\nlame_duck_grace_period: \"1s\"\n",
    )
    .unwrap();
    let server = ServerProcess::start(bin, &["-c", conf.to_str().unwrap()]);
    let addr = server.addr();
    let mut modern = RawClient::connect(&addr).unwrap();
    modern
        .send(b"CONNECT {\"verbose\":false,\"protocol\":1}\r\n")
        .unwrap();
    assert!(!modern.sync(1, WAIT).unwrap().timed_out);
    let mut old = RawClient::connect(&addr).unwrap();
    old.send(b"CONNECT {\"verbose\":false,\"protocol\":0}\r\n")
        .unwrap();
    assert!(!old.sync(1, WAIT).unwrap().timed_out);
    let log = server.log_handle();
    let started = Instant::now();
    signal(server.pid(), "USR2");
    assert!(log.wait_for("Entering lame duck mode", WAIT));
    assert!(
        wait_until(|| TcpStream::connect(&addr).is_err()),
        "new connections are refused"
    );
    let got = modern.collect_until_closed(WAIT).unwrap();
    assert!(got.closed, "closed in lame duck mode");
    let frames: Vec<String> = got
        .frames
        .iter()
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect();
    assert!(
        frames
            .iter()
            .any(|f| f.starts_with("INFO ") && f.contains("\"ldm\":true")),
        "{frames:?}"
    );
    let got = old.collect_until_closed(WAIT).unwrap();
    assert!(got.closed);
    assert!(
        !got.frames.iter().any(|f| f.starts_with(b"INFO ")),
        "no INFO for protocol 0: {:?}",
        got.frames
    );
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "grace period"
    );
    assert!(log.wait_for("Server Exiting..", WAIT), "exits");
    let status = server.stop();
    assert!(status.is_some_and(|s| s.success()), "{status:?}");
    log.lines()
        .iter()
        .skip_while(|l| !l.contains("Trapped"))
        .map(|l| message(l))
        .filter(|m| m.starts_with("[INF]"))
        .collect()
}

#[test]
fn lame_duck_mode_as_the_reference() {
    let ours = lame_duck(&our_binary());
    assert_eq!(
        ours,
        [
            "[INF] Trapped \"user defined signal 2\" signal",
            "[INF] Entering lame duck mode, stop accepting new clients",
            "[INF] Closing existing clients",
            "[INF] Initiating Shutdown...",
            "[INF] Server Exiting..",
        ]
    );
    assert_eq!(ours, lame_duck(&reference_binary()));
}

#[test]
fn lame_duck_settings_are_checked_as_the_reference() {
    let run = |bin: &Path, body: &str| {
        let dir = temp_dir("ldm-check", bin);
        let conf = dir.join("c.conf");
        std::fs::write(&conf, body).unwrap();
        let out = Command::new(bin)
            .args(["-p", &free_port().to_string(), "-c", "c.conf"])
            .current_dir(&dir)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    for body in [
        "lame_duck_duration: \"40s\"\nlame_duck_grace_period: \"50s\"\n",
        "lame_duck_duration: \"10s\"\n",
        "lame_duck_grace_period: \"-1s\"\n",
        "lame_duck_grace_period: \"3m\"\n",
    ] {
        let ours = run(&our_binary(), body);
        assert_eq!(ours.0, Some(1), "{body}");
        assert_eq!(ours, run(&reference_binary(), body), "{body}");
    }
}

/// `--signal reload=<pid file>` then `--signal stop=<pid>`.
fn signal_flag(bin: &Path) -> Option<i32> {
    use std::os::unix::process::ExitStatusExt;
    let dir = temp_dir("signal-flag", bin);
    let conf = dir.join("a.conf");
    std::fs::write(&conf, "max_payload: 1000\n").unwrap();
    let pid_file = dir.join("s.pid");
    let server = ServerProcess::start(
        bin,
        &[
            "-c",
            conf.to_str().unwrap(),
            "-P",
            pid_file.to_str().unwrap(),
        ],
    );
    assert!(wait_until(|| pid_file.exists()));
    std::fs::write(&conf, "max_payload: 2000\n").unwrap();
    let out = Command::new(bin)
        .args(["--signal", &format!("reload={}", pid_file.display())])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(server.wait_for_log("Reloaded: max_payload = 2000", WAIT));
    let out = Command::new(bin)
        .args(["-sl", &format!("stop={}", server.pid())])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let status = server.stop();
    status.and_then(|s| s.signal())
}

#[test]
fn signal_flag_reloads_and_stops_as_the_reference() {
    // `stop` kills the process (SIGKILL), as the reference does.
    assert_eq!(signal_flag(&our_binary()), Some(9));
    assert_eq!(signal_flag(&reference_binary()), Some(9));
}

#[test]
fn signal_flag_errors_as_the_reference() {
    for args in [
        ["--signal", "reload=abc"],
        ["--signal", "bogus=1"],
        ["--signal", "reload=1=2"],
        ["--signal", "reopen=2147483000"],
    ] {
        let run = |bin: &Path| {
            let out = Command::new(bin).args(args).output().unwrap();
            (
                out.status.code(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        };
        let ours = run(&our_binary());
        assert_eq!(ours.0, Some(1), "{args:?}");
        assert_eq!(ours, run(&reference_binary()), "{args:?}");
    }
}

/// Lines a UDP syslog listener receives until one contains `until`.
fn receive_syslog(socket: &UdpSocket, until: &str) -> Vec<String> {
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let deadline = Instant::now() + WAIT;
    let mut lines = Vec::new();
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        if let Ok(n) = socket.recv(&mut buf) {
            let line = String::from_utf8_lossy(&buf[..n]).into_owned();
            let done = line.contains(until);
            lines.push(line);
            if done {
                break;
            }
        }
    }
    lines
}

/// `-r udp://...`: every line a datagram `<PRI>RFC3339 host tag[pid]: text\n`. Returns the
/// texts of the notices.
fn remote_syslog(bin: &Path) -> Vec<String> {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let url = format!("udp://{}", socket.local_addr().unwrap());
    let port = free_port().to_string();
    let server = Spawned::start(bin, &["-a", "127.0.0.1", "-p", &port, "-r", &url]);
    let lines = receive_syslog(&socket, "Server is ready");
    assert!(
        lines.last().is_some_and(|l| l.contains("Server is ready")),
        "{lines:?}"
    );
    signal(server.pid(), "HUP");
    let more = receive_syslog(&socket, "Failed to reload");
    assert!(
        more.iter().any(|l| l.starts_with("<3>")),
        "errors are <3>: {more:?}"
    );
    let tag = format!(
        " {}[{}]: ",
        bin.file_name().unwrap().to_string_lossy(),
        server.pid()
    );
    for line in lines.iter().chain(&more) {
        assert!(line.ends_with('\n'), "{line:?}");
        let (pri, rest) = line[1..].split_once('>').expect("priority");
        assert!(["3", "4", "5", "7"].contains(&pri), "{line:?}");
        let (stamp, rest) = rest.split_once(' ').unwrap();
        assert_eq!(stamp.len(), 20, "{stamp}");
        assert!(stamp.ends_with('Z') || stamp.contains('+') || stamp[10..].contains('-'));
        let (_host, rest) = rest.split_once(' ').unwrap();
        assert!(rest.starts_with(tag.trim_start()), "{line:?} lacks {tag:?}");
    }
    lines
        .iter()
        .chain(&more)
        .filter(|l| l.starts_with("<5>") || l.starts_with("<3>"))
        .map(|l| l.split_once("]: ").unwrap().1.trim_end().to_string())
        .filter(|m| {
            ["Starting", "Server is ready", "Trapped", "Failed"]
                .iter()
                .any(|p| m.starts_with(p))
        })
        .collect()
}

#[test]
fn remote_syslog_over_udp_as_the_reference() {
    let ours = remote_syslog(&our_binary());
    assert_eq!(ours.len(), 4, "{ours:?}");
    assert_eq!(ours, remote_syslog(&reference_binary()));
}

/// Rotation at a small size limit with at most three files. Returns the file count and
/// whether the current file starts with the rotation note.
fn rotation(bin: &Path) -> (usize, bool) {
    let dir = temp_dir("rotate", bin);
    let log = dir.join("n.log");
    let conf = dir.join("r.conf");
    std::fs::write(&conf, "logfile_max_num: 3\n").unwrap();
    let port = free_port().to_string();
    let server = Spawned::start(
        bin,
        &[
            "-a",
            "127.0.0.1",
            "-p",
            &port,
            "-c",
            conf.to_str().unwrap(),
            "-l",
            log.to_str().unwrap(),
            "--log_size_limit",
            "600",
        ],
    );
    assert!(wait_for_file_line(&log, "Server is ready") || dir.read_dir().unwrap().count() > 2);
    // Each reload without changes logs two lines (SIGUSR1 is not used: the reference's
    // reopened log forgets the maximum number of files).
    for _ in 0..12 {
        signal(server.pid(), "HUP");
        thread::sleep(Duration::from_millis(50));
    }
    thread::sleep(Duration::from_millis(300));
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("n.log"))
        .collect();
    for n in &names {
        if n != "n.log" {
            let stamp = n.strip_prefix("n.log.").expect("backup name");
            let parts: Vec<&str> = stamp.split('.').collect();
            assert_eq!(parts.len(), 7, "{n}");
            assert_eq!(parts[6].len(), 9, "{n}");
        }
    }
    let current = file_text(&log);
    let all: String = names.iter().map(|n| file_text(&dir.join(n))).collect();
    assert!(
        all.contains("[INF] Rotated log, backup saved as \""),
        "{all}"
    );
    assert!(all.contains("[INF] Purged log file \"n.log."), "{all}");
    (
        names.len(),
        current.contains("Rotated log") || current.contains("Purged"),
    )
}

#[test]
fn log_rotation_as_the_reference() {
    let ours = rotation(&our_binary());
    assert_eq!(ours.0, 3);
    assert_eq!(ours, rotation(&reference_binary()));
}
