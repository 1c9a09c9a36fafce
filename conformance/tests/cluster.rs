//! End-to-end tests of clustering (issue #7) over real loopback routes.
//!
//! Every scenario first runs on clusters made only of the reference
//! `nats-server`, which proves the test itself, then on our server alone and
//! mixed with the reference (both seeding directions), with route
//! authorization as in the container configuration.
//!
//! `[R, O, R]` lists the kinds of nodes A, B, C (`R` reference, `O` ours); the
//! later nodes solicit a route to A, the rest of the mesh forms by gossip.
//!
//! * three nodes: pub/sub, wildcards, queue groups (exactly once cluster-wide),
//!   request/reply and account isolation, each from every node to the others;
//! * kill -9 of the seed: failover through `connect_urls`, rejoin, no duplicates;
//! * a route cut by a TCP proxy heals;
//! * the container seed scenario (`--routes=nats-route://ruser:…@…` and `-DV`);
//! * route traffic recorded by a proxy equals the reference's (handshake
//!   fields and order, pool/pinned connections, interest and message lines,
//!   gossip) and `/routez` has the reference's shape;
//! * refused routes (credentials, cluster name), dynamic cluster names,
//!   `--no_advertise`, `--cluster_advertise`, `connect_urls` following
//!   membership, pinned accounts, pool sizes (equal, different, pooling
//!   disabled on one side), ~1 MB payloads, queue groups spread uniformly
//!   over local and remote members, advertised hosts on any-address listeners.
//!
//! Every test here passes against our server; scenarios where it still
//! differs from the reference are added here once it no longer does.
//!
//! Interest crosses a cluster asynchronously, so each scenario publishes
//! probes until one arrives before it counts messages. Every wait is bounded.

#[path = "cluster_support/mod.rs"]
mod support;

use conformance::cluster::{ClusterVia, Kind};
use support::{all_scenarios, failover, route_cut, seed_scenario, LogsOnPanic, Topology};

use Kind::{Ours as O, Reference as R};

#[test]
fn reference_cluster_of_three() {
    let cluster = Topology {
        kinds: [R, R, R],
        via: ClusterVia::Config,
    }
    .start("ref3");
    let _logs = LogsOnPanic(&cluster);
    all_scenarios(&cluster);
}

#[test]
fn reference_cluster_of_three_by_flags() {
    let cluster = Topology {
        kinds: [R, R, R],
        via: ClusterVia::Flags,
    }
    .start("ref3f");
    let _logs = LogsOnPanic(&cluster);
    all_scenarios(&cluster);
}

#[test]
fn reference_failover_after_kill_9() {
    failover(
        Topology {
            kinds: [R, R, R],
            via: ClusterVia::Config,
        },
        "reffo",
    );
}

#[test]
fn reference_route_cut_heals() {
    route_cut([R, R], "refcut");
}

#[test]
fn reference_seed_scenario() {
    seed_scenario([R, R], "nats-cluster");
}

#[test]
fn reference_route_wire_is_stable() {
    support::route_wire_matches_reference([R, R], "refwire");
}

#[test]
fn reference_no_advertise() {
    support::no_advertise([R, R], "refna");
}

#[test]
fn reference_refusals_and_dynamic_name() {
    support::refusals_and_dynamic_name([R, R], "refneg");
}

// --- our server alone and mixed with the reference ---

fn scenarios(kinds: [Kind; 3], via: ClusterVia, name: &str) {
    let cluster = Topology { kinds, via }.start(name);
    let _logs = LogsOnPanic(&cluster);
    all_scenarios(&cluster);
}

#[test]
fn ours_cluster_of_three_by_flags() {
    scenarios([O, O, O], ClusterVia::Flags, "ours3");
}

#[test]
fn ours_cluster_of_three_by_config() {
    scenarios([O, O, O], ClusterVia::Config, "ours3c");
}

#[test]
fn mixed_ours_seeded_with_a_reference_url() {
    scenarios([R, O, R], ClusterVia::Config, "mix1");
}

