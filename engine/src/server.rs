//! Server-wide state shared by every connection: options, the subscription index, the
//! client registry and counters.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use parking_lot::Mutex;
use proto::ServerInfo;

use crate::account::{Account, GLOBAL_ACCOUNT, SYSTEM_ACCOUNT};
use crate::client::{Client, ClientShared};
use crate::client_info::ClosedClient;
use crate::sublist::SharedSublist;
use crate::CloseReason;
use crate::{ServerConfig, SubRef};

/// The version this server reports in INFO and `-v`: the reference release whose behaviour
/// it matches.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Protocol level reported in INFO.
pub const PROTO_LEVEL: i64 = 1;

/// Server-wide counters, updated once per read batch (not per message).
#[derive(Debug, Default)]
pub struct ServerStats {
    /// Messages received from clients.
    pub in_msgs: AtomicU64,
    /// Payload bytes received from clients.
    pub in_bytes: AtomicU64,
    /// Messages sent to clients.
    pub out_msgs: AtomicU64,
    /// Payload bytes sent to clients.
    pub out_bytes: AtomicU64,
    /// Connections accepted since start.
    pub total_connections: AtomicU64,
    /// Clients cut off as slow consumers.
    pub slow_consumers: AtomicU64,
}

/// Randomness the server needs, injected so runs can be replayed.
#[derive(Debug, Clone, Copy)]
pub struct ServerSeed {
    /// Seed of the server's identity key.
    pub identity: [u8; 32],
    /// Seed of per-connection random choices (queue member selection).
    pub rng: u64,
}

/// State shared by all connections of one server. Cheap to share (`Arc`); every method takes
/// `&self`.
#[derive(Debug)]
pub struct Server {
    config: ServerConfig,
    info: ServerInfo,
    /// The global account's subscriptions (kept here for monitoring of the default account).
    pub(crate) sublist: Arc<SharedSublist<SubRef>>,
    /// Every account by name (`$G` and `$SYS` always exist).
    accounts: HashMap<String, Arc<Account>>,
    clients: Mutex<HashMap<u64, Arc<ClientShared>>>,
    closed: Mutex<VecDeque<ClosedClient>>,
    next_cid: AtomicU64,
    rng_seed: u64,
    nonce_key: [u8; 32],
    shutting_down: AtomicBool,
    /// Counters.
    pub stats: ServerStats,
    start: Instant,
}

/// Encodes `raw` as an NKEY-style public key with the given type prefix byte.
fn public_key(prefix: nkeys::KeyPairType, raw: [u8; 32]) -> String {
    match nkeys::KeyPair::new_from_raw(prefix, raw) {
        Ok(kp) => kp.public_key(),
        Err(_) => String::from("NSERVER"),
    }
}

/// A key for nonces, derived from (not equal to) the identity seed.
fn nonce_key(identity: &[u8; 32]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(b"nats-nonce-key");
    h.update(identity);
    h.finalize().into()
}

impl Server {
    /// A server with the given options, started at `now`.
    pub fn new(config: ServerConfig, seed: ServerSeed, now: Instant) -> Arc<Server> {
        let server_id = public_key(nkeys::KeyPairType::Server, seed.identity);
        let info = ServerInfo {
            server_name: config
                .server_name
                .clone()
                .unwrap_or_else(|| server_id.clone()),
            server_id,
            version: VERSION.to_string(),
            proto: PROTO_LEVEL,
            host: config.host.clone(),
            port: config.port,
            headers: config.headers,
            max_payload: i64::from(config.max_payload),
            ..ServerInfo::default()
        };
        let global = Account::new(GLOBAL_ACCOUNT);
        let mut accounts = HashMap::new();
        accounts.insert(GLOBAL_ACCOUNT.to_string(), global.clone());
        accounts.insert(SYSTEM_ACCOUNT.to_string(), Account::new(SYSTEM_ACCOUNT));
        for a in &config.accounts {
            accounts
                .entry(a.name.clone())
                .or_insert_with(|| Account::new(a.name.clone()));
        }
        Arc::new(Server {
            config,
            info,
            sublist: global.sublist.clone(),
            accounts,
            clients: Mutex::new(HashMap::new()),
            closed: Mutex::new(VecDeque::new()),
            next_cid: AtomicU64::new(1),
            rng_seed: seed.rng,
            nonce_key: nonce_key(&seed.identity),
            shutting_down: AtomicBool::new(false),
            stats: ServerStats::default(),
            start: now,
        })
    }

