//! Pure builders of the monitoring documents the reference serves over HTTP (`/varz`,
//! `/connz`, `/subsz`, ...) and of a Prometheus text exposition (`/metrics`).
//!
//! Nothing here reads a clock or the operating system: the caller passes a [`Context`] with
//! the monotonic and wall-clock time of the request, the HTTP listener's address and the
//! process statistics it measured. Every builder returns a serde value whose JSON keys,
//! order and types are those of the reference server 2.15.
//!
//! Accounts: this server has one client account, `$G`, plus the reference's system account
//! `$SYS` which holds no connection.

mod accounts;
mod cluster;
mod connz;
mod healthz;
mod json;
pub mod metrics;
mod subs;
mod subsz;
#[cfg(test)]
mod tests;
pub mod time;
mod varz;

use std::collections::BTreeMap;

pub use accounts::{accountz, accstatz, AccountDetail, AccountStatz, Accountz, AccountzOptions};
pub use cluster::{
    gatewayz, leafz, routez, routez_with, Gatewayz, Leafz, RouteEntry, RouteSubs, Routez,
};
pub use connz::{connz, ConnInfo, ConnState, Connz, ConnzOptions, SortOpt, SubDetail};
pub use healthz::{healthz, HealthStatus, HealthzOptions};
pub use subsz::{subsz, Subsz, SubszOptions};
pub use time::Clock;
pub use varz::{varz, Varz};

/// Name of the global account every client belongs to.
pub const GLOBAL_ACCOUNT: &str = "$G";
/// Name of the system account.
pub const SYSTEM_ACCOUNT: &str = "$SYS";
/// Default page size of `/connz` and `/subsz`.
pub const DEFAULT_LIST_SIZE: usize = 1024;

/// Where the monitoring listener is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpListen {
    /// Host it binds to.
    pub host: String,
    /// HTTP port (0 when none).
    pub port: u16,
    /// HTTPS port (0 when none).
    pub https_port: u16,
    /// Base path prefix.
    pub base_path: String,
}

/// Process statistics measured by the caller.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ProcessStats {
    /// Resident memory in bytes.
    pub rss_bytes: u64,
    /// Recent CPU use in percent of one core.
    pub cpu_percent: f64,
    /// Number of CPU cores.
    pub cores: usize,
    /// Threads the runtime may run at once (the reference's `gomaxprocs`).
    pub max_procs: usize,
}

/// Everything a builder needs besides the server: the time of the request and what the
/// caller measured.
#[derive(Debug, Clone)]
pub struct Context {
    /// Time of the request.
    pub clock: Clock,
    /// The monitoring listener.
    pub http: HttpListen,
    /// Process statistics.
    pub process: ProcessStats,
    /// Requests served so far per path (the current one included), for `/varz`.
    pub http_req_stats: BTreeMap<String, u64>,
    /// When the client TLS certificate expires (`tls_cert_not_after`), if TLS is on.
    pub tls_cert_not_after: Option<std::time::SystemTime>,
}

/// A request the reference answers with `400 Bad Request` and this text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MonitorError {
    /// `sort=` names no sort option.
    #[error("invalid sorting option: {0}")]
    InvalidSort(String),
    /// `sort=stop` or `sort=reason` without `state=closed`.
    #[error("sort by {0} only valid on closed connections")]
    SortNeedsClosed(&'static str),
    /// `subsz?test=` is not a valid publish subject.
    #[error("invalid test subject, must be valid publish subject: {0}")]
    InvalidTestSubject(String),
    /// `accountz?acc=` names no account.
    #[error("Account {0} does not exist")]
    NoSuchAccount(String),
    /// A connection subject filter without an account filter.
    #[error("filter by subject only valid with account filtering")]
    FilterNeedsAccount,
}
