//! `/accountz` and `/accstatz`: every account (the global `$G`, the system `$SYS` and the
//! configured ones), with its connections, subscriptions and traffic.

use std::collections::BTreeMap;

use serde::Serialize;

use super::subsz::SublistStatz;
use super::time::rfc3339;
use super::{Context, MonitorError, GLOBAL_ACCOUNT, SYSTEM_ACCOUNT};
use crate::account::Account;
use crate::client_info::ClientSnapshot;
use crate::server::Server;
use crate::CloseReason;

/// Options of `/accountz`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountzOptions {
    /// Show this account's details instead of the list (`acc=`).
    pub account: Option<String>,
}

/// Details of one account.
#[derive(Debug, Clone, Serialize)]
#[allow(missing_docs)]
pub struct AccountDetail {
    pub account_name: String,
    pub update_time: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub is_system: bool,
    pub expired: bool,
    pub complete: bool,
    pub jetstream_enabled: bool,
    pub leafnode_connections: u64,
    pub client_connections: usize,
    pub subscriptions: usize,
    pub name_tag: String,
    pub sublist_stats: SublistStatz,
}

/// The `/accountz` document.
#[derive(Debug, Clone, Serialize)]
pub struct Accountz {
    /// Server id.
    pub server_id: String,
    /// Time of the request.
    pub now: String,
    /// The system account's name.
    pub system_account: String,
    /// Account names (without `acc=`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accounts: Option<Vec<String>>,
    /// One account's details (with `acc=`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_detail: Option<AccountDetail>,
}

/// Message and byte counts.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct MsgBytes {
    /// Messages.
    pub msgs: u64,
    /// Bytes.
    pub bytes: u64,
}

/// Traffic of an account in one direction, split by where it went.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct DataStats {
    /// Messages.
    pub msgs: u64,
    /// Bytes.
    pub bytes: u64,
    /// Over gateways.
    pub gateways: MsgBytes,
    /// Over routes.
    pub routes: MsgBytes,
    /// Over leaf nodes.
    pub leafs: MsgBytes,
}

/// One account in `/accstatz`.
#[derive(Debug, Clone, Serialize)]
#[allow(missing_docs)]
pub struct AccountStat {
    pub acc: String,
    pub name: String,
    pub conns: usize,
    pub leafnodes: u64,
    pub total_conns: usize,
    pub num_subscriptions: usize,
    pub sent: DataStats,
    pub received: DataStats,
    pub slow_consumers: u64,
}

/// The `/accstatz` document.
#[derive(Debug, Clone, Serialize)]
pub struct AccountStatz {
    /// Server id.
    pub server_id: String,
    /// Time of the request.
    pub now: String,
    /// Accounts with connections (all of them with `unused=1`).
    pub account_statz: Vec<AccountStat>,
}

/// Per account: open connections and the traffic of its connections.
#[derive(Debug, Default)]
struct Usage {
    conns: usize,
    sent: MsgBytes,
    received: MsgBytes,
    slow_consumers: u64,
}

impl Usage {
    fn add(&mut self, snap: &ClientSnapshot) {
        self.sent.msgs += snap.out_msgs;
        self.sent.bytes += snap.out_bytes;
        self.received.msgs += snap.in_msgs;
        self.received.bytes += snap.in_bytes;
    }
}

/// The usage of every account with connections: open ones, plus the traffic of the
/// closed ones still remembered (`max_closed_clients`).
fn usage(server: &Server) -> BTreeMap<String, Usage> {
    let mut out: BTreeMap<String, Usage> = BTreeMap::new();
    let account = |s: &ClientSnapshot| {
        s.identity
            .as_deref()
            .map_or(GLOBAL_ACCOUNT.to_string(), |i| i.account.clone())
    };
    for c in server.clients() {
        let snap = c.snapshot();
        let u = out.entry(account(&snap)).or_default();
        u.conns += 1;
        u.add(&snap);
    }
    for cc in server.closed_clients() {
        let u = out.entry(account(&cc.snapshot)).or_default();
        u.add(&cc.snapshot);
        if cc.reason == CloseReason::SlowConsumerPendingBytes
            || cc.reason == CloseReason::SlowConsumerWriteDeadline
        {
            u.slow_consumers += 1;
        }
    }
    out
}

fn detail(server: &Server, account: &Account, ctx: &Context) -> AccountDetail {
    let stats = SublistStatz::of_account(account);
    let name = account.name.as_str();
    AccountDetail {
        account_name: name.to_string(),
        update_time: ctx.clock.rfc3339(server.start_time()),
        is_system: name == SYSTEM_ACCOUNT,
        expired: false,
        complete: true,
        jetstream_enabled: false,
        leafnode_connections: 0,
        client_connections: usage(server).get(name).map_or(0, |u| u.conns),
        subscriptions: stats.num_subscriptions,
        name_tag: name.to_string(),
        sublist_stats: stats,
    }
}

/// Builds `/accountz`.
pub fn accountz(
    server: &Server,
    opts: &AccountzOptions,
    ctx: &Context,
) -> Result<Accountz, MonitorError> {
    let mut doc = Accountz {
        server_id: server.id().to_string(),
        now: rfc3339(ctx.clock.wall),
        system_account: SYSTEM_ACCOUNT.to_string(),
        accounts: None,
        account_detail: None,
    };
    match opts.account.as_deref().filter(|a| !a.is_empty()) {
        None => {
            let mut names: Vec<String> = server
                .accounts()
                .into_iter()
                .map(|a| a.name.clone())
                .collect();
            names.sort();
            doc.accounts = Some(names);
        }
        Some(name) => match server.account(name) {
            Some(account) => doc.account_detail = Some(detail(server, &account, ctx)),
            None => return Err(MonitorError::NoSuchAccount(name.to_string())),
        },
    }
    Ok(doc)
}

/// Builds `/accstatz`: accounts with connections (every account with `include_unused`,
/// `unused=1`). Traffic is that of the account's open connections and of the closed ones
/// still remembered.
pub fn accstatz(server: &Server, include_unused: bool, ctx: &Context) -> AccountStatz {
    let mut usage = usage(server);
    let mut accounts = server.accounts();
    accounts.sort_by(|a, b| a.name.cmp(&b.name));
    let list = accounts
        .iter()
        .filter_map(|account| {
            let u = usage.remove(&account.name).unwrap_or_default();
            (include_unused || u.conns > 0).then(|| AccountStat {
                acc: account.name.clone(),
                name: account.name.clone(),
                conns: u.conns,
                leafnodes: 0,
                total_conns: u.conns,
                num_subscriptions: account.sublist.count(),
                sent: DataStats {
                    msgs: u.sent.msgs,
                    bytes: u.sent.bytes,
                    ..DataStats::default()
                },
                received: DataStats {
                    msgs: u.received.msgs,
                    bytes: u.received.bytes,
                    ..DataStats::default()
                },
                slow_consumers: u.slow_consumers,
            })
        })
        .collect();
    AccountStatz {
        server_id: server.id().to_string(),
        now: rfc3339(ctx.clock.wall),
        account_statz: list,
    }
}
