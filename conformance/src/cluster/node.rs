//! One server of a cluster: what to run (ours or the reference), how its
//! cluster is configured (flags or a `cluster {}` block), its ports, and
//! kill -9 / restart on the same ports.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::server::{free_port, ServerLog};
use crate::{our_binary, reference_binary, ServerProcess};

use super::http::get_json;

/// Attempts with fresh ports when a first start fails (a port was taken).
const START_ATTEMPTS: usize = 3;

/// Attempts to bind the old ports again on restart (they may linger).
const RESTART_ATTEMPTS: usize = 10;

/// Pause between restart attempts.
const RESTART_PAUSE: Duration = Duration::from_millis(300);

/// Poll interval while waiting for `/routez`.
const POLL: Duration = Duration::from_millis(100);

/// Distinguishes the configuration files of nodes started by one process.
static CONF_COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Which binary a node runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Our `nats-server` (see [`crate::our_binary`]).
    Ours,
    /// The official `nats-server` (see [`crate::reference_binary`]).
    Reference,
}

impl Kind {
    /// The path of the binary.
    pub fn binary(self) -> PathBuf {
        match self {
            Kind::Ours => our_binary(),
            Kind::Reference => reference_binary(),
        }
    }

    /// A short label for messages: `ours` or `ref`.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Ours => "ours",
            Kind::Reference => "ref",
        }
    }
}

/// Credentials other servers must present to open a route to a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteAuth {
    /// `cluster.authorization.user`.
    pub user: String,
    /// `cluster.authorization.password`.
    pub password: String,
}

impl RouteAuth {
    /// The credentials of the default container configuration
    /// (`containers/nats-server.conf`).
    pub fn container_default() -> RouteAuth {
        RouteAuth {
            user: "ruser".into(),
            password: "T0pS3cr3t".into(),
        }
    }
}

/// Where a node's cluster settings are given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClusterVia {
    /// `--cluster nats://[user:pass@]127.0.0.1:<port> --cluster_name <name> --routes <urls>`.
    Flags,
    /// A `cluster { name, host, port, authorization, routes }` block in the config file.
    Config,
    /// The spec's config text is the whole configuration, with the
    /// placeholders `{client_port}`, `{cluster_port}` and `{monitor_port}`
    /// replaced by the node's ports; routes are passed as `--routes=<urls>`.
    Verbatim,
}

/// Everything needed to start one node.
#[derive(Debug, Clone)]
pub struct NodeSpec {
    /// Which binary to run.
    pub kind: Kind,
    /// The server name (`server_name` / `-n`).
    pub name: String,
    /// The cluster name (with [`ClusterVia::Flags`], empty means no
    /// `--cluster_name`: the server generates one and adopts its peers').
    pub cluster_name: String,
    /// Flags or a config block.
    pub via: ClusterVia,
    /// Route credentials required by this node (and used in its URLs).
    pub auth: Option<RouteAuth>,
    /// Route URLs this node solicits.
    pub routes: Vec<String>,
    /// Further configuration text (e.g. `accounts {}`), written to the config file.
    pub config: String,
    /// Further lines inside the `cluster {}` block (with [`ClusterVia::Config`]),
    /// e.g. `accounts: [ACC]` or `pool_size: 5`.
    pub cluster_config: String,
    /// Further command-line arguments (e.g. `-DV`).
    pub args: Vec<String>,
}

impl NodeSpec {
    /// A node of `kind` named `name` in cluster `cluster_name`, configured by
    /// flags, without routes, credentials or extra configuration.
    pub fn new(kind: Kind, name: &str, cluster_name: &str) -> NodeSpec {
        NodeSpec {
            kind,
            name: name.into(),
            cluster_name: cluster_name.into(),
            via: ClusterVia::Flags,
            auth: None,
            routes: Vec::new(),
            config: String::new(),
            cluster_config: String::new(),
            args: Vec::new(),
        }
    }

    /// Sets where the cluster settings are given.
    pub fn via(mut self, via: ClusterVia) -> NodeSpec {
        self.via = via;
        self
    }

    /// Requires route credentials.
    pub fn auth(mut self, auth: Option<RouteAuth>) -> NodeSpec {
        self.auth = auth;
        self
    }

    /// Adds a route URL to solicit.
    pub fn route(mut self, url: String) -> NodeSpec {
        self.routes.push(url);
        self
    }

    /// Appends configuration text.
    pub fn config(mut self, text: &str) -> NodeSpec {
        self.config.push_str(text);
        self.config.push('\n');
        self
    }

    /// Appends a line to the `cluster {}` block (with [`ClusterVia::Config`]).
    pub fn cluster_line(mut self, line: &str) -> NodeSpec {
        self.cluster_config.push_str("  ");
        self.cluster_config.push_str(line);
        self.cluster_config.push('\n');
        self
    }

    /// Appends command-line arguments.
    pub fn args(mut self, args: &[&str]) -> NodeSpec {
        self.args.extend(args.iter().map(|a| a.to_string()));
        self
    }
}

