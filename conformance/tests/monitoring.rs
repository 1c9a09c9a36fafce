//! HTTP monitoring: differential tests against the reference server (same situation, same
//! requests; the JSON documents must have the same keys with the same JSON types at every
//! level, and the same values where values do not differ by nature), plus exact counter
//! checks on our server.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use conformance::normalize::type_name;
use conformance::raw::{RawClient, DEFAULT_TIMEOUT};
use conformance::server::free_port;
use conformance::{our_binary, reference_binary, ServerProcess};
use serde_json::Value;

/// Messages the publisher sends, and their payload size.
const N: usize = 7;
const B: usize = 11;

/// How long to wait for a connection to show up among the closed ones.
const CLOSE_WAIT: Duration = Duration::from_secs(5);

/// An HTTP answer.
#[derive(Debug)]
struct Http {
    status: u16,
    content_type: String,
    body: String,
}

/// `GET path` with HTTP/1.0 (the body ends at end of stream; no chunking).
fn get(port: u16, path: &str) -> Http {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect to monitor");
    s.set_read_timeout(Some(DEFAULT_TIMEOUT))
        .expect("read timeout");
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").expect("send request");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read response");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("header end");
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .expect("status line");
    let content_type = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default();
    Http {
        status,
        content_type,
        body: body.to_string(),
    }
}

fn json(port: u16, path: &str) -> Value {
    let r = get(port, path);
    assert_eq!(r.status, 200, "{path}: {}", r.body);
    serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{path}: {e}: {}", r.body))
}

fn sync(c: &mut RawClient) {
    let got = c.sync(1, DEFAULT_TIMEOUT).expect("sync");
    assert!(!got.closed && !got.timed_out, "{got:?}");
}

/// A server with monitoring and the standard situation: a subscriber on `foo` and `bar.*`
/// (queue `q`), a publisher that sent `N` messages of `B` bytes to `foo`, and one closed
/// connection that held two subscriptions. The clients stay open while the value lives.
struct Situation {
    server: ServerProcess,
    http: u16,
    _clients: Vec<RawClient>,
}

fn situation(bin: &std::path::Path) -> Situation {
    let http = free_port();
    let server = ServerProcess::start(bin, &["-m", &http.to_string()]);
    let addr = server.addr();
    let mut sub = RawClient::connect(&addr).expect("connect");
    sub.send(
        b"CONNECT {\"verbose\":false,\"pedantic\":false,\"name\":\"subber\",\"lang\":\"rust\",\"version\":\"1.0\"}\r\n\
          SUB foo 1\r\nSUB bar.* q 2\r\n",
    )
    .expect("send");
    sync(&mut sub);
    let mut publisher = RawClient::connect(&addr).expect("connect");
    let mut batch = b"CONNECT {\"verbose\":false,\"pedantic\":false}\r\n".to_vec();
    for _ in 0..N {
        batch.extend_from_slice(format!("PUB foo {B}\r\n{}\r\n", "x".repeat(B)).as_bytes());
    }
    publisher.send(&batch).expect("send");
    sync(&mut publisher);
    sync(&mut sub);
    let mut gone = RawClient::connect(&addr).expect("connect");
    gone.send(b"CONNECT {\"verbose\":false}\r\nSUB gone.> 9\r\nSUB gone.q work 10\r\n")
        .expect("send");
    sync(&mut gone);
    let gone = gone.into_stream();
    let gone_port = gone.local_addr().expect("local address").port();
    drop(gone);
    let deadline = Instant::now() + CLOSE_WAIT;
    loop {
        let closed = json(http, "/connz?state=closed");
        let listed = closed["connections"]
            .as_array()
            .is_some_and(|l| l.iter().any(|c| c["port"] == gone_port));
        if listed {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{}: closed connection not listed: {closed}",
            bin.display()
        );
        thread::sleep(Duration::from_millis(20));
    }
    Situation {
        server,
        http,
        _clients: vec![sub, publisher],
    }
}

/// Sorts arrays of objects that have a `subject` (or an `acc`) by it, and arrays of strings:
/// the reference lists them in hash-map order.
fn canonical(v: &Value) -> Value {
    match v {
        Value::Array(items) => {
            let mut items: Vec<Value> = items.iter().map(canonical).collect();
            if items.iter().all(|i| i.get("subject").is_some()) {
                items.sort_by_key(|i| i["subject"].to_string());
            } else if items.iter().all(|i| i.get("acc").is_some()) {
                items.sort_by_key(|i| i["acc"].to_string());
            } else if items.iter().all(Value::is_string) {
                items.sort_by_key(Value::to_string);
            }
            Value::Array(items)
        }
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), canonical(v))).collect())
        }
        other => other.clone(),
    }
}

