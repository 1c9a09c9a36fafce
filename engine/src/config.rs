//! Server options the engine enforces.

use std::time::Duration;

use crate::account::AccountConfig;
use crate::auth::AuthConfig;

/// Options of one server, with the reference server's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// Address the client listener binds to (reported as `host` in INFO).
    pub host: String,
    /// Client port (reported as `port` in INFO).
    pub port: u16,
    /// Server name; the server id when `None`.
    pub server_name: Option<String>,
    /// Largest payload (headers included) a client may publish.
    pub max_payload: i32,
    /// Longest control line a client may send.
    pub max_control_line: usize,
    /// Most client connections at once (0: no limit).
    pub max_connections: usize,
    /// Most subscriptions per connection (0: no limit).
    pub max_subscriptions: usize,
    /// Most bytes waiting to be written to one client before it is cut off as a slow consumer.
    pub max_pending: usize,
    /// Longest a write to a client may block before it is cut off as a slow consumer.
    pub write_deadline: Duration,
    /// Interval of server PINGs.
    pub ping_interval: Duration,
    /// Unanswered PINGs before the connection is declared stale.
    pub ping_max: u32,
    /// Delay of the first PING after a client connected (capped by `ping_interval`).
    pub first_ping_delay: Duration,
    /// Whether the server supports message headers.
    pub headers: bool,
    /// How many closed connections monitoring remembers.
    pub max_closed_clients: usize,
    /// Record protocol trace lines (`-V`).
    pub trace: bool,
    /// Longest payload shown in a trace line (0: all of it).
    pub max_traced_msg_len: usize,
    /// Who may connect and what they may do.
    pub auth: AuthConfig,
    /// Accounts besides `$G` and `$SYS`.
    pub accounts: Vec<AccountConfig>,
    /// TLS on the client listener (`None`: plain text). The runtime does the handshake; the
    /// engine only reports it in INFO.
    pub tls: Option<TlsSettings>,
    /// Clustering (`cluster {}`, `--cluster`); `None`: no cluster listener, no routes.
    pub cluster: Option<ClusterConfig>,
    /// `sha256:<hex>` of the configuration file these options came from (empty: none), as
    /// `/varz` reports it in `config_digest`.
    pub config_digest: String,
    /// When these options were loaded by a reload (`None`: at start), for `/varz`.
    pub config_load_time: Option<std::time::SystemTime>,
}

/// Options of the cluster listener and of the routes to other servers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterConfig {
    /// Cluster name; `None`: a name is generated (and adopted from peers that have one).
    pub name: Option<String>,
    /// Address the route listener binds to.
    pub host: String,
    /// Route port (`-1`/`0` in the options: any free port, resolved by the runtime).
    pub port: u16,
    /// The address other servers should dial (`advertise`, `--cluster_advertise`).
    pub advertise: Option<String>,
    /// Do not tell clients about other servers' client URLs (`no_advertise`).
    pub no_advertise: bool,
    /// Routes to solicit (`routes`, `--routes`).
    pub routes: Vec<crate::route::RouteUrl>,
    /// Credentials routes must present (`authorization`, or the user of `--cluster`).
    pub auth: Option<RouteAuth>,
    /// How long a route may take to send its CONNECT.
    pub auth_timeout: Duration,
    /// Attempts to reach an implicit (gossiped) route before giving up (`connect_retries`).
    pub connect_retries: u32,
    /// Pooled connections per peer (`pool_size`, default 3; 0 disables pooling).
    pub pool_size: usize,
    /// Accounts with a dedicated route connection (`accounts`; `$SYS` always has one when
    /// pooling is on).
    pub pinned_accounts: Vec<String>,
    /// Route permissions: what peers may send us (`import`) and what we send (`export`).
    pub permissions: Option<RoutePermissions>,
    /// TLS on routes (both directions, certificates verified both ways, as the reference);
    /// the runtime does the handshakes, the engine reports it in INFO.
    pub tls: Option<RouteTlsSettings>,
}

/// What the engine knows about route TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteTlsSettings {
    /// Longest a route TLS handshake may take (`timeout`, default 2 s).
    pub timeout: Duration,
}

/// User and password a route must present.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteAuth {
    /// User.
    pub user: String,
    /// Password (plain or bcrypt).
    pub password: crate::auth::Secret,
}

/// Subjects a route may import (receive from peers) and export (send to peers).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoutePermissions {
    /// Allowed and denied subjects for messages from peers.
    pub import: Option<crate::auth::SubjectRules>,
    /// Allowed and denied subjects for our interest and messages to peers.
    pub export: Option<crate::auth::SubjectRules>,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            name: None,
            host: "0.0.0.0".to_string(),
            port: 6222,
            advertise: None,
            no_advertise: false,
            routes: Vec::new(),
            auth: None,
            auth_timeout: Duration::from_secs(2),
            connect_retries: 0,
            pool_size: 3,
            pinned_accounts: Vec::new(),
            permissions: None,
            tls: None,
        }
    }
}

/// What the engine and the runtime need to know about client TLS. Certificates, keys and the
/// handshake itself belong to the runtime: the engine holds no files and no crypto.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    /// Clients must present a certificate signed by a trusted CA (`verify`, `--tlsverify`).
    pub verify: bool,
    /// Like `verify`, and the certificate's identity names the user (`verify_and_map`).
    pub verify_and_map: bool,
    /// The TLS handshake comes before INFO (`handshake_first`).
    pub handshake_first: bool,
    /// With `handshake_first`: a client that sends nothing for this long gets INFO in plain
    /// text and the usual handshake after it (`handshake_first: auto` is 50 ms). `None`: no
    /// fallback, TLS first only.
    pub handshake_first_fallback: Option<Duration>,
    /// Longest a client may take to complete the handshake (`timeout`, default 2 s).
    pub timeout: Duration,
}

impl Default for TlsSettings {
    fn default() -> Self {
        TlsSettings {
            verify: false,
            verify_and_map: false,
            handshake_first: false,
            handshake_first_fallback: None,
            timeout: Duration::from_secs(2),
        }
    }
}

impl TlsSettings {
    /// Whether clients must present a verified certificate (INFO `tls_verify`).
    pub fn verifies_clients(&self) -> bool {
        self.verify || self.verify_and_map
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            host: "0.0.0.0".to_string(),
            port: 4222,
            server_name: None,
            max_payload: 1024 * 1024,
            max_control_line: 4096,
            max_connections: 64 * 1024,
            max_subscriptions: 0,
            max_pending: 64 * 1024 * 1024,
            write_deadline: Duration::from_secs(10),
            ping_interval: Duration::from_secs(120),
            ping_max: 2,
            first_ping_delay: Duration::from_secs(2),
            headers: true,
            max_closed_clients: 10_000,
            trace: false,
            max_traced_msg_len: 0,
            auth: AuthConfig::default(),
            accounts: Vec::new(),
            tls: None,
            cluster: None,
            config_digest: String::new(),
            config_load_time: None,
        }
    }
}
