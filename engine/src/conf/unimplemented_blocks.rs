//! Checking of the listener blocks this server accepts but does not implement yet: `gateway`,
//! `leafnodes` (alias `leaf`), `websocket` (alias `ws`) and `mqtt`.
//!
//! Nothing in them is applied, but a file is judged as the reference judges it: every key is
//! looked up in the reference's tables (at every nesting level: gateway entries, leaf node
//! remotes and their proxies, `authorization` blocks and their users, `compression` and `tls`
//! blocks), and values get the reference's type checks with its wording and positions.
//!
//! The reference's parser stops a whole parsing function when a value has the wrong type (a
//! failed type assertion, recovered from a panic), so the keys after it in that function are
//! not checked. That is modelled by `Stop`: the scope that the reference's function covers
//! records it and stops. The reference visits keys in a random order; this module visits
//! them in file order, so where the reference's outcome depends on that order (two wrong
//! types in one scope, a duplicate remote or a user entry with several keys) one of its
//! possible outcomes is given.
//!
//! Not done here: the reference opens the files a `tls {}` block names (`cert_file`,
//! `key_file`, `ca_file`, `certs`) and reports those it cannot read; the engine does no IO.

use std::fmt;

use super::duration::parse_duration;
use super::options::{split_host_port, Issue};
use super::value::{Map, Token, Value};

/// One of the blocks this module checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Block {
    /// `gateway`.
    Gateway,
    /// `leafnodes` or `leaf`.
    LeafNodes,
    /// `websocket` or `ws`.
    Websocket,
    /// `mqtt`.
    Mqtt,
}

impl Block {
    /// The block a top-level key (any case) names, if it is one of these four.
    pub fn from_key(key: &str) -> Option<Block> {
        Some(match key.to_ascii_lowercase().as_str() {
            "gateway" => Block::Gateway,
            "leafnodes" | "leaf" => Block::LeafNodes,
            "websocket" | "ws" => Block::Websocket,
            "mqtt" => Block::Mqtt,
            _ => return None,
        })
    }
}

/// Keys of the `gateway` block.
pub const GATEWAY_KEYS: &[&str] = &[
    "name",
    "listen",
    "port",
    "host",
    "net",
    "authorization",
    "tls",
    "advertise",
    "connect_retries",
    "connect_backoff",
    "gateways",
    "reject_unknown",
    "reject_unknown_cluster",
    "write_deadline",
    "write_timeout",
];

/// Keys of an entry of `gateway { gateways: [...] }`.
pub const GATEWAY_ENTRY_KEYS: &[&str] = &["name", "tls", "url", "urls"];

/// Keys of the `authorization` block of `gateway` (the general authorization keys).
pub const GATEWAY_AUTHORIZATION_KEYS: &[&str] = &[
    "user",
    "username",
    "pass",
    "password",
    "token",
    "timeout",
    "users",
    "default_permission",
    "default_permissions",
    "permissions",
    "auth_callout",
    "auth_hook",
    "proxy_required",
];

/// Keys of a user of the general `authorization { users: [...] }` (in a gateway).
pub const GENERAL_USER_KEYS: &[&str] = &[
    "nkey",
    "user",
    "username",
    "pass",
    "password",
    "permission",
    "permissions",
    "authorization",
    "allowed_connection_types",
    "connection_types",
    "clients",
    "proxy_required",
];

/// Connection types a user may be restricted to.
pub const CONNECTION_TYPES: &[&str] = &[
    "STANDARD",
    "WEBSOCKET",
    "LEAFNODE",
    "LEAFNODE_WS",
    "MQTT",
    "MQTT_WS",
    "IN_PROCESS",
];

/// Keys of the `leafnodes` block.
pub const LEAFNODES_KEYS: &[&str] = &[
    "listen",
    "port",
    "host",
    "net",
    "authorization",
    "remotes",
    "reconnect",
    "reconnect_delay",
    "reconnect_interval",
    "dial_timeout",
    "tls",
    "leafnode_advertise",
    "advertise",
    "no_advertise",
    "min_version",
    "minimum_version",
    "compression",
    "isolate_leafnode_interest",
    "isolate",
    "write_deadline",
    "write_timeout",
];

/// Keys of the `authorization` block of `leafnodes`.
pub const LEAF_AUTHORIZATION_KEYS: &[&str] = &[
    "user",
    "username",
    "pass",
    "password",
    "nkey",
    "timeout",
    "users",
    "account",
    "proxy_required",
];

/// Keys of a user of `leafnodes { authorization { users: [...] } }`.
pub const LEAF_USER_KEYS: &[&str] = &[
    "user",
    "username",
    "pass",
    "password",
    "account",
    "proxy_required",
];

/// Keys of an entry of `leafnodes { remotes: [...] }`.
pub const REMOTE_KEYS: &[&str] = &[
    "no_randomize",
    "dont_randomize",
    "url",
    "urls",
    "account",
    "local",
    "creds",
    "credentials",
    "nkey",
    "seed",
    "tls",
    "hub",
    "deny_imports",
    "deny_import",
    "deny_exports",
    "deny_export",
    "ws_compress",
    "ws_compression",
    "websocket_compress",
    "websocket_compression",
    "ws_no_masking",
    "websocket_no_masking",
    "jetstream_cluster_migrate",
    "js_cluster_migrate",
    "isolate_leafnode_interest",
    "isolate",
    "request_isolation",
    "compression",
    "first_info_timeout",
    "dial_timeout",
    "disabled",
    "proxy",
    "ignore_discovered_servers",
];

/// Keys of the `proxy` block of a leaf node remote.
pub const REMOTE_PROXY_KEYS: &[&str] = &["url", "username", "password", "timeout"];

/// Keys of a `compression { ... }` block.
pub const COMPRESSION_KEYS: &[&str] = &["mode", "rtt_thresholds", "thresholds", "rtts", "rtt"];

/// Keys of the `websocket` block.
pub const WEBSOCKET_KEYS: &[&str] = &[
    "listen",
    "port",
    "host",
    "net",
    "advertise",
    "no_tls",
    "tls",
    "same_origin",
    "allowed_origins",
    "allowed_origin",
    "allow_origins",
    "allow_origin",
    "origins",
    "origin",
    "handshake_timeout",
    "compress",
    "compression",
    "authorization",
    "authentication",
    "jwt_cookie",
    "user_cookie",
    "pass_cookie",
    "token_cookie",
    "no_auth_user",
    "headers",
    "ping_interval",
];

/// Keys of the `mqtt` block.
pub const MQTT_KEYS: &[&str] = &[
    "listen",
    "port",
    "host",
    "net",
    "tls",
    "authorization",
    "authentication",
    "no_auth_user",
    "ack_wait",
    "ackwait",
    "js_api_timeout",
    "api_timeout",
    "max_ack_pending",
    "max_pending",
    "max_inflight",
    "js_domain",
    "stream_replicas",
    "consumer_replicas",
    "consumer_memory_storage",
    "consumer_inactive_threshold",
    "consumer_auto_cleanup",
    "reject_qos2_publish",
    "downgrade_qos2_subscribe",
];

/// Keys of the `authorization`/`authentication` block of `websocket` and `mqtt`.
pub const SIMPLE_AUTHORIZATION_KEYS: &[&str] =
    &["user", "username", "pass", "password", "token", "timeout"];

/// Keys of a `tls {}` block (of any listener).
pub const TLS_KEYS: &[&str] = &[
    "cert_file",
    "key_file",
    "ca_file",
    "insecure",
    "verify",
    "verify_and_map",
    "verify_cert_and_check_known_urls",
    "allow_insecure_cipher_suites",
    "cipher_suites",
    "curve_preferences",
    "timeout",
    "connection_rate_limit",
    "pinned_certs",
    "cert_store",
    "cert_match_by",
    "cert_match",
    "ca_certs_match",
    "handshake_first",
    "first",
    "immediate",
    "cert_match_skip_invalid",
    "ocsp_peer",
    "certs",
    "certificates",
    "min_version",
];

/// A complaint about a value inside one of these blocks, worded as the reference words it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    /// A key the reference does not know at that place.
    #[error("unknown field {0:?}")]
    UnknownField(String),
    /// A key a `tls {}` block does not know.
    #[error("error parsing tls config, unknown field {0:?}")]
    UnknownTlsField(String),
    /// A value of the wrong type (the reference's failed type assertion).
    #[error("interface conversion: interface {{}} is {got}, not {want}")]
    Conversion {
        /// The type found (Go's name).
        got: &'static str,
        /// The type wanted (Go's name).
        want: &'static str,
    },
    /// An `authorization` block that failed to parse, used by its listener anyway (the
    /// reference then dereferences a nil pointer and reports it).
    #[error("runtime error: invalid memory address or nil pointer dereference")]
    NilAuthorization,
    /// The block itself is not a map.
    #[error("{}, got {got}", block_not_map(*.block))]
    BlockNotMap {
        /// Which block.
        block: Block,
        /// The type found (Go's name).
        got: &'static str,
    },
    /// A list field (`gateways`, `remotes`, `users`) that is not a list.
    #[error("Expected {field} field to be an array, got {got}")]
    NotAnArray {
        /// The field.
        field: &'static str,
        /// What was found (Go's type name or value, as the reference prints it).
        got: String,
    },
    /// A list entry that is not a map.
    #[error("Expected {entry} entry to be a map/struct, got {got}")]
    EntryNotAMap {
        /// `gateway`, `remote leafnode` or `user`.
        entry: &'static str,
        /// The value found, as Go's `%v` prints it.
        got: String,
    },
    /// A duration that does not parse.
    #[error("error parsing {field}: {reason}")]
    Duration {
        /// The field as the reference names it.
        field: String,
        /// The parser's reason (`time: invalid duration "x"`).
        reason: String,
    },
    /// A warning about a value the reference accepts but questions.
    #[error("invalid use of field {field:?}: {reason}")]
    Questionable {
        /// The field (or, for duplicate URLs, the URL).
        field: String,
        /// Why.
        reason: String,
    },
    /// Any other complaint of the reference, in its words.
    #[error("{0}")]
    Other(String),
}

fn block_not_map(block: Block) -> &'static str {
    match block {
        Block::Gateway => "Expected gateway to be a map",
        Block::LeafNodes => "Expected map to define a leafnode",
        Block::Websocket => "Expected websocket to be a map",
        Block::Mqtt => "Expected mqtt to be a map",
    }
}

/// A failed type assertion: the reference stops the parsing function it happened in.
#[derive(Debug)]
struct Stop(Issue);

type Step<T = ()> = Result<T, Stop>;

fn issue(tok: Option<&Token>, error: &BlockError) -> Issue {
    Issue {
        source: tok.map(Token::source),
        message: error.to_string(),
    }
}

/// Go's `%v` of a value. The reference prints the members of non-empty lists and maps as
/// pointers (different on every run); those are shown as `[...]` and `map[...]`.
fn go_value(v: &Value) -> String {
    match v {
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::String(s) | Value::Datetime(s) => s.clone(),
        Value::Array(a) if a.is_empty() => "[]".to_string(),
        Value::Array(_) => "[...]".to_string(),
        Value::Map(m) if m.is_empty() => "map[]".to_string(),
        Value::Map(_) => "map[...]".to_string(),
    }
}

/// The entries of a map in file order.
fn ordered(m: &Map) -> Vec<(&str, &Token)> {
    let mut entries: Vec<(&str, &Token)> = m.iter().map(|(k, v)| (k.as_str(), v)).collect();
    entries.sort_by(|a, b| (&*a.1.file, a.1.line, a.1.pos).cmp(&(&*b.1.file, b.1.line, b.1.pos)));
    entries
}

