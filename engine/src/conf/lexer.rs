//! Tokenizer of the configuration format.
//!
//! A state machine that mirrors, state for state, how the reference tokenizes a file, so that
//! the same inputs are accepted, the same quirks apply (a `'` ends an unquoted string, a `)`
//! block ends only on a line of its own, a NUL byte reads as end of input) and errors carry
//! the same texts and line numbers.
//!
//! Positions follow the reference too: `line` is 1-based, `pos` is the byte distance from the
//! last newline before the item (so 0-based on the first line, 1-based afterwards).

use std::collections::VecDeque;

/// What a lexed item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    /// A lexing error; the text is the message.
    Error,
    /// End of input.
    Eof,
    /// A key.
    Key,
    /// Comment text.
    Text,
    /// A string value.
    String,
    /// `true`, `no`, `on`, ... (any case).
    Bool,
    /// An integer, possibly with a size suffix.
    Integer,
    /// A float.
    Float,
    /// A `YYYY-MM-DDTHH:MM:SSZ` datetime.
    Datetime,
    /// `[`.
    ArrayStart,
    /// `]`.
    ArrayEnd,
    /// `{`.
    MapStart,
    /// `}`.
    MapEnd,
    /// Start of a comment.
    CommentStart,
    /// `$name` (the text is the name).
    Variable,
    /// `include <path>` (the text is the path).
    Include,
}

/// One lexed item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// Its kind.
    pub kind: ItemKind,
    /// Its text (escapes resolved).
    pub text: Vec<u8>,
    /// 1-based line.
    pub line: usize,
    /// Position within the line, as the reference counts it.
    pub pos: isize,
}

/// The reference's end-of-input rune (NUL bytes read the same).
const EOF: char = '\0';

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Top,
    TopValueEnd,
    BlockStart,
    BlockValueEnd,
    BlockEnd,
    KeyStart,
    DubQuotedKey,
    QuotedKey,
    IncludeStart,
    IncludeQuoted,
    IncludeDubQuoted,
    IncludeBare,
    Include,
    Key,
    KeyEnd,
    Value,
    ArrayValue,
    ArrayValueEnd,
    ArrayEnd,
    MapKeyStart,
    MapQuotedKey,
    MapDubQuotedKey,
    MapKey,
    MapKeyEnd,
    MapValue,
    MapValueEnd,
    MapEnd,
    QuotedString,
    DubQuotedString,
    BareString,
    Block,
    StringEscape,
    StringBinary,
    NumberStart,
    Number,
    SuffixedNumber,
    DateAfterYear,
    NegNumberStart,
    NegNumber,
    FloatStart,
    Float,
    IpAddr,
    CommentStart,
    Comment,
}

/// The tokenizer. Call [`Lexer::next_item`] until it yields `Eof` or `Error`.
pub struct Lexer<'a> {
    input: &'a [u8],
    start: usize,
    pos: usize,
    width: usize,
    line: usize,
    state: Option<State>,
    items: VecDeque<Item>,
    stack: Vec<State>,
    parts: Vec<u8>,
    has_parts: bool,
    string_state: State,
    lstart: usize,
    ilstart: usize,
    /// Steps left before the lexer gives up (bounds every loop).
    budget: usize,
}

fn is_ws(r: char) -> bool {
    r == ' ' || r == '\t'
}

fn is_nl(r: char) -> bool {
    r == '\n' || r == '\r'
}

fn is_space(r: char) -> bool {
    r.is_whitespace()
}

fn is_key_sep(r: char) -> bool {
    r == '=' || r == ':'
}

fn is_suffix(r: char) -> bool {
    matches!(r.to_ascii_lowercase(), 'k' | 'm' | 'g' | 't' | 'p' | 'e')
}

fn is_digit(r: char) -> bool {
    r.is_ascii_digit()
}

/// Ends a number: newline, end, `}`, `;`, `,` or blank.
fn ends_number(r: char) -> bool {
    is_nl(r) || r == EOF || r == '}' || r == ';' || r == ',' || is_ws(r)
}

/// How the reference prints a rune inside an error message.
fn show(r: char) -> String {
    if r == '\n' {
        "\\n".to_string()
    } else {
        r.to_string()
    }
}

