//! Passwords and tokens as configured: plain text or bcrypt hashes, compared in constant time.

use std::fmt;

use subtle::ConstantTimeEq;

/// A configured password or token. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub enum Secret {
    /// Compared byte for byte in constant time.
    Plain(String),
    /// A bcrypt hash (`$2a$…`, `$2b$…`, `$2x$…`, `$2y$…`).
    Bcrypt(String),
}

impl Secret {
    /// A secret from its configured text: bcrypt when it looks like a bcrypt hash.
    pub fn new(configured: impl Into<String>) -> Secret {
        let s = configured.into();
        if is_bcrypt(&s) {
            Secret::Bcrypt(s)
        } else {
            Secret::Plain(s)
        }
    }

    /// Whether `given` (what a client sent) matches.
    pub fn verify(&self, given: &str) -> bool {
        match self {
            Secret::Plain(expected) => bool::from(expected.as_bytes().ct_eq(given.as_bytes())),
            Secret::Bcrypt(hash) => bcrypt::verify(given, hash).unwrap_or(false),
        }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Secret::Plain(_) => f.write_str("Secret::Plain(..)"),
            Secret::Bcrypt(_) => f.write_str("Secret::Bcrypt(..)"),
        }
    }
}

/// `$2?$NN$…` with `?` one of a, b, x, y and NN the cost.
fn is_bcrypt(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() > 7
        && b.starts_with(b"$2")
        && matches!(b[2], b'a' | b'b' | b'x' | b'y')
        && b[3] == b'$'
        && b[4].is_ascii_digit()
        && b[5].is_ascii_digit()
        && b[6] == b'$'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_bcrypt() {
        let p = Secret::new("s3cr3t");
        assert!(p.verify("s3cr3t"));
        assert!(!p.verify("s3cr3"));
        assert!(!p.verify(""));
        let hash = bcrypt::hash("s3cr3t", 4).unwrap();
        let b = Secret::new(hash);
        assert!(matches!(b, Secret::Bcrypt(_)));
        assert!(b.verify("s3cr3t"));
        assert!(!b.verify("wrong"));
        assert!(!format!("{b:?}").contains('$'));
    }
}