/// Checks one of the four blocks; `tok` is the value of its top-level key. Errors and
/// warnings are appended in the reference's words, positioned as it positions them.
pub fn check_block(block: Block, tok: &Token, errors: &mut Vec<Issue>, warnings: &mut Vec<Issue>) {
    let mut c = Checker { errors, warnings };
    let Value::Map(m) = &tok.value else {
        let e = BlockError::BlockNotMap {
            block,
            got: tok.value.go_type(),
        };
        c.errors.push(issue(Some(tok), &e));
        return;
    };
    let outcome = match block {
        Block::Gateway => c.gateway(m),
        Block::LeafNodes => c.leafnodes(m),
        Block::Websocket => c.websocket(m),
        Block::Mqtt => c.mqtt(m),
    };
    c.recover(outcome);
}

struct Checker<'a> {
    errors: &'a mut Vec<Issue>,
    warnings: &'a mut Vec<Issue>,
}

/// What a leaf node `authorization` block sets that its listener cross-checks.
#[derive(Default)]
struct LeafAuth {
    user: String,
    nkey: String,
    users: Option<Vec<String>>,
}

/// What a leaf node remote sets that the listener cross-checks.
#[derive(Default)]
struct Remote<'t> {
    urls: Vec<String>,
    account: String,
    credentials: String,
    nkey: String,
    tls: bool,
    proxy: Option<Proxy<'t>>,
}

impl Remote<'_> {
    /// The name the reference tells remotes apart by; `redacted` hides passwords and seeds
    /// (the form it prints).
    fn name(&self, redacted: bool) -> String {
        let urls: Vec<String> = self
            .urls
            .iter()
            .map(|u| {
                let u = if redacted { redact_url(u) } else { u.clone() };
                format!("{u:?}")
            })
            .collect();
        let account = if self.account.is_empty() {
            "$G"
        } else {
            &self.account
        };
        let optional = if !self.credentials.is_empty() {
            format!(", credentials={:?}", self.credentials)
        } else if self.nkey.is_empty() {
            String::new()
        } else if redacted {
            ", nkey=\"[REDACTED]\"".to_string()
        } else {
            format!(", nkey={:?}", self.nkey)
        };
        format!("urls=[{}], account={account:?}{optional}", urls.join(" "))
    }
}

/// A remote's `proxy` block.
#[derive(Default)]
struct Proxy<'t> {
    /// The `proxy` key's value, where the reference reports what is wrong with the proxy.
    tok: Option<&'t Token>,
    url: String,
    username: String,
    password: String,
    /// A non-zero `timeout`.
    timeout: bool,
    negative_timeout: bool,
}

/// What a gateway `authorization` block sets that the gateway refuses.
#[derive(Default)]
struct GatewayAuth {
    users: bool,
    token: String,
    callout: bool,
}

