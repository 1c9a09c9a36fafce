//! The value tree read as server options: the keys this server implements, type-checked and
//! worded as the reference words its complaints; the keys it does not implement sorted into
//! refused (security, JetStream) and ignored-with-a-notice (clustering and other listeners).

use std::time::Duration;

use super::duration::parse_duration;
use super::value::{Map, Token, Value};

/// One complaint about the file: `file:line:pos: message` when it has a position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// `file:line:pos`, when known.
    pub source: Option<String>,
    /// The message.
    pub message: String,
}

impl std::fmt::Display for Issue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.source {
            Some(s) => write!(f, "{s}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// The monitoring options (stored for the monitoring listener).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MonitoringOptions {
    /// Host of `http`/`https` (`host:port` forms).
    pub http_host: Option<String>,
    /// `http_port`/`monitor_port`, or the port of `http`.
    pub http_port: Option<i64>,
    /// `https_port`, or the port of `https`.
    pub https_port: Option<i64>,
    /// `http_base_path`.
    pub http_base_path: Option<String>,
}

/// What a file sets; `None` where it says nothing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileOptions {
    /// `host`/`net`, or the host of `listen`.
    pub host: Option<String>,
    /// `port`, or the port of `listen`.
    pub port: Option<i64>,
    /// `server_name`.
    pub server_name: Option<String>,
    /// `max_payload`.
    pub max_payload: Option<i32>,
    /// `max_control_line`.
    pub max_control_line: Option<i32>,
    /// `max_connections`/`max_conn` (0 in a file means "none allowed" to the reference: -1).
    pub max_connections: Option<i64>,
    /// `max_subscriptions`/`max_subs`.
    pub max_subscriptions: Option<i64>,
    /// `max_pending`.
    pub max_pending: Option<i64>,
    /// `write_deadline`.
    pub write_deadline: Option<Duration>,
    /// `ping_interval`.
    pub ping_interval: Option<Duration>,
    /// `ping_max`.
    pub ping_max: Option<i64>,
    /// `no_header_support`.
    pub no_header_support: Option<bool>,
    /// `debug`.
    pub debug: Option<bool>,
    /// `trace` (also set by `trace_verbose`, `trace_headers`).
    pub trace: Option<bool>,
    /// `logtime`.
    pub logtime: Option<bool>,
    /// `logtime_utc`.
    pub logtime_utc: Option<bool>,
    /// `log_file`/`logfile`.
    pub log_file: Option<String>,
    /// `pid_file`/`pidfile`.
    pub pid_file: Option<String>,
    /// `ports_file_dir`.
    pub ports_file_dir: Option<String>,
    /// `max_closed_clients`.
    pub max_closed_clients: Option<i64>,
    /// `logfile_size_limit`/`log_size_limit`: rotate the log file past this many bytes.
    pub log_size_limit: Option<i64>,
    /// `logfile_max_num`/`log_max_num`: rotated log files kept (the current one included).
    pub log_max_num: Option<i64>,
    /// `syslog`.
    pub syslog: Option<bool>,
    /// `remote_syslog`: `udp://host:port`, `tcp://host:port` or `unix:///path`.
    pub remote_syslog: Option<String>,
    /// `max_traced_msg_len`.
    pub max_traced_msg_len: Option<i64>,
    /// `lame_duck_duration` (at least 30 s, as the reference requires).
    pub lame_duck_duration: Option<Duration>,
    /// `lame_duck_grace_period`.
    pub lame_duck_grace_period: Option<Duration>,
    /// Monitoring keys.
    pub monitoring: MonitoringOptions,
    /// `authorization`, `accounts` and `no_auth_user`.
    pub security: super::security::SecurityOptions,
    /// The client listener's `tls {}` block.
    pub tls: Option<super::tls_block::TlsFileOptions>,
    /// The `cluster {}` block.
    pub cluster: Option<super::cluster_block::ClusterFileOptions>,
}

/// The outcome of reading the options of a file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mapped {
    /// What the file sets.
    pub options: FileOptions,
    /// Errors: the reference's own plus blocks this build refuses. Any error stops the server.
    pub errors: Vec<Issue>,
    /// The reference's warnings (a `-t` check fails on them; a start prints them and goes on).
    pub warnings: Vec<Issue>,
    /// Keys this build parses but does not implement and ignores (logged as warnings).
    pub ignored: Vec<Issue>,
}

