//! Subject and queue-name validation, and wildcard matching of one subject against a filter.
//!
//! A subject is a sequence of tokens separated by `.`. In a subscription (a *filter*) a token
//! that is exactly `*` matches any one token, and a last token that is exactly `>` matches one
//! or more tokens. All checks work on raw bytes in a single pass without allocating.
//!
//! # Behaviour of the reference server (nats-server 2.15.1), observed on the wire
//!
//! `SUB` (pedantic or not, same result):
//! - `foo..bar`, `.foo`, `foo.`, `.`, `foo.>.bar`, `>.foo`, `foo.>.>` →
//!   `-ERR 'Invalid Subject'` (the connection stays open).
//! - `foo*`, `foo.*bar`, `foo.>bar`, `*`, `>`, `foo.>` → `+OK`: `*` and `>` are wildcards only
//!   as a whole token; inside a longer token they are ordinary bytes (`foo*` only receives
//!   messages published to exactly `foo*`).
//! - Bytes that are not UTF-8 (`foo\xff`), NUL, other control bytes and form feed (`\x0c`,
//!   `\x0b`) are accepted in subjects and queue names and matched byte for byte. Space, tab,
//!   CR and LF cannot occur inside a subject on the wire (they separate arguments / end the
//!   line), so these functions reject them.
//! - Any queue name the parser delivers is accepted, including `q.*`, `>`, `*`, `q..x`, `.q`.
//!
//! `PUB`:
//! - Without `pedantic`, no subject check at all: `PUB foo.* 0` is accepted with `+OK`.
//!   A subject with an empty token (`foo..bar`, `.foo`, `foo.`) then matches no subscription,
//!   not even `>`. Wildcard tokens in a published subject are plain tokens: `PUB foo.*`
//!   reaches `foo.*`, `foo.>` and `>` subscribers but not `foo.bar`.
//! - With `"pedantic":true` in `CONNECT`, a subject with an empty token or a whole-token `*`/`>`
//!   (`foo.*`, `foo.>`, `foo..bar`, `>`, `*`, `.foo`, `foo.`) gets
//!   `-ERR 'Invalid Publish Subject'`, the message is dropped and the connection stays open; in
//!   verbose mode the `+OK` for the `PUB` still follows the `-ERR`. `foo*`, `foo.*bar`, form
//!   feed, NUL and non-UTF-8 bytes are accepted.

/// The byte that separates tokens.
pub const TOKEN_SEPARATOR: u8 = b'.';
/// The single-token wildcard (`*`), meaningful only as a whole token.
pub const SINGLE_WILDCARD: u8 = b'*';
/// The tail wildcard (`>`), meaningful only as the whole last token.
pub const FULL_WILDCARD: u8 = b'>';

/// True for the bytes that can never be part of a subject or queue name on the wire: the
/// argument separators (space, tab) and the line terminators (CR, LF).
#[inline]
fn is_protocol_whitespace(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\r' | b'\n')
}

/// What a single-pass scan found in a subject.
enum Scan {
    /// The subject is malformed (empty, empty token, whitespace, `>` not last).
    Invalid,
    /// Well-formed; `wildcards` tells whether any whole-token `*` or `>` occurs.
    Valid { wildcards: bool },
}

/// Scans `subject` once, checking token structure and noting wildcard tokens.
fn scan(subject: &[u8]) -> Scan {
    if subject.is_empty() {
        return Scan::Invalid;
    }
    let mut wildcards = false;
    let mut token_start = 0;
    let mut after_full_wildcard = false;
    // Iterating one past the end lets the final token be checked by the same code path.
    for index in 0..=subject.len() {
        let byte = subject.get(index).copied();
        match byte {
            Some(TOKEN_SEPARATOR) | None => {
                let token = &subject[token_start..index];
                if token.is_empty() || after_full_wildcard {
                    return Scan::Invalid;
                }
                match token {
                    [SINGLE_WILDCARD] => wildcards = true,
                    [FULL_WILDCARD] => {
                        wildcards = true;
                        after_full_wildcard = true;
                    }
                    _ => {}
                }
                token_start = index + 1;
            }
            Some(other) if is_protocol_whitespace(other) => return Scan::Invalid,
            Some(_) => {}
        }
    }
    Scan::Valid { wildcards }
}

/// True when `subject` is a valid subject to subscribe to: non-empty tokens separated by `.`,
/// no space/tab/CR/LF, `*` anywhere as a whole token and `>` only as the whole last token.
pub fn is_valid_subscribe_subject(subject: &[u8]) -> bool {
    matches!(scan(subject), Scan::Valid { .. })
}

/// True when `subject` is a valid literal subject to publish to: like
/// [`is_valid_subscribe_subject`] but without any whole-token wildcard. This is the check the
/// reference applies to `PUB` in pedantic mode.
pub fn is_valid_publish_subject(subject: &[u8]) -> bool {
    matches!(scan(subject), Scan::Valid { wildcards: false })
}

/// True when `queue` is a usable queue group name: non-empty, without space/tab/CR/LF. The
/// reference accepts any other bytes, including `.`, `*` and `>`.
pub fn is_valid_queue_name(queue: &[u8]) -> bool {
    !queue.is_empty() && !queue.iter().copied().any(is_protocol_whitespace)
}

/// True when `subject` contains no whole-token wildcard (`*` or `>`). Does not check the rest
/// of the structure; combine with a validity check where that matters.
pub fn is_literal(subject: &[u8]) -> bool {
    !tokens(subject).any(|token| matches!(token, [SINGLE_WILDCARD] | [FULL_WILDCARD]))
}

/// The tokens of `subject`, split at every `.` (empty tokens included).
pub fn tokens(subject: &[u8]) -> impl Iterator<Item = &[u8]> {
    subject.split(|&byte| byte == TOKEN_SEPARATOR)
}

