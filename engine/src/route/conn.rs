//! One route connection: the handshake, keepalive, the peer's interest and messages.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use proto::route::{encode, QueueNames, RouteConnect, RouteInfo, RouteOp, RouteParseError};
use proto::RouteParser;

use super::dial::{RouteDial, RouteSlot};
use super::handshake::{check_connect, our_connect, our_info};
use super::interest::{add_remote, remove_all_remote, remove_remote};
use super::table::{NewRoute, Registered, RouteHandle};
use super::RouteUrl;
use crate::client::{Client, ClientShared};
use crate::outbound::Queued;
use crate::server::Server;
use crate::trace::{payload_line, LogEvent, LogLevel};
use crate::CloseReason;

/// Longest interval between route PINGs (the reference pings routes at least this often).
const ROUTE_PING_INTERVAL: Duration = Duration::from_secs(30);

/// Longest wait before a route's first PING (the reference's short first ping).
const FIRST_PING_INTERVAL: Duration = Duration::from_secs(1);

/// When a new route sends its first PING: after at most [`FIRST_PING_INTERVAL`] (or the
/// shorter ping interval), plus up to a fifth more drawn from `rng`, as the reference.
fn first_ping(ping: Duration, rng: u64) -> Duration {
    let base = ping.min(FIRST_PING_INTERVAL);
    let spread = u64::try_from(base.as_nanos() / 5)
        .unwrap_or(u64::MAX)
        .max(1);
    base + Duration::from_nanos(rng % spread)
}

/// Which side dialled.
#[derive(Debug)]
enum Role {
    /// The peer dialled us.
    Accepted,
    /// We dialled the peer.
    Solicited(RouteDial),
}

/// Where the handshake is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Accepted: waiting for the peer's CONNECT.
    AwaitConnect,
    /// Waiting for the peer's INFO.
    AwaitInfo,
    /// Registered: interest and messages flow.
    Ready,
}

/// The protocol state of one route connection, owned by the task that reads its socket.
/// Same contract as [`crate::Client`]: feed bytes to [`RouteConn::handle_input`], call
/// [`RouteConn::handle_timeout`] at [`RouteConn::poll_timeout`], report the end of the
/// socket with [`RouteConn::handle_read_closed`], drain [`RouteConn::shared`]'s outbound
/// queue with the usual writer loop, and call [`RouteConn::finish`] when both loops ended.
#[derive(Debug)]
pub struct RouteConn {
    server: Arc<Server>,
    shared: Arc<ClientShared>,
    parser: RouteParser,
    role: Role,
    stage: Stage,
    handle: Option<Arc<RouteHandle>>,
    /// The peer's first INFO.
    remote: Option<Box<RouteInfo>>,
    /// Delivers the peer's messages to local subscribers.
    delivery: Client,
    handshake_deadline: Option<Instant>,
    next_ping: Option<Instant>,
    pings_out: u32,
    /// When our last PING went out (for the round trip time).
    ping_sent: Option<Instant>,
    /// The next pool connection to dial once the peer answers our first PING (as the
    /// reference, which so knows its credentials were taken before dialling more).
    next_in_pool: Option<RouteDial>,
    closed: Option<CloseReason>,
    /// Do not dial this route again when it ends (route to self, lost duplicate).
    no_redial: bool,
    finished: bool,
    log: Vec<LogEvent>,
    trace: bool,
    last_now: Instant,
    prefix: String,
    /// Accounts by name, as routed lines name them.
    accounts: HashMap<Bytes, Arc<crate::Account>>,
    /// The cluster's `import` permission, refreshed when the configuration changes.
    import: Option<crate::auth::SubjectRules>,
    config_generation: u64,
    /// Messages and bytes received in the current batch (added to the counters at its end).
    in_msgs: u64,
    in_bytes: u64,
}

/// Most account names a route connection remembers.
const MAX_CACHED_ACCOUNTS: usize = 4096;

