//! `/routez` (this server's routes), `/gatewayz`, `/leafz` (no gateways or leaf nodes: the
//! reference's empty documents).

use std::collections::BTreeMap;

use serde::Serialize;

use super::time::{rfc3339, rtt, uptime};
use super::{Context, SubDetail};
use crate::route::RouteHandle;
use crate::server::Server;

/// An entry of a list that is always empty here.
#[derive(Debug, Clone, Serialize)]
pub struct Never {}

/// The `/routez` document.
#[derive(Debug, Clone, Serialize)]
pub struct Routez {
    /// Server id.
    pub server_id: String,
    /// Server name.
    pub server_name: String,
    /// Time of the request.
    pub now: String,
    /// Number of routes.
    pub num_routes: usize,
    /// Routes.
    pub routes: Vec<RouteEntry>,
}

/// One route connection in `/routez`.
#[derive(Debug, Clone, Serialize)]
pub struct RouteEntry {
    /// Route id.
    pub rid: u64,
    /// The peer's server id.
    pub remote_id: String,
    /// The peer's server name.
    pub remote_name: String,
    /// We dialled it.
    pub did_solicit: bool,
    /// Dialled because it is configured.
    pub is_configured: bool,
    /// Peer address.
    pub ip: String,
    /// Peer port.
    pub port: u16,
    /// When it was accepted or dialled.
    pub start: String,
    /// Last input.
    pub last_activity: String,
    /// Round trip time.
    pub rtt: String,
    /// Time since start.
    pub uptime: String,
    /// Time since last activity.
    pub idle: String,
    /// Bytes waiting to be written.
    pub pending_size: usize,
    /// Messages received.
    pub in_msgs: u64,
    /// Messages sent.
    pub out_msgs: u64,
    /// Bytes received.
    pub in_bytes: u64,
    /// Bytes sent.
    pub out_bytes: u64,
    /// The peer's subscriptions carried by this connection.
    pub subscriptions: usize,
    /// Their subjects (`subs=1`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscriptions_list: Option<Vec<String>>,
    /// Each of them in detail (`subs=detail`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscriptions_list_detail: Option<Vec<SubDetail>>,
    /// The account a dedicated connection carries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// Compression in use.
    pub compression: String,
}

/// The `/gatewayz` document.
#[derive(Debug, Clone, Serialize)]
pub struct Gatewayz {
    /// Server id.
    pub server_id: String,
    /// Time of the request.
    pub now: String,
    /// Outbound gateways by name.
    pub outbound_gateways: BTreeMap<String, Never>,
    /// Inbound gateways by name.
    pub inbound_gateways: BTreeMap<String, Never>,
}

/// The `/leafz` document.
#[derive(Debug, Clone, Serialize)]
pub struct Leafz {
    /// Server id.
    pub server_id: String,
    /// Time of the request.
    pub now: String,
    /// Number of leaf node connections.
    pub leafnodes: usize,
    /// Leaf node connections.
    pub leafs: Vec<Never>,
}

/// How `/routez` lists each route's subscriptions (`subs` query option).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RouteSubs {
    /// Only their number (no `subs`, `subs=0`).
    #[default]
    Count,
    /// Their subjects, `subscriptions_list` (`subs=1`).
    List,
    /// Each one's subject, queue group, sid, messages and connection,
    /// `subscriptions_list_detail` (`subs=detail`, any case).
    Detail,
}

/// Builds `/routez`.
pub fn routez(server: &Server, ctx: &Context) -> Routez {
    routez_with(server, RouteSubs::Count, ctx)
}

/// The peer's subscriptions a route carries, as the reference details them: the sid is
/// `R <account> <subject> [<queue>]` (no account on a connection pinned to it), the
/// connection id is the route's.
fn route_sub_details(h: &RouteHandle) -> Vec<SubDetail> {
    let pinned = h.pinned_account().is_some();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    h.remote_subs
        .lock()
        .iter()
        .map(|((account, subject, queue), sub)| {
            let mut sid = String::from("R ");
            if !pinned {
                sid.push_str(&text(account));
                sid.push(' ');
            }
            sid.push_str(&text(subject));
            if let Some(q) = queue {
                sid.push(' ');
                sid.push_str(&text(q));
            }
            SubDetail {
                account: None,
                account_tag: None,
                subject: text(subject),
                qgroup: queue.as_deref().map(text),
                sid,
                msgs: sub.delivered(),
                cid: h.rid,
            }
        })
        .collect()
}

/// Builds `/routez`, listing each route's subscriptions as `subs` asks.
pub fn routez_with(server: &Server, subs: RouteSubs, ctx: &Context) -> Routez {
    let now = ctx.clock.now;
    let mut routes: Vec<RouteEntry> = server
        .routes()
        .routes()
        .iter()
        .map(|h| {
            let snap = h.shared.snapshot();
            RouteEntry {
                rid: h.rid,
                remote_id: h.remote_id.clone(),
                remote_name: h.remote_name.clone(),
                did_solicit: h.solicited,
                is_configured: h.configured.load(std::sync::atomic::Ordering::Relaxed),
                ip: snap.peer.ip().to_string(),
                port: snap.peer.port(),
                start: ctx.clock.rfc3339(snap.start),
                last_activity: ctx.clock.rfc3339(snap.last_activity),
                rtt: rtt(snap.rtt),
                uptime: uptime(now.saturating_duration_since(snap.start)),
                idle: uptime(now.saturating_duration_since(snap.last_activity)),
                pending_size: snap.pending_bytes,
                in_msgs: snap.in_msgs,
                out_msgs: snap.out_msgs,
                in_bytes: snap.in_bytes,
                out_bytes: snap.out_bytes,
                subscriptions: h.num_subscriptions(),
                // As the reference: no list at all for a route without subscriptions.
                subscriptions_list: (subs == RouteSubs::List)
                    .then(|| h.subscription_subjects())
                    .filter(|l| !l.is_empty()),
                subscriptions_list_detail: (subs == RouteSubs::Detail)
                    .then(|| route_sub_details(h))
                    .filter(|l| !l.is_empty()),
                account: h.pinned_account().map(str::to_string),
                compression: "off".to_string(),
            }
        })
        .collect();
    routes.sort_by_key(|r| r.rid);
    Routez {
        server_id: server.id().to_string(),
        server_name: server.name().to_string(),
        now: rfc3339(ctx.clock.wall),
        num_routes: routes.len(),
        routes,
    }
}

/// Builds `/gatewayz`.
pub fn gatewayz(server: &Server, ctx: &Context) -> Gatewayz {
    Gatewayz {
        server_id: server.id().to_string(),
        now: rfc3339(ctx.clock.wall),
        outbound_gateways: BTreeMap::new(),
        inbound_gateways: BTreeMap::new(),
    }
}

/// Builds `/leafz`.
pub fn leafz(server: &Server, ctx: &Context) -> Leafz {
    Leafz {
        server_id: server.id().to_string(),
        now: rfc3339(ctx.clock.wall),
        leafnodes: 0,
        leafs: Vec::new(),
    }
}
