//! Reading the subscription index for monitoring.

use crate::server::Server;

/// One subscription as monitoring shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SubView {
    /// Owning connection.
    pub cid: u64,
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

/// Every live subscription, in the index's order. Holds the index's read lock while it
/// copies (bounded by the number of subscriptions).
pub(crate) fn all_subscriptions(server: &Server) -> Vec<SubView> {
    let list = server.sublist.read();
    let mut out = Vec::with_capacity(list.count());
    list.for_each(|subject, queue, sub| {
        out.push(SubView {
            cid: sub.client.cid,
            subject: text(subject),
            queue: queue.map(text),
            sid: text(&sub.sid),
            msgs: sub.delivered(),
        });
    });
    out
}
