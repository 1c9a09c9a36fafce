//! Decoding a `CONNECT` body with the reference server's JSON rules.
//!
//! Those rules differ from a derived serde impl: a key matches a field exactly or else
//! ASCII-case-insensitively, duplicate keys are applied in order (the last wins), `null`
//! leaves a field as it was, unknown keys are ignored whatever their value, a known key with
//! a value of the wrong type is an error, and decoding happens on top of the options the
//! connection already has (a second `CONNECT` only changes the keys it names).

use std::fmt;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::Value;

use super::ConnectInfo;

/// Why a `CONNECT` body was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectJsonError {
    /// Not valid JSON, or not an object (nor `null`).
    #[error("CONNECT body is not a JSON object: {0}")]
    Syntax(String),
    /// A known key holds a value of the wrong type.
    #[error("CONNECT key {0:?} has a value of the wrong type")]
    WrongType(String),
}

/// The key/value pairs of a JSON object, in document order.
struct Entries(Vec<(String, Value)>);

impl<'de> serde::Deserialize<'de> for Entries {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct EntriesVisitor;
        impl<'de> Visitor<'de> for EntriesVisitor {
            type Value = Entries;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object or null")
            }
            fn visit_unit<E>(self) -> Result<Entries, E> {
                Ok(Entries(Vec::new()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = map.next_entry::<String, Value>()? {
                    out.push(entry);
                }
                Ok(Entries(out))
            }
        }
        d.deserialize_any(EntriesVisitor)
    }
}

/// A known `CONNECT` key and where its value goes.
#[derive(Clone, Copy)]
enum Field {
    Bool(fn(&mut ConnectInfo) -> &mut bool),
    Str(fn(&mut ConnectInfo) -> &mut Option<String>),
    Int(fn(&mut ConnectInfo) -> &mut i64),
    /// Known to the reference but not kept here: only its type is checked.
    CheckedStr,
    /// Known to the reference (route/leaf permissions): must be an object.
    CheckedObject,
}

const FIELDS: &[(&str, Field)] = &[
    ("echo", Field::Bool(|c| &mut c.echo)),
    ("verbose", Field::Bool(|c| &mut c.verbose)),
    ("pedantic", Field::Bool(|c| &mut c.pedantic)),
    ("tls_required", Field::Bool(|c| &mut c.tls_required)),
    ("nkey", Field::Str(|c| &mut c.nkey)),
    ("jwt", Field::Str(|c| &mut c.jwt)),
    ("sig", Field::Str(|c| &mut c.sig)),
    ("auth_token", Field::Str(|c| &mut c.auth_token)),
    ("user", Field::Str(|c| &mut c.user)),
    ("pass", Field::Str(|c| &mut c.pass)),
    ("name", Field::Str(|c| &mut c.name)),
    ("lang", Field::Str(|c| &mut c.lang)),
    ("version", Field::Str(|c| &mut c.version)),
    ("protocol", Field::Int(|c| &mut c.protocol)),
    ("account", Field::Str(|c| &mut c.account)),
    ("new_account", Field::Bool(|c| &mut c.new_account)),
    ("headers", Field::Bool(|c| &mut c.headers)),
    ("no_responders", Field::Bool(|c| &mut c.no_responders)),
    ("import", Field::CheckedObject),
    ("export", Field::CheckedObject),
    ("remote_account", Field::CheckedStr),
    ("proxy_sig", Field::CheckedStr),
];

fn lookup(key: &str) -> Option<Field> {
    FIELDS
        .iter()
        .find(|(name, _)| *name == key)
        .or_else(|| {
            FIELDS
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(key))
        })
        .map(|(_, f)| *f)
}

fn apply(info: &mut ConnectInfo, key: &str, value: Value) -> Result<(), ConnectJsonError> {
    let Some(field) = lookup(key) else {
        return Ok(());
    };
    if value.is_null() {
        return Ok(());
    }
    let wrong = || ConnectJsonError::WrongType(key.to_string());
    match (field, value) {
        (Field::Bool(f), Value::Bool(b)) => *f(info) = b,
        (Field::Str(f), Value::String(s)) => *f(info) = Some(s),
        (Field::Int(f), Value::Number(n)) => *f(info) = n.as_i64().ok_or_else(wrong)?,
        (Field::CheckedStr, Value::String(_)) | (Field::CheckedObject, Value::Object(_)) => {}
        _ => return Err(wrong()),
    }
    Ok(())
}

impl ConnectInfo {
    /// Decodes a `CONNECT` body on top of `self`, with the reference server's JSON rules
    /// (see the module docs). On error `self` may be partly updated; the reference closes
    /// the connection then anyway.
    pub fn merge_json(&mut self, json: &[u8]) -> Result<(), ConnectJsonError> {
        let Entries(entries) = serde_json::from_slice(json)
            .map_err(|e: serde_json::Error| ConnectJsonError::Syntax(e.to_string()))?;
        let mut first_err = None;
        for (key, value) in entries {
            if let Err(e) = apply(self, &key, value) {
                first_err.get_or_insert(e);
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    /// Decodes a `CONNECT` body on top of the defaults (see [`ConnectInfo::merge_json`]).
    pub fn from_json(json: &[u8]) -> Result<Self, ConnectJsonError> {
        let mut info = ConnectInfo::default();
        info.merge_json(json)?;
        Ok(info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_plain_keys() {
        let c =
            ConnectInfo::from_json(br#"{"verbose":false,"name":"n","protocol":1}"#).expect("valid");
        assert!(!c.verbose);
        assert!(c.pedantic);
        assert!(c.echo);
        assert_eq!(c.name.as_deref(), Some("n"));
        assert_eq!(c.protocol, 1);
    }

    #[test]
    fn keys_are_case_insensitive_and_last_wins() {
        let c = ConnectInfo::from_json(br#"{"VERBOSE":false,"Headers":true,"headers":false}"#)
            .expect("valid");
        assert!(!c.verbose);
        assert!(!c.headers);
    }

    #[test]
    fn null_keeps_and_unknown_is_ignored() {
        let c = ConnectInfo::from_json(br#"{"echo":null,"whatever":[1,{"a":2}]}"#).expect("valid");
        assert!(c.echo);
        assert_eq!(ConnectInfo::from_json(b"null"), Ok(ConnectInfo::default()));
    }

    #[test]
    fn wrong_types_and_syntax_are_errors() {
        for bad in [
            &br#"{"verbose":"x"}"#[..],
            br#"{"protocol":1.5}"#,
            br#"{"name":1}"#,
            br#"{"import":1}"#,
            b"",
            b"[]",
            b"1",
            b"{} x",
            b"{bad",
        ] {
            assert!(ConnectInfo::from_json(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn merge_keeps_earlier_keys() {
        let mut c = ConnectInfo::from_json(br#"{"headers":true,"verbose":false}"#).expect("ok");
        c.merge_json(br#"{"no_responders":true}"#).expect("ok");
        assert!(c.headers && c.no_responders && !c.verbose);
    }
}
