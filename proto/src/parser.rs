//! Incremental parsers: bytes in, ops out. (API skeleton; implementation in progress.)

use bytes::BytesMut;

use crate::{ClientOp, ParseError, ServerOp};

/// Limits the parser enforces while reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParserLimits {
    /// Longest control line accepted (default 4096).
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

/// Server-side parser of what a client sends.
#[derive(Debug)]
pub struct ClientParser {
    limits: ParserLimits,
}

impl ClientParser {
    /// A parser with the given limits.
    pub fn new(limits: ParserLimits) -> Self {
        ClientParser { limits }
    }

    /// Changes the limits (for example after a config reload).
    pub fn set_limits(&mut self, limits: ParserLimits) {
        self.limits = limits;
    }

    /// Parses the next op from the front of `buf`, splitting its bytes off (payloads are
    /// zero-copy `Bytes` views of them). `Ok(None)`: `buf` holds no whole op yet; call again
    /// with more bytes appended.
    pub fn next_op(&mut self, buf: &mut BytesMut) -> Result<Option<ClientOp>, ParseError> {
        let _ = buf;
        todo!()
    }
}

/// Client-side parser of what a server sends.
#[derive(Debug, Default)]
pub struct ServerParser {}

impl ServerParser {
    /// A parser with no limits (for clients and tests).
    pub fn new() -> Self {
        ServerParser {}
    }

    /// Parses the next op from the front of `buf`, as [`ClientParser::next_op`] does.
    pub fn next_op(&mut self, buf: &mut BytesMut) -> Result<Option<ServerOp>, ParseError> {
        let _ = buf;
        todo!()
    }
}