/// The three loopback ports of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ports {
    /// Client connections.
    pub client: u16,
    /// Route connections.
    pub cluster: u16,
    /// HTTP monitoring.
    pub monitor: u16,
}

impl Ports {
    fn fresh() -> Ports {
        Ports {
            client: free_port(),
            cluster: free_port(),
            monitor: free_port(),
        }
    }
}

/// A started node; the process is killed when the node is dropped.
pub struct Node {
    spec: NodeSpec,
    ports: Ports,
    conf: PathBuf,
    process: Option<ServerProcess>,
    /// Logs of earlier incarnations (before a kill), oldest first.
    past_logs: Vec<ServerLog>,
}

impl Node {
    /// Starts a node on free ports (trying fresh ones if a port was taken).
    /// Panics when it cannot be started.
    pub fn start(spec: NodeSpec) -> Node {
        let serial = CONF_COUNTER.fetch_add(1, Ordering::SeqCst);
        let conf = std::env::temp_dir().join(format!(
            "nats-cluster-{}-{serial}-{}.conf",
            std::process::id(),
            spec.name
        ));
        let mut node = Node {
            spec,
            ports: Ports::fresh(),
            conf,
            process: None,
            past_logs: Vec::new(),
        };
        let mut last_error = String::new();
        for _ in 0..START_ATTEMPTS {
            match node.try_spawn() {
                Ok(process) => {
                    node.process = Some(process);
                    return node;
                }
                Err(message) => {
                    last_error = message;
                    node.ports = Ports::fresh();
                }
            }
        }
        panic!(
            "could not start {} node {}: {last_error}",
            node.spec.kind.label(),
            node.spec.name
        );
    }

    fn try_spawn(&self) -> Result<ServerProcess, String> {
        std::fs::write(&self.conf, self.config_text())
            .map_err(|e| format!("write {}: {e}", self.conf.display()))?;
        let args = self.command_args();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        ServerProcess::try_start_on_port(&self.spec.kind.binary(), self.ports.client, &args)
    }

    /// The configuration file's text.
    pub fn config_text(&self) -> String {
        let mut text = String::new();
        if self.spec.via == ClusterVia::Config {
            text.push_str(&format!("server_name: \"{}\"\n", self.spec.name));
            text.push_str("cluster {\n");
            text.push_str(&format!("  name: \"{}\"\n", self.spec.cluster_name));
            text.push_str("  host: \"127.0.0.1\"\n");
            text.push_str(&format!("  port: {}\n", self.ports.cluster));
            if let Some(auth) = &self.spec.auth {
                text.push_str(&format!(
                    "  authorization {{\n    user: \"{}\"\n    password: \"{}\"\n    timeout: 2\n  }}\n",
                    auth.user, auth.password
                ));
            }
            text.push_str("  routes = [\n");
            for url in &self.spec.routes {
                text.push_str(&format!("    \"{url}\"\n"));
            }
            text.push_str("  ]\n");
            text.push_str(&self.spec.cluster_config);
            text.push_str("}\n");
        }
        text.push_str(&self.spec.config);
        text.replace("{client_port}", &self.ports.client.to_string())
            .replace("{cluster_port}", &self.ports.cluster.to_string())
            .replace("{monitor_port}", &self.ports.monitor.to_string())
    }

    /// The command-line arguments after `-a 127.0.0.1 -p <client port>`.
    pub fn command_args(&self) -> Vec<String> {
        let mut args = vec![
            "-c".to_string(),
            self.conf.to_string_lossy().into_owned(),
            "-m".to_string(),
            self.ports.monitor.to_string(),
        ];
        if self.spec.via == ClusterVia::Flags {
            let userinfo = match &self.spec.auth {
                Some(auth) => format!("{}:{}@", auth.user, auth.password),
                None => String::new(),
            };
            args.extend([
                "-n".to_string(),
                self.spec.name.clone(),
                "--cluster".to_string(),
                format!("nats://{userinfo}127.0.0.1:{}", self.ports.cluster),
            ]);
            if !self.spec.cluster_name.is_empty() {
                args.extend(["--cluster_name".to_string(), self.spec.cluster_name.clone()]);
            }
            if !self.spec.routes.is_empty() {
                args.push("--routes".to_string());
                args.push(self.spec.routes.join(","));
            }
        }
        if self.spec.via == ClusterVia::Verbatim && !self.spec.routes.is_empty() {
            args.push(format!("--routes={}", self.spec.routes.join(",")));
        }
        args.extend(self.spec.args.iter().cloned());
        args
    }

    /// What this node was started with.
    pub fn spec(&self) -> &NodeSpec {
        &self.spec
    }

    /// Its ports.
    pub fn ports(&self) -> Ports {
        self.ports
    }

