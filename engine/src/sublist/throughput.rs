//! Throughput measurement of lookups (ignored by default; run with
//! `cargo test -p engine --release -- --ignored --nocapture sublist_throughput`).

use std::sync::Arc;
use std::time::Instant;

use super::{MatchCache, SharedSublist, Sublist};

/// Subscriptions of a typical mixed workload: 10,000 literal subjects
/// `org.A.dev.B.C` plus 210 wildcard ones.
fn typical_subscriptions() -> Vec<(String, Option<&'static str>)> {
    let mut subs = Vec::new();
    for a in 0..10 {
        for b in 0..100 {
            for c in 0..10 {
                subs.push((format!("org.{a}.dev.{b}.{c}"), None));
            }
        }
        for c in 0..10 {
            subs.push((format!("org.{a}.dev.*.{c}"), Some("workers")));
        }
        subs.push((format!("org.{a}.>"), None));
    }
    for b in 0..100 {
        subs.push((format!("org.*.dev.{b}.*"), None));
    }
    subs
}

/// `count` published subjects drawn from `distinct` different ones.
fn publish_subjects(count: usize, distinct: usize) -> Vec<Vec<u8>> {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    (0..count)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let n = (state % distinct as u64) as usize;
            format!("org.{}.dev.{}.{}", n % 10, (n / 10) % 100, (n / 1000) % 10).into_bytes()
        })
        .collect()
}

/// Runs `lookup` over `subjects` and prints the rate; returns total matched subscriptions so
/// the work cannot be optimised away.
fn measure(label: &str, subjects: &[Vec<u8>], mut lookup: impl FnMut(&[u8]) -> usize) -> usize {
    let start = Instant::now();
    let matched: usize = subjects.iter().map(|s| lookup(s)).sum();
    let elapsed = start.elapsed().as_secs_f64();
    println!(
        "{label:<48} {:>12.0} matches/s  ({:.1} matched/lookup)",
        subjects.len() as f64 / elapsed,
        matched as f64 / subjects.len() as f64
    );
    matched
}

#[test]
#[ignore = "throughput measurement; run in release with --ignored --nocapture"]
fn sublist_throughput() {
    let subs = typical_subscriptions();
    let mut list = Sublist::new();
    let shared = Arc::new(SharedSublist::new());
    let start = Instant::now();
    for (id, (subject, queue)) in subs.iter().enumerate() {
        list.insert(subject.as_bytes(), queue.map(str::as_bytes), id)
            .expect("valid subject");
    }
    println!(
        "inserted {} subscriptions in {:?} ({} nodes)",
        list.count(),
        start.elapsed(),
        list.node_count()
    );
    for (id, (subject, queue)) in subs.iter().enumerate() {
        shared
            .insert(subject.as_bytes(), queue.map(str::as_bytes), id)
            .expect("valid subject");
    }

    let lookups = 1_000_000;
    let hot = publish_subjects(lookups, 100);
    let cold = publish_subjects(lookups, 10_000);
    let mut total = 0;
    total += measure("Sublist::matches (uncached)", &cold, |s| {
        list.matches(s).len()
    });
    total += measure("SharedSublist::matches (read lock, uncached)", &cold, |s| {
        shared.matches(s).len()
    });
    let mut cache = MatchCache::new(1024);
    total += measure("MatchCache, 100 hot subjects (hits)", &hot, |s| {
        cache.get(&shared, s).len()
    });
    let mut cache = MatchCache::new(1024);
    total += measure("MatchCache, 10k subjects > capacity 1024", &cold, |s| {
        cache.get(&shared, s).len()
    });

    // Two publishers sharing the list, each with its own cache.
    let hot = Arc::new(hot);
    let start = Instant::now();
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let shared = Arc::clone(&shared);
            let hot = Arc::clone(&hot);
            std::thread::spawn(move || {
                let mut cache = MatchCache::new(1024);
                hot.iter()
                    .map(|s| cache.get(&shared, s).len())
                    .sum::<usize>()
            })
        })
        .collect();
    for thread in threads {
        total += thread.join().expect("publisher thread");
    }
    println!(
        "{:<48} {:>12.0} matches/s",
        "2 threads, MatchCache hits (aggregate)",
        2.0 * lookups as f64 / start.elapsed().as_secs_f64()
    );
    assert!(total > 0);
}

#[test]
#[ignore = "throughput measurement; run in release with --ignored --nocapture"]
fn sublist_wide_node_lookup() {
    // Lookup cost in a node with `width` literal children (best of 5 runs), to choose the
    // list-to-map threshold.
    for width in [4usize, 8, 12, 16, 32, 64] {
        let mut list = Sublist::new();
        for i in 0..width {
            list.insert(format!("svc.tok{i}").as_bytes(), None, i)
                .expect("valid subject");
        }
        let subjects: Vec<Vec<u8>> = (0..200_000)
            .map(|n| format!("svc.tok{}", (n * 7919) % width).into_bytes())
            .collect();
        let mut result = super::MatchResult::new();
        let best = (0..5)
            .map(|_| {
                let start = Instant::now();
                for subject in &subjects {
                    result.clear();
                    list.matches_into(subject, &mut result);
                }
                start.elapsed().as_secs_f64() / subjects.len() as f64
            })
            .fold(f64::INFINITY, f64::min);
        assert_eq!(result.len(), 1);
        println!("width {width:>3}: {:>6.1} ns/lookup", best * 1e9);
    }
}