/// Decodes one rune the way Go does: invalid bytes read as U+FFFD of width 1.
fn decode(bytes: &[u8]) -> (char, usize) {
    let window = &bytes[..bytes.len().min(4)];
    let valid = match std::str::from_utf8(window) {
        Ok(s) => s,
        Err(e) => std::str::from_utf8(&window[..e.valid_up_to()]).unwrap_or(""),
    };
    match valid.chars().next() {
        Some(c) => (c, c.len_utf8()),
        None => ('\u{FFFD}', 1),
    }
}

impl<'a> Lexer<'a> {
    /// A lexer over `input`.
    pub fn new(input: &'a [u8]) -> Self {
        Lexer {
            input,
            start: 0,
            pos: 0,
            width: 0,
            line: 1,
            state: Some(State::Top),
            items: VecDeque::new(),
            stack: Vec::new(),
            parts: Vec::new(),
            has_parts: false,
            string_state: State::BareString,
            lstart: 0,
            ilstart: 0,
            budget: input.len().saturating_mul(8).saturating_add(1024),
        }
    }

    /// The next item; after `Eof` or `Error`, `Eof` forever.
    pub fn next_item(&mut self) -> Item {
        loop {
            if let Some(item) = self.items.pop_front() {
                return item;
            }
            let Some(state) = self.state else {
                return Item {
                    kind: ItemKind::Eof,
                    text: Vec::new(),
                    line: self.line,
                    pos: 0,
                };
            };
            if self.budget == 0 {
                self.state = self.errorf("Input too complex.".to_string());
                continue;
            }
            self.budget -= 1;
            self.state = self.step(state);
        }
    }

    fn next(&mut self) -> char {
        if self.pos >= self.input.len() {
            self.width = 0;
            return EOF;
        }
        if self.input[self.pos] == b'\n' {
            self.line += 1;
            self.lstart = self.pos;
        }
        let (r, w) = decode(&self.input[self.pos..]);
        self.width = w;
        self.pos += w;
        r
    }

    fn backup(&mut self) {
        self.pos -= self.width;
        if self.pos < self.input.len() && self.input[self.pos] == b'\n' {
            self.line = self.line.saturating_sub(1);
        }
    }

    fn peek(&mut self) -> char {
        let r = self.next();
        self.backup();
        r
    }

    fn ignore(&mut self) {
        self.start = self.pos;
        self.ilstart = self.lstart;
    }

    fn push(&mut self, s: State) {
        self.stack.push(s);
    }

    fn pop(&mut self) -> Option<State> {
        match self.stack.pop() {
            Some(s) => Some(s),
            None => self.errorf("BUG in lexer: no states to pop.".to_string()),
        }
    }

