//! Tests of the subscription index, its shared wrapper and the match cache.

use std::sync::Arc;

use super::*;
use crate::subject::subject_matches;

/// Sorted copy of the plain matches, for order-independent comparison.
fn sorted_plain<T: Ord + Clone>(result: &MatchResult<T>) -> Vec<T> {
    let mut plain = result.plain.clone();
    plain.sort();
    plain
}

/// Queue groups as sorted `(name, sorted members)` pairs.
fn sorted_queues<T: Ord + Clone>(result: &MatchResult<T>) -> Vec<(Vec<u8>, Vec<T>)> {
    let mut queues: Vec<_> = result
        .queues
        .iter()
        .map(|q| {
            let mut members = q.members.clone();
            members.sort();
            (q.name.to_vec(), members)
        })
        .collect();
    queues.sort();
    queues
}

fn plain_matches(list: &Sublist<u32>, subject: &[u8]) -> Vec<u32> {
    sorted_plain(&list.matches(subject))
}

#[test]
fn literal_and_wildcard_semantics() {
    let mut list = Sublist::new();
    let subs: &[(&[u8], u32)] = &[
        (b"foo", 1),
        (b"foo.bar", 2),
        (b"foo.*", 3),
        (b"foo.>", 4),
        (b">", 5),
        (b"*", 6),
        (b"*.bar", 7),
        (b"foo.*.baz", 8),
        (b"*.*.>", 9),
        (b"foo*", 10),
    ];
    for &(subject, id) in subs {
        list.insert(subject, None, id).expect("valid subject");
    }
    assert_eq!(list.count(), subs.len());
    assert_eq!(plain_matches(&list, b"foo"), vec![1, 5, 6]);
    assert_eq!(plain_matches(&list, b"foo.bar"), vec![2, 3, 4, 5, 7]);
    assert_eq!(plain_matches(&list, b"foo.bar.baz"), vec![4, 5, 8, 9]);
    assert_eq!(plain_matches(&list, b"foo.x.y.z"), vec![4, 5, 9]);
    assert_eq!(plain_matches(&list, b"bar"), vec![5, 6]);
    assert_eq!(plain_matches(&list, b"foo*"), vec![5, 6, 10]);
    // Wildcards in a published subject are plain tokens.
    assert_eq!(plain_matches(&list, b"foo.*"), vec![3, 4, 5]);
    assert_eq!(plain_matches(&list, b"foo.>"), vec![3, 4, 5]);
    // Empty tokens match nothing, not even `>`.
    for subject in [&b""[..], b"foo..bar", b".foo", b"foo.", b"."] {
        assert!(list.matches(subject).is_empty(), "{subject:?}");
    }
}

#[test]
fn full_wildcard_needs_at_least_one_token() {
    let mut list = Sublist::new();
    list.insert(b"foo.>", None, 1u32).expect("valid");
    assert!(list.matches(b"foo").is_empty());
    assert_eq!(plain_matches(&list, b"foo.a"), vec![1]);
    assert_eq!(plain_matches(&list, b"foo.a.b.c.d"), vec![1]);
}

#[test]
fn duplicate_subscriptions_appear_once_each() {
    let mut list = Sublist::new();
    list.insert(b"foo.bar", None, 7u32).expect("valid");
    list.insert(b"foo.*", None, 7).expect("valid");
    list.insert(b"foo.bar", None, 7).expect("valid");
    assert_eq!(plain_matches(&list, b"foo.bar"), vec![7, 7, 7]);
    assert!(list.remove(b"foo.bar", None, &7));
    assert_eq!(plain_matches(&list, b"foo.bar"), vec![7, 7]);
}

