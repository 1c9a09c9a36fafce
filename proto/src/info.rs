//! The JSON body of `INFO`.

use serde::{Deserialize, Serialize};

fn is_false(b: &bool) -> bool {
    !*b
}

/// What a server tells a client in `INFO {json}`.
///
/// Field order and omission rules follow the reference server's `Info` struct, so the JSON
/// text is the same shape: optional fields and `false` flags are left out, except `go` (when
/// set) and `headers`, which the reference always sends.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServerInfo {
    /// Unique id of the server (an NKEY-style public key).
    pub server_id: String,
    /// Configured or generated server name.
    pub server_name: String,
    /// Server version (`2.x.y`).
    pub version: String,
    /// Protocol level (1).
    pub proto: i64,
    /// Source revision.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub git_commit: Option<String>,
    /// Toolchain that built the server (the reference reports its Go version).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub go: Option<String>,
    /// Host the client listener is bound to.
    pub host: String,
    /// Port of the client listener.
    pub port: u16,
    /// The server supports headers (always sent, `false` included, as the reference does).
    pub headers: bool,
    /// Credentials are required.
    #[serde(skip_serializing_if = "is_false")]
    pub auth_required: bool,
    /// TLS is required.
    #[serde(skip_serializing_if = "is_false")]
    pub tls_required: bool,
    /// Client certificates are verified.
    #[serde(skip_serializing_if = "is_false")]
    pub tls_verify: bool,
    /// TLS is available but optional.
    #[serde(skip_serializing_if = "is_false")]
    pub tls_available: bool,
    /// Largest payload accepted.
    pub max_payload: i64,
    /// JetStream is enabled.
    #[serde(skip_serializing_if = "is_false")]
    pub jetstream: bool,
    /// Advertised IP (routes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// Id of this client connection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<u64>,
    /// Address the client connected from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_ip: Option<String>,
    /// Nonce to sign (NKEY / JWT auth).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// Cluster name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// The cluster name was generated (not configured).
    #[serde(skip_serializing_if = "is_false")]
    pub cluster_dynamic: bool,
    /// JetStream domain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// Other servers of the cluster clients may connect to.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub connect_urls: Vec<String>,
    /// The server is in lame duck mode.
    #[serde(skip_serializing_if = "is_false")]
    pub ldm: bool,
    /// Set in the `INFO` the reference sends right after a `CONNECT` with `protocol` >= 1.
    #[serde(skip_serializing_if = "is_false")]
    pub connect_info: bool,
    /// Account the connection is bound to (sent with `connect_info`, e.g. `"$G"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_account: Option<String>,
    /// The bound account is the system account.
    #[serde(skip_serializing_if = "is_false")]
    pub acc_is_sys: bool,
    /// API level of JetStream features.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_lvl: Option<i64>,
    /// Server's curve public key for encrypted auth callouts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xkey: Option<String>,
}