impl RouteConn {
    pub(crate) fn new(
        server: Arc<Server>,
        shared: Arc<ClientShared>,
        dial: Option<RouteDial>,
        rng: u64,
        now: Instant,
    ) -> RouteConn {
        let cfg = server.config();
        let cluster = cfg.cluster.clone().unwrap_or_default();
        let delivery = Client::for_route(server.clone(), shared.clone(), rng, now);
        let prefix = format!("{} - rid:{} - ", shared.peer, shared.cid);
        let ping = cfg.ping_interval.min(ROUTE_PING_INTERVAL);
        let mut conn = RouteConn {
            parser: RouteParser::default(),
            role: match dial {
                Some(d) => Role::Solicited(d),
                None => Role::Accepted,
            },
            stage: Stage::AwaitInfo,
            handle: None,
            remote: None,
            delivery,
            handshake_deadline: Some(now + cluster.auth_timeout.max(Duration::from_secs(1))),
            next_ping: Some(now + first_ping(ping, rng)),
            pings_out: 0,
            ping_sent: None,
            next_in_pool: None,
            closed: None,
            no_redial: false,
            finished: false,
            log: Vec::new(),
            trace: cfg.trace,
            last_now: now,
            prefix,
            accounts: HashMap::new(),
            import: cluster.permissions.as_ref().and_then(|p| p.import.clone()),
            config_generation: server.config_generation(),
            in_msgs: 0,
            in_bytes: 0,
            server,
            shared,
        };
        conn.push_log(LogLevel::Info, "Route connection created".to_string());
        match &conn.role {
            Role::Accepted => {
                conn.stage = Stage::AwaitConnect;
                let nonce = Some(conn.server.nonce_for(conn.shared.cid));
                let info = our_info(&conn.server, &cluster, None, nonce);
                conn.queue(|buf| encode::info(buf, &info));
            }
            Role::Solicited(d) => {
                if let RouteSlot::Pinned(account) = &d.slot {
                    // A dedicated connection says which account it carries at once.
                    conn.parser
                        .set_pinned_account(Some(Bytes::from(account.clone())));
                    conn.send_connect(&cluster);
                }
            }
        }
        conn.flush();
        conn
    }

    /// Route id (`rid`).
    pub fn rid(&self) -> u64 {
        self.shared.cid
    }

    /// The outbound queue and counters; the writer drains it.
    pub fn shared(&self) -> &Arc<ClientShared> {
        &self.shared
    }

    /// Whether we dialled this route.
    pub fn is_solicited(&self) -> bool {
        matches!(self.role, Role::Solicited(_))
    }

    /// How long one write may block before the route is cut off.
    pub fn write_deadline(&self) -> Duration {
        self.server.config().write_deadline
    }

    /// Why the connection is closing, once decided.
    pub fn close_reason(&self) -> Option<CloseReason> {
        self.closed
    }

    /// The reason the connection ended, as logged (the first reason anyone gave).
    pub fn final_close_reason(&self) -> CloseReason {
        self.shared
            .outbound
            .close_reason()
            .or(self.closed)
            .unwrap_or(CloseReason::ClientClosed)
    }

