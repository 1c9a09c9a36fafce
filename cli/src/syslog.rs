//! Syslog output in the format of Go's `log/syslog`, which the reference uses.
//!
//! * Local (`-s`): the Unix socket `/dev/log` (then `/var/run/syslog`, `/var/run/log`),
//!   datagram first then stream, facility `daemon`:
//!   `<PRI>Jan _2 15:04:05 tag[pid]: message\n`.
//! * Remote (`-r udp://host:port`, also `tcp://` and `unix:///path`), facility `kern`:
//!   `<PRI>2006-01-02T15:04:05Z07:00 hostname tag[pid]: message\n`, one datagram per line
//!   over UDP.
//!
//! The tag is the executable's file name, as invoked. On a failed write the connection is
//! opened again and the write tried once more, as Go does.

use std::io::{self, Write};
use std::net::{TcpStream, ToSocketAddrs, UdpSocket};
use std::time::Duration;

/// How serious a line is (the low three bits of the priority).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// `[FTL]` lines.
    Crit = 2,
    /// `[ERR]` lines.
    Err = 3,
    /// `[WRN]` lines.
    Warning = 4,
    /// `[INF]` and `[TRC]` lines (the reference sends traces as notices).
    Notice = 5,
    /// `[DBG]` lines.
    Debug = 7,
}

/// `daemon`: the facility of local syslog.
const FACILITY_DAEMON: u8 = 3 << 3;
/// `kern` (0): the facility the reference's remote syslog ends up with.
const FACILITY_KERN: u8 = 0;
/// Longest a connection to a TCP syslog server may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest a write to a stream syslog socket may block.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// Why syslog could not be used; the text is the reference's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyslogError {
    /// No local syslog socket accepted a connection.
    #[cfg_attr(not(unix), allow(dead_code))]
    #[error("error connecting to syslog: \"Unix syslog delivery error\"")]
    NoLocalSyslog,
    /// The remote server could not be reached.
    #[error("error connecting to syslog: {0:?}")]
    Connect(String),
    /// `-r` is not a URL.
    #[error("parse {url:?}: {reason}")]
    Parse {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A scheme other than `udp`, `tcp` or `unix`.
    #[error("error invalid network type: {0:?}")]
    Network(String),
    /// This platform has no syslog.
    #[cfg_attr(unix, allow(dead_code))]
    #[error("syslog is not supported on this platform")]
    Unsupported,
}

/// Where lines go.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    /// The first local socket that works.
    Local,
    Udp(String),
    Tcp(String),
    #[cfg_attr(not(unix), allow(dead_code))]
    Unix(String),
}

#[derive(Debug)]
enum Conn {
    Udp(UdpSocket),
    Tcp(TcpStream),
    #[cfg(unix)]
    UnixDatagram(std::os::unix::net::UnixDatagram),
    #[cfg(unix)]
    UnixStream(std::os::unix::net::UnixStream),
}

impl Conn {
    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Conn::Udp(s) => s.send(bytes).map(drop),
            Conn::Tcp(s) => s.write_all(bytes),
            #[cfg(unix)]
            Conn::UnixDatagram(s) => s.send(bytes).map(drop),
            #[cfg(unix)]
            Conn::UnixStream(s) => s.write_all(bytes),
        }
    }
}

/// A connection to syslog.
#[derive(Debug)]
pub struct Syslog {
    target: Target,
    conn: Conn,
    facility: u8,
    tag: String,
    hostname: String,
    pid: u32,
}

/// The executable's file name as invoked (`os.Args[0]` without its directory).
pub fn tag() -> String {
    std::env::args_os()
        .next()
        .map(std::path::PathBuf::from)
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "nats-server".to_string())
}

/// The host name (empty when unknown).
fn hostname() -> String {
    #[cfg(unix)]
    {
        if let Ok(h) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
            return h.trim().to_string();
        }
        if let Ok(out) = std::process::Command::new("hostname").output() {
            return String::from_utf8_lossy(&out.stdout).trim().to_string();
        }
    }
    std::env::var("COMPUTERNAME").unwrap_or_default()
}

/// The local syslog sockets, in the order Go tries them.
#[cfg(unix)]
const LOCAL_PATHS: &[&str] = &["/dev/log", "/var/run/syslog", "/var/run/log"];

#[cfg(unix)]
fn connect_local(paths: &[&str]) -> Result<Conn, SyslogError> {
    use std::os::unix::net::{UnixDatagram, UnixStream};
    for path in paths {
        if let Ok(s) = UnixDatagram::unbound() {
            if s.connect(path).is_ok() {
                return Ok(Conn::UnixDatagram(s));
            }
        }
        if let Ok(s) = UnixStream::connect(path) {
            let _ = s.set_write_timeout(Some(WRITE_TIMEOUT));
            return Ok(Conn::UnixStream(s));
        }
    }
    Err(SyslogError::NoLocalSyslog)
}

