//! Subject and queue-name validation. (API skeleton.)

/// True when `subject` is a valid subject to subscribe to: non-empty tokens separated by `.`,
/// where a token may be `*`, and the last token may be `>`.
pub fn is_valid_subscribe_subject(subject: &[u8]) -> bool {
    let _ = subject;
    todo!()
}

/// True when `subject` is a valid literal subject to publish to (no wildcards).
pub fn is_valid_publish_subject(subject: &[u8]) -> bool {
    let _ = subject;
    todo!()
}
