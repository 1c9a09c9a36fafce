//! Incremental parsers: bytes in, ops out.
//!
//! Both parsers keep the state of a partly received op, so a caller can append bytes as they
//! arrive and call `next_op` again: a control line is scanned only once, and a large payload
//! is skipped by its declared length, never scanned.

mod args;
mod client;
mod line;
mod server;
mod verb;

pub use client::ClientParser;
pub use server::ServerParser;

/// Limits the parser enforces while reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParserLimits {
    /// Longest control-line argument accepted (default 4096). The reference counts the
    /// bytes after the op name and its separators, without the line end, and applies it to
    /// every op with an argument (not to `PING`/`PONG`/`+OK`), as soon as that many bytes
    /// have arrived even without a newline.
    pub max_control_line: usize,
    /// Largest payload (headers included) accepted (default 1 MiB). Negative = no limit.
    pub max_payload: i64,
}

impl Default for ParserLimits {
    fn default() -> Self {
        ParserLimits {
            max_control_line: 4096,
            max_payload: 1024 * 1024,
        }
    }
}

impl ParserLimits {
    /// Whether a declared payload size is over `max_payload`.
    pub(crate) fn payload_too_big(&self, size: usize) -> bool {
        self.max_payload >= 0 && u64::try_from(size).unwrap_or(u64::MAX) > self.max_payload as u64
    }
}
