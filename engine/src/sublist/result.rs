//! What a lookup in the subscription index returns.

use bytes::Bytes;

/// The subscriptions interested in one published subject.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatchResult<T> {
    /// Subscriptions without a queue group; each one gets the message. An item subscribed to
    /// several matching subjects appears once per subscription.
    pub plain: Vec<T>,
    /// Queue groups, merged by name across all matching subjects; one member of each group
    /// gets the message.
    pub queues: Vec<QueueGroup<T>>,
}

/// The members of one queue group that match a subject.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueGroup<T> {
    /// The queue group name.
    pub name: Bytes,
    /// The matching subscriptions in the group (never empty in a result).
    pub members: Vec<T>,
}

impl<T> Default for MatchResult<T> {
    fn default() -> Self {
        MatchResult {
            plain: Vec::new(),
            queues: Vec::new(),
        }
    }
}

impl<T> MatchResult<T> {
    /// An empty result.
    pub fn new() -> Self {
        Self::default()
    }

    /// True when no subscription matched.
    pub fn is_empty(&self) -> bool {
        self.plain.is_empty() && self.queues.is_empty()
    }

    /// Total number of matching subscriptions (plain plus all queue members).
    pub fn len(&self) -> usize {
        self.plain.len() + self.queues.iter().map(|q| q.members.len()).sum::<usize>()
    }

    /// Number of deliveries a message to this subject makes: every plain subscription plus
    /// one per queue group.
    pub fn fanout(&self) -> usize {
        self.plain.len() + self.queues.len()
    }

    /// Empties the result, keeping its allocations for reuse.
    pub fn clear(&mut self) {
        self.plain.clear();
        self.queues.clear();
    }
}
