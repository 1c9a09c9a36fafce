//! JSON bodies of the route `INFO` and `CONNECT`.
//!
//! Field order and omission rules follow what `nats-server` 2.15.1 writes, so encoding one
//! of these gives the same JSON text as the reference (see the captured fixtures).

use serde::{Deserialize, Serialize};

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero_i64(n: &i64) -> bool {
    *n == 0
}

fn is_zero_u64(n: &u64) -> bool {
    *n == 0
}

fn is_zero_u8(n: &u8) -> bool {
    *n == 0
}

/// Subject permissions a route announces (`import`/`export` in INFO and CONNECT).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SubjectPermission {
    /// Subjects allowed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allow: Vec<String>,
    /// Subjects denied.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub deny: Vec<String>,
}

/// The JSON of a route `INFO` (the reference's `Info` struct as filled for routes).
///
/// Always present, as in the reference: `server_id`, `server_name`, `version`, `proto`
/// (3 for routes), `go`, `host`, `port` (the cluster port), `headers`, `max_payload`.
/// Everything else is omitted when empty, `false` or 0.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RouteInfo {
    /// Unique id of the server (the route's identity: duplicates are detected by it).
    pub server_id: String,
    /// Server name.
    pub server_name: String,
    /// Server version.
    pub version: String,
    /// Protocol level (3 on routes in 2.15.1).
    pub proto: i64,
    /// Source revision (the reference leaves it out of route INFO).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub git_commit: String,
    /// Toolchain version (`"go1.27.2"` for the reference).
    pub go: String,
    /// Host of the cluster listener.
    pub host: String,
    /// Port of the cluster listener.
    pub port: i64,
    /// The server supports headers.
    pub headers: bool,
    /// Route connections need credentials.
    #[serde(skip_serializing_if = "is_false")]
    pub auth_required: bool,
    /// TLS is required on routes.
    #[serde(skip_serializing_if = "is_false")]
    pub tls_required: bool,
    /// Route certificates are verified.
    #[serde(skip_serializing_if = "is_false")]
    pub tls_verify: bool,
    /// TLS is available.
    #[serde(skip_serializing_if = "is_false")]
    pub tls_available: bool,
    /// Largest payload the server accepts from clients.
    pub max_payload: i64,
    /// JetStream is enabled.
    #[serde(skip_serializing_if = "is_false")]
    pub jetstream: bool,
    /// Route URL to reach this server (`nats-route://host:port/`), set in gossip INFOs.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub ip: String,
    /// Client id (client INFO only; kept for completeness).
    #[serde(skip_serializing_if = "is_zero_u64")]
    pub client_id: u64,
    /// Client IP (client INFO only; kept for completeness).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub client_ip: String,
    /// Random nonce (sent in the first INFO; not signed by routes).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub nonce: String,
    /// Cluster name.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cluster: String,
    /// The cluster name was generated, not configured.
    #[serde(skip_serializing_if = "is_false")]
    pub cluster_dynamic: bool,
    /// JetStream domain.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub domain: String,
    /// Client URLs of the sending server (`host:port`), for client discovery.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub connect_urls: Vec<String>,
    /// Websocket client URLs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ws_connect_urls: Vec<String>,
    /// The sending server is in lame duck mode.
    #[serde(skip_serializing_if = "is_false")]
    pub ldm: bool,
    /// Compression mode: `"accept"`, `"off"`, `"s2_fast"`, `"s2_better"`, `"s2_best"`,
    /// `"s2_uncompressed"`, `"s2_auto"`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub compression: String,
    /// Client INFO field (kept for completeness).
    #[serde(skip_serializing_if = "is_false")]
    pub connect_info: bool,
    /// Client/leaf INFO field (kept for completeness).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub remote_account: String,
    /// Client INFO field (kept for completeness).
    #[serde(skip_serializing_if = "is_false")]
    pub acc_is_sys: bool,
    /// JetStream API level.
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub api_lvl: i64,
    /// Subjects the sender imports from routes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub import: Option<SubjectPermission>,
    /// Subjects the sender exports to routes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub export: Option<SubjectPermission>,
    /// Understands `LS+`/`LMSG` with a leafnode origin cluster.
    #[serde(skip_serializing_if = "is_false")]
    pub lnoc: bool,
    /// Understands (and sends) `LS-` with the origin cluster.
    #[serde(skip_serializing_if = "is_false")]
    pub lnocu: bool,
    /// New in 2.15 (sent `true` in INFO and CONNECT; meaning not documented yet).
    #[serde(skip_serializing_if = "is_false")]
    pub ln: bool,
    /// Reply to CONNECT with an INFO (leafnodes).
    #[serde(skip_serializing_if = "is_false")]
    pub info_on_connect: bool,
    /// Number of pooled route connections per server pair (default 3).
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub route_pool_size: i64,
    /// Index of this connection in the pool (0 omitted); sent by the soliciting side.
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub route_pool_idx: i64,
    /// The account this connection is dedicated to (pinned), sent by the soliciting side.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub route_account: String,
    /// Request id of an account being given a dedicated route on config reload.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub route_acc_add_reqid: String,
    /// Gossip mode: 0 default, 1 disabled, 2 override.
    #[serde(skip_serializing_if = "is_zero_u8")]
    pub gossip_mode: u8,
    /// Gateway name (gateway INFO).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub gateway: String,
    /// Gateway URLs of the cluster (gateway INFO).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub gateway_urls: Vec<String>,
    /// Gateway URL of the sending server.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub gateway_url: String,
    /// Gateway command code.
    #[serde(skip_serializing_if = "is_zero_u8")]
    pub gateway_cmd: u8,
    /// Gateway command payload (base64 text, as Go encodes `[]byte`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub gateway_cmd_payload: String,
    /// Gateway uses the `$GNR.` reply prefix.
    #[serde(skip_serializing_if = "is_false")]
    pub gateway_nrp: bool,
    /// Gateway interest-only mode.
    #[serde(skip_serializing_if = "is_false")]
    pub gateway_iom: bool,
    /// Leafnode URLs of the sending server, for leafnode discovery.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub leafnode_urls: Vec<String>,
    /// Curve public key.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub xkey: String,
}