impl Checker<'_> {
    fn error(&mut self, tok: Option<&Token>, e: BlockError) {
        self.errors.push(issue(tok, &e));
    }

    fn warning(&mut self, tok: &Token, e: BlockError) {
        self.warnings.push(issue(Some(tok), &e));
    }

    /// Ends a scope of the reference's parser: a stop is recorded, nothing more.
    fn recover<T>(&mut self, step: Step<T>) -> Option<T> {
        match step {
            Ok(v) => Some(v),
            Err(Stop(i)) => {
                self.errors.push(i);
                None
            }
        }
    }

    /// `key` lowercased if `table` has it; otherwise it is reported as unknown (unless a
    /// `$variable` refers to it) and `None` is returned.
    fn known(&mut self, table: &[&str], key: &str, tok: &Token) -> Option<String> {
        let lower = key.to_ascii_lowercase();
        if table.contains(&lower.as_str()) {
            return Some(lower);
        }
        if !tok.used_variable {
            self.error(Some(tok), BlockError::UnknownField(key.to_string()));
        }
        None
    }

    fn stop(tok: &Token, want: &'static str) -> Stop {
        Stop(issue(
            Some(tok),
            &BlockError::Conversion {
                got: tok.value.go_type(),
                want,
            },
        ))
    }

    fn string<'t>(&self, tok: &'t Token) -> Step<&'t str> {
        match &tok.value {
            Value::String(s) => Ok(s),
            _ => Err(Self::stop(tok, "string")),
        }
    }

    fn int(&self, tok: &Token) -> Step<i64> {
        match tok.value {
            Value::Int(i) => Ok(i),
            _ => Err(Self::stop(tok, "int64")),
        }
    }

    fn boolean(&self, tok: &Token) -> Step<bool> {
        match tok.value {
            Value::Bool(b) => Ok(b),
            _ => Err(Self::stop(tok, "bool")),
        }
    }

    fn map<'t>(&self, tok: &'t Token) -> Step<&'t Map> {
        match &tok.value {
            Value::Map(m) => Ok(m),
            _ => Err(Self::stop(tok, "map[string]interface {}")),
        }
    }

    fn array<'t>(&self, tok: &'t Token) -> Step<&'t [Token]> {
        match &tok.value {
            Value::Array(a) => Ok(a),
            _ => Err(Self::stop(tok, "[]interface {}")),
        }
    }

    /// A duration: a string in Go's syntax, or (with a warning) a number of seconds.
    fn duration(&mut self, field: &str, tok: &Token) -> Step {
        match &tok.value {
            Value::String(s) => {
                if let Err(e) = parse_duration(s) {
                    let e = BlockError::Duration {
                        field: field.to_string(),
                        reason: e.to_string(),
                    };
                    self.error(Some(tok), e);
                }
                Ok(())
            }
            _ => {
                let reason = format!("{field} should be converted to a duration");
                self.warning(
                    tok,
                    BlockError::Questionable {
                        field: field.to_string(),
                        reason,
                    },
                );
                self.int(tok).map(drop)
            }
        }
    }

    /// `listen`: a port or `host:port`.
    fn listen(&mut self, tok: &Token) {
        let reason = match &tok.value {
            Value::Int(_) => return,
            Value::String(s) => match split_host_port(s) {
                None => format!("could not parse address string {s:?}"),
                Some((_, port)) if go_atoi(port) => return,
                Some((_, port)) => format!("could not parse port {port:?}"),
            },
            other => format!("expected port or host:port, got {}", other.go_type()),
        };
        self.error(Some(tok), BlockError::Other(reason));
    }

    /// `write_timeout`: a policy name.
    fn write_timeout(&mut self, tok: &Token) -> Step {
        if !matches!(self.string(tok)?, "default" | "close" | "retry") {
            let e = BlockError::Other("write_timeout must be 'default', 'close' or 'retry'".into());
            self.error(Some(tok), e);
        }
        Ok(())
    }

    /// An `authorization` timeout: seconds (int or float) or a duration string; a stop
    /// message (returned, not a failed assertion) otherwise. `what` names the block.
    fn auth_timeout(&mut self, key: &str, tok: &Token, what: &str) -> Result<(), BlockError> {
        let seconds = match &tok.value {
            Value::Int(i) => *i as f64,
            Value::Float(f) => *f,
            Value::String(s) => match parse_duration(s) {
                Ok(ns) => ns as f64 / 1e9,
                Err(e) => {
                    return Err(BlockError::Other(format!(
                        "error parsing {what} config, 'timeout' {e}"
                    )))
                }
            },
            _ => {
                return Err(BlockError::Other(format!(
                    "error parsing {what} config, 'timeout' wrong type"
                )))
            }
        };
        if seconds > 60.0 {
            let reason = format!(
                "timeout of {} ({seconds:.6} seconds) is high, consider keeping it under 60 \
                 seconds. possibly caused by unquoted duration; use '1m' instead of 1m, for example",
                go_value(&tok.value)
            );
            self.warning(
                tok,
                BlockError::Questionable {
                    field: key.to_string(),
                    reason,
                },
            );
        }
        Ok(())
    }

    /// A nested `tls {}` block. The reference stops at its first problem: an unknown key or
    /// a value of the wrong type. `verify` and `verify_and_map` are checked by the client
    /// listener's parser ([`super::tls_block`]), which words them as the reference does; the
    /// other values are checked here, in the reference's words (that parser's differ).
    /// `client`: the block belongs to a connection this server would dial or accept as a
    /// client-side TLS context (leaf nodes, websocket, MQTT), not a gateway.
    fn tls(&mut self, tok: &Token, client: bool) {
        let Value::Map(m) = &tok.value else {
            self.errors
                .push(Self::stop(tok, "map[string]interface {}").0);
            return;
        };
        let mut delegated = Map::new();
        for (key, value) in ordered(m) {
            let lower = key.to_ascii_lowercase();
            if !TLS_KEYS.contains(&lower.as_str()) {
                self.error(Some(value), BlockError::UnknownTlsField(key.to_string()));
                return;
            }
            if matches!(lower.as_str(), "verify" | "verify_and_map") {
                delegated.insert(key.to_string(), value.clone());
            } else if let Some(reason) = tls_value_problem(&lower, key, &value.value, client) {
                self.error(Some(value), BlockError::Other(reason));
                return;
            } else if let Err(problem) = tls_list_problem(&lower, value) {
                self.errors.push(problem);
                return;
            }
        }
        if let Some(reason) = tls_combination_problem(m) {
            self.error(Some(tok), BlockError::Other(reason));
            return;
        }
        let before = self.errors.len();
        let subset = Token {
            value: Value::Map(delegated),
            ..tok.clone()
        };
        let _ = super::tls_block::tls_block(&subset, self.errors);
        if self.errors.len() > before {
            self.errors.truncate(before + 1);
            return;
        }
        let has = |k: &str| m.keys().any(|key| key.eq_ignore_ascii_case(k));
        let missing = match (has("cert_file"), has("key_file")) {
            (true, false) => "key_file",
            (false, true) => "cert_file",
            _ => return,
        };
        let e = BlockError::Other(format!("missing '{missing}' in TLS configuration"));
        self.error(Some(tok), e);
    }

    /// `compression`: a mode string, a boolean, or `{mode, rtt_thresholds}` (the reference
    /// reports the first problem of the map only).
    fn compression(&mut self, key: &str, tok: &Token) {
        match &tok.value {
            Value::String(_) | Value::Bool(_) => {}
            Value::Map(m) => {
                for (k, v) in ordered(m) {
                    let lower = k.to_ascii_lowercase();
                    if !COMPRESSION_KEYS.contains(&lower.as_str()) {
                        if !v.used_variable {
                            let e = BlockError::UnknownField(k.to_string());
                            self.error(Some(v), e);
                            return;
                        }
                        continue;
                    }
                    let problem = match lower.as_str() {
                        "mode" => self.string(v).err().map(|s| s.0),
                        "rtt_thresholds" | "thresholds" | "rtts" | "rtt" => self.rtt_thresholds(v),
                        _ => None,
                    };
                    if let Some(i) = problem {
                        self.errors.push(i);
                        return;
                    }
                }
            }
            other => {
                let e = BlockError::Other(format!(
                    "field {key:?} should be a boolean or a structure, got {}",
                    other.go_type()
                ));
                self.error(Some(tok), e);
            }
        }
    }

    fn rtt_thresholds(&self, tok: &Token) -> Option<Issue> {
        let items = match self.array(tok) {
            Ok(items) => items,
            Err(Stop(i)) => return Some(i),
        };
        for item in items {
            match self.string(item) {
                Ok(s) => {
                    if let Err(e) = parse_duration(s) {
                        return Some(issue(Some(tok), &BlockError::Other(e.to_string())));
                    }
                }
                Err(Stop(i)) => return Some(i),
            }
        }
        None
    }

    /// A list of URLs (`urls`): strings, duplicates warned about and dropped.
    fn urls(&mut self, items: &[Token], kind: &str) -> Vec<String> {
        let mut seen: Vec<&str> = Vec::new();
        for item in items {
            let url = match self.string(item) {
                Ok(s) => s,
                Err(Stop(i)) => {
                    self.errors.push(i);
                    return Vec::new();
                }
            };
            if seen.contains(&url) {
                self.warning(
                    item,
                    BlockError::Questionable {
                        field: url.to_string(),
                        reason: format!("Duplicate {kind} entry detected"),
                    },
                );
                continue;
            }
            seen.push(url);
            self.url(item, url, kind);
        }
        seen.iter()
            .map(|u| u.trim().to_string())
            .filter(|u| !go_url_parse_fails(u))
            .collect()
    }

    /// One URL (`kind`: `gateway` or `leafnode`): reported when Go's URL parser refuses it.
    /// Whether it was accepted.
    fn url(&mut self, tok: &Token, url: &str, kind: &str) -> bool {
        let url = url.trim();
        if !go_url_parse_fails(url) {
            return true;
        }
        let e = BlockError::Other(format!("error parsing {kind} url [{url:?}]"));
        self.error(Some(tok), e);
        false
    }

    fn gateway(&mut self, m: &Map) -> Step {
        for (key, v) in ordered(m) {
            let Some(lower) = self.known(GATEWAY_KEYS, key, v) else {
                continue;
            };
            match lower.as_str() {
                "name" => self.gateway_name(v)?,
                "listen" => self.listen(v),
                "port" | "connect_retries" => self.int(v).map(drop)?,
                "host" | "net" | "advertise" => self.string(v).map(drop)?,
                "connect_backoff" | "reject_unknown" | "reject_unknown_cluster" => {
                    self.boolean(v).map(drop)?
                }
                "authorization" => self.gateway_authorization(v)?,
                "tls" => self.tls(v, false),
                "gateways" => {
                    if let Value::Array(entries) = &v.value {
                        let outcome = self.gateway_entries(entries);
                        self.recover(outcome);
                    } else {
                        // Reported without a position, and the rest of the block is skipped.
                        return Err(Stop(issue(
                            None,
                            &BlockError::NotAnArray {
                                field: "gateways",
                                got: v.value.go_type().to_string(),
                            },
                        )));
                    }
                }
                "write_deadline" => self.duration("write_deadline", v)?,
                "write_timeout" => self.write_timeout(v)?,
                _ => {}
            }
        }
        Ok(())
    }

    /// The gateway's own `name`: a string without spaces.
    fn gateway_name(&mut self, tok: &Token) -> Step {
        if self.string(tok)?.contains(' ') {
            let e = BlockError::Other("gateway name cannot contain spaces".into());
            self.error(Some(tok), e);
        }
        Ok(())
    }

    fn gateway_entries(&mut self, entries: &[Token]) -> Step {
        for entry in entries {
            let Value::Map(m) = &entry.value else {
                let got = go_value(&entry.value);
                let e = BlockError::EntryNotAMap {
                    entry: "gateway",
                    got,
                };
                self.error(Some(entry), e);
                continue;
            };
            for (key, v) in ordered(m) {
                let Some(lower) = self.known(GATEWAY_ENTRY_KEYS, key, v) else {
                    continue;
                };
                match lower.as_str() {
                    "name" => self.string(v).map(drop)?,
                    "url" => {
                        let url = self.string(v)?;
                        self.url(v, url, "gateway");
                    }
                    "tls" => self.tls(v, false),
                    "urls" => {
                        let items = self.array(v)?;
                        self.urls(items, "gateway");
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }

    /// The gateway's `authorization`: the general authorization block, of which a gateway
    /// refuses users, tokens and callouts.
    fn gateway_authorization(&mut self, tok: &Token) -> Step {
        let auth = match self.general_authorization(tok) {
            Ok(Some(auth)) => auth,
            Ok(None) => return Ok(()),
            Err(Stop(i)) => {
                self.errors.push(i);
                return Err(Stop(issue(Some(tok), &BlockError::NilAuthorization)));
            }
        };
        let refusal = if auth.users {
            "Gateway authorization does not allow multiple users"
        } else if !auth.token.is_empty() {
            "Gateway authorization does not support tokens"
        } else if auth.callout {
            "Gateway authorization does not support callouts"
        } else {
            return Ok(());
        };
        self.error(Some(tok), BlockError::Other(refusal.into()));
        Ok(())
    }

    /// The general `authorization` block: its keys, users, permissions and callout. `Ok(None)`: a complaint
    /// was returned (and reported); the listener skips the block.
    fn general_authorization(&mut self, tok: &Token) -> Step<Option<GatewayAuth>> {
        let m = self.map(tok)?;
        let mut auth = GatewayAuth::default();
        for (key, v) in ordered(m) {
            let Some(lower) = self.known(GATEWAY_AUTHORIZATION_KEYS, key, v) else {
                continue;
            };
            match lower.as_str() {
                "user" | "username" | "pass" | "password" => self.string(v).map(drop)?,
                "token" => auth.token = self.string(v)?.to_string(),
                "timeout" => {
                    if let Err(e) = self.auth_timeout(key, v, "authorization") {
                        self.error(Some(v), e);
                        return Ok(None);
                    }
                }
                "users" => match &v.value {
                    Value::Array(entries) => {
                        let outcome = self.general_users(entries);
                        auth.users = self.recover(outcome).unwrap_or(false);
                    }
                    other => {
                        let e = BlockError::NotAnArray {
                            field: "users",
                            got: go_value(other),
                        };
                        self.error(Some(v), e);
                    }
                },
                "default_permission" | "default_permissions" | "permissions" => {
                    let outcome = self.user_permissions(v);
                    self.recover(outcome);
                }
                "auth_callout" | "auth_hook" => {
                    let outcome = self.auth_callout(v);
                    auth.callout = self.recover(outcome).unwrap_or(false);
                }
                "proxy_required" => self.boolean(v).map(drop)?,
                _ => {}
            }
        }
        Ok(Some(auth))
    }

    /// `auth_callout` of a general authorization block: whether the reference accepts it
    /// (a gateway then refuses it).
    fn auth_callout(&mut self, tok: &Token) -> Step<bool> {
        let Value::Map(m) = &tok.value else {
            let got = go_value(&tok.value);
            let e = BlockError::Other(format!(
                "Expected authorization callout to be a map/struct, got {got}"
            ));
            self.error(Some(tok), e);
            return Ok(false);
        };
        let (mut issuer, mut users) = (false, 0);
        for (key, v) in ordered(m) {
            let reason = match key.to_ascii_lowercase().as_str() {
                "issuer" => {
                    let key = self.string(v)?;
                    issuer = true;
                    if key.starts_with('A') && nkeys::from_public_key(key).is_ok() {
                        continue;
                    }
                    format!("Expected callout user to be a valid public account nkey, got {key:?}")
                }
                "account" | "acc" => {
                    self.string(v)?;
                    continue;
                }
                "xkey" | "key" => {
                    let key = self.string(v)?;
                    if key.starts_with('X') && nkeys::from_public_key(key).is_ok() {
                        continue;
                    }
                    format!("Expected callout xkey to be a valid public xkey, got {key:?}")
                }
                lower @ ("auth_users" | "users" | "allowed_accounts") => {
                    if let Value::Array(items) = &v.value {
                        for item in items {
                            self.string(item)?;
                        }
                        if lower != "allowed_accounts" {
                            users += items.len();
                        }
                        continue;
                    }
                    // The reference names the type of its own wrapper here.
                    let field = if lower == "allowed_accounts" {
                        "allowed accounts"
                    } else {
                        "auth_users"
                    };
                    format!("Expected {field} field to be an array, got *conf.token")
                }
                _ if v.used_variable => continue,
                _ => {
                    let e = BlockError::Other(format!(
                        "Unknown field {key:?} parsing authorization callout"
                    ));
                    self.error(Some(v), e);
                    continue;
                }
            };
            self.error(Some(v), BlockError::Other(reason));
            return Ok(false);
        }
        let reason = if !issuer {
            "Authorization callouts require an issuer to be specified"
        } else if users == 0 {
            "Authorization callouts require authorized users to be specified"
        } else {
            return Ok(true);
        };
        // The reference points at the last value it visited (in a random order).
        let last = m.values().max_by_key(|t| (t.line, t.pos)).unwrap_or(tok);
        self.error(Some(last), BlockError::Other(reason.into()));
        Ok(false)
    }

    /// The `users` of a general authorization block: whether the reference ends up with a
    /// list (`false` when an entry is refused or a wrong type stops the list).
    fn general_users(&mut self, entries: &[Token]) -> Step<bool> {
        for entry in entries {
            let Value::Map(m) = &entry.value else {
                let e = BlockError::EntryNotAMap {
                    entry: "user",
                    got: go_value(&entry.value),
                };
                self.error(Some(entry), e);
                continue;
            };
            let (mut nkey, mut user, mut password) = ("", "", "");
            for (key, v) in ordered(m) {
                let Some(lower) = self.known(GENERAL_USER_KEYS, key, v) else {
                    continue;
                };
                match lower.as_str() {
                    "nkey" => nkey = self.string(v)?,
                    "user" | "username" => user = self.string(v)?,
                    "pass" | "password" => password = self.string(v)?,
                    "permission" | "permissions" | "authorization" => {
                        let outcome = self.user_permissions(v);
                        self.recover(outcome);
                    }
                    "allowed_connection_types" | "connection_types" | "clients" => {
                        self.connection_types(v)
                    }
                    "proxy_required" => self.boolean(v).map(drop)?,
                    _ => {}
                }
            }
            let reason = if nkey.is_empty() && user.is_empty() {
                "User entry requires a user"
            } else if nkey.is_empty() {
                continue;
            } else if !valid_public_user_key(nkey) {
                "Not a valid public nkey for a user"
            } else if !user.is_empty() || !password.is_empty() {
                "Nkey users do not take usernames or passwords"
            } else {
                continue;
            };
            // The reference points at the last value it visited (in a random order).
            let last = m.values().max_by_key(|t| (t.line, t.pos)).unwrap_or(entry);
            self.error(Some(last), BlockError::Other(reason.into()));
            return Ok(false);
        }
        Ok(true)
    }

    /// `allowed_connection_types`: a string or a list of strings naming known types.
    fn connection_types(&mut self, tok: &Token) {
        let types: Vec<&str> = match &tok.value {
            Value::String(s) => vec![s],
            Value::Array(items) => {
                let mut types = Vec::new();
                for item in items {
                    match &item.value {
                        Value::String(s) => types.push(s.as_str()),
                        other => {
                            let e = BlockError::Other(format!(
                                "error parsing allowed connection types: unsupported type in array {}",
                                other.go_type()
                            ));
                            self.error(Some(item), e);
                        }
                    }
                }
                types
            }
            other => {
                let e = BlockError::Other(format!(
                    "error parsing allowed connection types: unsupported type {}",
                    other.go_type()
                ));
                return self.error(Some(tok), e);
            }
        };
        let unknown: Vec<String> = types
            .iter()
            .map(|t| t.to_uppercase())
            .filter(|t| !CONNECTION_TYPES.contains(&t.as_str()))
            .map(|t| format!("{t:?}"))
            .collect();
        if !unknown.is_empty() {
            let e = BlockError::Other(format!("invalid connection types [{}]", unknown.join(" ")));
            self.error(Some(tok), e);
        }
    }

    fn leafnodes(&mut self, m: &Map) -> Step {
        for (key, v) in ordered(m) {
            let Some(lower) = self.known(LEAFNODES_KEYS, key, v) else {
                continue;
            };
            match lower.as_str() {
                "listen" => self.listen(v),
                "port" => self.int(v).map(drop)?,
                "host" | "net" | "leafnode_advertise" | "advertise" => self.string(v).map(drop)?,
                "no_advertise" | "isolate_leafnode_interest" | "isolate" => {
                    self.boolean(v).map(drop)?
                }
                "authorization" => self.leaf_authorization(v)?,
                "remotes" => match &v.value {
                    Value::Array(entries) => {
                        let outcome = self.remotes(entries);
                        self.recover(outcome);
                    }
                    other => {
                        let e = BlockError::NotAnArray {
                            field: "remotes",
                            got: other.go_type().to_string(),
                        };
                        self.error(Some(v), e);
                    }
                },
                "reconnect" | "reconnect_delay" | "reconnect_interval" => {
                    self.duration("reconnect", v)?
                }
                "dial_timeout" => self.duration("dial_timeout", v)?,
                "tls" => self.tls(v, true),
                "min_version" | "minimum_version" => {
                    let version = self.string(v)?;
                    if let Some(reason) = leaf_min_version_problem(version) {
                        self.error(Some(v), BlockError::Other(reason));
                    }
                }
                "compression" => self.compression(key, v),
                "write_deadline" => self.duration("write_deadline", v)?,
                "write_timeout" => self.write_timeout(v)?,
                _ => {}
            }
        }
        Ok(())
    }

    fn leaf_authorization(&mut self, tok: &Token) -> Step {
        let auth = match self.leaf_authorization_keys(tok) {
            Ok(Some(auth)) => auth,
            Ok(None) => return Ok(()),
            Err(Stop(i)) => {
                self.errors.push(i);
                return Err(Stop(issue(Some(tok), &BlockError::NilAuthorization)));
            }
        };
        let Some(users) = auth.users.filter(|u| !u.is_empty()) else {
            return Ok(());
        };
        let reason = if !auth.user.is_empty() {
            "can not have a single user/pass and a users array".to_string()
        } else if !auth.nkey.is_empty() {
            "can not have a single nkey and a users array".to_string()
        } else {
            match users
                .iter()
                .enumerate()
                .find(|(i, u)| users[..*i].contains(u))
            {
                Some((_, u)) => format!("duplicate user {u:?} detected in leafnode authorization"),
                None => return Ok(()),
            }
        };
        self.error(Some(tok), BlockError::Other(reason));
        Ok(())
    }

    /// `Ok(None)`: a complaint was returned (and reported); the listener skips the block.
    fn leaf_authorization_keys(&mut self, tok: &Token) -> Step<Option<LeafAuth>> {
        let m = self.map(tok)?;
        let mut auth = LeafAuth::default();
        for (key, v) in ordered(m) {
            let Some(lower) = self.known(LEAF_AUTHORIZATION_KEYS, key, v) else {
                continue;
            };
            match lower.as_str() {
                "user" | "username" => auth.user = self.string(v)?.to_string(),
                "pass" | "password" | "account" => self.string(v).map(drop)?,
                "nkey" => {
                    let nkey = self.string(v)?;
                    if !valid_public_user_key(nkey) {
                        let e = BlockError::Other(
                            "Not a valid public nkey for leafnode authorization".into(),
                        );
                        self.error(Some(v), e);
                    }
                    auth.nkey = nkey.to_string();
                }
                "timeout" => {
                    if let Err(e) = self.auth_timeout(key, v, "leafnode authorization") {
                        self.error(Some(v), e);
                        return Ok(None);
                    }
                }
                "users" => match &v.value {
                    Value::Array(entries) => {
                        let outcome = self.leaf_users(entries);
                        auth.users = self.recover(outcome);
                    }
                    other => {
                        let e = BlockError::NotAnArray {
                            field: "users",
                            got: go_value(other),
                        };
                        self.error(Some(v), e);
                    }
                },
                "proxy_required" => self.boolean(v).map(drop)?,
                _ => {}
            }
        }
        Ok(Some(auth))
    }

    fn leaf_users(&mut self, entries: &[Token]) -> Step<Vec<String>> {
        let mut names = Vec::new();
        for entry in entries {
            let Value::Map(m) = &entry.value else {
                let e = BlockError::EntryNotAMap {
                    entry: "user",
                    got: go_value(&entry.value),
                };
                self.error(Some(entry), e);
                continue;
            };
            let mut name = String::new();
            for (key, v) in ordered(m) {
                let Some(lower) = self.known(LEAF_USER_KEYS, key, v) else {
                    continue;
                };
                match lower.as_str() {
                    "user" | "username" => name = self.string(v)?.to_string(),
                    "pass" | "password" | "account" => self.string(v).map(drop)?,
                    "proxy_required" => self.boolean(v).map(drop)?,
                    _ => {}
                }
            }
            names.push(name);
        }
        Ok(names)
    }

    fn remotes(&mut self, entries: &[Token]) -> Step {
        let mut names: Vec<String> = Vec::new();
        for entry in entries {
            let Value::Map(m) = &entry.value else {
                let e = BlockError::EntryNotAMap {
                    entry: "remote leafnode",
                    got: go_value(&entry.value),
                };
                self.error(Some(entry), e);
                continue;
            };
            let Some(remote) = self.remote(m)? else {
                continue;
            };
            if let Some(proxy) = &remote.proxy {
                if let Some(reason) = proxy_problem(proxy, &remote) {
                    self.error(proxy.tok, BlockError::Other(reason));
                    continue;
                }
            }
            let name = remote.name(false);
            if names.contains(&name) {
                // The reference points at the last key it visited (in a random order).
                let last = m.values().max_by_key(|t| (t.line, t.pos));
                let e = BlockError::Other(format!("duplicate remote {}", remote.name(true)));
                self.error(last, e);
                continue;
            }
            names.push(name);
        }
        Ok(())
    }

    /// One remote's keys; what its listener cross-checks, or `None` for an empty entry.
    fn remote<'t>(&mut self, m: &'t Map) -> Step<Option<Remote<'t>>> {
        let (mut creds, mut nkey) = (false, false);
        let both = "Remote leafnode can not have both creds and nkey defined";
        let mut remote = Remote::default();
        for (key, v) in ordered(m) {
            let Some(lower) = self.known(REMOTE_KEYS, key, v) else {
                continue;
            };
            match lower.as_str() {
                "no_randomize"
                | "dont_randomize"
                | "hub"
                | "ws_compress"
                | "ws_compression"
                | "websocket_compress"
                | "websocket_compression"
                | "ws_no_masking"
                | "websocket_no_masking"
                | "isolate_leafnode_interest"
                | "isolate"
                | "request_isolation"
                | "disabled"
                | "ignore_discovered_servers" => self.boolean(v).map(drop)?,
                "url" | "urls" => match &v.value {
                    Value::Array(items) => {
                        let before = self.errors.len();
                        let urls = self.urls(items, "leafnode");
                        if self.errors.len() == before {
                            remote.urls = urls;
                        }
                    }
                    Value::String(url) => {
                        if self.url(v, url, "leafnode") {
                            remote.urls.push(url.trim().to_string());
                        }
                    }
                    other => {
                        let e = BlockError::Other(format!(
                            "Expected remote leafnode url to be an array or string, got {}",
                            go_value(other)
                        ));
                        self.error(Some(v), e);
                    }
                },
                "account" | "local" => remote.account = self.string(v)?.to_string(),
                "creds" | "credentials" => {
                    let path = self.string(v)?;
                    if nkey {
                        self.error(Some(v), BlockError::Other(both.into()));
                    } else {
                        creds = true;
                        remote.credentials = path.to_string();
                    }
                }
                "nkey" | "seed" => {
                    let seed = self.string(v)?;
                    if !valid_user_seed(seed) {
                        let e = BlockError::Other(format!(
                            "Remote leafnode nkey is not a valid seed: {seed:?}"
                        ));
                        self.error(Some(v), e);
                    } else if creds {
                        self.error(Some(v), BlockError::Other(both.into()));
                    } else {
                        nkey = true;
                        remote.nkey = seed.to_string();
                    }
                }
                "tls" => {
                    remote.tls = true;
                    self.tls(v, true);
                }
                "deny_imports" | "deny_import" | "deny_exports" | "deny_export" => {
                    self.subjects(v, false, true)
                }
                "jetstream_cluster_migrate" | "js_cluster_migrate" => match &v.value {
                    Value::Bool(_) => {}
                    Value::Map(mm) => {
                        if let Some(delay) = mm.get("leader_migrate_delay") {
                            self.duration("leader_migrate_delay", delay)?;
                        }
                    }
                    other => {
                        // The reference loses the position here.
                        let e = BlockError::Other(format!(
                            "Expected boolean or map for jetstream_cluster_migrate, got {}",
                            other.go_type()
                        ));
                        self.error(None, e);
                    }
                },
                "compression" => self.compression(key, v),
                "first_info_timeout" | "dial_timeout" => self.duration(key, v)?,
                "proxy" => match &v.value {
                    Value::Map(proxy) => remote.proxy = Some(self.proxy(v, proxy)?),
                    other => {
                        let e = BlockError::Other(format!(
                            "Expected proxy to be a map, got {}",
                            other.go_type()
                        ));
                        self.error(Some(v), e);
                    }
                },
                _ => {}
            }
        }
        Ok(Some(remote))
    }

    /// A remote's `proxy` block (`tok` is its value).
    fn proxy<'t>(&mut self, tok: &'t Token, m: &'t Map) -> Step<Proxy<'t>> {
        let mut proxy = Proxy {
            tok: Some(tok),
            ..Proxy::default()
        };
        for (key, v) in ordered(m) {
            let Some(lower) = self.known(REMOTE_PROXY_KEYS, key, v) else {
                continue;
            };
            match lower.as_str() {
                "url" => proxy.url = self.string(v)?.to_string(),
                "username" => proxy.username = self.string(v)?.to_string(),
                "password" => proxy.password = self.string(v)?.to_string(),
                "timeout" => {
                    self.duration("proxy timeout", v)?;
                    let ns = match &v.value {
                        Value::String(d) => parse_duration(d).unwrap_or(0),
                        Value::Int(secs) => secs.saturating_mul(1_000_000_000),
                        _ => 0,
                    };
                    proxy.timeout = ns != 0;
                    proxy.negative_timeout = ns < 0;
                }
                _ => {}
            }
        }
        Ok(proxy)
    }

    /// `permissions`/`default_permissions` of an authorization block, checked only (the
    /// reference's own scope: a wrong type stops the permissions, not the block).
    fn user_permissions(&mut self, tok: &Token) -> Step {
        let Value::Map(m) = &tok.value else {
            let got = go_value(&tok.value);
            let e = BlockError::Other(format!(
                "Expected permissions to be a map/struct, got {got}"
            ));
            self.error(Some(tok), e);
            return Ok(());
        };
        for (key, v) in ordered(m) {
            match key.to_ascii_lowercase().as_str() {
                "pub" | "publish" | "import" => self.variable_permissions(v, false),
                "sub" | "subscribe" | "export" => self.variable_permissions(v, true),
                "publish_allow_responses" | "allow_responses" => {
                    if !matches!(v.value, Value::Bool(_)) {
                        let outcome = self.allow_responses(v);
                        self.recover(outcome);
                    }
                }
                _ if v.used_variable => {}
                _ => {
                    let e = BlockError::Other(format!("Unknown field {key:?} parsing permissions"));
                    self.error(Some(v), e);
                }
            }
        }
        Ok(())
    }

    /// `publish`/`subscribe`: `{allow, deny}`, or (the old style) subjects, whose problems
    /// the reference reports without a position.
    fn variable_permissions(&mut self, tok: &Token, allow_queue: bool) {
        let Value::Map(m) = &tok.value else {
            return self.subjects(tok, allow_queue, false);
        };
        for (key, v) in ordered(m) {
            match key.to_ascii_lowercase().as_str() {
                "allow" | "deny" => self.subjects(v, allow_queue, true),
                _ if v.used_variable => {}
                _ => {
                    let e = BlockError::Other(format!(
                        "Unknown field name {key:?} parsing subject permissions, only 'allow' or \
                         'deny' are permitted"
                    ));
                    self.error(Some(v), e);
                }
            }
        }
    }

    /// `allow_responses: {max, expires}` (a boolean is checked by the caller).
    fn allow_responses(&mut self, tok: &Token) -> Step {
        let Value::Map(m) = &tok.value else {
            let e = BlockError::Other(
                "error parsing response permissions, expected a boolean or a map".into(),
            );
            self.error(Some(tok), e);
            return Ok(());
        };
        for (key, v) in ordered(m) {
            match key.to_ascii_lowercase().as_str() {
                "max" | "max_msgs" | "max_messages" | "max_responses" => self.int(v).map(drop)?,
                "expires" | "expiration" | "ttl" => {
                    let reason = match &v.value {
                        Value::String(s) => match parse_duration(s) {
                            Ok(_) => continue,
                            Err(e) => format!("error parsing expires: {e}"),
                        },
                        _ => "error parsing expires, not a duration string".to_string(),
                    };
                    self.error(Some(v), BlockError::Other(reason));
                    return Ok(());
                }
                _ if v.used_variable => {}
                _ => {
                    let e = BlockError::Other(format!("Unknown field {key:?} parsing permissions"));
                    self.error(Some(v), e);
                }
            }
        }
        Ok(())
    }

    /// A subject or a list of subjects of a permission (with a queue group after a space
    /// when `allow_queue`). `positioned`: whether the reference reports where.
    fn subjects(&mut self, tok: &Token, allow_queue: bool, positioned: bool) {
        let at = positioned.then_some(tok);
        let subjects: Vec<&str> = match &tok.value {
            Value::String(s) => vec![s],
            Value::Array(items) => {
                let mut subjects = Vec::new();
                for item in items {
                    let Value::String(s) = &item.value else {
                        let e = BlockError::Other(
                            "Subject in permissions array cannot be cast to string".into(),
                        );
                        return self.error(Some(item), e);
                    };
                    subjects.push(s.as_str());
                }
                subjects
            }
            other => {
                let e = BlockError::Other(format!(
                    "Expected subject permissions to be a subject, or array of subjects, got {}",
                    other.go_type()
                ));
                return self.error(at, e);
            }
        };
        if let Some(reason) = subjects
            .into_iter()
            .find_map(|s| subject_problem(s, allow_queue))
        {
            self.error(at, BlockError::Other(reason));
        }
    }

    fn websocket(&mut self, m: &Map) -> Step {
        for (key, v) in ordered(m) {
            let Some(lower) = self.known(WEBSOCKET_KEYS, key, v) else {
                continue;
            };
            match lower.as_str() {
                "listen" => self.listen(v),
                "port" => self.int(v).map(drop)?,
                "host" | "net" | "advertise" | "jwt_cookie" | "user_cookie" | "pass_cookie"
                | "token_cookie" | "no_auth_user" => self.string(v).map(drop)?,
                "no_tls" | "same_origin" | "compress" | "compression" => {
                    self.boolean(v).map(drop)?
                }
                "tls" => self.tls(v, true),
                "allowed_origins" | "allowed_origin" | "allow_origins" | "allow_origin"
                | "origins" | "origin" => self.origins(v),
                "handshake_timeout" => match &v.value {
                    Value::Int(_) => {}
                    Value::String(s) => {
                        if let Err(e) = parse_duration(s) {
                            self.error(Some(v), BlockError::Other(e.to_string()));
                        }
                    }
                    other => {
                        let e = BlockError::Other(format!(
                            "error parsing handshake timeout: unsupported type {}",
                            other.go_type()
                        ));
                        self.error(Some(v), e);
                    }
                },
                "authorization" | "authentication" => self.simple_authorization(v)?,
                "headers" => match &v.value {
                    Value::Map(headers) => {
                        for (name, value) in ordered(headers) {
                            if !matches!(value.value, Value::String(_)) {
                                let e = BlockError::Other(format!(
                                    "error parsing header key {name}: unsupported type {}",
                                    value.value.go_type()
                                ));
                                self.error(Some(value), e);
                            }
                        }
                    }
                    other => {
                        let e = BlockError::Other(format!(
                            "error parsing headers: unsupported type {}",
                            other.go_type()
                        ));
                        self.error(Some(v), e);
                    }
                },
                "ping_interval" => self.duration("ping_interval", v)?,
                _ => {}
            }
        }
        Ok(())
    }

    /// `allowed_origins`: a string or a list of strings.
    fn origins(&mut self, tok: &Token) {
        match &tok.value {
            Value::String(_) => {}
            Value::Array(items) => {
                for item in items {
                    if !matches!(item.value, Value::String(_)) {
                        let e = BlockError::Other(format!(
                            "error parsing allowed origins: unsupported type in array {}",
                            item.value.go_type()
                        ));
                        self.error(Some(item), e);
                    }
                }
            }
            other => {
                let e = BlockError::Other(format!(
                    "error parsing allowed origins: unsupported type {}",
                    other.go_type()
                ));
                self.error(Some(tok), e);
            }
        }
    }

    /// The `authorization` of `websocket` and `mqtt`: user, password, token and timeout.
    fn simple_authorization(&mut self, tok: &Token) -> Step {
        let keys = |c: &mut Self| -> Step {
            let m = c.map(tok)?;
            for (key, v) in ordered(m) {
                let Some(lower) = c.known(SIMPLE_AUTHORIZATION_KEYS, key, v) else {
                    continue;
                };
                match lower.as_str() {
                    "user" | "username" | "pass" | "password" | "token" => c.string(v).map(drop)?,
                    // Any type: numbers are used, anything else leaves the default.
                    "timeout" => {}
                    _ => {}
                }
            }
            Ok(())
        };
        if let Err(Stop(i)) = keys(self) {
            self.errors.push(i);
            return Err(Stop(issue(Some(tok), &BlockError::NilAuthorization)));
        }
        Ok(())
    }

    fn mqtt(&mut self, m: &Map) -> Step {
        for (key, v) in ordered(m) {
            let Some(lower) = self.known(MQTT_KEYS, key, v) else {
                continue;
            };
            match lower.as_str() {
                "listen" => self.listen(v),
                "port" | "stream_replicas" => self.int(v).map(drop)?,
                "host" | "net" | "no_auth_user" | "js_domain" => self.string(v).map(drop)?,
                "tls" => self.tls(v, true),
                "authorization" | "authentication" => self.simple_authorization(v)?,
                "ack_wait" | "ackwait" => self.duration("ack_wait", v)?,
                "js_api_timeout" | "api_timeout" => self.duration("js_api_timeout", v)?,
                "consumer_inactive_threshold" | "consumer_auto_cleanup" => {
                    self.duration("consumer_inactive_threshold", v)?
                }
                "max_ack_pending" | "max_pending" | "max_inflight" => {
                    // The reference converts to a machine int before checking the range.
                    let n = self.int(v)?;
                    if !(0..=0xFFFF).contains(&n) {
                        let e = BlockError::Other(format!(
                            "invalid value {n}, should in [0..65535] range"
                        ));
                        self.error(Some(v), e);
                    }
                }
                "consumer_replicas" => self.warning(
                    v,
                    BlockError::Questionable {
                        field: key.to_string(),
                        reason: "consumer replicas setting ignored in this server version".into(),
                    },
                ),
                "consumer_memory_storage" | "reject_qos2_publish" | "downgrade_qos2_subscribe" => {
                    self.boolean(v).map(drop)?
                }
                _ => {}
            }
        }
        Ok(())
    }
}

impl fmt::Display for Block {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Block::Gateway => "gateway",
            Block::LeafNodes => "leafnodes",
            Block::Websocket => "websocket",
            Block::Mqtt => "mqtt",
        })
    }
}

