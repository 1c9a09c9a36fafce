//! A bounded per-connection cache of match results.

use std::hash::BuildHasher;
use std::sync::Arc;

use hashbrown::{DefaultHashBuilder, HashTable};

use super::result::MatchResult;
use super::shared::SharedSublist;

/// Cache hits are added to the shared counters in batches of this size (or at the next miss).
const HIT_REPORT_BATCH: u64 = 1024;

/// One cached subject.
struct CacheEntry<T> {
    /// The published subject.
    subject: Box<[u8]>,
    /// Its match result.
    result: Arc<MatchResult<T>>,
    /// Second-chance bit: set on a hit, cleared when the eviction hand passes.
    referenced: bool,
}

/// A bounded cache of match results for one connection. A hit takes no shared lock and does
/// not allocate; any insert or remove on the list (a generation change) empties it, so it never
/// returns a result older than the last completed change. When full, an entry is evicted with
/// the second-chance (CLOCK) policy.
pub struct MatchCache<T> {
    /// Identity of the list the entries came from.
    list_id: Option<u64>,
    /// The list generation every entry reflects.
    generation: u64,
    /// Maximum number of entries (0 disables caching).
    capacity: usize,
    /// Hasher for subjects.
    hasher: DefaultHashBuilder,
    /// Subject hash -> index into `entries`.
    index: HashTable<usize>,
    /// The cached entries.
    entries: Vec<CacheEntry<T>>,
    /// Position of the eviction hand in `entries`.
    hand: usize,
    /// Hits not yet added to the list's counters.
    unreported_hits: u64,
}

impl<T> std::fmt::Debug for MatchCache<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MatchCache")
            .field("len", &self.entries.len())
            .field("capacity", &self.capacity)
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

impl<T> Default for MatchCache<T> {
    /// A cache of [`MatchCache::DEFAULT_CAPACITY`] subjects.
    fn default() -> Self {
        Self::new(Self::DEFAULT_CAPACITY)
    }
}

impl<T> MatchCache<T> {
    /// A capacity suited to a typical connection.
    pub const DEFAULT_CAPACITY: usize = 1024;

    /// A cache holding at most `capacity` subjects (1024 is a reasonable default).
    pub fn new(capacity: usize) -> Self {
        MatchCache {
            list_id: None,
            generation: 0,
            capacity,
            hasher: DefaultHashBuilder::default(),
            index: HashTable::new(),
            entries: Vec::new(),
            hand: 0,
            unreported_hits: 0,
        }
    }

    /// Number of cached subjects.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Drops every entry, keeping the allocations.
    pub fn clear(&mut self) {
        self.index.clear();
        self.entries.clear();
        self.hand = 0;
    }

    /// Adds the hits counted so far to `list`'s statistics.
    pub fn report_hits(&mut self, list: &SharedSublist<T>) {
        if self.unreported_hits > 0 {
            list.add_cache_hits(self.unreported_hits);
            self.unreported_hits = 0;
        }
    }

    /// Index of the entry for `subject`, if cached.
    fn find(&self, hash: u64, subject: &[u8]) -> Option<usize> {
        let entries = &self.entries;
        self.index
            .find(hash, |&slot| {
                entries
                    .get(slot)
                    .is_some_and(|entry| &*entry.subject == subject)
            })
            .copied()
    }

    /// Stores a result, evicting an entry when full.
    fn store(&mut self, hash: u64, subject: &[u8], result: Arc<MatchResult<T>>) {
        if self.capacity == 0 {
            return;
        }
        let entry = CacheEntry {
            subject: subject.into(),
            result,
            referenced: false,
        };
        let slot = if self.entries.len() < self.capacity {
            self.entries.push(entry);
            self.entries.len() - 1
        } else {
            let Some(victim) = self.pick_victim() else {
                return;
            };
            let Some(old) = self.entries.get_mut(victim) else {
                return;
            };
            let old_hash = self.hasher.hash_one(&*old.subject);
            if let Ok(found) = self.index.find_entry(old_hash, |&slot| slot == victim) {
                found.remove();
            }
            *old = entry;
            victim
        };
        let (entries, hasher) = (&self.entries, &self.hasher);
        self.index.insert_unique(hash, slot, |&other| {
            entries
                .get(other)
                .map_or(0, |entry| hasher.hash_one(&*entry.subject))
        });
    }

    /// Advances the CLOCK hand to an entry without its second-chance bit, clearing bits on
    /// the way (at most one full turn plus one step).
    fn pick_victim(&mut self) -> Option<usize> {
        let len = self.entries.len();
        for _ in 0..=len {
            let slot = self.hand % len.max(1);
            self.hand = (slot + 1) % len.max(1);
            let entry = self.entries.get_mut(slot)?;
            if !entry.referenced {
                return Some(slot);
            }
            entry.referenced = false;
        }
        None
    }
}

impl<T: Clone + PartialEq> MatchCache<T> {
    /// Result for `subject`: from the cache if the list's generation is unchanged, else
    /// computed under the read lock and stored.
    pub fn get(&mut self, list: &SharedSublist<T>, subject: &[u8]) -> Arc<MatchResult<T>> {
        let generation = list.generation();
        if self.list_id != Some(list.id()) || self.generation != generation {
            self.clear();
            self.list_id = Some(list.id());
            self.generation = generation;
        }
        let hash = self.hasher.hash_one(subject);
        if let Some(slot) = self.find(hash, subject) {
            if let Some(entry) = self.entries.get_mut(slot) {
                entry.referenced = true;
                self.unreported_hits += 1;
                let result = Arc::clone(&entry.result);
                if self.unreported_hits >= HIT_REPORT_BATCH {
                    self.report_hits(list);
                }
                return result;
            }
        }
        self.report_hits(list);
        let (result, computed_generation) = list.matches_with_generation(subject);
        let result = Arc::new(result);
        // A change that landed after the generation check must not be mixed into entries
        // that reflect the older generation.
        if computed_generation == self.generation {
            self.store(hash, subject, Arc::clone(&result));
        }
        result
    }
}