/// Differences between two documents: missing or extra keys and different JSON types at any
/// level (arrays element by element), and different values for keys named in `exact`.
/// Paths in `masked` (dotted, `[]` for array elements) are skipped.
fn shape_diff(
    path: &str,
    reference: &Value,
    ours: &Value,
    exact: &[&str],
    masked: &[&str],
    out: &mut Vec<String>,
) {
    if masked.contains(&path) {
        return;
    }
    if type_name(reference) != type_name(ours) {
        out.push(format!(
            "{path}: reference {} {reference}, ours {} {ours}",
            type_name(reference),
            type_name(ours)
        ));
        return;
    }
    let key = path.rsplit('.').next().unwrap_or(path);
    if exact.contains(&key) && !reference.is_object() && reference != ours {
        out.push(format!("{path}: reference {reference}, ours {ours}"));
    }
    match (reference, ours) {
        (Value::Object(r), Value::Object(o)) => {
            let rk: BTreeSet<&String> = r.keys().collect();
            let ok: BTreeSet<&String> = o.keys().collect();
            for k in rk.difference(&ok) {
                if !masked.contains(&format!("{path}.{k}").as_str()) {
                    out.push(format!("{path}.{k}: missing in ours"));
                }
            }
            for k in ok.difference(&rk) {
                if !masked.contains(&format!("{path}.{k}").as_str()) {
                    out.push(format!("{path}.{k}: not in the reference"));
                }
            }
            for k in rk.intersection(&ok) {
                let p = format!("{path}.{k}");
                shape_diff(&p, &r[k.as_str()], &o[k.as_str()], exact, masked, out);
            }
        }
        (Value::Array(r), Value::Array(o)) => {
            if r.len() != o.len() {
                out.push(format!(
                    "{path}: reference has {} entries, ours {}",
                    r.len(),
                    o.len()
                ));
            }
            for (rv, ov) in r.iter().zip(o) {
                shape_diff(&format!("{path}[]"), rv, ov, exact, masked, out);
            }
        }
        _ => {}
    }
}

/// One request of the differential suite.
struct Case {
    path: &'static str,
    /// Keys whose values must be equal wherever they appear.
    exact: &'static [&'static str],
    /// Paths not compared at all.
    masked: &'static [&'static str],
}

/// Connection fields equal on both servers in the situation.
const CONN_EXACT: &[&str] = &[
    "num_connections",
    "total",
    "offset",
    "limit",
    "kind",
    "type",
    "ip",
    "pending_bytes",
    "in_msgs",
    "out_msgs",
    "in_bytes",
    "out_bytes",
    "subscriptions",
    "name",
    "lang",
    "version",
    "reason",
    "subscriptions_list",
    "subject",
    "qgroup",
    "sid",
    "msgs",
    "name_tag",
];

/// Connection fields equal on both servers, and the account of subscriptions (closed
/// connections list theirs with it).
const CLOSED_SUBS_EXACT: &[&str] = &[
    "num_connections",
    "total",
    "kind",
    "type",
    "ip",
    "in_msgs",
    "out_msgs",
    "subscriptions",
    "reason",
    "subscriptions_list",
    "account",
    "account_tag",
    "subject",
    "qgroup",
    "sid",
    "msgs",
];

const VARZ_EXACT: &[&str] = &[
    "version",
    "proto",
    "host",
    "max_connections",
    "ping_interval",
    "ping_max",
    "http_host",
    "http_base_path",
    "https_port",
    "auth_timeout",
    "max_control_line",
    "max_payload",
    "max_pending",
    "tls_timeout",
    "write_deadline",
    "connections",
    "total_connections",
    "routes",
    "remotes",
    "leafnodes",
    "in_msgs",
    "in_bytes",
    "in_client_msgs",
    "in_client_bytes",
    "out_msgs",
    "out_bytes",
    "out_client_msgs",
    "out_client_bytes",
    "slow_consumers",
    "stale_connections",
    "config_digest",
    "feature_flags",
    "system_account",
    "slow_consumer_stats",
    "stale_connection_stats",
    "disk_io_wait_stats",
];

