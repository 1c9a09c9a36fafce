//! `NATS/1.0` header blocks: `NATS/1.0[ <status>[ <description>]]\r\n(Key: Value\r\n)*\r\n`.
//!
//! The reference server passes client header blocks through untouched (it does not even
//! check the `NATS/1.0` prefix), so this module is for blocks the server builds itself
//! (for example the no-responders status `NATS/1.0 503\r\nNats-Subject: <subject>\r\n\r\n`)
//! and for tests and clients that read them.

use bytes::{BufMut, Bytes, BytesMut};

/// The first bytes of every header block.
pub const VERSION_LINE: &[u8] = b"NATS/1.0";

/// Why a header block could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// The block does not start with `NATS/1.0`.
    #[error("header block does not start with NATS/1.0")]
    MissingVersion,
    /// The status after `NATS/1.0 ` is not a 3-digit number.
    #[error("invalid status code in header block")]
    InvalidStatus,
    /// A header line has no `:`.
    #[error("header line without a colon")]
    MalformedLine,
}

/// An ordered header map with repeated keys, plus the optional status line.
///
/// Keys keep the spelling they were given; lookups match a key exactly, or else
/// ASCII-case-insensitively.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderMap {
    status: Option<u16>,
    description: Option<String>,
    entries: Vec<(String, String)>,
}

impl HeaderMap {
    /// An empty block without status (`NATS/1.0\r\n\r\n`).
    pub fn new() -> Self {
        HeaderMap::default()
    }

    /// An empty block with a status line, e.g. `(503, None)` or `(408, Some("Request Timeout"))`.
    pub fn with_status(code: u16, description: Option<&str>) -> Self {
        HeaderMap {
            status: Some(code),
            description: description.map(str::to_owned),
            entries: Vec::new(),
        }
    }

    /// The status code, if the first line has one.
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// The status description, if the first line has one.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// Adds a value for `key`, after any existing ones.
    pub fn append(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.entries.push((key.into(), value.into()));
    }

    /// Sets `key` to a single value, dropping the values it had.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let key = key.into();
        self.remove(&key);
        self.entries.push((key, value.into()));
    }

    /// Removes every value of `key` (matched as [`HeaderMap::get`] does).
    pub fn remove(&mut self, key: &str) {
        let exact = self.entries.iter().any(|(k, _)| k == key);
        self.entries.retain(|(k, _)| {
            if exact {
                k != key
            } else {
                !k.eq_ignore_ascii_case(key)
            }
        });
    }

    /// The first value of `key`.
    pub fn get<'a>(&'a self, key: &str) -> Option<&'a str> {
        let exact = self.entries.iter().find(|(k, _)| k == key);
        exact
            .or_else(|| {
                self.entries
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(key))
            })
            .map(|(_, v)| v.as_str())
    }

    /// All values of `key`, in order.
    pub fn get_all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        let exact = self.entries.iter().any(|(k, _)| k == key);
        self.entries
            .iter()
            .filter(move |(k, _)| {
                if exact {
                    k == key
                } else {
                    k.eq_ignore_ascii_case(key)
                }
            })
            .map(|(_, v)| v.as_str())
    }

    /// All `(key, value)` pairs, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Number of `(key, value)` pairs.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no `(key, value)` pairs.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Reads a header block (the `headers` of an `HPUB`/`HMSG`). Lines may end in `\r\n`
    /// or `\n`; the block ends at an empty line or at the end of the input; values are
    /// trimmed of surrounding spaces and tabs.
    pub fn parse(block: &[u8]) -> Result<HeaderMap, HeaderError> {
        let rest = block
            .strip_prefix(VERSION_LINE)
            .ok_or(HeaderError::MissingVersion)?;
        let mut lines = Lines(rest);
        let first = lines.next().unwrap_or_default();
        let mut map = HeaderMap::new();
        let status_part = trim(first);
        if !status_part.is_empty() {
            if !first.starts_with(b" ") && !first.starts_with(b"\t") {
                return Err(HeaderError::MissingVersion);
            }
            let (code, desc) = match status_part.iter().position(|&b| b == b' ' || b == b'\t') {
                Some(i) => (&status_part[..i], Some(trim(&status_part[i..]))),
                None => (status_part, None),
            };
            if code.len() != 3 || !code.iter().all(u8::is_ascii_digit) {
                return Err(HeaderError::InvalidStatus);
            }
            let code = code.iter().fold(0u16, |n, &d| n * 10 + u16::from(d - b'0'));
            map.status = Some(code);
            map.description = desc
                .filter(|d| !d.is_empty())
                .map(|d| String::from_utf8_lossy(d).into_owned());
        }
        for line in lines {
            if line.is_empty() {
                break;
            }
            let colon = line
                .iter()
                .position(|&b| b == b':')
                .ok_or(HeaderError::MalformedLine)?;
            let key = String::from_utf8_lossy(trim(&line[..colon])).into_owned();
            let value = String::from_utf8_lossy(trim(&line[colon + 1..])).into_owned();
            map.entries.push((key, value));
        }
        Ok(map)
    }

    /// Exact number of bytes [`HeaderMap::encode`] appends.
    pub fn encoded_len(&self) -> usize {
        let status =
            self.status.map_or(0, |_| 4) + self.description.as_ref().map_or(0, |d| d.len() + 1);
        let entries: usize = self
            .entries
            .iter()
            .map(|(k, v)| k.len() + 2 + v.len() + 2)
            .sum();
        VERSION_LINE.len() + status + 2 + entries + 2
    }

    /// Appends the block, final empty line included.
    pub fn encode(&self, buf: &mut BytesMut) {
        buf.reserve(self.encoded_len());
        buf.put_slice(VERSION_LINE);
        if let Some(code) = self.status {
            buf.put_u8(b' ');
            let mut n = itoa::Buffer::new();
            buf.put_slice(n.format(code).as_bytes());
            if let Some(d) = &self.description {
                buf.put_u8(b' ');
                buf.put_slice(d.as_bytes());
            }
        }
        buf.put_slice(b"\r\n");
        for (k, v) in &self.entries {
            buf.put_slice(k.as_bytes());
            buf.put_slice(b": ");
            buf.put_slice(v.as_bytes());
            buf.put_slice(b"\r\n");
        }
        buf.put_slice(b"\r\n");
    }

    /// The encoded block as `Bytes`.
    pub fn to_bytes(&self) -> Bytes {
        let mut buf = BytesMut::with_capacity(self.encoded_len());
        self.encode(&mut buf);
        buf.freeze()
    }
}

