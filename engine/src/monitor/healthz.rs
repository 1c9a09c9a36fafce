//! `/healthz`: without JetStream the server is healthy whenever it answers; only malformed
//! stream/consumer checks fail, with the reference's texts.

use serde::Serialize;

/// Options of `/healthz`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HealthzOptions {
    /// `js-enabled-only`: only check that JetStream is enabled when configured.
    pub js_enabled_only: bool,
    /// `js-server-only`: skip the meta-group and asset checks.
    pub js_server_only: bool,
    /// `js-meta-only`: only the meta group.
    pub js_meta_only: bool,
    /// `account` of a stream or consumer to check.
    pub account: Option<String>,
    /// `stream` to check.
    pub stream: Option<String>,
    /// `consumer` to check.
    pub consumer: Option<String>,
    /// `details`: report errors as a list.
    pub details: bool,
}

/// One failed check (with `details`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct HealthzError {
    /// Kind of failure.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// What failed.
    pub error: String,
}

/// The `/healthz` document (served compact, not indented).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct HealthStatus {
    /// `ok` or `error`.
    pub status: &'static str,
    /// What failed (without `details`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What failed (with `details`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<HealthzError>>,
}

impl HealthStatus {
    /// Whether the answer is `200 OK` (else `400 Bad Request`).
    pub fn is_ok(&self) -> bool {
        self.status == "ok"
    }
}

fn given(s: &Option<String>) -> bool {
    s.as_deref().is_some_and(|s| !s.is_empty())
}

/// Builds `/healthz`.
pub fn healthz(opts: &HealthzOptions) -> HealthStatus {
    let problem = if given(&opts.consumer) && !given(&opts.stream) {
        Some("\"stream\" must not be empty when checking consumer health")
    } else if given(&opts.stream) && !given(&opts.account) {
        Some("\"account\" must not be empty when checking stream health")
    } else {
        None
    };
    match problem {
        None => HealthStatus {
            status: "ok",
            error: None,
            errors: None,
        },
        Some(text) if opts.details => HealthStatus {
            status: "error",
            error: None,
            errors: Some(vec![HealthzError {
                kind: "BAD_REQUEST",
                error: text.to_string(),
            }]),
        },
        Some(text) => HealthStatus {
            status: "error",
            error: Some(text.to_string()),
            errors: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(o: &HealthzOptions) -> String {
        serde_json::to_string(&healthz(o)).unwrap_or_default()
    }

    #[test]
    fn reference_answers() {
        assert_eq!(json(&HealthzOptions::default()), r#"{"status":"ok"}"#);
        let stream_only = HealthzOptions {
            stream: Some("s".into()),
            ..HealthzOptions::default()
        };
        assert_eq!(
            json(&stream_only),
            r#"{"status":"error","error":"\"account\" must not be empty when checking stream health"}"#
        );
        let detailed = HealthzOptions {
            details: true,
            ..stream_only
        };
        assert_eq!(
            json(&detailed),
            r#"{"status":"error","errors":[{"type":"BAD_REQUEST","error":"\"account\" must not be empty when checking stream health"}]}"#
        );
        let consumer = HealthzOptions {
            consumer: Some("c".into()),
            account: Some("a".into()),
            ..HealthzOptions::default()
        };
        assert!(!healthz(&consumer).is_ok());
        assert!(json(&consumer).contains("\\\"stream\\\" must not be empty"));
    }
}
