//! The monitoring documents asked over the system account with options in the request
//! body (`$SYS.REQ.SERVER.PING.CONNZ {"acc":"A","filter_subject":"s.a"}`, ...), against the
//! reference: options applied, server filters obeyed, bad requests answered with its codes.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use conformance::{our_binary, reference_binary, ServerProcess};
use serde_json::Value;

/// Longest wait for an answer.
const WAIT: Duration = Duration::from_secs(5);

const CONFIG: &str = "accounts {\n  $SYS: { users: [ {user: sys, password: sys} ] }\n  \
                      A: { users: [ {user: a, password: a} ] }\n}\n";

/// Whether `needle` occurs in `haystack`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A raw client that reads `MSG`s.
struct Client {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    fn connect(port: u16, user: &str, then: &str) -> Client {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_millis(50)))
            .expect("timeout");
        let connect = format!(
            "CONNECT {{\"verbose\":false,\"user\":\"{user}\",\"pass\":\"{user}\"}}\r\n{then}PING\r\n"
        );
        stream.write_all(connect.as_bytes()).expect("write");
        let mut c = Client {
            stream,
            buf: Vec::new(),
        };
        c.until(|b| contains(b, b"PONG\r\n"));
        c.buf.clear();
        c
    }

    fn until(&mut self, done: impl Fn(&[u8]) -> bool) {
        let deadline = Instant::now() + WAIT;
        let mut chunk = [0u8; 65536];
        while !done(&self.buf) {
            assert!(
                Instant::now() < deadline,
                "timed out; got {}",
                String::from_utf8_lossy(&self.buf)
            );
            match self.stream.read(&mut chunk) {
                Ok(0) => panic!("closed"),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(_) => {}
            }
        }
    }

    /// The JSON payloads received on `subject`.
    fn payloads(&self, subject: &str) -> Vec<Value> {
        let text = String::from_utf8_lossy(&self.buf).into_owned();
        let mut lines = text.split("\r\n");
        let mut out = Vec::new();
        while let Some(line) = lines.next() {
            if line.split(' ').nth(1) == Some(subject) && line.starts_with("MSG ") {
                let body = lines.next().unwrap_or_default();
                out.push(serde_json::from_str(body).unwrap_or(Value::Null));
            }
        }
        out
    }

    /// Sends `body` to `$SYS.REQ.SERVER.PING.<kind>` and returns the answer; with
    /// `expect_none`, checks that no answer came before the answer to a plain request sent
    /// right after it (the server answers a connection's requests in order).
    fn ask(&mut self, kind: &str, body: &str, expect_none: bool) -> Option<Value> {
        self.buf.clear();
        self.stream
            .write_all(
                format!(
                    "PUB $SYS.REQ.SERVER.PING.{kind} _INBOX.one {}\r\n{body}\r\n\
                     PUB $SYS.REQ.SERVER.PING.IDZ _INBOX.two 0\r\n\r\n",
                    body.len()
                )
                .as_bytes(),
            )
            .expect("write");
        if expect_none {
            self.until(|b| contains(b, b"MSG _INBOX.two"));
            assert!(self.payloads("_INBOX.one").is_empty(), "{kind} {body}");
            return None;
        }
        self.until(|b| contains(b, b"MSG _INBOX.one"));
        self.until(|b| {
            let text = String::from_utf8_lossy(b);
            text.split("MSG _INBOX.one")
                .nth(1)
                .is_some_and(|rest| rest.matches("\r\n").count() >= 2)
        });
        self.payloads("_INBOX.one").into_iter().next()
    }
}

