//! The JSON body of a system-account monitoring request (`$SYS.REQ.SERVER.PING.CONNZ`, ...):
//! which servers should answer (`server_name`, `host`, `cluster`, `tags`, `domain`) and the
//! options of the document asked for, with the reference's field names.

use engine::monitor::MonitorError;
use engine::monitor::{AccountzOptions, ConnState, ConnzOptions, RouteSubs, SortOpt, SubszOptions};
use serde::Deserialize;

/// Everything a request body may carry; each document reads its own fields.
#[derive(Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct RequestOptions {
    /// Only servers whose name contains this (equals it with `exact_match`).
    pub server_name: String,
    /// Only servers in a cluster whose name contains this.
    pub cluster: String,
    /// Only servers whose host contains this.
    pub host: String,
    /// Names and hosts must be equal rather than contain the filter.
    pub exact_match: bool,
    /// Only servers with all these tags (this server has none).
    pub tags: Vec<String>,
    /// Only servers of this JetStream domain (this server has none).
    pub domain: String,
    /// `/connz` `sort`.
    pub sort: String,
    /// `/connz` `auth`.
    pub auth: bool,
    /// `/connz` and `/subsz` `subs`.
    pub subscriptions: bool,
    /// `/connz` `subs=detail`.
    pub subscriptions_detail: bool,
    /// `offset`.
    pub offset: i64,
    /// `limit`.
    pub limit: i64,
    /// `/connz` `cid`.
    pub cid: u64,
    /// `/connz` `state` (0 open, 1 closed, 2 all).
    pub state: i64,
    /// `/connz` `user`.
    pub user: String,
    /// `/connz` `acc`.
    pub acc: String,
    /// `/connz` subject filter (needs `acc`).
    pub filter_subject: String,
    /// `/subsz` `test`.
    pub test: String,
    /// `/accountz` `acc`.
    pub account: String,
}

/// Why a request body could not be read; answered with code 400.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadRequest(String);

fn some(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

impl RequestOptions {
    /// Reads a request body (empty: no options).
    pub fn parse(payload: &[u8]) -> Result<RequestOptions, BadRequest> {
        if payload.iter().all(u8::is_ascii_whitespace) {
            return Ok(RequestOptions::default());
        }
        serde_json::from_slice(payload).map_err(|e| BadRequest(e.to_string()))
    }

    /// Whether the server named `name` on `host` in cluster `cluster` should answer.
    pub fn selects(&self, name: &str, host: &str, cluster: &str) -> bool {
        let matches = |value: &str, filter: &str| {
            filter.is_empty()
                || if self.exact_match {
                    value == filter
                } else {
                    value.contains(filter)
                }
        };
        matches(name, &self.server_name)
            && matches(host, &self.host)
            && (self.cluster.is_empty() || cluster.contains(self.cluster.as_str()))
            && self.tags.is_empty()
            && self.domain.is_empty()
    }

    /// `/connz` options; an unknown sort is the builder's error (code 500, as the reference).
    pub fn connz(&self) -> Result<ConnzOptions, MonitorError> {
        let sort = match self.sort.as_str() {
            "" => SortOpt::Cid,
            s => SortOpt::parse(s)?,
        };
        let state = match self.state {
            1 => ConnState::Closed,
            2 => ConnState::All,
            _ => ConnState::Open,
        };
        Ok(ConnzOptions {
            sort,
            auth: self.auth,
            subs: self.subscriptions,
            subs_detail: self.subscriptions_detail,
            offset: self.offset,
            limit: self.limit,
            cid: self.cid,
            state,
            user: some(&self.user),
            account: some(&self.acc),
            filter_subject: some(&self.filter_subject),
        })
    }

    /// How a `ROUTEZ` answer lists subscriptions (`subscriptions_detail` wins).
    pub fn routez(&self) -> RouteSubs {
        if self.subscriptions_detail {
            RouteSubs::Detail
        } else if self.subscriptions {
            RouteSubs::List
        } else {
            RouteSubs::Count
        }
    }

    /// `/subsz` options.
    pub fn subsz(&self) -> SubszOptions {
        SubszOptions {
            subs: self.subscriptions,
            offset: self.offset,
            limit: self.limit,
            test: some(&self.test),
        }
    }

    /// `/accountz` options.
    pub fn accountz(&self) -> AccountzOptions {
        AccountzOptions {
            account: some(&self.account),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_and_filters() {
        let o = RequestOptions::parse(
            br#"{"acc":"A","filter_subject":"s.>","state":2,"subscriptions":true,"x":1}"#,
        )
        .unwrap_or_default();
        let c = o.connz().unwrap_or_default();
        assert_eq!(c.account.as_deref(), Some("A"));
        assert_eq!(c.filter_subject.as_deref(), Some("s.>"));
        assert_eq!(c.state, ConnState::All);
        assert!(c.subs && !c.subs_detail);
        assert_eq!(
            RequestOptions::parse(b"").unwrap_or_default(),
            RequestOptions::default()
        );
        assert!(RequestOptions::parse(b"{\"limit\":\"x\"}").is_err());
        let by_name = RequestOptions {
            server_name: "node".into(),
            ..RequestOptions::default()
        };
        assert!(by_name.selects("node-1", "0.0.0.0", ""));
        let exact = RequestOptions {
            exact_match: true,
            ..by_name
        };
        assert!(!exact.selects("node-1", "0.0.0.0", ""));
        let tagged = RequestOptions {
            tags: vec!["a".into()],
            ..RequestOptions::default()
        };
        assert!(!tagged.selects("n", "h", "c"));
        let bad_sort = RequestOptions {
            sort: "bogus".into(),
            ..RequestOptions::default()
        };
        assert!(bad_sort.connz().is_err());
    }
}
