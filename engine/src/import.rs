//! Exports and imports between accounts: the only ways a message crosses an account boundary.
//!
//! An import is served by a *forwarding subscription*: a subscription owned by an account's
//! internal client whose deliveries are re-published into another account under a mapped
//! subject, instead of being queued for a socket.
//! * stream import (B imports A's `events.>`): a forwarder in A on `events.>` re-publishes
//!   into B, with B's prefix or `to` mapping;
//! * service import (B imports A's `svc`, as `to`): a forwarder in B on the local subject
//!   re-publishes into A on `svc`, with the reply rewritten to a fresh `_R_.` subject; a
//!   one-shot *response* forwarder in A on that subject carries the answer back to B.

use bytes::{BufMut, Bytes, BytesMut};

use crate::auth::is_subset_match;
use crate::subject::{is_literal, tokens};

/// Stream or service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    /// Messages flow from the exporter to importers.
    Stream,
    /// Requests flow to the exporter, responses back.
    Service,
}

/// An export as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportConfig {
    /// Stream or service.
    pub kind: ExportKind,
    /// Subject filter exported.
    pub subject: String,
    /// Accounts allowed to import it (empty: every account).
    pub accounts: Vec<String>,
}

/// An import as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportConfig {
    /// Stream or service.
    pub kind: ExportKind,
    /// The exporting account.
    pub account: String,
    /// The subject in the exporting account.
    pub subject: String,
    /// Local subject (services) or subject mapping (streams).
    pub to: Option<String>,
    /// Prefix added to stream subjects.
    pub prefix: Option<String>,
}

/// How a forwarded message's subject is rewritten.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubjectMapping {
    /// Unchanged.
    Same,
    /// `prefix.subject`.
    Prefix(Bytes),
    /// Replaced by a template: literal tokens kept, `*` and `>` filled in order from the tokens
    /// of the original subject that matched the wildcards of `from`.
    Template {
        /// The filter the forwarder subscribes to.
        from: Bytes,
        /// The subject (maybe with wildcards) it maps to.
        to: Bytes,
    },
}

impl SubjectMapping {
    /// The mapping of an import of `subject` with an optional `to` or `prefix`.
    pub fn new(subject: &str, to: Option<&str>, prefix: Option<&str>) -> SubjectMapping {
        match (to, prefix) {
            (Some(to), _) if to != subject => SubjectMapping::Template {
                from: Bytes::copy_from_slice(subject.as_bytes()),
                to: Bytes::copy_from_slice(to.as_bytes()),
            },
            (_, Some(p)) if !p.is_empty() => {
                SubjectMapping::Prefix(Bytes::copy_from_slice(p.trim_end_matches('.').as_bytes()))
            }
            _ => SubjectMapping::Same,
        }
    }

    /// `subject` rewritten.
    pub fn apply(&self, subject: &[u8]) -> Bytes {
        match self {
            SubjectMapping::Same => Bytes::copy_from_slice(subject),
            SubjectMapping::Prefix(p) => {
                let mut b = BytesMut::with_capacity(p.len() + 1 + subject.len());
                b.put_slice(p);
                b.put_u8(b'.');
                b.put_slice(subject);
                b.freeze()
            }
            SubjectMapping::Template { from, to } => {
                if is_literal(to) {
                    return to.clone();
                }
                // Tokens of `subject` captured by the wildcards of `from`, in order.
                let mut captured: Vec<&[u8]> = Vec::new();
                let mut tail: &[u8] = &[];
                let mut rest = subject;
                for f in tokens(from) {
                    let (tok, next) = match rest.iter().position(|&c| c == b'.') {
                        Some(i) => (&rest[..i], &rest[i + 1..]),
                        None => (rest, &rest[rest.len()..]),
                    };
                    match f {
                        b"*" => captured.push(tok),
                        b">" => {
                            tail = rest;
                            break;
                        }
                        _ => {}
                    }
                    rest = next;
                }
                let mut out = BytesMut::with_capacity(to.len() + subject.len());
                let mut wild = captured.into_iter();
                for (i, t) in tokens(to).enumerate() {
                    if i > 0 {
                        out.put_u8(b'.');
                    }
                    match t {
                        b"*" => out.put_slice(wild.next().unwrap_or(b"*")),
                        b">" => out.put_slice(if tail.is_empty() { b">" } else { tail }),
                        _ => out.put_slice(t),
                    }
                }
                out.freeze()
            }
        }
    }
}