const CASES: &[Case] = &[
    Case {
        path: "/varz",
        exact: VARZ_EXACT,
        // Request counts depend on the order tests ask in; the rest differ by nature.
        masked: &[".http_req_stats"],
    },
    Case {
        path: "/connz",
        exact: CONN_EXACT,
        masked: &[],
    },
    Case {
        path: "/connz?subs=1",
        exact: CONN_EXACT,
        masked: &[],
    },
    Case {
        path: "/connz?subs=detail&sort=msgs_to",
        exact: CONN_EXACT,
        masked: &[],
    },
    Case {
        path: "/connz?state=closed",
        exact: CONN_EXACT,
        // What was still unwritten when a socket closed depends on timing.
        masked: &[".connections[].pending_bytes"],
    },
    Case {
        // Closed connections keep the subscriptions they held.
        path: "/connz?state=closed&subs=1",
        exact: CLOSED_SUBS_EXACT,
        masked: &[".connections[].pending_bytes"],
    },
    Case {
        path: "/connz?state=closed&subs=detail",
        exact: CLOSED_SUBS_EXACT,
        masked: &[".connections[].pending_bytes"],
    },
    Case {
        path: "/connz?state=all&sort=msgs_to&limit=1&offset=0",
        exact: CONN_EXACT,
        masked: &[],
    },
    Case {
        path: "/connz?auth=1&acc=$G",
        exact: CONN_EXACT,
        masked: &[],
    },
    Case {
        path: "/connz?acc=unknown",
        exact: CONN_EXACT,
        masked: &[],
    },
    Case {
        path: "/connz?user=nobody",
        exact: CONN_EXACT,
        masked: &[],
    },
    Case {
        path: "/routez",
        exact: &["num_routes", "routes"],
        masked: &[],
    },
    Case {
        path: "/routez?subs=1",
        exact: &["num_routes", "routes"],
        masked: &[],
    },
    Case {
        path: "/gatewayz",
        exact: &["outbound_gateways", "inbound_gateways"],
        masked: &[],
    },
    Case {
        path: "/leafz",
        exact: &["leafnodes", "leafs"],
        masked: &[],
    },
    Case {
        path: "/subsz",
        exact: &["total", "offset", "limit"],
        masked: &[],
    },
    Case {
        path: "/subsz?subs=1&test=foo",
        exact: &["total", "account", "account_tag", "subject", "sid", "msgs"],
        masked: &[],
    },
    Case {
        path: "/subsz?subs=1&test=bar.x&limit=5",
        exact: &["total", "limit", "subject", "qgroup", "sid", "msgs"],
        masked: &[],
    },
    Case {
        path: "/accountz",
        exact: &["system_account", "accounts"],
        masked: &[],
    },
    Case {
        // The reference's global account imports its system services; ours has none.
        path: "/accountz?acc=$G",
        exact: &[
            "system_account",
            "account_name",
            "expired",
            "complete",
            "jetstream_enabled",
            "leafnode_connections",
            "client_connections",
            "name_tag",
        ],
        masked: &[".account_detail.imports"],
    },
    Case {
        path: "/accstatz",
        exact: &[
            "acc",
            "name",
            "conns",
            "leafnodes",
            "total_conns",
            "sent",
            "received",
            "slow_consumers",
        ],
        masked: &[],
    },
    Case {
        path: "/accstatz?unused=1",
        exact: &["acc", "name", "conns", "leafnodes", "total_conns"],
        masked: &[],
    },
    Case {
        path: "/healthz",
        exact: &["status", "error"],
        masked: &[],
    },
    Case {
        path: "/healthz?js-enabled-only=true",
        exact: &["status", "error"],
        masked: &[],
    },
    Case {
        path: "/healthz?js-server-only=1&details=true",
        exact: &["status", "error"],
        masked: &[],
    },
];

/// Requests the reference answers with an error: status, content type and body must match.
const ERROR_PATHS: &[&str] = &[
    "/connz?sort=bogus",
    "/connz?sort=stop",
    "/connz?state=all&sort=reason",
    "/connz?limit=abc",
    "/connz?offset=99999999999999999999",
    "/connz?subs=maybe",
    "/connz?cid=-1",
    "/connz?state=bogus",
    "/subsz?test=foo.*",
    "/subsz?subs=detail",
    "/accountz?acc=nope",
    "/accstatz?unused=x",
    "/healthz?stream=s",
    "/healthz?stream=s&details=1",
    "/healthz?consumer=c&account=a",
    "/healthz?details=x",
    "/no-such-endpoint",
    "/varz/",
];

