//! `/varz`: server identity, options, limits and counters.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering::Relaxed;

use serde::Serialize;

use super::json::go_float;
use super::{Context, SYSTEM_ACCOUNT};
use crate::server::Server;

/// An object with no keys (`{}`): a subsystem this server does not run.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct Empty {}

/// Per-connection-kind counts (`slow_consumer_stats`, `stale_connection_stats`).
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct KindCounts {
    /// Client connections.
    pub clients: u64,
    /// Route connections.
    pub routes: u64,
    /// Gateway connections.
    pub gateways: u64,
    /// Leaf node connections.
    pub leafs: u64,
}

/// Disk wait statistics (no storage here: all zero).
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct DiskIoWaitStats {
    /// Current waiters.
    pub waiters: u64,
    /// Total waits.
    pub waits: u64,
    /// Total wait time (ns).
    pub wait_time: u64,
    /// Longest wait (ns).
    pub max_wait_time: u64,
}

/// The `cluster` section of `/varz` (empty without a cluster).
#[derive(Debug, Clone, Default, Serialize)]
pub struct ClusterVarz {
    /// Cluster name.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Route listener host.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub addr: String,
    /// Route listener port.
    #[serde(skip_serializing_if = "is_zero_u16")]
    pub cluster_port: u16,
    /// Seconds a route has to authenticate.
    #[serde(skip_serializing_if = "is_zero_f64", serialize_with = "go_float")]
    pub auth_timeout: f64,
    /// Configured routes (`host:port`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<String>,
    /// TLS handshake timeout of routes, in seconds.
    #[serde(skip_serializing_if = "is_zero_f64", serialize_with = "go_float")]
    pub tls_timeout: f64,
    /// Pooled connections per peer.
    #[serde(skip_serializing_if = "is_zero")]
    pub pool_size: usize,
}

fn is_zero_u16(v: &u16) -> bool {
    *v == 0
}

fn is_zero_f64(v: &f64) -> bool {
    *v == 0.0
}

/// The `cluster` section from the server's cluster options.
fn cluster_varz(server: &Server) -> ClusterVarz {
    let cfg = server.config();
    let Some(c) = cfg.cluster.as_ref() else {
        return ClusterVarz::default();
    };
    let port = server
        .routes()
        .start_info()
        .map_or(c.port, |s| s.listen.port());
    ClusterVarz {
        name: server.routes().cluster_name().0,
        addr: c.host.clone(),
        cluster_port: port,
        auth_timeout: c.auth_timeout.as_secs_f64(),
        urls: c.routes.iter().map(|u| u.address()).collect(),
        tls_timeout: TLS_TIMEOUT_SECS,
        pool_size: c.pool_size,
    }
}

