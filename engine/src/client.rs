//! The protocol state of one client connection.
//!
//! A [`Client`] is owned by the task (or thread) that reads the connection's socket. Bytes
//! read go into [`Client::handle_input`]; the client parses them with `proto`, decides each op
//! (routing messages into the outbound queues of subscribers) and queues its own replies
//! (`PONG`, `+OK`, `-ERR`) into its own [`Outbound`]. The writer side drains that queue.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use proto::route::QueueNames;
use proto::{encode, ClientOp, ClientParser, ConnectInfo, ParseError, ParserLimits};
use smallvec::SmallVec;

use crate::account::{Account, SYSTEM_ACCOUNT};
use crate::auth::{Permissions, ResponseRules};
use crate::client_info::{after, ClientCounters, ClientSnapshot, ConnectSlot};
use crate::outbound::{Outbound, Queued};
use crate::protocol_error::parse_error_outcome;
use crate::server::Server;
use crate::subject::{is_valid_publish_subject, is_valid_subscribe_subject};
use crate::sublist::{MatchCache, MatchResult};
use crate::subscription::{Delivery, ImportRoute, SubRef, Subscription};
use crate::system::{parse_request, SystemEvent, SystemRequest};
use crate::trace::{client_prefix, payload_line, redacted_connect, LogEvent, LogLevel};
use crate::{CloseReason, ProtocolError};

/// Capacity of the per-connection subject match cache.
const MATCH_CACHE_CAPACITY: usize = 1024;

/// The status line of a "no responders" message (a `Nats-Subject` header follows).
const NO_RESPONDERS_STATUS: &[u8] = b"NATS/1.0 503\r\n";

/// The part of a client other connections reach: its id and outbound queue.
#[derive(Debug)]
pub struct ClientShared {
    /// Connection id (`cid`, INFO `client_id`).
    pub cid: u64,
    /// Remote address.
    pub peer: SocketAddr,
    /// When the connection was accepted.
    pub start: Instant,
    /// Bytes waiting to be written to this client.
    pub outbound: Outbound,
    /// Counters monitoring reads.
    pub counters: ClientCounters,
    /// CONNECT options monitoring reads.
    pub connect: ConnectSlot,
    /// Reply subjects this client may answer despite publish rules (`allow_responses`).
    responses: parking_lot::Mutex<HashMap<Bytes, ResponseGrant>>,
}

/// A right to publish responses to one reply subject.
#[derive(Debug, Clone, Copy)]
struct ResponseGrant {
    remaining: u32,
    expires: Option<Instant>,
}

/// Most outstanding response rights per client; the oldest are dropped past this.
const MAX_RESPONSE_GRANTS: usize = 4096;

impl ClientShared {
    /// Shared state of a new connection.
    pub fn new(cid: u64, peer: SocketAddr, start: Instant, max_pending: usize) -> Self {
        ClientShared {
            cid,
            peer,
            start,
            outbound: Outbound::new(max_pending),
            counters: ClientCounters::default(),
            connect: ConnectSlot::default(),
            responses: parking_lot::Mutex::new(HashMap::new()),
        }
    }

    /// Lets this client publish up to `rules.max` responses to `reply` (it received a request).
    fn grant_response(&self, reply: &[u8], rules: ResponseRules, now: Instant) {
        let expires = (rules.expires_ms > 0)
            .then(|| now + std::time::Duration::from_millis(rules.expires_ms));
        let mut grants = self.responses.lock();
        if grants.len() >= MAX_RESPONSE_GRANTS {
            grants.retain(|_, g| g.expires.is_some_and(|e| e > now));
            if grants.len() >= MAX_RESPONSE_GRANTS {
                grants.clear();
            }
        }
        grants.insert(
            Bytes::copy_from_slice(reply),
            ResponseGrant {
                remaining: rules.max.max(1),
                expires,
            },
        );
    }

    /// Uses one response right for `subject`, if there is a live one.
    fn use_response(&self, subject: &[u8], now: Instant) -> bool {
        let mut grants = self.responses.lock();
        let Some(g) = grants.get_mut(subject) else {
            return false;
        };
        if g.expires.is_some_and(|e| now > e) {
            grants.remove(subject);
            return false;
        }
        g.remaining -= 1;
        if g.remaining == 0 {
            grants.remove(subject);
        }
        true
    }

    /// A point-in-time view of this connection.
    pub fn snapshot(&self) -> ClientSnapshot {
        use std::sync::atomic::Ordering::Relaxed;
        let out = self.outbound.stats();
        let c = &self.counters;
        ClientSnapshot {
            cid: self.cid,
            peer: self.peer,
            start: self.start,
            last_activity: after(
                self.start,
                std::time::Duration::from_nanos(c.last_activity_nanos.load(Relaxed)),
            ),
            connect: self.connect.get(),
            in_msgs: c.in_msgs.load(Relaxed),
            in_bytes: c.in_bytes.load(Relaxed),
            out_msgs: out.msgs,
            out_bytes: out.bytes,
            pending_bytes: self.outbound.pending_bytes(),
            subscriptions: c.subscriptions.load(Relaxed),
            rtt: std::time::Duration::from_nanos(c.rtt_nanos.load(Relaxed)),
            identity: self.connect.identity(),
        }
    }
}

/// How a new [`Client`] starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admission {
    /// A client let in: it gets INFO.
    Admitted,
    /// A client refused (limit, shutdown): INFO, the error, close.
    Refused,
    /// The delivery side of a route: nothing is sent.
    Route,
}

/// Options the client chose in CONNECT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ClientOptions {
    verbose: bool,
    pedantic: bool,
    echo: bool,
    headers: bool,
    no_responders: bool,
}

impl Default for ClientOptions {
    fn default() -> Self {
        // The reference treats a client as verbose and pedantic until CONNECT says otherwise.
        ClientOptions {
            verbose: true,
            pedantic: true,
            echo: true,
            headers: false,
            no_responders: false,
        }
    }
}

/// Keepalive state: when to PING next and how many PINGs are unanswered.
#[derive(Debug)]
struct Keepalive {
    next_ping: Option<Instant>,
    pings_out: u32,
    active_since_ping: bool,
    first_ping_sent: bool,
    /// When the server last sent a PING: the next PONG measures the round-trip time from it.
    rtt_start: Option<Instant>,
}

