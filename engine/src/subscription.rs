//! One subscription, shared by its owner and the index that publishers search.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;

use crate::account::Account;
use crate::auth::Permissions;
use crate::client::ClientShared;
use crate::import::SubjectMapping;

/// A subscription: who gets the messages (its client's outbound queue), under which sid.
#[derive(Debug)]
pub struct Subscription {
    /// The subscribing client.
    pub client: Arc<ClientShared>,
    /// Subscription id chosen by the client.
    pub sid: Bytes,
    /// Subject filter (may hold wildcards).
    pub subject: Bytes,
    /// Queue group, if any.
    pub queue: Option<Bytes>,
    /// Whether the client understands headers (else HMSG is sent as MSG without them).
    pub headers: bool,
    /// The owner's permissions (subscribe deny lists apply to each delivery; response rights
    /// are granted from them).
    pub permissions: Option<Arc<Permissions>>,
    /// The account whose index holds it.
    pub account: Arc<Account>,
    /// For the forwarding subscriptions of imports: where deliveries are re-published.
    pub import: Option<Arc<ImportRoute>>,
    /// For subscriptions standing for a peer server's interest: messages go to the route
    /// connection (`client`), once per route.
    pub remote: Option<crate::route::RemoteInterest>,
    /// Queue weight of a remote queue subscription (members on the peer).
    weight: AtomicU32,
    /// Auto-unsubscribe limit (0: none).
    max: AtomicU64,
    /// Messages delivered so far (for a peer's interest: messages sent to its route for it).
    delivered: AtomicU64,
    /// Removed from the index (unsubscribed, limit reached or client gone).
    closed: AtomicBool,
}

/// Where a forwarding subscription re-publishes what it receives.
#[derive(Debug)]
pub struct ImportRoute {
    /// The account messages continue in.
    pub to: Arc<Account>,
    /// How their subject is rewritten.
    pub mapping: SubjectMapping,
    /// A service import: the reply is replaced by a one-shot response route back.
    pub service: bool,
}

/// What a delivery attempt decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Deliver; the subscription stays.
    Deliver,
    /// Deliver; this was the last message allowed, remove the subscription.
    DeliverLast,
    /// Do not deliver: the limit was already reached or the subscription is closed.
    Skip,
}

impl Subscription {
    /// A subscription with no auto-unsubscribe limit.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        client: Arc<ClientShared>,
        sid: Bytes,
        subject: Bytes,
        queue: Option<Bytes>,
        headers: bool,
        permissions: Option<Arc<Permissions>>,
        account: Arc<Account>,
    ) -> Self {
        Subscription {
            client,
            sid,
            subject,
            queue,
            headers,
            permissions,
            account,
            import: None,
            remote: None,
            weight: AtomicU32::new(1),
            max: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
            closed: AtomicBool::new(false),
        }
    }

    /// A forwarding subscription of `account` on `subject` for an import.
    pub fn forwarder(account: Arc<Account>, subject: Bytes, route: ImportRoute) -> Self {
        let mut s = Subscription::new(
            account.internal.clone(),
            Bytes::from_static(b"import"),
            subject,
            None,
            true,
            None,
            account,
        );
        s.import = Some(Arc::new(route));
        s
    }

    /// A subscription standing for a peer's interest, owned by the route connection
    /// `route` (its outbound queue gets the routed messages).
    pub fn remote(
        route: Arc<ClientShared>,
        subject: Bytes,
        queue: Option<Bytes>,
        account: Arc<Account>,
        remote: crate::route::RemoteInterest,
        weight: u32,
    ) -> Self {
        let mut s = Subscription::new(
            route,
            Bytes::from_static(b"route"),
            subject,
            queue,
            true,
            None,
            account,
        );
        s.remote = Some(remote);
        s.weight = AtomicU32::new(weight);
        s
    }

    /// Queue weight (members the peer has in this group; 1 for local subscriptions).
    pub fn weight(&self) -> u32 {
        self.weight.load(Ordering::Relaxed)
    }

    /// Replaces the queue weight of a remote queue subscription.
    pub fn set_weight(&self, weight: u32) {
        self.weight.store(weight, Ordering::Relaxed);
    }

    /// Sets the auto-unsubscribe limit. Returns true when it is already reached.
    pub fn set_max(&self, max: u64) -> bool {
        self.max.store(max, Ordering::Release);
        self.delivered.load(Ordering::Acquire) >= max
    }

    /// Claims one delivery, honouring the auto-unsubscribe limit.
    #[inline]
    pub fn claim(&self) -> Delivery {
        if self.closed.load(Ordering::Relaxed) {
            return Delivery::Skip;
        }
        let max = self.max.load(Ordering::Acquire);
        let n = self.delivered.fetch_add(1, Ordering::AcqRel) + 1;
        if max == 0 || n < max {
            Delivery::Deliver
        } else if n == max {
            Delivery::DeliverLast
        } else {
            Delivery::Skip
        }
    }

    /// Marks the subscription removed; returns true the first time.
    pub fn mark_closed(&self) -> bool {
        !self.closed.swap(true, Ordering::AcqRel)
    }

    /// Whether it was removed.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Counts a message sent to a peer's route for this (remote) subscription, shown as its
    /// `msgs` in `/routez?subs=detail`.
    #[inline]
    pub(crate) fn count_routed(&self) {
        self.delivered.fetch_add(1, Ordering::Relaxed);
    }

    /// Messages delivered so far.
    pub fn delivered(&self) -> u64 {
        self.delivered.load(Ordering::Relaxed)
    }
}

/// A shared handle to a [`Subscription`], compared by identity (what the index stores).
#[derive(Debug, Clone)]
pub struct SubRef(pub Arc<Subscription>);

impl PartialEq for SubRef {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for SubRef {}

impl std::ops::Deref for SubRef {
    type Target = Subscription;
    fn deref(&self) -> &Subscription {
        &self.0
    }
}
