//! The subscription index shared between connection tasks.

use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::RwLock;

use super::list::Sublist;
use super::result::MatchResult;
use super::SublistError;

/// Source of [`SharedSublist`] identities, so a [`super::MatchCache`] notices when it is used
/// with a different list.
static NEXT_LIST_ID: AtomicU64 = AtomicU64::new(1);

/// A [`Sublist`] behind a read/write lock, safe to share between threads. Its generation is
/// mirrored in an atomic so that caches can validate entries without taking the lock.
pub struct SharedSublist<T> {
    /// Unique identity of this list.
    id: u64,
    /// The index itself.
    list: RwLock<Sublist<T>>,
    /// Copy of the list's generation, stored while the write lock is still held.
    generation: AtomicU64,
    /// Matches computed against the trie (direct calls and cache misses).
    computed_matches: AtomicU64,
    /// Matches answered from a [`super::MatchCache`].
    cache_hits: AtomicU64,
}

/// Counters for monitoring (the reference's `/subsz`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SublistStats {
    /// Number of stored subscriptions (`num_subscriptions`).
    pub subscriptions: usize,
    /// Successful inserts (`num_inserts`).
    pub inserts: u64,
    /// Successful removes (`num_removes`).
    pub removes: u64,
    /// All lookups, cached or not (`num_matches`).
    pub matches: u64,
    /// Lookups answered from a cache; `cache_hits / matches` is `cache_hit_rate`. Hits are
    /// reported by caches in batches, so this may lag slightly.
    pub cache_hits: u64,
}

impl<T> std::fmt::Debug for SharedSublist<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedSublist")
            .field("id", &self.id)
            .field("generation", &self.generation.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl<T> Default for SharedSublist<T> {
    fn default() -> Self {
        SharedSublist {
            id: NEXT_LIST_ID.fetch_add(1, Ordering::Relaxed),
            list: RwLock::new(Sublist::default()),
            generation: AtomicU64::new(0),
            computed_matches: AtomicU64::new(0),
            cache_hits: AtomicU64::new(0),
        }
    }
}

impl<T: Clone + PartialEq> SharedSublist<T> {
    /// An empty shared index.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a subscription (see [`Sublist::insert`]); the new generation is visible before
    /// this returns.
    pub fn insert(
        &self,
        subject: &[u8],
        queue: Option<&[u8]>,
        item: T,
    ) -> Result<(), SublistError> {
        let mut list = self.list.write();
        list.insert(subject, queue, item)?;
        self.generation.store(list.generation(), Ordering::Release);
        Ok(())
    }

    /// Removes a subscription (see [`Sublist::remove`]); the new generation is visible before
    /// this returns.
    pub fn remove(&self, subject: &[u8], queue: Option<&[u8]>, item: &T) -> bool {
        let mut list = self.list.write();
        let removed = list.remove(subject, queue, item);
        if removed {
            self.generation.store(list.generation(), Ordering::Release);
        }
        removed
    }

    /// The subscriptions matching `subject`, computed under the read lock (no cache).
    pub fn matches(&self, subject: &[u8]) -> Arc<MatchResult<T>> {
        Arc::new(self.matches_with_generation(subject).0)
    }

    /// The match for `subject` and the generation it reflects, read under one lock.
    pub(super) fn matches_with_generation(&self, subject: &[u8]) -> (MatchResult<T>, u64) {
        let list = self.list.read();
        let result = list.matches(subject);
        let generation = list.generation();
        drop(list);
        self.computed_matches.fetch_add(1, Ordering::Relaxed);
        (result, generation)
    }

    /// The current generation, read without locking.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Number of stored subscriptions.
    pub fn count(&self) -> usize {
        self.list.read().count()
    }

    /// Read access to the underlying list (for monitoring: `for_each`, counters). Holding it
    /// blocks inserts and removes.
    pub fn read(&self) -> impl Deref<Target = Sublist<T>> + '_ {
        self.list.read()
    }

    /// Monitoring counters.
    pub fn stats(&self) -> SublistStats {
        let list = self.list.read();
        let cache_hits = self.cache_hits.load(Ordering::Relaxed);
        SublistStats {
            subscriptions: list.count(),
            inserts: list.inserts(),
            removes: list.removes(),
            matches: self.computed_matches.load(Ordering::Relaxed) + cache_hits,
            cache_hits,
        }
    }
}

impl<T> SharedSublist<T> {
    /// The identity of this list (unique within the process).
    pub(super) fn id(&self) -> u64 {
        self.id
    }

    /// Adds cache hits counted by a cache.
    pub(super) fn add_cache_hits(&self, hits: u64) {
        self.cache_hits.fetch_add(hits, Ordering::Relaxed);
    }
}
