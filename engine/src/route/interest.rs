//! Interest between servers: local subscriptions counted per subject and queue group and
//! announced to routes (`RS+`/`RS-`), and a peer's interest held as subscriptions owned by
//! the route connection.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use proto::route::encode;

use super::table::RouteHandle;
use crate::account::Account;
use crate::outbound::Queued;
use crate::sublist::SublistError;
use crate::trace::{LogEvent, LogLevel};
use crate::SubRef;

/// Marks a subscription that stands for a peer server's interest: messages matching it go
/// to the route connection (its `client`), once per route whatever the number of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoteInterest {
    /// The route is dedicated to the account: `RMSG` lines carry no account.
    pub pinned: bool,
}

/// Local subscriptions of one account, counted per (subject, queue group): what the peers
/// are told.
#[derive(Debug, Default)]
pub(crate) struct LocalInterest {
    counts: HashMap<(Bytes, Option<Bytes>), u32>,
}

/// A change of local interest to announce.
enum Change {
    /// `RS+ subject` or `RS+ subject queue weight`.
    Sub(u32),
    /// `RS- subject [queue]`.
    Unsub,
}

impl LocalInterest {
    fn add(&mut self, subject: &Bytes, queue: Option<&Bytes>) -> Option<Change> {
        let n = self
            .counts
            .entry((subject.clone(), queue.cloned()))
            .or_insert(0);
        *n += 1;
        (queue.is_some() || *n == 1).then_some(Change::Sub(*n))
    }

    fn remove(&mut self, subject: &Bytes, queue: Option<&Bytes>) -> Option<Change> {
        let key = (subject.clone(), queue.cloned());
        let n = self.counts.get_mut(&key)?;
        *n = n.saturating_sub(1);
        if *n == 0 {
            self.counts.remove(&key);
            Some(Change::Unsub)
        } else if queue.is_some() {
            Some(Change::Sub(*n))
        } else {
            None
        }
    }

    /// Number of distinct subjects/queue groups.
    pub(crate) fn len(&self) -> usize {
        self.counts.len()
    }
}

/// Writes one interest line for `account` on `handle`'s connection.
fn write_change(
    buf: &mut BytesMut,
    handle: &RouteHandle,
    account: &str,
    subject: &[u8],
    queue: Option<&[u8]>,
    change: &Change,
) {
    let acc = (!handle.is_pinned()).then_some(account.as_bytes());
    match (change, queue) {
        (Change::Sub(w), Some(q)) => encode::rs_sub(buf, acc, subject, Some((q, *w))),
        (Change::Sub(_), None) => encode::rs_sub(buf, acc, subject, None),
        (Change::Unsub, q) => encode::rs_unsub(buf, acc, subject, q),
    }
}

fn queue_to(handle: &RouteHandle, write: impl FnOnce(&mut BytesMut)) {
    if handle.shared.outbound.queue(None, write) == Queued::NeedsFlush {
        handle.shared.outbound.flush();
    }
}

impl Account {
    /// Adds a subscription to the index; a local one also updates the interest announced to
    /// routes. The one place local subscriptions enter an index.
    pub(crate) fn insert_sub(&self, sub: &SubRef) -> Result<(), SublistError> {
        self.insert_sub_traced(sub, None)
    }

    /// [`Account::insert_sub`], recording the `RS+` lines sent (`-V`) into `trace`.
    pub(crate) fn insert_sub_traced(
        &self,
        sub: &SubRef,
        trace: Option<&mut Vec<LogEvent>>,
    ) -> Result<(), SublistError> {
        if sub.remote.is_some() {
            return self
                .sublist
                .insert(&sub.subject, sub.queue.as_deref(), sub.clone());
        }
        let mut interest = self.interest.lock();
        self.sublist
            .insert(&sub.subject, sub.queue.as_deref(), sub.clone())?;
        if let Some(change) = interest.add(&sub.subject, sub.queue.as_ref()) {
            self.announce(&sub.subject, sub.queue.as_deref(), &change, trace);
        }
        Ok(())
    }

    /// Removes a subscription from the index (see [`Account::insert_sub`]).
    pub(crate) fn remove_sub(&self, sub: &SubRef, trace: Option<&mut Vec<LogEvent>>) -> bool {
        if sub.remote.is_some() {
            return self.sublist.remove(&sub.subject, sub.queue.as_deref(), sub);
        }
        let mut interest = self.interest.lock();
        let removed = self.sublist.remove(&sub.subject, sub.queue.as_deref(), sub);
        if removed {
            if let Some(change) = interest.remove(&sub.subject, sub.queue.as_ref()) {
                self.announce(&sub.subject, sub.queue.as_deref(), &change, trace);
            }
        }
        removed
    }