/// True when the literal `subject` is matched by `filter`, with the reference's semantics:
/// `*` matches exactly one token, a final `>` matches one or more tokens, any other filter
/// token must equal the subject token byte for byte. A subject with an empty token matches
/// nothing; wildcard characters in `subject` are ordinary tokens (a filter token `*` matches
/// them, a literal filter token does not).
pub fn subject_matches(filter: &[u8], subject: &[u8]) -> bool {
    if subject.is_empty() || filter.is_empty() {
        return false;
    }
    let mut subject_tokens = tokens(subject);
    let mut filter_tokens = tokens(filter);
    loop {
        match (filter_tokens.next(), subject_tokens.next()) {
            (None, None) => return true,
            (Some(_), None) | (None, Some(_)) => return false,
            (Some(_), Some([])) => return false,
            (Some([FULL_WILDCARD]), Some(_)) => {
                // `>` must be last in a valid filter, and it swallows the rest of the subject,
                // which still must not contain empty tokens.
                return filter_tokens.next().is_none() && subject_tokens.all(|t| !t.is_empty());
            }
            (Some([SINGLE_WILDCARD]), Some(_)) => {}
            (Some(filter_token), Some(subject_token)) => {
                if filter_token != subject_token {
                    return false;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscribe_subjects_follow_the_reference() {
        for valid in [
            &b"foo"[..],
            b"foo.bar",
            b"foo*",
            b"foo.*bar",
            b"foo.>bar",
            b"*",
            b">",
            b"foo.>",
            b"*.*.>",
            b"foo\xff.bar",
            b"foo\x00bar",
            b"foo\x0cbar",
            b"a.*.c",
        ] {
            assert!(
                is_valid_subscribe_subject(valid),
                "{valid:?} should be valid"
            );
        }
        for invalid in [
            &b""[..],
            b"foo..bar",
            b".foo",
            b"foo.",
            b".",
            b"..",
            b"foo.>.bar",
            b">.foo",
            b"foo.>.>",
            b"foo bar",
            b"foo\tbar",
            b"foo\rbar",
            b"foo\nbar",
        ] {
            assert!(
                !is_valid_subscribe_subject(invalid),
                "{invalid:?} should be invalid"
            );
        }
    }

    #[test]
    fn publish_subjects_reject_wildcard_tokens_only() {
        for valid in [
            &b"foo"[..],
            b"foo*",
            b"foo.*bar",
            b"foo.>bar",
            b"a\xc3\xa9.b",
            b"a\x00",
        ] {
            assert!(is_valid_publish_subject(valid), "{valid:?} should be valid");
        }
        for invalid in [
            &b""[..],
            b"foo.*",
            b"foo.>",
            b"foo..bar",
            b">",
            b"*",
            b".foo",
            b"foo.",
            b"a b",
        ] {
            assert!(
                !is_valid_publish_subject(invalid),
                "{invalid:?} should be invalid"
            );
        }
    }

    #[test]
    fn queue_names() {
        for valid in [
            &b"q"[..],
            b"q.*",
            b">",
            b"*",
            b"q..x",
            b".q",
            b"q\xff",
            b"\x0cq",
        ] {
            assert!(is_valid_queue_name(valid), "{valid:?} should be valid");
        }
        for invalid in [&b""[..], b"q q", b"q\t", b"\rq", b"q\n"] {
            assert!(
                !is_valid_queue_name(invalid),
                "{invalid:?} should be invalid"
            );
        }
    }

    #[test]
    fn literal_detection() {
        assert!(is_literal(b"foo.bar"));
        assert!(is_literal(b"foo*.b>"));
        assert!(!is_literal(b"foo.*"));
        assert!(!is_literal(b"*.foo"));
        assert!(!is_literal(b"foo.>"));
        assert!(!is_literal(b">"));
    }

    #[test]
    fn wildcard_matching() {
        let cases: &[(&[u8], &[u8], bool)] = &[
            (b"foo", b"foo", true),
            (b"foo", b"bar", false),
            (b"foo", b"foo.bar", false),
            (b"foo.bar", b"foo", false),
            (b"foo.*", b"foo.bar", true),
            (b"foo.*", b"foo", false),
            (b"foo.*", b"foo.bar.baz", false),
            (b"*.bar", b"foo.bar", true),
            (b"*", b"foo", true),
            (b"*", b"foo.bar", false),
            (b"foo.>", b"foo.bar", true),
            (b"foo.>", b"foo.bar.baz", true),
            (b"foo.>", b"foo", false),
            (b">", b"foo", true),
            (b">", b"a.b.c", true),
            (b"*.>", b"a", false),
            (b"*.>", b"a.b", true),
            (b"foo*", b"foo*", true),
            (b"foo*", b"foox", false),
            (b"foo.*bar", b"foo.xbar", false),
            // Wildcards in the subject are plain tokens.
            (b"foo.*", b"foo.*", true),
            (b"foo.*", b"foo.>", true),
            (b"foo.bar", b"foo.*", false),
            // Empty subject tokens never match.
            (b">", b"foo..bar", false),
            (b"foo.>", b"foo..bar", false),
            (b"foo.*.bar", b"foo..bar", false),
            (b">", b".", false),
            (b">", b"", false),
            (b"", b"", false),
            // Non-UTF-8 bytes are compared byte for byte.
            (b"foo\xff.*", b"foo\xff.bar", true),
        ];
        for &(filter, subject, expected) in cases {
            assert_eq!(
                subject_matches(filter, subject),
                expected,
                "filter {:?} subject {:?}",
                String::from_utf8_lossy(filter),
                String::from_utf8_lossy(subject)
            );
        }
    }
}
