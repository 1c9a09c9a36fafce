//! Typed errors of the route parser, each mapped to the reference server's reaction.

/// Why the bytes a route peer sent are not a valid route protocol op.
///
/// Every variant says what `nats-server` 2.15.1 does when a route peer sends such bytes
/// (observed from a raw socket acting as a route): the `-ERR` it replies with, if any, and
/// that it closes the route. [`RouteParseError::wire_text`] returns the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RouteParseError {
    /// Not a route op name (`XYZ`, `MSG`, `RS*`), no separator after the name (`RS+$G`),
    /// or the two bytes after a payload are not `\r\n`.
    /// Reference: `-ERR 'Unknown Protocol Operation'`, then close.
    #[error("unknown protocol operation")]
    UnknownOp,
    /// An argument longer than the limit (the reference allows 16 × `max_control_line`,
    /// 65536 bytes by default, on routes). Reference: `-ERR 'maximum control line
    /// exceeded'`, then close.
    #[error("maximum control line exceeded")]
    MaxControlLine,
    /// A message size over the parser's `max_payload`. The reference sets no payload limit
    /// on routes; this only happens when the caller configured one. No reply, close.
    #[error("maximum payload violation")]
    MaxPayload,
    /// `RS+`/`LS+` with the wrong number of arguments. Reference: no reply, close.
    #[error("invalid RS+/LS+ arguments")]
    InvalidSub,
    /// `RS-`/`LS-` with the wrong number of arguments. Reference: no reply, close.
    #[error("invalid RS-/LS- arguments")]
    InvalidUnsub,
    /// `RMSG`/`HMSG`/`LMSG` with too few arguments. Reference: no reply, close.
    #[error("invalid RMSG/HMSG/LMSG arguments")]
    InvalidMsg,
    /// A routed message whose third argument (of five or more) is not `+` or `|`.
    /// Reference: no reply, close.
    #[error("bad or missing reply indicator")]
    BadReplyMarker,
    /// A message size or header size that is not 1 to 9 digits, or a header size larger
    /// than the total size. Reference: no reply, close.
    #[error("bad message size")]
    BadSize,
    /// `CONNECT` whose JSON is not a route CONNECT object. Reference: no reply, close.
    #[error("invalid route CONNECT JSON")]
    InvalidConnect,
    /// `INFO` whose JSON is not a route INFO object. Reference: no reply, close.
    #[error("invalid route INFO JSON")]
    InvalidInfo,
}

impl RouteParseError {
    /// The text the reference puts inside `-ERR '...'` before closing, or `None` when it
    /// closes without a reply.
    pub fn wire_text(&self) -> Option<&'static str> {
        match self {
            RouteParseError::UnknownOp => Some("Unknown Protocol Operation"),
            RouteParseError::MaxControlLine => Some("maximum control line exceeded"),
            RouteParseError::MaxPayload
            | RouteParseError::InvalidSub
            | RouteParseError::InvalidUnsub
            | RouteParseError::InvalidMsg
            | RouteParseError::BadReplyMarker
            | RouteParseError::BadSize
            | RouteParseError::InvalidConnect
            | RouteParseError::InvalidInfo => None,
        }
    }

    /// Whether the reference closes the route after this error (always).
    pub fn closes(&self) -> bool {
        true
    }
}
