//! The server's registered routes, the dial queue and the cluster name.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::Waker;

use bytes::Bytes;
use parking_lot::{Mutex, RwLock};
use proto::route::RouteInfo;

use super::dial::{RouteDial, RouteSlot};
use super::pool::pool_index;
use crate::client::ClientShared;
use crate::SubRef;

/// A peer's interest: (account, subject, queue group).
pub(crate) type RemoteKey = (Bytes, Bytes, Option<Bytes>);

/// What the runtime tells the engine once the cluster listener is bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteStart {
    /// The bound cluster listener (its port replaces a configured `-1`/`0`).
    pub listen: SocketAddr,
    /// This server's client URLs (`host:port`) to advertise to peers (`connect_urls`).
    pub client_urls: Vec<String>,
}

/// A registered route connection, as the rest of the server sees it.
#[derive(Debug)]
pub struct RouteHandle {
    /// Route id (shares the client id sequence, as the reference's `rid`).
    pub rid: u64,
    /// Its outbound queue and counters.
    pub shared: Arc<ClientShared>,
    /// The peer's server id.
    pub remote_id: String,
    /// The peer's server name.
    pub remote_name: String,
    /// Which connection of the set it is.
    pub slot: RouteSlot,
    /// The pool size our accounts are placed with on this connection: ours, as the
    /// reference places them (0: pooling off on either side, the connection carries all).
    pub pool_size: usize,
    /// We dialled it.
    pub solicited: bool,
    /// Dialled because it is configured (or inherited that from a duplicate).
    pub configured: AtomicBool,
    /// The peer's INFO at the handshake (cluster address, client URLs).
    pub info: RouteInfo,
    /// The peer's client URLs, updated by its later INFOs.
    pub client_urls: Mutex<Vec<String>>,
    /// The dial to repeat when this connection is lost.
    pub(crate) redial: Mutex<Option<RouteDial>>,
    /// The peer's interest carried by this connection: (account, subject, queue) → the
    /// subscription standing for it in the account's index.
    pub(crate) remote_subs: Mutex<HashMap<RemoteKey, SubRef>>,
    /// Whether the accounts this connection carries are pinned on our side.
    pinned_here: Vec<String>,
    /// Removed from the table (closed or lost a duplicate resolution).
    removed: AtomicBool,
}

impl RouteHandle {
    /// Whether this connection carries `account`'s interest and messages.
    pub fn carries(&self, account: &str) -> bool {
        match &self.slot {
            RouteSlot::Pinned(a) => a == account,
            RouteSlot::Pool(i) => {
                if self.pool_size == 0 {
                    return true;
                }
                !self.pinned_here.iter().any(|p| p == account)
                    && pool_index(account.as_bytes(), self.pool_size) == *i
            }
        }
    }

    /// Whether this connection is dedicated to one account (lines carry no account).
    pub fn is_pinned(&self) -> bool {
        matches!(self.slot, RouteSlot::Pinned(_))
    }

    /// Number of the peer's subscriptions this connection carries.
    pub fn num_subscriptions(&self) -> usize {
        self.remote_subs.lock().len()
    }

    /// The subjects of the peer's subscriptions this connection carries.
    pub fn subscription_subjects(&self) -> Vec<String> {
        self.remote_subs
            .lock()
            .keys()
            .map(|(_, s, _)| String::from_utf8_lossy(s).into_owned())
            .collect()
    }

    /// The account this connection is dedicated to, if any.
    pub fn pinned_account(&self) -> Option<&str> {
        match &self.slot {
            RouteSlot::Pinned(a) => Some(a),
            RouteSlot::Pool(_) => None,
        }
    }

    /// Whether it was removed from the table.
    pub fn is_removed(&self) -> bool {
        self.removed.load(Ordering::Acquire)
    }
}

/// Parameters of a new handle (see [`RouteTable::register`]).
pub(crate) struct NewRoute {
    pub rid: u64,
    pub shared: Arc<ClientShared>,
    pub info: RouteInfo,
    pub slot: RouteSlot,
    pub solicited: bool,
    pub dial: Option<RouteDial>,
    pub pinned_here: Vec<String>,
    /// See [`RouteHandle::pool_size`].
    pub pool_size: usize,
}

