//! Trie nodes of the subscription index: children per token kind and the subscribers that end
//! at a node.

use bytes::Bytes;
use hashbrown::HashMap;

use super::result::{MatchResult, QueueGroup};
use crate::subject::{FULL_WILDCARD, SINGLE_WILDCARD};

/// Number of literal children kept in a plain vector (linear search) before switching to a
/// hash map. Measured with the `sublist_wide_node_lookup` test: a linear scan costs about the
/// same as hashing up to ~8 short tokens and grows slower past that (about 2x at 32), while
/// the map's lookup stays flat; small nodes stay compact.
const LIST_TO_MAP_THRESHOLD: usize = 8;

/// How one subject token selects a child of a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Edge<'a> {
    /// An ordinary token, compared byte for byte.
    Literal(&'a [u8]),
    /// The whole-token `*` wildcard.
    SingleWildcard,
    /// The whole-token `>` wildcard.
    FullWildcard,
}

impl<'a> Edge<'a> {
    /// Classifies a subscription token.
    pub(super) fn of(token: &'a [u8]) -> Self {
        match token {
            [SINGLE_WILDCARD] => Edge::SingleWildcard,
            [FULL_WILDCARD] => Edge::FullWildcard,
            literal => Edge::Literal(literal),
        }
    }
}

/// Literal children of a node: a small vector while few, a hash map past a threshold.
enum LiteralChildren<T> {
    /// Few children, searched linearly.
    List(Vec<(Box<[u8]>, Node<T>)>),
    /// Many children, hashed.
    Map(HashMap<Box<[u8]>, Node<T>>),
}

impl<T> Default for LiteralChildren<T> {
    fn default() -> Self {
        LiteralChildren::List(Vec::new())
    }
}

impl<T> LiteralChildren<T> {
    fn len(&self) -> usize {
        match self {
            LiteralChildren::List(list) => list.len(),
            LiteralChildren::Map(map) => map.len(),
        }
    }

    fn get(&self, token: &[u8]) -> Option<&Node<T>> {
        match self {
            LiteralChildren::List(list) => list
                .iter()
                .find(|(key, _)| &**key == token)
                .map(|(_, node)| node),
            LiteralChildren::Map(map) => map.get(token),
        }
    }

    fn get_mut(&mut self, token: &[u8]) -> Option<&mut Node<T>> {
        match self {
            LiteralChildren::List(list) => list
                .iter_mut()
                .find(|(key, _)| &**key == token)
                .map(|(_, node)| node),
            LiteralChildren::Map(map) => map.get_mut(token),
        }
    }

    /// The child for `token`, created when missing; the flag tells whether it was created.
    fn get_or_insert(&mut self, token: &[u8]) -> (&mut Node<T>, bool) {
        if let LiteralChildren::List(list) = self {
            if list.len() >= LIST_TO_MAP_THRESHOLD && !list.iter().any(|(key, _)| &**key == token) {
                let map: HashMap<_, _> = std::mem::take(list).into_iter().collect();
                *self = LiteralChildren::Map(map);
            }
        }
        match self {
            LiteralChildren::List(list) => {
                let existing = list.iter().position(|(key, _)| &**key == token);
                let index = existing.unwrap_or_else(|| {
                    list.push((token.into(), Node::default()));
                    list.len() - 1
                });
                // `index` was just found or pushed, so it is in bounds.
                (&mut list[index].1, existing.is_none())
            }
            LiteralChildren::Map(map) => {
                let mut created = false;
                let node = map.entry_ref(token).or_insert_with(|| {
                    created = true;
                    Node::default()
                });
                (node, created)
            }
        }
    }

    fn remove(&mut self, token: &[u8]) -> Option<Node<T>> {
        let removed = match self {
            LiteralChildren::List(list) => {
                let position = list.iter().position(|(key, _)| &**key == token)?;
                Some(list.swap_remove(position).1)
            }
            LiteralChildren::Map(map) => map.remove(token),
        };
        if let LiteralChildren::Map(map) = self {
            if map.len() <= LIST_TO_MAP_THRESHOLD / 2 {
                let list: Vec<_> = std::mem::take(map).into_iter().collect();
                *self = LiteralChildren::List(list);
            }
        }
        removed
    }

