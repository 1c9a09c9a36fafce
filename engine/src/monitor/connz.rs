//! `/connz`: open and recently closed client connections.

use std::cmp::Reverse;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::subs::{all_subscriptions, subjects_collide, SubView};
use super::time::{rfc3339, rtt, uptime};
use super::{Context, MonitorError, DEFAULT_LIST_SIZE, GLOBAL_ACCOUNT};
use crate::client_info::{ClientSnapshot, ClosedClient};
use crate::server::Server;

/// How `/connz` orders connections (`sort=`). Only `cid` and `start` (the same order),
/// `uptime` and `reason` ascend; the others descend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortOpt {
    /// Connection id (default).
    #[default]
    Cid,
    /// Connection start (same as cid).
    Start,
    /// Number of subscriptions.
    Subs,
    /// Pending bytes.
    Pending,
    /// Messages sent to the client.
    MsgsTo,
    /// Messages received from the client.
    MsgsFrom,
    /// Bytes sent to the client.
    BytesTo,
    /// Bytes received from the client.
    BytesFrom,
    /// Last activity.
    Last,
    /// Time since last activity.
    Idle,
    /// Connected time.
    Uptime,
    /// Close time (closed connections only).
    Stop,
    /// Close reason (closed connections only).
    Reason,
    /// Round-trip time.
    Rtt,
}

impl SortOpt {
    /// Parses a `sort=` value.
    pub fn parse(s: &str) -> Result<SortOpt, MonitorError> {
        Ok(match s {
            "cid" => SortOpt::Cid,
            "start" => SortOpt::Start,
            "subs" => SortOpt::Subs,
            "pending" => SortOpt::Pending,
            "msgs_to" => SortOpt::MsgsTo,
            "msgs_from" => SortOpt::MsgsFrom,
            "bytes_to" => SortOpt::BytesTo,
            "bytes_from" => SortOpt::BytesFrom,
            "last" => SortOpt::Last,
            "idle" => SortOpt::Idle,
            "uptime" => SortOpt::Uptime,
            "stop" => SortOpt::Stop,
            "reason" => SortOpt::Reason,
            "rtt" => SortOpt::Rtt,
            other => return Err(MonitorError::InvalidSort(other.to_string())),
        })
    }
}

/// Which connections `/connz` lists (`state=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConnState {
    /// Open connections (default).
    #[default]
    Open,
    /// Closed connections still remembered.
    Closed,
    /// Both.
    All,
}

/// Options of `/connz`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnzOptions {
    /// Order.
    pub sort: SortOpt,
    /// Show user and account details (`auth=`).
    pub auth: bool,
    /// List subscription subjects (`subs=1`).
    pub subs: bool,
    /// List subscription details (`subs=detail`).
    pub subs_detail: bool,
    /// First entry to show (negative: 0).
    pub offset: i64,
    /// Most entries to show (0 or negative: 1024).
    pub limit: i64,
    /// Only this connection (0: any).
    pub cid: u64,
    /// Open, closed or all.
    pub state: ConnState,
    /// Only connections authenticated as this user.
    pub user: Option<String>,
    /// Only connections of this account.
    pub account: Option<String>,
    /// With `account`: only open connections with a subscription some message on this
    /// subject filter would reach (the system account's `filter_subject`; HTTP ignores it,
    /// as the reference does).
    pub filter_subject: Option<String>,
}

/// A subscription in `subscriptions_list_detail` and `/subsz`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SubDetail {
    /// Account name (only in `/subsz` and closed connections).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// Account tag (only with `account`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_tag: Option<String>,
    /// Subject filter.
    pub subject: String,
    /// Queue group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qgroup: Option<String>,
    /// Subscription id.
    pub sid: String,
    /// Messages delivered.
    pub msgs: u64,
    /// Connection id.
    pub cid: u64,
}

impl SubDetail {
    pub(crate) fn from_view(v: SubView, with_account: bool) -> SubDetail {
        let account = with_account.then_some(v.account);
        SubDetail {
            account_tag: account.clone(),
            account,
            subject: v.subject,
            qgroup: v.queue,
            sid: v.sid,
            msgs: v.msgs,
            cid: v.cid,
        }
    }
}

