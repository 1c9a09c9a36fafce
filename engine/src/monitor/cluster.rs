//! `/routez`, `/gatewayz`, `/leafz`: this server has no routes, gateways or leaf nodes, so
//! the documents are the reference's empty ones.

use std::collections::BTreeMap;

use serde::Serialize;

use super::time::rfc3339;
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
    pub routes: Vec<Never>,
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

/// Builds `/routez` (any `subs=` option lists nothing more).
pub fn routez(server: &Server, ctx: &Context) -> Routez {
    Routez {
        server_id: server.id().to_string(),
        server_name: server.name().to_string(),
        now: rfc3339(ctx.clock.wall),
        num_routes: 0,
        routes: Vec::new(),
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