#[test]
fn queue_groups_merge_by_name_across_nodes() {
    let mut list = Sublist::new();
    list.insert(b"foo.*", Some(b"q"), 1u32).expect("valid");
    list.insert(b"foo.bar", Some(b"q"), 2).expect("valid");
    list.insert(b"foo.bar", Some(b"q2"), 3).expect("valid");
    list.insert(b">", Some(b"q2"), 4).expect("valid");
    list.insert(b"foo.bar", None, 5).expect("valid");
    let result = list.matches(b"foo.bar");
    assert_eq!(result.plain, vec![5]);
    assert_eq!(
        sorted_queues(&result),
        vec![(b"q".to_vec(), vec![1, 2]), (b"q2".to_vec(), vec![3, 4])]
    );
    assert_eq!(result.len(), 5);
    assert_eq!(result.fanout(), 3);
    let other = list.matches(b"foo.baz");
    assert_eq!(
        sorted_queues(&other),
        vec![(b"q".to_vec(), vec![1]), (b"q2".to_vec(), vec![4])]
    );
    // Removing the last member drops the group.
    assert!(list.remove(b"foo.*", Some(b"q"), &1));
    assert!(!list.remove(b"foo.*", Some(b"q"), &1));
    assert_eq!(
        sorted_queues(&list.matches(b"foo.baz")),
        vec![(b"q2".to_vec(), vec![4])]
    );
    // A queue subscription is not removed as a plain one, nor from another group.
    assert!(!list.remove(b"foo.bar", None, &2));
    assert!(!list.remove(b"foo.bar", Some(b"q2"), &2));
    assert!(list.remove(b"foo.bar", Some(b"q"), &2));
}

#[test]
fn invalid_subjects_and_queues_are_rejected() {
    let mut list = Sublist::new();
    for subject in [
        &b""[..],
        b"foo..bar",
        b".foo",
        b"foo.",
        b"foo.>.bar",
        b">.foo",
        b"a b",
    ] {
        assert_eq!(
            list.insert(subject, None, 1u32),
            Err(SublistError::InvalidSubject),
            "{subject:?}"
        );
    }
    assert_eq!(
        list.insert(b"foo", Some(b""), 1),
        Err(SublistError::InvalidQueueName)
    );
    assert_eq!(
        list.insert(b"foo", Some(b"a b"), 1),
        Err(SublistError::InvalidQueueName)
    );
    assert_eq!(list.count(), 0);
    assert_eq!(list.node_count(), 0);
    assert_eq!(list.generation(), 0);
    assert!(!list.remove(b"foo..bar", None, &1));
}

#[test]
fn removal_prunes_every_node() {
    let mut list = Sublist::new();
    let subjects: &[&[u8]] = &[
        b"a", b"a.b", b"a.b.c", b"a.*.c", b"a.>", b"*.b.>", b">", b"x.y.z.w", b"x.y.q",
    ];
    for (id, subject) in subjects.iter().enumerate() {
        list.insert(subject, None, id).expect("valid");
        list.insert(subject, Some(b"g"), id).expect("valid");
    }
    assert_eq!(list.count(), subjects.len() * 2);
    assert_eq!(list.node_count(), list.walk_node_count());
    assert!(!list.remove(b"a.b", None, &999));
    assert!(!list.remove(b"nope.b", None, &0));
    // Remove in an order that exercises partial pruning.
    for (id, subject) in subjects.iter().enumerate().rev() {
        assert!(list.remove(subject, Some(b"g"), &id));
        assert_eq!(list.node_count(), list.walk_node_count());
        assert!(list.remove(subject, None, &id));
        assert_eq!(list.node_count(), list.walk_node_count());
    }
    assert_eq!(list.count(), 0);
    assert_eq!(list.node_count(), 0);
    assert_eq!(list.walk_node_count(), 0);
    assert!(list.matches(b"a.b.c").is_empty());
}

#[test]
fn removal_keeps_shared_prefixes() {
    let mut list = Sublist::new();
    list.insert(b"a.b.c.d", None, 1u32).expect("valid");
    list.insert(b"a.b", None, 2).expect("valid");
    assert_eq!(list.node_count(), 4);
    assert!(list.remove(b"a.b.c.d", None, &1));
    assert_eq!(list.node_count(), 2);
    assert_eq!(plain_matches(&list, b"a.b"), vec![2]);
    assert!(list.remove(b"a.b", None, &2));
    assert_eq!(list.node_count(), 0);
}

