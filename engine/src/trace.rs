//! Log events the engine produces for the runtime to write: protocol trace lines (`-V`),
//! debug lines (`-D`) and errors, worded like the reference's.
//!
//! The engine only records them (when enabled); the runtime drains them after each input with
//! [`crate::Client::drain_log`] and hands them to its logger.

use std::fmt::Write;

use proto::ConnectInfo;

/// How important a log event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    /// `[ERR]`.
    Error,
    /// `[INF]`.
    Info,
    /// `[DBG]`.
    Debug,
    /// `[TRC]`.
    Trace,
}

/// One log line (without the pid, time and level tag).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEvent {
    /// Its level.
    pub level: LogLevel,
    /// Its text, starting with the connection's prefix.
    pub text: String,
}

/// The prefix of a connection's log lines: `127.0.0.1:5000 - cid:5 - "v1.0:go:name" - `
/// (the quoted part only once CONNECT named the client library).
pub fn client_prefix(
    peer: &std::net::SocketAddr,
    cid: u64,
    connect: Option<&ConnectInfo>,
) -> String {
    let mut s = format!("{peer} - cid:{cid} - ");
    if let Some(c) = connect {
        let version = c.version.as_deref().unwrap_or("");
        let lang = c.lang.as_deref().unwrap_or("");
        if !version.is_empty() || !lang.is_empty() || c.name.is_some() {
            let _ = write!(s, "\"v{version}:{lang}");
            if let Some(name) = c.name.as_deref().filter(|n| !n.is_empty()) {
                let _ = write!(s, ":{name}");
            }
            s.push_str("\" - ");
        }
    }
    s
}

/// `MSG_PAYLOAD: ["..."]`: the payload quoted with Go-style escapes, cut at `max_len` bytes
/// (0: no limit) with `...` marking the cut.
pub fn payload_line(payload: &[u8], max_len: usize) -> String {
    let (shown, cut) = if max_len > 0 && payload.len() > max_len {
        (&payload[..max_len], true)
    } else {
        (payload, false)
    };
    let mut s = String::from("MSG_PAYLOAD: [\"");
    quote_into(&mut s, shown);
    if cut {
        s.push_str("...");
    }
    s.push_str("\"]");
    s
}

/// Appends `bytes` with quotes, backslashes and non-printable bytes escaped.
fn quote_into(s: &mut String, bytes: &[u8]) {
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => s.push_str("\\\""),
                '\\' => s.push_str("\\\\"),
                '\n' => s.push_str("\\n"),
                '\r' => s.push_str("\\r"),
                '\t' => s.push_str("\\t"),
                c if c.is_control() => {
                    let _ = write!(s, "\\x{:02x}", c as u32);
                }
                c => s.push(c),
            }
        }
        for b in chunk.invalid() {
            let _ = write!(s, "\\x{b:02x}");
        }
    }
}

/// The CONNECT JSON as traced: secrets are never written to a log.
pub fn redacted_connect(info: &ConnectInfo) -> String {
    let mut shown = info.clone();
    for secret in [
        &mut shown.pass,
        &mut shown.auth_token,
        &mut shown.sig,
        &mut shown.jwt,
    ] {
        if secret.is_some() {
            *secret = Some("[REDACTED]".to_string());
        }
    }
    serde_json::to_string(&shown).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_names_the_client_library() {
        let peer = "127.0.0.1:5000".parse().unwrap();
        assert_eq!(client_prefix(&peer, 5, None), "127.0.0.1:5000 - cid:5 - ");
        let c = ConnectInfo {
            name: Some("me".into()),
            lang: Some("py".into()),
            version: Some("1.0".into()),
            ..ConnectInfo::default()
        };
        assert_eq!(
            client_prefix(&peer, 5, Some(&c)),
            "127.0.0.1:5000 - cid:5 - \"v1.0:py:me\" - "
        );
    }

    #[test]
    fn payload_is_quoted_and_cut() {
        assert_eq!(payload_line(b"hi", 0), "MSG_PAYLOAD: [\"hi\"]");
        assert_eq!(
            payload_line(b"a\"\r\n\x00\xff", 0),
            "MSG_PAYLOAD: [\"a\\\"\\r\\n\\x00\\xff\"]"
        );
        assert_eq!(payload_line(b"abcdef", 3), "MSG_PAYLOAD: [\"abc...\"]");
    }

    #[test]
    fn secrets_are_redacted() {
        let c = ConnectInfo {
            user: Some("u".into()),
            pass: Some("hunter2".into()),
            auth_token: Some("tok".into()),
            ..ConnectInfo::default()
        };
        let text = redacted_connect(&c);
        assert!(
            !text.contains("hunter2") && !text.contains("tok\""),
            "{text}"
        );
        assert!(text.contains("[REDACTED]"));
    }
}