/// One connection in `/connz`, keys in the reference's order.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct ConnInfo {
    pub cid: u64,
    pub kind: &'static str,
    #[serde(rename = "type")]
    pub conn_type: &'static str,
    pub ip: String,
    pub port: u16,
    pub start: String,
    pub last_activity: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub rtt: String,
    pub uptime: String,
    pub idle: String,
    pub pending_bytes: usize,
    pub in_msgs: u64,
    pub out_msgs: u64,
    pub in_bytes: u64,
    pub out_bytes: u64,
    pub subscriptions: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorized_user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscriptions_list: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscriptions_list_detail: Option<Vec<SubDetail>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_tag: Option<String>,
}

/// The `/connz` document.
#[derive(Debug, Clone, Serialize)]
pub struct Connz {
    /// Server id (empty when `acc=` names an unknown account, as the reference does).
    pub server_id: String,
    /// Time of the request.
    pub now: String,
    /// Entries in `connections`.
    pub num_connections: usize,
    /// Matching connections before paging.
    pub total: usize,
    /// Offset used.
    pub offset: usize,
    /// Limit used.
    pub limit: usize,
    /// The page (`null` for an unknown account).
    pub connections: Option<Vec<ConnInfo>>,
}

/// A connection being listed, with what sorting needs.
struct Entry {
    info: ConnInfo,
    start: Instant,
    last: Instant,
    stop: Option<Instant>,
    rtt: Duration,
    /// The subscriptions of a closed connection, kept from when it ended.
    closed_subs: Option<Vec<SubView>>,
}

fn non_empty(s: &Option<String>) -> Option<String> {
    s.as_ref().filter(|s| !s.is_empty()).cloned()
}

/// The account a snapshot runs in (`$G` until its CONNECT is accepted).
fn account_of(snap: &ClientSnapshot) -> &str {
    snap.identity
        .as_deref()
        .map_or(GLOBAL_ACCOUNT, |i| i.account.as_str())
}

/// The user a snapshot authenticated as.
fn user_of(snap: &ClientSnapshot) -> Option<&str> {
    snap.identity.as_deref().and_then(|i| i.user.as_deref())
}

/// Fills a [`ConnInfo`] from a snapshot; `end` is the request time (open) or stop time.
fn fill(snap: &ClientSnapshot, ctx: &Context, end: Instant) -> ConnInfo {
    let connect = snap.connect.as_deref();
    ConnInfo {
        cid: snap.cid,
        kind: "Client",
        conn_type: "nats",
        ip: snap.peer.ip().to_string(),
        port: snap.peer.port(),
        start: ctx.clock.rfc3339(snap.start),
        last_activity: ctx.clock.rfc3339(snap.last_activity),
        stop: None,
        reason: None,
        rtt: rtt(snap.rtt),
        uptime: uptime(end.saturating_duration_since(snap.start)),
        idle: uptime(end.saturating_duration_since(snap.last_activity)),
        pending_bytes: snap.pending_bytes,
        in_msgs: snap.in_msgs,
        out_msgs: snap.out_msgs,
        in_bytes: snap.in_bytes,
        out_bytes: snap.out_bytes,
        subscriptions: snap.subscriptions,
        name: connect.and_then(|c| non_empty(&c.name)),
        lang: connect.and_then(|c| non_empty(&c.lang)),
        version: connect.and_then(|c| non_empty(&c.version)),
        authorized_user: None,
        account: None,
        subscriptions_list: None,
        subscriptions_list_detail: None,
        name_tag: None,
    }
}

/// An open connection; with `auth` its user, its account (unless `$G`) and the account's
/// tag.
fn open_entry(snap: &ClientSnapshot, ctx: &Context, auth: bool) -> Entry {
    let mut info = fill(snap, ctx, ctx.clock.now);
    if auth {
        let account = account_of(snap);
        info.authorized_user = user_of(snap).map(str::to_string);
        info.account = (account != GLOBAL_ACCOUNT).then(|| account.to_string());
        info.name_tag = Some(account.to_string());
    }
    Entry {
        info,
        start: snap.start,
        last: snap.last_activity,
        stop: None,
        rtt: snap.rtt,
        closed_subs: None,
    }
}