/// Why a known key is not applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unimplemented {
    /// Ignoring it would weaken security or lose data: refuse to start.
    Refuse(&'static str),
    /// Accepted and ignored with a notice.
    Ignore(&'static str),
}

/// Keys the reference knows that this build does not implement.
fn unimplemented(key: &str) -> Option<Unimplemented> {
    use Unimplemented::{Ignore, Refuse};
    Some(match key {
        "allow_non_tls" | "ocsp" | "ocsp_cache" => Refuse("TLS"),
        "operator"
        | "operators"
        | "roots"
        | "root"
        | "root_operators"
        | "root_operator"
        | "trusted"
        | "trusted_keys"
        | "resolver"
        | "account_resolver"
        | "accounts_resolver"
        | "resolver_tls"
        | "resolver_preload"
        | "resolver_pinned_accounts"
        | "default_sentinel"
        | "proxies" => Refuse("decentralized authentication"),
        "jetstream" | "store_dir" | "storedir" | "default_js_domain" => Refuse("JetStream"),
        "mappings" | "maps" => Refuse("subject mappings"),
        "gateway" => Ignore("gateways"),
        "leaf" | "leafnodes" => Ignore("leaf nodes"),
        "websocket" | "ws" => Ignore("WebSocket"),
        "mqtt" => Ignore("MQTT"),
        "system_account" | "system" | "no_system_account" | "no_system" | "no_sys_acc" => {
            Ignore("the system account")
        }
        "client_advertise"
        | "disable_sublist_cache"
        | "no_sublist_cache"
        | "prof_port"
        | "prof_block_rate"
        | "proxy_protocol"
        | "max_sub_tokens"
        | "max_subscription_tokens"
        | "write_timeout"
        | "connect_error_reports"
        | "reconnect_error_reports"
        | "server_tags"
        | "server_metadata"
        | "feature_flags"
        | "no_fast_producer_stall" => Ignore("this option"),
        _ => return None,
    })
}

/// The scalar type a known-but-ignored key must have (the reference fails on others).
fn ignored_type(key: &str) -> Option<&'static str> {
    Some(match key {
        "client_advertise" | "write_timeout" | "no_auth_user" | "default_sentinel" => "string",
        "disable_sublist_cache"
        | "no_sublist_cache"
        | "proxy_protocol"
        | "no_fast_producer_stall"
        | "allow_non_tls"
        | "no_system_account"
        | "no_system"
        | "no_sys_acc" => "bool",
        "prof_port" | "prof_block_rate" | "connect_error_reports" | "reconnect_error_reports" => {
            "int64"
        }
        "cluster" | "gateway" | "leaf" | "leafnodes" | "websocket" | "ws" | "mqtt"
        | "authorization" | "accounts" => "map[string]interface {}",
        _ => return None,
    })
}

struct Ctx<'a> {
    out: &'a mut Mapped,
}