/// What the reference finds wrong with the scalar value of a known `tls {}` key (`lower`
/// is `key` lowercased), apart from `verify` and `verify_and_map`.
fn tls_value_problem(lower: &str, key: &str, v: &Value, client: bool) -> Option<String> {
    match lower {
        "cert_file" | "key_file" | "ca_file" => (!matches!(v, Value::String(_)))
            .then(|| format!("error parsing tls config, expected '{lower}' to be filename")),
        "insecure" | "allow_insecure_cipher_suites" | "verify_cert_and_check_known_urls" => match v
        {
            Value::Bool(true) if client && lower == "verify_cert_and_check_known_urls" => {
                Some(format!("{lower} not supported in this context"))
            }
            Value::Bool(_) => None,
            _ => Some(format!(
                "error parsing tls config, expected '{lower}' to be a boolean"
            )),
        },
        "timeout" => match v {
            Value::Int(_) | Value::Float(_) => None,
            Value::String(s) => parse_duration(s)
                .err()
                .map(|e| format!("error parsing tls config, 'timeout' {e}")),
            _ => Some("error parsing tls config, 'timeout' wrong type".into()),
        },
        "handshake_first" | "first" | "immediate" => match v {
            Value::Bool(_) => None,
            Value::String(s) => {
                let word = matches!(
                    s.to_ascii_lowercase().as_str(),
                    "true" | "on" | "false" | "off" | "auto" | "auto_fallback"
                );
                (!word && parse_duration(s).is_err())
                    .then(|| format!("field {key:?}'s value {s:?} is invalid"))
            }
            other => Some(format!(
                "field {key:?} should be a boolean or a string, got {}",
                other.go_type()
            )),
        },
        "connection_rate_limit" => (!matches!(v, Value::Int(_)))
            .then(|| "error parsing tls config, 'connection_rate_limit' wrong type".into()),
        "cert_store" | "cert_match_by" | "cert_match" => {
            let Value::String(s) = v else {
                return Some(format!("expected '{lower}' to be a valid non-empty string"));
            };
            let known: &[&str] = match lower {
                _ if s.is_empty() => {
                    return Some(format!("expected '{lower}' to be a valid non-empty string"))
                }
                "cert_store" => &["windowscurrentuser", "windowslocalmachine"],
                "cert_match_by" => &["issuer", "subject", "thumbprint"],
                _ => return None,
            };
            Some(
                match (lower, known.contains(&s.to_ascii_lowercase().as_str())) {
                    ("cert_store", true) => {
                        "cert_store not compatible with current operating system".into()
                    }
                    ("cert_store", false) => "cert store type not implemented".into(),
                    (_, true) => return None,
                    (_, false) => "cert match by type not implemented".into(),
                },
            )
        }
        "cert_match_skip_invalid" => (!matches!(v, Value::Bool(_)))
            .then(|| "expected 'cert_match_skip_invalid' to be a boolean".into()),
        // The reference names the type of the whole `tls` map here.
        "ocsp_peer" => (!matches!(v, Value::Bool(_) | Value::Map(_))).then(|| {
            "error parsing ocsp peer config: unsupported type map[string]interface {}".into()
        }),
        "min_version" => {
            let reason = match v {
                Value::String(s) => match s.as_str() {
                    "1.2" | "1.3" => return None,
                    "1.0" | "1.1" => format!("unsupported TLS version: TLS {s}"),
                    other => format!("unknown version: {other}"),
                },
                other => format!("'min_version' wrong type: {}", go_value(other)),
            };
            Some(format!("error parsing tls config: {reason}"))
        }
        _ => None,
    }
}

