//! `/routez` (this server's routes), `/gatewayz`, `/leafz` (no gateways or leaf nodes: the
//! reference's empty documents).

use std::collections::BTreeMap;

use serde::Serialize;

use super::time::{rfc3339, rtt, uptime};
use super::Context;
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

/// Builds `/routez`.
pub fn routez(server: &Server, ctx: &Context) -> Routez {
    routez_with(server, false, ctx)
}

/// Builds `/routez`, listing each route's subscriptions when `subs` (`?subs=1`).
pub fn routez_with(server: &Server, subs: bool, ctx: &Context) -> Routez {
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
                subscriptions_list: subs.then(|| h.subscription_subjects()),
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
