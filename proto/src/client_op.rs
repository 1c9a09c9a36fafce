//! Operations a client sends to a server.

use bytes::Bytes;

use crate::ConnectInfo;

/// One operation sent by a client, as parsed by [`crate::ClientParser`].
///
/// Subjects, sids, queue names and payloads are zero-copy slices of the read buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientOp {
    /// `CONNECT {json}`.
    Connect(Box<ConnectInfo>),
    /// `PUB <subject> [reply] <size>\r\n<payload>\r\n`.
    Pub {
        /// Subject published to (not yet validated).
        subject: Bytes,
        /// Optional reply subject.
        reply: Option<Bytes>,
        /// Message payload.
        payload: Bytes,
    },
    /// `HPUB <subject> [reply] <hdr size> <total size>\r\n<headers><payload>\r\n`.
    HPub {
        /// Subject published to (not yet validated).
        subject: Bytes,
        /// Optional reply subject.
        reply: Option<Bytes>,
        /// The raw header block, `NATS/1.0...\r\n\r\n` included.
        headers: Bytes,
        /// Message payload (after the header block).
        payload: Bytes,
    },
    /// `SUB <subject> [queue] <sid>`.
    Sub {
        /// Subject (may hold wildcards; not yet validated).
        subject: Bytes,
        /// Optional queue group.
        queue: Option<Bytes>,
        /// Client-chosen subscription id.
        sid: Bytes,
    },
    /// `UNSUB <sid> [max_msgs]`.
    Unsub {
        /// Subscription id.
        sid: Bytes,
        /// Auto-unsubscribe after this many messages in total.
        max: Option<u64>,
    },
    /// `PING`.
    Ping,
    /// `PONG`.
    Pong,
}