/// TLS 1.2 and 1.3 cipher suites the reference accepts without more ado.
const SECURE_CIPHERS: &[&str] = &[
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
];

/// Cipher suites the reference accepts only with `allow_insecure_cipher_suites`.
const INSECURE_CIPHERS: &[&str] = &[
    "TLS_RSA_WITH_RC4_128_SHA",
    "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA",
    "TLS_RSA_WITH_AES_256_CBC_SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA",
    "TLS_ECDHE_RSA_WITH_RC4_128_SHA",
    "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
];

/// Key exchange curves the reference knows.
const CURVES: &[&str] = &[
    "SecP384r1MLKEM1024",
    "SecP256r1MLKEM768",
    "X25519MLKEM768",
    "X25519",
    "CurveP256",
    "CurveP384",
    "CurveP521",
];

/// What the reference finds wrong with a list-valued `tls {}` key (`tok` is its value),
/// positioned where it reports it.
fn tls_list_problem(lower: &str, tok: &Token) -> Result<(), Issue> {
    let at = |t: &Token, reason: String| Err(issue(Some(t), &BlockError::Other(reason)));
    let strings = |items: &[Token]| -> Result<(), Issue> {
        match items.iter().find(|i| !matches!(i.value, Value::String(_))) {
            Some(item) => Err(Checker::stop(item, "string").0),
            None => Ok(()),
        }
    };
    match (lower, &tok.value) {
        ("cipher_suites" | "curve_preferences", Value::Array(items)) => {
            if items.is_empty() {
                return at(
                    tok,
                    format!("error parsing tls config, '{lower}' cannot be empty"),
                );
            }
            strings(items)?;
            for item in items {
                let Value::String(name) = &item.value else {
                    continue;
                };
                let (known, what) = if lower == "cipher_suites" {
                    let all = SECURE_CIPHERS.iter().chain(INSECURE_CIPHERS);
                    (all.clone().any(|c| c == name), "cipher")
                } else {
                    (CURVES.contains(&name.as_str()), "curve preference")
                };
                if !known {
                    return at(item, format!("unrecognized {what} {name}"));
                }
            }
            Ok(())
        }
        ("cipher_suites" | "curve_preferences", _) => Err(Checker::stop(tok, "[]interface {}").0),
        ("pinned_certs", Value::Array(items)) => {
            strings(items)?;
            for item in items {
                let Value::String(pin) = &item.value else {
                    continue;
                };
                let pin = pin.to_lowercase();
                if pin.len() != 64 || !pin.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return at(
                        item,
                        format!(
                            "error parsing tls config, 'pinned_certs' key {pin} does not look \
                             like hex-encoded sha256 of DER encoded SubjectPublicKeyInfo"
                        ),
                    );
                }
            }
            Ok(())
        }
        ("pinned_certs", _) => at(
            tok,
            "error parsing tls config, expected 'pinned_certs' to be a list of hex-encoded \
             sha256 of DER encoded SubjectPublicKeyInfo"
                .into(),
        ),
        ("ca_certs_match", Value::Array(items)) => {
            if items.iter().any(|i| !matches!(i.value, Value::String(_))) {
                return at(
                    tok,
                    "error parsing ca_cert_match: unsupported type *conf.token where string is \
                     expected"
                        .into(),
                );
            }
            Ok(())
        }
        ("certs" | "certificates", Value::Array(items)) => {
            for item in items {
                let Value::Map(pair) = &item.value else {
                    let got = item.value.go_type();
                    return at(
                        item,
                        format!("error parsing certificates config: unsupported type {got}"),
                    );
                };
                for (k, v) in ordered(pair) {
                    if !matches!(v.value, Value::String(_)) {
                        let got = v.value.go_type();
                        return at(
                            v,
                            format!("error parsing certificates config: unsupported type {got}"),
                        );
                    }
                    if k != "cert_file" && k != "key_file" {
                        return at(
                            v,
                            format!("error parsing tls certs config, unknown field {k:?}"),
                        );
                    }
                }
                if !(pair.contains_key("cert_file") && pair.contains_key("key_file")) {
                    let last = pair
                        .values()
                        .max_by_key(|t| (t.line, t.pos))
                        .unwrap_or(item);
                    return at(
                        last,
                        "error parsing certificates config: both 'cert_file' and 'cert_key' \
                         options are required"
                            .into(),
                    );
                }
            }
            Ok(())
        }
        ("ocsp_peer", Value::Map(options)) => {
            let Some((inner, reason)) = ocsp_peer_problem(options) else {
                return Ok(());
            };
            // The reference reports it at the key, prefixed with where it was found.
            at(tok, format!("{}: {reason}", inner.source()))
        }
        // The reference names the type of the whole `tls` map here.
        ("certs" | "certificates", _) => at(
            tok,
            "error parsing certificates config: unsupported type map[string]interface {}".into(),
        ),
        _ => Ok(()),
    }
}

