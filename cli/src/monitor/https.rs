//! HTTPS monitoring (`-ms/--https_port`): a small HTTP/1.x server over rustls, answering
//! one request per connection with the same [`MonitorState`] as the plain HTTP listener.
//!
//! `tiny_http`'s own TLS support would pull a second, older rustls into the binary, so TLS
//! is terminated here with the rustls the client listener already uses. Each connection
//! gets a short-lived thread (at most [`MAX_CONNECTIONS`] at once), so a slow or stalled
//! peer never holds up the others.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::routes::{MonitorState, Reply};

/// Connections served at once; more are closed on accept.
pub const MAX_CONNECTIONS: usize = 32;

/// Longest a peer may take to finish the handshake and send its request, or to take the
/// answer.
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// Largest request head read (request line and headers).
const MAX_HEAD: usize = 16 * 1024;

/// Stack of a connection thread.
const STACK_SIZE: usize = 512 * 1024;

/// Pause after a failed accept.
const ACCEPT_RETRY: Duration = Duration::from_millis(10);

/// What the reference answers a plain-HTTP request sent to its HTTPS port.
const PLAIN_HTTP_ANSWER: &[u8] =
    b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n";

/// A running HTTPS listener; [`HttpsServer::stop`] ends it (also on drop).
pub struct HttpsServer {
    accept: Option<JoinHandle<()>>,
    stopping: Arc<AtomicBool>,
    addr: SocketAddr,
}

impl HttpsServer {
    /// Serves `state` over TLS on `listener` until stopped.
    pub fn spawn(
        listener: TcpListener,
        tls: Arc<rustls::ServerConfig>,
        state: Arc<MonitorState>,
    ) -> std::io::Result<HttpsServer> {
        let addr = listener.local_addr()?;
        let stopping = Arc::new(AtomicBool::new(false));
        let stop = stopping.clone();
        let accept = std::thread::Builder::new()
            .name("monitor-https".to_string())
            .spawn(move || accept_loop(&listener, &tls, &state, &stop))?;
        Ok(HttpsServer {
            accept: Some(accept),
            stopping,
            addr,
        })
    }

    /// Stops accepting and waits for the accept thread (connection threads finish their
    /// one request on their own).
    pub fn stop(&mut self) {
        let Some(accept) = self.accept.take() else {
            return;
        };
        self.stopping.store(true, Ordering::Release);
        // Wake the blocked accept with a connection of our own.
        let _ = TcpStream::connect_timeout(&wake_addr(self.addr), Duration::from_secs(1));
        let _ = accept.join();
    }
}

