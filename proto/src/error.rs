//! Typed parse errors, each mapped to the reference server's reaction.

/// Why the bytes a peer sent are not a valid protocol op.
///
/// Every variant documents what the reference server (`nats-server` 2.15.1) does when a
/// *client* sends such bytes: the `-ERR` text it replies with (if any) and whether it closes
/// the connection. [`ParseError::wire_text`] and [`ParseError::closes`] return the same
/// facts for code. Variants that only a [`crate::ServerParser`] returns say so.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// Not a known op name, no separator after `PUB`/`SUB`/..., or the two bytes after a
    /// payload are not `\r\n`. Reference: `-ERR 'Unknown Protocol Operation'`, then close.
    #[error("unknown protocol operation")]
    UnknownOp,
    /// Authentication is required and an op other than `CONNECT` came first (detected on
    /// its first byte). Reference: `-ERR 'Authorization Violation'`, then close.
    #[error("authorization violation: CONNECT expected first")]
    AuthViolation,
    /// The argument part of a control line is longer than `max_control_line`.
    /// Reference: `-ERR 'maximum control line exceeded'` (lower case), then close.
    #[error("maximum control line exceeded")]
    MaxControlLine,
    /// The declared `PUB`/`HPUB` size is larger than `max_payload` (checked before the
    /// payload is read). Reference: `-ERR 'Maximum Payload Violation'`, then close.
    #[error("maximum payload violation")]
    MaxPayload,
    /// `PUB` without 2 or 3 arguments, or a size that is not 1 to 9 decimal digits.
    /// Reference: no reply, close.
    #[error("invalid PUB arguments")]
    InvalidPub,
    /// `HPUB` without 3 or 4 arguments, bad sizes, or header size > total size.
    /// Reference: no reply, close.
    #[error("invalid HPUB arguments")]
    InvalidHpub,
    /// `HPUB` while the connection has not negotiated headers (`"headers":true` in CONNECT,
    /// and the server supports them). Reference: no reply, close.
    #[error("message headers not supported")]
    HeadersNotSupported,
    /// `SUB` without 2 or 3 arguments. Reference: no reply, close.
    #[error("invalid SUB arguments")]
    InvalidSub,
    /// `UNSUB` without 1 or 2 arguments. Reference: no reply, close.
    #[error("invalid UNSUB arguments")]
    InvalidUnsub,
    /// `CONNECT` whose argument is not a JSON object (or `null`) with correctly typed known
    /// keys. Reference: no reply, close.
    #[error("invalid CONNECT JSON")]
    InvalidConnect,
    /// `INFO` whose argument is not a JSON object (or `null`). Reference (client sent it):
    /// no reply, close. A valid client `INFO` is silently ignored by the parser.
    #[error("invalid INFO JSON")]
    InvalidInfo,
    /// The client sent `-ERR ...`. Reference: no reply, close.
    #[error("peer sent -ERR")]
    PeerErr,
    /// The client sent `HMSG <anything>\r\n` followed by `\r\n`. The reference treats it
    /// as an empty message to no subject: it replies `+OK` if the client is verbose,
    /// delivers nothing, and keeps the connection open. The parser continues normally.
    #[error("HMSG sent by a client (ignored)")]
    HmsgFromClient,
    /// [`crate::ServerParser`] only: `MSG`/`HMSG` arguments of the wrong count or size.
    #[error("invalid MSG/HMSG arguments")]
    InvalidMsg,
}

impl ParseError {
    /// The text the reference puts inside `-ERR '...'` for this error, or `None` when it
    /// sends no `-ERR` at all.
    pub fn wire_text(&self) -> Option<&'static str> {
        match self {
            ParseError::UnknownOp => Some("Unknown Protocol Operation"),
            ParseError::AuthViolation => Some("Authorization Violation"),
            ParseError::MaxControlLine => Some("maximum control line exceeded"),
            ParseError::MaxPayload => Some("Maximum Payload Violation"),
            ParseError::InvalidPub
            | ParseError::InvalidHpub
            | ParseError::HeadersNotSupported
            | ParseError::InvalidSub
            | ParseError::InvalidUnsub
            | ParseError::InvalidConnect
            | ParseError::InvalidInfo
            | ParseError::PeerErr
            | ParseError::HmsgFromClient
            | ParseError::InvalidMsg => None,
        }
    }

    /// Whether the reference closes the connection after this error (all but
    /// [`ParseError::HmsgFromClient`]).
    pub fn closes(&self) -> bool {
        !matches!(self, ParseError::HmsgFromClient)
    }
}
