//! Query-string decoding with the reference's rules and error texts.

use engine::monitor::{
    AccountzOptions, ConnState, ConnzOptions, HealthzOptions, RouteSubs, SortOpt, SubszOptions,
};

/// A query parameter that does not decode; `Display` is the reference's `400` body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// Not a boolean.
    #[error(
        "Error decoding boolean for '{key}': strconv.ParseBool: parsing {value:?}: invalid syntax"
    )]
    Bool {
        /// Parameter.
        key: &'static str,
        /// Value given.
        value: String,
    },
    /// Not an integer (or out of range).
    #[error("Error decoding int for '{key}': strconv.Atoi: parsing {value:?}: {why}")]
    Int {
        /// Parameter.
        key: &'static str,
        /// Value given.
        value: String,
        /// `invalid syntax` or `value out of range`.
        why: &'static str,
    },
    /// Not an unsigned integer.
    #[error("Error decoding uint64 for '{key}': strconv.ParseUint: parsing {value:?}: {why}")]
    Uint {
        /// Parameter.
        key: &'static str,
        /// Value given.
        value: String,
        /// `invalid syntax` or `value out of range`.
        why: &'static str,
    },
    /// `state=` is not open, closed or all.
    #[error("Error decoding state for {0}")]
    State(String),
    /// A check of the engine (bad sort, bad test subject, unknown account).
    #[error(transparent)]
    Monitor(#[from] engine::monitor::MonitorError),
}

/// Decoded `key=value` pairs of a query string.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

/// Most parameters read from one query string (the rest are ignored).
const MAX_PAIRS: usize = 64;

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-decodes a query component (`+` is a space).
fn unescape(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Go's `strconv.ParseBool`.
fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

fn int_why(e: &std::num::ParseIntError) -> &'static str {
    use std::num::IntErrorKind::{NegOverflow, PosOverflow};
    match e.kind() {
        PosOverflow | NegOverflow => "value out of range",
        _ => "invalid syntax",
    }
}