#[test]
fn generation_changes_on_every_successful_change() {
    let mut list = Sublist::new();
    let g0 = list.generation();
    list.insert(b"foo", None, 1u32).expect("valid");
    let g1 = list.generation();
    assert_ne!(g0, g1);
    assert!(list.insert(b"foo..", None, 1).is_err());
    assert_eq!(list.generation(), g1);
    assert!(!list.remove(b"foo", None, &2));
    assert_eq!(list.generation(), g1);
    assert!(list.remove(b"foo", None, &1));
    assert_ne!(list.generation(), g1);
    assert_eq!(list.inserts(), 1);
    assert_eq!(list.removes(), 1);
}

#[test]
fn for_each_reports_every_subscription() {
    let mut list = Sublist::new();
    let mut expected = Vec::new();
    for (id, subject) in [&b"foo"[..], b"foo.bar", b"foo.*", b"foo.>", b">", b"a.*.c"]
        .into_iter()
        .enumerate()
    {
        list.insert(subject, None, id).expect("valid");
        expected.push((subject.to_vec(), None, id));
        list.insert(subject, Some(b"q"), id + 100).expect("valid");
        expected.push((subject.to_vec(), Some(b"q".to_vec()), id + 100));
    }
    let mut seen = Vec::new();
    list.for_each(|subject, queue, &id| {
        seen.push((subject.to_vec(), queue.map(<[u8]>::to_vec), id))
    });
    seen.sort();
    expected.sort();
    assert_eq!(seen, expected);
}

#[test]
fn many_children_switch_to_a_map_and_back() {
    let mut list = Sublist::new();
    for i in 0..500u32 {
        list.insert(format!("wide.{i}").as_bytes(), None, i)
            .expect("valid");
    }
    for i in 0..500u32 {
        assert_eq!(
            plain_matches(&list, format!("wide.{i}").as_bytes()),
            vec![i]
        );
    }
    assert!(list.matches(b"wide.500").is_empty());
    for i in 0..500u32 {
        assert!(list.remove(format!("wide.{i}").as_bytes(), None, &i));
        if i % 50 == 0 {
            assert_eq!(list.node_count(), list.walk_node_count());
        }
    }
    assert_eq!(list.node_count(), 0);
}

#[test]
fn very_deep_subjects_do_not_overflow_the_stack() {
    // 200k tokens: recursion over tokens would overflow a test thread's stack.
    let depth = 200_000;
    let literal: Vec<u8> = b"a.".repeat(depth);
    let literal = &literal[..literal.len() - 1];
    let wild: Vec<u8> = b"*.".repeat(depth);
    let wild = &wild[..wild.len() - 1];
    let mut list = Sublist::new();
    list.insert(literal, None, 1u32).expect("valid");
    list.insert(wild, None, 2).expect("valid");
    assert_eq!(plain_matches(&list, literal), vec![1, 2]);
    let mut seen = 0;
    list.for_each(|_, _, _| seen += 1);
    assert_eq!(seen, 2);
    assert!(list.remove(literal, None, &1));
    assert_eq!(list.node_count(), depth);
    drop(list);
}

/// A tiny deterministic xorshift64* generator.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A random subject over a small alphabet; `wildcards` allows `*` and a final `>`.
fn random_subject(rng: &mut XorShift, wildcards: bool) -> Vec<u8> {
    const TOKENS: [&[u8]; 5] = [b"a", b"b", b"c", b"dd", b"e*"];
    let len = 1 + rng.below(4);
    let mut subject = Vec::new();
    for i in 0..len {
        if i > 0 {
            subject.push(b'.');
        }
        let roll = rng.below(10);
        if wildcards && roll == 0 {
            subject.push(b'*');
        } else if wildcards && roll == 1 && i == len - 1 {
            subject.push(b'>');
        } else {
            subject.extend_from_slice(TOKENS[rng.below(TOKENS.len())]);
        }
    }
    subject
}

/// A reference model: every subscription in a flat vector, matched by `subject_matches`.
type Model = Vec<(Vec<u8>, Option<Vec<u8>>, u32)>;

/// Sorted plain matches and sorted `(queue name, sorted members)` groups.
type NaiveResult = (Vec<u32>, Vec<(Vec<u8>, Vec<u32>)>);

