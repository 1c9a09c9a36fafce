//! The single-threaded subscription trie.

use smallvec::SmallVec;

use super::node::{Edge, Node};
use super::result::MatchResult;
use super::SublistError;
use crate::subject::{is_valid_queue_name, is_valid_subscribe_subject, tokens, TOKEN_SEPARATOR};

/// A trie-based subscription index, generic over the stored item (for example a
/// connection/sid pair). Not thread-safe by itself; see [`super::SharedSublist`].
///
/// Each node has literal-token children, one `*` child and one `>` child; a subscription is
/// stored at the node its subject ends at. Empty nodes are pruned on removal.
pub struct Sublist<T> {
    /// The node before the first token.
    root: Node<T>,
    /// Number of stored subscriptions.
    count: usize,
    /// Number of nodes below the root.
    nodes: usize,
    /// Bumped on every successful insert and remove.
    generation: u64,
    /// Successful inserts since creation.
    inserts: u64,
    /// Successful removes since creation.
    removes: u64,
}

impl<T> Default for Sublist<T> {
    fn default() -> Self {
        Sublist {
            root: Node::default(),
            count: 0,
            nodes: 0,
            generation: 0,
            inserts: 0,
            removes: 0,
        }
    }
}

impl<T> std::fmt::Debug for Sublist<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sublist")
            .field("count", &self.count)
            .field("nodes", &self.nodes)
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

impl<T> Drop for Sublist<T> {
    fn drop(&mut self) {
        std::mem::take(&mut self.root).dispose();
    }
}

/// One level of a lookup in progress (a frame of the recursion the reference uses).
struct Frame<'a, T> {
    /// The node whose children are matched against the next token (`None`: path ended).
    level: Option<&'a Node<T>>,
    /// The subject part not yet consumed (`None`: all consumed).
    rest: Option<&'a [u8]>,
    /// The literal child matched by the last token consumed.
    literal: Option<&'a Node<T>>,
    /// The `*` child at the level of the last token consumed.
    single: Option<&'a Node<T>>,
}

/// Splits the first token off a subject: `(token, rest)`, where `rest` is `None` once the
/// last token has been taken.
#[inline]
fn split_first_token(subject: &[u8]) -> (&[u8], Option<&[u8]>) {
    match subject.iter().position(|&b| b == TOKEN_SEPARATOR) {
        Some(dot) => (&subject[..dot], subject.get(dot + 1..)),
        None => (subject, None),
    }
}

/// The node reached from `node` by following subscription `tokens`, if it exists.
fn descend_mut<'a, 'b, T>(
    mut node: &'a mut Node<T>,
    tokens: impl Iterator<Item = &'b [u8]>,
) -> Option<&'a mut Node<T>> {
    for token in tokens {
        node = node.child_mut(Edge::of(token))?;
    }
    Some(node)
}

impl<T: Clone + PartialEq> Sublist<T> {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a subscription of `item` to `subject` (which may contain wildcards), in queue
    /// group `queue` if given. Subscribing the same item twice stores it twice.
    pub fn insert(
        &mut self,
        subject: &[u8],
        queue: Option<&[u8]>,
        item: T,
    ) -> Result<(), SublistError> {
        if !is_valid_subscribe_subject(subject) {
            return Err(SublistError::InvalidSubject);
        }
        if queue.is_some_and(|name| !is_valid_queue_name(name)) {
            return Err(SublistError::InvalidQueueName);
        }
        let mut node = &mut self.root;
        for token in tokens(subject) {
            let (child, created) = node.child_or_insert(Edge::of(token));
            self.nodes += usize::from(created);
            node = child;
        }
        node.subscribers.add(queue, item);
        self.count += 1;
        self.inserts += 1;
        self.generation += 1;
        Ok(())
    }

