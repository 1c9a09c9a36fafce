//! End-to-end tests of clustering (issue #7) over real loopback routes.
//!
//! Every scenario first runs on clusters made only of the reference
//! `nats-server`, which proves the test itself, then on our server alone and
//! mixed with the reference (both seeding directions), with route
//! authorization as in the container configuration.
//!
//! * three nodes: pub/sub, wildcards, queue groups (exactly once cluster-wide),
//!   request/reply and account isolation, each from every node to the others;
//! * kill -9 of the seed: failover through `connect_urls`, rejoin, no duplicates;
//! * a route cut by a TCP proxy heals;
//! * the container seed scenario (`--routes=nats-route://ruser:…@…` and `-DV`).
//!
//! Interest crosses a cluster asynchronously, so each scenario publishes
//! probes until one arrives before it counts messages. Every wait is bounded.

#[path = "cluster_support/mod.rs"]
mod support;

use conformance::cluster::{ClusterVia, Kind};
use support::{all_scenarios, failover, route_cut, seed_scenario, LogsOnPanic, Topology};

use Kind::Reference as R;

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