#[test]
fn documents_match_the_reference() {
    let reference = situation(&reference_binary());
    let ours = situation(&our_binary());
    let mut failures = Vec::new();
    for case in CASES {
        let r = canonical(&json(reference.http, case.path));
        let o = canonical(&json(ours.http, case.path));
        let mut diffs = Vec::new();
        shape_diff("", &r, &o, case.exact, case.masked, &mut diffs);
        if !diffs.is_empty() {
            failures.push(format!("{}: reference {r}\n ours {o}", case.path));
        }
        for d in diffs {
            failures.push(format!("{}: {d}", case.path));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    drop(reference.server);
    drop(ours.server);
}

#[test]
fn errors_match_the_reference() {
    let reference = situation(&reference_binary());
    let ours = situation(&our_binary());
    let mut failures = Vec::new();
    for path in ERROR_PATHS {
        let r = get(reference.http, path);
        let o = get(ours.http, path);
        if (r.status, &r.content_type, &r.body) != (o.status, &o.content_type, &o.body) {
            failures.push(format!("{path}:\n  reference {r:?}\n  ours      {o:?}"));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn headers_match_the_reference() {
    let reference = situation(&reference_binary());
    let ours = situation(&our_binary());
    for path in ["/varz", "/connz", "/healthz", "/"] {
        let r = get(reference.http, path);
        let o = get(ours.http, path);
        assert_eq!(r.status, o.status, "{path}");
        assert_eq!(r.content_type, o.content_type, "{path}");
    }
    // 2.15 serves no JSONP: `callback=` changes nothing.
    for path in ["/healthz?callback=cb", "/healthz?stream=s&callback=cb"] {
        let (r, o) = (get(reference.http, path), get(ours.http, path));
        assert_eq!(
            (r.status, &r.content_type, &r.body),
            (o.status, &o.content_type, &o.body),
            "{path}"
        );
    }
    let index = get(ours.http, "/").body;
    for endpoint in ["varz", "connz", "subsz", "routez", "healthz", "metrics"] {
        assert!(index.contains(&format!("./{endpoint}")), "{index}");
    }
}

/// The counters of the situation, exactly, on our server.
#[test]
fn counters_are_exact() {
    let s = situation(&our_binary());
    let (msgs, bytes) = (N as u64, (N * B) as u64);
    let varz = json(s.http, "/varz");
    assert_eq!(varz["in_msgs"], msgs, "{varz}");
    assert_eq!(varz["in_bytes"], bytes);
    assert_eq!(varz["out_msgs"], msgs);
    assert_eq!(varz["out_bytes"], bytes);
    assert_eq!(varz["connections"], 2);
    // The harness's readiness probe, the subscriber, the publisher and the closed one.
    assert_eq!(varz["total_connections"], 4);
    assert_eq!(varz["subscriptions"], 2);
    assert_eq!(varz["port"], s.server.port());
    assert_eq!(varz["http_port"], s.http);

    let connz = json(s.http, "/connz?subs=detail");
    let conns = connz["connections"].as_array().expect("connections");
    assert_eq!(conns.len(), 2, "{connz}");
    let subscriber = &conns[0];
    assert_eq!(subscriber["name"], "subber");
    assert_eq!(subscriber["out_msgs"], msgs);
    assert_eq!(subscriber["out_bytes"], bytes);
    assert_eq!(subscriber["in_msgs"], 0);
    assert_eq!(subscriber["subscriptions"], 2);
    let detail = subscriber["subscriptions_list_detail"]
        .as_array()
        .expect("detail");
    let foo = detail.iter().find(|d| d["subject"] == "foo").expect("foo");
    assert_eq!(foo["msgs"], msgs);
    assert_eq!(foo["sid"], "1");
    let publisher = &conns[1];
    assert_eq!(publisher["in_msgs"], msgs);
    assert_eq!(publisher["in_bytes"], bytes);
    assert_eq!(publisher["out_msgs"], 0);

    // Sorting descends on counters; paging cuts after sorting.
    let by_in = json(s.http, "/connz?sort=msgs_from&limit=1");
    assert_eq!(by_in["connections"][0]["in_msgs"], msgs, "{by_in}");
    assert_eq!(by_in["total"], 2);
    assert_eq!(by_in["num_connections"], 1);
    let one = json(s.http, &format!("/connz?cid={}", publisher["cid"]));
    assert_eq!(one["connections"][0]["cid"], publisher["cid"]);
    assert_eq!(one["limit"], 1);
    let closed = json(s.http, "/connz?state=closed");
    assert_eq!(closed["connections"][0]["in_msgs"], 0, "{closed}");
    assert!(closed["connections"][0]["stop"].is_string(), "{closed}");

    let accstatz = json(s.http, "/accstatz");
    let g = &accstatz["account_statz"][0];
    assert_eq!(g["acc"], "$G");
    assert_eq!(g["received"]["msgs"], msgs);
    assert_eq!(g["sent"]["bytes"], bytes);

    let subsz = json(s.http, "/subsz?subs=1");
    assert_eq!(subsz["num_subscriptions"], 2);
    assert_eq!(subsz["total"], 2);

    let metrics = get(s.http, "/metrics");
    assert_eq!(metrics.status, 200);
    assert!(metrics
        .content_type
        .starts_with("text/plain; version=0.0.4"));
    let id = varz["server_id"].as_str().expect("server_id");
    for line in [
        format!("gnatsd_varz_in_msgs{{server_id=\"{id}\"}} {msgs}"),
        format!("gnatsd_varz_out_bytes{{server_id=\"{id}\"}} {bytes}"),
        format!("gnatsd_varz_connections{{server_id=\"{id}\"}} 2"),
        format!("gnatsd_varz_subscriptions{{server_id=\"{id}\"}} 2"),
        format!("gnatsd_accstatz_received_messages{{server_id=\"{id}\",account=\"$G\"}} {msgs}"),
        "# TYPE gnatsd_varz_in_msgs counter".to_string(),
    ] {
        assert!(
            metrics.body.lines().any(|l| l == line),
            "missing {line:?} in\n{}",
            metrics.body
        );
    }
    // Every sample line is `name{labels} value` with a numeric value.
    for l in metrics.body.lines().filter(|l| !l.starts_with('#')) {
        let value = l.rsplit(' ').next().unwrap_or_default();
        assert!(value.parse::<f64>().is_ok(), "bad sample {l:?}");
    }
}

#[test]
fn ports_file_lists_the_monitoring_url() {
    let mut files = Vec::new();
    for bin in [reference_binary(), our_binary()] {
        let dir = std::env::temp_dir().join(format!(
            "monitoring-ports-{}-{}",
            std::process::id(),
            files.len()
        ));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let http = free_port();
        let server = ServerProcess::start(
            &bin,
            &[
                "-m",
                &http.to_string(),
                "--ports_file_dir",
                &dir.to_string_lossy(),
            ],
        );
        let path = dir.join(format!(
            "{}_{}.ports",
            bin.file_stem()
                .map(|s| s.to_string_lossy())
                .unwrap_or_default(),
            server.pid()
        ));
        let text = conformance::server::wait_for_json_file(&path);
        let doc: Value = serde_json::from_str(&text).expect("ports JSON");
        assert_eq!(
            doc["monitoring"][0],
            format!("http://127.0.0.1:{http}"),
            "{text}"
        );
        assert_eq!(doc["nats"][0], server.url(), "{text}");
        drop(server);
        let _ = std::fs::remove_dir_all(&dir);
        files.push(text);
    }
}

#[test]
fn monitor_port_in_use_is_fatal_like_the_reference() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port().to_string();
    for bin in [reference_binary(), our_binary()] {
        let out = conformance::server::run_to_completion(
            &bin,
            &["-a", "127.0.0.1", "-p", "-1", "-m", &port],
            Duration::from_secs(10),
        )
        .expect("exits");
        assert!(
            out.contains(&format!(
                "Can't start monitoring: can't listen to the monitor port: listen tcp 127.0.0.1:{port}: bind: address already in use"
            )),
            "{}: {out}",
            bin.display()
        );
    }
}

/// Reads from `s` until `needle` arrived; panics after `wait`.
fn read_until(s: &mut TcpStream, needle: &[u8], wait: Duration) -> Vec<u8> {
    let deadline = Instant::now() + wait;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.windows(needle.len()).any(|w| w == needle) {
        assert!(
            Instant::now() < deadline,
            "no {:?} within {wait:?}; got {:?}",
            String::from_utf8_lossy(needle),
            String::from_utf8_lossy(&got)
        );
        s.set_read_timeout(Some(Duration::from_millis(100)))
            .expect("read timeout");
        match s.read(&mut buf) {
            Ok(0) => panic!("closed; got {:?}", String::from_utf8_lossy(&got)),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => panic!("read: {e}"),
        }
    }
    got
}

/// Parses Go's `time.Duration` text as the reference writes `rtt` (`"831µs"`,
/// `"5.129427ms"`, `"1.5s"`, `"0s"`): a decimal number and one unit.
fn go_duration(text: &str) -> Option<Duration> {
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().ok()?;
    let nanos_per = match unit {
        "ns" => 1.0,
        "µs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        _ => return None,
    };
    Some(Duration::from_nanos((value * nanos_per) as u64))
}

/// The `rtt` of the connection from local port `port`, parsed.
fn rtt_of(http: u16, port: u16) -> (String, Duration) {
    let connz = json(http, "/connz");
    let conn = connz["connections"]
        .as_array()
        .and_then(|l| l.iter().find(|c| c["port"] == port))
        .unwrap_or_else(|| panic!("connection {port} not listed: {connz}"))
        .clone();
    let text = conn["rtt"].as_str().expect("rtt text").to_string();
    let d = go_duration(&text).unwrap_or_else(|| panic!("rtt {text:?} is not a Go duration"));
    (text, d)
}

/// How long the client below waits before answering the server's PING: the round-trip time
/// measured from that PING cannot be shorter.
const PONG_DELAY: Duration = Duration::from_millis(300);

/// On both servers: CONNECT gives a first round-trip estimate (non-zero, in Go's duration
/// format); the server's first keepalive PING is answered late, and the PONG re-measures it.
#[test]
fn rtt_is_measured_like_the_reference() {
    for bin in [reference_binary(), our_binary()] {
        let http = free_port();
        let server = ServerProcess::start(&bin, &["-m", &http.to_string()]);
        let mut s = TcpStream::connect(server.addr()).expect("connect");
        read_until(&mut s, b"\r\n", DEFAULT_TIMEOUT);
        s.write_all(b"CONNECT {\"verbose\":false,\"lang\":\"rust\",\"protocol\":1}\r\nPING\r\n")
            .expect("send");
        read_until(&mut s, b"PONG\r\n", DEFAULT_TIMEOUT);
        let port = s.local_addr().expect("local address").port();
        let (text, first) = rtt_of(http, port);
        assert!(first > Duration::ZERO, "{}: rtt {text:?}", bin.display());
        // The first keepalive PING comes about 2 s after connecting, on both servers.
        read_until(&mut s, b"PING\r\n", Duration::from_secs(10));
        thread::sleep(PONG_DELAY);
        s.write_all(b"PONG\r\nPING\r\n").expect("send");
        read_until(&mut s, b"PONG\r\n", DEFAULT_TIMEOUT);
        let (text, measured) = rtt_of(http, port);
        assert!(
            measured >= PONG_DELAY,
            "{}: rtt {text:?} after a PONG sent {PONG_DELAY:?} after the PING",
            bin.display()
        );
        assert!(text.ends_with("ms") || text.ends_with('s'), "{text}");
        // A second client: `sort=rtt` lists the larger round-trip time first.
        let mut other = TcpStream::connect(server.addr()).expect("connect");
        read_until(&mut other, b"\r\n", DEFAULT_TIMEOUT);
        other
            .write_all(b"CONNECT {\"verbose\":false}\r\nPING\r\n")
            .expect("send");
        read_until(&mut other, b"PONG\r\n", DEFAULT_TIMEOUT);
        let sorted = json(http, "/connz?sort=rtt");
        let rtts: Vec<Duration> = sorted["connections"]
            .as_array()
            .expect("connections")
            .iter()
            .map(|c| go_duration(c["rtt"].as_str().unwrap_or_default()).expect("rtt"))
            .collect();
        assert_eq!(rtts.len(), 2, "{sorted}");
        assert!(rtts[0] >= rtts[1], "{}: {sorted}", bin.display());
        drop(server);
    }
}

/// Users in two accounts, on either server: `a` in `A` and `g` in `$G`, each subscribed,
/// plus a closed connection of `a` that held a subscription.
fn accounts_situation(bin: &std::path::Path) -> (ServerProcess, u16, Vec<TcpStream>) {
    let http = free_port();
    let conf = std::env::temp_dir().join(format!(
        "monitoring-accounts-{http}-{}.conf",
        std::process::id()
    ));
    std::fs::write(
        &conf,
        "accounts {\n  A: { users: [ {user: a, password: a} ] }\n}\n\
         authorization { users: [ {user: g, password: g} ] }\n",
    )
    .expect("write config");
    let server = ServerProcess::start(
        bin,
        &["-c", &conf.display().to_string(), "-m", &http.to_string()],
    );
    let login = |user: &str, sub: &str| {
        let mut s = TcpStream::connect(server.addr()).expect("connect");
        read_until(&mut s, b"\r\n", DEFAULT_TIMEOUT);
        s.write_all(
            format!(
                "CONNECT {{\"verbose\":false,\"user\":\"{user}\",\"pass\":\"{user}\",\"name\":\"n{sub}\"}}\r\nSUB {sub} 1\r\nPING\r\n"
            )
            .as_bytes(),
        )
        .expect("send");
        read_until(&mut s, b"PONG\r\n", DEFAULT_TIMEOUT);
        s
    };
    let open = vec![login("a", "s.a"), login("g", "s.g")];
    let gone = login("a", "c.a");
    let gone_port = gone.local_addr().expect("local address").port();
    drop(gone);
    let deadline = Instant::now() + CLOSE_WAIT;
    while !json(http, "/connz?state=closed")["connections"]
        .as_array()
        .is_some_and(|l| l.iter().any(|c| c["port"] == gone_port))
    {
        assert!(Instant::now() < deadline, "closed connection not listed");
        thread::sleep(Duration::from_millis(20));
    }
    let _ = std::fs::remove_file(conf);
    (server, http, open)
}

#[test]
fn accounts_and_users_match_the_reference() {
    let (reference, rh, _r) = accounts_situation(&reference_binary());
    let (ours, oh, _o) = accounts_situation(&our_binary());
    let exact: &[&str] = &[
        "num_connections",
        "total",
        "name",
        "authorized_user",
        "account",
        "name_tag",
        "subscriptions_list",
        "subject",
        "account_tag",
        "reason",
    ];
    let mut failures = Vec::new();
    for path in [
        "/connz?auth=1",
        "/connz?acc=A&auth=1",
        "/connz?acc=$G",
        "/connz?user=a",
        "/connz?user=g&state=all&auth=1",
        "/connz?state=closed&acc=A&auth=1&subs=detail",
        "/connz?state=closed&acc=$G",
        "/connz?state=closed&auth=1&subs=1",
    ] {
        let r = canonical(&json(rh, path));
        let o = canonical(&json(oh, path));
        let mut diffs = Vec::new();
        shape_diff(
            "",
            &r,
            &o,
            exact,
            &[".connections[].pending_bytes"],
            &mut diffs,
        );
        if !diffs.is_empty() {
            failures.push(format!("{path}: reference {r}\n ours {o}"));
        }
        failures.extend(diffs.into_iter().map(|d| format!("{path}: {d}")));
    }
    // Every account is listed; each one's detail counts its own connections.
    let names = |v: &Value| canonical(&v["accounts"]);
    assert_eq!(names(&json(rh, "/accountz")), names(&json(oh, "/accountz")));
    for key in ["client_connections", "is_system", "account_name"] {
        let (r, o) = (json(rh, "/accountz?acc=A"), json(oh, "/accountz?acc=A"));
        if r["account_detail"][key] != o["account_detail"][key] {
            failures.push(format!("/accountz?acc=A {key}: reference {r}\n ours {o}"));
        }
    }
    let accstat = |h: u16| -> Vec<(Value, Value)> {
        let v = json(h, "/accstatz");
        let mut list: Vec<(Value, Value)> = v["account_statz"]
            .as_array()
            .map(|l| {
                l.iter()
                    .map(|a| (a["acc"].clone(), a["conns"].clone()))
                    .collect()
            })
            .unwrap_or_default();
        list.sort_by_key(|(a, _)| a.to_string());
        list
    };
    assert_eq!(
        accstat(rh),
        accstat(oh),
        "/accstatz accounts and connections"
    );
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    drop(reference);
    drop(ours);
}

/// `/varz` identifies the configuration file in force by its digest, before and after a
/// reload (SIGHUP), as the reference does; the reload moves `config_load_time` past `start`.
#[cfg(unix)]
#[test]
fn config_digest_follows_reloads_like_the_reference() {
    let mut digests = Vec::new();
    for bin in [reference_binary(), our_binary()] {
        let http = free_port();
        let conf = std::env::temp_dir().join(format!(
            "monitoring-digest-{http}-{}.conf",
            std::process::id()
        ));
        std::fs::write(&conf, "max_payload: 2048\n").expect("write config");
        let server = ServerProcess::start(
            &bin,
            &["-c", &conf.display().to_string(), "-m", &http.to_string()],
        );
        let before = json(http, "/varz");
        assert_eq!(before["config_load_time"], before["start"], "{before}");
        std::fs::write(&conf, "max_payload: 4096\n").expect("rewrite config");
        let status = std::process::Command::new("kill")
            .args(["-HUP", &server.pid().to_string()])
            .status()
            .expect("kill -HUP");
        assert!(status.success());
        let deadline = Instant::now() + CLOSE_WAIT;
        let after = loop {
            let v = json(http, "/varz");
            if v["max_payload"] == 4096 {
                break v;
            }
            assert!(
                Instant::now() < deadline,
                "{}: not reloaded: {v}",
                bin.display()
            );
            thread::sleep(Duration::from_millis(20));
        };
        assert_ne!(after["config_load_time"], after["start"], "{after}");
        digests.push((
            before["config_digest"].clone(),
            after["config_digest"].clone(),
        ));
        drop(server);
        let _ = std::fs::remove_file(conf);
    }
    assert!(digests[0]
        .0
        .as_str()
        .is_some_and(|d| d.starts_with("sha256:")));
    assert_ne!(digests[0].0, digests[0].1);
    assert_eq!(
        digests[0], digests[1],
        "(before, after) on the reference and ours"
    );
}

/// A client that never answers PINGs is closed as stale and counted in `/varz`, on both
/// servers.
#[test]
fn stale_connections_are_counted_like_the_reference() {
    for bin in [reference_binary(), our_binary()] {
        let http = free_port();
        let conf = std::env::temp_dir().join(format!(
            "monitoring-stale-{http}-{}.conf",
            std::process::id()
        ));
        std::fs::write(&conf, "ping_interval: \"1s\"\nping_max: 1\n").expect("write config");
        let server = ServerProcess::start(
            &bin,
            &["-c", &conf.display().to_string(), "-m", &http.to_string()],
        );
        let mut s = TcpStream::connect(server.addr()).expect("connect");
        read_until(&mut s, b"\r\n", DEFAULT_TIMEOUT);
        s.write_all(b"CONNECT {\"verbose\":false}\r\n")
            .expect("send");
        read_until(&mut s, b"-ERR 'Stale Connection'", Duration::from_secs(10));
        let deadline = Instant::now() + CLOSE_WAIT;
        let varz = loop {
            let v = json(http, "/varz");
            if v["stale_connections"] == 1 {
                break v;
            }
            assert!(Instant::now() < deadline, "{}: {v}", bin.display());
            thread::sleep(Duration::from_millis(20));
        };
        assert_eq!(varz["stale_connection_stats"]["clients"], 1, "{varz}");
        let port = s.local_addr().expect("local address").port();
        let closed = json(http, "/connz?state=closed");
        let ours = closed["connections"]
            .as_array()
            .and_then(|l| l.iter().find(|c| c["port"] == port))
            .unwrap_or_else(|| panic!("{}: not listed: {closed}", bin.display()));
        assert_eq!(ours["reason"], "Stale Connection", "{}", bin.display());
        drop(server);
        let _ = std::fs::remove_file(conf);
    }
}

/// A reload that would move the monitoring listener is refused with the reference's error,
/// and the listener keeps serving where it was.
#[cfg(unix)]
#[test]
fn reload_refuses_to_move_the_monitor_like_the_reference() {
    let changes = [
        ("http_port: {new}\n", "HTTPPort"),
        ("http_port: {old}\nhttp_base_path: \"/x\"\n", "HTTPBasePath"),
        ("http: \"127.0.0.2:{old}\"\n", "HTTPHost"),
    ];
    for (change, field) in changes {
        let (old, new) = (free_port(), free_port());
        let mut errors = Vec::new();
        for bin in [reference_binary(), our_binary()] {
            let conf = std::env::temp_dir().join(format!(
                "monitoring-reload-{old}-{}.conf",
                std::process::id()
            ));
            std::fs::write(&conf, format!("http_port: {old}\n")).expect("write config");
            let server = ServerProcess::start(&bin, &["-c", &conf.display().to_string()]);
            let text = change
                .replace("{old}", &old.to_string())
                .replace("{new}", &new.to_string());
            std::fs::write(&conf, text).expect("rewrite config");
            let status = std::process::Command::new("kill")
                .args(["-HUP", &server.pid().to_string()])
                .status()
                .expect("kill -HUP");
            assert!(status.success());
            let wanted = format!(
                "[ERR] Failed to reload server configuration: config reload not supported for {field}:"
            );
            assert!(
                server.wait_for_log(&wanted, Duration::from_secs(5)),
                "{}: {:?}",
                bin.display(),
                server.log_lines()
            );
            let line = server
                .log_lines()
                .into_iter()
                .find_map(|l| l.split_once("[ERR] ").map(|(_, e)| e.to_string()))
                .unwrap_or_default();
            errors.push(line);
            assert_eq!(get(old, "/varz").status, 200, "{}", bin.display());
            drop(server);
            let _ = std::fs::remove_file(conf);
        }
        assert_eq!(errors[0], errors[1], "reference, then ours");
    }
}
