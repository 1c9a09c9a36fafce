//! The `tls {}` block of the client listener.

use std::time::Duration;

use super::options::Issue;
use super::value::{Token, Value};

/// What a `tls {}` block sets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsFileOptions {
    /// `cert_file`.
    pub cert_file: Option<String>,
    /// `key_file`.
    pub key_file: Option<String>,
    /// `ca_file`.
    pub ca_file: Option<String>,
    /// `verify`.
    pub verify: bool,
    /// `verify_and_map`: verify, and authenticate the client by its certificate.
    pub verify_and_map: bool,
    /// `min_version`: `1.3` restricts clients to TLS 1.3 (1.2 is the default minimum).
    pub tls13_only: bool,
    /// `timeout` (seconds, may be fractional).
    pub timeout: Option<Duration>,
    /// `handshake_first` (`true`, or `"auto"`/a duration for the delayed fallback).
    pub handshake_first: bool,
    /// With `handshake_first: auto` (or a duration): how long to wait for a TLS client hello
    /// before sending INFO in plain text.
    pub handshake_first_fallback: Option<Duration>,
}

/// Records `message` as an error at `tok`'s position.
pub(super) fn err(errors: &mut Vec<Issue>, tok: &Token, message: impl Into<String>) {
    errors.push(Issue {
        source: Some(tok.source()),
        message: message.into(),
    });
}

/// `tok`'s string, or the reference's type error when it is not one.
pub(super) fn string(errors: &mut Vec<Issue>, tok: &Token) -> Option<String> {
    match &tok.value {
        Value::String(s) => Some(s.clone()),
        other => {
            err(
                errors,
                tok,
                format!(
                    "interface conversion: interface {{}} is {}, not string",
                    other.go_type()
                ),
            );
            None
        }
    }
}

/// Reads a `tls {}` block. Keys this server cannot honour (cipher and curve choices, pinned
/// certificates, OCSP, `verify_and_map`, ...) are refused rather than silently ignored: each
/// would weaken or change security if dropped.
pub(super) fn tls_block(tok: &Token, errors: &mut Vec<Issue>) -> Option<TlsFileOptions> {
    let Value::Map(m) = &tok.value else {
        err(
            errors,
            tok,
            format!("Expected tls to be a map, got {}", tok.value.go_type()),
        );
        return None;
    };
    let mut t = TlsFileOptions::default();
    for (k, v) in m {
        match k.to_ascii_lowercase().as_str() {
            "cert_file" => t.cert_file = string(errors, v),
            "key_file" => t.key_file = string(errors, v),
            "ca_file" => t.ca_file = string(errors, v),
            "verify" => match v.value {
                Value::Bool(b) => t.verify = b,
                _ => err(
                    errors,
                    v,
                    "error parsing tls config, expected 'verify' to be a boolean",
                ),
            },
            "verify_and_map" => match v.value {
                Value::Bool(b) => {
                    t.verify_and_map = b;
                    t.verify |= b;
                }
                _ => err(
                    errors,
                    v,
                    "error parsing tls config, expected 'verify_and_map' to be a boolean",
                ),
            },
            "min_version" => match string(errors, v).as_deref() {
                Some("1.2") | Some("1.0") | Some("1.1") => {}
                Some("1.3") => t.tls13_only = true,
                Some(other) => err(errors, v, format!("unknown version: {other}")),
                None => {}
            },
            "timeout" => match v.value {
                Value::Int(s) if s >= 0 => t.timeout = Some(Duration::from_secs(s.unsigned_abs())),
                Value::Float(s) if s >= 0.0 => t.timeout = Some(Duration::from_secs_f64(s)),
                _ => err(errors, v, "error parsing tls config, 'timeout' wrong type"),
            },
            "handshake_first" | "first" | "immediate" => match &v.value {
                Value::Bool(b) => t.handshake_first = *b,
                Value::String(s) if s.eq_ignore_ascii_case("auto") => {
                    t.handshake_first = true;
                    t.handshake_first_fallback = Some(Duration::from_millis(50));
                }
                Value::String(s) => match super::duration::parse_duration(s) {
                    Ok(ns) => {
                        t.handshake_first = true;
                        t.handshake_first_fallback =
                            Some(Duration::from_nanos(u64::try_from(ns).unwrap_or(0)));
                    }
                    Err(e) => err(errors, v, format!("error parsing handshake_first: {e}")),
                },
                _ => err(
                    errors,
                    v,
                    "error parsing tls config, 'handshake_first' wrong type",
                ),
            },
            other => err(
                errors,
                v,
                format!(
                    "tls option {other:?} is not supported by this server yet; \
                     refusing to start rather than ignore it"
                ),
            ),
        }
    }
    Some(t)
}