#[test]
fn mixed_references_seeded_with_our_url() {
    scenarios([O, R, R], ClusterVia::Config, "mix2");
}

#[test]
fn mixed_two_ours_seeded_with_a_reference_url() {
    scenarios([R, O, O], ClusterVia::Config, "mix3");
}

#[test]
fn mixed_reference_seeded_with_our_url() {
    scenarios([O, R, O], ClusterVia::Config, "mix4");
}

#[test]
fn ours_failover_after_kill_9() {
    failover(
        Topology {
            kinds: [O, O, O],
            via: ClusterVia::Flags,
        },
        "oursfo",
    );
}

#[test]
fn mixed_failover_our_seed_killed() {
    failover(
        Topology {
            kinds: [O, R, R],
            via: ClusterVia::Config,
        },
        "mixfo1",
    );
}

#[test]
fn mixed_failover_reference_seed_killed() {
    failover(
        Topology {
            kinds: [R, O, O],
            via: ClusterVia::Config,
        },
        "mixfo2",
    );
}

#[test]
fn ours_route_cut_heals() {
    route_cut([O, O], "ourscut");
}

#[test]
fn mixed_route_cut_ours_solicits() {
    route_cut([R, O], "mixcut1");
}

#[test]
fn mixed_route_cut_reference_solicits() {
    route_cut([O, R], "mixcut2");
}

#[test]
fn ours_seed_scenario() {
    seed_scenario([O, O], "nats-cluster");
}

#[test]
fn mixed_seed_scenario_ours_joins_a_reference() {
    seed_scenario([R, O], "nats-cluster");
}

#[test]
fn mixed_seed_scenario_reference_joins_ours() {
    seed_scenario([O, R], "nats-cluster");
}

#[test]
fn route_wire_ours_solicits_a_reference() {
    support::route_wire_matches_reference([R, O], "wire1");
}

#[test]
fn route_wire_reference_solicits_ours() {
    support::route_wire_matches_reference([O, R], "wire2");
}

#[test]
fn ours_no_advertise() {
    support::no_advertise([O, O], "oursna");
}

#[test]
fn mixed_no_advertise() {
    support::no_advertise([R, O], "mixna");
}

#[test]
fn ours_refusals_and_dynamic_name() {
    support::refusals_and_dynamic_name([O, O], "oursneg");
}

#[test]
fn mixed_refusals_ours_accepts() {
    support::refusals_and_dynamic_name([O, R], "mixneg1");
}

#[test]
fn mixed_refusals_reference_accepts() {
    support::refusals_and_dynamic_name([R, O], "mixneg2");
}

#[test]
fn reference_connect_urls_follow_membership() {
    support::connect_urls_follow_membership([R, R], "refurls");
}

#[test]
fn ours_connect_urls_follow_membership() {
    support::connect_urls_follow_membership([O, O], "oursurls");
}

#[test]
fn mixed_connect_urls_follow_membership() {
    support::connect_urls_follow_membership([O, R], "mixurls1");
    support::connect_urls_follow_membership([R, O], "mixurls2");
}

#[test]
fn reference_gossip_is_stable() {
    support::gossip_matches_reference([R, R], "refgossip");
}

#[test]
fn ours_gossips_like_the_reference() {
    support::gossip_matches_reference([O, R], "gossip1");
}

#[test]
fn ours_is_gossiped_like_the_reference() {
    support::gossip_matches_reference([R, O], "gossip2");
}

#[test]
fn reference_advertised_hosts_are_stable() {
    support::advertised_hosts_match_reference([R, R]);
}

#[test]
fn reference_queue_spread() {
    support::queue_spread([R, R], "reflq");
}

#[test]
fn reference_large_payloads() {
    support::large_payloads([R, R], "refbig");
}

#[test]
fn ours_large_payloads() {
    support::large_payloads([O, O], "oursbig");
}

#[test]
fn mixed_large_payloads() {
    support::large_payloads([R, O], "mixbig1");
    support::large_payloads([O, R], "mixbig2");
}