impl Ctx<'_> {
    fn error(&mut self, tok: &Token, message: impl Into<String>) {
        self.out.errors.push(Issue {
            source: Some(tok.source()),
            message: message.into(),
        });
    }

    fn conversion(&mut self, tok: &Token, want: &str) {
        let got = tok.value.go_type();
        self.error(
            tok,
            format!("interface conversion: interface {{}} is {got}, not {want}"),
        );
    }

    fn int(&mut self, tok: &Token) -> Option<i64> {
        match tok.value {
            Value::Int(v) => Some(v),
            _ => {
                self.conversion(tok, "int64");
                None
            }
        }
    }

    fn bool(&mut self, tok: &Token) -> Option<bool> {
        match tok.value {
            Value::Bool(v) => Some(v),
            _ => {
                self.conversion(tok, "bool");
                None
            }
        }
    }

    fn string(&mut self, tok: &Token) -> Option<String> {
        match &tok.value {
            Value::String(v) => Some(v.clone()),
            _ => {
                self.conversion(tok, "string");
                None
            }
        }
    }

    /// A `max_*` limit that must fit in 31 bits.
    fn int32(&mut self, key: &str, tok: &Token) -> Option<i32> {
        let v = self.int(tok)?;
        if v > i64::from(i32::MAX) {
            self.error(tok, format!("{key} value is too big"));
            return None;
        }
        // The reference truncates to 32 bits.
        Some(v as i32)
    }

    fn duration(&mut self, field: &str, tok: &Token) -> Option<Duration> {
        match &tok.value {
            Value::String(s) => match parse_duration(s) {
                Ok(ns) => Some(Duration::from_nanos(u64::try_from(ns).unwrap_or(0))),
                Err(e) => {
                    self.error(tok, format!("error parsing {field}: {e}"));
                    None
                }
            },
            Value::Int(secs) => {
                self.out.warnings.push(Issue {
                    source: Some(tok.source()),
                    message: format!(
                        "invalid use of field \"{field}\": {field} should be converted to a duration"
                    ),
                });
                Some(Duration::from_secs(u64::try_from(*secs).unwrap_or(0)))
            }
            _ => {
                self.conversion(tok, "int64");
                None
            }
        }
    }

    /// `lame_duck_duration` or `lame_duck_grace_period`: a Go duration string; the duration
    /// must be at least 30 s and the grace period not negative, as the reference checks.
    fn lame_duck(&mut self, tok: &Token, field: &str) -> Option<Duration> {
        let s = self.string(tok)?;
        let ns = match parse_duration(&s) {
            Ok(ns) => ns,
            Err(e) => {
                self.error(tok, format!("error parsing {field}: {e}"));
                return None;
            }
        };
        if field == "lame_duck_duration" && ns < 30_000_000_000 {
            let magnitude =
                crate::monitor::time::go_duration(Duration::from_nanos(ns.unsigned_abs()));
            let shown = if ns < 0 {
                format!("-{magnitude}")
            } else {
                magnitude
            };
            self.error(
                tok,
                format!("invalid lame_duck_duration of {shown}, minimum is 30 seconds"),
            );
            return None;
        }
        if ns < 0 {
            self.error(tok, "invalid lame_duck_grace_period, needs to be positive");
            return None;
        }
        Some(Duration::from_nanos(ns.unsigned_abs()))
    }

    fn listen(&mut self, tok: &Token) -> Option<(Option<String>, i64)> {
        match &tok.value {
            Value::Int(p) => Some((None, *p)),
            Value::String(s) => {
                let Some((host, port)) = split_host_port(s) else {
                    self.error(tok, format!("could not parse address string {s:?}"));
                    return None;
                };
                match parse_go_int(port) {
                    Some(p) => Some((Some(host.to_string()), p)),
                    None => {
                        self.error(tok, format!("could not parse port {port:?}"));
                        None
                    }
                }
            }
            other => {
                self.error(
                    tok,
                    format!("expected port or host:port, got {}", other.go_type()),
                );
                None
            }
        }
    }
}

/// `strconv.Atoi`: optional sign and decimal digits.
fn parse_go_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `host:port`, `[v6]:port` or `:port` into host and port, as the reference splits them.
pub fn split_host_port(s: &str) -> Option<(&str, &str)> {
    if let Some(rest) = s.strip_prefix('[') {
        let end = rest.find(']')?;
        let host = &rest[..end];
        let port = rest[end + 1..].strip_prefix(':')?;
        if port.contains([':', '[', ']']) {
            return None;
        }
        return Some((host, port));
    }
    let i = s.rfind(':')?;
    let (host, port) = (&s[..i], &s[i + 1..]);
    if host.contains([':', '[', ']']) || port.contains(['[', ']']) {
        return None;
    }
    Some((host, port))
}

/// Reads the options of a parsed file. `file` is the path as given (for the empty-file warning).
pub fn map_options(file: &str, root: &Map) -> Mapped {
    let mut out = Mapped::default();
    if root.is_empty() {
        out.warnings.push(Issue {
            source: None,
            message: format!("{file}: config has no values or is empty"),
        });
    }
    let mut entries: Vec<(&String, &Token)> = root.iter().collect();
    entries.sort_by_key(|(_, t)| (t.file.clone(), t.line, t.pos));
    let mut cx = Ctx { out: &mut out };
    for (key, tok) in entries {
        apply(&mut cx, key, tok);
    }
    out
}

