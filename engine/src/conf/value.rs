//! The parsed value tree, every value with its position.

use std::collections::BTreeMap;
use std::sync::Arc;

/// A map of keys to values (keys sorted, as the reference's digest orders them).
pub type Map = BTreeMap<String, Token>;

/// A value of the configuration.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// An integer, size suffixes applied.
    Int(i64),
    /// A float.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// A string.
    String(String),
    /// A `YYYY-MM-DDTHH:MM:SSZ` datetime, as written.
    Datetime(String),
    /// An array.
    Array(Vec<Token>),
    /// A map.
    Map(Map),
}

impl Value {
    /// The reference's (Go) name of the value's type, used in its error messages.
    pub fn go_type(&self) -> &'static str {
        match self {
            Value::Int(_) => "int64",
            Value::Float(_) => "float64",
            Value::Bool(_) => "bool",
            Value::String(_) => "string",
            Value::Datetime(_) => "time.Time",
            Value::Array(_) => "[]interface {}",
            Value::Map(_) => "map[string]interface {}",
        }
    }

    /// How many values this one holds, itself included.
    pub fn nodes(&self) -> usize {
        match self {
            Value::Array(a) => 1 + a.iter().map(|t| t.value.nodes()).sum::<usize>(),
            Value::Map(m) => 1 + m.values().map(|t| t.value.nodes()).sum::<usize>(),
            _ => 1,
        }
    }
}

/// A value with where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// The value.
    pub value: Value,
    /// 1-based line (of the key, for values stored under a key).
    pub line: usize,
    /// Position in the line as the reference counts it (see [`super::lexer`]).
    pub pos: isize,
    /// The file it was read from.
    pub file: Arc<str>,
    /// Whether a `$variable` referred to it (the reference then does not call it unknown).
    pub used_variable: bool,
}

impl Token {
    /// `file:line:pos`, the prefix of the reference's errors about this value.
    pub fn source(&self) -> String {
        format!("{}:{}:{}", self.file, self.line, self.pos)
    }
}