    /// The nonce INFO carries for connection `cid` (NKEY authentication).
    pub(crate) fn nonce_for(&self, cid: u64) -> String {
        crate::auth::nonce_for(&self.nonce_key, cid)
    }

    /// The options in force.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// The server's INFO, without per-client fields.
    pub fn info(&self) -> &ServerInfo {
        &self.info
    }

    /// The server id (public key).
    pub fn id(&self) -> &str {
        &self.info.server_id
    }

    /// The server name.
    pub fn name(&self) -> &str {
        &self.info.server_name
    }

    /// When the server started.
    pub fn start_time(&self) -> Instant {
        self.start
    }

    /// Number of connected clients.
    pub fn num_clients(&self) -> usize {
        self.clients.lock().len()
    }

    /// Number of subscriptions in all accounts.
    pub fn num_subscriptions(&self) -> usize {
        self.accounts.values().map(|a| a.sublist.count()).sum()
    }

    /// The account named `name`, if configured.
    pub fn account(&self, name: &str) -> Option<&Arc<Account>> {
        self.accounts.get(name)
    }

    /// The account clients without one belong to (`$G`).
    pub fn global_account(&self) -> &Arc<Account> {
        &self.accounts[GLOBAL_ACCOUNT]
    }

    /// Every account, in no particular order.
    pub fn accounts(&self) -> impl Iterator<Item = &Arc<Account>> {
        self.accounts.values()
    }

    /// Whether [`Server::shutdown`] was called.
    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::Acquire)
    }

    /// Accepts a new client connection from `peer` at `now`. The returned [`Client`] already
    /// holds the INFO to send (or the error and close, when over `max_connections` or shutting
    /// down): drain its outbound queue first.
    pub fn accept(self: &Arc<Self>, peer: SocketAddr, now: Instant) -> Client {
        let cid = self.next_cid.fetch_add(1, Ordering::Relaxed);
        let shared = Arc::new(ClientShared::new(cid, peer, now, self.config.max_pending));
        let admitted = {
            let mut clients = self.clients.lock();
            let full =
                self.config.max_connections > 0 && clients.len() >= self.config.max_connections;
            if full || self.is_shutting_down() {
                false
            } else {
                clients.insert(cid, shared.clone());
                true
            }
        };
        if admitted {
            self.stats.total_connections.fetch_add(1, Ordering::Relaxed);
        }
        let rng = self.rng_seed ^ cid.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        Client::new(self.clone(), shared, admitted, rng, now)
    }

    /// Removes a client from the registry and remembers it among the closed connections
    /// (called by [`Client`] when it finishes).
    pub(crate) fn remove_client(&self, cid: u64, now: Instant, reason: CloseReason) -> bool {
        let Some(shared) = self.clients.lock().remove(&cid) else {
            return false;
        };
        let closed = ClosedClient {
            snapshot: shared.snapshot(),
            stop: now,
            reason,
        };
        let mut ring = self.closed.lock();
        if self.config.max_closed_clients > 0 {
            if ring.len() >= self.config.max_closed_clients {
                ring.pop_front();
            }
            ring.push_back(closed);
        }
        true
    }

    /// The most recently closed connections, oldest first (at most `max_closed_clients`).
    pub fn closed_clients(&self) -> Vec<ClosedClient> {
        self.closed.lock().iter().cloned().collect()
    }

    /// Snapshot of the connected clients.
    pub fn clients(&self) -> Vec<Arc<ClientShared>> {
        self.clients.lock().values().cloned().collect()
    }

    /// Starts shutting down: new connections are refused and every client is told to close
    /// with [`crate::CloseReason::ServerShutdown`].
    pub fn shutdown(&self) {
        self.shutting_down.store(true, Ordering::Release);
        for c in self.clients() {
            c.outbound.close(crate::CloseReason::ServerShutdown);
        }
    }
}
