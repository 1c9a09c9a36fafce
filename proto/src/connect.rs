//! The JSON body of `CONNECT`.

use serde::{Deserialize, Serialize};

mod decode;

pub use decode::ConnectJsonError;

/// Options a client sends in `CONNECT {json}`.
///
/// [`Default`] is the reference server's state of a connection that has not sent `CONNECT`
/// yet (and of keys a `CONNECT` leaves out): `verbose`, `pedantic` and `echo` are `true`.
/// [`ConnectInfo::merge_json`] decodes a `CONNECT` body with the reference's JSON rules; the
/// derived serde impls are plain and strict (used for encoding).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConnectInfo {
    /// Ask for `+OK` after every accepted op.
    pub verbose: bool,
    /// Ask for extra checks (subject validity on publish).
    pub pedantic: bool,
    /// The client requires TLS.
    pub tls_required: bool,
    /// Token credential.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_token: Option<String>,
    /// User name credential.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Password credential.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pass: Option<String>,
    /// Client name (shown in monitoring).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Client library language.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// Client library version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Protocol level: 0 original, 1 dynamic INFO updates.
    pub protocol: i64,
    /// Whether the client wants its own messages back (default true).
    pub echo: bool,
    /// Signed nonce (nkey / JWT auth).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sig: Option<String>,
    /// User JWT.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwt: Option<String>,
    /// Public NKEY.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nkey: Option<String>,
    /// Client understands headers (`HPUB`/`HMSG`).
    pub headers: bool,
    /// Client wants 503 status messages when a request has no responders.
    pub no_responders: bool,
    /// Account designation (obsolete; the reference answers `Authorization Violation`
    /// when it is non-empty).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// Ask for a new account (obsolete; the reference answers `Authorization Violation`
    /// when true).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub new_account: bool,
}

impl Default for ConnectInfo {
    fn default() -> Self {
        ConnectInfo {
            verbose: true,
            pedantic: true,
            tls_required: false,
            auth_token: None,
            user: None,
            pass: None,
            name: None,
            lang: None,
            version: None,
            protocol: 0,
            echo: true,
            sig: None,
            jwt: None,
            nkey: None,
            headers: false,
            no_responders: false,
            account: None,
            new_account: false,
        }
    }
}
