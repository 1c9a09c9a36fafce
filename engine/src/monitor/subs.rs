//! Reading the subscription index for monitoring.

use crate::client_info::ClosedSub;
use crate::server::Server;

/// One subscription as monitoring shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SubView {
    /// Owning connection.
    pub cid: u64,
    /// Account whose index holds it.
    pub account: String,
    /// Subject filter.
    pub subject: String,
    /// Queue group.
    pub queue: Option<String>,
    /// Subscription id.
    pub sid: String,
    /// Messages delivered to it.
    pub msgs: u64,
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

impl SubView {
    /// A subscription that `cid` held when it closed.
    pub(crate) fn closed(cid: u64, s: &ClosedSub) -> SubView {
        SubView {
            cid,
            account: s.account.clone(),
            subject: s.subject.clone(),
            queue: s.queue.clone(),
            sid: s.sid.clone(),
            msgs: s.msgs,
        }
    }
}

/// Every live subscription of every account, each account's in its index's order. Holds
/// one index's read lock at a time while it copies (bounded by its subscriptions).
pub(crate) fn all_subscriptions(server: &Server) -> Vec<SubView> {
    let mut accounts = server.accounts();
    accounts.sort_by(|a, b| a.name.cmp(&b.name));
    let mut out = Vec::new();
    for account in accounts {
        let list = account.sublist.read();
        out.reserve(list.count());
        list.for_each(|subject, queue, sub| {
            out.push(SubView {
                cid: sub.client.cid,
                account: sub.account.name.clone(),
                subject: text(subject),
                queue: queue.map(text),
                sid: text(&sub.sid),
                msgs: sub.delivered(),
            });
        });
    }
    out
}

/// Whether some subject matches both filters (each may hold `*` and `>` wildcards).
pub(crate) fn subjects_collide(a: &str, b: &str) -> bool {
    let (a, b): (Vec<&str>, Vec<&str>) = (a.split('.').collect(), b.split('.').collect());
    for i in 0.. {
        let (Some(ta), Some(tb)) = (a.get(i), b.get(i)) else {
            return a.len() == b.len();
        };
        if *ta == ">" || *tb == ">" {
            return true;
        }
        if *ta != "*" && *tb != "*" && ta != tb {
            return false;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::subjects_collide;

    #[test]
    fn collisions() {
        for (a, b, want) in [
            ("foo.bar", "foo.bar", true),
            ("foo.*", "foo.bar", true),
            ("foo.>", "foo.bar.baz", true),
            ("foo.>", "foo", false),
            ("*.bar", "foo.*", true),
            ("foo.bar", "foo.baz", false),
            ("foo.*", "foo.bar.baz", false),
            (">", "a.b.c", true),
            ("a.*.c", "a.b.d", false),
        ] {
            assert_eq!(subjects_collide(a, b), want, "{a} {b}");
            assert_eq!(subjects_collide(b, a), want, "{b} {a}");
        }
    }
}
