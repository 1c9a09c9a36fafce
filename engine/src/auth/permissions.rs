//! Per-user publish and subscribe permissions, checked as the reference does.

use crate::subject::{is_literal, subject_matches, tokens};

/// Allow and deny lists of subject filters. An empty allow list allows everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubjectRules {
    /// Filters that are allowed (empty: all).
    pub allow: Vec<String>,
    /// Filters that are denied (win over allow).
    pub deny: Vec<String>,
}

/// Responses a client may publish to reply subjects it received, without publish rights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseRules {
    /// Responses allowed per request (the reference's default is 1).
    pub max: u32,
    /// How long the right lasts, in milliseconds (0: no limit).
    pub expires_ms: u64,
}

/// What a user may do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Permissions {
    /// Publish rules, if restricted.
    pub publish: Option<SubjectRules>,
    /// Subscribe rules, if restricted (filters may carry a queue: `"foo.> q"`).
    pub subscribe: Option<SubjectRules>,
    /// `allow_responses`, if set.
    pub allow_responses: Option<ResponseRules>,
}

/// A filter entry split into subject and optional queue (`"foo.* workers"`).
fn split_queue(entry: &str) -> (&str, Option<&str>) {
    match entry.trim().split_once(char::is_whitespace) {
        Some((s, q)) => (s, Some(q.trim())),
        None => (entry.trim(), None),
    }
}

/// Whether every subject `sub` can match is also matched by `filter`.
pub fn is_subset_match(sub: &[u8], filter: &[u8]) -> bool {
    let mut ft = tokens(filter);
    for st in tokens(sub) {
        match ft.next() {
            None => return false,
            Some(b">") => return true,
            Some(b"*") => {
                if st == b">" {
                    return false;
                }
            }
            Some(f) => {
                if f != st {
                    return false;
                }
            }
        }
    }
    ft.next().is_none()
}

impl SubjectRules {
    /// May a client publish to the literal `subject`?
    pub fn allows_publish(&self, subject: &[u8]) -> bool {
        let allowed = self.allow.is_empty()
            || self
                .allow
                .iter()
                .any(|f| subject_matches(f.as_bytes(), subject));
        allowed
            && !self
                .deny
                .iter()
                .any(|f| subject_matches(f.as_bytes(), subject))
    }

    /// May a client subscribe to `subject` (maybe a wildcard) in `queue`?
    pub fn allows_subscribe(&self, subject: &[u8], queue: Option<&[u8]>) -> bool {
        let covers = |entry: &String| {
            let (filter, fq) = split_queue(entry);
            let subject_ok = if is_literal(subject) {
                subject_matches(filter.as_bytes(), subject)
            } else {
                is_subset_match(subject, filter.as_bytes())
            };
            subject_ok
                && match (fq, queue) {
                    (None, _) => true,
                    (Some(fq), Some(q)) => subject_matches(fq.as_bytes(), q),
                    (Some(_), None) => false,
                }
        };
        let allowed = self.allow.is_empty() || self.allow.iter().any(covers);
        let denied = self.deny.iter().any(|entry| {
            let (filter, fq) = split_queue(entry);
            let subject_hit = if is_literal(subject) {
                subject_matches(filter.as_bytes(), subject)
            } else {
                is_subset_match(subject, filter.as_bytes())
            };
            subject_hit
                && match (fq, queue) {
                    (None, _) => true,
                    (Some(fq), Some(q)) => subject_matches(fq.as_bytes(), q),
                    (Some(_), None) => false,
                }
        });
        allowed && !denied
    }

    /// For a wildcard subscription allowed despite deny entries that overlap it: may a message
    /// on the literal `subject` be delivered?
    pub fn allows_delivery(&self, subject: &[u8]) -> bool {
        !self.deny.iter().any(|entry| {
            let (filter, queue) = split_queue(entry);
            queue.is_none() && subject_matches(filter.as_bytes(), subject)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(allow: &[&str], deny: &[&str]) -> SubjectRules {
        SubjectRules {
            allow: allow.iter().map(|s| s.to_string()).collect(),
            deny: deny.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn publish_allow_and_deny() {
        let r = rules(&["foo.*", "bar.>"], &["foo.secret"]);
        assert!(r.allows_publish(b"foo.x"));
        assert!(r.allows_publish(b"bar.a.b"));
        assert!(!r.allows_publish(b"foo.secret"));
        assert!(!r.allows_publish(b"baz"));
        assert!(!r.allows_publish(b"foo.x.y"));
        assert!(rules(&[], &["x"]).allows_publish(b"y"));
    }

    #[test]
    fn subscribe_wildcards_cannot_escalate() {
        let r = rules(&["foo.*"], &[]);
        assert!(r.allows_subscribe(b"foo.bar", None));
        assert!(r.allows_subscribe(b"foo.*", None));
        assert!(!r.allows_subscribe(b">", None));
        assert!(!r.allows_subscribe(b"foo.>", None));
        assert!(!r.allows_subscribe(b"*.*", None));
        let r = rules(&["foo.>"], &[]);
        assert!(r.allows_subscribe(b"foo.*.bar", None));
        assert!(r.allows_subscribe(b"foo.>", None));
        assert!(!r.allows_subscribe(b"foo", None));
    }

    #[test]
    fn queue_permissions() {
        let r = rules(&["jobs.> workers"], &[]);
        assert!(r.allows_subscribe(b"jobs.a", Some(b"workers")));
        assert!(!r.allows_subscribe(b"jobs.a", Some(b"other")));
        assert!(!r.allows_subscribe(b"jobs.a", None));
    }

    #[test]
    fn deny_on_overlapping_wildcard_filters_delivery() {
        let r = rules(&[], &["foo.secret"]);
        assert!(r.allows_subscribe(b"foo.*", None));
        assert!(!r.allows_subscribe(b"foo.secret", None));
        assert!(!r.allows_delivery(b"foo.secret"));
        assert!(r.allows_delivery(b"foo.public"));
    }

    #[test]
    fn subset() {
        assert!(is_subset_match(b"a.b", b"a.*"));
        assert!(is_subset_match(b"a.*", b"a.*"));
        assert!(is_subset_match(b"a.>", b">"));
        assert!(!is_subset_match(b"a.>", b"a.*"));
        assert!(!is_subset_match(b"a.*", b"a.b"));
        assert!(!is_subset_match(b"a", b"a.b"));
    }
}
