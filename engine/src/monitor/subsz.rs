//! `/subsz`: subscription index statistics and, on request, the subscriptions.

use serde::Serialize;

use super::connz::SubDetail;
use super::json::go_float;
use super::subs::all_subscriptions;
use super::time::rfc3339;
use super::{Context, MonitorError, DEFAULT_LIST_SIZE};
use crate::account::Account;
use crate::server::Server;
use crate::subject::{is_valid_publish_subject, subject_matches};
use crate::sublist::SublistStats;

/// Counters of a subscription index (`/subsz`, `account_detail.sublist_stats`).
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct SublistStatz {
    /// Stored subscriptions.
    pub num_subscriptions: usize,
    /// Cached match results (caches here are per connection: 0).
    pub num_cache: u64,
    /// Inserts so far.
    pub num_inserts: u64,
    /// Removes so far.
    pub num_removes: u64,
    /// Lookups so far.
    pub num_matches: u64,
    /// Share of lookups answered from a cache.
    #[serde(serialize_with = "go_float")]
    pub cache_hit_rate: f64,
    /// Largest fan-out of a cached result.
    pub max_fanout: u64,
    /// Average fan-out of cached results.
    #[serde(serialize_with = "go_float")]
    pub avg_fanout: f64,
}

impl SublistStatz {
    /// The statistics of every account's index together (`/subsz`).
    pub fn of(server: &Server) -> SublistStatz {
        let mut total = SublistStats::default();
        for account in server.accounts() {
            let st = account.sublist.stats();
            total.subscriptions += st.subscriptions;
            total.inserts += st.inserts;
            total.removes += st.removes;
            total.matches += st.matches;
            total.cache_hits += st.cache_hits;
        }
        SublistStatz::from_stats(&total)
    }

    /// The statistics of one account's index.
    pub fn of_account(account: &Account) -> SublistStatz {
        SublistStatz::from_stats(&account.sublist.stats())
    }

    fn from_stats(st: &SublistStats) -> SublistStatz {
        let rate = if st.matches == 0 {
            0.0
        } else {
            // Precision loss is irrelevant for a ratio of counters.
            st.cache_hits as f64 / st.matches as f64
        };
        SublistStatz {
            num_subscriptions: st.subscriptions,
            num_cache: 0,
            num_inserts: st.inserts,
            num_removes: st.removes,
            num_matches: st.matches,
            cache_hit_rate: rate,
            max_fanout: 0,
            avg_fanout: 0.0,
        }
    }
}

/// Options of `/subsz`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubszOptions {
    /// List the subscriptions (`subs=1`).
    pub subs: bool,
    /// First entry to show.
    pub offset: i64,
    /// Most entries to show (0 or negative: 1024).
    pub limit: i64,
    /// Only subscriptions a message on this subject would reach (`test=`).
    pub test: Option<String>,
}

/// The `/subsz` document.
#[derive(Debug, Clone, Serialize)]
pub struct Subsz {
    /// Server id.
    pub server_id: String,
    /// Time of the request.
    pub now: String,
    /// Index counters.
    #[serde(flatten)]
    pub stats: SublistStatz,
    /// Matching subscriptions before paging (0 unless listed).
    pub total: usize,
    /// Offset used.
    pub offset: usize,
    /// Limit used.
    pub limit: usize,
    /// The page, when asked for and not empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscriptions_list: Option<Vec<SubDetail>>,
}

/// Builds `/subsz`.
pub fn subsz(server: &Server, opts: &SubszOptions, ctx: &Context) -> Result<Subsz, MonitorError> {
    let test = opts.test.as_deref().filter(|t| !t.is_empty());
    if let Some(t) = test {
        if !is_valid_publish_subject(t.as_bytes()) {
            return Err(MonitorError::InvalidTestSubject(t.to_string()));
        }
    }
    let offset = usize::try_from(opts.offset).unwrap_or(0);
    let limit = usize::try_from(opts.limit)
        .ok()
        .filter(|l| *l > 0)
        .unwrap_or(DEFAULT_LIST_SIZE);
    let stats = SublistStatz::of(server);
    let mut total = 0;
    let mut list = None;
    if opts.subs {
        let subs: Vec<_> = all_subscriptions(server)
            .into_iter()
            .filter(|s| match test {
                None => true,
                Some(t) => subject_matches(s.subject.as_bytes(), t.as_bytes()),
            })
            .collect();
        total = subs.len();
        let page: Vec<SubDetail> = subs
            .into_iter()
            .skip(offset)
            .take(limit)
            .map(|v| SubDetail::from_view(v, true))
            .collect();
        list = (!page.is_empty()).then_some(page);
    }
    Ok(Subsz {
        server_id: server.id().to_string(),
        now: rfc3339(ctx.clock.wall),
        stats,
        total,
        offset,
        limit,
        subscriptions_list: list,
    })
}