/// The `/varz` document, keys in the reference's order.
#[derive(Debug, Clone, Serialize)]
#[allow(missing_docs)]
pub struct Varz {
    pub server_id: String,
    pub server_name: String,
    pub version: String,
    pub proto: i64,
    pub git_commit: String,
    pub go: String,
    pub host: String,
    pub port: u16,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub connect_urls: Vec<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub auth_required: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub tls_required: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub tls_verify: bool,
    pub max_connections: usize,
    #[serde(skip_serializing_if = "is_zero")]
    pub max_subscriptions: usize,
    pub ping_interval: u128,
    pub ping_max: u32,
    pub http_host: String,
    pub http_port: u16,
    pub http_base_path: String,
    pub https_port: u16,
    #[serde(serialize_with = "go_float")]
    pub auth_timeout: f64,
    pub max_control_line: usize,
    pub max_payload: i32,
    pub max_pending: usize,
    pub cluster: ClusterVarz,
    pub gateway: Empty,
    pub leaf: Empty,
    pub mqtt: Empty,
    pub websocket: Empty,
    pub jetstream: Empty,
    #[serde(serialize_with = "go_float")]
    pub tls_timeout: f64,
    pub write_deadline: u128,
    pub start: String,
    pub now: String,
    pub uptime: String,
    pub mem: u64,
    pub cores: usize,
    pub gomaxprocs: usize,
    #[serde(serialize_with = "go_float")]
    pub cpu: f64,
    pub connections: usize,
    pub total_connections: u64,
    pub routes: u64,
    pub remotes: u64,
    pub leafnodes: u64,
    pub in_msgs: u64,
    pub in_bytes: u64,
    pub in_client_msgs: u64,
    pub in_client_bytes: u64,
    pub out_msgs: u64,
    pub out_bytes: u64,
    pub out_client_msgs: u64,
    pub out_client_bytes: u64,
    pub slow_consumers: u64,
    pub stale_connections: u64,
    pub stalled_clients: u64,
    pub subscriptions: usize,
    pub http_req_stats: BTreeMap<String, u64>,
    pub config_load_time: String,
    pub config_digest: String,
    pub feature_flags: BTreeMap<&'static str, bool>,
    pub system_account: String,
    pub slow_consumer_stats: KindCounts,
    pub stale_connection_stats: KindCounts,
    pub disk_io_wait_stats: DiskIoWaitStats,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_cert_not_after: Option<String>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Seconds the reference allows for TLS handshakes when TLS is off (its default).
const TLS_TIMEOUT_SECS: f64 = 2.0;

/// The reference's feature flags and their defaults.
const FEATURE_FLAGS: [(&str, bool); 4] = [
    ("js_ack_fc_v2", false),
    ("js_api_reply_v2", false),
    ("js_raft_delete_range", true),
    ("js_snapshot_sources", false),
];

/// Builds `/varz`.
pub fn varz(server: &Server, ctx: &Context) -> Varz {
    let cfg = server.config();
    let info = server.info();
    let st = &server.stats;
    let start = ctx.clock.rfc3339(server.start_time());
    let in_msgs = st.in_msgs.load(Relaxed);
    let in_bytes = st.in_bytes.load(Relaxed);
    let out_msgs = st.out_msgs.load(Relaxed);
    let out_bytes = st.out_bytes.load(Relaxed);
    let slow = st.slow_consumers.load(Relaxed);
    let stale = st.stale_connections.load(Relaxed);
    Varz {
        server_id: info.server_id.clone(),
        server_name: info.server_name.clone(),
        version: info.version.clone(),
        proto: info.proto,
        git_commit: String::new(),
        go: format!("rust (engine {})", crate::VERSION),
        host: cfg.host.clone(),
        port: cfg.port,
        connect_urls: server.cluster_client_urls(),
        auth_required: info.auth_required,
        tls_required: info.tls_required,
        tls_verify: info.tls_verify,
        max_connections: cfg.max_connections,
        max_subscriptions: cfg.max_subscriptions,
        ping_interval: cfg.ping_interval.as_nanos(),
        ping_max: cfg.ping_max,
        http_host: ctx.http.host.clone(),
        http_port: ctx.http.port,
        http_base_path: ctx.http.base_path.clone(),
        https_port: ctx.http.https_port,
        auth_timeout: cfg.auth.timeout.as_secs_f64(),
        max_control_line: cfg.max_control_line,
        max_payload: cfg.max_payload,
        max_pending: cfg.max_pending,
        cluster: cluster_varz(server),
        gateway: Empty {},
        leaf: Empty {},
        mqtt: Empty {},
        websocket: Empty {},
        jetstream: Empty {},
        tls_timeout: cfg
            .tls
            .as_ref()
            .map_or(TLS_TIMEOUT_SECS, |t| t.timeout.as_secs_f64()),
        write_deadline: cfg.write_deadline.as_nanos(),
        config_load_time: cfg
            .config_load_time
            .map_or_else(|| start.clone(), super::time::rfc3339),
        start,
        now: super::time::rfc3339(ctx.clock.wall),
        uptime: super::time::uptime(ctx.clock.now.saturating_duration_since(server.start_time())),
        mem: ctx.process.rss_bytes,
        cores: ctx.process.cores,
        gomaxprocs: ctx.process.max_procs,
        cpu: ctx.process.cpu_percent,
        connections: server.num_clients(),
        total_connections: st.total_connections.load(Relaxed),
        routes: server.routes().len() as u64,
        remotes: server.routes().peers().len() as u64,
        leafnodes: 0,
        in_msgs,
        in_bytes,
        in_client_msgs: in_msgs,
        in_client_bytes: in_bytes,
        out_msgs,
        out_bytes,
        out_client_msgs: out_msgs,
        out_client_bytes: out_bytes,
        slow_consumers: slow,
        stale_connections: stale,
        stalled_clients: 0,
        subscriptions: server.num_subscriptions(),
        http_req_stats: ctx.http_req_stats.clone(),
        config_digest: cfg.config_digest.clone(),
        feature_flags: FEATURE_FLAGS.into_iter().collect(),
        system_account: SYSTEM_ACCOUNT.to_string(),
        slow_consumer_stats: KindCounts {
            clients: slow,
            ..KindCounts::default()
        },
        stale_connection_stats: KindCounts {
            clients: stale,
            ..KindCounts::default()
        },
        disk_io_wait_stats: DiskIoWaitStats::default(),
        tls_cert_not_after: ctx.tls_cert_not_after.map(super::time::rfc3339),
    }
}