    /// Adds interest the server itself has in `subject` (the system account's request
    /// subjects its responder answers): counted and announced to routes like a local
    /// subscription, without a subscription in the index (the engine hands such messages to
    /// the system handler itself).
    pub(crate) fn add_internal_interest(&self, subject: &[u8]) {
        let subject = Bytes::copy_from_slice(subject);
        let mut interest = self.interest.lock();
        if let Some(change) = interest.add(&subject, None) {
            self.announce(&subject, None, &change, None);
        }
    }

    /// Tells every route carrying this account about a change (interest lock held, so
    /// announcements and the dump to a new route stay in order).
    fn announce(
        &self,
        subject: &[u8],
        queue: Option<&[u8]>,
        change: &Change,
        mut trace: Option<&mut Vec<LogEvent>>,
    ) {
        let Some(table) = self.routes.get().and_then(|w| w.upgrade()) else {
            return;
        };
        if !self.may_export(subject) {
            return;
        }
        table.for_each_carrying(&self.name, |h| {
            let mut line = None;
            let want = trace.is_some();
            queue_to(h, |buf| {
                let start = buf.len();
                write_change(buf, h, &self.name, subject, queue, change);
                if want {
                    let text = String::from_utf8_lossy(&buf[start..]);
                    line = Some(text.trim_end().to_string());
                }
            });
            if let (Some(log), Some(line)) = (trace.as_deref_mut(), line) {
                log.push(LogEvent {
                    level: LogLevel::Trace,
                    text: format!("{} - rid:{} - ->> [{line}]", h.shared.peer, h.rid),
                });
            }
        });
    }

    /// Whether our interest in `subject` may be announced to routes (the cluster's
    /// `import` permission: what we accept from peers).
    fn may_export(&self, subject: &[u8]) -> bool {
        let rules = self.route_import.read();
        rules
            .as_ref()
            .is_none_or(|r| r.allows_subscribe(subject, None))
    }

    /// Sends this account's whole local interest to a new route (`RS+` per subject and
    /// queue group with its weight).
    pub(crate) fn dump_interest(&self, handle: &Arc<RouteHandle>) -> usize {
        let interest = self.interest.lock();
        let mut n = 0;
        queue_to(handle, |buf| {
            for ((subject, queue), count) in &interest.counts {
                if !self.may_export(subject) {
                    continue;
                }
                let change = Change::Sub(*count);
                write_change(buf, handle, &self.name, subject, queue.as_deref(), &change);
                n += 1;
            }
        });
        n
    }
}

/// Enters (or updates the weight of) a peer's interest carried by `handle` into `account`.
pub(crate) fn add_remote(
    handle: &Arc<RouteHandle>,
    account: &Arc<Account>,
    subject: Bytes,
    queue: Option<(Bytes, u32)>,
) {
    let (queue, weight) = match queue {
        Some((q, w)) => (Some(q), w.max(1)),
        None => (None, 1),
    };
    let key = (
        Bytes::copy_from_slice(account.name.as_bytes()),
        subject,
        queue,
    );
    let mut subs = handle.remote_subs.lock();
    if let Some(existing) = subs.get(&key) {
        existing.set_weight(weight);
        return;
    }
    if handle.is_removed() {
        return;
    }
    let sub = SubRef(Arc::new(crate::Subscription::remote(
        handle.shared.clone(),
        key.1.clone(),
        key.2.clone(),
        account.clone(),
        RemoteInterest {
            pinned: handle.is_pinned(),
        },
        weight,
    )));
    if account.insert_sub(&sub).is_ok() {
        handle
            .shared
            .counters
            .subscriptions
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        subs.insert(key, sub);
    }
}

/// Removes a peer's interest carried by `handle`.
pub(crate) fn remove_remote(
    handle: &Arc<RouteHandle>,
    account: &str,
    subject: &Bytes,
    queue: Option<&Bytes>,
) {
    let key = (
        Bytes::copy_from_slice(account.as_bytes()),
        subject.clone(),
        queue.cloned(),
    );
    let sub = handle.remote_subs.lock().remove(&key);
    if let Some(sub) = sub {
        crate::client::retire(&sub);
    }
}

/// Removes every subscription a route connection brought (it closed).
pub(crate) fn remove_all_remote(handle: &Arc<RouteHandle>) {
    let subs: Vec<SubRef> = handle.remote_subs.lock().drain().map(|(_, s)| s).collect();
    for sub in subs {
        crate::client::retire(&sub);
    }
}
