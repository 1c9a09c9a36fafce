//! Server-wide state shared by every connection: options, the subscription index, the
//! client registry and counters.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use parking_lot::{Mutex, RwLock};
use proto::ServerInfo;

use crate::account::{Account, AccountConfig, GLOBAL_ACCOUNT, SYSTEM_ACCOUNT};
use crate::client::{Client, ClientShared};
use crate::client_info::ClosedClient;
use crate::import::{authorize, ExportKind, SubjectMapping};
use crate::route::{RouteConn, RouteDial, RouteSlot, RouteStart, RouteTable, RouteUrl};
use crate::subscription::{ImportRoute, Subscription};
use crate::system::{SystemEvent, SystemHandler};
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
    /// Clients closed for not answering PINGs (`/varz` `stale_connections`).
    pub stale_connections: AtomicU64,
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
    /// Options and INFO in force; replaced as a whole by [`Server::reload`].
    live: RwLock<Live>,
    /// Bumped by every reload, so connections notice cheaply.
    config_generation: AtomicU64,
    server_id: String,
    server_name: String,
    /// Every account by name (`$G` and `$SYS` always exist).
    accounts: RwLock<HashMap<String, Arc<Account>>>,
    /// The global account `$G`.
    global: Arc<Account>,
    clients: Mutex<HashMap<u64, Arc<ClientShared>>>,
    closed: Mutex<VecDeque<ClosedClient>>,
    next_cid: AtomicU64,
    rng_seed: u64,
    next_response: AtomicU64,
    nonce_key: [u8; 32],
    shutting_down: AtomicBool,
    lame_duck: AtomicBool,
    /// Where the system account's events go (installed by the runtime).
    system_handler: RwLock<Option<Arc<dyn SystemHandler>>>,
    /// Counters.
    pub stats: ServerStats,
    start: Instant,
    /// Routes to the other servers of the cluster.
    routes: Arc<RouteTable>,
}

/// Encodes `raw` as an NKEY-style public key with the given type prefix byte.
fn public_key(prefix: nkeys::KeyPairType, raw: [u8; 32]) -> String {
    match nkeys::KeyPair::new_from_raw(prefix, raw) {
        Ok(kp) => kp.public_key(),
        Err(_) => String::from("NSERVER"),
    }
}