    fn iter(&self) -> Box<dyn Iterator<Item = (&[u8], &Node<T>)> + '_> {
        match self {
            LiteralChildren::List(list) => Box::new(list.iter().map(|(k, n)| (&**k, n))),
            LiteralChildren::Map(map) => Box::new(map.iter().map(|(k, n)| (&**k, n))),
        }
    }

    /// Moves every child node out, leaving this empty.
    fn drain_into(&mut self, out: &mut Vec<Node<T>>) {
        match std::mem::take(self) {
            LiteralChildren::List(list) => out.extend(list.into_iter().map(|(_, node)| node)),
            LiteralChildren::Map(map) => out.extend(map.into_values()),
        }
    }
}

/// Subscribers whose subject ends at one node.
pub(super) struct Subscribers<T> {
    /// Subscriptions without a queue group.
    plain: Vec<T>,
    /// Queue subscriptions, one entry per group name.
    queues: Vec<QueueGroup<T>>,
}

impl<T> Default for Subscribers<T> {
    fn default() -> Self {
        Subscribers {
            plain: Vec::new(),
            queues: Vec::new(),
        }
    }
}

impl<T: Clone + PartialEq> Subscribers<T> {
    /// Total number of subscriptions stored here.
    pub(super) fn len(&self) -> usize {
        self.plain.len() + self.queues.iter().map(|q| q.members.len()).sum::<usize>()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.plain.is_empty() && self.queues.is_empty()
    }

    pub(super) fn add(&mut self, queue: Option<&[u8]>, item: T) {
        match queue {
            None => self.plain.push(item),
            Some(name) => match self.queues.iter_mut().find(|q| q.name == name) {
                Some(group) => group.members.push(item),
                None => self.queues.push(QueueGroup {
                    name: Bytes::copy_from_slice(name),
                    members: vec![item],
                }),
            },
        }
    }

    pub(super) fn contains(&self, queue: Option<&[u8]>, item: &T) -> bool {
        match queue {
            None => self.plain.contains(item),
            Some(name) => self
                .queues
                .iter()
                .any(|q| q.name == name && q.members.contains(item)),
        }
    }

    /// Removes one occurrence of `item`; drops its queue group when that becomes empty.
    pub(super) fn remove(&mut self, queue: Option<&[u8]>, item: &T) -> bool {
        match queue {
            None => match self.plain.iter().position(|x| x == item) {
                Some(position) => {
                    self.plain.swap_remove(position);
                    true
                }
                None => false,
            },
            Some(name) => {
                let Some(group_index) = self.queues.iter().position(|q| q.name == name) else {
                    return false;
                };
                let Some(group) = self.queues.get_mut(group_index) else {
                    return false;
                };
                let Some(position) = group.members.iter().position(|x| x == item) else {
                    return false;
                };
                group.members.swap_remove(position);
                if group.members.is_empty() {
                    self.queues.swap_remove(group_index);
                }
                true
            }
        }
    }

    /// Appends these subscribers to `result`, merging queue members into existing groups of
    /// the same name.
    pub(super) fn append_to(&self, result: &mut MatchResult<T>) {
        result.plain.extend_from_slice(&self.plain);
        for group in &self.queues {
            match result.queues.iter_mut().find(|q| q.name == group.name) {
                Some(existing) => existing.members.extend_from_slice(&group.members),
                None => result.queues.push(group.clone()),
            }
        }
    }

    /// Calls `f` for each subscription stored here.
    pub(super) fn for_each(&self, subject: &[u8], f: &mut impl FnMut(&[u8], Option<&[u8]>, &T)) {
        for item in &self.plain {
            f(subject, None, item);
        }
        for group in &self.queues {
            for member in &group.members {
                f(subject, Some(&group.name), member);
            }
        }
    }
}

/// One trie node: the position reached after consuming some tokens.
pub(super) struct Node<T> {
    /// Children reached by an ordinary token.
    literals: LiteralChildren<T>,
    /// Child reached by a `*` token.
    single_wildcard: Option<Box<Node<T>>>,
    /// Child reached by a final `>` token.
    full_wildcard: Option<Box<Node<T>>>,
    /// Subscriptions whose subject ends here.
    pub(super) subscribers: Subscribers<T>,
}