/// The JSON of a route `CONNECT` (sent first by the soliciting side).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RouteConnect {
    /// Always `true` from the reference.
    pub echo: bool,
    /// Always `false` from the reference.
    pub verbose: bool,
    /// Always `false` from the reference.
    pub pedantic: bool,
    /// User from the route URL.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub user: String,
    /// Password from the route URL.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub pass: String,
    /// TLS is in use.
    pub tls_required: bool,
    /// The soliciting server supports headers.
    pub headers: bool,
    /// The soliciting server's id (`server_id`).
    pub name: String,
    /// Cluster name; a mismatch is refused with `-ERR 'Rejecting connection, cluster name
    /// "x" does not match "y"'` unless a side's name is dynamic.
    pub cluster: String,
    /// The cluster name is generated.
    #[serde(skip_serializing_if = "is_false")]
    pub cluster_dynamic: bool,
    /// Understands leafnode origin clusters.
    #[serde(skip_serializing_if = "is_false")]
    pub lnoc: bool,
    /// Sends `LS-` with the origin (2.15.1 announces it in INFO, not in CONNECT).
    #[serde(skip_serializing_if = "is_false")]
    pub lnocu: bool,
    /// New in 2.15 (see [`RouteInfo::ln`]).
    #[serde(skip_serializing_if = "is_false")]
    pub ln: bool,
    /// Set by a gateway that connected to the route port (refused by the reference).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub gateway: String,
    /// Set by a client that connected to the route port (refused by the reference).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub lang: String,
}

impl RouteConnect {
    /// The CONNECT the reference sends for a route it solicits.
    pub fn reference(server_id: &str, cluster: &str, headers: bool) -> Self {
        RouteConnect {
            echo: true,
            headers,
            name: server_id.to_owned(),
            cluster: cluster.to_owned(),
            lnoc: true,
            ln: true,
            ..RouteConnect::default()
        }
    }
}
