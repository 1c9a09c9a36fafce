//! The system account against the reference: the documents the server publishes for
//! `$SYS.REQ.SERVER.*` requests and the client CONNECT/DISCONNECT advisories have the same
//! JSON keys (values differ by nature: ids, times, memory).

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use conformance::{our_binary, reference_binary, ServerProcess};
use serde_json::Value;

const CONFIG: &str = "security/system.conf";

/// A raw client that collects `MSG` payloads.
struct Client {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    fn connect(port: u16, user: &str) -> Client {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_millis(100)))
            .expect("timeout");
        let connect = format!(
            "CONNECT {{\"verbose\":false,\"user\":\"{user}\",\"pass\":\"{user}\",\"name\":\"n\",\"lang\":\"rust\",\"version\":\"1\"}}\r\nPING\r\n"
        );
        stream.write_all(connect.as_bytes()).expect("write");
        let mut c = Client {
            stream,
            buf: Vec::new(),
        };
        c.wait_for(b"PONG\r\n");
        c.buf.clear();
        c
    }

    fn send(&mut self, s: &str) {
        self.stream.write_all(s.as_bytes()).expect("write");
    }

    /// Reads until `needle` appears (bounded).
    fn wait_for(&mut self, needle: &[u8]) {
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut chunk = [0u8; 65536];
        while !self.buf.windows(needle.len()).any(|w| w == needle) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {needle:?}"
            );
            match self.stream.read(&mut chunk) {
                Ok(0) => panic!("closed"),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(_) => {}
            }
        }
    }

    /// The JSON payloads of the `MSG`s received on `subject` so far (after a PING/PONG).
    fn payloads_on(&mut self, subject: &str) -> Vec<Value> {
        let pongs = |b: &[u8]| b.windows(6).filter(|w| w == b"PONG\r\n").count();
        let before = pongs(&self.buf);
        self.send("PING\r\n");
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut chunk = [0u8; 65536];
        while pongs(&self.buf) == before {
            assert!(Instant::now() < deadline, "timed out waiting for PONG");
            match self.stream.read(&mut chunk) {
                Ok(0) => panic!("closed"),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(_) => {}
            }
        }
        let text = String::from_utf8_lossy(&self.buf).into_owned();
        let mut out = Vec::new();
        let mut lines = text.split("\r\n");
        while let Some(line) = lines.next() {
            if line.starts_with(&format!("MSG {subject} ")) {
                if let Some(body) = lines.next() {
                    out.push(serde_json::from_str(body).expect("JSON payload"));
                }
            }
        }
        out
    }
}

/// Every key path of a JSON value (arrays collapsed to `[]`).
fn key_paths(v: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                let p = format!("{prefix}.{k}");
                out.insert(p.clone());
                key_paths(v, &p, out);
            }
        }
        Value::Array(a) => {
            for v in a {
                key_paths(v, &format!("{prefix}[]"), out);
            }
        }
        _ => {}
    }
}

/// What one server publishes for the scenario: advisories and request answers.
fn scenario(bin: &std::path::Path) -> Vec<(String, BTreeSet<String>)> {
    let server = ServerProcess::start(bin, &["-c", CONFIG]);
    let mut sys = Client::connect(server.port(), "sys");
    sys.send(
        "SUB $SYS.ACCOUNT.A.CONNECT 1\r\nSUB $SYS.ACCOUNT.A.DISCONNECT 2\r\nSUB _INBOX.r 3\r\n",
    );
    // The subscriptions are in place (PING answered) before the client comes and goes.
    assert!(sys.payloads_on("none").is_empty());
    let a = Client::connect(server.port(), "a");
    drop(a);
    // The reference publishes advisories from another goroutine: wait for the last one.
    sys.wait_for(b"MSG $SYS.ACCOUNT.A.DISCONNECT ");
    let mut out = Vec::new();
    for subject in ["$SYS.ACCOUNT.A.CONNECT", "$SYS.ACCOUNT.A.DISCONNECT"] {
        let docs = sys.payloads_on(subject);
        assert_eq!(docs.len(), 1, "{subject} on {}", bin.display());
        let mut keys = BTreeSet::new();
        key_paths(&docs[0], "", &mut keys);
        out.push((subject.to_string(), keys));
    }
    for req in [
        "PING",
        "PING.STATSZ",
        "PING.IDZ",
        "PING.HEALTHZ",
        "PING.ROUTEZ",
    ] {
        sys.buf.clear();
        sys.send(&format!("PUB $SYS.REQ.SERVER.{req} _INBOX.r 0\r\n\r\n"));
        // The reference answers from another goroutine: wait for the answer itself.
        sys.wait_for(b"MSG _INBOX.r ");
        let docs = sys.payloads_on("_INBOX.r");
        assert_eq!(
            docs.len(),
            1,
            "{req} on {}: {}",
            bin.display(),
            String::from_utf8_lossy(&sys.buf)
        );
        let mut keys = BTreeSet::new();
        key_paths(&docs[0], "", &mut keys);
        out.push((req.to_string(), keys));
    }
    out
}

#[test]
fn system_documents_have_the_reference_keys() {
    let ours = scenario(&our_binary());
    let reference = scenario(&reference_binary());
    let mut problems = Vec::new();
    for ((name, o), (_, r)) in ours.iter().zip(&reference) {
        let missing: Vec<_> = r.difference(o).collect();
        let extra: Vec<_> = o.difference(r).collect();
        if !missing.is_empty() || !extra.is_empty() {
            problems.push(format!("{name}: missing {missing:?}, extra {extra:?}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn other_accounts_cannot_ask_the_server() {
    let server = ServerProcess::start(&our_binary(), &["-c", CONFIG]);
    let mut a = Client::connect(server.port(), "a");
    a.send("SUB _INBOX.r 1\r\nPUB $SYS.REQ.SERVER.PING _INBOX.r 0\r\n\r\n");
    assert!(a.payloads_on("_INBOX.r").is_empty());
}
