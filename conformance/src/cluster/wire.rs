//! Summaries of captured route connections (see [`super::TcpProxy::captured`])
//! that can be compared between clusters: the handshake `CONNECT` and `INFO`
//! with the fields that differ per run masked and their key order kept,
//! and the interest lines exchanged.

use serde_json::Value;

use super::proxy::Captured;

/// Fields whose values differ on every run; only their presence is compared.
const VARIABLE: &[&str] = &[
    "server_id",
    "server_name",
    "name",
    "nonce",
    "port",
    "connect_urls",
    "go",
    "ip",
];

/// One JSON operation (`INFO` or `CONNECT`) as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonOp {
    /// Top-level keys in the order they were written.
    pub keys: Vec<String>,
    /// The object with the fields that vary per run (ids, names, nonce,
    /// ports, URLs, Go version) replaced by a marker.
    pub masked: Value,
    /// The whole line as sent, `\r\n` included.
    pub raw: String,
}

/// The comparable summary of one route connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSummary {
    /// The soliciting side's `CONNECT`.
    pub connect: Option<JsonOp>,
    /// The soliciting side's handshake `INFO`.
    pub solicitor_info: Option<JsonOp>,
    /// The accepting side's handshake `INFO`.
    pub acceptor_info: Option<JsonOp>,
    /// `RS+`/`RS-`/`LS+`/`LS-` lines from the solicitor, outside `$SYS`.
    pub solicitor_interest: Vec<String>,
    /// Interest lines from the acceptor, outside `$SYS`.
    pub acceptor_interest: Vec<String>,
    /// Message control lines from the solicitor, outside `$SYS`, except
    /// those of 5-byte payloads (interest probes, sent a varying number of times).
    pub solicitor_messages: Vec<String>,
    /// Message control lines from the acceptor, likewise.
    pub acceptor_messages: Vec<String>,
}

impl RouteSummary {
    /// Summarises one captured connection.
    pub fn of(captured: &Captured) -> RouteSummary {
        RouteSummary {
            connect: first_json(&captured.to_target, "CONNECT"),
            solicitor_info: first_json(&captured.to_target, "INFO"),
            acceptor_info: first_json(&captured.from_target, "INFO"),
            solicitor_interest: interest_lines(&captured.to_target),
            acceptor_interest: interest_lines(&captured.from_target),
            solicitor_messages: message_lines(&captured.to_target),
            acceptor_messages: message_lines(&captured.from_target),
        }
    }

    /// The solicitor's `route_pool_idx` (0 when absent) or its `route_account`.
    pub fn slot(&self) -> String {
        let info = self.solicitor_info.as_ref().map(|i| &i.masked);
        match info {
            Some(info) => match info.get("route_account").and_then(Value::as_str) {
                Some(account) => format!("account {account}"),
                None => format!(
                    "pool {}",
                    info.get("route_pool_idx")
                        .and_then(Value::as_u64)
                        .unwrap_or(0)
                ),
            },
            None => "no INFO".into(),
        }
    }
}

/// The first line starting with `<op> ` in `bytes`, parsed.
pub fn first_json(bytes: &[u8], op: &str) -> Option<JsonOp> {
    let text = String::from_utf8_lossy(bytes);
    let prefix = format!("{op} ");
    let start = text
        .match_indices(&prefix)
        .map(|(i, _)| i)
        .find(|&i| i == 0 || text[..i].ends_with('\n'))?;
    let line_end = text[start..].find('\n').map(|e| start + e + 1)?;
    let raw = text[start..line_end].to_string();
    let json = raw[prefix.len()..].trim_end();
    let value: Value = serde_json::from_str(json).ok()?;
    let mut keys: Vec<(usize, String)> = value
        .as_object()?
        .keys()
        .map(|k| {
            (
                json.find(&format!("\"{k}\":")).unwrap_or(usize::MAX),
                k.clone(),
            )
        })
        .collect();
    keys.sort();
    let mut masked = value.clone();
    if let Some(object) = masked.as_object_mut() {
        for key in VARIABLE {
            if let Some(v) = object.get_mut(*key) {
                *v = Value::String("<varies>".into());
            }
        }
    }
    Some(JsonOp {
        keys: keys.into_iter().map(|(_, k)| k).collect(),
        masked,
        raw,
    })
}

/// Interest lines (`RS+`, `RS-`, `LS+`, `LS-`) outside the system account.
pub fn interest_lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .split("\r\n")
        .filter(|l| {
            ["RS+ ", "RS- ", "LS+ ", "LS- "]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .filter(|l| !l.contains("$SYS"))
        .map(str::to_string)
        .collect()
}

/// Message control lines (`RMSG`, `HMSG`, `LMSG`) outside the system
/// account, leaving out those announcing a 5-byte payload (probes).
pub fn message_lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .split("\r\n")
        .filter(|l| ["RMSG ", "HMSG ", "LMSG "].iter().any(|p| l.starts_with(p)))
        .filter(|l| !l.contains("$SYS") && !l.ends_with(" 5"))
        .map(str::to_string)
        .collect()
}

/// Every `INFO` after the first one in `bytes` (gossip and updates), parsed.
pub fn later_infos(bytes: &[u8]) -> Vec<JsonOp> {
    let text = String::from_utf8_lossy(bytes);
    let mut infos = Vec::new();
    let mut offset = 0;
    // Each turn consumes one line.
    while offset < text.len() {
        let end = text[offset..]
            .find('\n')
            .map_or(text.len(), |e| offset + e + 1);
        if text[offset..].starts_with("INFO ") {
            if let Some(op) = first_json(text[offset..end].as_bytes(), "INFO") {
                infos.push(op);
            }
        }
        offset = end;
    }
    if !infos.is_empty() {
        infos.remove(0);
    }
    infos
}