/// A closed connection; with `auth` its user, and its account and tag unless `$G` (the
/// reference keeps no account for those).
fn closed_entry(cc: &ClosedClient, ctx: &Context, auth: bool) -> Entry {
    let snap = &cc.snapshot;
    let mut info = fill(snap, ctx, cc.stop);
    info.stop = Some(ctx.clock.rfc3339(cc.stop));
    info.reason = Some(cc.reason.as_str().to_string());
    if auth {
        info.authorized_user = user_of(snap).map(str::to_string);
        let account = closed_account(cc).map(str::to_string);
        info.name_tag.clone_from(&account);
        info.account = account;
    }
    Entry {
        info,
        start: snap.start,
        last: snap.last_activity,
        stop: Some(cc.stop),
        rtt: snap.rtt,
        closed_subs: Some(
            cc.subs
                .iter()
                .map(|s| SubView::closed(snap.cid, s))
                .collect(),
        ),
    }
}

/// The account the reference remembers for a closed connection: none for `$G`.
fn closed_account(cc: &ClosedClient) -> Option<&str> {
    Some(account_of(&cc.snapshot)).filter(|a| *a != GLOBAL_ACCOUNT)
}

fn sort_entries(entries: &mut [Entry], sort: SortOpt, now: Instant) {
    let cid = |e: &Entry| e.info.cid;
    match sort {
        SortOpt::Cid | SortOpt::Start => entries.sort_by_key(cid),
        SortOpt::Subs => entries.sort_by_key(|e| (Reverse(e.info.subscriptions), cid(e))),
        SortOpt::Pending => entries.sort_by_key(|e| (Reverse(e.info.pending_bytes), cid(e))),
        SortOpt::MsgsTo => entries.sort_by_key(|e| (Reverse(e.info.out_msgs), cid(e))),
        SortOpt::MsgsFrom => entries.sort_by_key(|e| (Reverse(e.info.in_msgs), cid(e))),
        SortOpt::BytesTo => entries.sort_by_key(|e| (Reverse(e.info.out_bytes), cid(e))),
        SortOpt::BytesFrom => entries.sort_by_key(|e| (Reverse(e.info.in_bytes), cid(e))),
        SortOpt::Last => entries.sort_by_key(|e| (Reverse(e.last), cid(e))),
        SortOpt::Idle => {
            entries.sort_by_key(|e| (Reverse(now.saturating_duration_since(e.last)), cid(e)))
        }
        SortOpt::Uptime => entries.sort_by_key(|e| {
            (
                e.stop.unwrap_or(now).saturating_duration_since(e.start),
                cid(e),
            )
        }),
        SortOpt::Stop => entries.sort_by_key(|e| (Reverse(e.stop), cid(e))),
        SortOpt::Reason => entries.sort_by(|a, b| {
            (a.info.reason.as_deref(), a.info.cid).cmp(&(b.info.reason.as_deref(), b.info.cid))
        }),
        SortOpt::Rtt => entries.sort_by_key(|e| (Reverse(e.rtt), cid(e))),
    }
}