/// Why an import cannot be set up (the reference refuses to start).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// No matching export allows this account.
    #[error("Error adding {kind} import {subject:?}: {kind} import not authorized")]
    NotAuthorized {
        /// `stream` or `service`.
        kind: &'static str,
        /// The imported subject.
        subject: String,
    },
    /// The exporting account does not exist.
    #[error("Error adding {kind} import {subject:?}: account {account:?} not found")]
    NoAccount {
        /// `stream` or `service`.
        kind: &'static str,
        /// The imported subject.
        subject: String,
        /// The missing account.
        account: String,
    },
}

fn kind_name(kind: ExportKind) -> &'static str {
    match kind {
        ExportKind::Stream => "stream",
        ExportKind::Service => "service",
    }
}

/// Checks that `import` (made by account `importer`) is allowed by `exports` of its account,
/// or says why not. `exports` is `None` when the exporting account does not exist.
pub fn authorize(
    importer: &str,
    import: &ImportConfig,
    exports: Option<&[ExportConfig]>,
) -> Result<(), ImportError> {
    let kind = kind_name(import.kind);
    let Some(exports) = exports else {
        return Err(ImportError::NoAccount {
            kind,
            subject: import.subject.clone(),
            account: import.account.clone(),
        });
    };
    let allowed = exports.iter().any(|e| {
        e.kind == import.kind
            && is_subset_match(import.subject.as_bytes(), e.subject.as_bytes())
            && (e.accounts.is_empty() || e.accounts.iter().any(|a| a == importer))
    });
    if allowed {
        Ok(())
    } else {
        Err(ImportError::NotAuthorized {
            kind,
            subject: import.subject.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mappings() {
        assert_eq!(
            &SubjectMapping::new("a.>", None, Some("p")).apply(b"a.b")[..],
            b"p.a.b"
        );
        assert_eq!(
            &SubjectMapping::new("a.b", Some("x.y"), None).apply(b"a.b")[..],
            b"x.y"
        );
        assert_eq!(
            &SubjectMapping::new("a.*.c", Some("z.*"), None).apply(b"a.q.c")[..],
            b"z.q"
        );
        assert_eq!(
            &SubjectMapping::new("a.>", Some("b.>"), None).apply(b"a.q.r")[..],
            b"b.q.r"
        );
        assert_eq!(&SubjectMapping::new("a", None, None).apply(b"a")[..], b"a");
    }

    #[test]
    fn authorization() {
        let exports = vec![
            ExportConfig {
                kind: ExportKind::Stream,
                subject: "events.>".into(),
                accounts: vec!["C".into()],
            },
            ExportConfig {
                kind: ExportKind::Service,
                subject: "svc.req".into(),
                accounts: vec![],
            },
        ];
        let imp = |kind, subject: &str| ImportConfig {
            kind,
            account: "A".into(),
            subject: subject.into(),
            to: None,
            prefix: None,
        };
        assert!(authorize("C", &imp(ExportKind::Stream, "events.x"), Some(&exports)).is_ok());
        assert_eq!(
            authorize("B", &imp(ExportKind::Stream, "events.x"), Some(&exports))
                .unwrap_err()
                .to_string(),
            "Error adding stream import \"events.x\": stream import not authorized"
        );
        assert!(authorize("B", &imp(ExportKind::Service, "svc.req"), Some(&exports)).is_ok());
        assert!(authorize("B", &imp(ExportKind::Service, "nope"), Some(&exports)).is_err());
        assert!(authorize("B", &imp(ExportKind::Stream, ">"), Some(&exports)).is_err());
        assert!(authorize("B", &imp(ExportKind::Stream, "x"), None).is_err());
    }
}
