//! Operations exchanged on a route connection.

use bytes::Bytes;

use super::{RouteConnect, RouteInfo};

/// The queue group names of a routed message (`RMSG`/`HMSG`/`LMSG` after a `+ reply` or
/// `|` marker), kept as one zero-copy slice of the control line: the names separated by
/// single spaces or tabs as the peer wrote them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueNames(Bytes);

impl QueueNames {
    /// Queue names from their space-separated wire form (use `Bytes::new()` for none).
    pub fn from_wire(names: Bytes) -> Self {
        QueueNames(names)
    }

    /// Queue names from a list, joined by single spaces (for encoders and tests).
    pub fn from_names<I, T>(names: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        let mut out = Vec::new();
        for n in names {
            if !out.is_empty() {
                out.push(b' ');
            }
            out.extend_from_slice(n.as_ref());
        }
        QueueNames(Bytes::from(out))
    }

    /// The names as written on the wire (separated by spaces or tabs).
    pub fn as_wire(&self) -> &Bytes {
        &self.0
    }

    /// Whether there is no queue name.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// Number of queue names.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// The names, each a zero-copy slice.
    pub fn iter(&self) -> impl Iterator<Item = Bytes> + '_ {
        super::parser::word_ranges(&self.0).map(move |r| self.0.slice(r))
    }
}

/// One operation on a route connection, as parsed by [`crate::RouteParser`] and written by
/// [`crate::route::encode`].
///
/// `account` is `None` when the connection is dedicated to ("pinned" to) one account: the
/// reference then leaves the account out of `RS+`/`RS-`/`LS+`/`LS-`/`RMSG`/`HMSG`/`LMSG`,
/// and the account is the connection's (see [`crate::RouteParser::pinned_account`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteOp {
    /// `INFO {json}`: the first one starts the handshake, later ones update (gossip).
    Info(Box<RouteInfo>),
    /// `CONNECT {json}`: sent by the soliciting side first.
    Connect(Box<RouteConnect>),
    /// `PING`.
    Ping,
    /// `PONG`.
    Pong,
    /// `+OK` (the reference ignores it on routes).
    Ok,
    /// `-ERR <text>`: the text without its surrounding single quotes. The reference closes
    /// the route when it receives one.
    Err(String),
    /// `RS+ [account] <subject> [<queue> <weight>]`: interest in `subject`, or a queue
    /// group's total weight (number of members) on the sending server.
    Sub {
        /// Account, absent on a pinned-account connection.
        account: Option<Bytes>,
        /// Subject (may hold wildcards).
        subject: Bytes,
        /// Queue group and its weight. A weight that is not 1 to 9 digits reads as 1 (the
        /// reference counts such a member once); 0 is kept (also counted once).
        queue: Option<(Bytes, u32)>,
    },
    /// `RS- [account] <subject> [<queue>]`: no more interest (or no more members of queue).
    Unsub {
        /// Account, absent on a pinned-account connection.
        account: Option<Bytes>,
        /// Subject.
        subject: Bytes,
        /// Queue group.
        queue: Option<Bytes>,
    },
    /// `LS+ <origin> [account] <subject> [<queue> <weight>]`: interest of a leafnode
    /// connection whose remote cluster is `origin`, propagated over the route.
    LeafSub {
        /// Cluster name of the leafnode the interest comes from.
        origin: Bytes,
        /// Account, absent on a pinned-account connection.
        account: Option<Bytes>,
        /// Subject.
        subject: Bytes,
        /// Queue group and weight (same reading as [`RouteOp::Sub`]).
        queue: Option<(Bytes, u32)>,
    },
    /// `LS- [origin] [account] <subject> [<queue>]`: the origin is present when the peer
    /// announced `"lnocu":true` in its first INFO (all 2.10+ servers do).
    LeafUnsub {
        /// Cluster name of the leafnode, when the peer sends it.
        origin: Option<Bytes>,
        /// Account, absent on a pinned-account connection.
        account: Option<Bytes>,
        /// Subject.
        subject: Bytes,
        /// Queue group.
        queue: Option<Bytes>,
    },
    /// `RMSG [account] <subject> [reply] <size>` or, when queue groups are targeted,
    /// `RMSG [account] <subject> + <reply> <queues...> <size>` /
    /// `RMSG [account] <subject> | <queues...> <size>`, then the payload.
    Msg {
        /// Account, absent on a pinned-account connection.
        account: Option<Bytes>,
        /// Subject.
        subject: Bytes,
        /// Reply subject.
        reply: Option<Bytes>,
        /// Queue groups the receiver should deliver to (one member each, local only).
        queues: QueueNames,
        /// Payload.
        payload: Bytes,
    },
    /// `HMSG [account] <subject> [reply | + reply queues... | | queues...] <hdr> <size>`:
    /// a message with headers (same forms as [`RouteOp::Msg`] plus the header size).
    HMsg {
        /// Account, absent on a pinned-account connection.
        account: Option<Bytes>,
        /// Subject.
        subject: Bytes,
        /// Reply subject.
        reply: Option<Bytes>,
        /// Queue groups.
        queues: QueueNames,
        /// The raw header block (`NATS/1.0\r\n...\r\n\r\n`).
        headers: Bytes,
        /// Payload after the headers.
        payload: Bytes,
    },
    /// `LMSG <origin> [account] <subject> [...] <hdr> <size>`: a message that came in from
    /// a leafnode of cluster `origin`. Always carries a header size (0 when none).
    LMsg {
        /// Cluster name of the leafnode the message came from.
        origin: Bytes,
        /// Account, absent on a pinned-account connection.
        account: Option<Bytes>,
        /// Subject.
        subject: Bytes,
        /// Reply subject.
        reply: Option<Bytes>,
        /// Queue groups.
        queues: QueueNames,
        /// The raw header block (empty when the header size is 0).
        headers: Bytes,
        /// Payload after the headers.
        payload: Bytes,
    },
}