    /// Removes one subscription of `item` to `subject` in `queue`, pruning nodes left empty.
    /// Returns false (and changes nothing) when there is no such subscription.
    pub fn remove(&mut self, subject: &[u8], queue: Option<&[u8]>, item: &T) -> bool {
        if !is_valid_subscribe_subject(subject) {
            return false;
        }
        // First pass (read-only): find the subscription and the shallowest node from which
        // the path below holds nothing but this subscription.
        let mut keep_depth = 0;
        let mut depth = 0;
        let mut node = &self.root;
        for token in tokens(subject) {
            if depth == 0 || !node.subscribers.is_empty() || node.child_count() > 1 {
                keep_depth = depth;
            }
            let Some(child) = node.child(Edge::of(token)) else {
                return false;
            };
            node = child;
            depth += 1;
        }
        if !node.subscribers.contains(queue, item) {
            return false;
        }
        let leaves_empty_node = node.child_count() == 0 && node.subscribers.len() == 1;

        // Second pass: remove the subscription.
        let removed = descend_mut(&mut self.root, tokens(subject))
            .is_some_and(|node| node.subscribers.remove(queue, item));
        if !removed {
            return false;
        }

        // Third pass: cut off the chain of nodes that became empty.
        if leaves_empty_node {
            let mut path = tokens(subject);
            let parent = descend_mut(&mut self.root, path.by_ref().take(keep_depth));
            if let (Some(parent), Some(token)) = (parent, path.next()) {
                if let Some(subtree) = parent.remove_child(Edge::of(token)) {
                    self.nodes = self.nodes.saturating_sub(depth - keep_depth);
                    subtree.dispose();
                }
            }
        }
        self.count -= 1;
        self.removes += 1;
        self.generation += 1;
        true
    }

    /// The subscriptions matching the literal `subject`. A subject with an empty token
    /// matches nothing; wildcard characters in it are ordinary tokens.
    pub fn matches(&self, subject: &[u8]) -> MatchResult<T> {
        let mut result = MatchResult::default();
        self.matches_into(subject, &mut result);
        result
    }

    /// Like [`Sublist::matches`], appending into `result` (clear it first to reuse its
    /// allocations).
    pub fn matches_into(&self, subject: &[u8], result: &mut MatchResult<T>) {
        if tokens(subject).any(<[u8]>::is_empty) {
            return;
        }
        // Results come in the reference's order, which clients can observe when several of
        // their subscriptions match one message: at each level the `>` child first, then the
        // whole `*` subtree (depth first), then the literal path; at the last level the
        // literal node before the `*` node. An explicit stack of frames stands in for
        // recursion, so very deep subjects cannot overflow the thread's stack.
        let mut stack: SmallVec<[Frame<'_, T>; 8]> = SmallVec::new();
        stack.push(Frame {
            level: Some(&self.root),
            rest: Some(subject),
            literal: None,
            single: None,
        });
        while let Some(top) = stack.last_mut() {
            let Some(remaining) = top.rest else {
                // Every token consumed on this path.
                if let Some(literal) = top.literal {
                    literal.subscribers.append_to(result);
                }
                if let Some(single) = top.single {
                    single.subscribers.append_to(result);
                }
                stack.pop();
                continue;
            };
            let Some(level) = top.level else {
                // The literal path ended before the subject did.
                stack.pop();
                continue;
            };
            let (token, next) = split_first_token(remaining);
            if let Some(full) = level.full_wildcard_child() {
                full.subscribers.append_to(result);
            }
            let single = level.single_wildcard_child();
            let literal = level.literal_child(token);
            top.single = single;
            top.literal = literal;
            top.level = literal;
            top.rest = next;
            if let (Some(single), Some(next)) = (single, next) {
                stack.push(Frame {
                    level: Some(single),
                    rest: Some(next),
                    literal: None,
                    single: None,
                });
            }
        }
    }

    /// Number of stored subscriptions.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Number of trie nodes below the root (0 when empty); a measure of memory use.
    pub fn node_count(&self) -> usize {
        self.nodes
    }

    /// A number that changes on every successful insert and remove.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Successful inserts since creation (the reference's `num_inserts`).
    pub fn inserts(&self) -> u64 {
        self.inserts
    }

    /// Successful removes since creation (the reference's `num_removes`).
    pub fn removes(&self) -> u64 {
        self.removes
    }

    /// Calls `f(subject, queue, item)` for every subscription, in no particular order.
    pub fn for_each(&self, mut f: impl FnMut(&[u8], Option<&[u8]>, &T)) {
        // Depth-first without recursion: each entry is a node, the length of its parent's
        // subject in `subject`, and the token leading to it.
        let mut subject: Vec<u8> = Vec::new();
        let mut pending: Vec<(&Node<T>, usize, &[u8])> = vec![(&self.root, 0, &[][..])];
        while let Some((node, parent_len, token)) = pending.pop() {
            subject.truncate(parent_len);
            if !token.is_empty() {
                if parent_len > 0 {
                    subject.push(TOKEN_SEPARATOR);
                }
                subject.extend_from_slice(token);
            }
            node.subscribers.for_each(&subject, &mut f);
            let len = subject.len();
            pending.extend(node.children().map(|(token, child)| (child, len, token)));
        }
    }

    /// Counts the nodes below the root by walking the trie (test check of `nodes`).
    #[cfg(test)]
    pub(super) fn walk_node_count(&self) -> usize {
        self.root.subtree_size() - 1
    }
}