fn naive_match(model: &Model, subject: &[u8]) -> NaiveResult {
    let mut plain = Vec::new();
    let mut queues: Vec<(Vec<u8>, Vec<u32>)> = Vec::new();
    for (filter, queue, id) in model {
        if !subject_matches(filter, subject) {
            continue;
        }
        match queue {
            None => plain.push(*id),
            Some(name) => match queues.iter_mut().find(|(n, _)| n == name) {
                Some((_, members)) => members.push(*id),
                None => queues.push((name.clone(), vec![*id])),
            },
        }
    }
    plain.sort();
    for (_, members) in &mut queues {
        members.sort();
    }
    queues.sort();
    (plain, queues)
}

#[test]
fn randomized_matches_agree_with_a_naive_scan() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let mut list = Sublist::new();
    let mut model: Model = Vec::new();
    for step in 0..4000u32 {
        if model.is_empty() || rng.below(3) != 0 {
            let subject = random_subject(&mut rng, true);
            let queue = match rng.below(4) {
                0 => Some(b"q1".to_vec()),
                1 => Some(b"q2".to_vec()),
                _ => None,
            };
            let id = step % 50;
            list.insert(&subject, queue.as_deref(), id)
                .expect("generated valid");
            model.push((subject, queue, id));
        } else {
            let (subject, queue, id) = model.swap_remove(rng.below(model.len()));
            assert!(list.remove(&subject, queue.as_deref(), &id));
        }
        assert_eq!(list.count(), model.len());
        if step % 10 == 0 {
            for _ in 0..5 {
                let subject = random_subject(&mut rng, false);
                let result = list.matches(&subject);
                let (plain, queues) = naive_match(&model, &subject);
                assert_eq!(sorted_plain(&result), plain, "subject {subject:?}");
                assert_eq!(sorted_queues(&result), queues, "subject {subject:?}");
            }
            assert_eq!(list.node_count(), list.walk_node_count());
        }
    }
    while let Some((subject, queue, id)) = model.pop() {
        assert!(list.remove(&subject, queue.as_deref(), &id));
    }
    assert_eq!(list.count(), 0);
    assert_eq!(list.node_count(), 0);
    assert_eq!(list.walk_node_count(), 0);
}

#[test]
fn shared_list_tracks_generation_and_stats() {
    let shared = SharedSublist::new();
    assert_eq!(shared.generation(), 0);
    shared.insert(b"foo.*", None, 1u32).expect("valid");
    let g1 = shared.generation();
    assert_ne!(g1, 0);
    assert_eq!(
        shared.insert(b"foo..", None, 1),
        Err(SublistError::InvalidSubject)
    );
    assert_eq!(shared.generation(), g1);
    assert_eq!(shared.matches(b"foo.bar").plain, vec![1]);
    assert_eq!(shared.count(), 1);
    assert_eq!(shared.read().count(), 1);
    assert!(shared.remove(b"foo.*", None, &1));
    assert_ne!(shared.generation(), g1);
    let stats = shared.stats();
    assert_eq!(stats.subscriptions, 0);
    assert_eq!(stats.inserts, 1);
    assert_eq!(stats.removes, 1);
    assert_eq!(stats.matches, 1);
    assert_eq!(stats.cache_hits, 0);
}

#[test]
fn cache_hits_return_the_same_result() {
    let shared = SharedSublist::new();
    shared.insert(b"foo.*", None, 1u32).expect("valid");
    let mut cache = MatchCache::new(16);
    let first = cache.get(&shared, b"foo.bar");
    let second = cache.get(&shared, b"foo.bar");
    assert!(Arc::ptr_eq(&first, &second));
    assert_eq!(first.plain, vec![1]);
    assert_eq!(cache.len(), 1);
    cache.report_hits(&shared);
    let stats = shared.stats();
    assert_eq!(stats.matches, 2);
    assert_eq!(stats.cache_hits, 1);
}

