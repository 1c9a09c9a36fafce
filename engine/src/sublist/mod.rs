//! The subscription index: a trie of subject tokens mapping published subjects to the
//! subscriptions interested in them, with the reference server's wildcard and queue-group
//! semantics.
//!
//! - [`Sublist`]: the single-threaded trie.
//! - [`SharedSublist`]: a `Sublist` behind a read/write lock, with a lock-free generation
//!   counter that changes on every insert and remove.
//! - [`MatchCache`]: a bounded per-connection cache of match results, validated against that
//!   generation, so that a cache hit takes no shared lock and does not allocate.

mod cache;
mod list;
mod node;
mod result;
mod shared;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod throughput;

pub use cache::MatchCache;
pub use list::Sublist;
pub use result::{MatchResult, QueueGroup};
pub use shared::{SharedSublist, SublistStats};

/// Why a subscription could not be inserted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SublistError {
    /// The subject is empty, has an empty token, contains whitespace, or has `>` before the
    /// last token. The reference answers `-ERR 'Invalid Subject'`.
    #[error("invalid subject")]
    InvalidSubject,
    /// The queue group name is empty or contains whitespace.
    #[error("invalid queue name")]
    InvalidQueueName,
}
