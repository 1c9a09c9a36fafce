//! Items to a value tree: contexts, keys, variables and includes, as the reference builds it.

use std::collections::HashSet;
use std::sync::Arc;

use super::error::ConfError;
use super::lexer::{Item, ItemKind, Lexer};
use super::path;
use super::value::{Map, Token, Value};
use super::{Host, MAX_INCLUDE_DEPTH, MAX_NODES};

/// A context being filled: the root or a map, or an array.
enum Ctx {
    Map(Map),
    Array(Vec<Token>),
}

/// Shared by a file and the files it includes.
pub(crate) struct Shared<'h> {
    pub host: &'h mut dyn Host,
    /// Values created so far (bounds variable expansion).
    pub nodes: usize,
    /// Environment variables being expanded (cycle detection).
    pub env_refs: HashSet<String>,
}

/// Parses one file (or environment value when `file` is `None`).
pub(crate) struct Parser<'s, 'h> {
    ctxs: Vec<Ctx>,
    keys: Vec<(String, usize, isize)>,
    /// Directory of the file, for includes.
    dir: String,
    file: Arc<str>,
    depth: usize,
    shared: &'s mut Shared<'h>,
}

impl<'s, 'h> Parser<'s, 'h> {
    pub fn new(file: &str, depth: usize, shared: &'s mut Shared<'h>) -> Self {
        Parser {
            ctxs: vec![Ctx::Map(Map::new())],
            keys: Vec::new(),
            dir: path::dir(file),
            file: Arc::from(file),
            depth,
            shared,
        }
    }

    /// Parses `data` into the root map.
    pub fn parse(mut self, data: &[u8]) -> Result<Map, ConfError> {
        let mut lexer = Lexer::new(data);
        let mut prev: Option<Item> = None;
        // Each item consumes input, and the lexer bounds its own steps; this bound is a backstop.
        for _ in 0..data.len().saturating_mul(4).saturating_add(16) {
            let item = lexer.next_item();
            if item.kind == ItemKind::Eof {
                if let Some(p) = &prev {
                    if p.kind == ItemKind::Key && p.text != b"}" {
                        return Err(ConfError::Invalid {
                            file: self.file.to_string(),
                            line: item.line,
                            pos: item.pos,
                        });
                    }
                }
                return match self.ctxs.swap_remove(0) {
                    Ctx::Map(m) => Ok(m),
                    Ctx::Array(_) => Err(ConfError::Structure("root is not a map")),
                };
            }
            self.process(&item)?;
            prev = Some(item);
        }
        Err(ConfError::Structure("too many items"))
    }

    fn token(&self, item: &Item, value: Value) -> Token {
        Token {
            value,
            line: item.line,
            pos: item.pos,
            file: self.file.clone(),
            used_variable: false,
        }
    }

    fn count(&mut self, n: usize) -> Result<(), ConfError> {
        self.shared.nodes = self.shared.nodes.saturating_add(n);
        if self.shared.nodes > MAX_NODES {
            return Err(ConfError::TooLarge(MAX_NODES));
        }
        Ok(())
    }

    fn set(&mut self, mut tok: Token) -> Result<(), ConfError> {
        match self.ctxs.last_mut() {
            Some(Ctx::Array(a)) => a.push(tok),
            Some(Ctx::Map(m)) => {
                let (key, line, pos) = self
                    .keys
                    .pop()
                    .ok_or(ConfError::Structure("value without a key"))?;
                tok.line = line;
                tok.pos = pos;
                m.insert(key, tok);
            }
            None => return Err(ConfError::Structure("no context")),
        }
        Ok(())
    }

    fn pop_ctx(&mut self) -> Result<Ctx, ConfError> {
        if self.ctxs.len() < 2 {
            return Err(ConfError::Structure("unbalanced brackets"));
        }
        self.ctxs.pop().ok_or(ConfError::Structure("no context"))
    }

    fn process(&mut self, item: &Item) -> Result<(), ConfError> {
        let text = String::from_utf8_lossy(&item.text).into_owned();
        match item.kind {
            ItemKind::Error => {
                return Err(ConfError::Syntax {
                    line: item.line,
                    message: text,
                })
            }
            ItemKind::Key => self.keys.push((text, item.line, item.pos)),
            ItemKind::MapStart => {
                self.count(1)?;
                self.ctxs.push(Ctx::Map(Map::new()));
            }
            ItemKind::MapEnd => {
                let Ctx::Map(m) = self.pop_ctx()? else {
                    return Err(ConfError::Structure("map end inside an array"));
                };
                let tok = self.token(item, Value::Map(m));
                self.set(tok)?;
            }
            ItemKind::ArrayStart => {
                self.count(1)?;
                self.ctxs.push(Ctx::Array(Vec::new()));
            }
            ItemKind::ArrayEnd => {
                let Ctx::Array(a) = self.pop_ctx()? else {
                    return Err(ConfError::Structure("array end inside a map"));
                };
                let tok = self.token(item, Value::Array(a));
                self.set(tok)?;
            }
            ItemKind::String => {
                self.count(1)?;
                let tok = self.token(item, Value::String(text));
                self.set(tok)?;
            }
            ItemKind::Integer => {
                if let Some(v) = parse_integer(&text)? {
                    self.count(1)?;
                    let tok = self.token(item, Value::Int(v));
                    self.set(tok)?;
                }
                // An unknown suffix sets nothing, as in the reference.
            }
            ItemKind::Float => {
                let v = parse_float(&text)?;
                self.count(1)?;
                let tok = self.token(item, Value::Float(v));
                self.set(tok)?;
            }
            ItemKind::Bool => {
                let v = match text.to_lowercase().as_str() {
                    "true" | "yes" | "on" => true,
                    "false" | "no" | "off" => false,
                    _ => return Err(ConfError::Structure("not a boolean")),
                };
                self.count(1)?;
                let tok = self.token(item, Value::Bool(v));
                self.set(tok)?;
            }
            ItemKind::Datetime => {
                if !valid_datetime(&text) {
                    return Err(ConfError::Datetime(text));
                }
                self.count(1)?;
                let tok = self.token(item, Value::Datetime(text));
                self.set(tok)?;
            }
            ItemKind::Variable => {
                let value = self.lookup(&text, item.line)?;
                self.count(value.nodes())?;
                let tok = self.token(item, value);
                self.set(tok)?;
            }
            ItemKind::Include => self.include(&text)?,
            ItemKind::Eof | ItemKind::Text | ItemKind::CommentStart => {}
        }
        Ok(())
    }