/// Per-connection protocol state machine. See the crate docs for the call order.
#[derive(Debug)]
pub struct Client {
    server: Arc<Server>,
    shared: Arc<ClientShared>,
    parser: ClientParser,
    connected: bool,
    opts: ClientOptions,
    connect: Option<Box<ConnectInfo>>,
    subs: HashMap<Bytes, SubRef>,
    cache: MatchCache<SubRef>,
    /// Outbound queues written during the current batch, to wake at its end.
    touched: Vec<Arc<ClientShared>>,
    rng: u64,
    keepalive: Keepalive,
    closed: Option<CloseReason>,
    finished: bool,
    in_msgs: u64,
    in_bytes: u64,
    out_msgs: u64,
    out_bytes: u64,
    /// The latest instant the runtime gave us.
    last_now: Instant,
    /// Log events not yet drained by the runtime.
    log: Vec<LogEvent>,
    /// Whether protocol tracing is on.
    trace: bool,
    /// Authentication state and what this connection may do.
    auth: AuthState,
    /// Send the connected-client INFO right after the next PONG.
    info_after_pong: bool,
    /// The server's config generation this client last applied.
    config_generation: u64,
    /// The account this client publishes and subscribes in.
    account: Arc<Account>,
    /// How many imports deep the current delivery is.
    forward_depth: u8,
    /// Size widths of the message being delivered, when the publisher wrote its sizes with
    /// leading zeros (the reference echoes them).
    echo_widths: [u8; 2],
    /// While delivering a message that came from a route: the queue groups the peer named
    /// (local delivery only).
    routed: Option<QueueNames>,
    /// Reused buffer for the queue names of an `RMSG`.
    queue_scratch: BytesMut,
}

/// Authentication progress and the permissions of the identity the client runs as.
#[derive(Debug, Default)]
struct AuthState {
    /// Whether a valid CONNECT is still needed.
    pending: bool,
    /// When the client must have authenticated.
    deadline: Option<Instant>,
    /// The nonce sent in INFO, if NKEY users are configured.
    nonce: Option<String>,
    /// The user name, once authenticated.
    user: Option<String>,
    /// What it may do (`None`: everything).
    permissions: Option<Arc<Permissions>>,
    /// Recent publish decisions (subject -> allowed), bounded.
    publish_cache: HashMap<Bytes, bool>,
    /// Identities of the verified client certificate (`verify_and_map`).
    tls_identities: Option<Vec<String>>,
}

/// Publish decisions remembered per connection.
const PUBLISH_CACHE_CAPACITY: usize = 256;

impl Client {
    pub(crate) fn new(
        server: Arc<Server>,
        shared: Arc<ClientShared>,
        admitted: Admission,
        rng: u64,
        now: Instant,
    ) -> Client {
        let cfg = server.config();
        let limits = ParserLimits {
            max_control_line: cfg.max_control_line,
            max_payload: i64::from(cfg.max_payload),
        };
        let first_ping = cfg.first_ping_delay.min(cfg.ping_interval);
        let mut parser = ClientParser::new(limits);
        parser.set_server_headers(cfg.headers);
        // `verify_and_map` makes every client authenticate, by its certificate.
        let auth_required =
            cfg.auth.is_required() || cfg.tls.as_ref().is_some_and(|t| t.verify_and_map);
        parser.set_auth_required(auth_required);
        let auth_deadline = auth_required.then(|| now + cfg.auth.timeout);
        let nonce = cfg.auth.needs_nonce().then(|| server.nonce_for(shared.cid));
        let mut client = Client {
            parser,
            connected: false,
            opts: ClientOptions::default(),
            connect: None,
            subs: HashMap::new(),
            cache: MatchCache::new(MATCH_CACHE_CAPACITY),
            touched: Vec::new(),
            rng: rng | 1,
            keepalive: Keepalive {
                next_ping: Some(now + first_ping),
                pings_out: 0,
                active_since_ping: false,
                first_ping_sent: false,
                rtt_start: None,
            },
            closed: None,
            finished: false,
            in_msgs: 0,
            in_bytes: 0,
            out_msgs: 0,
            out_bytes: 0,
            last_now: now,
            log: Vec::new(),
            trace: cfg.trace,
            auth: AuthState::default(),
            info_after_pong: false,
            config_generation: server.config_generation(),
            account: server.global_account().clone(),
            echo_widths: [0, 0],
            forward_depth: 0,
            routed: None,
            queue_scratch: BytesMut::new(),
            server,
            shared,
        };
        client.auth.pending = auth_required;
        client.auth.deadline = auth_deadline;
        client.auth.nonce = nonce;
        if admitted == Admission::Route {
            return client;
        }
        client.send_info();
        if admitted == Admission::Refused {
            let reason = if client.server.is_shutting_down() || client.server.is_lame_duck() {
                CloseReason::ServerShutdown
            } else {
                client.send_err(ProtocolError::MaxConnections.wire_text());
                CloseReason::MaxConnectionsExceeded
            };
            client.close(reason);
        }
        client.flush_touched();
        client
    }

    /// The delivery side of a route connection: delivers messages that came from a peer to
    /// local subscribers (no INFO, no keepalive, not in the client registry).
    pub(crate) fn for_route(
        server: Arc<Server>,
        shared: Arc<ClientShared>,
        rng: u64,
        now: Instant,
    ) -> Client {
        let mut client = Client::new(server, shared, Admission::Route, rng, now);
        client.connected = true;
        client.keepalive.next_ping = None;
        client.auth.pending = false;
        client.auth.deadline = None;
        client.opts = ClientOptions {
            verbose: false,
            pedantic: false,
            echo: true,
            headers: true,
            no_responders: false,
        };
        client
    }

    /// Delivers a message a peer routed to us, in `account`, to local subscribers only
    /// (queue groups only when named in `queues`). Returns whether anyone got it.
    pub(crate) fn deliver_routed(
        &mut self,
        account: &Arc<Account>,
        subject: &[u8],
        reply: Option<&[u8]>,
        hdr: &[u8],
        payload: &[u8],
        queues: QueueNames,
    ) -> bool {
        if !Arc::ptr_eq(&self.account, account) {
            self.cache.report_hits(&self.account.sublist);
            self.account = account.clone();
        }
        // The route connection counted it as received (once per batch).
        self.routed = Some(queues);
        self.echo_widths = [0, 0];
        let result = self.cache.get(&self.account.sublist, subject);
        let delivered = self.deliver_result(&result, subject, reply, hdr, payload);
        self.routed = None;
        // A peer forwards the system requests we announced interest in.
        self.system_request(subject, reply, payload) || delivered
    }