fn apply(cx: &mut Ctx<'_>, key: &str, tok: &Token) {
    let lower = key.to_lowercase();
    match lower.as_str() {
        "listen" => {
            if let Some((host, port)) = cx.listen(tok) {
                cx.out.options.host = Some(host.unwrap_or_default());
                cx.out.options.port = Some(port);
            }
        }
        "port" => cx.out.options.port = cx.int(tok).or(cx.out.options.port),
        "server_name" => {
            if let Some(name) = cx.string(tok) {
                if name.contains(' ') {
                    cx.error(tok, "server name cannot contain spaces");
                } else {
                    cx.out.options.server_name = Some(name);
                }
            }
        }
        "host" | "net" => cx.out.options.host = cx.string(tok).or(cx.out.options.host.take()),
        "debug" => cx.out.options.debug = cx.bool(tok),
        "trace" | "trace_verbose" | "trace_headers" => cx.out.options.trace = cx.bool(tok),
        "logtime" => cx.out.options.logtime = cx.bool(tok),
        "logtime_utc" => cx.out.options.logtime_utc = cx.bool(tok),
        "http" | "https" => {
            if let Some((host, port)) = cx.listen(tok) {
                let m = &mut cx.out.options.monitoring;
                m.http_host = Some(host.unwrap_or_default());
                if lower == "http" {
                    m.http_port = Some(port);
                } else {
                    m.https_port = Some(port);
                }
            }
        }
        "http_port" | "monitor_port" => cx.out.options.monitoring.http_port = cx.int(tok),
        "https_port" => cx.out.options.monitoring.https_port = cx.int(tok),
        "http_base_path" => cx.out.options.monitoring.http_base_path = cx.string(tok),
        "logfile" | "log_file" => cx.out.options.log_file = cx.string(tok),
        "pidfile" | "pid_file" => cx.out.options.pid_file = cx.string(tok),
        "ports_file_dir" => cx.out.options.ports_file_dir = cx.string(tok),
        "max_control_line" => cx.out.options.max_control_line = cx.int32(key, tok),
        "max_payload" => cx.out.options.max_payload = cx.int32(key, tok),
        "max_pending" => cx.out.options.max_pending = cx.int(tok),
        "max_connections" | "max_conn" => {
            cx.out.options.max_connections = cx.int(tok).map(|v| if v == 0 { -1 } else { v });
        }
        "max_subscriptions" | "max_subs" => cx.out.options.max_subscriptions = cx.int(tok),
        "ping_interval" => cx.out.options.ping_interval = cx.duration("ping_interval", tok),
        "write_deadline" => cx.out.options.write_deadline = cx.duration("write_deadline", tok),
        "ping_max" => cx.out.options.ping_max = cx.int(tok),
        "no_header_support" => cx.out.options.no_header_support = cx.bool(tok),
        "max_closed_clients" => cx.out.options.max_closed_clients = cx.int(tok),
        "logfile_size_limit" | "log_size_limit" => cx.out.options.log_size_limit = cx.int(tok),
        "logfile_max_num" | "log_max_num" => cx.out.options.log_max_num = cx.int(tok),
        "syslog" => cx.out.options.syslog = cx.bool(tok),
        "remote_syslog" => cx.out.options.remote_syslog = cx.string(tok),
        "max_traced_msg_len" => cx.out.options.max_traced_msg_len = cx.int(tok),
        "lame_duck_duration" => {
            cx.out.options.lame_duck_duration = cx.lame_duck(tok, "lame_duck_duration");
        }
        "lame_duck_grace_period" => {
            cx.out.options.lame_duck_grace_period = cx.lame_duck(tok, "lame_duck_grace_period");
        }
        "authorization" => {
            cx.out.options.security.authorization =
                super::security::authorization(tok, &mut cx.out.errors);
        }
        "accounts" => {
            super::security::accounts(tok, &mut cx.out.errors, &mut cx.out.options.security);
        }
        "no_auth_user" => cx.out.options.security.no_auth_user = cx.string(tok),
        "tls" => cx.out.options.tls = super::tls_block::tls_block(tok, &mut cx.out.errors),
        "cluster" => {
            cx.out.options.cluster = super::cluster_block::cluster_block(tok, &mut cx.out.errors);
        }
        "gateway" | "leaf" | "leafnodes" | "websocket" | "ws" | "mqtt" => {
            use super::unimplemented_blocks::{check_block, Block};
            if let Some(block) = Block::from_key(&lower) {
                check_block(block, tok, &mut cx.out.errors, &mut cx.out.warnings);
            }
            if let Some(kind) = unimplemented(&lower) {
                not_applied(cx, key, &lower, tok, kind);
            }
        }
        other => match unimplemented(other) {
            Some(kind) => not_applied(cx, key, other, tok, kind),
            None if tok.used_variable => {}
            None => cx.error(tok, format!("unknown field {key:?}")),
        },
    }
}

fn not_applied(cx: &mut Ctx<'_>, key: &str, lower: &str, tok: &Token, kind: Unimplemented) {
    if let Some(want) = ignored_type(lower) {
        if tok.value.go_type() != want {
            if want.starts_with("map") && lower == "cluster" {
                let got = tok.value.go_type();
                cx.error(tok, format!("Expected map to define cluster, got {got}"));
            } else if !want.starts_with("map") {
                cx.conversion(tok, want);
            }
            return;
        }
    }
    match kind {
        Unimplemented::Refuse(what) => cx.error(
            tok,
            format!(
                "{key:?} is not supported by this server yet ({what} is not implemented); \
                 refusing to start rather than ignore it"
            ),
        ),
        Unimplemented::Ignore(what) => cx.out.ignored.push(Issue {
            source: Some(tok.source()),
            message: format!("{key:?} ignored: {what} is not implemented by this server yet"),
        }),
    }
}