/// Builds `/connz`.
pub fn connz(server: &Server, opts: &ConnzOptions, ctx: &Context) -> Result<Connz, MonitorError> {
    let state = opts.state;
    match opts.sort {
        SortOpt::Stop if state != ConnState::Closed => {
            return Err(MonitorError::SortNeedsClosed("stop"))
        }
        SortOpt::Reason if state != ConnState::Closed => {
            return Err(MonitorError::SortNeedsClosed("reason"))
        }
        _ => {}
    }
    let offset = usize::try_from(opts.offset).unwrap_or(0);
    let mut limit = usize::try_from(opts.limit)
        .ok()
        .filter(|l| *l > 0)
        .unwrap_or(DEFAULT_LIST_SIZE);
    if opts.cid > 0 {
        limit = 1;
    }
    let now_text = rfc3339(ctx.clock.wall);
    let account = opts.account.as_deref().filter(|a| !a.is_empty());
    let filter = opts
        .filter_subject
        .as_deref()
        .filter(|f| !f.is_empty() && *f != ">");
    if filter.is_some() && account.is_none() {
        return Err(MonitorError::FilterNeedsAccount);
    }
    if account.is_some_and(|a| server.account(a).is_none()) {
        return Ok(Connz {
            server_id: String::new(),
            now: now_text,
            num_connections: 0,
            total: 0,
            offset,
            limit,
            connections: None,
        });
    }
    let want_open = state != ConnState::Closed;
    let want_closed = state != ConnState::Open;
    // As the reference: the total counts the account's connections before the user filter.
    let open: Vec<ClientSnapshot> = if want_open {
        server
            .clients()
            .iter()
            .map(|c| c.snapshot())
            .filter(|s| account.is_none_or(|a| account_of(s) == a))
            .collect()
    } else {
        Vec::new()
    };
    let closed: Vec<ClosedClient> = if want_closed {
        server
            .closed_clients()
            .into_iter()
            .filter(|c| account.is_none_or(|a| closed_account(c) == Some(a)))
            .collect()
    } else {
        Vec::new()
    };
    let total = open.len() + closed.len();
    let user = opts.user.as_deref().filter(|u| !u.is_empty());
    let wanted = |s: &ClientSnapshot| {
        (opts.cid == 0 || s.cid == opts.cid) && user.is_none_or(|u| user_of(s) == Some(u))
    };
    let now = ctx.clock.now;
    let reaches = filter.map(|f| subscribers_of(server, f));
    let mut entries: Vec<Entry> = open
        .iter()
        .filter(|s| wanted(s))
        .filter(|s| reaches.as_ref().is_none_or(|r| r.contains(&s.cid)))
        .map(|s| open_entry(s, ctx, opts.auth))
        .collect();
    entries.extend(
        closed
            .iter()
            .filter(|c| wanted(&c.snapshot))
            .map(|c| closed_entry(c, ctx, opts.auth)),
    );
    if opts.cid > 0 {
        entries.truncate(1);
    }
    if opts.subs || opts.subs_detail {
        attach_subs(server, &mut entries, opts.subs_detail);
    }
    sort_entries(&mut entries, opts.sort, now);
    let n = entries.len();
    let lo = offset.min(n);
    let hi = offset.saturating_add(limit).min(n);
    let page: Vec<ConnInfo> = entries
        .into_iter()
        .skip(lo)
        .take(hi - lo)
        .map(|e| e.info)
        .collect();
    Ok(Connz {
        server_id: server.id().to_string(),
        now: now_text,
        num_connections: page.len(),
        total,
        offset,
        limit,
        connections: Some(page),
    })
}

/// The connections with a subscription that collides with `filter`.
fn subscribers_of(server: &Server, filter: &str) -> std::collections::HashSet<u64> {
    all_subscriptions(server)
        .into_iter()
        .filter(|s| subjects_collide(filter, &s.subject))
        .map(|s| s.cid)
        .collect()
}

/// Adds the subscription lists: from the index for open connections, from what closed ones
/// held when they ended (the reference shows those with their account).
fn attach_subs(server: &Server, entries: &mut [Entry], detail: bool) {
    let mut by_cid: HashMap<u64, Vec<SubView>> = HashMap::new();
    if entries.iter().any(|e| e.stop.is_none()) {
        for s in all_subscriptions(server) {
            by_cid.entry(s.cid).or_default().push(s);
        }
    }
    for e in entries.iter_mut() {
        let closed = e.stop.is_some();
        let subs = match e.closed_subs.take() {
            Some(subs) => subs,
            None if closed => continue,
            None => match by_cid.remove(&e.info.cid) {
                Some(subs) => subs,
                None => continue,
            },
        };
        if subs.is_empty() {
            continue;
        }
        if detail {
            let list = subs
                .into_iter()
                .map(|v| SubDetail::from_view(v, closed))
                .collect();
            e.info.subscriptions_list_detail = Some(list);
        } else {
            e.info.subscriptions_list = Some(subs.into_iter().map(|v| v.subject).collect());
        }
    }
}