/// Sets up the forwarding subscriptions of every authorized import (unauthorized ones were
/// refused when the configuration was read).
fn install_imports(configs: &[AccountConfig], accounts: &HashMap<String, Arc<Account>>) {
    for importer_cfg in configs {
        let Some(importer) = accounts.get(&importer_cfg.name) else {
            continue;
        };
        for import in &importer_cfg.imports {
            let exports = configs
                .iter()
                .find(|c| c.name == import.account)
                .map(|c| c.exports.as_slice());
            let (Some(exporter), Ok(())) = (
                accounts.get(&import.account),
                authorize(&importer_cfg.name, import, exports),
            ) else {
                continue;
            };
            let (home, subject, route) = match import.kind {
                ExportKind::Stream => (
                    exporter,
                    import.subject.clone(),
                    ImportRoute {
                        to: importer.clone(),
                        mapping: SubjectMapping::new(
                            &import.subject,
                            import.to.as_deref(),
                            import.prefix.as_deref(),
                        ),
                        service: false,
                    },
                ),
                ExportKind::Service => {
                    let local = import.to.clone().unwrap_or_else(|| import.subject.clone());
                    (
                        importer,
                        local.clone(),
                        ImportRoute {
                            to: exporter.clone(),
                            mapping: SubjectMapping::new(&local, Some(&import.subject), None),
                            service: true,
                        },
                    )
                }
            };
            let sub = SubRef(Arc::new(Subscription::forwarder(
                home.clone(),
                bytes::Bytes::from(subject),
                route,
            )));
            if home.insert_sub(&sub).is_ok() {
                home.internal
                    .counters
                    .subscriptions
                    .fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// The options and INFO in force together.
#[derive(Debug)]
struct Live {
    config: Arc<ServerConfig>,
    info: Arc<ServerInfo>,
}

/// The INFO template for `config`.
fn info_for(config: &ServerConfig, server_id: &str, server_name: &str) -> ServerInfo {
    ServerInfo {
        server_name: server_name.to_string(),
        server_id: server_id.to_string(),
        version: VERSION.to_string(),
        proto: PROTO_LEVEL,
        host: config.host.clone(),
        port: config.port,
        headers: config.headers,
        max_payload: i64::from(config.max_payload),
        auth_required: config.auth.is_required(),
        tls_required: config.tls.is_some(),
        tls_verify: config.tls.as_ref().is_some_and(|t| t.verifies_clients()),
        ..ServerInfo::default()
    }
}

/// What a successful [`Server::reload`] did to live connections.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReloadOutcome {
    /// Clients closed because the new `max_connections` is lower than their number.
    pub closed_over_max_connections: usize,
    /// What changed in the cluster (name, removed routes, restarted connections).
    pub cluster: crate::route::ClusterReload,
}

/// Why a reload was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReloadError {
    /// An option that cannot change while running.
    #[error("config reload not supported for {option}: old={old}, new={new}")]
    NotSupported {
        /// The option's name as the reference spells it.
        option: &'static str,
        /// Its value in force.
        old: String,
        /// The value asked for.
        new: String,
    },
}

/// `len` base-62 characters drawn one by one from a splitmix64 stream seeded with `seed`
/// (every character random, as the reference's generated cluster names).
fn random_base62(seed: u64, len: usize) -> String {
    let mut state = seed;
    (0..len)
        .map(|_| {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            BASE62_DIGITS[(z % 62) as usize] as char
        })
        .collect()
}

const BASE62_DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `n` in `len` base-62 digits (low digits first).
fn base62(mut n: u64, len: usize) -> String {
    const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    (0..len)
        .map(|_| {
            let d = DIGITS[(n % 62) as usize] as char;
            n /= 62;
            d
        })
        .collect()
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
        let server_name = config
            .server_name
            .clone()
            .unwrap_or_else(|| server_id.clone());
        let info = info_for(&config, &server_id, &server_name);
        let global = Account::new(GLOBAL_ACCOUNT, now);
        let mut accounts = HashMap::new();
        accounts.insert(GLOBAL_ACCOUNT.to_string(), global.clone());
        accounts.insert(
            SYSTEM_ACCOUNT.to_string(),
            Account::new(SYSTEM_ACCOUNT, now),
        );
        for a in &config.accounts {
            accounts
                .entry(a.name.clone())
                .or_insert_with(|| Account::new(a.name.clone(), now));
        }
        let routes = Arc::new(RouteTable::default());
        if let Some(cluster) = &config.cluster {
            match &cluster.name {
                Some(name) => routes.set_name(name.clone(), false),
                None => routes.set_name(
                    random_base62(seed.rng.rotate_left(29) ^ 0x5bd1_e995, 22),
                    true,
                ),
            }
        }
        let import = config
            .cluster
            .as_ref()
            .and_then(|c| c.permissions.as_ref())
            .and_then(|p| p.import.clone());
        for a in accounts.values() {
            a.attach_routes(&routes, import.clone());
        }
        install_imports(&config.accounts, &accounts);
        Arc::new(Server {
            routes,
            live: RwLock::new(Live {
                config: Arc::new(config),
                info: Arc::new(info),
            }),
            config_generation: AtomicU64::new(0),
            server_id,
            server_name,
            accounts: RwLock::new(accounts),
            global,
            clients: Mutex::new(HashMap::new()),
            closed: Mutex::new(VecDeque::new()),
            next_cid: AtomicU64::new(1),
            rng_seed: seed.rng,
            next_response: AtomicU64::new(1),
            nonce_key: nonce_key(&seed.identity),
            shutting_down: AtomicBool::new(false),
            lame_duck: AtomicBool::new(false),
            system_handler: RwLock::new(None),
            stats: ServerStats::default(),
            start: now,
        })
    }

    /// Opens a one-shot route for the answer to a service request: a fresh `_R_.` reply
    /// subject in `exporter` whose first message is re-published to `reply` in `importer`.
    pub(crate) fn response_route(
        &self,
        exporter: &Arc<Account>,
        importer: &Arc<Account>,
        reply: &[u8],
        now: Instant,
    ) -> bytes::Bytes {
        let n = self.next_response.fetch_add(1, Ordering::Relaxed);
        let mixed = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ self.rng_seed;
        let subject = format!(
            "_R_.{}.{}",
            base62(self.rng_seed.rotate_left(17), 6),
            base62(mixed, 6)
        );
        let subject = bytes::Bytes::from(subject);
        let route = ImportRoute {
            to: importer.clone(),
            mapping: SubjectMapping::Template {
                from: subject.clone(),
                to: bytes::Bytes::copy_from_slice(reply),
            },
            service: false,
        };
        let sub = SubRef(Arc::new(Subscription::forwarder(
            exporter.clone(),
            subject.clone(),
            route,
        )));
        sub.set_max(1);
        if exporter.insert_sub(&sub).is_ok() {
            exporter
                .internal
                .counters
                .subscriptions
                .fetch_add(1, Ordering::Relaxed);
        }
        for stale in exporter.track_response(sub, now) {
            crate::client::retire(&stale);
        }
        subject
    }

    /// The nonce INFO carries for connection `cid` (NKEY authentication).
    pub(crate) fn nonce_for(&self, cid: u64) -> String {
        crate::auth::nonce_for(&self.nonce_key, cid)
    }

    /// The options in force (a snapshot: a reload replaces them as a whole).
    pub fn config(&self) -> Arc<ServerConfig> {
        self.live.read().config.clone()
    }

    /// The server's INFO, without per-client fields.
    pub fn info(&self) -> Arc<ServerInfo> {
        self.live.read().info.clone()
    }

    /// Changes with every successful [`Server::reload`].
    pub fn config_generation(&self) -> u64 {
        self.config_generation.load(Ordering::Acquire)
    }

    /// Applies new options without dropping connections, as the reference's config reload
    /// does. Options that cannot change at run time are refused (nothing is applied then).
    /// New accounts are created; connections keep the account and permissions they have.
    /// Returns what the reload did to live connections.
    pub fn reload(&self, new: ServerConfig) -> Result<ReloadOutcome, ReloadError> {
        let old = self.config();
        let fixed = |option: &'static str, o: String, n: String| {
            if o == n {
                Ok(())
            } else {
                Err(ReloadError::NotSupported {
                    option,
                    old: o,
                    new: n,
                })
            }
        };
        fixed("Host", old.host.clone(), new.host.clone())?;
        fixed("Port", old.port.to_string(), new.port.to_string())?;
        fixed(
            "ServerName",
            old.server_name.clone().unwrap_or_default(),
            new.server_name.clone().unwrap_or_default(),
        )?;
        crate::route::reload::check(old.cluster.as_ref(), new.cluster.as_ref())?;
        let import = new
            .cluster
            .as_ref()
            .and_then(|c| c.permissions.as_ref())
            .and_then(|p| p.import.clone());
        {
            let mut accounts = self.accounts.write();
            for a in &new.accounts {
                accounts.entry(a.name.clone()).or_insert_with(|| {
                    let account = Account::new(a.name.clone(), self.start);
                    account.attach_routes(&self.routes, import.clone());
                    account
                });
            }
            for account in accounts.values() {
                account.set_route_import(import.clone());
            }
        }
        let info = info_for(&new, &self.server_id, &self.server_name);
        // Like the reference, connections whose credentials the new configuration no longer
        // accepts are told so and closed at once.
        if new.auth != old.auth {
            for c in self.clients() {
                let Some(connect) = c.connect.get() else {
                    continue;
                };
                let nonce = new.auth.needs_nonce().then(|| self.nonce_for(c.cid));
                if new.auth.authenticate(&connect, nonce.as_deref()).is_err() {
                    c.outbound.queue(None, |buf| {
                        proto::encode::err(buf, "Authorization Violation")
                    });
                    c.outbound.close(CloseReason::AuthenticationViolation);
                    c.outbound.flush();
                }
            }
        }
        let closed_over_max_connections = self.close_over_max_connections(new.max_connections);
        let mut new = new;
        if let (Some(o), Some(n)) = (old.cluster.as_ref(), new.cluster.as_mut()) {
            // A port of 0 (any free port) keeps the one listened on.
            if n.port == 0 {
                n.port = o.port;
            }
        }
        let new = Arc::new(new);
        *self.live.write() = Live {
            config: new.clone(),
            info: Arc::new(info),
        };
        self.config_generation.fetch_add(1, Ordering::AcqRel);
        let cluster = crate::route::reload::apply(self, old.cluster.as_ref(), new.cluster.as_ref());
        Ok(ReloadOutcome {
            closed_over_max_connections,
            cluster,
        })
    }

    /// Closes the newest clients past a lowered `max_connections` (0: no limit), each told
    /// `-ERR 'maximum connections exceeded'` as the reference does on reload. Returns how many.
    fn close_over_max_connections(&self, max: usize) -> usize {
        if max == 0 {
            return 0;
        }
        let mut open: Vec<_> = self
            .clients()
            .into_iter()
            .filter(|c| c.outbound.close_reason().is_none())
            .collect();
        if open.len() <= max {
            return 0;
        }
        open.sort_unstable_by_key(|c| c.cid);
        let excess = open.split_off(max);
        for c in &excess {
            c.outbound.queue(None, |buf| {
                proto::encode::err(buf, "maximum connections exceeded")
            });
            c.outbound.close(CloseReason::MaxConnectionsExceeded);
            c.outbound.flush();
        }
        excess.len()
    }

    /// The server id (public key).
    pub fn id(&self) -> &str {
        &self.server_id
    }

    /// The server name.
    pub fn name(&self) -> &str {
        &self.server_name
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
        self.accounts
            .read()
            .values()
            .map(|a| a.sublist.count())
            .sum()
    }

    /// The account named `name`, if configured.
    pub fn account(&self, name: &str) -> Option<Arc<Account>> {
        self.accounts.read().get(name).cloned()
    }

    /// The account clients without one belong to (`$G`).
    pub fn global_account(&self) -> &Arc<Account> {
        &self.global
    }

    /// Every account, in no particular order.
    pub fn accounts(&self) -> Vec<Arc<Account>> {
        self.accounts.read().values().cloned().collect()
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
        let config = self.config();
        let shared = Arc::new(ClientShared::new(cid, peer, now, config.max_pending));
        let admitted = {
            let mut clients = self.clients.lock();
            let full = config.max_connections > 0 && clients.len() >= config.max_connections;
            if full || self.is_shutting_down() || self.is_lame_duck() {
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
        let admission = if admitted {
            crate::client::Admission::Admitted
        } else {
            crate::client::Admission::Refused
        };
        Client::new(self.clone(), shared, admission, rng, now)
    }

    /// The cluster's routes (registered connections, dial queue, cluster name).
    pub fn routes(&self) -> &Arc<RouteTable> {
        &self.routes
    }

    /// Accounts with a dedicated route connection: the configured ones and `$SYS` (when
    /// pooling is on).
    pub fn pinned_accounts(&self) -> Vec<String> {
        let config = self.config();
        let Some(cluster) = config.cluster.as_ref() else {
            return Vec::new();
        };
        if cluster.pool_size == 0 {
            return Vec::new();
        }
        let mut out = cluster.pinned_accounts.clone();
        if !out.iter().any(|a| a == SYSTEM_ACCOUNT) {
            out.push(SYSTEM_ACCOUNT.to_string());
        }
        out
    }

    /// Starts clustering once the runtime bound the cluster listener: remembers its address
    /// and our client URLs, and queues a dial of every configured route.
    pub fn start_routes(&self, start: RouteStart) {
        self.routes.set_start(start);
        let routes = self
            .config()
            .cluster
            .as_ref()
            .map(|c| c.routes.clone())
            .unwrap_or_default();
        for url in routes {
            self.dial_route_set(url, true);
        }
    }

    /// Queues the dials of a peer's first pooled connection and its dedicated accounts (the
    /// rest of the pool follows the first PONG).
    pub(crate) fn dial_route_set(&self, url: RouteUrl, explicit: bool) {
        self.routes
            .queue_dial(RouteDial::new(url.clone(), RouteSlot::Pool(0), explicit));
        for account in self.pinned_accounts() {
            self.routes.queue_dial(RouteDial::new(
                url.clone(),
                RouteSlot::Pinned(account),
                explicit,
            ));
        }
    }

    /// Takes the routes to dial now or later (each says when), or registers `waker` to be
    /// woken when one is queued. The runtime dials each and calls
    /// [`Server::solicit_route`] or [`Server::route_dial_failed`].
    pub fn poll_route_dials(&self, waker: &std::task::Waker) -> Vec<RouteDial> {
        self.routes.poll_dials(waker)
    }

    /// A dial could not connect at `now`: it is queued again after the retry delay, or
    /// dropped when it ran out of attempts.
    pub fn route_dial_failed(&self, dial: RouteDial, now: Instant) {
        let retries = self
            .config()
            .cluster
            .as_ref()
            .map_or(0, |c| c.connect_retries);
        // A configured route a reload removed is not tried again.
        let removed = dial.explicit && !crate::route::reload::still_configured(self, &dial.url);
        match dial.clone().retry(now, retries) {
            Some(next) if !self.is_shutting_down() && !removed => self.routes.requeue_dial(next),
            _ => self.routes.dial_done(&dial),
        }
    }

    /// A route connection the peer at `peer` opened to our cluster port, at `now`. Its
    /// outbound queue already holds our INFO.
    pub fn accept_route(self: &Arc<Self>, peer: SocketAddr, now: Instant) -> RouteConn {
        self.new_route(None, peer, now)
    }

    /// A route connection we dialled for `dial`, connected to `peer` at `now`.
    pub fn solicit_route(
        self: &Arc<Self>,
        dial: RouteDial,
        peer: SocketAddr,
        now: Instant,
    ) -> RouteConn {
        self.new_route(Some(dial), peer, now)
    }

    fn new_route(
        self: &Arc<Self>,
        dial: Option<RouteDial>,
        peer: SocketAddr,
        now: Instant,
    ) -> RouteConn {
        let rid = self.next_cid.fetch_add(1, Ordering::Relaxed);
        let config = self.config();
        let shared = Arc::new(ClientShared::new(rid, peer, now, config.max_pending));
        let rng = self.rng_seed ^ rid.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let conn = RouteConn::new(self.clone(), shared, dial, rng, now);
        if self.is_shutting_down() {
            conn.shared().outbound.close(CloseReason::ServerShutdown);
        }
        conn
    }

    /// The client URLs of the cluster for INFO `connect_urls` (ours and every peer's),
    /// empty without a cluster or with `no_advertise`.
    pub fn cluster_client_urls(&self) -> Vec<String> {
        let config = self.config();
        let Some(cluster) = config.cluster.as_ref() else {
            return Vec::new();
        };
        if cluster.no_advertise || self.routes.is_empty() {
            return Vec::new();
        }
        let mut urls = self
            .routes
            .start_info()
            .map(|s| s.client_urls)
            .unwrap_or_default();
        for u in self.routes.peer_client_urls() {
            if !urls.contains(&u) {
                urls.push(u);
            }
        }
        urls
    }

    /// A peer joined or left, or changed its client URLs: clients that understand
    /// asynchronous INFO get the new `connect_urls`.
    pub(crate) fn cluster_changed(&self) {
        if self
            .config()
            .cluster
            .as_ref()
            .is_some_and(|c| c.no_advertise)
        {
            return;
        }
        let mut template = (*self.info()).clone();
        template.connect_urls = self.cluster_client_urls();
        for c in self.clients() {
            if c.connect.get().is_none_or(|ci| ci.protocol < 1) {
                continue;
            }
            let mut info = template.clone();
            info.client_id = Some(c.cid);
            info.client_ip = Some(c.peer.ip().to_string());
            if c.outbound
                .queue(None, |buf| proto::encode::info(buf, &info))
                == crate::outbound::Queued::NeedsFlush
            {
                c.outbound.flush();
            }
        }
    }

    /// Whether a peer may subscribe to `subject` through a route (the cluster's `export`).
    pub(crate) fn route_may_send(&self, subject: &[u8]) -> bool {
        self.route_rules(|p| p.export.as_ref(), subject)
    }

    fn route_rules(
        &self,
        pick: impl Fn(&crate::config::RoutePermissions) -> Option<&crate::auth::SubjectRules>,
        subject: &[u8],
    ) -> bool {
        let config = self.config();
        let rules = config
            .cluster
            .as_ref()
            .and_then(|c| c.permissions.as_ref())
            .and_then(pick);
        match rules {
            None => true,
            Some(r) if crate::subject::is_literal(subject) => r.allows_publish(subject),
            Some(r) => r.allows_subscribe(subject, None),
        }
    }

    /// Installs the receiver of the system account's events (requests, advisories).
    ///
    /// The first one installed also makes the request subjects it answers
    /// ([`crate::system::request_subjects`]) interest of the system account, announced to
    /// routes (`RS+` on the `$SYS` route), so peers forward requests such as
    /// `$SYS.REQ.SERVER.PING` to this server.
    pub fn set_system_handler(&self, handler: Arc<dyn SystemHandler>) {
        let first = self.system_handler.write().replace(handler).is_none();
        if first {
            if let Some(system) = self.account(SYSTEM_ACCOUNT) {
                for subject in crate::system::request_subjects(self.id()) {
                    system.add_internal_interest(subject.as_bytes());
                }
            }
        }
    }

    /// Whether a system handler is installed.
    pub(crate) fn has_system_handler(&self) -> bool {
        self.system_handler.read().is_some()
    }

    /// Hands an event to the system handler, if any.
    pub(crate) fn dispatch_system(&self, event: SystemEvent) {
        let handler = self.system_handler.read().clone();
        if let Some(h) = handler {
            h.handle(self, event);
        }
    }

    /// The system account (`$SYS`).
    pub fn system_account(&self) -> Arc<Account> {
        self.account(SYSTEM_ACCOUNT)
            .unwrap_or_else(|| self.global.clone())
    }

    /// Publishes a message from the server itself to the subscribers of `account` on
    /// `subject` (one member per queue group). Returns how many got it.
    pub fn publish_internal(&self, account: &Account, subject: &[u8], payload: &[u8]) -> usize {
        let result = account.sublist.matches(subject);
        let mut delivered = 0;
        let mut routes = crate::client::RouteSends::new();
        let mut deliver = |sub: &SubRef| {
            if sub.import.is_some() || sub.remote.is_some() {
                return false;
            }
            match sub.claim() {
                crate::subscription::Delivery::Skip => return false,
                crate::subscription::Delivery::Deliver => {}
                crate::subscription::Delivery::DeliverLast => crate::client::retire(sub),
            }
            let q = sub.client.outbound.queue(Some(payload.len()), |buf| {
                proto::encode::msg(buf, subject, &sub.sid, None, payload)
            });
            match q {
                crate::outbound::Queued::NeedsFlush => {
                    sub.client.outbound.flush();
                    true
                }
                crate::outbound::Queued::Scheduled => true,
                _ => false,
            }
        };
        for sub in &result.plain {
            if sub.remote.is_some() && !sub.is_closed() {
                crate::client::route_send(&mut routes, sub, None);
            } else if deliver(sub) {
                delivered += 1;
            }
        }
        for group in &result.queues {
            if group.members.iter().any(&mut deliver) {
                delivered += 1;
            } else if let Some(remote) = group
                .members
                .iter()
                .find(|s| s.remote.is_some() && !s.is_closed())
            {
                crate::client::route_send(&mut routes, remote, Some(&group.name));
            }
        }
        if delivered > 0 {
            self.stats
                .out_msgs
                .fetch_add(delivered as u64, Ordering::Relaxed);
            self.stats
                .out_bytes
                .fetch_add((delivered * payload.len()) as u64, Ordering::Relaxed);
        }
        // Peers with matching interest get one RMSG each (answers to their clients'
        // requests, advisories their clients listen to), counted as sent like the rest.
        let mut routed = 0;
        for send in &routes {
            let msg = (subject, None, &[][..], payload);
            match crate::client::queue_route_msg(send, msg, &mut bytes::BytesMut::new(), None) {
                crate::outbound::Queued::NeedsFlush => {
                    send.sub.client.outbound.flush();
                    routed += 1;
                }
                crate::outbound::Queued::Scheduled => routed += 1,
                _ => {}
            }
        }
        if routed > 0 {
            self.stats
                .out_msgs
                .fetch_add(routed as u64, Ordering::Relaxed);
            self.stats
                .out_bytes
                .fetch_add((routed * payload.len()) as u64, Ordering::Relaxed);
        }
        delivered + routed
    }

    /// Removes a client from the registry and remembers it among the closed connections
    /// (called by [`Client`] when it finishes, with the subscriptions it held). Returns the
    /// record it kept.
    pub(crate) fn remove_client(
        &self,
        cid: u64,
        now: Instant,
        reason: CloseReason,
        subs: Vec<crate::client_info::ClosedSub>,
    ) -> Option<ClosedClient> {
        let max_closed = self.config().max_closed_clients;
        // The registry stays locked until the record is kept, so nobody sees the client gone
        // from both (lock order: clients, then closed).
        let mut clients = self.clients.lock();
        let shared = clients.remove(&cid)?;
        let mut snapshot = shared.snapshot();
        snapshot.subscriptions = subs.len() as u64;
        let closed = ClosedClient {
            snapshot,
            stop: now,
            reason,
            subs,
        };
        let mut ring = self.closed.lock();
        if max_closed > 0 {
            if ring.len() >= max_closed {
                ring.pop_front();
            }
            ring.push_back(closed.clone());
        }
        drop(ring);
        drop(clients);
        Some(closed)
    }

    /// The most recently closed connections, oldest first (at most `max_closed_clients`).
    pub fn closed_clients(&self) -> Vec<ClosedClient> {
        self.closed.lock().iter().cloned().collect()
    }

    /// Snapshot of the connected clients.
    pub fn clients(&self) -> Vec<Arc<ClientShared>> {
        self.clients.lock().values().cloned().collect()
    }

    /// Enters lame duck mode: new connections are refused, and every connected client that
    /// understands asynchronous INFO (protocol 1) is told `"ldm":true` so it can move to
    /// another server. The runtime then closes the clients over the lame duck duration with
    /// [`Server::close_client`] and finally calls [`Server::shutdown`].
    pub fn enter_lame_duck(&self) {
        self.lame_duck.store(true, Ordering::Release);
        let template = self.info();
        for c in self.clients() {
            let speaks_info = c.connect.get().is_some_and(|ci| ci.protocol >= 1);
            if !speaks_info {
                continue;
            }
            let mut info = (*template).clone();
            info.ldm = true;
            info.client_id = Some(c.cid);
            info.client_ip = Some(c.peer.ip().to_string());
            let queued = c
                .outbound
                .queue(None, |buf| proto::encode::info(buf, &info));
            if queued == crate::outbound::Queued::NeedsFlush {
                c.outbound.flush();
            }
        }
    }

    /// Whether [`Server::enter_lame_duck`] was called.
    pub fn is_lame_duck(&self) -> bool {
        self.lame_duck.load(Ordering::Acquire)
    }

    /// Tells one client to close for `reason` (its writer flushes, then closes).
    pub fn close_client(&self, cid: u64, reason: CloseReason) -> bool {
        let client = self.clients.lock().get(&cid).cloned();
        client.is_some_and(|c| c.outbound.close(reason))
    }

    /// Starts shutting down: new connections are refused and every client is told to close
    /// with [`crate::CloseReason::ServerShutdown`].
    pub fn shutdown(&self) {
        self.shutting_down.store(true, Ordering::Release);
        for c in self.clients() {
            c.outbound.close(crate::CloseReason::ServerShutdown);
        }
        for r in self.routes.routes() {
            r.shared.outbound.close(crate::CloseReason::ServerShutdown);
        }
    }
}