#[test]
fn reference_cluster_advertise() {
    support::cluster_advertise([R, R], "refadv");
}

#[test]
fn ours_cluster_advertise() {
    support::cluster_advertise([O, O], "oursadv");
}

#[test]
fn mixed_cluster_advertise() {
    support::cluster_advertise([O, R], "mixadv1");
    support::cluster_advertise([R, O], "mixadv2");
}

#[test]
fn reference_pinned_account() {
    support::pinned_account([R, R], "refpin");
}

#[test]
fn ours_pinned_account() {
    support::pinned_account([O, O], "ourspin");
}

#[test]
fn mixed_pinned_account() {
    support::pinned_account([R, O], "mixpin1");
    support::pinned_account([O, R], "mixpin2");
}

#[test]
fn reference_pool_sizes() {
    support::pool_sizes([R, R], 5, "refpool1");
    support::pool_sizes([R, R], -1, "refpool2");
}

#[test]
fn mixed_pool_disabled_on_the_reference_side() {
    support::pool_sizes([R, O], -1, "mixpool4");
}

#[test]
fn reference_compression() {
    support::compression([R, R], [true, false], "s2_fast", "refs2a");
    support::compression([R, R], [false, true], "s2_fast", "refs2b");
}

#[test]
fn mixed_compression_asked_by_the_reference() {
    support::compression([R, O], [true, false], "s2_fast", "mixs2a");
    support::compression([O, R], [false, true], "s2_fast", "mixs2b");
    support::compression([R, O], [true, false], "s2_auto", "mixs2c");
}

#[test]
fn reference_queue_weights() {
    support::queue_weights([R, R, R], "refqw");
}

#[test]
fn mixed_queue_weights_reference_receives() {
    support::queue_weights([O, R, R], "mixqw2");
}

/// Listening on every address, our node advertises in `connect_urls` the
/// host's IPv4 and IPv6 global unicast addresses, as the reference does.
#[test]
fn ours_advertises_the_hosts_the_reference_does() {
    support::advertised_hosts_match_reference([O, O]);
}

/// The same in a mixed pair.
#[test]
fn mixed_advertised_hosts() {
    support::advertised_hosts_match_reference([O, R]);
}

/// A queue group with a member on each node: messages published on one node
/// are spread over the local and the remote member (the local one is not
/// preferred).
#[test]
fn ours_queue_spread() {
    support::queue_spread([O, O], "ourslq");
}

/// The same when our node is the publisher's, then the receiver's.
#[test]
fn mixed_queue_spread() {
    support::queue_spread([R, O], "mixlq1");
    support::queue_spread([O, R], "mixlq2");
}

/// Pool sizes 5 and 3: the routes form with the larger pool (6 connections
/// per peer with the `$SYS` one).
#[test]
fn ours_pool_sizes_differ() {
    support::pool_sizes([O, O], 5, "ourspool1");
}

/// The same in mixed pairs, whichever side is ours.
#[test]
fn mixed_pool_sizes_differ() {
    support::pool_sizes([O, R], 5, "mixpool1");
    support::pool_sizes([R, O], 5, "mixpool2");
}

/// Our node with `pool_size: -1` and a pooled peer: one route, interest sent
/// on it right after the handshake, messages cross both ways.
#[test]
fn ours_pool_disabled_on_one_side() {
    support::pool_sizes([O, O], -1, "ourspool2");
}

/// The same with a reference peer.
#[test]
fn mixed_pool_disabled_on_our_side() {
    support::pool_sizes([O, R], -1, "mixpool3");
}

/// A node of ours receiving routed messages for a queue group with two local
/// members splits them about evenly, and groups are weighed by member count.
#[test]
fn ours_queue_weights() {
    support::queue_weights([O, O, O], "oursqw");
}

/// The same when our node C receives from reference nodes.
#[test]
fn mixed_queue_weights_ours_receives() {
    support::queue_weights([R, R, O], "mixqw1");
}
