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
        /// Digits the client wrote for the size when it used leading zeros (`0002`: 4), else
        /// 0. The reference echoes the size as written in the `MSG` it delivers.
        size_width: u8,
    },
    /// `HPUB <subject> [reply] <hdr size> <total size>\r\n<headers><payload>\r\n`.
    HPub {
        /// Subject published to (not yet validated).
        subject: Bytes,
        /// Optional reply subject.
        reply: Option<Bytes>,
        /// The raw header block exactly as sent (the reference does not validate it). Empty
        /// when the header size is 0: the reference then delivers a plain `MSG`.
        headers: Bytes,
        /// Message payload (after the header block).
        payload: Bytes,
        /// Digits the client wrote for the header and total sizes when it used leading
        /// zeros, else 0 (see `Pub::size_width`).
        widths: [u8; 2],
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
        /// Auto-unsubscribe after this many messages in total. `None` when absent or not a
        /// number; the reference unsubscribes at once for `None`, `Some(0)`, or a max not
        /// above the count already delivered.
        max: Option<u64>,
    },
    /// `PING`.
    Ping,
    /// `PONG`.
    Pong,
}