impl Drop for HttpsServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// An address that reaches a listener bound to `addr` (loopback for a wildcard bind).
fn wake_addr(addr: SocketAddr) -> SocketAddr {
    let mut to = addr;
    if to.ip().is_unspecified() {
        to.set_ip(match to {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    to
}

fn accept_loop(
    listener: &TcpListener,
    tls: &Arc<rustls::ServerConfig>,
    state: &Arc<MonitorState>,
    stopping: &AtomicBool,
) {
    let active = Arc::new(AtomicUsize::new(0));
    while !stopping.load(Ordering::Acquire) {
        let Ok((sock, _)) = listener.accept() else {
            std::thread::sleep(ACCEPT_RETRY);
            continue;
        };
        if stopping.load(Ordering::Acquire) {
            break;
        }
        if active.fetch_add(1, Ordering::AcqRel) >= MAX_CONNECTIONS {
            active.fetch_sub(1, Ordering::AcqRel);
            continue;
        }
        let (tls, state, done) = (tls.clone(), state.clone(), active.clone());
        let spawned = std::thread::Builder::new()
            .name("monitor-https-conn".to_string())
            .stack_size(STACK_SIZE)
            .spawn(move || {
                serve_connection(sock, tls, &state);
                done.fetch_sub(1, Ordering::AcqRel);
            });
        if spawned.is_err() {
            active.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// Why a connection ended without an answer (only to stop early; nothing is logged, as the
/// reference logs nothing for these either).
#[derive(Debug, thiserror::Error)]
enum ConnError {
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("TLS: {0}")]
    Tls(#[from] rustls::Error),
    #[error("malformed request")]
    Malformed,
}

fn serve_connection(mut sock: TcpStream, tls: Arc<rustls::ServerConfig>, state: &MonitorState) {
    let _ = serve_tls(&mut sock, tls, state);
    let _ = sock.shutdown(std::net::Shutdown::Both);
}

fn serve_tls(
    sock: &mut TcpStream,
    tls: Arc<rustls::ServerConfig>,
    state: &MonitorState,
) -> Result<(), ConnError> {
    sock.set_read_timeout(Some(IO_TIMEOUT))?;
    sock.set_write_timeout(Some(IO_TIMEOUT))?;
    sock.set_nodelay(true)?;
    let mut first = [0u8; 1];
    if sock.peek(&mut first)? == 0 {
        return Ok(());
    }
    // A TLS connection starts with a handshake record (0x16); a letter is plain HTTP.
    if first[0].is_ascii_alphabetic() {
        sock.write_all(PLAIN_HTTP_ANSWER)?;
        return Ok(());
    }
    let conn = rustls::ServerConnection::new(tls)?;
    let mut stream = rustls::StreamOwned::new(conn, sock);
    let head = read_head(&mut stream)?;
    let (method, target) = request_line(&head).ok_or(ConnError::Malformed)?;
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let reply = state.handle(path, query, Instant::now());
    let mut response = encode_response(&reply, &http_date());
    if method == "HEAD" {
        // The same head, without the body.
        response.truncate(response.len() - reply.body.len());
    }
    stream.write_all(&response)?;
    stream.conn.send_close_notify();
    stream.flush()?;
    Ok(())
}

/// Reads up to the end of the request head (`\r\n\r\n`).
fn read_head(stream: &mut impl Read) -> Result<Vec<u8>, ConnError> {
    let mut head = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    loop {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(ConnError::Malformed);
        }
        head.extend_from_slice(&chunk[..n]);
        if head.windows(4).any(|w| w == b"\r\n\r\n") {
            return Ok(head);
        }
        if head.len() > MAX_HEAD {
            return Err(ConnError::Malformed);
        }
    }
}

/// The method and request target of a head's request line (`GET /varz?x=1 HTTP/1.1`
/// gives `GET` and `/varz?x=1`).
fn request_line(head: &[u8]) -> Option<(&str, &str)> {
    let line = head.split(|b| *b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?.trim_end_matches('\r');
    let mut parts = line.split(' ');
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    (version.starts_with("HTTP/1.") && parts.next().is_none()).then_some((method, target))
}

/// The current time as an HTTP `Date` header writes it.
fn http_date() -> String {
    chrono::Utc::now()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        307 => "Temporary Redirect",
        400 => "Bad Request",
        404 => "Not Found",
        500 => "Internal Server Error",
        _ => "",
    }
}

/// The whole HTTP/1.1 response for `reply`, closing the connection after it.
fn encode_response(reply: &Reply, date: &str) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {} {}\r\n",
        reply.status,
        reason_phrase(reply.status)
    );
    if reply.cors {
        out.push_str("Access-Control-Allow-Origin: *\r\n");
    }
    out.push_str(&format!("Content-Type: {}\r\n", reply.content_type));
    if let Some(to) = &reply.location {
        out.push_str(&format!("Location: {to}\r\n"));
    }
    if reply.status == 404 {
        out.push_str("X-Content-Type-Options: nosniff\r\n");
    }
    out.push_str(&format!(
        "Date: {date}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        reply.body.len()
    ));
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&reply.body);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_lines() {
        assert_eq!(
            request_line(b"GET /varz?x=1 HTTP/1.1\r\nHost: a\r\n\r\n"),
            Some(("GET", "/varz?x=1"))
        );
        assert_eq!(
            request_line(b"HEAD / HTTP/1.0\r\n\r\n"),
            Some(("HEAD", "/"))
        );
        assert_eq!(request_line(b"GET /\r\n\r\n"), None);
        assert_eq!(request_line(b"GET / SPDY/3\r\n\r\n"), None);
        assert_eq!(request_line(b"GET / HTTP/1.1 extra\r\n\r\n"), None);
    }

    #[test]
    fn heads_end_at_the_blank_line() {
        let mut input: &[u8] = b"GET / HTTP/1.1\r\nA: b\r\n\r\nrest";
        let head = read_head(&mut input).unwrap();
        assert!(head.ends_with(b"rest"));
        let mut short: &[u8] = b"GET / HTTP/1.1\r\n";
        assert!(matches!(read_head(&mut short), Err(ConnError::Malformed)));
        let big = vec![b'a'; MAX_HEAD + 2048];
        assert!(matches!(
            read_head(&mut big.as_slice()),
            Err(ConnError::Malformed)
        ));
    }

    #[test]
    fn responses_carry_length_and_close() {
        let reply = Reply {
            status: 307,
            content_type: "text/html; charset=utf-8",
            cors: false,
            body: b"moved".to_vec(),
            location: Some("/varz".to_string()),
        };
        let text = String::from_utf8(encode_response(&reply, "D")).unwrap();
        assert!(
            text.starts_with("HTTP/1.1 307 Temporary Redirect\r\n"),
            "{text}"
        );
        assert!(text.contains("\r\nLocation: /varz\r\n"), "{text}");
        assert!(text.contains("\r\nContent-Length: 5\r\nConnection: close\r\n\r\nmoved"));
        assert!(!text.contains("Access-Control"));
    }

    #[test]
    fn wildcard_binds_are_woken_on_loopback() {
        let a: SocketAddr = "0.0.0.0:9".parse().unwrap();
        assert_eq!(wake_addr(a), "127.0.0.1:9".parse().unwrap());
        let b: SocketAddr = "[::]:9".parse().unwrap();
        assert_eq!(wake_addr(b), "[::1]:9".parse().unwrap());
        let c: SocketAddr = "10.1.2.3:9".parse().unwrap();
        assert_eq!(wake_addr(c), c);
    }
}