    /// Hands a request to the server (`$SYS.REQ.SERVER...` with a reply, in the system
    /// account) to the system handler; true if it was one.
    fn system_request(&self, subject: &[u8], reply: Option<&[u8]>, payload: &[u8]) -> bool {
        let Some(reply) = reply else {
            return false;
        };
        if self.account.name != SYSTEM_ACCOUNT || !subject.starts_with(b"$SYS.REQ.") {
            return false;
        }
        let Some(kind) = parse_request(subject, self.server.id()) else {
            return false;
        };
        self.server
            .dispatch_system(SystemEvent::Request(SystemRequest {
                kind,
                reply: Bytes::copy_from_slice(reply),
                payload: Bytes::copy_from_slice(payload),
            }));
        true
    }

    /// Starts a batch of routed deliveries at `now`.
    pub(crate) fn begin_routed_batch(&mut self, now: Instant) {
        self.last_now = self.last_now.max(now);
    }

    /// Ends a batch of routed deliveries: wakes the writers, publishes counters, and hands
    /// over the log lines recorded.
    pub(crate) fn end_routed_batch(&mut self, log: &mut Vec<LogEvent>) {
        self.end_batch();
        log.append(&mut self.log);
    }

    /// Connection id.
    pub fn cid(&self) -> u64 {
        self.shared.cid
    }

    /// The part other connections reach (outbound queue); the writer drains it.
    pub fn shared(&self) -> &Arc<ClientShared> {
        &self.shared
    }

    /// How long one write to this client may block before it is cut off.
    pub fn write_deadline(&self) -> std::time::Duration {
        self.server.config().write_deadline
    }

    /// The account this client runs in.
    pub fn account(&self) -> &Arc<Account> {
        &self.account
    }

    /// The CONNECT options, once received.
    pub fn connect_info(&self) -> Option<&ConnectInfo> {
        self.connect.as_deref()
    }

    /// Why the connection is closing, once the engine decided it must.
    pub fn close_reason(&self) -> Option<CloseReason> {
        self.closed
    }

    /// Number of live subscriptions of this client.
    pub fn num_subscriptions(&self) -> usize {
        self.subs.values().filter(|s| !s.is_closed()).count()
    }

    /// Input: bytes read from the socket, appended to `buf` by the caller. Every whole op in
    /// `buf` is processed and split off; a partial op stays for the next call. After this,
    /// check [`Client::close_reason`]; queued output is already signalled to the writers.
    pub fn handle_input(&mut self, buf: &mut BytesMut, now: Instant) {
        self.last_now = now;
        self.shared.counters.touch(self.shared.start, now);
        let generation = self.server.config_generation();
        if generation != self.config_generation {
            self.refresh_config(generation);
        }
        if self.closed.is_some() {
            buf.clear();
            return;
        }
        loop {
            match self.parser.next_op(buf) {
                Ok(Some(op)) => self.process(op),
                Ok(None) => break,
                Err(e) => {
                    self.parse_error(&e);
                    if self.closed.is_some() {
                        break;
                    }
                }
            }
            if self.closed.is_some() {
                break;
            }
        }
        if self.closed.is_some() {
            buf.clear();
        }
        self.end_batch();
    }

    /// Input: the TLS handshake of this connection completed at `now` (TLS connections only,
    /// before any other input). As the reference does, the authentication and first-PING
    /// timers start over then, so a slow handshake does not eat into them.
    pub fn handle_tls_handshake(&mut self, now: Instant) {
        self.last_now = self.last_now.max(now);
        let cfg = self.server.config();
        if self.auth.pending {
            self.auth.deadline = Some(now + cfg.auth.timeout);
        }
        if !self.keepalive.first_ping_sent {
            self.keepalive.next_ping = Some(now + cfg.first_ping_delay.min(cfg.ping_interval));
        }
    }

    /// Input: the client's verified TLS certificate (DER), after the handshake. With
    /// `verify_and_map` the client is authenticated by the identities it carries.
    pub fn handle_peer_certificate(&mut self, der: &[u8]) {
        let map = self
            .server
            .config()
            .tls
            .as_ref()
            .is_some_and(|t| t.verify_and_map);
        if map {
            self.auth.tls_identities = Some(crate::auth::cert_identities(der));
        }
    }

    /// Input: the socket reached end of file or failed (`reason` is
    /// [`CloseReason::ClientClosed`] or [`CloseReason::ReadError`]).
    pub fn handle_read_closed(&mut self, reason: CloseReason) {
        self.close(reason);
    }