impl Query {
    /// Parses the part of a URL after `?`.
    pub fn parse(raw: &str) -> Query {
        let pairs = raw
            .split(['&', ';'])
            .filter(|p| !p.is_empty())
            .take(MAX_PAIRS)
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (unescape(k), unescape(v)),
                None => (unescape(p), String::new()),
            })
            .collect();
        Query { pairs }
    }

    /// The first value of `key`, if given and not empty.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// A boolean parameter (absent or empty: false).
    pub fn bool(&self, key: &'static str) -> Result<bool, QueryError> {
        match self.get(key) {
            None => Ok(false),
            Some(v) => parse_bool(v).ok_or_else(|| QueryError::Bool {
                key,
                value: v.to_string(),
            }),
        }
    }

    /// An integer parameter (absent or empty: 0).
    pub fn int(&self, key: &'static str) -> Result<i64, QueryError> {
        match self.get(key) {
            None => Ok(0),
            Some(v) => v.parse::<i64>().map_err(|e| QueryError::Int {
                key,
                value: v.to_string(),
                why: int_why(&e),
            }),
        }
    }

    /// An unsigned parameter (absent or empty: 0).
    pub fn uint(&self, key: &'static str) -> Result<u64, QueryError> {
        match self.get(key) {
            None => Ok(0),
            Some(v) => {
                if v.starts_with('+') {
                    Err(QueryError::Uint {
                        key,
                        value: v.to_string(),
                        why: "invalid syntax",
                    })
                } else {
                    v.parse::<u64>().map_err(|e| QueryError::Uint {
                        key,
                        value: v.to_string(),
                        why: int_why(&e),
                    })
                }
            }
        }
    }

    fn string(&self, key: &str) -> Option<String> {
        self.get(key).map(str::to_string)
    }

    /// `/connz` options.
    pub fn connz(&self) -> Result<ConnzOptions, QueryError> {
        let sort = match self.get("sort") {
            None => SortOpt::Cid,
            Some(s) => SortOpt::parse(s)?,
        };
        let auth = self.bool("auth")?;
        let (subs, subs_detail) = match self.get("subs") {
            Some(v) if v.eq_ignore_ascii_case("detail") => (false, true),
            _ => (self.bool("subs")?, false),
        };
        let offset = self.int("offset")?;
        let limit = self.int("limit")?;
        let cid = self.uint("cid")?;
        let state = match self.get("state").map(str::to_ascii_lowercase).as_deref() {
            None | Some("open") => ConnState::Open,
            Some("closed") => ConnState::Closed,
            Some("all") => ConnState::All,
            Some(_) => {
                return Err(QueryError::State(
                    self.get("state").unwrap_or_default().to_string(),
                ))
            }
        };
        Ok(ConnzOptions {
            sort,
            auth,
            subs,
            subs_detail,
            offset,
            limit,
            cid,
            state,
            user: self.string("user"),
            account: self.string("acc"),
            // Over HTTP the reference reads no subject filter.
            filter_subject: None,
        })
    }

    /// How `/routez` lists subscriptions: `subs=detail` (any case) details them, else `subs`
    /// is a boolean as the reference parses it.
    pub fn route_subs(&self) -> Result<RouteSubs, QueryError> {
        Ok(match self.get("subs") {
            Some(v) if v.eq_ignore_ascii_case("detail") => RouteSubs::Detail,
            _ if self.bool("subs")? => RouteSubs::List,
            _ => RouteSubs::Count,
        })
    }

    /// `/subsz` options.
    pub fn subsz(&self) -> Result<SubszOptions, QueryError> {
        Ok(SubszOptions {
            subs: self.bool("subs")?,
            offset: self.int("offset")?,
            limit: self.int("limit")?,
            test: self.string("test"),
        })
    }

    /// `/accountz` options.
    pub fn accountz(&self) -> AccountzOptions {
        AccountzOptions {
            account: self.string("acc"),
        }
    }

    /// `/healthz` options.
    pub fn healthz(&self) -> Result<HealthzOptions, QueryError> {
        Ok(HealthzOptions {
            js_enabled_only: self.bool("js-enabled-only")?,
            js_server_only: self.bool("js-server-only")?,
            js_meta_only: self.bool("js-meta-only")?,
            account: self.string("account"),
            stream: self.string("stream"),
            consumer: self.string("consumer"),
            details: self.bool("details")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_and_takes_first_value() {
        let q = Query::parse("acc=%24G&x=a+b&acc=other&flag");
        assert_eq!(q.get("acc"), Some("$G"));
        assert_eq!(q.get("x"), Some("a b"));
        assert_eq!(q.get("flag"), None);
        assert_eq!(Query::parse("a=%").get("a"), Some("%"));
        assert_eq!(Query::parse("a=%4").get("a"), Some("%4"));
    }

    #[test]
    fn reference_error_texts() {
        let e = Query::parse("limit=abc").connz().unwrap_err();
        assert_eq!(
            e.to_string(),
            "Error decoding int for 'limit': strconv.Atoi: parsing \"abc\": invalid syntax"
        );
        let e = Query::parse("limit=99999999999999999999")
            .connz()
            .unwrap_err();
        assert!(e.to_string().ends_with("value out of range"), "{e}");
        let e = Query::parse("subs=xyz").connz().unwrap_err();
        assert_eq!(
            e.to_string(),
            "Error decoding boolean for 'subs': strconv.ParseBool: parsing \"xyz\": invalid syntax"
        );
        let e = Query::parse("cid=-1").connz().unwrap_err();
        assert_eq!(
            e.to_string(),
            "Error decoding uint64 for 'cid': strconv.ParseUint: parsing \"-1\": invalid syntax"
        );
        let e = Query::parse("state=bogus").connz().unwrap_err();
        assert_eq!(e.to_string(), "Error decoding state for bogus");
        let e = Query::parse("sort=bogus").connz().unwrap_err();
        assert_eq!(e.to_string(), "invalid sorting option: bogus");
        assert_eq!(
            Query::parse("subs=DeTail").route_subs().unwrap(),
            RouteSubs::Detail
        );
        assert_eq!(
            Query::parse("subs=1").route_subs().unwrap(),
            RouteSubs::List
        );
        assert_eq!(Query::parse("").route_subs().unwrap(), RouteSubs::Count);
        assert!(Query::parse("subs=xyz").route_subs().is_err());
        let e = Query::parse("subs=detail").subsz().unwrap_err();
        assert!(e.to_string().contains("'subs'"), "{e}");
    }

    #[test]
    fn connz_options() {
        let o = Query::parse("subs=DETAIL&state=ALL&sort=bytes_to&cid=3&offset=-1")
            .connz()
            .unwrap_or_default();
        assert!(o.subs_detail && !o.subs);
        assert_eq!(o.state, ConnState::All);
        assert_eq!(o.sort, SortOpt::BytesTo);
        assert_eq!((o.cid, o.offset), (3, -1));
        let o = Query::parse("subs=1&sort=").connz().unwrap_or_default();
        assert!(o.subs && !o.subs_detail);
        assert_eq!(o.sort, SortOpt::Cid);
    }
}