    /// Takes the log events recorded since the last call.
    pub fn drain_log(&mut self) -> std::vec::Drain<'_, LogEvent> {
        self.log.drain(..)
    }

    /// When [`RouteConn::handle_timeout`] must next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.closed.is_some() {
            return None;
        }
        let hs = if self.stage == Stage::Ready {
            None
        } else {
            self.handshake_deadline
        };
        match (self.next_ping, hs) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Input: the time reached [`RouteConn::poll_timeout`].
    pub fn handle_timeout(&mut self, now: Instant) {
        self.last_now = self.last_now.max(now);
        if self.closed.is_some() {
            return;
        }
        if self.stage != Stage::Ready && self.handshake_deadline.is_some_and(|d| now >= d) {
            self.send_err("Authentication Timeout");
            self.close(CloseReason::AuthenticationTimeout);
            self.flush();
            return;
        }
        if let Some(at) = self.next_ping.filter(|&at| now >= at) {
            let cfg = self.server.config();
            self.next_ping = Some(at.max(now) + cfg.ping_interval.min(ROUTE_PING_INTERVAL));
            if self.pings_out >= cfg.ping_max {
                self.send_err("Stale Connection");
                self.close(CloseReason::StaleConnection);
            } else {
                self.pings_out += 1;
                self.push_log(LogLevel::Debug, "Router Ping Timer".to_string());
                self.trace_line("->> [PING]");
                self.ping_sent = Some(now);
                self.queue(encode::ping);
            }
            self.flush();
        }
    }

    /// Input: the socket ended (`ClientClosed`) or failed (`ReadError`).
    pub fn handle_read_closed(&mut self, reason: CloseReason) {
        self.close(reason);
    }

    /// Input: bytes read from the socket, appended to `buf`. Every whole op is processed.
    pub fn handle_input(&mut self, buf: &mut BytesMut, now: Instant) {
        self.last_now = now;
        self.shared.counters.touch(self.shared.start, now);
        if self.closed.is_some() {
            buf.clear();
            return;
        }
        self.delivery.begin_routed_batch(now);
        let generation = self.server.config_generation();
        if generation != self.config_generation {
            self.config_generation = generation;
            self.import = self
                .server
                .config()
                .cluster
                .as_ref()
                .and_then(|c| c.permissions.as_ref())
                .and_then(|p| p.import.clone());
        }
        loop {
            match self.parser.next_op(buf) {
                Ok(Some(op)) => self.process(op),
                Ok(None) => break,
                Err(e) => self.parse_error(&e),
            }
            if self.closed.is_some() {
                buf.clear();
                break;
            }
        }
        if self.in_msgs > 0 {
            // Once per batch: the route's counters (`/routez`) and, as the reference counts
            // routed messages, the server's (`/varz` `in_msgs`/`in_bytes`).
            let (msgs, bytes) = (
                std::mem::take(&mut self.in_msgs),
                std::mem::take(&mut self.in_bytes),
            );
            self.shared.counters.add_input(msgs, bytes);
            let stats = &self.server.stats;
            stats.in_msgs.fetch_add(msgs, Ordering::Relaxed);
            stats.in_bytes.fetch_add(bytes, Ordering::Relaxed);
        }
        self.delivery.end_routed_batch(&mut self.log);
        self.flush();
    }

    /// Cleans up after the connection ended: removes the peer's interest, unregisters the
    /// route, and queues a redial when the route is to be kept up. Idempotent.
    pub fn finish(&mut self, now: Instant) {
        if self.finished {
            return;
        }
        self.finished = true;
        self.last_now = self.last_now.max(now);
        if self.closed.is_none() {
            self.close(CloseReason::ClientClosed);
        }
        let reason = self.final_close_reason();
        let table = self.server.routes().clone();
        let mut redial = match &self.role {
            Role::Solicited(d) => Some(d.clone()),
            Role::Accepted => None,
        };
        let remote_name = self
            .remote
            .as_ref()
            .map(|r| r.server_name.clone())
            .unwrap_or_default();
        if let Some(handle) = self.handle.take() {
            let last = table.remove(&handle);
            remove_all_remote(&handle);
            if let Some(d) = handle.redial.lock().take() {
                redial = Some(d);
            }
            if last {
                self.server.cluster_changed();
            }
        }
        if reason == CloseReason::DuplicateRoute || reason == CloseReason::RouteToSelf {
            self.no_redial = true;
        }
        let mut reconnect = None;
        if let Some(d) = redial {
            let retries = self
                .server
                .config()
                .cluster
                .as_ref()
                .map_or(0, |c| c.connect_retries);
            // A configured route a reload removed is not dialled again.
            let removed = d.explicit && !super::reload::still_configured(&self.server, &d.url);
            let again = if self.no_redial || removed || self.server.is_shutting_down() {
                None
            } else if self.stage == Stage::Ready {
                // A working route was lost: start counting attempts again.
                let mut fresh = d.clone();
                fresh.attempts = 0;
                fresh.retry(self.last_now, retries.max(1))
            } else {
                d.clone().retry(self.last_now, retries)
            };
            match again {
                Some(next) => {
                    reconnect = Some(format!(
                        "Attempting reconnect for solicited route {:?}",
                        next.url.masked()
                    ));
                    table.requeue_dial(next)
                }
                None => table.dial_done(&d),
            }
        }
        let text = if remote_name.is_empty() {
            format!("Router connection closed: {reason}")
        } else {
            format!("Router connection closed: {reason} - Remote: {remote_name}")
        };
        self.push_log(LogLevel::Info, text);
        if let Some(text) = reconnect {
            // A server line (no connection prefix), after the close as the reference's.
            self.log.push(LogEvent {
                level: LogLevel::Debug,
                text,
            });
        }
        self.delivery.finish(now);
    }

    fn process(&mut self, op: RouteOp) {
        if self.trace {
            self.trace_in(&op);
        }
        match op {
            RouteOp::Info(info) => self.process_info(info),
            RouteOp::Connect(c) => self.process_connect(c),
            RouteOp::Ping => {
                self.trace_line("->> [PONG]");
                self.queue(encode::pong);
            }
            RouteOp::Pong => {
                self.pings_out = 0;
                if let Some(next) = self.next_in_pool.take() {
                    self.server.routes().queue_dial(next);
                }
                if let Some(sent) = self.ping_sent.take() {
                    let rtt = self.last_now.saturating_duration_since(sent);
                    self.shared.counters.set_rtt(rtt);
                }
            }
            RouteOp::Ok => {}
            RouteOp::Err(text) => {
                self.push_log(LogLevel::Error, format!("Route Error '{text}'"));
                self.close(CloseReason::ParseError);
            }
            RouteOp::Sub {
                account,
                subject,
                queue,
            }
            | RouteOp::LeafSub {
                account,
                subject,
                queue,
                ..
            } => self.remote_sub(account, subject, queue),
            RouteOp::Unsub {
                account,
                subject,
                queue,
            }
            | RouteOp::LeafUnsub {
                account,
                subject,
                queue,
                ..
            } => self.remote_unsub(account, subject, queue),
            RouteOp::Msg {
                account,
                subject,
                reply,
                queues,
                payload,
            } => self.routed_msg(account, &subject, reply, queues, &[], &payload),
            RouteOp::HMsg {
                account,
                subject,
                reply,
                queues,
                headers,
                payload,
            }
            | RouteOp::LMsg {
                account,
                subject,
                reply,
                queues,
                headers,
                payload,
                ..
            } => self.routed_msg(account, &subject, reply, queues, &headers, &payload),
        }
    }

    fn cluster(&self) -> crate::config::ClusterConfig {
        self.server.config().cluster.clone().unwrap_or_default()
    }

    /// Sends our CONNECT and INFO (and a PING) on a solicited connection.
    fn send_connect(&mut self, cluster: &crate::config::ClusterConfig) {
        let Role::Solicited(dial) = &self.role else {
            return;
        };
        let connect = our_connect(
            &self.server,
            dial.url.user.as_deref(),
            dial.url.password.as_deref(),
        );
        let nonce = Some(self.server.nonce_for(self.shared.cid));
        let info = our_info(&self.server, cluster, Some(&dial.slot), nonce);
        self.queue(|buf| {
            encode::connect(buf, &connect);
            encode::info(buf, &info);
            encode::ping(buf);
        });
        self.ping_sent = Some(self.last_now);
        self.push_log(LogLevel::Debug, "Route connect msg sent".to_string());
    }

    fn process_connect(&mut self, c: Box<RouteConnect>) {
        if self.stage != Stage::AwaitConnect {
            return;
        }
        let cluster = self.cluster();
        let name_before = self.server.routes().cluster_name().0;
        match check_connect(&self.server, &cluster, &c) {
            Ok(()) => {
                self.stage = Stage::AwaitInfo;
                self.log_name_change(&name_before);
            }
            Err(refusal) => {
                self.push_log(LogLevel::Error, refusal.log);
                if let Some(text) = refusal.text {
                    self.send_err(&text);
                }
                self.close(refusal.reason);
            }
        }
    }

    fn process_info(&mut self, info: Box<RouteInfo>) {
        match self.stage {
            Stage::AwaitConnect => {
                // INFO before CONNECT: not a route peer.
                self.close(CloseReason::ProtocolViolation);
            }
            Stage::AwaitInfo => self.handshake_info(info),
            Stage::Ready => self.update_info(info),
        }
    }

    /// The peer's first INFO: register the route.
    fn handshake_info(&mut self, info: Box<RouteInfo>) {
        if info.server_id == self.server.id() {
            self.push_log(
                LogLevel::Debug,
                "Detected route to self, ignoring".to_string(),
            );
            self.no_redial = true;
            self.close(CloseReason::RouteToSelf);
            return;
        }
        let cluster = self.cluster();
        let ours = cluster.pool_size;
        let theirs = usize::try_from(info.route_pool_size.max(0)).unwrap_or(0);
        let pooled = ours > 0 && theirs > 0;
        let pinned = match &self.role {
            Role::Solicited(d) => match &d.slot {
                RouteSlot::Pinned(a) => Some(a.clone()),
                RouteSlot::Pool(_) => None,
            },
            Role::Accepted => (!info.route_account.is_empty()).then(|| info.route_account.clone()),
        };
        // Pool sizes may differ (rolling updates): the set has as many connections as the
        // larger pool, each side placing its accounts by its own size.
        let effective = ours.max(theirs);
        let refusal = if !pooled && pinned.is_some() {
            Some(format!(
                "Not possible to have a dedicated route for account {:?} between those servers",
                pinned.as_deref().unwrap_or_default()
            ))
        } else if !self.is_solicited()
            && pooled
            && pinned.is_none()
            && usize::try_from(info.route_pool_idx).map_or(true, |i| i >= effective)
        {
            Some(format!(
                "Invalid route pool index: {} - pool size is {theirs}",
                info.route_pool_idx
            ))
        } else {
            None
        };
        if let Some(text) = refusal {
            self.push_log(LogLevel::Error, text.clone());
            self.send_err(&text);
            self.no_redial = true;
            self.close(CloseReason::ProtocolViolation);
            return;
        }
        if self.is_solicited() {
            let name_before = self.server.routes().cluster_name().0;
            if !info.cluster.is_empty() && info.cluster != name_before {
                let table = self.server.routes();
                if !table.adopt_name(&info.cluster, info.cluster_dynamic) {
                    // Their name is not ours and ours is not to give up: as the reference,
                    // the CONNECT goes out (the peer refuses it in its words), then we close
                    // and dial again later.
                    let connect_sent = matches!(
                        &self.role,
                        Role::Solicited(d) if matches!(d.slot, RouteSlot::Pinned(_))
                    );
                    if !connect_sent {
                        let cluster = self.cluster();
                        self.send_connect(&cluster);
                    }
                    self.close(CloseReason::ClusterNameConflict);
                    return;
                }
                self.log_name_change(&name_before);
            }
        }
        let slot = match pinned {
            Some(a) => RouteSlot::Pinned(a),
            None if pooled => {
                RouteSlot::Pool(usize::try_from(info.route_pool_idx.max(0)).unwrap_or(0))
            }
            None => RouteSlot::Pool(0),
        };
        let new = NewRoute {
            rid: self.shared.cid,
            shared: self.shared.clone(),
            info: (*info).clone(),
            slot,
            solicited: self.is_solicited(),
            dial: match &self.role {
                Role::Solicited(d) => Some(d.clone()),
                Role::Accepted => None,
            },
            pinned_here: if pooled {
                self.server.pinned_accounts()
            } else {
                Vec::new()
            },
            pool_size: if pooled { ours } else { 0 },
        };
        self.remote = Some(info);
        let size = if pooled { effective } else { 1 };
        match self.server.routes().register(new, size) {
            Registered::Duplicate => {
                let text = if self.is_solicited() {
                    "Route pool size reached, closing extra connection"
                } else {
                    "Detected duplicate remote route, closing it"
                };
                self.push_log(LogLevel::Debug, text.to_string());
                self.no_redial = true;
                self.close(CloseReason::DuplicateRoute);
            }
            Registered::Added {
                handle,
                first,
                pooled: count,
            } => {
                self.stage = Stage::Ready;
                if let Role::Solicited(d) = &self.role {
                    if matches!(handle.slot, RouteSlot::Pool(_)) {
                        // Our INFO says which pool slot this connection took.
                        let mut shown = d.clone();
                        shown.slot = handle.slot.clone();
                        let d = std::mem::replace(&mut self.role, Role::Solicited(shown));
                        self.send_connect(&cluster);
                        self.role = d;
                    }
                }
                let id = handle.remote_id.clone();
                match &handle.slot {
                    RouteSlot::Pinned(a) => self.push_log(
                        LogLevel::Debug,
                        format!("Registering remote route {id:?} for account {a:?}"),
                    ),
                    RouteSlot::Pool(_) => {
                        self.push_log(LogLevel::Debug, format!("Registering remote route {id:?}"))
                    }
                }
                for account in self.server.accounts() {
                    if handle.carries(&account.name) {
                        account.dump_interest(&handle);
                    }
                }
                self.push_log(
                    LogLevel::Debug,
                    "Sent local subscriptions to route".to_string(),
                );
                if first {
                    self.server.cluster_changed();
                    if let Role::Solicited(d) = &self.role {
                        // Dial the rest of the set too (gossip may have named only part).
                        let url = d.url.clone();
                        self.server.dial_route_set(url, d.explicit);
                    }
                }
                if !self.is_solicited() && (handle.is_pinned() || count == 1) {
                    self.gossip_new_peer(&handle);
                }
                if let (Role::Solicited(d), true) = (&self.role, pooled) {
                    // The pool fills one connection at a time.
                    if !handle.is_pinned() && count < size {
                        let next =
                            RouteDial::new(d.url.clone(), RouteSlot::Pool(count), d.explicit);
                        self.next_in_pool = Some(next);
                        self.pings_out += 1;
                        self.ping_sent = Some(self.last_now);
                        self.trace_line("->> [PING]");
                        self.queue(encode::ping);
                    }
                }
                self.handle = Some(handle);
            }
        }
    }

    /// A later INFO: the peer's own update (client URLs) or gossip about another server.
    fn update_info(&mut self, info: Box<RouteInfo>) {
        let Some(handle) = self.handle.clone() else {
            return;
        };
        if info.server_id == handle.remote_id {
            let changed = {
                let mut urls = handle.client_urls.lock();
                let changed = *urls != info.connect_urls;
                *urls = info.connect_urls.clone();
                changed
            };
            if changed {
                self.server.cluster_changed();
            }
            return;
        }
        if info.ip.is_empty() || info.server_id == self.server.id() {
            return;
        }
        let table = self.server.routes();
        if table.knows(&info.server_id) {
            return;
        }
        let Ok(mut url) = RouteUrl::parse(&info.ip) else {
            return;
        };
        // Implicit routes present our own cluster credentials (as the reference does), or
        // else those of our configured routes or of the route that told us.
        let config = self.server.config();
        let cluster = config.cluster.as_ref();
        let own = cluster
            .and_then(|c| c.auth.as_ref())
            .and_then(|a| match &a.password {
                crate::auth::Secret::Plain(p) => Some((a.user.clone(), p.clone())),
                crate::auth::Secret::Bcrypt(_) => None,
            });
        let configured = cluster.and_then(|c| c.routes.iter().find(|r| r.user.is_some()));
        if let Some((user, pass)) = own {
            url.user = Some(user);
            url.password = Some(pass);
        } else if let Some(r) = configured {
            url.user = r.user.clone();
            url.password = r.password.clone();
        } else if let Role::Solicited(d) = &self.role {
            url.user = d.url.user.clone();
            url.password = d.url.password.clone();
        }
        self.push_log(
            LogLevel::Debug,
            format!(
                "Adding implicit route to {:?} ({})",
                info.server_name,
                url.redacted()
            ),
        );
        let slot = if info.route_account.is_empty() {
            RouteSlot::Pool(0)
        } else {
            RouteSlot::Pinned(info.route_account.clone())
        };
        self.server
            .routes()
            .queue_dial(RouteDial::new(url, slot, false));
    }

    /// Tells every other peer about a server that just joined by dialling us.
    fn gossip_new_peer(&mut self, handle: &Arc<RouteHandle>) {
        let Some(remote) = &self.remote else {
            return;
        };
        let mut info = (**remote).clone();
        // A peer listening on any address is reached at the address it connected from.
        let any = info.host.is_empty()
            || info
                .host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_unspecified());
        let host = if any {
            self.shared.peer.ip().to_string()
        } else {
            info.host.clone()
        };
        let host = if host.contains(':') {
            format!("[{host}]")
        } else {
            host
        };
        if info.ip.is_empty() {
            info.ip = format!("nats-route://{}:{}/", host, info.port);
        }
        info.nonce.clear();
        info.route_pool_idx = 0;
        info.route_account.clear();
        info.gossip_mode = 1;
        // A new pooled peer is told on each other peer's lowest pooled connection (it dials
        // a pooled connection); a new dedicated connection on the other peers' connections
        // dedicated to the same account, naming it (they dial that one).
        let routes = self.server.routes().routes();
        let mut lowest: HashMap<&str, &Arc<RouteHandle>> = HashMap::new();
        let only = handle.pinned_account();
        for h in routes.iter().filter(|h| h.remote_id != handle.remote_id) {
            match &h.slot {
                RouteSlot::Pinned(account) => {
                    // Told once per kind: pooled news on a pooled connection, an account's
                    // on that account's.
                    if only != Some(account.as_str()) {
                        continue;
                    }
                    let mut pinned = info.clone();
                    pinned.route_account = account.clone();
                    send_gossip(h, &pinned);
                }
                RouteSlot::Pool(_) if only.is_some() => {}
                RouteSlot::Pool(i) => {
                    let e = lowest.entry(h.remote_id.as_str()).or_insert(h);
                    if matches!(e.slot, RouteSlot::Pool(j) if *i < j) {
                        *e = h;
                    }
                }
            }
        }
        for h in lowest.values() {
            send_gossip(h, &info);
        }
    }

    /// The account an interest or message line is for.
    /// Looked up once per account name and remembered (accounts are never removed), so
    /// routed messages take no server-wide lock.
    fn account_of(&mut self, account: Option<Bytes>) -> Option<Arc<crate::Account>> {
        let name = match account {
            Some(a) => a,
            None => self.parser.pinned_account()?.clone(),
        };
        if let Some(a) = self.accounts.get(&name) {
            return Some(a.clone());
        }
        let found = self.server.account(std::str::from_utf8(&name).ok()?)?;
        if self.accounts.len() < MAX_CACHED_ACCOUNTS {
            self.accounts.insert(name, found.clone());
        }
        Some(found)
    }

    fn remote_sub(&mut self, account: Option<Bytes>, subject: Bytes, queue: Option<(Bytes, u32)>) {
        let (Some(handle), Some(account)) = (self.handle.clone(), self.account_of(account)) else {
            return;
        };
        if !self.server.route_may_send(&subject) {
            return;
        }
        add_remote(&handle, &account, subject, queue);
    }

    fn remote_unsub(&mut self, account: Option<Bytes>, subject: Bytes, queue: Option<Bytes>) {
        let (Some(handle), Some(account)) = (self.handle.clone(), self.account_of(account)) else {
            return;
        };
        remove_remote(&handle, &account.name, &subject, queue.as_ref());
    }

    fn routed_msg(
        &mut self,
        account: Option<Bytes>,
        subject: &[u8],
        reply: Option<Bytes>,
        queues: QueueNames,
        hdr: &[u8],
        payload: &[u8],
    ) {
        self.in_msgs += 1;
        self.in_bytes += (hdr.len() + payload.len()) as u64;
        if self.stage != Stage::Ready {
            return;
        }
        let Some(account) = self.account_of(account) else {
            return;
        };
        if let Some(rules) = &self.import {
            let allowed = if crate::subject::is_literal(subject) {
                rules.allows_publish(subject)
            } else {
                rules.allows_subscribe(subject, None)
            };
            if !allowed {
                return;
            }
        }
        self.delivery
            .deliver_routed(&account, subject, reply.as_deref(), hdr, payload, queues);
    }

    fn parse_error(&mut self, e: &RouteParseError) {
        self.push_log(LogLevel::Error, format!("Route Error {e}"));
        if let Some(text) = e.wire_text() {
            self.send_err(text);
        }
        self.close(CloseReason::ProtocolViolation);
    }

    fn send_err(&mut self, text: &str) {
        self.trace_line(&format!("->> [-ERR '{text}']"));
        self.queue(|buf| encode::err(buf, text));
    }

    fn queue(&mut self, write: impl FnOnce(&mut BytesMut)) {
        let _ = self.shared.outbound.queue(None, write);
    }

    fn flush(&mut self) {
        self.shared.outbound.flush();
    }

    fn close(&mut self, reason: CloseReason) {
        if self.closed.is_none() {
            self.closed = Some(reason);
        }
        self.shared.outbound.close(reason);
    }

    /// `Cluster name updated to <name>` (a server line, no connection prefix) when the
    /// cluster name is no longer `before`.
    fn log_name_change(&mut self, before: &str) {
        let now = self.server.routes().cluster_name().0;
        if now != before && self.log.len() < 4096 {
            self.log.push(LogEvent {
                level: LogLevel::Info,
                text: format!("Cluster name updated to {now}"),
            });
        }
    }

    fn push_log(&mut self, level: LogLevel, text: String) {
        if self.log.len() < 4096 {
            self.log.push(LogEvent {
                level,
                text: format!("{}{text}", self.prefix),
            });
        }
    }

    fn trace_line(&mut self, line: &str) {
        if self.trace {
            self.push_log(LogLevel::Trace, line.to_string());
        }
    }

    fn trace_in(&mut self, op: &RouteOp) {
        if matches!(op, RouteOp::Info(_)) {
            return;
        }
        let mut buf = BytesMut::new();
        let (head_op, payload): (RouteOp, Option<Bytes>) = match op {
            RouteOp::Msg { payload, .. }
            | RouteOp::HMsg { payload, .. }
            | RouteOp::LMsg { payload, .. } => (op.clone(), Some(payload.clone())),
            RouteOp::Connect(c) => {
                let mut c = c.clone();
                if !c.pass.is_empty() {
                    c.pass = "[REDACTED]".to_string();
                }
                (RouteOp::Connect(c), None)
            }
            other => (other.clone(), None),
        };
        encode::op(&mut buf, &head_op);
        let text = String::from_utf8_lossy(&buf);
        let head = text
            .split("\r\n")
            .next()
            .unwrap_or_default()
            .trim_end()
            .to_string();
        self.trace_line(&format!("<<- [{head}]"));
        if let Some(p) = payload {
            let max = self.server.config().max_traced_msg_len;
            let line = format!("<<- {}", payload_line(&p, max));
            self.trace_line(&line);
        }
    }
}

/// Queues a gossip INFO on a route connection.
fn send_gossip(h: &RouteHandle, info: &RouteInfo) {
    if h.shared
        .outbound
        .queue(None, |buf| encode::info_gossip(buf, info))
        == Queued::NeedsFlush
    {
        h.shared.outbound.flush();
    }
}

impl Drop for RouteConn {
    fn drop(&mut self) {
        let now = self.last_now;
        self.finish(now);
    }
}