/// What one server answers to each request of the scenario.
fn scenario(bin: &std::path::Path) -> Vec<(String, Value)> {
    let conf = std::env::temp_dir().join(format!("monitoring-system-{}.conf", std::process::id()));
    std::fs::write(&conf, CONFIG).expect("write config");
    let server = ServerProcess::start(bin, &["-c", &conf.display().to_string()]);
    let _a = Client::connect(server.port(), "a", "SUB s.a 1\r\nSUB t.b 2\r\n");
    let _a2 = Client::connect(server.port(), "a", "SUB u.c 1\r\n");
    let mut sys = Client::connect(server.port(), "sys", "SUB _INBOX.* 1\r\n");
    let mut out = Vec::new();
    for (kind, body) in [
        ("CONNZ", r#"{"acc":"A","filter_subject":"s.*"}"#),
        (
            "CONNZ",
            r#"{"acc":"A","filter_subject":">","subscriptions":true}"#,
        ),
        ("CONNZ", r#"{"acc":"A","limit":1,"sort":"subs"}"#),
        ("CONNZ", r#"{"filter_subject":"s.a"}"#),
        ("CONNZ", r#"{"acc":"A","sort":"bogus"}"#),
        ("SUBSZ", r#"{"subscriptions":true,"test":"t.b"}"#),
        ("ACCOUNTZ", r#"{"account":"A"}"#),
        ("ACCOUNTZ", r#"{"account":"nope"}"#),
        ("CONNZ", r#"{"limit":"x"}"#),
    ] {
        let answer = sys.ask(kind, body, false).unwrap_or(Value::Null);
        out.push((format!("{kind} {body}"), answer));
    }
    // Requests for other servers get no answer.
    for body in [
        r#"{"server_name":"no-such-server"}"#,
        r#"{"tags":["x"]}"#,
        r#"{"cluster":"no-such-cluster"}"#,
    ] {
        sys.ask("CONNZ", body, true);
    }
    drop(server);
    let _ = std::fs::remove_file(conf);
    out
}

/// The parts of an answer both servers must agree on.
fn essentials(v: &Value) -> Value {
    let data = &v["data"];
    let conns: Vec<Value> = data["connections"]
        .as_array()
        .map(|l| {
            l.iter()
                .map(|c| {
                    let mut subs: Vec<Value> = c["subscriptions_list"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default();
                    subs.sort_by_key(Value::to_string);
                    serde_json::json!({"subscriptions": c["subscriptions"], "list": subs})
                })
                .collect()
        })
        .unwrap_or_default();
    serde_json::json!({
        "error_code": v["error"]["code"],
        "num_connections": data["num_connections"],
        "total": data["total"],
        "connections": conns,
        "subs_total": data["total"],
        "subjects": data["subscriptions_list"].as_array().map(|l| l.iter().map(|s| s["subject"].clone()).collect::<Vec<_>>()),
        "account": data["account_detail"]["account_name"],
        "clients": data["account_detail"]["client_connections"],
    })
}

#[test]
fn request_options_match_the_reference() {
    let reference = scenario(&reference_binary());
    let ours = scenario(&our_binary());
    let mut failures = Vec::new();
    for ((what, r), (_, o)) in reference.iter().zip(&ours) {
        if essentials(r) != essentials(o) {
            failures.push(format!(
                "{what}:\n  reference {}\n  ours      {}\n  (full reference {r})\n  (full ours {o})",
                essentials(r),
                essentials(o)
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    // What the reference answered, so the comparison above is not between two empty sets.
    let e: Vec<Value> = reference.iter().map(|(_, v)| essentials(v)).collect();
    assert_eq!(
        (&e[0]["num_connections"], &e[0]["total"]),
        (&1.into(), &2.into())
    );
    assert_eq!(e[1]["num_connections"], 2);
    assert_eq!(e[2]["connections"][0]["subscriptions"], 2);
    assert_eq!(e[5]["subjects"], serde_json::json!(["t.b"]));
    assert_eq!(
        (&e[6]["account"], &e[6]["clients"]),
        (&"A".into(), &2.into())
    );
    for (i, code) in [(3, 500), (4, 500), (7, 500), (8, 400)] {
        assert_eq!(e[i]["error_code"], code, "{}", reference[i].0);
    }
    // The filter error is worded as the reference words it.
    let (_, r) = &reference[3];
    let (_, o) = &ours[3];
    assert_eq!(r["error"]["description"], o["error"]["description"]);
    assert_eq!(r["error"]["code"], 500, "{r}");
}
