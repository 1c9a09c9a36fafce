//! Accounts: isolated subject namespaces. Clients of one account never see another's messages
//! unless an export/import says so.

use std::sync::Arc;

use crate::sublist::SharedSublist;
use crate::SubRef;

/// Name of the account clients belong to when no accounts are configured.
pub const GLOBAL_ACCOUNT: &str = "$G";

/// Name of the system account.
pub const SYSTEM_ACCOUNT: &str = "$SYS";

/// An account as configured.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountConfig {
    /// Its name.
    pub name: String,
}

/// One account at run time: its name and subscription index.
#[derive(Debug)]
pub struct Account {
    /// Its name.
    pub name: String,
    /// Its subscriptions.
    pub sublist: Arc<SharedSublist<SubRef>>,
}

impl Account {
    /// A new, empty account.
    pub fn new(name: impl Into<String>) -> Arc<Account> {
        Arc::new(Account {
            name: name.into(),
            sublist: Arc::new(SharedSublist::new()),
        })
    }
}
