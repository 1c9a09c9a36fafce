//! Masking what legitimately differs between two servers before comparing.
//!
//! `INFO` frames are compared by key set and value types; values that differ
//! by nature (ids, names, ports, nonces, build details) are replaced with a
//! type placeholder, every other value must match exactly. All other frames
//! are compared byte for byte (rendered escaped for readable diffs).

use serde_json::{Map, Value};

use crate::escape::escape;
use crate::frames::frame_op;

/// `INFO` keys whose values differ between servers or runs by nature.
pub const MASKED_INFO_KEYS: &[&str] = &[
    "server_id",
    "server_name",
    "nonce",
    "port",
    "client_id",
    "client_ip",
    "xkey",
    "git_commit",
    "go",
    "host",
    "ip",
    "connect_urls",
    "ws_connect_urls",
];

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
pub fn normalize_frame(frame: &[u8]) -> String {
    if frame_op(frame) == b"INFO" {
        if let Some(info) = info_json(frame) {
            // serde_json maps are ordered by key, so this is canonical.
            return format!("INFO {}\\r\\n", normalize_info(&info));
        }
    }
    escape(frame)
}

/// Differences between two `INFO` objects after masking, one line each.
pub fn info_differences(expected: &Value, actual: &Value) -> Vec<String> {
    let expected = normalize_info(expected);
    let actual = normalize_info(actual);
    let empty = Map::new();
    let expected = expected.as_object().unwrap_or(&empty);
    let actual = actual.as_object().unwrap_or(&empty);
    let mut differences = Vec::new();
    for (key, value) in expected {
        match actual.get(key) {
            None => differences.push(format!("missing key {key:?} (reference: {value})")),
            Some(other) if other != value => {
                differences.push(format!("key {key:?}: reference {value}, ours {other}"))
            }
            Some(_) => {}
        }
    }
    for (key, value) in actual {
        if !expected.contains_key(key) {
            differences.push(format!("extra key {key:?} = {value}"));
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
        let b = b"INFO {\"port\":2,\"server_id\":\"B\",\"max_payload\":1048576}\r\n";
        assert_eq!(normalize_frame(a), normalize_frame(b));
        let c = b"INFO {\"port\":2,\"server_id\":\"B\",\"max_payload\":1024}\r\n";
        assert_ne!(normalize_frame(a), normalize_frame(c));
    }

    #[test]
    fn reports_missing_extra_and_changed_keys() {
        let reference: Value =
            serde_json::from_str(r#"{"proto":1,"headers":true,"port":1}"#).unwrap();
        let ours: Value = serde_json::from_str(r#"{"proto":0,"port":"x","extra":1}"#).unwrap();
        let differences = info_differences(&reference, &ours);
        assert_eq!(differences.len(), 4, "{differences:?}");
    }

    #[test]
    fn other_frames_are_escaped_verbatim() {
        assert_eq!(normalize_frame(b"-ERR 'x'\r\n"), "-ERR 'x'\\r\\n");
    }
}