    /// When [`Client::handle_timeout`] must next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.closed.is_some() {
            return None;
        }
        match (self.keepalive.next_ping, self.auth_deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn auth_deadline(&self) -> Option<Instant> {
        if self.auth.pending {
            self.auth.deadline
        } else {
            None
        }
    }

    /// Input: the time reached (or passed) [`Client::poll_timeout`].
    pub fn handle_timeout(&mut self, now: Instant) {
        self.last_now = self.last_now.max(now);
        if self.closed.is_none() && self.auth_deadline().is_some_and(|d| now >= d) {
            self.send_err(ProtocolError::AuthenticationTimeout.wire_text());
            self.close(CloseReason::AuthenticationTimeout);
            self.end_batch();
            return;
        }
        let Some(at) = self.keepalive.next_ping else {
            return;
        };
        if now < at || self.closed.is_some() {
            return;
        }
        let interval = self.server.config().ping_interval;
        let ping_max = self.server.config().ping_max;
        let ka = &mut self.keepalive;
        ka.next_ping = Some(now + interval);
        if ka.pings_out >= ping_max {
            self.send_err(ProtocolError::StaleConnection.wire_text());
            self.close(CloseReason::StaleConnection);
            self.server
                .stats
                .stale_connections
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        } else if ka.active_since_ping && ka.first_ping_sent && !rtt_stale(ka.rtt_start, now) {
            // The client sent data since the last tick: it is alive, no PING needed.
            ka.active_since_ping = false;
            ka.pings_out = 0;
        } else {
            ka.pings_out += 1;
            ka.active_since_ping = false;
            ka.first_ping_sent = true;
            ka.rtt_start = Some(now);
            self.trace_out("PING");
            self.queue_own(encode::ping);
        }
        self.end_batch();
    }

    /// Cleans up after the connection ended at `now`: removes its subscriptions, unregisters it
    /// and records it among the closed connections. Idempotent; also run on drop (with the
    /// last instant the client was given).
    pub fn finish(&mut self, now: Instant) {
        self.last_now = self.last_now.max(now);
        self.finish_inner();
    }

    /// Why the connection ended, as monitoring records it: the first reason anyone gave wins
    /// (a publisher that found this client a slow consumer, or a shutdown, closes the queue
    /// before the reader sees the socket end).
    pub fn final_close_reason(&self) -> CloseReason {
        self.shared
            .outbound
            .close_reason()
            .or(self.closed)
            .unwrap_or(CloseReason::ClientClosed)
    }

    fn finish_inner(&mut self) {
        if self.finished {
            return;
        }
        self.finished = true;
        if self.closed.is_none() {
            self.close(CloseReason::ClientClosed);
        }
        let subs = std::mem::take(&mut self.subs);
        let held = subs.values().map(closed_sub).collect();
        for sub in subs.values() {
            self.retire(sub);
        }
        self.cache.report_hits(&self.account.sublist);
        let reason = self.final_close_reason();
        let closed = self
            .server
            .remove_client(self.shared.cid, self.last_now, reason, held);
        if let (Some(closed), true) = (closed, self.connected) {
            if self.server.has_system_handler() {
                self.server.dispatch_system(SystemEvent::ClientDisconnect {
                    client: Box::new(closed),
                    account: self.account.name.clone(),
                    user: self.auth.user.clone(),
                });
            }
        }
        self.end_batch();
    }

    fn process(&mut self, op: ClientOp) {
        if !matches!(op, ClientOp::Pong) {
            self.keepalive.active_since_ping = true;
        }
        if self.trace {
            self.trace_in(&op);
        }
        match op {
            ClientOp::Pub {
                subject,
                reply,
                payload,
                size_width,
            } => {
                self.echo_widths = [size_width, 0];
                self.process_pub(subject, reply, None, payload)
            }
            ClientOp::HPub {
                subject,
                reply,
                headers,
                payload,
                widths,
            } => {
                self.echo_widths = widths;
                self.process_pub(subject, reply, Some(headers), payload)
            }
            ClientOp::Sub {
                subject,
                queue,
                sid,
            } => self.process_sub(subject, queue, sid),
            ClientOp::Unsub { sid, max } => self.process_unsub(sid, max),
            ClientOp::Ping => {
                self.trace_out("PONG");
                self.queue_own(encode::pong);
                if std::mem::take(&mut self.info_after_pong) {
                    self.send_connected_info();
                }
            }
            ClientOp::Pong => {
                self.keepalive.pings_out = 0;
                if let Some(sent) = self.keepalive.rtt_start {
                    self.set_rtt(sent);
                }
            }
            ClientOp::Connect(info) => self.process_connect(info),
        }
    }

    fn process_connect(&mut self, info: Box<ConnectInfo>) {
        if let Some(err) = connect_error(&info) {
            self.send_err(err.wire_text());
            self.close(err.close_reason().unwrap_or(CloseReason::ProtocolViolation));
            return;
        }
        if self.auth.pending {
            let cfg = self.server.config();
            let by_certificate = cfg.tls.as_ref().is_some_and(|t| t.verify_and_map);
            let outcome = match (&self.auth.tls_identities, by_certificate) {
                (Some(ids), true) => cfg.auth.authenticate_certificate(ids, &info),
                (None, true) => Err(crate::auth::AuthError::NoCredentials),
                _ => cfg.auth.authenticate(&info, self.auth.nonce.as_deref()),
            };
            match outcome {
                Ok(identity) => {
                    if let Some(name) = identity.account.as_deref() {
                        match self.server.account(name) {
                            Some(account) => self.account = account.clone(),
                            None => {
                                // A user bound to an account that does not exist never gets in.
                                self.send_err(ProtocolError::AuthorizationViolation.wire_text());
                                self.close(CloseReason::AuthenticationViolation);
                                return;
                            }
                        }
                    }
                    self.auth.pending = false;
                    self.auth.user = identity.name;
                    self.auth.permissions = identity.permissions;
                }
                Err(e) => {
                    let line = format!("{}authentication error: {e}", self.prefix());
                    self.push_log(LogLevel::Error, line);
                    self.send_err(ProtocolError::AuthorizationViolation.wire_text());
                    self.close(CloseReason::AuthenticationViolation);
                    return;
                }
            }
        }
        self.opts = ClientOptions {
            verbose: info.verbose,
            pedantic: info.pedantic,
            echo: info.echo,
            headers: info.headers && self.server.config().headers,
            no_responders: info.no_responders && info.headers,
        };
        let first_connect = !self.connected;
        self.connected = true;
        // As the reference: a first estimate of the round-trip time is the time from accept
        // (when INFO went out) to CONNECT.
        self.set_rtt(self.shared.start);
        // Clients that speak protocol 1 get an updated INFO once connected: like the
        // reference, right after the PONG that answers their first PING.
        self.info_after_pong = info.protocol >= 1;
        self.shared.connect.set(Arc::new((*info).clone()));
        let user = self.auth.user.clone();
        self.shared.connect.set_identity(user, &self.account.name);
        self.connect = Some(info);
        if first_connect && self.server.has_system_handler() {
            self.server.dispatch_system(SystemEvent::ClientConnect {
                client: Box::new(self.shared.snapshot()),
                account: self.account.name.clone(),
                user: self.auth.user.clone(),
            });
        }
        self.ok();
    }

    fn process_pub(
        &mut self,
        subject: Bytes,
        reply: Option<Bytes>,
        headers: Option<Bytes>,
        payload: Bytes,
    ) {
        if !self.may_publish(&subject) {
            let text = format!(
                "Permissions Violation for Publish to \"{}\"",
                String::from_utf8_lossy(&subject)
            );
            let line = format!(
                "{}Publish Violation - Subject \"{}\"",
                self.prefix(),
                String::from_utf8_lossy(&subject)
            );
            self.push_log(LogLevel::Error, line);
            self.send_err(&text);
            return;
        }
        if self.opts.pedantic && !is_valid_publish_subject(&subject) {
            // The reference reports the error, then still acknowledges and delivers the
            // message (wildcards in it match only subscriptions with the same literal tokens).
            self.send_err(ProtocolError::InvalidPublishSubject.wire_text());
        }
        // The reference acknowledges a verbose PUB before delivering it.
        self.ok();
        let hdr = headers.as_deref().unwrap_or(&[]);
        self.in_msgs += 1;
        self.in_bytes += (hdr.len() + payload.len()) as u64;
        let delivered = self.deliver(&subject, reply.as_deref(), hdr, &payload);
        if self.system_request(&subject, reply.as_deref(), &payload) {
            return;
        }
        if !delivered && self.opts.no_responders {
            if let Some(reply) = reply.as_deref() {
                self.send_no_responders(&subject, reply);
            }
        }
    }

    /// Routes one message to every matching subscription of this client's account; true if
    /// anyone got it.
    fn deliver(
        &mut self,
        subject: &[u8],
        reply: Option<&[u8]>,
        hdr: &[u8],
        payload: &[u8],
    ) -> bool {
        let result = self.cache.get(&self.account.sublist, subject);
        self.deliver_result(&result, subject, reply, hdr, payload)
    }

    /// Delivers one message to the subscriptions of a match result: local subscribers get a
    /// `MSG`, and every route with matching interest gets one `RMSG` naming the queue groups
    /// it must serve. A queue group is served by one member drawn uniformly over its local
    /// members and the queue weights of the routes' interest. A message that came from a route only reaches local
    /// subscribers (and the queue groups the peer named): it is never sent to another route.
    fn deliver_result(
        &mut self,
        result: &MatchResult<SubRef>,
        subject: &[u8],
        reply: Option<&[u8]>,
        hdr: &[u8],
        payload: &[u8],
    ) -> bool {
        let mut delivered = false;
        let mut routes: SmallVec<[RouteSend; 4]> = SmallVec::new();
        let from_route = self.routed.is_some();
        for sub in &result.plain {
            if sub.remote.is_some() {
                if !from_route && !sub.is_closed() {
                    route_send(&mut routes, sub, None);
                }
                continue;
            }
            if !self.opts.echo && Arc::ptr_eq(&sub.client, &self.shared) {
                continue;
            }
            delivered |= self.deliver_to(sub, subject, reply, hdr, payload);
        }
        for group in &result.queues {
            let n = group.members.len();
            if n == 0 {
                continue;
            }
            if let Some(named) = &self.routed {
                if !named.iter().any(|q| q == group.name) {
                    continue;
                }
            }
            // One draw over every member that may serve the group: a local member counts
            // once, a route's interest (not for a message that came from a route) counts its
            // queue weight, so a group is spread evenly over its members cluster-wide.
            let total: u64 = group
                .members
                .iter()
                .map(|sub| self.queue_slots(sub, from_route))
                .sum();
            if total == 0 {
                continue;
            }
            let mut pick = self.next_random() % total;
            let mut chosen = 0;
            for (i, sub) in group.members.iter().enumerate() {
                let slots = self.queue_slots(sub, from_route);
                if pick < slots {
                    chosen = i;
                    break;
                }
                pick -= slots;
            }
            // The drawn member first; when it cannot take the message, the next ones in turn.
            for i in 0..n {
                let sub = &group.members[(chosen + i) % n];
                if self.queue_slots(sub, from_route) == 0 {
                    continue;
                }
                if sub.remote.is_some() {
                    route_send(&mut routes, sub, Some(&group.name));
                    break;
                }
                if self.deliver_to(sub, subject, reply, hdr, payload) {
                    delivered = true;
                    break;
                }
            }
        }
        for send in &routes {
            delivered |= self.send_to_route(send, subject, reply, hdr, payload);
        }
        delivered
    }

    /// Queues one `RMSG`/`HMSG` on a route connection.
    fn send_to_route(
        &mut self,
        send: &RouteSend,
        subject: &[u8],
        reply: Option<&[u8]>,
        hdr: &[u8],
        payload: &[u8],
    ) -> bool {
        let mut head = self.trace.then(String::new);
        let queued = queue_route_msg(
            send,
            (subject, reply, hdr, payload),
            &mut self.queue_scratch,
            head.as_mut(),
        );
        let sub = &send.sub;
        if let Some(head) = head {
            let prefix = format!("{} - rid:{} - ", sub.client.peer, sub.client.cid);
            let max = self.server.config().max_traced_msg_len;
            self.push_log(LogLevel::Trace, format!("{prefix}->> [{head}]"));
            self.push_log(
                LogLevel::Trace,
                format!("{prefix}->> {}", payload_line(payload, max)),
            );
        }
        let ok = self.after_queue(&sub.client, queued);
        if ok {
            // As the reference, `/varz` `out_msgs` counts messages sent to routes too.
            self.out_msgs += 1;
            self.out_bytes += (hdr.len() + payload.len()) as u64;
        }
        ok
    }

    /// Queues one message for one subscription; false if it was not delivered.
    fn deliver_to(
        &mut self,
        sub: &SubRef,
        subject: &[u8],
        reply: Option<&[u8]>,
        hdr: &[u8],
        payload: &[u8],
    ) -> bool {
        if let Some(route) = &sub.import {
            return self.forward(sub, route, subject, reply, hdr, payload);
        }
        if let Some(perms) = sub.permissions.as_deref() {
            if let Some(rules) = perms.subscribe.as_ref() {
                if !rules.deny.is_empty() && !rules.allows_delivery(subject) {
                    return false;
                }
            }
        }
        match sub.claim() {
            Delivery::Skip => return false,
            Delivery::Deliver => {}
            Delivery::DeliverLast => self.retire(sub),
        }
        let with_headers = !hdr.is_empty() && sub.headers;
        let size = if with_headers {
            hdr.len() + payload.len()
        } else {
            payload.len()
        };
        if self.trace {
            self.trace_delivery(sub, subject, reply, with_headers.then_some(hdr), payload);
        }
        let widths = self.echo_widths;
        let queued = sub.client.outbound.queue(Some(size), |buf| {
            if with_headers {
                if widths == [0, 0] {
                    encode::hmsg(buf, subject, &sub.sid, reply, hdr, payload);
                } else {
                    encode::hmsg_padded(buf, subject, &sub.sid, reply, hdr, payload, widths);
                }
            } else if widths[0] == 0 || !hdr.is_empty() {
                encode::msg(buf, subject, &sub.sid, reply, payload);
            } else {
                encode::msg_padded(buf, subject, &sub.sid, reply, payload, widths[0]);
            }
        });
        if let (Some(reply), Some(rules)) = (
            reply,
            sub.permissions.as_deref().and_then(|p| p.allow_responses),
        ) {
            sub.client.grant_response(reply, rules, self.last_now);
        }
        let ok = self.after_queue(&sub.client, queued);
        if ok {
            self.out_msgs += 1;
            self.out_bytes += size as u64;
        }
        ok
    }

    /// Re-publishes a message caught by an import's forwarding subscription into the account
    /// it leads to (see [`crate::import`]).
    fn forward(
        &mut self,
        sub: &SubRef,
        route: &ImportRoute,
        subject: &[u8],
        reply: Option<&[u8]>,
        hdr: &[u8],
        payload: &[u8],
    ) -> bool {
        if self.forward_depth >= MAX_FORWARD_DEPTH {
            return false;
        }
        match sub.claim() {
            Delivery::Skip => return false,
            Delivery::Deliver => {}
            Delivery::DeliverLast => self.retire(sub),
        }
        let mapped = route.mapping.apply(subject);
        let reply = match (route.service, reply) {
            (true, Some(r)) => {
                Some(
                    self.server
                        .response_route(&route.to, &sub.account, r, self.last_now),
                )
            }
            (_, r) => r.map(Bytes::copy_from_slice),
        };
        let result = route.to.sublist.matches(&mapped);
        self.forward_depth += 1;
        let delivered = self.deliver_result(&result, &mapped, reply.as_deref(), hdr, payload);
        self.forward_depth -= 1;
        delivered
    }

    /// Sends a 503 status message (naming the subject nobody answered) to the first of this
    /// client's own subscriptions matching `reply`, as the reference does.
    fn send_no_responders(&mut self, subject: &[u8], reply: &[u8]) {
        let result = self.cache.get(&self.account.sublist, reply);
        let Some(sub) = result
            .plain
            .iter()
            .chain(result.queues.iter().flat_map(|g| g.members.iter()))
            .find(|s| Arc::ptr_eq(&s.client, &self.shared) && !s.is_closed())
            .cloned()
        else {
            return;
        };
        if sub.claim() == Delivery::Skip {
            return;
        }
        let mut header = BytesMut::with_capacity(NO_RESPONDERS_STATUS.len() + subject.len() + 20);
        header.extend_from_slice(NO_RESPONDERS_STATUS);
        header.extend_from_slice(b"Nats-Subject: ");
        header.extend_from_slice(subject);
        header.extend_from_slice(b"\r\n\r\n");
        let queued = self.shared.outbound.queue(Some(header.len()), |buf| {
            encode::hmsg(buf, reply, &sub.sid, None, &header, &[]);
        });
        let me = self.shared.clone();
        self.after_queue(&me, queued);
    }

    fn process_sub(&mut self, subject: Bytes, queue: Option<Bytes>, sid: Bytes) {
        if !is_valid_subscribe_subject(&subject) {
            self.send_err(ProtocolError::InvalidSubject.wire_text());
            return;
        }
        if let Some(rules) = self
            .auth
            .permissions
            .as_ref()
            .and_then(|p| p.subscribe.as_ref())
        {
            if !rules.allows_subscribe(&subject, queue.as_deref()) {
                let subj = String::from_utf8_lossy(&subject).into_owned();
                let (text, line) = match queue.as_deref() {
                    Some(q) => {
                        let q = String::from_utf8_lossy(q);
                        (
                            format!("Permissions Violation for Subscription to \"{subj}\" using queue \"{q}\""),
                            format!("Subscription Violation - Subject \"{subj}\", Queue: \"{q}\", SID {}", String::from_utf8_lossy(&sid)),
                        )
                    }
                    None => (
                        format!("Permissions Violation for Subscription to \"{subj}\""),
                        format!(
                            "Subscription Violation - Subject \"{subj}\", SID {}",
                            String::from_utf8_lossy(&sid)
                        ),
                    ),
                };
                let line = format!("{}{line}", self.prefix());
                self.push_log(LogLevel::Error, line);
                self.send_err(&text);
                return;
            }
        }
        let max = self.server.config().max_subscriptions;
        if max > 0 && self.num_subscriptions() >= max {
            self.send_err(ProtocolError::MaxSubscriptions.wire_text());
            return;
        }
        if let Some(existing) = self.subs.get(&sid) {
            if !existing.is_closed() {
                // The reference ignores a SUB that reuses a live sid.
                self.ok();
                return;
            }
        }
        let sub = SubRef(Arc::new(Subscription::new(
            self.shared.clone(),
            sid.clone(),
            subject,
            queue,
            self.opts.headers,
            self.auth.permissions.clone(),
            self.account.clone(),
        )));
        let mut sent = Vec::new();
        let trace = self.trace.then_some(&mut sent);
        if self.account.insert_sub_traced(&sub, trace).is_err() {
            self.send_err(ProtocolError::InvalidSubject.wire_text());
            return;
        }
        self.shared
            .counters
            .subscriptions
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.subs.insert(sid, sub);
        for e in sent {
            self.push_log(e.level, e.text);
        }
        self.ok();
    }

    fn process_unsub(&mut self, sid: Bytes, max: Option<u64>) {
        let remove = match (self.subs.get(&sid), max) {
            (Some(sub), Some(max)) if max > 0 => sub.set_max(max),
            (Some(_), _) => true,
            (None, _) => false,
        };
        if remove {
            if let Some(sub) = self.subs.remove(&sid) {
                self.retire(&sub);
            }
        }
        self.ok();
    }

    /// Applies reloaded options that act per connection (parser limits, tracing, headers).
    fn refresh_config(&mut self, generation: u64) {
        self.config_generation = generation;
        let cfg = self.server.config();
        self.parser.set_limits(ParserLimits {
            max_control_line: cfg.max_control_line,
            max_payload: i64::from(cfg.max_payload),
        });
        self.parser.set_server_headers(cfg.headers);
        self.trace = cfg.trace;
        // A still-valid user picks up changed permissions (invalid ones were closed by the
        // reload itself).
        if self.connected && cfg.auth.is_required() {
            if let Some(connect) = self.connect.as_deref() {
                if let Ok(identity) = cfg.auth.authenticate(connect, self.auth.nonce.as_deref()) {
                    self.auth.permissions = identity.permissions;
                    self.auth.publish_cache.clear();
                }
            }
        }
    }

    /// Whether this client may publish to `subject` (its permissions, or a response right
    /// granted by a request it received).
    fn may_publish(&mut self, subject: &Bytes) -> bool {
        let Some(perms) = self.auth.permissions.clone() else {
            return true;
        };
        let Some(rules) = perms.publish.as_ref() else {
            return true;
        };
        let allowed = match self.auth.publish_cache.get(subject) {
            Some(&a) => a,
            None => {
                let a = rules.allows_publish(subject);
                if self.auth.publish_cache.len() >= PUBLISH_CACHE_CAPACITY {
                    self.auth.publish_cache.clear();
                }
                self.auth.publish_cache.insert(subject.clone(), a);
                a
            }
        };
        allowed
            || (perms.allow_responses.is_some() && self.shared.use_response(subject, self.last_now))
    }

    /// Removes a subscription from the index (once, whoever calls first).
    fn retire(&mut self, sub: &SubRef) {
        if self.trace {
            let mut lines = Vec::new();
            retire_traced(sub, Some(&mut lines));
            for e in lines {
                self.push_log(e.level, e.text);
            }
        } else {
            retire(sub);
        }
    }

    /// Records the round-trip time from `since` to now (at least 1 ns, as the reference).
    fn set_rtt(&self, since: Instant) {
        let rtt = self.last_now.saturating_duration_since(since);
        self.shared
            .counters
            .set_rtt(rtt.max(std::time::Duration::from_nanos(1)));
    }

    fn parse_error(&mut self, e: &ParseError) {
        if *e == ParseError::HmsgFromClient {
            // The reference reads it as an empty message to nowhere and acknowledges it.
            self.ok();
            return;
        }
        let line = format!("{}{e}", self.prefix());
        self.push_log(LogLevel::Error, line);
        let (text, reason) = parse_error_outcome(e);
        if let Some(text) = text {
            self.send_err(text);
        }
        if let Some(reason) = reason {
            self.close(reason);
        }
    }

    /// Queues the INFO a protocol-1 client gets once its CONNECT was accepted.
    fn send_connected_info(&mut self) {
        let mut info = (*self.server.info()).clone();
        info.client_id = Some(self.shared.cid);
        info.client_ip = Some(self.shared.peer.ip().to_string());
        info.connect_info = true;
        info.remote_account = Some(self.account.name.clone());
        info.connect_urls = self.server.cluster_client_urls();
        self.queue_own(|buf| encode::info(buf, &info));
    }

    /// Queues the INFO for this client.
    fn send_info(&mut self) {
        let mut info = (*self.server.info()).clone();
        info.client_id = Some(self.shared.cid);
        info.client_ip = Some(self.shared.peer.ip().to_string());
        info.auth_required = self.server.config().auth.is_required();
        info.nonce = self.auth.nonce.clone();
        info.connect_urls = self.server.cluster_client_urls();
        self.queue_own(|buf| encode::info(buf, &info));
    }

    fn ok(&mut self) {
        if self.opts.verbose {
            self.trace_out("OK");
            self.queue_own(encode::ok);
        }
    }

    fn send_err(&mut self, text: &str) {
        if self.trace {
            self.trace_out(&format!("-ERR '{text}'"));
        }
        self.queue_own(|buf| encode::err(buf, text));
    }

    /// Takes the log events recorded since the last call (trace lines with `-V`, errors).
    pub fn drain_log(&mut self) -> std::vec::Drain<'_, LogEvent> {
        self.log.drain(..)
    }

    fn push_log(&mut self, level: LogLevel, text: String) {
        // Bounded: a runtime that never drains cannot make this grow without limit.
        if self.log.len() < 4096 {
            self.log.push(LogEvent { level, text });
        }
    }

    /// This connection's log prefix.
    fn prefix(&self) -> String {
        client_prefix(&self.shared.peer, self.shared.cid, self.connect.as_deref())
    }

    /// Traces an op this client sent: `<<- [PUB foo 5]`.
    fn trace_in(&mut self, op: &ClientOp) {
        let show = |b: &Bytes| String::from_utf8_lossy(b).into_owned();
        let opt = |b: &Option<Bytes>| {
            b.as_ref()
                .map(|b| format!(" {}", show(b)))
                .unwrap_or_default()
        };
        let (head, payload) = match op {
            ClientOp::Connect(info) => (format!("CONNECT {}", redacted_connect(info)), None),
            ClientOp::Pub {
                subject,
                reply,
                payload,
                ..
            } => (
                format!("PUB {}{} {}", show(subject), opt(reply), payload.len()),
                Some(payload.clone()),
            ),
            ClientOp::HPub {
                subject,
                reply,
                headers,
                payload,
                ..
            } => (
                format!(
                    "HPUB {}{} {} {}",
                    show(subject),
                    opt(reply),
                    headers.len(),
                    headers.len() + payload.len()
                ),
                Some(payload.clone()),
            ),
            ClientOp::Sub {
                subject,
                queue,
                sid,
            } => (
                format!("SUB {}{} {}", show(subject), opt(queue), show(sid)),
                None,
            ),
            ClientOp::Unsub { sid, max } => (
                match max {
                    Some(m) => format!("UNSUB {} {m}", show(sid)),
                    None => format!("UNSUB {}", show(sid)),
                },
                None,
            ),
            ClientOp::Ping => ("PING".to_string(), None),
            ClientOp::Pong => ("PONG".to_string(), None),
        };
        let prefix = self.prefix();
        self.push_log(LogLevel::Trace, format!("{prefix}<<- [{head}]"));
        if let Some(p) = payload {
            let max = self.server.config().max_traced_msg_len;
            self.push_log(
                LogLevel::Trace,
                format!("{prefix}<<- {}", payload_line(&p, max)),
            );
        }
    }

    /// Traces a reply to this client: `->> [PONG]`.
    fn trace_out(&mut self, line: &str) {
        if self.trace {
            let text = format!("{}->> [{line}]", self.prefix());
            self.push_log(LogLevel::Trace, text);
        }
    }

    /// Traces a message delivered to a subscriber, with the subscriber's prefix.
    fn trace_delivery(
        &mut self,
        sub: &SubRef,
        subject: &[u8],
        reply: Option<&[u8]>,
        hdr: Option<&[u8]>,
        payload: &[u8],
    ) {
        let target = &sub.client;
        let connect = target.connect.get();
        let prefix = client_prefix(&target.peer, target.cid, connect.as_deref());
        let subject = String::from_utf8_lossy(subject);
        let sid = String::from_utf8_lossy(&sub.sid);
        let reply = reply
            .map(|r| format!(" {}", String::from_utf8_lossy(r)))
            .unwrap_or_default();
        let head = match hdr {
            Some(h) => format!(
                "HMSG {subject} {sid}{reply} {} {}",
                h.len(),
                h.len() + payload.len()
            ),
            None => format!("MSG {subject} {sid}{reply} {}", payload.len()),
        };
        let max = self.server.config().max_traced_msg_len;
        self.push_log(LogLevel::Trace, format!("{prefix}->> [{head}]"));
        self.push_log(
            LogLevel::Trace,
            format!("{prefix}->> {}", payload_line(payload, max)),
        );
    }

    /// Queues bytes for this client itself.
    fn queue_own(&mut self, write: impl FnOnce(&mut BytesMut)) {
        let queued = self.shared.outbound.queue(None, write);
        let me = self.shared.clone();
        self.after_queue(&me, queued);
    }

    fn after_queue(&mut self, target: &Arc<ClientShared>, queued: Queued) -> bool {
        match queued {
            Queued::NeedsFlush => {
                self.touched.push(target.clone());
                true
            }
            Queued::Scheduled => true,
            Queued::Dropped => false,
            Queued::SlowConsumer => {
                self.server
                    .stats
                    .slow_consumers
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let connect = target.connect.get();
                let line = format!(
                    "{}Slow Consumer Detected: MaxPending of {} Exceeded",
                    client_prefix(&target.peer, target.cid, connect.as_deref()),
                    self.server.config().max_pending
                );
                self.push_log(LogLevel::Info, line);
                false
            }
        }
    }

    /// Decides to close: the writer flushes what is queued, then closes.
    fn close(&mut self, reason: CloseReason) {
        if self.closed.is_none() {
            self.closed = Some(reason);
        }
        self.shared.outbound.close(reason);
    }

    /// End of a batch of input: wake the writers of every queue written, publish counters.
    fn end_batch(&mut self) {
        self.flush_touched();
        use std::sync::atomic::Ordering::Relaxed;
        let stats = &self.server.stats;
        if self.in_msgs > 0 {
            self.shared.counters.add_input(self.in_msgs, self.in_bytes);
            stats
                .in_msgs
                .fetch_add(std::mem::take(&mut self.in_msgs), Relaxed);
            stats
                .in_bytes
                .fetch_add(std::mem::take(&mut self.in_bytes), Relaxed);
        }
        if self.out_msgs > 0 {
            stats
                .out_msgs
                .fetch_add(std::mem::take(&mut self.out_msgs), Relaxed);
            stats
                .out_bytes
                .fetch_add(std::mem::take(&mut self.out_bytes), Relaxed);
        }
    }

    fn flush_touched(&mut self) {
        for c in self.touched.drain(..) {
            c.outbound.flush();
        }
    }

    /// How many slots a queue group member takes in the draw that picks the one member
    /// serving a message: a local member one, a route's interest its queue weight (none for
    /// a message that came from a route, or once closed), the publisher itself without echo
    /// none.
    fn queue_slots(&self, sub: &SubRef, from_route: bool) -> u64 {
        if sub.remote.is_some() {
            if from_route || sub.is_closed() {
                0
            } else {
                u64::from(sub.weight())
            }
        } else if !self.opts.echo && Arc::ptr_eq(&sub.client, &self.shared) {
            0
        } else {
            1
        }
    }

    fn next_random(&mut self) -> u64 {
        // xorshift64
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng = x;
        x
    }
}