    fn include(&mut self, name: &str) -> Result<(), ConfError> {
        let wrap = |source: ConfError| ConfError::Include {
            path: name.to_string(),
            source: Box::new(source),
        };
        if self.depth >= MAX_INCLUDE_DEPTH {
            return Err(wrap(ConfError::IncludeDepth(MAX_INCLUDE_DEPTH)));
        }
        let file = path::join(&self.dir, name);
        let data = self
            .shared
            .host
            .read(&file)
            .map_err(|e| wrap(ConfError::Read(e)))?;
        let map = Parser::new(&file, self.depth + 1, self.shared)
            .parse(&data)
            .map_err(wrap)?;
        for (k, tok) in map {
            self.keys.push((k, tok.line, tok.pos));
            self.set(tok)?;
        }
        Ok(())
    }

    fn lookup(&mut self, name: &str, line: usize) -> Result<Value, ConfError> {
        if name.starts_with("2a$") {
            return Ok(Value::String(format!("${name}")));
        }
        for ctx in self.ctxs.iter_mut().rev() {
            if let Ctx::Map(m) = ctx {
                if let Some(tok) = m.get_mut(name) {
                    tok.used_variable = true;
                    return Ok(tok.value.clone());
                }
            }
        }
        let not_found = || ConfError::VariableNotFound {
            name: name.to_string(),
            line,
        };
        if self.shared.env_refs.contains(name) {
            return Err(ConfError::VariableParse {
                name: name.to_string(),
                line,
                source: Box::new(ConfError::VariableCycle(name.to_string())),
            });
        }
        let Some(raw) = self.shared.host.env(name) else {
            return Err(not_found());
        };
        if self.shared.env_refs.len() >= MAX_INCLUDE_DEPTH * 4 {
            return Err(ConfError::TooLarge(MAX_NODES));
        }
        self.shared.env_refs.insert(name.to_string());
        let data = format!("pk={raw}");
        let parsed = Parser::new("", self.depth, self.shared).parse(data.as_bytes());
        self.shared.env_refs.remove(name);
        match parsed {
            Ok(mut m) => m.remove("pk").map(|t| t.value).ok_or_else(not_found),
            Err(e) => Err(ConfError::VariableParse {
                name: name.to_string(),
                line,
                source: Box::new(e),
            }),
        }
    }
}

/// An integer with an optional size suffix (`k` = 1000, `kb`/`ki`/`kib` = 1024, up to `e`).
/// `Ok(None)` for a suffix the reference does not know (it then sets no value).
pub fn parse_integer(text: &str) -> Result<Option<i64>, ConfError> {
    let digits = text
        .char_indices()
        .find(|&(_, c)| !(c.is_ascii_digit() || c == '-'))
        .map_or(text.len(), |(i, _)| i);
    let num: i64 = text[..digits]
        .parse()
        .map_err(|e: std::num::ParseIntError| {
            use std::num::IntErrorKind::{NegOverflow, PosOverflow};
            match e.kind() {
                PosOverflow | NegOverflow => ConfError::IntegerRange(text.to_string()),
                _ => ConfError::Integer(text.to_string()),
            }
        })?;
    let suffix = text[digits..].trim().to_lowercase();
    let (base, power): (i64, u32) = match suffix.as_str() {
        "" => (1, 0),
        "k" => (1000, 1),
        "kb" | "ki" | "kib" => (1024, 1),
        "m" => (1000, 2),
        "mb" | "mi" | "mib" => (1024, 2),
        "g" => (1000, 3),
        "gb" | "gi" | "gib" => (1024, 3),
        "t" => (1000, 4),
        "tb" | "ti" | "tib" => (1024, 4),
        "p" => (1000, 5),
        "pb" | "pi" | "pib" => (1024, 5),
        "e" => (1000, 6),
        "eb" | "ei" | "eib" => (1024, 6),
        _ => return Ok(None),
    };
    // The reference multiplies with 64-bit wrap-around.
    let mut v = num;
    for _ in 0..power {
        v = v.wrapping_mul(base);
    }
    Ok(Some(v))
}

fn parse_float(text: &str) -> Result<f64, ConfError> {
    match text.parse::<f64>() {
        Ok(v) if v.is_infinite() => Err(ConfError::FloatRange(text.to_string())),
        Ok(v) => Ok(v),
        Err(_) => Err(ConfError::Float(text.to_string())),
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` with every field in range.
fn valid_datetime(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 20 {
        return false;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> { s.get(r)?.parse().ok() };
    let (Some(y), Some(mo), Some(d), Some(h), Some(mi), Some(se)) = (
        num(0..4),
        num(5..7),
        num(8..10),
        num(11..13),
        num(14..16),
        num(17..19),
    ) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match mo {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d) && h < 24 && mi < 60 && se < 60
}