impl<T> Default for Node<T> {
    fn default() -> Self {
        Node {
            literals: LiteralChildren::default(),
            single_wildcard: None,
            full_wildcard: None,
            subscribers: Subscribers::default(),
        }
    }
}

impl<T> Node<T> {
    /// Number of direct children of any kind.
    pub(super) fn child_count(&self) -> usize {
        self.literals.len()
            + usize::from(self.single_wildcard.is_some())
            + usize::from(self.full_wildcard.is_some())
    }

    /// The child selected by `edge` (subscription semantics: `*` selects the wildcard child).
    pub(super) fn child(&self, edge: Edge<'_>) -> Option<&Node<T>> {
        match edge {
            Edge::Literal(token) => self.literals.get(token),
            Edge::SingleWildcard => self.single_wildcard.as_deref(),
            Edge::FullWildcard => self.full_wildcard.as_deref(),
        }
    }

    pub(super) fn child_mut(&mut self, edge: Edge<'_>) -> Option<&mut Node<T>> {
        match edge {
            Edge::Literal(token) => self.literals.get_mut(token),
            Edge::SingleWildcard => self.single_wildcard.as_deref_mut(),
            Edge::FullWildcard => self.full_wildcard.as_deref_mut(),
        }
    }

    /// The child selected by `edge`, created when missing; the flag tells whether it was.
    pub(super) fn child_or_insert(&mut self, edge: Edge<'_>) -> (&mut Node<T>, bool) {
        let slot = match edge {
            Edge::Literal(token) => return self.literals.get_or_insert(token),
            Edge::SingleWildcard => &mut self.single_wildcard,
            Edge::FullWildcard => &mut self.full_wildcard,
        };
        let created = slot.is_none();
        (slot.get_or_insert_with(Box::default), created)
    }

    /// Detaches the child selected by `edge`.
    pub(super) fn remove_child(&mut self, edge: Edge<'_>) -> Option<Node<T>> {
        match edge {
            Edge::Literal(token) => self.literals.remove(token),
            Edge::SingleWildcard => self.single_wildcard.take().map(|boxed| *boxed),
            Edge::FullWildcard => self.full_wildcard.take().map(|boxed| *boxed),
        }
    }

    /// Literal-subject lookup: the child for a published token (never a wildcard child).
    pub(super) fn literal_child(&self, token: &[u8]) -> Option<&Node<T>> {
        self.literals.get(token)
    }

    pub(super) fn single_wildcard_child(&self) -> Option<&Node<T>> {
        self.single_wildcard.as_deref()
    }

    pub(super) fn full_wildcard_child(&self) -> Option<&Node<T>> {
        self.full_wildcard.as_deref()
    }

    /// Every child with the token that leads to it.
    pub(super) fn children(&self) -> impl Iterator<Item = (&[u8], &Node<T>)> {
        self.literals
            .iter()
            .chain(self.single_wildcard.as_deref().map(|n| (&b"*"[..], n)))
            .chain(self.full_wildcard.as_deref().map(|n| (&b">"[..], n)))
    }

    /// Moves every child out, leaving this node childless.
    fn take_children(&mut self, out: &mut Vec<Node<T>>) {
        self.literals.drain_into(out);
        out.extend(self.single_wildcard.take().map(|boxed| *boxed));
        out.extend(self.full_wildcard.take().map(|boxed| *boxed));
    }

    /// Drops a whole subtree without recursion, so that very deep subjects cannot overflow
    /// the stack.
    pub(super) fn dispose(mut self) {
        let mut pending = Vec::new();
        self.take_children(&mut pending);
        drop(self);
        while let Some(mut node) = pending.pop() {
            node.take_children(&mut pending);
        }
    }

    /// Counts the nodes of this subtree (including this one), without recursion.
    #[cfg(test)]
    pub(super) fn subtree_size(&self) -> usize {
        let mut pending = vec![self];
        let mut size = 0;
        while let Some(node) = pending.pop() {
            size += 1;
            pending.extend(node.children().map(|(_, child)| child));
        }
        size
    }
}
