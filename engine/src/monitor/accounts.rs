//! `/accountz` and `/accstatz`: the global account `$G` (every client) and the system
//! account `$SYS` (no connections).

use std::sync::atomic::Ordering::Relaxed;

use serde::Serialize;

use super::subsz::SublistStatz;
use super::time::rfc3339;
use super::{Context, MonitorError, GLOBAL_ACCOUNT, SYSTEM_ACCOUNT};
use crate::server::Server;

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

fn detail(server: &Server, name: &str, ctx: &Context) -> AccountDetail {
    let global = name == GLOBAL_ACCOUNT;
    let stats = if global {
        SublistStatz::of(server)
    } else {
        SublistStatz {
            num_subscriptions: 0,
            num_cache: 0,
            num_inserts: 0,
            num_removes: 0,
            num_matches: 0,
            cache_hit_rate: 0.0,
            max_fanout: 0,
            avg_fanout: 0.0,
        }
    };
    AccountDetail {
        account_name: name.to_string(),
        update_time: ctx.clock.rfc3339(server.start_time()),
        is_system: !global,
        expired: false,
        complete: true,
        jetstream_enabled: false,
        leafnode_connections: 0,
        client_connections: if global { server.num_clients() } else { 0 },
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
            doc.accounts = Some(vec![GLOBAL_ACCOUNT.to_string(), SYSTEM_ACCOUNT.to_string()]);
        }
        Some(name) if name == GLOBAL_ACCOUNT || name == SYSTEM_ACCOUNT => {
            doc.account_detail = Some(detail(server, name, ctx));
        }
        Some(other) => return Err(MonitorError::NoSuchAccount(other.to_string())),
    }
    Ok(doc)
}

/// Builds `/accstatz`; `include_unused` is `unused=1`.
pub fn accstatz(server: &Server, include_unused: bool, ctx: &Context) -> AccountStatz {
    let st = &server.stats;
    let conns = server.num_clients();
    let global = AccountStat {
        acc: GLOBAL_ACCOUNT.to_string(),
        name: GLOBAL_ACCOUNT.to_string(),
        conns,
        leafnodes: 0,
        total_conns: conns,
        num_subscriptions: server.num_subscriptions(),
        sent: DataStats {
            msgs: st.out_msgs.load(Relaxed),
            bytes: st.out_bytes.load(Relaxed),
            ..DataStats::default()
        },
        received: DataStats {
            msgs: st.in_msgs.load(Relaxed),
            bytes: st.in_bytes.load(Relaxed),
            ..DataStats::default()
        },
        slow_consumers: st.slow_consumers.load(Relaxed),
    };
    let mut list = Vec::with_capacity(2);
    if include_unused || conns > 0 {
        list.push(global);
    }
    if include_unused {
        list.push(AccountStat {
            acc: SYSTEM_ACCOUNT.to_string(),
            name: SYSTEM_ACCOUNT.to_string(),
            conns: 0,
            leafnodes: 0,
            total_conns: 0,
            num_subscriptions: 0,
            sent: DataStats::default(),
            received: DataStats::default(),
            slow_consumers: 0,
        });
    }
    AccountStatz {
        server_id: server.id().to_string(),
        now: rfc3339(ctx.clock.wall),
        account_statz: list,
    }
}