/// The first problem of an `ocsp_peer {}` map, and the value it is about.
fn ocsp_peer_problem(options: &Map) -> Option<(&Token, String)> {
    for (key, v) in ordered(options) {
        let conversion = |reason: &str| {
            Some((
                v,
                format!("error parsing tls peer config, conversion error: {reason}"),
            ))
        };
        match (key.to_ascii_lowercase().as_str(), &v.value) {
            (
                "verify" | "warn_only" | "unknown_is_good" | "allow_when_ca_unreachable",
                Value::Bool(_),
            ) => {}
            (
                "allowed_clockskew" | "ca_timeout" | "cache_ttl_when_next_update_unset",
                Value::Int(_) | Value::Float(_),
            ) => {}
            ("allowed_clockskew", Value::String(d)) if parse_duration(d).is_ok() => {}
            ("ca_timeout" | "cache_ttl_when_next_update_unset", Value::String(d)) => {
                if let Err(e) = parse_duration(d) {
                    return conversion(&e.to_string());
                }
            }
            ("allowed_clockskew" | "ca_timeout" | "cache_ttl_when_next_update_unset", _) => {
                return conversion("unexpected type")
            }
            _ => {
                return Some((
                    v,
                    format!("error parsing tls peer config, unknown field [{key:?}]"),
                ))
            }
        }
    }
    None
}

/// What the reference finds wrong with a `tls {}` block as a whole: certificates given two
/// ways, or insecure cipher suites not allowed explicitly.
fn tls_combination_problem(m: &Map) -> Option<String> {
    let get = |name: &str| {
        m.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| &v.value)
    };
    let certs = [get("certs"), get("certificates")]
        .into_iter()
        .flatten()
        .any(|v| matches!(v, Value::Array(a) if !a.is_empty()));
    if certs && matches!(get("cert_file"), Some(Value::String(f)) if !f.is_empty()) {
        return Some(
            "error parsing tls config, cannot combine 'cert_file' option with 'certs' option"
                .into(),
        );
    }
    if matches!(get("allow_insecure_cipher_suites"), Some(Value::Bool(true))) {
        return None;
    }
    let Some(Value::Array(ciphers)) = get("cipher_suites") else {
        return None;
    };
    let insecure: Vec<&str> = ciphers
        .iter()
        .filter_map(|c| match &c.value {
            Value::String(name) if INSECURE_CIPHERS.contains(&name.as_str()) => Some(name.as_str()),
            _ => None,
        })
        .collect();
    (!insecure.is_empty()).then(|| {
        format!(
            "insecure cipher suites configured without 'allow_insecure_cipher_suites' option \
             set: {}",
            insecure.join(", ")
        )
    })
}

/// A subject a permission may name: non-empty tokens without white space, `>` only last.
fn valid_subject(subject: &str) -> bool {
    let mut tokens = subject.split('.').peekable();
    while let Some(t) = tokens.next() {
        let ok = match t.as_bytes() {
            [] => false,
            [b'>'] => tokens.peek().is_none(),
            [c] => !matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c'),
            _ => !t.contains([' ', '\t', '\n', '\r', '\x0c']),
        };
        if !ok {
            return false;
        }
    }
    true
}

/// Why the reference refuses a permission's subject (`allow_queue`: `subject queue` allowed).
fn subject_problem(s: &str, allow_queue: bool) -> Option<String> {
    if valid_subject(s) {
        return None;
    }
    let invalid = |s: &str| Some(format!("subject {s:?} is not a valid subject"));
    if !allow_queue {
        return invalid(s);
    }
    match s.split_whitespace().collect::<Vec<_>>()[..] {
        [subject, _] if !valid_subject(subject) => invalid(subject),
        [_, queue] if !valid_subject(queue) => {
            Some(format!("queue {queue:?} is not a valid queue"))
        }
        [_, _] => None,
        _ => invalid(s),
    }
}

/// Whether Go's `url.Parse` refuses `raw`: control characters, a missing scheme before a
/// colon, a bad `%` escape, or a bad host (a character a host may not have, an unclosed IPv6
/// bracket, a port that is not a number).
fn go_url_parse_fails(raw: &str) -> bool {
    if raw.bytes().any(|b| b < 0x20 || b == 0x7f) || raw.starts_with(':') {
        return true;
    }
    // The query is kept as written; everything else must have valid `%` escapes.
    let (before_fragment, fragment) = raw.split_once('#').unwrap_or((raw, ""));
    let before_query = before_fragment
        .split_once('?')
        .map_or(before_fragment, |(b, _)| b);
    let bad_escape = |part: &str| {
        let bytes = part.as_bytes();
        bytes.iter().enumerate().any(|(i, &b)| {
            b == b'%'
                && !(bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                    && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
        })
    };
    if bad_escape(before_query) || bad_escape(fragment) {
        return true;
    }
    let Some((_, rest)) = raw.split_once("://") else {
        return false;
    };
    let rest = &rest[..rest.find('#').unwrap_or(rest.len())];
    let authority = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let port = if let Some(v6) = host.strip_prefix('[') {
        match v6.find(']') {
            None => return true,
            Some(end) => &v6[end + 1..],
        }
    } else {
        let allowed = |c: char| {
            !c.is_ascii() || c.is_ascii_alphanumeric() || "-_.~!$&'()*+,;=:[]<>\"%".contains(c)
        };
        if !host.chars().all(allowed) {
            return true;
        }
        host.rfind(':').map_or("", |i| &host[i..])
    };
    match port.strip_prefix(':') {
        Some(digits) => !digits.bytes().all(|b| b.is_ascii_digit()),
        None => !port.is_empty(),
    }
}

/// A URL split as Go's `url.Parse` splits it: lowercased scheme and host (`None`: the
/// reference's "missing protocol scheme").
fn scheme_and_host(raw: &str) -> Option<(String, &str)> {
    let mut scheme = "";
    let mut rest = raw;
    for (i, c) in raw.char_indices() {
        match c {
            'a'..='z' | 'A'..='Z' => {}
            '0'..='9' | '+' | '-' | '.' if i > 0 => {}
            ':' if i == 0 => return None,
            ':' => {
                scheme = &raw[..i];
                rest = &raw[i + 1..];
                break;
            }
            _ => break,
        }
    }
    let host = match rest.strip_prefix("//") {
        Some(authority) => {
            let end = authority.find(['/', '?', '#']).unwrap_or(authority.len());
            let authority = &authority[..end];
            authority.rsplit_once('@').map_or(authority, |(_, h)| h)
        }
        None => "",
    };
    Some((scheme.to_ascii_lowercase(), host))
}

/// A URL with its password, if any, replaced by `xxxxx` (as the reference prints URLs).
fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..end].rsplit_once('@') {
        Some((userinfo, _)) if userinfo.contains(':') => {
            let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
            let host_and_rest = &rest[userinfo.len()..];
            format!("{scheme}://{user}:xxxxx{host_and_rest}")
        }
        _ => url.to_string(),
    }
}