    fn current(&self) -> &'a [u8] {
        &self.input[self.start.min(self.pos)..self.pos]
    }

    fn emit(&mut self, kind: ItemKind) {
        let mut text = if self.has_parts {
            self.parts.clone()
        } else {
            Vec::new()
        };
        text.extend_from_slice(self.current());
        let pos = self.pos as isize - self.ilstart as isize - text.len() as isize;
        self.items.push_back(Item {
            kind,
            text,
            line: self.line,
            pos,
        });
        self.start = self.pos;
        self.ilstart = self.lstart;
    }

    fn emit_string(&mut self) {
        self.emit(ItemKind::String);
        self.parts.clear();
        self.has_parts = false;
    }

    fn add_current_part(&mut self, offset: usize) {
        let end = self.pos.saturating_sub(offset).max(self.start);
        self.parts
            .extend_from_slice(&self.input[self.start.min(end)..end]);
        self.has_parts = true;
        self.start = self.pos;
    }

    fn add_part(&mut self, s: &[u8]) -> Option<State> {
        self.parts.extend_from_slice(s);
        self.has_parts = true;
        self.start = self.pos;
        Some(self.string_state)
    }

    fn errorf(&mut self, msg: String) -> Option<State> {
        let pos = self.pos as isize - self.lstart as isize;
        self.items.push_back(Item {
            kind: ItemKind::Error,
            text: msg.into_bytes(),
            line: self.line,
            pos,
        });
        None
    }

    /// At end of input in the middle of something: an error if text is pending.
    fn eof_or_error(&mut self) -> Option<State> {
        if self.pos > self.start {
            return self.errorf("Unexpected EOF.".to_string());
        }
        self.emit(ItemKind::Eof);
        None
    }

    /// `//` after a `/` was read: the comment starts, returning to `back`. Otherwise backs up
    /// and returns `None` so the caller falls through.
    fn slash_comment(&mut self, back: State) -> Option<State> {
        if self.next() == '/' {
            self.push(back);
            return Some(State::CommentStart);
        }
        self.backup();
        None
    }

    fn is_bool(&self) -> bool {
        let s = String::from_utf8_lossy(self.current()).to_lowercase();
        matches!(s.as_str(), "true" | "false" | "on" | "off" | "yes" | "no")
    }

    fn check_keyword(&mut self, fall: State, push: Option<State>) -> Option<State> {
        if self.current().eq_ignore_ascii_case(b"include") {
            self.ignore();
            if let Some(p) = push {
                self.push(p);
            }
            return Some(State::IncludeStart);
        }
        self.emit(ItemKind::Key);
        Some(fall)
    }

    fn step(&mut self, state: State) -> Option<State> {
        use State as S;
        match state {
            S::Top => self.top(),
            S::TopValueEnd => self.top_value_end(),
            S::BlockStart => self.block_start(),
            S::BlockValueEnd => self.block_value_end(),
            S::BlockEnd => self.block_end(),
            S::KeyStart => self.key_start(),
            S::DubQuotedKey => self.quoted_key('"'),
            S::QuotedKey => self.quoted_key('\''),
            S::IncludeStart => {
                let r = self.next();
                if is_ws(r) {
                    self.ignore();
                    return Some(S::IncludeStart);
                }
                self.backup();
                Some(S::Include)
            }
            S::IncludeQuoted => self.include_quoted('\'', "Unexpected EOF in quoted include"),
            S::IncludeDubQuoted => {
                self.include_quoted('"', "Unexpected EOF in double quoted include")
            }
            S::IncludeBare => {
                let r = self.next();
                if is_nl(r) || r == EOF || r == ';' || r == '}' || is_ws(r) {
                    self.backup();
                    self.emit(ItemKind::Include);
                    return self.pop();
                }
                if r == '\'' {
                    self.backup();
                    self.emit(ItemKind::Include);
                    self.next();
                    self.ignore();
                    return self.pop();
                }
                Some(S::IncludeBare)
            }
            S::Include => self.include(),
            S::Key => {
                let r = self.peek();
                if is_space(r) {
                    return self.check_keyword(S::KeyEnd, None);
                }
                if is_key_sep(r) || r == EOF {
                    self.emit(ItemKind::Key);
                    return Some(S::KeyEnd);
                }
                self.next();
                Some(S::Key)
            }
            S::KeyEnd => {
                let r = self.next();
                if is_space(r) {
                    self.ignore();
                    return Some(S::KeyEnd);
                }
                if is_key_sep(r) {
                    self.ignore();
                    return Some(S::Value);
                }
                if r == EOF {
                    self.emit(ItemKind::Eof);
                    return None;
                }
                self.backup();
                Some(S::Value)
            }
            S::Value => self.value(),
            S::ArrayValue => self.array_value(),
            S::ArrayValueEnd => self.array_value_end(),
            S::ArrayEnd => {
                self.ignore();
                self.emit(ItemKind::ArrayEnd);
                self.pop()
            }
            S::MapKeyStart => self.map_key_start(),
            S::MapQuotedKey => self.map_quoted_key('\'', "quoted"),
            S::MapDubQuotedKey => self.map_quoted_key('"', "double quoted"),
            S::MapKey => {
                let r = self.peek();
                if r == EOF {
                    return self.errorf("Unexpected EOF processing map key.".to_string());
                }
                if is_space(r) {
                    return self.check_keyword(S::MapKeyEnd, Some(S::MapValueEnd));
                }
                if is_key_sep(r) {
                    self.emit(ItemKind::Key);
                    return Some(S::MapKeyEnd);
                }
                self.next();
                Some(S::MapKey)
            }
            S::MapKeyEnd => {
                let r = self.next();
                if is_space(r) {
                    self.ignore();
                    return Some(S::MapKeyEnd);
                }
                if is_key_sep(r) {
                    self.ignore();
                    return Some(S::MapValue);
                }
                self.backup();
                Some(S::MapValue)
            }
            S::MapValue => {
                let r = self.next();
                if is_space(r) {
                    self.ignore();
                    return Some(S::MapValue);
                }
                if r == ',' {
                    return self.errorf("Unexpected map value terminator \",\".".to_string());
                }
                if r == '}' {
                    self.ignore();
                    return Some(S::MapEnd);
                }
                self.backup();
                self.push(S::MapValueEnd);
                Some(S::Value)
            }
            S::MapValueEnd => self.map_value_end(),
            S::MapEnd => {
                self.ignore();
                self.emit(ItemKind::MapEnd);
                self.pop()
            }
            S::QuotedString => {
                let r = self.next();
                if r == '\'' {
                    self.backup();
                    self.emit(ItemKind::String);
                    self.next();
                    self.ignore();
                    return self.pop();
                }
                if r == EOF {
                    return self.eof_or_error();
                }
                Some(S::QuotedString)
            }
            S::DubQuotedString => {
                let r = self.next();
                if r == '\\' {
                    self.add_current_part(1);
                    return Some(S::StringEscape);
                }
                if r == '"' {
                    self.backup();
                    self.emit_string();
                    self.next();
                    self.ignore();
                    return self.pop();
                }
                if r == EOF {
                    return self.eof_or_error();
                }
                Some(S::DubQuotedString)
            }
            S::BareString => self.bare_string(),
            S::Block => self.block(),
            S::StringEscape => {
                let r = self.next();
                match r {
                    'x' => Some(S::StringBinary),
                    't' => self.add_part(b"\t"),
                    'n' => self.add_part(b"\n"),
                    'r' => self.add_part(b"\r"),
                    '"' => self.add_part(b"\""),
                    '\\' => self.add_part(b"\\"),
                    _ => self.errorf(format!(
                        "Invalid escape character '{}'. Only the following escape characters \
                         are allowed: \\xXX, \\t, \\n, \\r, \\\", \\\\.",
                        show(r)
                    )),
                }
            }
            S::StringBinary => self.string_binary(),
            S::NumberStart => {
                let r = self.next();
                if !is_digit(r) {
                    return self.not_a_digit(r);
                }
                Some(S::Number)
            }
            S::Number => self.number(),
            S::SuffixedNumber => {
                let r = self.next();
                if matches!(r, 'b' | 'B' | 'i' | 'I') {
                    return Some(S::SuffixedNumber);
                }
                self.backup();
                if ends_number(r) || is_digit(r) {
                    self.emit(ItemKind::Integer);
                    return self.pop();
                }
                self.string_state = S::BareString;
                Some(S::BareString)
            }
            S::DateAfterYear => self.date_after_year(),
            S::NegNumberStart => {
                let r = self.next();
                if !is_digit(r) {
                    return self.not_a_digit(r);
                }
                Some(S::NegNumber)
            }
            S::NegNumber => {
                let r = self.next();
                if is_digit(r) {
                    return Some(S::NegNumber);
                }
                if r == '.' {
                    return Some(S::FloatStart);
                }
                if is_suffix(r) {
                    return Some(S::SuffixedNumber);
                }
                self.backup();
                self.emit(ItemKind::Integer);
                self.pop()
            }
            S::FloatStart => {
                let r = self.next();
                if !is_digit(r) {
                    return self.errorf(format!(
                        "Floats must have a digit after the '.', but got '{}' instead.",
                        show(r)
                    ));
                }
                Some(S::Float)
            }
            S::Float => {
                let r = self.next();
                if is_digit(r) {
                    return Some(S::Float);
                }
                if r == '.' {
                    return Some(S::IpAddr);
                }
                self.backup();
                self.emit(ItemKind::Float);
                self.pop()
            }
            S::IpAddr => {
                let r = self.next();
                if is_digit(r) || r == '.' || r == ':' || r == '-' {
                    return Some(S::IpAddr);
                }
                self.backup();
                self.emit(ItemKind::String);
                self.pop()
            }
            S::CommentStart => {
                self.ignore();
                self.emit(ItemKind::CommentStart);
                Some(S::Comment)
            }
            S::Comment => {
                let r = self.peek();
                if is_nl(r) || r == EOF {
                    self.emit(ItemKind::Text);
                    return self.pop();
                }
                self.next();
                Some(S::Comment)
            }
        }
    }

    fn not_a_digit(&mut self, r: char) -> Option<State> {
        if r == '.' {
            return self.errorf("Floats must start with a digit, not '.'.".to_string());
        }
        self.errorf(format!("Expected a digit but got '{}'.", show(r)))
    }

    fn top(&mut self) -> Option<State> {
        let r = self.next();
        if is_space(r) {
            self.ignore();
            return Some(State::Top);
        }
        match r {
            '{' => {
                self.push(State::Top);
                self.ignore();
                return Some(State::BlockStart);
            }
            '#' => {
                self.push(State::Top);
                return Some(State::CommentStart);
            }
            '/' => {
                if let Some(s) = self.slash_comment(State::Top) {
                    return Some(s);
                }
                return self.eof_or_error();
            }
            EOF => return self.eof_or_error(),
            _ => {}
        }
        self.backup();
        self.push(State::TopValueEnd);
        Some(State::KeyStart)
    }

    fn top_value_end(&mut self) -> Option<State> {
        let r = self.next();
        if r == '#' {
            self.push(State::Top);
            return Some(State::CommentStart);
        }
        if r == '/' {
            if let Some(s) = self.slash_comment(State::Top) {
                return Some(s);
            }
            return Some(State::TopValueEnd);
        }
        if is_ws(r) {
            return Some(State::TopValueEnd);
        }
        if is_nl(r) || r == EOF || r == ';' || r == ',' || r == '}' {
            self.ignore();
            return Some(State::Top);
        }
        self.errorf(format!(
            "Expected a top-level value to end with a new line, comment or EOF, but got '{}' \
             instead.",
            show(r)
        ))
    }

    fn block_start(&mut self) -> Option<State> {
        let r = self.next();
        if is_space(r) {
            self.ignore();
            return Some(State::BlockStart);
        }
        match r {
            '{' => {
                self.push(State::BlockEnd);
                self.ignore();
                return Some(State::BlockStart);
            }
            '}' => {
                self.ignore();
                return self.pop();
            }
            '#' => {
                self.push(State::BlockStart);
                return Some(State::CommentStart);
            }
            '/' => {
                if let Some(s) = self.slash_comment(State::BlockStart) {
                    return Some(s);
                }
                return self.eof_or_error();
            }
            EOF => return self.eof_or_error(),
            _ => {}
        }
        self.backup();
        self.push(State::BlockValueEnd);
        Some(State::KeyStart)
    }

    fn block_value_end(&mut self) -> Option<State> {
        let r = self.next();
        if r == '#' {
            self.push(State::BlockValueEnd);
            return Some(State::CommentStart);
        }
        if r == '/' {
            if let Some(s) = self.slash_comment(State::BlockValueEnd) {
                return Some(s);
            }
            return Some(State::BlockValueEnd);
        }
        if is_ws(r) {
            return Some(State::BlockValueEnd);
        }
        if is_nl(r) || r == ';' || r == ',' {
            self.ignore();
            return Some(State::BlockStart);
        }
        if r == '}' {
            self.backup();
            return Some(State::BlockEnd);
        }
        self.errorf(format!(
            "Expected a block-level value to end with a new line, comment or EOF, but got '{}' \
             instead.",
            show(r)
        ))
    }

    fn block_end(&mut self) -> Option<State> {
        let r = self.next();
        if r == '#' {
            self.push(State::BlockStart);
            return Some(State::CommentStart);
        }
        if r == '/' {
            if let Some(s) = self.slash_comment(State::BlockStart) {
                return Some(s);
            }
            return Some(State::BlockEnd);
        }
        if is_nl(r) || is_ws(r) {
            return Some(State::BlockEnd);
        }
        if r == ';' || r == ',' {
            self.ignore();
            return Some(State::BlockStart);
        }
        if r == '}' {
            self.ignore();
            return self.pop();
        }
        self.errorf(format!(
            "Expected a block-level to end with a '}}', but got '{}' instead.",
            show(r)
        ))
    }

    fn key_start(&mut self) -> Option<State> {
        let r = self.peek();
        if is_key_sep(r) {
            return self.errorf(format!("Unexpected key separator '{}'", show(r)));
        }
        if is_space(r) {
            self.next();
            self.ignore();
            return Some(State::KeyStart);
        }
        if r == '"' {
            self.next();
            self.ignore();
            return Some(State::DubQuotedKey);
        }
        if r == '\'' {
            self.next();
            self.ignore();
            return Some(State::QuotedKey);
        }
        self.ignore();
        self.next();
        Some(State::Key)
    }

    fn quoted_key(&mut self, quote: char) -> Option<State> {
        let r = self.peek();
        if r == quote {
            self.emit(ItemKind::Key);
            self.next();
            self.ignore();
            return Some(State::KeyEnd);
        }
        if r == EOF {
            return self.eof_or_error();
        }
        self.next();
        Some(if quote == '"' {
            State::DubQuotedKey
        } else {
            State::QuotedKey
        })
    }

    fn include_quoted(&mut self, quote: char, eof_msg: &str) -> Option<State> {
        let r = self.next();
        if r == quote {
            self.backup();
            self.emit(ItemKind::Include);
            self.next();
            self.ignore();
            return self.pop();
        }
        if r == EOF {
            return self.errorf(eof_msg.to_string());
        }
        Some(if quote == '"' {
            State::IncludeDubQuoted
        } else {
            State::IncludeQuoted
        })
    }

    fn include(&mut self) -> Option<State> {
        let r = self.next();
        let what = match r {
            '\'' => {
                self.ignore();
                return Some(State::IncludeQuoted);
            }
            '"' => {
                self.ignore();
                return Some(State::IncludeDubQuoted);
            }
            '[' => "start of an array",
            '{' => "start of a map",
            '(' => "start of a block",
            '-' => "start of a number",
            c if is_digit(c) => "start of a number",
            '\\' => "escape sequence",
            c if is_nl(c) => "new line",
            _ => {
                self.backup();
                return Some(State::IncludeBare);
            }
        };
        self.errorf(format!("Expected include value but found {what}"))
    }

    fn value(&mut self) -> Option<State> {
        let r = self.next();
        if is_ws(r) {
            self.ignore();
            return Some(State::Value);
        }
        match r {
            '[' => {
                self.ignore();
                self.emit(ItemKind::ArrayStart);
                Some(State::ArrayValue)
            }
            '{' => {
                self.ignore();
                self.emit(ItemKind::MapStart);
                Some(State::MapKeyStart)
            }
            '\'' => {
                self.ignore();
                Some(State::QuotedString)
            }
            '"' => {
                self.ignore();
                self.string_state = State::DubQuotedString;
                Some(State::DubQuotedString)
            }
            '-' => Some(State::NegNumberStart),
            '(' => {
                self.ignore();
                Some(State::Block)
            }
            c if is_digit(c) => {
                self.backup();
                Some(State::NumberStart)
            }
            '.' => self.errorf("Floats must start with a digit".to_string()),
            c if is_nl(c) => self.errorf("Expected value but found new line".to_string()),
            _ => {
                self.backup();
                self.string_state = State::BareString;
                Some(State::BareString)
            }
        }
    }

    fn array_value(&mut self) -> Option<State> {
        let r = self.next();
        if is_space(r) {
            self.ignore();
            return Some(State::ArrayValue);
        }
        match r {
            '#' => {
                self.push(State::ArrayValue);
                return Some(State::CommentStart);
            }
            '/' => {
                if let Some(s) = self.slash_comment(State::ArrayValue) {
                    return Some(s);
                }
                return self.errorf("Unexpected array value terminator ','.".to_string());
            }
            ',' => return self.errorf("Unexpected array value terminator ','.".to_string()),
            ']' => return Some(State::ArrayEnd),
            _ => {}
        }
        self.backup();
        self.push(State::ArrayValueEnd);
        Some(State::Value)
    }

    fn array_value_end(&mut self) -> Option<State> {
        let r = self.next();
        if is_ws(r) {
            self.ignore();
            return Some(State::ArrayValueEnd);
        }
        match r {
            '#' => {
                self.push(State::ArrayValueEnd);
                return Some(State::CommentStart);
            }
            '/' => {
                if let Some(s) = self.slash_comment(State::ArrayValueEnd) {
                    return Some(s);
                }
                self.ignore();
                return Some(State::ArrayValue);
            }
            ']' => return Some(State::ArrayEnd),
            _ => {}
        }
        if r == ',' || is_nl(r) {
            self.ignore();
            return Some(State::ArrayValue);
        }
        self.errorf(format!(
            "Expected an array value terminator \",\" or an array terminator \"]\", but got '{}' \
             instead.",
            show(r)
        ))
    }

    fn map_key_start(&mut self) -> Option<State> {
        let r = self.peek();
        if is_key_sep(r) {
            return self.errorf(format!("Unexpected key separator '{}'.", show(r)));
        }
        if r == ']' {
            return self.errorf(format!(
                "Unexpected array end '{}' processing map.",
                show(r)
            ));
        }
        if is_space(r) {
            self.next();
            self.ignore();
            return Some(State::MapKeyStart);
        }
        match r {
            '}' => {
                self.next();
                self.ignore();
                return Some(State::MapEnd);
            }
            '#' => {
                self.next();
                self.push(State::MapKeyStart);
                return Some(State::CommentStart);
            }
            '/' => {
                self.next();
                if let Some(s) = self.slash_comment(State::MapKeyStart) {
                    return Some(s);
                }
            }
            '\'' => {
                self.next();
                self.ignore();
                return Some(State::MapQuotedKey);
            }
            '"' => {
                self.next();
                self.ignore();
                return Some(State::MapDubQuotedKey);
            }
            EOF => return self.errorf("Unexpected EOF processing map.".to_string()),
            _ => {}
        }
        self.ignore();
        self.next();
        Some(State::MapKey)
    }

    fn map_quoted_key(&mut self, quote: char, what: &str) -> Option<State> {
        let r = self.peek();
        if r == EOF {
            return self.errorf(format!("Unexpected EOF processing {what} map key."));
        }
        if r == quote {
            self.emit(ItemKind::Key);
            self.next();
            self.ignore();
            return Some(State::MapKeyEnd);
        }
        self.next();
        Some(if quote == '"' {
            State::MapDubQuotedKey
        } else {
            State::MapQuotedKey
        })
    }

    fn map_value_end(&mut self) -> Option<State> {
        let r = self.next();
        if is_ws(r) {
            self.ignore();
            return Some(State::MapValueEnd);
        }
        match r {
            '#' => {
                self.push(State::MapValueEnd);
                return Some(State::CommentStart);
            }
            '/' => {
                if let Some(s) = self.slash_comment(State::MapValueEnd) {
                    return Some(s);
                }
                self.ignore();
                return Some(State::MapKeyStart);
            }
            '}' => {
                self.ignore();
                return Some(State::MapEnd);
            }
            _ => {}
        }
        if r == ';' || r == ',' || is_nl(r) {
            self.ignore();
            return Some(State::MapKeyStart);
        }
        self.errorf(format!(
            "Expected a map value terminator \",\" or a map terminator \"}}\", but got '{}' instead.",
            show(r)
        ))
    }

    fn bare_string(&mut self) -> Option<State> {
        let r = self.next();
        if r == '\\' {
            self.add_current_part(1);
            return Some(State::StringEscape);
        }
        if is_nl(r) || r == EOF || r == ';' || r == ',' || r == ']' || r == '}' || is_ws(r) {
            self.backup();
            if self.has_parts {
                self.emit_string();
            } else if self.is_bool() {
                self.emit(ItemKind::Bool);
            } else if self.current().first() == Some(&b'$') {
                self.start += 1;
                self.emit(ItemKind::Variable);
            } else {
                self.emit_string();
            }
            return self.pop();
        }
        if r == '\'' {
            self.backup();
            self.emit_string();
            self.next();
            self.ignore();
            return self.pop();
        }
        Some(State::BareString)
    }

    fn block(&mut self) -> Option<State> {
        let r = self.next();
        if r == EOF {
            return self.errorf("Unexpected EOF processing block.".to_string());
        }
        if r != ')' {
            return Some(State::Block);
        }
        self.backup();
        self.backup();
        if self.next() != '\n' {
            self.next();
            return Some(State::Block);
        }
        self.next();
        let after = self.next();
        if after == '\n' || after == EOF {
            self.backup();
            self.backup();
            self.emit(ItemKind::String);
            self.next();
            self.ignore();
            return self.pop();
        }
        self.backup();
        Some(State::Block)
    }

    fn string_binary(&mut self) -> Option<State> {
        const MSG: &str = "Expected two hexadecimal digits after '\\x', but hit end of line";
        if is_nl(self.next()) {
            return self.errorf(MSG.to_string());
        }
        if is_nl(self.next()) {
            return self.errorf(MSG.to_string());
        }
        let from = self.pos.saturating_sub(2);
        let pair = &self.input[from..self.pos];
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            pair.first().copied().and_then(hex),
            pair.get(1).copied().and_then(hex),
        ) {
            (Some(hi), Some(lo)) if pair.len() == 2 => {
                // Both digits are below 16, so the byte fits.
                let byte = u8::try_from(hi * 16 + lo).unwrap_or(0);
                self.add_part(&[byte]);
                Some(self.string_state)
            }
            _ => {
                let got = String::from_utf8_lossy(pair).into_owned();
                self.errorf(format!(
                    "Expected two hexadecimal digits after '\\x', but got '{got}'"
                ))
            }
        }
    }

    fn number(&mut self) -> Option<State> {
        let r = self.next();
        if r == '-' {
            if self.pos - self.start != 5 {
                return self.errorf("All ISO8601 dates must be in full Zulu form.".to_string());
            }
            return Some(State::DateAfterYear);
        }
        if is_digit(r) {
            return Some(State::Number);
        }
        if r == '.' {
            return Some(State::FloatStart);
        }
        if is_suffix(r) {
            return Some(State::SuffixedNumber);
        }
        if !ends_number(r) {
            self.string_state = State::BareString;
            return Some(State::BareString);
        }
        self.backup();
        self.emit(ItemKind::Integer);
        self.pop()
    }

    fn date_after_year(&mut self) -> Option<State> {
        const FORMAT: &[u8] = b"00-00T00:00:00Z";
        for &f in FORMAT {
            let r = self.next();
            if f == b'0' {
                if !is_digit(r) {
                    return self.errorf(format!(
                        "Expected digit in ISO8601 datetime, but found '{}' instead.",
                        show(r)
                    ));
                }
            } else if r != char::from(f) {
                return self.errorf(format!(
                    "Expected '{}' in ISO8601 datetime, but found '{}' instead.",
                    char::from(f),
                    show(r)
                ));
            }
        }
        self.emit(ItemKind::Datetime);
        self.pop()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(s: &str) -> Vec<(ItemKind, String, usize, isize)> {
        let mut lx = Lexer::new(s.as_bytes());
        let mut out = Vec::new();
        for _ in 0..1000 {
            let it = lx.next_item();
            let end = matches!(it.kind, ItemKind::Eof | ItemKind::Error);
            out.push((
                it.kind,
                String::from_utf8_lossy(&it.text).into_owned(),
                it.line,
                it.pos,
            ));
            if end {
                break;
            }
        }
        out
    }

    #[test]
    fn key_value_forms_and_positions() {
        use ItemKind::*;
        let got = items("a = 1\n  b: \"x\"\nc true\n");
        assert_eq!(got[0], (Key, "a".into(), 1, 0));
        assert_eq!(got[1], (Integer, "1".into(), 1, 4));
        assert_eq!(got[2], (Key, "b".into(), 2, 3));
        assert_eq!(got[3], (String, "x".into(), 2, 7));
        assert_eq!(got[4], (Key, "c".into(), 3, 1));
        assert_eq!(got[5], (Bool, "true".into(), 3, 3));
        assert_eq!(got[6].0, Eof);
    }

    #[test]
    fn numbers_ips_dates_and_strings() {
        use ItemKind::*;
        let kinds = |s: &str| items(s).into_iter().map(|i| (i.0, i.1)).collect::<Vec<_>>();
        assert_eq!(kinds("a 1KB")[1], (Integer, "1KB".into()));
        assert_eq!(kinds("a 1.5")[1], (Float, "1.5".into()));
        assert_eq!(
            kinds("a 127.0.0.1:4222")[1],
            (String, "127.0.0.1:4222".into())
        );
        assert_eq!(
            kinds("a 2016-05-04T18:53:41Z")[1],
            (Datetime, "2016-05-04T18:53:41Z".into())
        );
        assert_eq!(kinds("a 4222x")[1], (String, "4222x".into()));
        assert_eq!(kinds("a $FOO")[1], (Variable, "FOO".into()));
        assert_eq!(kinds("a \"x\\ty\\x41\"")[1], (String, "x\ty\x41".into()));
        assert_eq!(kinds("a (\nhello\n)\n")[1], (String, "\nhello\n".into()));
        assert_eq!(kinds("include 'b.conf'")[0], (Include, "b.conf".into()));
    }

    #[test]
    fn errors_carry_reference_texts() {
        let last = |s: &str| items(s).pop().unwrap();
        let e = last("a = \n");
        assert_eq!(
            (e.0, e.1.as_str(), e.2),
            (ItemKind::Error, "Expected value but found new line", 2)
        );
        let e = last("a = 1 b\n");
        assert_eq!(
            e.1,
            "Expected a top-level value to end with a new line, comment or EOF, but got 'b' instead."
        );
        assert_eq!(last("a = \"x\\q\"").0, ItemKind::Error);
        assert_eq!(last("a {").1, "Unexpected EOF processing map.");
        assert_eq!(last("a [1,,2]").1, "Unexpected array value terminator ','.");
    }

    #[test]
    fn any_input_terminates() {
        for s in [
            "{{{{", "(((", "a (\n)x", "\0", "a=\"\\x", "a [ [ [", "/ /", "a {/",
        ] {
            let got = items(s);
            assert!(
                matches!(got.last().unwrap().0, ItemKind::Eof | ItemKind::Error),
                "{s:?}"
            );
        }
    }
}