/// Lines of a block, each without its `\n` / `\r\n`.
struct Lines<'a>(&'a [u8]);

impl<'a> Iterator for Lines<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.0.is_empty() {
            return None;
        }
        let (line, rest) = match memchr::memchr(b'\n', self.0) {
            Some(i) => (&self.0[..i], &self.0[i + 1..]),
            None => (self.0, &[][..]),
        };
        self.0 = rest;
        Some(line.strip_suffix(b"\r").unwrap_or(line))
    }
}

fn trim(s: &[u8]) -> &[u8] {
    let is_ws = |b: &u8| *b == b' ' || *b == b'\t';
    let start = s.iter().position(|b| !is_ws(b)).unwrap_or(s.len());
    let end = s.iter().rposition(|b| !is_ws(b)).map_or(start, |e| e + 1);
    &s[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_responders_block_matches_reference() {
        let mut h = HeaderMap::with_status(503, None);
        h.append("Nats-Subject", "nobody");
        assert_eq!(
            &h.to_bytes()[..],
            b"NATS/1.0 503\r\nNats-Subject: nobody\r\n\r\n"
        );
        assert_eq!(h.to_bytes().len(), 38);
        assert_eq!(h.encoded_len(), 38);
        assert_eq!(
            &HeaderMap::with_status(503, None).to_bytes()[..],
            b"NATS/1.0 503\r\n\r\n"
        );
    }

    #[test]
    fn parse_status_description_and_multi_values() {
        let h = HeaderMap::parse(b"NATS/1.0 503 Desc x\r\nA: 1\r\nA:  2\r\nb:3\r\n\r\n")
            .expect("valid");
        assert_eq!(h.status(), Some(503));
        assert_eq!(h.description(), Some("Desc x"));
        assert_eq!(h.get_all("A").collect::<Vec<_>>(), ["1", "2"]);
        assert_eq!(h.get("B"), Some("3"));
        assert_eq!(h.len(), 3);
    }

    #[test]
    fn round_trip() {
        let mut h = HeaderMap::with_status(408, Some("Request Timeout"));
        h.append("K", "v1");
        h.append("K", "v2");
        h.insert("Other", "x");
        let back = HeaderMap::parse(&h.to_bytes()).expect("valid");
        assert_eq!(back, h);
        h.remove("k");
        assert_eq!(h.len(), 1);
    }

    #[test]
    fn plain_and_bad_blocks() {
        let h = HeaderMap::parse(b"NATS/1.0\r\n\r\n").expect("valid");
        assert!(h.is_empty() && h.status().is_none());
        assert_eq!(HeaderMap::parse(b"XXXXX"), Err(HeaderError::MissingVersion));
        assert_eq!(
            HeaderMap::parse(b"NATS/1.0x\r\n"),
            Err(HeaderError::MissingVersion)
        );
        assert_eq!(
            HeaderMap::parse(b"NATS/1.0 5x3\r\n"),
            Err(HeaderError::InvalidStatus)
        );
        assert_eq!(
            HeaderMap::parse(b"NATS/1.0\r\nnocolon\r\n"),
            Err(HeaderError::MalformedLine)
        );
    }
}