/// What the reference finds wrong with a remote's proxy settings.
fn proxy_problem(proxy: &Proxy<'_>, remote: &Remote<'_>) -> Option<String> {
    if proxy.url.is_empty() {
        let other = !proxy.username.is_empty() || !proxy.password.is_empty() || proxy.timeout;
        return other
            .then(|| "proxy URL must be specified when other proxy options are set".into());
    }
    let Some((scheme, host)) = scheme_and_host(&proxy.url) else {
        let url = &proxy.url;
        return Some(format!(
            "invalid proxy URL: parse {url:?}: missing protocol scheme"
        ));
    };
    if scheme != "http" && scheme != "https" {
        return Some(format!(
            "proxy URL scheme must be http or https, got: {scheme}"
        ));
    }
    if host.is_empty() {
        return Some("proxy URL must specify a host".into());
    }
    if proxy.negative_timeout {
        return Some("proxy timeout must be >= 0".into());
    }
    if proxy.username.is_empty() != proxy.password.is_empty() {
        return Some("proxy username and password must both be specified or both be empty".into());
    }
    let tls_url = remote
        .urls
        .iter()
        .find(|u| !remote.tls && scheme_and_host(u).is_some_and(|(s, _)| s == "wss"))?;
    Some(format!(
        "proxy is configured but remote URL {tls_url} requires TLS and no TLS configuration \
         is provided. When using proxy with TLS endpoints, ensure TLS is properly configured \
         for the leafnode remote"
    ))
}

/// `strconv.Atoi`: optional sign and decimal digits that fit in 64 bits.
fn go_atoi(s: &str) -> bool {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) && s.parse::<i64>().is_ok()
}

/// A public user NKEY (`U...`).
fn valid_public_user_key(key: &str) -> bool {
    key.starts_with('U') && nkeys::KeyPair::from_public_key(key).is_ok()
}

/// A user NKEY seed (`SU...`).
fn valid_user_seed(seed: &str) -> bool {
    nkeys::KeyPair::from_seed(seed)
        .map(|kp| matches!(kp.key_pair_type(), nkeys::KeyPairType::User))
        .unwrap_or(false)
}

/// Why a leaf node `min_version` is refused: not a semantic version, or older than 2.8.0.
fn leaf_min_version_problem(version: &str) -> Option<String> {
    let Some((major, minor, patch)) = semver(version) else {
        return Some("invalid leafnode's minimum version: invalid semver".into());
    };
    if (major, minor, patch) >= (2, 8, 0) {
        None
    } else {
        Some("the minimum version should be at least 2.8.0".into())
    }
}

/// `MAJOR.MINOR.PATCH[-pre][+build]` (numbers without leading zeros) into its numbers.
fn semver(v: &str) -> Option<(u64, u64, u64)> {
    let (v, build) = match v.split_once('+') {
        Some((v, b)) => (v, Some(b)),
        None => (v, None),
    };
    let ident =
        |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    let number = |s: &str| {
        (!s.is_empty()
            && s.bytes().all(|b| b.is_ascii_digit())
            && (s == "0" || !s.starts_with('0')))
        .then(|| s.parse::<u64>().ok())
        .flatten()
    };
    if let Some(b) = build {
        if !b.split('.').all(ident) {
            return None;
        }
    }
    let (core, pre) = match v.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (v, None),
    };
    if let Some(p) = pre {
        let ok = p.split('.').all(|id| {
            ident(id) && (!id.bytes().all(|b| b.is_ascii_digit()) || number(id).is_some())
        });
        if !ok {
            return None;
        }
    }
    let mut parts = core.split('.');
    let major = number(parts.next()?)?;
    let minor = number(parts.next()?)?;
    let patch = number(parts.next()?)?;
    if parts.next().is_some() {
        return None;
    }
    Some((major, minor, patch))
}

#[cfg(test)]
mod tests {
    use super::super::{map_options, parse_bytes, Host};

    struct NoFiles;
    impl Host for NoFiles {
        fn read(&mut self, path: &str) -> Result<Vec<u8>, String> {
            Err(format!("open {path}: no such file or directory"))
        }
        fn env(&self, _name: &str) -> Option<String> {
            None
        }
    }

    /// The error and warning lines of a file, and whether it is ignored with a notice.
    fn judge(text: &str) -> (Vec<String>, Vec<String>, usize) {
        let doc = parse_bytes(text.as_bytes(), "b.conf", &mut NoFiles).expect("parses");
        let mapped = map_options("b.conf", &doc.root);
        let lines = |v: &[super::Issue]| v.iter().map(ToString::to_string).collect();
        (
            lines(&mapped.errors),
            lines(&mapped.warnings),
            mapped.ignored.len(),
        )
    }

    fn errors(text: &str) -> Vec<String> {
        judge(text).0
    }

    #[test]
    fn known_keys_pass_and_the_block_is_still_ignored_with_a_notice() {
        let (e, w, ignored) = judge(
            "gateway { name: A, port: 7222, advertise: \"a:1\", connect_retries: 3, \
             gateways: [ {name: B, urls: [\"nats://b:1\"]} ], authorization { user: a, password: b } }\n\
             leaf { port: 7422, remotes: [ {url: \"nats://a:1\", hub: true, proxy: {url: \"http://p:1\"}} ], \
             authorization { users: [ {user: a, password: b, account: A} ] }, compression: { mode: s2_auto } }\n\
             ws { port: 8080, no_tls: true, allowed_origins: [\"http://a\"], headers: { X-A: b } }\n\
             mqtt { port: 1883, max_pending: 100, ack_wait: \"30s\", authorization { token: t } }\n",
        );
        assert!(e.is_empty(), "{e:?}");
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(ignored, 4);
    }

    #[test]
    fn unknown_keys_at_every_level_are_reported_at_the_key() {
        assert_eq!(
            errors("gateway { bogus: 1 }"),
            ["b.conf:1:10: unknown field \"bogus\""]
        );
        assert_eq!(
            errors("leafnodes { remotes: [ {url: \"nats://a:1\", bogus: 2} ] }"),
            ["b.conf:1:43: unknown field \"bogus\""]
        );
        assert_eq!(
            errors("gateway { name: A, gateways: [ {name: B, url: \"nats://b:1\", bogus: 1} ] }"),
            ["b.conf:1:60: unknown field \"bogus\""]
        );
        assert_eq!(
            errors("gateway { name: A, authorization { user: a, password: b, bogus: 1 } }"),
            ["b.conf:1:57: unknown field \"bogus\""]
        );
        assert_eq!(
            errors("ws { port: 8080, no_tls: true, bogus: 1 }"),
            ["b.conf:1:31: unknown field \"bogus\""]
        );
        assert_eq!(
            errors("mqtt { port: 1883, bogus: 1 }"),
            ["b.conf:1:19: unknown field \"bogus\""]
        );
        assert_eq!(
            errors("leaf { compression: { mode: s2_fast, bogus: 1 } }"),
            ["b.conf:1:37: unknown field \"bogus\""]
        );
        assert_eq!(
            errors("gateway { name: A, port: 7222, tls { bogus: 1 } }"),
            ["b.conf:1:37: error parsing tls config, unknown field \"bogus\""]
        );
    }

    #[test]
    fn several_unknown_keys_are_all_reported() {
        let mut e = errors("mqtt {\n  bogus: 1\n  port: 1883\n  other: 2\n}\n");
        e.sort();
        assert_eq!(
            e,
            [
                "b.conf:2:3: unknown field \"bogus\"",
                "b.conf:4:3: unknown field \"other\""
            ]
        );
    }

    #[test]
    fn a_wrong_type_stops_the_block_like_the_reference() {
        assert_eq!(
            errors("gateway { name: A\n port: \"x\"\n}"),
            ["b.conf:2:2: interface conversion: interface {} is string, not int64"]
        );
        assert_eq!(
            errors("leafnodes { authorization { user: 5 } }"),
            [
                "b.conf:1:28: interface conversion: interface {} is int64, not string",
                "b.conf:1:12: runtime error: invalid memory address or nil pointer dereference"
            ]
        );
        assert_eq!(
            errors("gateway: 5"),
            ["b.conf:1:0: Expected gateway to be a map, got int64"]
        );
        assert_eq!(
            errors("leaf: true"),
            ["b.conf:1:0: Expected map to define a leafnode, got bool"]
        );
        assert_eq!(
            errors("gateway { name: A, gateways: 5 }"),
            ["Expected gateways field to be an array, got int64"]
        );
    }

    #[test]
    fn values_are_checked_with_the_reference_words() {
        assert_eq!(
            errors("leafnodes { listen: \"nope\" }"),
            ["b.conf:1:12: could not parse address string \"nope\""]
        );
        assert_eq!(
            errors("leafnodes { min_version: \"2.7.0\" }"),
            ["b.conf:1:12: the minimum version should be at least 2.8.0"]
        );
        assert_eq!(
            errors("leafnodes { min_version: \"2.08.0\" }"),
            ["b.conf:1:12: invalid leafnode's minimum version: invalid semver"]
        );
        assert_eq!(
            errors("mqtt { max_pending: 70000 }"),
            ["b.conf:1:7: invalid value 70000, should in [0..65535] range"]
        );
        assert_eq!(
            errors("gateway { name: \"A B\" }"),
            ["b.conf:1:10: gateway name cannot contain spaces"]
        );
        assert_eq!(
            errors("gateway { name: A, authorization { token: t } }"),
            ["b.conf:1:19: Gateway authorization does not support tokens"]
        );
        assert_eq!(
            errors("leafnodes { remotes: [ {url: \"nats://a:1\", seed: \"abc\"} ] }"),
            ["b.conf:1:43: Remote leafnode nkey is not a valid seed: \"abc\""]
        );
        assert_eq!(
            errors("leafnodes { authorization { user: a, users: [ {user: b} ] } }"),
            ["b.conf:1:12: can not have a single user/pass and a users array"]
        );
        assert_eq!(
            errors("websocket { headers: { X-A: 5 } }"),
            ["b.conf:1:23: error parsing header key X-A: unsupported type int64"]
        );
        assert_eq!(
            errors("leaf { tls { cert_file: \"c.pem\" } }"),
            ["b.conf:1:7: missing 'key_file' in TLS configuration"]
        );
    }

    #[test]
    fn warnings_are_the_reference_warnings() {
        let (e, w, _) = judge("gateway { name: A, write_deadline: 5 }");
        assert!(e.is_empty());
        assert_eq!(
            w,
            ["b.conf:1:19: invalid use of field \"write_deadline\": write_deadline should be converted to a duration"]
        );
        let (_, w, _) = judge("mqtt { consumer_replicas: 1 }");
        assert_eq!(
            w,
            ["b.conf:1:7: invalid use of field \"consumer_replicas\": consumer replicas setting ignored in this server version"]
        );
    }

    #[test]
    fn keys_are_case_insensitive_and_variables_are_not_unknown() {
        assert!(errors("GATEWAY { NAME: A, Port: 7222 }").is_empty());
        // A key whose value a `$variable` refers to is a variable definition, not unknown.
        assert!(errors("mqtt {\n  x: 1883\n  port: $x\n}").is_empty());
        assert_eq!(
            errors("x = 5\nmqtt { y: $x }"),
            ["b.conf:2:8: unknown field \"y\""]
        );
    }

    #[test]
    fn semver_follows_the_reference_pattern() {
        assert_eq!(super::semver("2.10.3"), Some((2, 10, 3)));
        assert_eq!(super::semver("2.10.3-beta.1+b5"), Some((2, 10, 3)));
        assert_eq!(super::semver("2.10"), None);
        assert_eq!(super::semver("02.10.0"), None);
        assert_eq!(super::semver("2.10.0-01"), None);
    }

