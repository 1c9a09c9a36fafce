//! The `cluster {}` block: the route listener, routes, route authorization, pooling and
//! route permissions, read and checked as the reference reads them.

use std::time::Duration;

use super::options::{split_host_port, Issue};
use super::tls_block::{err, string};
use super::value::{Map, Token, Value};
use crate::auth::SubjectRules;

/// What a `cluster {}` block sets.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClusterFileOptions {
    /// `name`.
    pub name: Option<String>,
    /// `host`, or the host of `listen`.
    pub host: Option<String>,
    /// `port`, or the port of `listen`.
    pub port: Option<i64>,
    /// `advertise`/`cluster_advertise`.
    pub advertise: Option<String>,
    /// `no_advertise`.
    pub no_advertise: Option<bool>,
    /// `routes`.
    pub routes: Vec<String>,
    /// `authorization { user, password }`.
    pub user: Option<String>,
    /// The route password.
    pub password: Option<String>,
    /// `authorization { timeout }` (seconds).
    pub auth_timeout: Option<Duration>,
    /// `connect_retries`.
    pub connect_retries: Option<i64>,
    /// `pool_size`.
    pub pool_size: Option<i64>,
    /// `accounts`: accounts with a dedicated route.
    pub accounts: Vec<String>,
    /// `permissions { import, export }`.
    pub import: Option<SubjectRules>,
    /// See `import`.
    pub export: Option<SubjectRules>,
    /// The routes' `tls {}` block.
    pub tls: Option<super::tls_block::TlsFileOptions>,
}

fn int(errors: &mut Vec<Issue>, tok: &Token) -> Option<i64> {
    match &tok.value {
        Value::Int(i) => Some(*i),
        other => {
            err(
                errors,
                tok,
                format!(
                    "interface conversion: interface {{}} is {}, not int64",
                    other.go_type()
                ),
            );
            None
        }
    }
}

fn strings(errors: &mut Vec<Issue>, tok: &Token) -> Vec<String> {
    match &tok.value {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items.iter().filter_map(|t| string(errors, t)).collect(),
        other => {
            err(
                errors,
                tok,
                format!(
                    "interface conversion: interface {{}} is {}, not []interface {{}}",
                    other.go_type()
                ),
            );
            Vec::new()
        }
    }
}

fn rules(errors: &mut Vec<Issue>, tok: &Token) -> SubjectRules {
    match &tok.value {
        Value::Map(m) => {
            let mut r = SubjectRules::default();
            for (k, v) in m {
                match k.to_lowercase().as_str() {
                    "allow" => r.allow = strings(errors, v),
                    "deny" => r.deny = strings(errors, v),
                    other => err(
                        errors,
                        v,
                        format!("Unknown field \"{other}\" parsing permissions"),
                    ),
                }
            }
            r
        }
        _ => SubjectRules {
            allow: strings(errors, tok),
            deny: Vec::new(),
        },
    }
}

fn authorization(errors: &mut Vec<Issue>, m: &Map, out: &mut ClusterFileOptions) {
    for (k, v) in m {
        match k.to_lowercase().as_str() {
            "user" | "username" => out.user = string(errors, v),
            "pass" | "password" => out.password = string(errors, v),
            "timeout" => {
                out.auth_timeout = match &v.value {
                    Value::Int(s) => Some(Duration::from_secs(u64::try_from(*s).unwrap_or(0))),
                    Value::Float(f) if *f >= 0.0 => Some(Duration::from_secs_f64(*f)),
                    _ => {
                        err(errors, v, "error parsing authorization timeout");
                        None
                    }
                }
            }
            "users" | "token" | "nkeys" | "accounts" => err(
                errors,
                v,
                "Cluster authorization does not allow multiple users or tokens",
            ),
            other => err(errors, v, format!("unknown field {other:?}")),
        }
    }
}

/// Reads a `cluster {}` block; problems go to `errors`.
pub fn cluster_block(tok: &Token, errors: &mut Vec<Issue>) -> Option<ClusterFileOptions> {
    let Value::Map(m) = &tok.value else {
        err(
            errors,
            tok,
            format!(
                "Expected map to define cluster, got {}",
                tok.value.go_type()
            ),
        );
        return None;
    };
    let mut out = ClusterFileOptions::default();
    let mut entries: Vec<(&String, &Token)> = m.iter().collect();
    entries.sort_by_key(|(_, t)| (t.file.clone(), t.line, t.pos));
    for (key, v) in entries {
        match key.to_lowercase().as_str() {
            "name" => {
                if let Some(name) = string(errors, v) {
                    if name.contains(' ') {
                        err(errors, v, "cluster name cannot contain spaces");
                    } else {
                        out.name = Some(name);
                    }
                }
            }
            "listen" => match &v.value {
                Value::Int(p) => out.port = Some(*p),
                Value::String(s) => match split_host_port(s) {
                    Some((h, p)) => match p.parse::<i64>() {
                        Ok(p) => {
                            out.host = Some(h.to_string());
                            out.port = Some(p);
                        }
                        Err(_) => err(errors, v, format!("could not parse port {p:?}")),
                    },
                    None => err(errors, v, format!("could not parse address string {s:?}")),
                },
                other => err(
                    errors,
                    v,
                    format!("expected port or host:port, got {}", other.go_type()),
                ),
            },
            "host" | "net" => out.host = string(errors, v),
            "port" => out.port = int(errors, v),
            "advertise" | "cluster_advertise" => out.advertise = string(errors, v),
            "no_advertise" => match v.value {
                Value::Bool(b) => out.no_advertise = Some(b),
                _ => err(errors, v, "interface conversion: not bool"),
            },
            "routes" => out.routes = strings(errors, v),
            "authorization" => match &v.value {
                Value::Map(a) => authorization(errors, a, &mut out),
                other => err(
                    errors,
                    v,
                    format!(
                        "Expected authorization to be a map, got {}",
                        other.go_type()
                    ),
                ),
            },
            "connect_retries" => out.connect_retries = int(errors, v),
            "pool_size" => out.pool_size = int(errors, v),
            "accounts" => out.accounts = strings(errors, v),
            "permissions" => match &v.value {
                Value::Map(p) => {
                    for (k, r) in p {
                        match k.to_lowercase().as_str() {
                            "import" => out.import = Some(rules(errors, r)),
                            "export" => out.export = Some(rules(errors, r)),
                            other => err(
                                errors,
                                r,
                                format!("Unknown field \"{other}\" parsing permissions"),
                            ),
                        }
                    }
                }
                other => err(
                    errors,
                    v,
                    format!("Expected permissions to be a map, got {}", other.go_type()),
                ),
            },
            "tls" => out.tls = super::tls_block::tls_block(v, errors),
            "compression" | "ping_interval" | "ping_max" | "write_deadline" | "write_timeout"
            | "connect_backoff" | "compress" => {}
            _ if v.used_variable => {}
            _ => err(errors, v, format!("unknown field {key:?}")),
        }
    }
    Some(out)
}
