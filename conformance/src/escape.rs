//! Escaping bytes to one printable line and back.
//!
//! Escapes: `\r`, `\n`, `\t`, `\\`, `\xHH` (any byte), `\s` (a space, for
//! trailing spaces that editors would strip). Everything else is literal.

/// Why an escaped string could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EscapeError {
    /// A backslash ended the text.
    #[error("dangling backslash at the end")]
    Dangling,
    /// `\x` was not followed by two hex digits.
    #[error("bad \\x escape at byte {0}")]
    BadHex(usize),
    /// A backslash was followed by an unknown letter.
    #[error("unknown escape \\{0}")]
    Unknown(char),
}

/// Decodes an escaped string into bytes.
pub fn unescape(text: &str) -> Result<Vec<u8>, EscapeError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        let Some(&kind) = bytes.get(i + 1) else {
            return Err(EscapeError::Dangling);
        };
        match kind {
            b'r' => out.push(b'\r'),
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b's' => out.push(b' '),
            b'\\' => out.push(b'\\'),
            b'x' => {
                let hex = bytes
                    .get(i + 2..i + 4)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or(EscapeError::BadHex(i))?;
                out.push(hex);
                i += 2;
            }
            other => return Err(EscapeError::Unknown(other as char)),
        }
        i += 2;
    }
    Ok(out)
}

/// Encodes bytes as one printable line (the inverse of [`unescape`]).
pub fn escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'\r' => out.push_str("\\r"),
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_control_and_binary_bytes() {
        let raw = b"PUB a 2\r\n\x00\xff\t\\ \n";
        assert_eq!(unescape(&escape(raw)).unwrap(), raw);
    }

    #[test]
    fn decodes_space_escape_and_rejects_bad_input() {
        assert_eq!(unescape("a\\s").unwrap(), b"a ");
        assert_eq!(unescape("a\\"), Err(EscapeError::Dangling));
        assert_eq!(unescape("\\xZZ"), Err(EscapeError::BadHex(0)));
        assert_eq!(unescape("\\q"), Err(EscapeError::Unknown('q')));
    }
}