/// What [`RouteTable::register`] decided.
pub(crate) enum Registered {
    /// Registered; `first` when no other connection to this peer existed; `pooled`: the
    /// peer's pooled connections now.
    Added {
        handle: Arc<RouteHandle>,
        first: bool,
        pooled: usize,
    },
    /// A connection for the same peer and slot is kept instead of this one.
    Duplicate,
}

/// Dials waiting for the runtime, and the waker of the runtime's dialer.
#[derive(Debug, Default)]
struct DialQueue {
    queue: VecDeque<RouteDial>,
    /// Dials queued or being handled (by address and slot), so gossip does not repeat them.
    in_flight: HashSet<(String, RouteSlot)>,
    waker: Option<Waker>,
}

/// The cluster's name and whether it was generated.
#[derive(Debug, Clone, Default)]
struct ClusterName {
    name: String,
    dynamic: bool,
}

/// Every registered route of a server, the routes to dial, and the cluster name.
#[derive(Debug, Default)]
pub struct RouteTable {
    routes: RwLock<Vec<Arc<RouteHandle>>>,
    dials: Mutex<DialQueue>,
    name: RwLock<ClusterName>,
    /// Our cluster listener and client URLs, once the runtime bound it.
    start: RwLock<Option<RouteStart>>,
    /// Whether this server has a cluster at all.
    enabled: AtomicBool,
}

impl RouteTable {
    /// Sets the cluster name (`dynamic`: generated, may be replaced by a peer's).
    pub(crate) fn set_name(&self, name: String, dynamic: bool) {
        *self.name.write() = ClusterName { name, dynamic };
        self.enabled.store(true, Ordering::Release);
    }

    /// Whether clustering is configured.
    pub fn is_enabled(&self) -> bool {
        self.enabled.load(Ordering::Acquire)
    }

    /// The cluster name and whether it was generated.
    pub fn cluster_name(&self) -> (String, bool) {
        let n = self.name.read();
        (n.name.clone(), n.dynamic)
    }

    /// Our cluster listener and client URLs, once known.
    pub fn start_info(&self) -> Option<RouteStart> {
        self.start.read().clone()
    }

    pub(crate) fn set_start(&self, start: RouteStart) {
        *self.start.write() = Some(start);
    }

    /// A snapshot of the registered routes.
    pub fn routes(&self) -> Vec<Arc<RouteHandle>> {
        self.routes.read().clone()
    }

    /// Number of registered route connections.
    pub fn len(&self) -> usize {
        self.routes.read().len()
    }

    /// Whether no route is registered.
    pub fn is_empty(&self) -> bool {
        self.routes.read().is_empty()
    }

    /// Runs `f` on every registered route carrying `account` (under the table's read lock).
    pub(crate) fn for_each_carrying(&self, account: &str, mut f: impl FnMut(&Arc<RouteHandle>)) {
        for h in self.routes.read().iter() {
            if h.carries(account) {
                f(h);
            }
        }
    }

    /// Whether a connection to server `id` is registered.
    pub fn knows(&self, id: &str) -> bool {
        self.routes.read().iter().any(|h| h.remote_id == id)
    }

    /// Distinct peers (server ids) with at least one registered connection.
    pub fn peers(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .routes
            .read()
            .iter()
            .map(|h| h.remote_id.clone())
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }

    /// Client URLs of every peer (for INFO `connect_urls`), without duplicates.
    pub fn peer_client_urls(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for h in self.routes.read().iter() {
            for u in h.client_urls.lock().iter() {
                if !out.contains(u) {
                    out.push(u.clone());
                }
            }
        }
        out
    }

