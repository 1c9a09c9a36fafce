//! Accounts: isolated subject namespaces. Clients of one account never see another's messages
//! unless an export/import says so (see [`crate::import`]).

use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use std::sync::{OnceLock, Weak};

use crate::auth::SubjectRules;
use crate::route::interest::LocalInterest;
use crate::route::RouteTable;

use crate::client::ClientShared;
use crate::import::{ExportConfig, ImportConfig};
use crate::sublist::SharedSublist;
use crate::SubRef;

/// Name of the account clients belong to when no accounts are configured.
pub const GLOBAL_ACCOUNT: &str = "$G";

/// Name of the system account.
pub const SYSTEM_ACCOUNT: &str = "$SYS";

/// How long a service response route waits for its answer.
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(120);

/// Most pending service response routes per account; the oldest are dropped past this.
const MAX_PENDING_RESPONSES: usize = 100_000;

/// An account as configured.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountConfig {
    /// Its name.
    pub name: String,
    /// What it exports.
    pub exports: Vec<ExportConfig>,
    /// What it imports.
    pub imports: Vec<ImportConfig>,
}

/// One account at run time: its name and subscription index.
#[derive(Debug)]
pub struct Account {
    /// Its name.
    pub name: String,
    /// Its subscriptions.
    pub sublist: Arc<SharedSublist<SubRef>>,
    /// The account's own client, owner of the forwarding subscriptions of imports (it has no
    /// socket: its deliveries are re-published, never queued).
    pub(crate) internal: Arc<ClientShared>,
    /// Service response routes waiting for an answer, oldest first, with their deadlines.
    responses: Mutex<VecDeque<(Instant, SubRef)>>,
    /// Local subscriptions counted per subject and queue, as announced to routes.
    pub(crate) interest: Mutex<LocalInterest>,
    /// The server's routes, told about interest changes.
    pub(crate) routes: OnceLock<Weak<RouteTable>>,
    /// The cluster's `import` permission (what we may subscribe to over routes).
    /// Replaced by a reload that changes it.
    pub(crate) route_import: parking_lot::RwLock<Option<SubjectRules>>,
}

impl Account {
    /// A new, empty account created at `now`.
    pub fn new(name: impl Into<String>, now: Instant) -> Arc<Account> {
        Arc::new(Account {
            name: name.into(),
            sublist: Arc::new(SharedSublist::new()),
            internal: Arc::new(ClientShared::new(
                0,
                SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
                now,
                0,
            )),
            responses: Mutex::new(VecDeque::new()),
            interest: Mutex::new(LocalInterest::default()),
            routes: OnceLock::new(),
            route_import: parking_lot::RwLock::new(None),
        })
    }

    /// Remembers a response route to drop if unanswered by `deadline`; returns the routes
    /// that expired (or were pushed out) by now, for the caller to remove.
    pub(crate) fn track_response(&self, sub: SubRef, now: Instant) -> Vec<SubRef> {
        let mut q = self.responses.lock();
        let mut expired = Vec::new();
        while let Some((deadline, s)) = q.front() {
            if *deadline <= now || s.is_closed() || q.len() >= MAX_PENDING_RESPONSES {
                expired.push(s.clone());
                q.pop_front();
            } else {
                break;
            }
        }
        q.push_back((now + RESPONSE_TIMEOUT, sub));
        expired
    }

    /// Connects this account to the server's routes (interest changes are announced to them).
    pub(crate) fn attach_routes(&self, table: &Arc<RouteTable>, import: Option<SubjectRules>) {
        let _ = self.routes.set(Arc::downgrade(table));
        *self.route_import.write() = import;
    }

    /// Replaces the cluster's `import` permission (a reload changed it).
    pub(crate) fn set_route_import(&self, import: Option<SubjectRules>) {
        *self.route_import.write() = import;
    }

    /// Number of distinct local subjects and queue groups announced to routes.
    pub fn local_interest_len(&self) -> usize {
        self.interest.lock().len()
    }

    /// Number of service response routes waiting for an answer.
    pub fn pending_responses(&self) -> usize {
        self.responses
            .lock()
            .iter()
            .filter(|(_, s)| !s.is_closed())
            .count()
    }
}
