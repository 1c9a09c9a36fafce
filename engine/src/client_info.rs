//! What monitoring can read about a connection while it runs and after it closed.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use proto::ConnectInfo;

use crate::CloseReason;

/// Counters of one connection, updated once per read batch by its reader.
#[derive(Debug, Default)]
pub struct ClientCounters {
    /// Messages received from the client.
    pub in_msgs: AtomicU64,
    /// Payload bytes received from the client.
    pub in_bytes: AtomicU64,
    /// Nanoseconds after the connection started of its last input.
    pub last_activity_nanos: AtomicU64,
    /// Live subscriptions.
    pub subscriptions: AtomicU64,
    /// Latest round-trip time in nanoseconds (0: not measured yet). Written on CONNECT and
    /// on each PONG, never on the message path.
    pub rtt_nanos: AtomicU64,
}

impl ClientCounters {
    pub(crate) fn add_input(&self, msgs: u64, bytes: u64) {
        self.in_msgs.fetch_add(msgs, Ordering::Relaxed);
        self.in_bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    pub(crate) fn set_rtt(&self, rtt: Duration) {
        let nanos = u64::try_from(rtt.as_nanos()).unwrap_or(u64::MAX);
        self.rtt_nanos.store(nanos, Ordering::Relaxed);
    }

    pub(crate) fn touch(&self, start: Instant, now: Instant) {
        let nanos = now.saturating_duration_since(start).as_nanos();
        self.last_activity_nanos
            .store(u64::try_from(nanos).unwrap_or(u64::MAX), Ordering::Relaxed);
    }
}

/// A point-in-time view of one connection (the data behind `/connz`).
#[derive(Debug, Clone)]
pub struct ClientSnapshot {
    /// Connection id.
    pub cid: u64,
    /// Remote address.
    pub peer: SocketAddr,
    /// When it connected.
    pub start: Instant,
    /// Last time it sent anything.
    pub last_activity: Instant,
    /// The CONNECT options, once received.
    pub connect: Option<Arc<ConnectInfo>>,
    /// Messages received from it.
    pub in_msgs: u64,
    /// Payload bytes received from it.
    pub in_bytes: u64,
    /// Messages sent to it.
    pub out_msgs: u64,
    /// Payload bytes sent to it.
    pub out_bytes: u64,
    /// Bytes waiting to be written to it.
    pub pending_bytes: usize,
    /// Live subscriptions.
    pub subscriptions: u64,
    /// Latest round-trip time (zero: not measured yet).
    pub rtt: Duration,
    /// Who it authenticated as, once its CONNECT was accepted.
    pub identity: Option<Arc<ClientIdentity>>,
}

/// A subscription a closed connection held when it ended (`/connz?state=closed&subs=1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosedSub {
    /// Account whose index held it.
    pub account: String,
    /// Subject filter.
    pub subject: String,
    /// Queue group.
    pub queue: Option<String>,
    /// Subscription id.
    pub sid: String,
    /// Messages delivered to it.
    pub msgs: u64,
}

/// A connection that has ended, kept for `/connz?state=closed`.
#[derive(Debug, Clone)]
pub struct ClosedClient {
    /// Its last view.
    pub snapshot: ClientSnapshot,
    /// When it ended.
    pub stop: Instant,
    /// Why it ended.
    pub reason: CloseReason,
    /// The subscriptions it held when it ended.
    pub subs: Vec<ClosedSub>,
}

/// Who an accepted CONNECT authenticated as (`/connz?auth=1`, `user=`, `acc=`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientIdentity {
    /// The user name, when the client authenticated as a user.
    pub user: Option<String>,
    /// The account the client runs in.
    pub account: String,
}

/// The connection's CONNECT options and identity as monitoring reads them.
#[derive(Debug, Default)]
pub struct ConnectSlot {
    info: Mutex<Option<Arc<ConnectInfo>>>,
    identity: Mutex<Option<Arc<ClientIdentity>>>,
}

impl ConnectSlot {
    pub(crate) fn set(&self, info: Arc<ConnectInfo>) {
        *self.info.lock() = Some(info);
    }

    pub(crate) fn set_identity(&self, user: Option<String>, account: &str) {
        *self.identity.lock() = Some(Arc::new(ClientIdentity {
            user,
            account: account.to_string(),
        }));
    }

    /// The CONNECT options, once received.
    pub fn get(&self) -> Option<Arc<ConnectInfo>> {
        self.info.lock().clone()
    }

    /// Who the client authenticated as, once its CONNECT was accepted.
    pub fn identity(&self) -> Option<Arc<ClientIdentity>> {
        self.identity.lock().clone()
    }
}

/// Adds `d` to `start`, saturating far in the future.
pub(crate) fn after(start: Instant, d: Duration) -> Instant {
    start.checked_add(d).unwrap_or(start)
}
