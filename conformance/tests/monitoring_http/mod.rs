//! HTTP/1.0 requests to a monitoring port, in plain text or over TLS, shared by the
//! monitoring suites.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use conformance::raw::DEFAULT_TIMEOUT;
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, StreamOwned};

/// An HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Http {
    /// Status code.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: String,
    /// `Location`, for redirects.
    pub location: Option<String>,
    /// Body.
    pub body: String,
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
}

/// Parses a whole response (the body ends at end of stream).
pub fn parse(raw: &[u8]) -> Http {
    let text = String::from_utf8_lossy(raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("header end");
    let status = head
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .expect("status line");
    Http {
        status,
        content_type: header(head, "content-type").unwrap_or_default().to_string(),
        location: header(head, "location").map(str::to_string),
        body: body.to_string(),
    }
}

fn request(path: &str) -> String {
    format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
}

/// `GET path` in plain text.
pub fn get(port: u16, path: &str) -> Http {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect to monitor");
    s.set_read_timeout(Some(DEFAULT_TIMEOUT))
        .expect("read timeout");
    s.write_all(request(path).as_bytes()).expect("send request");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read response");
    parse(&raw)
}

/// `GET path` over TLS, trusting what `tls` trusts, to the name `127.0.0.1`.
pub fn get_tls(port: u16, path: &str, tls: &Arc<ClientConfig>) -> Http {
    let sock = TcpStream::connect(("127.0.0.1", port)).expect("connect to monitor");
    sock.set_read_timeout(Some(DEFAULT_TIMEOUT))
        .expect("read timeout");
    let name = ServerName::try_from("127.0.0.1").expect("server name");
    let conn = ClientConnection::new(tls.clone(), name).expect("TLS client");
    let mut stream = StreamOwned::new(conn, sock);
    stream
        .write_all(request(path).as_bytes())
        .expect("send request over TLS");
    let mut raw = Vec::new();
    match stream.read_to_end(&mut raw) {
        Ok(_) => {}
        // A peer that closes without close_notify still sent the whole answer.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {}
        Err(e) => panic!("read response over TLS: {e}"),
    }
    parse(&raw)
}

/// `GET path` as JSON (status 200 required).
pub fn json(port: u16, path: &str) -> serde_json::Value {
    let r = get(port, path);
    assert_eq!(r.status, 200, "{path}: {}", r.body);
    serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{path}: {e}: {}", r.body))
}

/// Runs `bin args` until it exits (at most `timeout`): its exit code and everything it
/// printed.
pub fn run_to_exit(bin: &std::path::Path, args: &[&str], timeout: Duration) -> (i32, String) {
    let mut child = std::process::Command::new(bin)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn server");
    let deadline = std::time::Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if std::time::Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{} {args:?} did not exit within {timeout:?}", bin.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut out = String::new();
    for stream in [
        child.stdout.take().map(|s| Box::new(s) as Box<dyn Read>),
        child.stderr.take().map(|s| Box::new(s) as Box<dyn Read>),
    ]
    .into_iter()
    .flatten()
    {
        let mut stream = stream;
        let _ = stream.read_to_string(&mut out);
    }
    (status.code().unwrap_or(-1), out)
}