    /// `nats://127.0.0.1:<client port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.ports.client)
    }

    /// `127.0.0.1:<client port>`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.ports.client)
    }

    /// `nats-route://[user:pass@]127.0.0.1:<cluster port>`, with this node's
    /// own route credentials when it requires some.
    pub fn route_url(&self) -> String {
        self.route_url_on(self.ports.cluster)
    }

    /// Like [`Node::route_url`] but on another port (e.g. a [`super::TcpProxy`]
    /// in front of this node).
    pub fn route_url_on(&self, port: u16) -> String {
        let userinfo = match &self.spec.auth {
            Some(auth) => format!("{}:{}@", auth.user, auth.password),
            None => String::new(),
        };
        format!("nats-route://{userinfo}127.0.0.1:{port}")
    }

    /// A label such as `ours:A` for messages.
    pub fn label(&self) -> String {
        format!("{}:{}", self.spec.kind.label(), self.spec.name)
    }

    /// Whether the process is running (not killed).
    pub fn is_running(&self) -> bool {
        self.process.is_some()
    }

    /// The process id, while running.
    pub fn pid(&self) -> Option<u32> {
        self.process.as_ref().map(ServerProcess::pid)
    }

    /// Log lines of the current incarnation (empty while killed).
    pub fn log_lines(&self) -> Vec<String> {
        self.process
            .as_ref()
            .map(ServerProcess::log_lines)
            .unwrap_or_default()
    }

    /// Log lines of every incarnation, oldest first.
    pub fn all_log_lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self.past_logs.iter().flat_map(ServerLog::lines).collect();
        lines.extend(self.log_lines());
        lines
    }

    /// Waits (bounded) until a log line of the current incarnation contains `needle`.
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) -> bool {
        self.process
            .as_ref()
            .is_some_and(|p| p.wait_for_log(needle, timeout))
    }

    /// Kills the process with SIGKILL (no shutdown, as `kill -9`).
    pub fn kill(&mut self) {
        if let Some(process) = self.process.take() {
            self.past_logs.push(process.log_handle());
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &process.pid().to_string()])
                .status();
            drop(process); // reaps it
        }
    }

    /// Starts the node again with the same arguments on the same ports
    /// (kills it first if it is running). Panics if it cannot be started.
    pub fn restart(&mut self) {
        self.kill();
        let mut last_error = String::new();
        for _ in 0..RESTART_ATTEMPTS {
            match self.try_spawn() {
                Ok(process) => {
                    self.process = Some(process);
                    return;
                }
                Err(message) => {
                    last_error = message;
                    thread::sleep(RESTART_PAUSE);
                }
            }
        }
        panic!("could not restart {}: {last_error}", self.label());
    }

    /// `/routez` as JSON.
    pub fn routez(&self) -> Result<serde_json::Value, String> {
        get_json(self.ports.monitor, "/routez")
    }

    /// `/varz` as JSON.
    pub fn varz(&self) -> Result<serde_json::Value, String> {
        get_json(self.ports.monitor, "/varz")
    }

    /// What `/routez` says now: `num_routes` and the distinct remote server ids.
    pub fn route_view(&self) -> Result<RouteView, String> {
        RouteView::from_routez(&self.routez()?)
    }

    /// Waits (bounded) until `/routez` shows `want` distinct remote servers
    /// over `want * per_peer` route connections. Returns the last view, or
    /// an error describing it.
    pub fn wait_for_routes(
        &self,
        want: usize,
        per_peer: usize,
        timeout: Duration,
    ) -> Result<RouteView, String> {
        let deadline = Instant::now() + timeout;
        let mut last = Err("never polled".to_string());
        while Instant::now() < deadline {
            last = self.route_view();
            if let Ok(view) = &last {
                if view.peers.len() == want && view.num_routes == want * per_peer {
                    return last;
                }
            }
            thread::sleep(POLL);
        }
        Err(format!(
            "{}: wanted {want} peers over {} routes within {timeout:?}, last /routez view: {last:?}",
            self.label(),
            want * per_peer
        ))
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.conf);
    }
}

/// The part of `/routez` the harness waits on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteView {
    /// `num_routes`.
    pub num_routes: usize,
    /// Distinct `remote_id`s of the listed routes, sorted.
    pub peers: Vec<String>,
    /// Distinct `remote_name`s of the listed routes, sorted.
    pub peer_names: Vec<String>,
}

impl RouteView {
    /// Extracts the view from a `/routez` document.
    pub fn from_routez(routez: &serde_json::Value) -> Result<RouteView, String> {
        let num_routes = routez["num_routes"]
            .as_u64()
            .ok_or_else(|| format!("/routez has no num_routes: {routez}"))?;
        let routes = routez["routes"].as_array().cloned().unwrap_or_default();
        let distinct = |key: &str| {
            let mut values: Vec<String> = routes
                .iter()
                .filter_map(|r| r[key].as_str().map(str::to_string))
                .collect();
            values.sort();
            values.dedup();
            values
        };
        Ok(RouteView {
            num_routes: num_routes as usize,
            peers: distinct("remote_id"),
            peer_names: distinct("remote_name"),
        })
    }
}
