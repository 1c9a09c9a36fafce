//! The system account's traffic: requests clients of the system account send to the server
//! (`$SYS.REQ.SERVER.PING`, `...PING.VARZ`, `$SYS.REQ.SERVER.<id>.CONNZ`, ...) and the
//! advisories the server publishes (`$SYS.ACCOUNT.<acc>.CONNECT`/`DISCONNECT`).
//!
//! The engine recognises requests and client lifecycle changes and hands them, as
//! [`SystemEvent`]s, to the [`SystemHandler`] the runtime installed: building the answers
//! needs process statistics and wall-clock time, which only the runtime has. The handler
//! answers through [`crate::Server::publish_internal`].

use bytes::Bytes;

use crate::client_info::{ClientSnapshot, ClosedClient};

/// Subject prefix of requests to the server.
pub const REQUEST_PREFIX: &str = "$SYS.REQ.SERVER.";

/// What a system request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SystemRequestKind {
    /// `STATSZ` (also plain `$SYS.REQ.SERVER.PING`).
    Statsz,
    /// `VARZ`.
    Varz,
    /// `CONNZ`.
    Connz,
    /// `SUBSZ`.
    Subsz,
    /// `ROUTEZ`.
    Routez,
    /// `GATEWAYZ`.
    Gatewayz,
    /// `LEAFZ`.
    Leafz,
    /// `ACCOUNTZ`.
    Accountz,
    /// `HEALTHZ`.
    Healthz,
    /// `IDZ`.
    Idz,
}

impl SystemRequestKind {
    /// Every kind this server answers.
    pub const ALL: [SystemRequestKind; 10] = [
        SystemRequestKind::Statsz,
        SystemRequestKind::Varz,
        SystemRequestKind::Connz,
        SystemRequestKind::Subsz,
        SystemRequestKind::Routez,
        SystemRequestKind::Gatewayz,
        SystemRequestKind::Leafz,
        SystemRequestKind::Accountz,
        SystemRequestKind::Healthz,
        SystemRequestKind::Idz,
    ];

    /// The last token of its request subjects (`VARZ`, ...).
    pub fn suffix(self) -> &'static str {
        use SystemRequestKind::*;
        match self {
            Statsz => "STATSZ",
            Varz => "VARZ",
            Connz => "CONNZ",
            Subsz => "SUBSZ",
            Routez => "ROUTEZ",
            Gatewayz => "GATEWAYZ",
            Leafz => "LEAFZ",
            Accountz => "ACCOUNTZ",
            Healthz => "HEALTHZ",
            Idz => "IDZ",
        }
    }

    fn from_suffix(s: &str) -> Option<SystemRequestKind> {
        use SystemRequestKind::*;
        Some(match s {
            "STATSZ" => Statsz,
            "VARZ" => Varz,
            "CONNZ" => Connz,
            "SUBSZ" => Subsz,
            "ROUTEZ" => Routez,
            "GATEWAYZ" => Gatewayz,
            "LEAFZ" => Leafz,
            "ACCOUNTZ" => Accountz,
            "HEALTHZ" => Healthz,
            "IDZ" => Idz,
            _ => return None,
        })
    }
}

/// Which request `subject` is, if it is one this server (id `server_id`) answers:
/// `$SYS.REQ.SERVER.PING[.<KIND>]` (every server answers) or
/// `$SYS.REQ.SERVER.<server_id>.<KIND>`.
pub fn parse_request(subject: &[u8], server_id: &str) -> Option<SystemRequestKind> {
    let s = std::str::from_utf8(subject).ok()?;
    let rest = s.strip_prefix(REQUEST_PREFIX)?;
    if rest == "PING" {
        return Some(SystemRequestKind::Statsz);
    }
    let (target, kind) = rest.split_once('.')?;
    if target == "PING" || target == server_id {
        SystemRequestKind::from_suffix(kind)
    } else {
        None
    }
}

/// The request subjects this server (id `server_id`) answers: `$SYS.REQ.SERVER.PING`, then
/// `$SYS.REQ.SERVER.PING.<KIND>` and `$SYS.REQ.SERVER.<server_id>.<KIND>` for every kind.
/// They are the system account's interest the server announces to its routes, as the
/// reference announces its internal subscriptions, so that peers forward these requests.
pub fn request_subjects(server_id: &str) -> Vec<String> {
    let mut out = vec![format!("{REQUEST_PREFIX}PING")];
    for target in ["PING", server_id] {
        for kind in SystemRequestKind::ALL {
            out.push(format!("{REQUEST_PREFIX}{target}.{}", kind.suffix()));
        }
    }
    out
}

/// A request from a client of the system account.
#[derive(Debug, Clone)]
pub struct SystemRequest {
    /// What it asks for.
    pub kind: SystemRequestKind,
    /// Where to send the answer (in the system account).
    pub reply: Bytes,
    /// The request body (options as JSON, maybe empty).
    pub payload: Bytes,
}

/// Something the system account hears about.
#[derive(Debug, Clone)]
pub enum SystemEvent {
    /// A request to answer.
    Request(SystemRequest),
    /// A client authenticated into `account`.
    ClientConnect {
        /// Its view at that moment.
        client: Box<ClientSnapshot>,
        /// Its account.
        account: String,
        /// Its user, if any.
        user: Option<String>,
    },
    /// A client left `account`.
    ClientDisconnect {
        /// Its last view and why it left.
        client: Box<ClosedClient>,
        /// Its account.
        account: String,
        /// Its user, if any.
        user: Option<String>,
    },
}

/// Receives the system account's events (installed by the runtime).
pub trait SystemHandler: Send + Sync + std::fmt::Debug {
    /// Handles one event. Called on the thread of the connection that caused it: keep it short.
    fn handle(&self, server: &crate::Server, event: SystemEvent);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_subjects() {
        use SystemRequestKind::*;
        assert_eq!(parse_request(b"$SYS.REQ.SERVER.PING", "NID"), Some(Statsz));
        assert_eq!(
            parse_request(b"$SYS.REQ.SERVER.PING.VARZ", "NID"),
            Some(Varz)
        );
        assert_eq!(
            parse_request(b"$SYS.REQ.SERVER.NID.CONNZ", "NID"),
            Some(Connz)
        );
        assert_eq!(parse_request(b"$SYS.REQ.SERVER.OTHER.CONNZ", "NID"), None);
        assert_eq!(parse_request(b"$SYS.REQ.SERVER.PING.NOPE", "NID"), None);
        assert_eq!(parse_request(b"foo", "NID"), None);
    }

    #[test]
    fn every_announced_subject_is_answered() {
        let subjects = super::request_subjects("NID");
        assert_eq!(subjects.len(), 21);
        for s in &subjects {
            assert!(parse_request(s.as_bytes(), "NID").is_some(), "{s}");
        }
        for kind in SystemRequestKind::ALL {
            assert_eq!(SystemRequestKind::from_suffix(kind.suffix()), Some(kind));
        }
    }
}