/// What the reference refuses in a CONNECT regardless of credentials.
fn connect_error(info: &ConnectInfo) -> Option<ProtocolError> {
    if !(0..=1).contains(&info.protocol) {
        Some(ProtocolError::InvalidClientProtocol)
    } else if info.no_responders && !info.headers {
        Some(ProtocolError::NoRespondersRequiresHeaders)
    } else if info.account.is_some() || info.new_account {
        Some(ProtocolError::AuthorizationViolation)
    } else {
        None
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.finish_inner();
    }
}

/// One route a message goes to, with the queue groups it must serve there.
pub(crate) struct RouteSend {
    /// A subscription of the route (its client is the route connection).
    pub(crate) sub: SubRef,
    /// Queue groups the peer serves for this message.
    queues: SmallVec<[Bytes; 2]>,
}

/// One message as a route line carries it: subject, reply, headers, payload.
pub(crate) type RoutedMsg<'a> = (&'a [u8], Option<&'a [u8]>, &'a [u8], &'a [u8]);

/// The routes one message goes to.
pub(crate) type RouteSends = SmallVec<[RouteSend; 4]>;

/// Queues one `RMSG`/`HMSG` for `send` on its route connection (the account left out on a
/// pinned route; `scratch` holds the queue names between calls). With `head`, the control
/// line written is copied there (for traces).
pub(crate) fn queue_route_msg(
    send: &RouteSend,
    msg: RoutedMsg<'_>,
    scratch: &mut BytesMut,
    head: Option<&mut String>,
) -> Queued {
    let (subject, reply, hdr, payload) = msg;
    let sub = &send.sub;
    let account = (!sub.remote.is_some_and(|r| r.pinned)).then_some(sub.account.name.as_bytes());
    scratch.clear();
    for q in &send.queues {
        if !scratch.is_empty() {
            scratch.extend_from_slice(b" ");
        }
        scratch.extend_from_slice(q);
    }
    let queues = &scratch[..];
    let size = hdr.len() + payload.len();
    sub.count_routed();
    sub.client.outbound.queue(Some(size), |buf| {
        let start = buf.len();
        if hdr.is_empty() {
            proto::route::encode::rmsg(buf, account, subject, reply, queues, payload);
        } else {
            proto::route::encode::hmsg(buf, account, subject, reply, queues, hdr, payload);
        }
        if let Some(head) = head {
            let line = buf[start..]
                .split(|&b| b == b'\r')
                .next()
                .unwrap_or_default();
            *head = String::from_utf8_lossy(line).into_owned();
        }
    })
}