fn connect(target: &Target) -> Result<Conn, SyslogError> {
    let failed = |e: io::Error, network: &str, addr: &str| {
        let text = e.to_string();
        let desc = text
            .split(" (os error")
            .next()
            .unwrap_or(&text)
            .to_lowercase();
        SyslogError::Connect(format!("dial {network} {addr}: {desc}"))
    };
    match target {
        #[cfg(unix)]
        Target::Local => connect_local(LOCAL_PATHS),
        #[cfg(not(unix))]
        Target::Local => Err(SyslogError::Unsupported),
        Target::Udp(addr) => {
            let remote = addr
                .to_socket_addrs()
                .map_err(|e| failed(e, "udp", addr))?
                .next()
                .ok_or_else(|| SyslogError::Connect(format!("dial udp {addr}: no address")))?;
            let local: std::net::SocketAddr = if remote.is_ipv4() {
                ([0, 0, 0, 0], 0).into()
            } else {
                (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
            };
            let s = UdpSocket::bind(local).map_err(|e| failed(e, "udp", addr))?;
            s.connect(remote).map_err(|e| failed(e, "udp", addr))?;
            Ok(Conn::Udp(s))
        }
        Target::Tcp(addr) => {
            let remote = addr
                .to_socket_addrs()
                .map_err(|e| failed(e, "tcp", addr))?
                .next()
                .ok_or_else(|| SyslogError::Connect(format!("dial tcp {addr}: no address")))?;
            let s = TcpStream::connect_timeout(&remote, CONNECT_TIMEOUT)
                .map_err(|e| failed(e, "tcp", addr))?;
            let _ = s.set_write_timeout(Some(WRITE_TIMEOUT));
            Ok(Conn::Tcp(s))
        }
        #[cfg(unix)]
        Target::Unix(path) => {
            let s = std::os::unix::net::UnixStream::connect(path)
                .map_err(|e| failed(e, "unix", path))?;
            let _ = s.set_write_timeout(Some(WRITE_TIMEOUT));
            Ok(Conn::UnixStream(s))
        }
        #[cfg(not(unix))]
        Target::Unix(_) => Err(SyslogError::Unsupported),
    }
}

/// The target of a `-r` URL, checked as the reference checks it.
fn parse_remote(url: &str) -> Result<Target, SyslogError> {
    let Some((scheme, rest)) = url.split_once("://") else {
        // Go's url.Parse: a colon before any slash needs a valid scheme in front of it.
        let first_segment = url.split('/').next().unwrap_or("");
        if let Some((scheme, _)) = url.split_once(':') {
            let valid_scheme = scheme
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
            if !valid_scheme && first_segment.contains(':') {
                return Err(SyslogError::Parse {
                    url: url.to_string(),
                    reason: "first path segment in URL cannot contain colon",
                });
            }
            if valid_scheme {
                return Err(SyslogError::Network(scheme.to_lowercase()));
            }
        }
        return Err(SyslogError::Network(String::new()));
    };
    let scheme = scheme.to_lowercase();
    match scheme.as_str() {
        "udp" | "tcp" => {
            let host = rest.split(['/', '?', '#']).next().unwrap_or("");
            let host = host.rsplit('@').next().unwrap_or(host).to_string();
            Ok(if scheme == "udp" {
                Target::Udp(host)
            } else {
                Target::Tcp(host)
            })
        }
        "unix" => {
            let path = match rest.find('/') {
                Some(i) => &rest[i..],
                None => "",
            };
            let path = path.split(['?', '#']).next().unwrap_or("");
            Ok(Target::Unix(path.to_string()))
        }
        other => Err(SyslogError::Network(other.to_string())),
    }
}

impl Syslog {
    /// The local syslog daemon (`-s`).
    pub fn local() -> Result<Syslog, SyslogError> {
        Syslog::open(Target::Local, FACILITY_DAEMON)
    }

    /// A local-format writer on the datagram socket at `path` (for tests).
    #[cfg(all(unix, test))]
    fn local_at(path: &str) -> Result<Syslog, SyslogError> {
        let conn = connect_local(&[path])?;
        Ok(Syslog {
            target: Target::Local,
            conn,
            facility: FACILITY_DAEMON,
            tag: tag(),
            hostname: String::new(),
            pid: std::process::id(),
        })
    }

    /// A syslog server (`-r udp://host:port`, `tcp://host:port` or `unix:///path`).
    pub fn remote(url: &str) -> Result<Syslog, SyslogError> {
        Syslog::open(parse_remote(url)?, FACILITY_KERN)
    }

    fn open(target: Target, facility: u8) -> Result<Syslog, SyslogError> {
        let conn = connect(&target)?;
        Ok(Syslog {
            target,
            conn,
            facility,
            tag: tag(),
            hostname: hostname(),
            pid: std::process::id(),
        })
    }

    /// One line in Go's format for this connection.
    fn format(&self, severity: Severity, message: &str) -> String {
        let pri = self.facility | severity as u8;
        let nl = if message.ends_with('\n') { "" } else { "\n" };
        let (tag, pid) = (&self.tag, self.pid);
        if self.target == Target::Local {
            let stamp = chrono::Local::now().format("%b %e %H:%M:%S");
            format!("<{pri}>{stamp} {tag}[{pid}]: {message}{nl}")
        } else {
            let stamp = chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            let host = &self.hostname;
            format!("<{pri}>{stamp} {host} {tag}[{pid}]: {message}{nl}")
        }
    }

    /// Sends one line; on failure reconnects and tries once more.
    pub fn write(&mut self, severity: Severity, message: &str) -> io::Result<()> {
        let line = self.format(severity, message);
        if self.conn.send(line.as_bytes()).is_ok() {
            return Ok(());
        }
        self.conn = connect(&self.target).map_err(io::Error::other)?;
        self.conn.send(line.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_urls_as_the_reference_reads_them() {
        assert_eq!(
            parse_remote("udp://127.0.0.1:514").unwrap(),
            Target::Udp("127.0.0.1:514".into())
        );
        assert_eq!(
            parse_remote("tcp://logs:601").unwrap(),
            Target::Tcp("logs:601".into())
        );
        assert_eq!(
            parse_remote("unix:///dev/log").unwrap(),
            Target::Unix("/dev/log".into())
        );
        assert_eq!(
            parse_remote("127.0.0.1:514").unwrap_err().to_string(),
            "parse \"127.0.0.1:514\": first path segment in URL cannot contain colon"
        );
        assert_eq!(
            parse_remote("http://x:1").unwrap_err().to_string(),
            "error invalid network type: \"http\""
        );
        assert_eq!(
            parse_remote("localhost").unwrap_err().to_string(),
            "error invalid network type: \"\""
        );
    }

    #[test]
    fn udp_lines_in_the_network_format() {
        let listener = UdpSocket::bind("127.0.0.1:0").unwrap();
        listener
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let url = format!("udp://{}", listener.local_addr().unwrap());
        let mut w = Syslog::remote(&url).unwrap();
        w.write(Severity::Notice, "Server is ready").unwrap();
        w.write(Severity::Err, "bad").unwrap();
        let mut buf = [0u8; 1024];
        let n = listener.recv(&mut buf).unwrap();
        let line = std::str::from_utf8(&buf[..n]).unwrap();
        // <5>2006-01-02T15:04:05Z host tag[pid]: text\n
        assert!(line.starts_with("<5>"), "{line}");
        let suffix = format!("[{}]: Server is ready\n", std::process::id());
        assert!(line.ends_with(&suffix), "{line}");
        let stamp = line[3..].split(' ').next().unwrap();
        assert!(
            chrono::DateTime::parse_from_rfc3339(stamp).is_ok(),
            "{stamp}"
        );
        let n = listener.recv(&mut buf).unwrap();
        assert!(buf[..n].starts_with(b"<3>"));
    }

    #[cfg(unix)]
    #[test]
    fn local_lines_in_the_local_format() {
        use std::os::unix::net::UnixDatagram;
        let path = std::env::temp_dir().join(format!("nats-syslog-{}.sock", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let daemon = UnixDatagram::bind(&path).unwrap();
        daemon
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut w = Syslog::local_at(path.to_str().unwrap()).unwrap();
        w.write(Severity::Warning, "careful").unwrap();
        let mut buf = [0u8; 1024];
        let n = daemon.recv(&mut buf).unwrap();
        let line = std::str::from_utf8(&buf[..n]).unwrap();
        // <28>Jan _2 15:04:05 tag[pid]: careful\n (daemon | warning)
        assert!(line.starts_with("<28>"), "{line}");
        assert_eq!(line.as_bytes()[7], b' ', "{line}");
        assert_eq!(&line[10..11], " ", "{line}");
        let suffix = format!("[{}]: careful\n", std::process::id());
        assert!(line.ends_with(&suffix), "{line}");
        assert!(connect_local(&["/nonexistent/log"]).is_err());
        let _ = std::fs::remove_file(&path);
    }
}