    #[test]
    fn subjects_urls_and_proxies_follow_the_reference() {
        assert!(super::valid_subject("a.*.>"));
        assert!(!super::valid_subject("a..b"));
        assert!(!super::valid_subject(">.a"));
        assert!(!super::valid_subject("a b.c"));
        assert_eq!(
            super::redact_url("nats://u:pw@h:1/x"),
            "nats://u:xxxxx@h:1/x"
        );
        assert_eq!(super::redact_url("nats://u@h:1"), "nats://u@h:1");
        assert_eq!(
            super::scheme_and_host("HTTP://u:p@proxy:3128/x"),
            Some(("http".to_string(), "proxy:3128"))
        );
        assert_eq!(
            super::scheme_and_host("proxy.example.com:3128"),
            Some(("proxy.example.com".to_string(), ""))
        );
        assert_eq!(super::scheme_and_host(":p"), None);
        assert_eq!(
            errors("leaf { remotes: [ {url: \"nats://a:1\"}, {url: \"nats://a:1\"} ] }"),
            ["b.conf:1:40: duplicate remote urls=[\"nats://a:1\"], account=\"$G\""]
        );
        assert_eq!(
            errors("leaf { remotes: [ {url: \"wss://a:1\", proxy: {url: \"http://p:1\"}} ] }"),
            ["b.conf:1:37: proxy is configured but remote URL wss://a:1 requires TLS and no TLS \
              configuration is provided. When using proxy with TLS endpoints, ensure TLS is \
              properly configured for the leafnode remote"]
        );
        assert_eq!(
            errors("leaf { remotes: [ {url: \"nats://a:1\", deny_imports: \"foo..bar\"} ] }"),
            ["b.conf:1:38: subject \"foo..bar\" is not a valid subject"]
        );
    }

    #[test]
    fn nested_tls_blocks_are_judged_like_the_reference() {
        assert!(errors("leaf { tls { timeout: \"2s\", handshake_first: \"on\", cipher_suites: [\"TLS_AES_128_GCM_SHA256\"] } }").is_empty());
        assert_eq!(
            errors("leaf { tls { min_version: \"1.1\" } }"),
            ["b.conf:1:13: error parsing tls config: unsupported TLS version: TLS 1.1"]
        );
        assert_eq!(
            errors("leaf { tls { verify: 5 } }"),
            ["b.conf:1:13: error parsing tls config, expected 'verify' to be a boolean"]
        );
        assert_eq!(
            errors("leaf { tls { verify_cert_and_check_known_urls: true } }"),
            ["b.conf:1:13: verify_cert_and_check_known_urls not supported in this context"]
        );
        assert!(
            errors("gateway { name: A, tls { verify_cert_and_check_known_urls: true } }")
                .is_empty()
        );
    }

    #[test]
    fn gateway_authorization_permissions_are_checked() {
        let auth = |perms: &str| {
            errors(&format!(
                "gateway {{ name: A, authorization {{ user: a, password: b, permissions: {perms} }} }}"
            ))
        };
        assert!(auth("{ publish: [\"a\", \"b.>\"], subscribe: { allow: \"c q\" } }").is_empty());
        assert_eq!(
            auth("{ bogus: 1 }"),
            ["b.conf:1:72: Unknown field \"bogus\" parsing permissions"]
        );
        assert_eq!(
            auth("{ publish: \"a..b\" }"),
            ["subject \"a..b\" is not a valid subject"]
        );
        assert_eq!(
            auth("{ subscribe: { allow: [\"a b..\"] } }"),
            ["b.conf:1:85: queue \"b..\" is not a valid queue"]
        );
        assert_eq!(
            auth("5"),
            ["b.conf:1:57: Expected permissions to be a map/struct, got 5"]
        );
    }

    #[test]
    fn gateway_authorization_users_are_checked_then_refused() {
        let users = |list: &str| {
            let mut e = errors(&format!(
                "gateway {{ name: A, authorization {{ users: {list} }} }}"
            ));
            e.sort();
            e
        };
        assert_eq!(
            users("[ {user: a, bogus: 1} ]"),
            [
                "b.conf:1:19: Gateway authorization does not allow multiple users",
                "b.conf:1:54: unknown field \"bogus\""
            ]
        );
        assert_eq!(
            users("[ {password: a} ]"),
            ["b.conf:1:45: User entry requires a user"]
        );
        assert_eq!(
            users("[ {user: a, clients: [\"foo\", \"mqtt\"]} ]"),
            [
                "b.conf:1:19: Gateway authorization does not allow multiple users",
                "b.conf:1:54: invalid connection types [\"FOO\"]"
            ]
        );
        assert_eq!(
            users("[ {nkey: \"UX\"} ]"),
            ["b.conf:1:45: Not a valid public nkey for a user"]
        );
    }

    #[test]
    fn gateway_authorization_callouts_are_checked_then_refused() {
        let callout = |body: &str| {
            let mut e = errors(&format!(
                "gateway {{ name: A, authorization {{ auth_callout {body} }} }}"
            ));
            e.sort();
            e
        };
        let issuer = "ABJHLOVMPA4CI6R5KLNGOB4GSLNIY7IOUPAJC4YFNDLQVIOBYQGUWVLA";
        assert_eq!(
            callout(&format!("{{ issuer: {issuer}, auth_users: [a] }}")),
            ["b.conf:1:19: Gateway authorization does not support callouts"]
        );
        assert_eq!(
            callout("{ }"),
            ["b.conf:1:35: Authorization callouts require an issuer to be specified"]
        );
        assert_eq!(
            callout(&format!("{{ issuer: {issuer} }}")),
            ["b.conf:1:50: Authorization callouts require authorized users to be specified"]
        );
        assert_eq!(
            callout("{ issuer: \"x\" }"),
            ["b.conf:1:50: Expected callout user to be a valid public account nkey, got \"x\""]
        );
    }

    #[test]
    fn urls_go_refuses_are_reported() {
        for bad in [
            "nats://a:port",
            "nats://a b:1",
            ":x",
            "nats://[::1",
            "nats://[::1]x",
            "nats://a:1/%zz",
            "nats://a%zz:1",
            "%",
            "nats://a|b:1",
        ] {
            assert!(super::go_url_parse_fails(bad), "{bad}");
        }
        for good in [
            "nats://u:p@a:1",
            "a:1",
            "nats://a:",
            "nats://a:1:2",
            "nats://[::1]:4222",
            "nats://a:99999999",
            "nats://a?x=%20",
            "nats://a:1/x?y=%",
        ] {
            assert!(!super::go_url_parse_fails(good), "{good}");
        }
        assert_eq!(
            errors("leaf { remotes: [ {urls: [\"nats://a:port\"]} ] }"),
            ["b.conf:1:27: error parsing leafnode url [\"nats://a:port\"]"]
        );
        assert_eq!(
            errors("gateway { name: A, gateways: [ {name: B, url: \"nats://a b:1\"} ] }"),
            ["b.conf:1:41: error parsing gateway url [\"nats://a b:1\"]"]
        );
    }

    #[test]
    fn tls_lists_and_combinations_follow_the_reference() {
        assert!(errors(
            "leaf { tls { cipher_suites: [\"TLS_AES_128_GCM_SHA256\"], curve_preferences: [\"X25519\"] } }"
        )
        .is_empty());
        assert_eq!(
            errors("leaf { tls { cipher_suites: [\"TLS_RSA_WITH_RC4_128_SHA\"] } }"),
            ["b.conf:1:7: insecure cipher suites configured without 'allow_insecure_cipher_suites' \
              option set: TLS_RSA_WITH_RC4_128_SHA"]
        );
        assert!(errors(
            "leaf { tls { cipher_suites: [\"TLS_RSA_WITH_RC4_128_SHA\"], allow_insecure_cipher_suites: true } }"
        )
        .is_empty());
        assert_eq!(
            errors("leaf { tls { cipher_suites: [\"nope\"] } }"),
            ["b.conf:1:30: unrecognized cipher nope"]
        );
        assert_eq!(
            errors("leaf { tls { cipher_suites: [] } }"),
            ["b.conf:1:13: error parsing tls config, 'cipher_suites' cannot be empty"]
        );
        assert_eq!(
            errors("leaf { tls { curve_preferences: \"X25519\" } }"),
            ["b.conf:1:13: interface conversion: interface {} is string, not []interface {}"]
        );
        assert_eq!(
            errors("leaf { tls { cert_store: \"WindowsCurrentUser\" } }"),
            ["b.conf:1:13: cert_store not compatible with current operating system"]
        );
        assert_eq!(
            errors("leaf { tls { certs: [ {cert_file: \"c\"} ] } }"),
            [
                "b.conf:1:23: error parsing certificates config: both 'cert_file' and 'cert_key' \
              options are required"
            ]
        );
        assert_eq!(
            errors("leaf { remotes: [ { proxy: { timeout: \"-1s\" } } ] }"),
            ["b.conf:1:20: proxy URL must be specified when other proxy options are set"]
        );
        assert!(errors("leaf { remotes: [ { proxy: { timeout: \"0s\" } } ] }").is_empty());
    }

    #[test]
    fn ocsp_peer_options_follow_the_reference() {
        assert!(errors(
            "leaf { tls { ocsp_peer: { verify: true, ca_timeout: 2, allowed_clockskew: \"1s\" } } }"
        )
        .is_empty());
        assert_eq!(
            errors("leaf { tls { ocsp_peer: { bogus: 1 } } }"),
            ["b.conf:1:13: b.conf:1:26: error parsing tls peer config, unknown field [\"bogus\"]"]
        );
        assert_eq!(
            errors("leaf { tls { ocsp_peer: { ca_timeout: \"x\" } } }"),
            [
                "b.conf:1:13: b.conf:1:26: error parsing tls peer config, conversion error: time: \
              invalid duration \"x\""
            ]
        );
    }

    #[test]
    fn every_table_key_is_known_where_the_table_applies() {
        use super::*;
        let places: &[(&str, &[&str])] = &[
            ("gateway { KEY: 1 }", GATEWAY_KEYS),
            ("gateway { gateways: [ { KEY: 1 } ] }", GATEWAY_ENTRY_KEYS),
            (
                "gateway { authorization { KEY: 1 } }",
                GATEWAY_AUTHORIZATION_KEYS,
            ),
            (
                "gateway { authorization { users: [ { KEY: 1 } ] } }",
                GENERAL_USER_KEYS,
            ),
            ("leafnodes { KEY: 1 }", LEAFNODES_KEYS),
            (
                "leafnodes { authorization { KEY: 1 } }",
                LEAF_AUTHORIZATION_KEYS,
            ),
            (
                "leafnodes { authorization { users: [ { KEY: 1 } ] } }",
                LEAF_USER_KEYS,
            ),
            ("leafnodes { remotes: [ { KEY: 1 } ] }", REMOTE_KEYS),
            (
                "leafnodes { remotes: [ { proxy { KEY: 1 } } ] }",
                REMOTE_PROXY_KEYS,
            ),
            ("leafnodes { compression { KEY: 1 } }", COMPRESSION_KEYS),
            ("websocket { KEY: 1 }", WEBSOCKET_KEYS),
            (
                "websocket { authorization { KEY: 1 } }",
                SIMPLE_AUTHORIZATION_KEYS,
            ),
            ("mqtt { KEY: 1 }", MQTT_KEYS),
            (
                "mqtt { authorization { KEY: 1 } }",
                SIMPLE_AUTHORIZATION_KEYS,
            ),
            ("mqtt { tls { KEY: 1 } }", TLS_KEYS),
        ];
        for (template, keys) in places {
            for key in *keys {
                let text = template.replace("KEY", key);
                let unknown: Vec<String> = errors(&text)
                    .into_iter()
                    .filter(|e| e.contains("unknown field"))
                    .collect();
                assert!(unknown.is_empty(), "{text}: {unknown:?}");
            }
            let text = template.replace("KEY", "not_a_key");
            assert!(
                errors(&text).iter().any(|e| e.contains("unknown field")),
                "{text}"
            );
        }
    }
}