/// Adds `sub`'s route to the routes a message goes to (once per route connection).
pub(crate) fn route_send(routes: &mut RouteSends, sub: &SubRef, queue: Option<&Bytes>) {
    let send = match routes
        .iter_mut()
        .position(|r| Arc::ptr_eq(&r.sub.client, &sub.client))
    {
        Some(i) => &mut routes[i],
        None => {
            routes.push(RouteSend {
                sub: sub.clone(),
                queues: SmallVec::new(),
            });
            let last = routes.len() - 1;
            &mut routes[last]
        }
    };
    if let Some(q) = queue {
        send.queues.push(q.clone());
    }
}

/// Most imports one message may cross (stops import cycles).
const MAX_FORWARD_DEPTH: u8 = 8;

/// Removes a subscription from the index once, whoever gets there first (its owner
/// unsubscribing or closing, or a publisher delivering its last allowed message).
/// How often the round-trip time is re-measured even when the client keeps sending data (the
/// keepalive PING is not skipped for activity once the last measurement is older).
const RTT_MEASUREMENT_INTERVAL: std::time::Duration = std::time::Duration::from_secs(3600);

/// Whether the last round-trip measurement (the PING sent at `start`) is due again.
fn rtt_stale(start: Option<Instant>, now: Instant) -> bool {
    start.is_none_or(|s| now.saturating_duration_since(s) > RTT_MEASUREMENT_INTERVAL)
}

/// What monitoring keeps of a subscription of a closed connection.
fn closed_sub(sub: &SubRef) -> crate::client_info::ClosedSub {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    crate::client_info::ClosedSub {
        account: sub.account.name.clone(),
        subject: text(&sub.subject),
        queue: sub.queue.as_deref().map(text),
        sid: text(&sub.sid),
        msgs: sub.delivered(),
    }
}

pub(crate) fn retire(sub: &SubRef) {
    retire_traced(sub, None);
}

/// [`retire`], recording the `RS-`/`RS+` lines sent to routes into `trace`.
pub(crate) fn retire_traced(sub: &SubRef, trace: Option<&mut Vec<LogEvent>>) {
    if sub.mark_closed() {
        sub.account.remove_sub(sub, trace);
        sub.client
            .counters
            .subscriptions
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}
