//! Masking what legitimately differs between two servers before comparing.
//!
//! `INFO` frames are compared by key set and value types; values that differ
//! by nature (ids, names, ports, nonces, build details) are replaced with a
//! type placeholder, every other value must match exactly. All other frames
//! are compared byte for byte (rendered escaped for readable diffs).

use serde_json::{Map, Value};

use crate::escape::escape;
use crate::frames::frame_op;

/// `INFO` keys whose values differ between servers or runs by nature: only
/// their presence and JSON type are compared.
pub const MASKED_INFO_KEYS: &[&str] = &[
    "server_id",
    "server_name",
    "nonce",
    "port",
    "client_id",
    "client_ip",
    "xkey",
    "host",
    "git_commit",
    "go",
    "ip",
    "connect_urls",
    "ws_connect_urls",
];

/// `INFO` keys our server may leave out; when present, their type must match.
pub const OPTIONAL_INFO_KEYS: &[&str] = &["git_commit", "go", "xkey", "api_lvl"];

/// Parses the JSON object of an `INFO` frame.
pub fn info_json(frame: &[u8]) -> Option<Value> {
    let text = std::str::from_utf8(frame).ok()?;
    let json = text.strip_prefix("INFO")?.trim();
    serde_json::from_str(json).ok()
}

/// Replaces masked values of an `INFO` object by their type name.
pub fn normalize_info(info: &Value) -> Value {
    let Some(object) = info.as_object() else {
        return info.clone();
    };
    let normalized: Map<String, Value> = object
        .iter()
        .map(|(key, value)| {
            let value = if MASKED_INFO_KEYS.contains(&key.as_str()) {
                Value::String(format!("<{}>", type_name(value)))
            } else {
                value.clone()
            };
            (key.clone(), value)
        })
        .collect();
    Value::Object(normalized)
}

/// The JSON type of a value, as used in masks.
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Renders one server frame in comparable, printable form.
///
/// An `INFO` frame renders as `INFO <masked JSON, keys sorted><suffix>`, where
/// the suffix is whatever followed the JSON object on the line (escaped), so
/// spacing before the line end is still compared.
pub fn normalize_frame(frame: &[u8]) -> String {
    if let Some((info, suffix)) = split_info(frame) {
        // serde_json maps are ordered by key, so this is canonical.
        return format!("INFO {}{}", normalize_info(&info), escape(suffix));
    }
    escape(frame)
}

/// Splits an `INFO` frame into its JSON object and the bytes after it.
pub fn split_info(frame: &[u8]) -> Option<(Value, &[u8])> {
    if frame_op(frame) != b"INFO" {
        return None;
    }
    let start = frame.iter().position(|&b| b == b'{')?;
    let mut stream = serde_json::Deserializer::from_slice(&frame[start..]).into_iter::<Value>();
    let value = stream.next()?.ok()?;
    let end = start + stream.byte_offset();
    Some((value, &frame[end..]))
}

/// Differences between two frames, one line each (empty when equivalent).
///
/// `INFO` frames are compared with [`info_differences`] plus their suffix;
/// every other frame byte for byte.
pub fn frame_differences(expected: &[u8], actual: &[u8]) -> Vec<String> {
    match (split_info(expected), split_info(actual)) {
        (Some((reference, reference_suffix)), Some((ours, our_suffix))) => {
            let mut differences = info_differences(&reference, &ours);
            if reference_suffix != our_suffix {
                differences.push(format!(
                    "INFO line ends with {:?}, reference {:?}",
                    escape(our_suffix),
                    escape(reference_suffix)
                ));
            }
            differences
        }
        _ if expected == actual => Vec::new(),
        _ => vec![format!(
            "frame {:?}, reference {:?}",
            escape(actual),
            escape(expected)
        )],
    }
}

/// Differences between two `INFO` objects, one line each.
///
/// Both must have the same key set (keys in [`OPTIONAL_INFO_KEYS`] may be
/// missing from ours). Values of [`MASKED_INFO_KEYS`] and optional keys are
/// compared by JSON type; every other value (`version`, `proto`, `headers`,
/// `max_payload`, `auth_required`, ...) must be equal.
pub fn info_differences(expected: &Value, actual: &Value) -> Vec<String> {
    let empty = Map::new();
    let expected = expected.as_object().unwrap_or(&empty);
    let actual = actual.as_object().unwrap_or(&empty);
    let mut differences = Vec::new();
    for (key, value) in expected {
        let by_type =
            MASKED_INFO_KEYS.contains(&key.as_str()) || OPTIONAL_INFO_KEYS.contains(&key.as_str());
        match actual.get(key) {
            None if OPTIONAL_INFO_KEYS.contains(&key.as_str()) => {}
            None => differences.push(format!("INFO lacks key {key:?} (reference: {value})")),
            Some(other) if by_type && type_name(other) != type_name(value) => {
                differences.push(format!(
                    "INFO key {key:?} is a {}, reference a {}",
                    type_name(other),
                    type_name(value)
                ))
            }
            Some(other) if !by_type && other != value => {
                differences.push(format!("INFO key {key:?} = {other}, reference {value}"))
            }
            Some(_) => {}
        }
    }
    for (key, value) in actual {
        if !expected.contains_key(key) {
            differences.push(format!("INFO has extra key {key:?} = {value}"));
        }
    }
    differences
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_volatile_info_values_but_keeps_the_rest() {
        let a = b"INFO {\"server_id\":\"A\",\"port\":1,\"max_payload\":1048576} \r\n";
        let b = b"INFO {\"port\":2,\"server_id\":\"B\",\"max_payload\":1048576} \r\n";
        assert_eq!(normalize_frame(a), normalize_frame(b));
        let c = b"INFO {\"port\":2,\"server_id\":\"B\",\"max_payload\":1024}\r\n";
        assert_ne!(normalize_frame(a), normalize_frame(c));
    }

    #[test]
    fn reports_missing_extra_and_changed_keys() {
        let reference: Value =
            serde_json::from_str(r#"{"proto":1,"headers":true,"port":1,"go":"x"}"#).unwrap();
        let ours: Value = serde_json::from_str(r#"{"proto":0,"port":"x","extra":1}"#).unwrap();
        let differences = info_differences(&reference, &ours);
        // proto value, headers missing, port type, extra key; `go` is optional.
        assert_eq!(differences.len(), 4, "{differences:?}");
    }

    #[test]
    fn optional_keys_must_still_have_the_right_type() {
        let reference: Value = serde_json::from_str(r#"{"api_lvl":5,"go":"g"}"#).unwrap();
        let missing: Value = serde_json::from_str("{}").unwrap();
        assert!(info_differences(&reference, &missing).is_empty());
        let wrong: Value = serde_json::from_str(r#"{"api_lvl":"5"}"#).unwrap();
        assert_eq!(info_differences(&reference, &wrong).len(), 1);
    }

    #[test]
    fn info_suffix_is_compared() {
        let a = b"INFO {\"port\":1} \r\n";
        let b = b"INFO {\"port\":2}\r\n";
        assert_eq!(frame_differences(a, a).len(), 0);
        assert_eq!(frame_differences(a, b).len(), 1);
        assert_eq!(normalize_frame(a), "INFO {\"port\":\"<number>\"} \\r\\n");
    }

    #[test]
    fn other_frames_are_escaped_verbatim() {
        assert_eq!(normalize_frame(b"-ERR 'x'\r\n"), "-ERR 'x'\\r\\n");
    }
}