#[test]
fn cache_is_invalidated_by_insert_and_remove() {
    let shared = SharedSublist::new();
    let mut cache = MatchCache::new(16);
    assert!(cache.get(&shared, b"foo.bar").is_empty());
    shared.insert(b"foo.bar", None, 1u32).expect("valid");
    assert_eq!(cache.get(&shared, b"foo.bar").plain, vec![1]);
    shared.insert(b">", Some(b"q"), 2).expect("valid");
    let result = cache.get(&shared, b"foo.bar");
    assert_eq!(result.plain, vec![1]);
    assert_eq!(result.queues.len(), 1);
    assert!(shared.remove(b"foo.bar", None, &1));
    let result = cache.get(&shared, b"foo.bar");
    assert!(result.plain.is_empty());
    assert_eq!(result.queues.len(), 1);
    assert!(shared.remove(b">", Some(b"q"), &2));
    assert!(cache.get(&shared, b"foo.bar").is_empty());
}

#[test]
fn cache_notices_a_different_list() {
    let first = SharedSublist::new();
    let second = SharedSublist::new();
    first.insert(b"foo", None, 1u32).expect("valid");
    second.insert(b"foo", None, 2u32).expect("valid");
    assert_eq!(first.generation(), second.generation());
    let mut cache = MatchCache::new(16);
    assert_eq!(cache.get(&first, b"foo").plain, vec![1]);
    assert_eq!(cache.get(&second, b"foo").plain, vec![2]);
}

#[test]
fn cache_stays_bounded_and_correct() {
    let shared = SharedSublist::new();
    for i in 0..100u32 {
        shared
            .insert(format!("s.{i}").as_bytes(), None, i)
            .expect("valid");
    }
    shared.insert(b"s.*", None, 1000).expect("valid");
    let mut cache = MatchCache::new(8);
    let mut rng = XorShift(42);
    for round in 0..5000 {
        // Skewed access: a few hot subjects, many cold ones.
        let i = if round % 2 == 0 {
            rng.below(4)
        } else {
            rng.below(100)
        } as u32;
        let result = cache.get(&shared, format!("s.{i}").as_bytes());
        assert_eq!(sorted_plain(&result), vec![i, 1000]);
        assert!(cache.len() <= 8);
    }
    let mut disabled = MatchCache::new(0);
    assert_eq!(disabled.get(&shared, b"s.1").plain.len(), 2);
    assert!(disabled.is_empty());
}

/// Runs `change(i)` for `0..n` on a writer thread while this thread looks `t.x` up through a
/// cache, calling `check(generation_before_lookup, matched_count)` after each lookup.
fn race_cache_against_writer(
    shared: &Arc<SharedSublist<u32>>,
    n: u32,
    change: fn(&SharedSublist<u32>, u32),
    check: impl Fn(u64, usize),
) {
    let writer = {
        let shared = Arc::clone(shared);
        std::thread::spawn(move || (0..n).for_each(|i| change(&shared, i)))
    };
    let mut cache = MatchCache::new(4);
    for _ in 0..1_000_000 {
        let finished = writer.is_finished();
        let before = shared.generation();
        let result = cache.get(shared, b"t.x");
        check(before, result.plain.len());
        if finished {
            break;
        }
    }
    writer.join().expect("writer thread");
}

#[test]
fn cache_is_never_stale_under_concurrent_changes() {
    // Every change bumps the generation by one, so the generation says how many
    // subscriptions must exist: a result older than the generation read before the lookup
    // would show too few (while inserting) or too many (while removing).
    const N: u32 = 3000;
    let shared = Arc::new(SharedSublist::new());
    race_cache_against_writer(
        &shared,
        N,
        |list, i| list.insert(b"t.x", None, i).expect("valid"),
        |before, len| assert!(len as u64 >= before, "stale: {len} < {before}"),
    );
    assert_eq!(shared.count(), N as usize);
    race_cache_against_writer(
        &shared,
        N,
        |list, i| assert!(list.remove(b"t.x", None, &i)),
        |before, len| {
            assert!(
                len as u64 <= 2 * u64::from(N) - before,
                "stale: {len} after {before}"
            )
        },
    );
    assert_eq!(shared.count(), 0);
    assert!(MatchCache::new(4).get(&shared, b"t.x").is_empty());
}
