//! Operations a server sends to a client.

use bytes::Bytes;

use crate::ServerInfo;

/// One operation sent by a server, as parsed by [`crate::ServerParser`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerOp {
    /// `INFO {json}`.
    Info(Box<ServerInfo>),
    /// `MSG <subject> <sid> [reply] <size>\r\n<payload>\r\n`.
    Msg {
        /// Subject the message was published to.
        subject: Bytes,
        /// Subscription id it is delivered for.
        sid: Bytes,
        /// Optional reply subject.
        reply: Option<Bytes>,
        /// Message payload.
        payload: Bytes,
    },
    /// `HMSG <subject> <sid> [reply] <hdr size> <total size>\r\n<headers><payload>\r\n`.
    HMsg {
        /// Subject the message was published to.
        subject: Bytes,
        /// Subscription id it is delivered for.
        sid: Bytes,
        /// Optional reply subject.
        reply: Option<Bytes>,
        /// The raw header block.
        headers: Bytes,
        /// Message payload.
        payload: Bytes,
    },
    /// `PING`.
    Ping,
    /// `PONG`.
    Pong,
    /// `+OK`.
    Ok,
    /// `-ERR '<text>'`: the text between the quotes.
    Err(String),
}
