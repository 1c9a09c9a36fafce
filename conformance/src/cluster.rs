//! Clusters of `nats-server` processes on loopback: any mix of our server
//! and the reference, routes given by flags or a `cluster {}` block, waiting
//! on `/routez` until the full mesh is up, kill -9 and restart of a node on
//! the same ports, and a TCP proxy that can cut a route and records what
//! crosses it, summarised by [`RouteSummary`] for comparison with the
//! reference's route traffic.
//!
//! ```no_run
//! use conformance::cluster::{Cluster, Kind, NodeSpec};
//! let mut cluster = Cluster::new("t");
//! let a = cluster.add(NodeSpec::new(Kind::Reference, "A", "t"));
//! let seed = cluster.node(a).route_url();
//! cluster.add(NodeSpec::new(Kind::Ours, "B", "t").route(seed));
//! cluster.wait_for_mesh(conformance::cluster::MESH_TIMEOUT).unwrap();
//! ```

mod http;
mod node;
mod proxy;
mod wire;

use std::time::{Duration, Instant};

pub use http::get_json;
pub use node::{ClusterVia, Kind, Node, NodeSpec, Ports, RouteAuth, RouteView};
pub use proxy::{Captured, TcpProxy};
pub use wire::{first_json, interest_lines, later_infos, message_lines, JsonOp, RouteSummary};

/// Route connections between two servers with default settings: a pool of
/// 3 plus one pinned to the system account (measured on the reference).
pub const ROUTES_PER_PEER: usize = 4;

/// A generous bound for a cluster to form or heal on a busy machine.
pub const MESH_TIMEOUT: Duration = Duration::from_secs(20);

/// The nodes of one cluster, in the order they were added.
pub struct Cluster {
    name: String,
    nodes: Vec<Node>,
}

impl Cluster {
    /// An empty cluster called `name` (the name is only kept for specs
    /// built with [`Cluster::spec`]).
    pub fn new(name: &str) -> Cluster {
        Cluster {
            name: name.into(),
            nodes: Vec::new(),
        }
    }

    /// The cluster's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A spec for a node of this cluster (flags, no routes).
    pub fn spec(&self, kind: Kind, node_name: &str) -> NodeSpec {
        NodeSpec::new(kind, node_name, &self.name)
    }

    /// Starts a node and returns its index. Routes in the spec may point at
    /// nodes added earlier ([`Node::route_url`]).
    pub fn add(&mut self, spec: NodeSpec) -> usize {
        self.nodes.push(Node::start(spec));
        self.nodes.len() - 1
    }

    /// The node at `index`.
    pub fn node(&self, index: usize) -> &Node {
        &self.nodes[index]
    }

    /// The node at `index`, to kill or restart it.
    pub fn node_mut(&mut self, index: usize) -> &mut Node {
        &mut self.nodes[index]
    }

    /// All nodes.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// Client URLs of all running nodes.
    pub fn urls(&self) -> Vec<String> {
        self.running().map(Node::url).collect()
    }

    /// A description such as `[ref:A, ours:B]`.
    pub fn describe(&self) -> String {
        let labels: Vec<String> = self.nodes.iter().map(Node::label).collect();
        format!("[{}]", labels.join(", "))
    }

    fn running(&self) -> impl Iterator<Item = &Node> {
        self.nodes.iter().filter(|n| n.is_running())
    }

    /// Waits (bounded by `timeout` overall) until every running node's
    /// `/routez` lists every other running node over [`ROUTES_PER_PEER`]
    /// connections each.
    pub fn wait_for_mesh(&self, timeout: Duration) -> Result<(), String> {
        self.wait_for_mesh_of(ROUTES_PER_PEER, timeout)
    }

    /// Like [`Cluster::wait_for_mesh`] with `per_peer` route connections
    /// between each pair (e.g. 5 with one more pinned account).
    pub fn wait_for_mesh_of(&self, per_peer: usize, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        let peers = self.running().count().saturating_sub(1);
        for node in self.running() {
            let left = deadline.saturating_duration_since(Instant::now());
            node.wait_for_routes(peers, per_peer, left)
                .map_err(|e| format!("{e}\ncluster {}", self.describe()))?;
        }
        Ok(())
    }

    /// The log lines of every node (all incarnations), each prefixed with
    /// the node's label, for failure messages.
    pub fn logs(&self) -> String {
        let mut out = String::new();
        for node in &self.nodes {
            for line in node.all_log_lines() {
                out.push_str(&node.label());
                out.push_str(" | ");
                out.push_str(&line);
                out.push('\n');
            }
        }
        out
    }
}