    /// Registers a route whose handshake completed, resolving duplicates as the reference
    /// does: a dedicated (pinned) connection or an accepted pooled one whose slot is taken
    /// is refused (the kept connection inherits its redial); a connection we dialled takes
    /// the first free pool slot, and is refused when the pool is full.
    pub(crate) fn register(&self, new: NewRoute, pool_size: usize) -> Registered {
        let mut routes = self.routes.write();
        let remote_id = new.info.server_id.clone();
        let first = !routes.iter().any(|h| h.remote_id == remote_id);
        let taken = |slot: &RouteSlot| {
            routes
                .iter()
                .position(|h| h.remote_id == remote_id && &h.slot == slot)
        };
        let slot = match &new.slot {
            RouteSlot::Pool(_) if new.solicited => {
                let free = (0..pool_size.max(1)).find(|i| taken(&RouteSlot::Pool(*i)).is_none());
                match free {
                    Some(i) => RouteSlot::Pool(i),
                    None => {
                        let keep = routes.iter().find(|h| h.remote_id == remote_id).cloned();
                        inherit(keep.as_deref(), new.dial);
                        return Registered::Duplicate;
                    }
                }
            }
            other => {
                if let Some(pos) = taken(other) {
                    inherit(Some(&routes[pos]), new.dial);
                    return Registered::Duplicate;
                }
                other.clone()
            }
        };
        let configured = new.dial.as_ref().is_some_and(|d| d.explicit);
        let client_urls = new.info.connect_urls.clone();
        let handle = Arc::new(RouteHandle {
            rid: new.rid,
            shared: new.shared,
            remote_id,
            remote_name: new.info.server_name.clone(),
            slot,
            pool_size: new.pool_size,
            solicited: new.solicited,
            configured: AtomicBool::new(configured),
            info: new.info,
            client_urls: Mutex::new(client_urls),
            redial: Mutex::new(new.dial),
            remote_subs: Mutex::new(HashMap::new()),
            pinned_here: new.pinned_here,
            removed: AtomicBool::new(false),
        });
        routes.push(handle.clone());
        let pooled = routes
            .iter()
            .filter(|h| h.remote_id == handle.remote_id && !h.is_pinned())
            .count();
        Registered::Added {
            handle,
            first,
            pooled,
        }
    }

    /// Removes a handle (its connection ended). Returns true when it was the last
    /// connection to its peer.
    pub(crate) fn remove(&self, handle: &Arc<RouteHandle>) -> bool {
        let mut routes = self.routes.write();
        if let Some(pos) = routes.iter().position(|h| Arc::ptr_eq(h, handle)) {
            routes.remove(pos);
        }
        handle.removed.store(true, Ordering::Release);
        !routes.iter().any(|h| h.remote_id == handle.remote_id)
    }

    /// Queues a dial unless the same address and slot is already queued or in progress.
    pub(crate) fn queue_dial(&self, dial: RouteDial) -> bool {
        let mut q = self.dials.lock();
        if !q.in_flight.insert(dial.key()) {
            return false;
        }
        q.queue.push_back(dial);
        if let Some(w) = q.waker.take() {
            drop(q);
            w.wake();
        }
        true
    }

    /// Puts a dial back for a later attempt (it stays in flight).
    pub(crate) fn requeue_dial(&self, dial: RouteDial) {
        let mut q = self.dials.lock();
        q.in_flight.insert(dial.key());
        q.queue.push_back(dial);
        if let Some(w) = q.waker.take() {
            drop(q);
            w.wake();
        }
    }

    /// Forgets a dial that will not be repeated.
    pub(crate) fn dial_done(&self, dial: &RouteDial) {
        self.dials.lock().in_flight.remove(&dial.key());
    }

    /// Takes the queued dials, or registers `waker` to be woken when one is queued.
    pub fn poll_dials(&self, waker: &Waker) -> Vec<RouteDial> {
        let mut q = self.dials.lock();
        if q.queue.is_empty() {
            match &q.waker {
                Some(w) if w.will_wake(waker) => {}
                _ => q.waker = Some(waker.clone()),
            }
            return Vec::new();
        }
        q.queue.drain(..).collect()
    }

    /// Adopts a peer's cluster name when ours was generated. Returns true if it changed.
    pub(crate) fn adopt_name(&self, theirs: &str, their_dynamic: bool) -> bool {
        let mut n = self.name.write();
        if n.name == theirs || theirs.is_empty() || !n.dynamic {
            return false;
        }
        // Two generated names converge on the larger one, as the reference's do.
        if their_dynamic && theirs < n.name.as_str() {
            return false;
        }
        n.name = theirs.to_string();
        n.dynamic = their_dynamic;
        true
    }
}

/// A refused duplicate's dial passes to the connection kept instead, so that it is dialled
/// again when lost (and counts as configured when the duplicate was).
fn inherit(keep: Option<&RouteHandle>, dial: Option<RouteDial>) {
    let (Some(keep), Some(dial)) = (keep, dial) else {
        return;
    };
    if dial.explicit {
        keep.configured.store(true, Ordering::Release);
    }
    let mut r = keep.redial.lock();
    if r.is_none() {
        *r = Some(dial);
    }
}
