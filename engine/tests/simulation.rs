//! Deterministic simulation of many clients against one [`engine::Server`] over virtual time.
//!
//! A seeded schedule (splitmix64, no `rand`) drives simulated clients: CONNECT with random
//! options (verbose, echo, headers), SUB (literal and wildcard filters, queue groups), UNSUB
//! (with and without a limit), PUB/HPUB whose payloads name (publisher, sequence number) and
//! PING. Input reaches the engine in random partial chunks (split at any byte), clients act in
//! random order, some disconnect mid-op, slow readers hold their writes for a long time (with
//! a small `max_pending` some become slow consumers) and stale clients never answer PINGs
//! (virtual time runs past `ping_interval`, so stale detection fires).
//!
//! A model tracks what every subscription should receive; the checks run online (every
//! delivery is checked when it is read) and at the end:
//! * a plain subscription receives exactly the messages published to a matching subject while
//!   it was live, in publication order, each once (a prefix of them when its connection was cut
//!   off, and at least everything published before the cut-off was observed);
//! * a queue group gets each message at most once, and exactly once when a member without a
//!   limit was still open after the publish;
//! * auto-unsubscribe limits are exact, `echo:false` is respected, headers reach exactly the
//!   subscribers that asked for them;
//! * verbose clients get one `+OK` per op, every PING one PONG; healthy clients are never
//!   cut off and never get `-ERR`; stale clients are cut off as stale;
//! * the server's subscription count follows the model after every engine call, its counters
//!   match the deliveries, and after everybody left it holds no client and no subscription.
//!
//! A failure prints its seed; `SIM_SEED=<seed> cargo test -p engine --test simulation
//! replay_seed -- --nocapture` replays it (`SIM_CLIENTS`, `SIM_STEPS` set the size). The long
//! run is `cargo test -p engine --release --test simulation -- --ignored --nocapture`
//! (`SIM_SEEDS` seeds, default 200).

#[path = "sim/engine_fuzz.rs"]
mod engine_fuzz;

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::net::SocketAddr;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::task::Waker;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use engine::{Client, ClientShared, CloseReason, Server, ServerConfig, ServerSeed, Transmit};
use proto::{ServerOp, ServerParser};

/// splitmix64: tiny, seedable, good enough to schedule a simulation.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 when `n == 0`).
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `num / den`.
    fn chance(&mut self, num: usize, den: usize) -> bool {
        self.below(den) < num
    }

    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}

/// Size of one simulation run.
#[derive(Debug, Clone, Copy)]
struct Params {
    /// Clients created over the whole run.
    clients: usize,
    /// Clients connected at once (at most).
    concurrent: usize,
    /// Scheduling steps of the main phase.
    steps: usize,
}

/// What a run saw, summed over seeds to show the scenarios were exercised.
#[derive(Debug, Default, Clone, Copy)]
struct Totals {
    seeds: u64,
    clients: u64,
    published: u64,
    delivered: u64,
    queue_deliveries: u64,
    slow_consumers: u64,
    stale: u64,
    disconnects: u64,
    mid_op_disconnects: u64,
    auto_unsub_reached: u64,
    chunks: u64,
    shutdowns: u64,
}

impl Totals {
    fn add(&mut self, o: &Totals) {
        self.seeds += o.seeds;
        self.clients += o.clients;
        self.published += o.published;
        self.delivered += o.delivered;
        self.queue_deliveries += o.queue_deliveries;
        self.slow_consumers += o.slow_consumers;
        self.stale += o.stale;
        self.disconnects += o.disconnects;
        self.mid_op_disconnects += o.mid_op_disconnects;
        self.auto_unsub_reached += o.auto_unsub_reached;
        self.chunks += o.chunks;
        self.shutdowns += o.shutdowns;
    }
}

// Server options of the simulation (virtual time).
const MAX_PENDING: usize = 16 * 1024;
const PING_INTERVAL_MS: u64 = 2_000;
const FIRST_PING_MS: u64 = 500;
const PING_MAX: u32 = 2;
/// Largest chunk of input handed to the engine at once.
const MAX_CHUNK: usize = 256;
/// Most live subscriptions a client keeps (bounds the fan-out to one client).
const MAX_SUBS_PER_CLIENT: usize = 6;
/// A fast client's bytes never wait longer than this before being sent.
const FAST_SEND_WITHIN_MS: u64 = 300;
/// Input a client may have generated but not sent.
const MAX_BACKLOG: usize = 1024;
/// Recent events kept for a failure report.
const LOG_KEEP: usize = 120;

const TOKENS: [&str; 3] = ["a", "b", "c"];
const QUEUES: [&str; 2] = ["q1", "q2"];

/// How a simulated client behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Reads everything at once, answers PINGs, sends promptly: must never be cut off.
    Fast,
    /// Holds each write for `every` steps before taking the next one.
    Slow { every: usize },
    /// Sends its CONNECT and SUBs, reads, never answers a PING: must be cut off as stale.
    Stale,
}

/// The model effect of one op a client sent, applied once the engine has all its bytes.
#[derive(Debug, Clone)]
enum Effect {
    Connect,
    Sub {
        sid: u64,
        filter: String,
        queue: Option<String>,
    },
    Unsub {
        sid: u64,
        max: Option<u64>,
    },
    Pub {
        seq: usize,
        subject: String,
        reply: Option<String>,
        hdr: Option<Vec<u8>>,
        payload: Vec<u8>,
    },
    Ping,
    Pong,
}

impl Effect {
    /// A short description for the event log.
    fn describe(&self) -> String {
        match self {
            Effect::Connect => "CONNECT".to_string(),
            Effect::Sub { sid, filter, queue } => {
                format!("SUB {filter} {} {sid}", queue.as_deref().unwrap_or(""))
            }
            Effect::Unsub { sid, max } => format!("UNSUB {sid} {max:?}"),
            Effect::Pub {
                seq, subject, hdr, ..
            } => format!(
                "{} {subject} #{seq}",
                if hdr.is_some() { "HPUB" } else { "PUB" }
            ),
            Effect::Ping => "PING".to_string(),
            Effect::Pong => "PONG".to_string(),
        }
    }
}

/// One subscription as the model sees it.
#[derive(Debug)]
struct ModelSub {
    client: usize,
    sid: u64,
    filter: String,
    queue: Option<String>,
    /// Auto-unsubscribe limit, once set.
    max: Option<u64>,
    /// Messages the engine counted against the limit (plain subscriptions).
    assigned: u64,
    /// In the server's index (as far as the model knows).
    live: bool,
    /// Whether the engine's count of this subscription is uncertain (queue member with a
    /// limit: the model cannot know which member got which message).
    uncertain: bool,
    /// Plain: the messages it must receive, in order. Queue: the messages it may receive.
    expected: Vec<usize>,
    /// Messages received, in order.
    received: Vec<usize>,
    /// Messages published before the limit was set.
    limit_g: usize,
}

/// A queue group's share of one message.
#[derive(Debug)]
struct GroupShare {
    name: String,
    candidates: Vec<usize>,
    delivered: Vec<usize>,
    /// Exactly one delivery is required (a member without limit stayed open).
    must: bool,
}

/// One published message.
#[derive(Debug)]
struct Msg {
    publisher: usize,
    subject: String,
    reply: Option<String>,
    hdr: Option<Vec<u8>>,
    payload: Vec<u8>,
    groups: Vec<GroupShare>,
}

/// One simulated connection.
struct SimClient {
    kind: Kind,
    verbose: bool,
    echo: bool,
    headers: bool,
    client: Option<Client>,
    shared: Arc<ClientShared>,
    /// The engine's read buffer (holds a partial op between calls).
    read_buf: BytesMut,
    /// Generated bytes not yet handed to the engine.
    wire: VecDeque<u8>,
    /// Virtual time the oldest unsent byte was generated.
    wire_since: u64,
    /// Bytes handed to the engine so far.
    sent: u64,
    /// Bytes generated so far.
    generated: u64,
    /// Effects of generated ops, keyed by the offset of their last byte.
    effects: VecDeque<(u64, Effect)>,
    rx: BytesMut,
    parser: ServerParser,
    ops_seen: u64,
    /// A slow writer holds a write in flight.
    in_flight: bool,
    next_write_step: usize,
    /// The writer saw `Transmit::Close` with this reason.
    writer_done: Option<CloseReason>,
    /// The reader stopped (end of file, or the engine closed).
    reader_stopped: bool,
    /// The simulation chose to disconnect it.
    we_closed: bool,
    finish_at: Option<usize>,
    finished: bool,
    /// Number of messages published before the one during which it was first seen closed.
    closed_at_g: Option<usize>,
    next_sid: u64,
    gen_sids: Vec<(u64, bool)>,
    next_seq: usize,
    /// Global message index of each of its publications, by sequence number.
    pub_gs: Vec<usize>,
    subs: Vec<usize>,
    oks_expected: u64,
    oks: u64,
    pongs_expected: u64,
    pongs: u64,
    pings: u64,
    errs: Vec<String>,
    msgs_received: u64,
    pubs_applied: u64,
}

struct Sim {
    seed: u64,
    params: Params,
    rng: Rng,
    server: Arc<Server>,
    base: Instant,
    now_ms: u64,
    step: usize,
    clients: Vec<SimClient>,
    slots: Vec<Option<usize>>,
    subs: Vec<ModelSub>,
    sub_index: HashMap<(usize, u64), usize>,
    live_subs: BTreeSet<usize>,
    live_certain: usize,
    live_uncertain: usize,
    msgs: Vec<Msg>,
    log: VecDeque<String>,
    totals: Totals,
    out: BytesMut,
    shutting_down: bool,
}

fn matches(filter: &str, subject: &str) -> bool {
    let mut f = filter.split('.');
    let mut s = subject.split('.');
    loop {
        match (f.next(), s.next()) {
            (Some(">"), Some(_)) => return true,
            (Some("*"), Some(_)) => {}
            (Some(a), Some(b)) if a == b => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

fn peer(idx: usize) -> SocketAddr {
    SocketAddr::from((
        [10, 0, (idx >> 8) as u8, idx as u8],
        40_000 + (idx % 20_000) as u16,
    ))
}

impl Sim {
    fn new(seed: u64, params: Params) -> Sim {
        let config = ServerConfig {
            max_pending: MAX_PENDING,
            ping_interval: Duration::from_millis(PING_INTERVAL_MS),
            first_ping_delay: Duration::from_millis(FIRST_PING_MS),
            ping_max: PING_MAX,
            max_closed_clients: params.clients + 1,
            ..ServerConfig::default()
        };
        let base = Instant::now();
        let mut identity = [0u8; 32];
        identity[..8].copy_from_slice(&seed.to_le_bytes());
        let server = Server::new(
            config,
            ServerSeed {
                identity,
                rng: seed ^ 0x5EED,
            },
            base,
        );
        Sim {
            seed,
            params,
            rng: Rng(seed),
            server,
            base,
            now_ms: 0,
            step: 0,
            clients: Vec::new(),
            slots: vec![None; params.concurrent],
            subs: Vec::new(),
            sub_index: HashMap::new(),
            live_subs: BTreeSet::new(),
            live_certain: 0,
            live_uncertain: 0,
            msgs: Vec::new(),
            log: VecDeque::new(),
            totals: Totals {
                seeds: 1,
                ..Totals::default()
            },
            out: BytesMut::new(),
            shutting_down: false,
        }
    }

    fn now(&self) -> Instant {
        self.base + Duration::from_millis(self.now_ms)
    }

    fn note(&mut self, text: String) {
        if self.log.len() == LOG_KEEP {
            self.log.pop_front();
        }
        self.log
            .push_back(format!("[step {} t={}ms] {text}", self.step, self.now_ms));
    }

    /// Stops the run with a report naming the seed and the recent events.
    #[track_caller]
    fn fail(&self, what: String) -> ! {
        let recent: Vec<&str> = self.log.iter().map(String::as_str).collect();
        panic!(
            "simulation invariant violated (seed {seed}, {p:?}): {what}\nrecent events:\n  {}\nreplay: SIM_SEED={seed} SIM_CLIENTS={c} SIM_CONCURRENT={k} SIM_STEPS={s} cargo test -p engine --test simulation replay_seed -- --nocapture",
            recent.join("\n  "),
            seed = self.seed,
            p = self.params,
            c = self.params.clients,
            k = self.params.concurrent,
            s = self.params.steps,
        );
    }

    // ---------------------------------------------------------------- clients and ops

    fn spawn(&mut self, slot: usize) {
        let idx = self.clients.len();
        let kind = match self.rng.below(10) {
            0..=6 => Kind::Fast,
            7 | 8 => Kind::Slow {
                every: self.rng.range(5, 120),
            },
            _ => Kind::Stale,
        };
        let verbose = self.rng.chance(1, 4);
        let echo = !self.rng.chance(1, 4);
        let headers = self.rng.chance(1, 2);
        let client = self.server.accept(peer(idx), self.now());
        let shared = client.shared().clone();
        self.clients.push(SimClient {
            kind,
            verbose,
            echo,
            headers,
            client: Some(client),
            shared,
            read_buf: BytesMut::new(),
            wire: VecDeque::new(),
            wire_since: self.now_ms,
            sent: 0,
            generated: 0,
            effects: VecDeque::new(),
            rx: BytesMut::new(),
            parser: ServerParser::new(),
            ops_seen: 0,
            in_flight: false,
            next_write_step: self.step,
            writer_done: None,
            reader_stopped: false,
            we_closed: false,
            finish_at: None,
            finished: false,
            closed_at_g: None,
            next_sid: 1,
            gen_sids: Vec::new(),
            next_seq: 0,
            pub_gs: Vec::new(),
            subs: Vec::new(),
            oks_expected: 0,
            oks: 0,
            pongs_expected: 0,
            pongs: 0,
            pings: 0,
            errs: Vec::new(),
            msgs_received: 0,
            pubs_applied: 0,
        });
        self.slots[slot] = Some(idx);
        self.totals.clients += 1;
        self.note(format!("accept client {idx} ({kind:?}, verbose={verbose}, echo={echo}, headers={headers}) cid {}", self.clients[idx].shared.cid));
        let connect = format!(
            "CONNECT {{\"verbose\":{verbose},\"pedantic\":false,\"echo\":{echo},\"headers\":{headers},\"protocol\":1,\"lang\":\"sim\",\"version\":\"0\"}}\r\n"
        );
        self.push_op(idx, connect.into_bytes(), Effect::Connect);
        let subs = match kind {
            Kind::Stale => self.rng.range(1, 3),
            _ => self.rng.range(0, 2),
        };
        for _ in 0..subs {
            self.gen_sub(idx);
        }
        self.after_call(idx, self.msgs.len());
    }

    fn push_op(&mut self, idx: usize, bytes: Vec<u8>, effect: Effect) {
        let now = self.now_ms;
        let c = &mut self.clients[idx];
        if c.wire.is_empty() {
            c.wire_since = now;
        }
        c.generated += bytes.len() as u64;
        c.wire.extend(bytes);
        c.effects.push_back((c.generated, effect));
    }

    fn random_subject(&mut self) -> String {
        let n = self.rng.range(1, 3);
        let toks: Vec<&str> = (0..n).map(|_| TOKENS[self.rng.below(3)]).collect();
        toks.join(".")
    }

    fn random_filter(&mut self) -> String {
        let n = self.rng.range(1, 3);
        let mut toks: Vec<&str> = (0..n)
            .map(|_| {
                if self.rng.chance(1, 4) {
                    "*"
                } else {
                    TOKENS[self.rng.below(3)]
                }
            })
            .collect();
        if self.rng.chance(1, 5) {
            toks[n - 1] = ">";
        }
        toks.join(".")
    }

    fn gen_sub(&mut self, idx: usize) {
        let filter = self.random_filter();
        let queue = self
            .rng
            .chance(1, 3)
            .then(|| QUEUES[self.rng.below(2)].to_string());
        let c = &mut self.clients[idx];
        let sid = c.next_sid;
        c.next_sid += 1;
        c.gen_sids.push((sid, queue.is_some()));
        let line = match &queue {
            Some(q) => format!("SUB {filter} {q} {sid}\r\n"),
            None => format!("SUB {filter} {sid}\r\n"),
        };
        self.push_op(idx, line.into_bytes(), Effect::Sub { sid, filter, queue });
    }

    /// Appends a few random ops to a client's unsent input.
    fn gen_ops(&mut self, idx: usize) {
        let n = self.rng.range(1, 4);
        for _ in 0..n {
            let live = self.clients[idx].gen_sids.len();
            match self.rng.below(20) {
                0..=4 if live < MAX_SUBS_PER_CLIENT => self.gen_sub(idx),
                5 | 6 if live > 0 => {
                    let at = self.rng.below(live);
                    let (sid, _) = self.clients[idx].gen_sids.remove(at);
                    let max = self.rng.chance(1, 2).then(|| self.rng.range(1, 5) as u64);
                    let line = match max {
                        Some(m) => format!("UNSUB {sid} {m}\r\n"),
                        None => format!("UNSUB {sid}\r\n"),
                    };
                    self.push_op(idx, line.into_bytes(), Effect::Unsub { sid, max });
                }
                7 | 8 => self.push_op(idx, b"PING\r\n".to_vec(), Effect::Ping),
                _ => self.gen_pub(idx),
            }
        }
    }

    fn gen_pub(&mut self, idx: usize) {
        let subject = self.random_subject();
        let reply = self.rng.chance(1, 4).then(|| format!("r.{idx}"));
        let seq = self.clients[idx].next_seq;
        self.clients[idx].next_seq += 1;
        let mut payload = format!("p{idx}s{seq};").into_bytes();
        let pad = self.rng.below(33);
        for _ in 0..pad {
            // Payloads are binary-safe: CR and LF inside them must not confuse anyone.
            payload.push(b"xyz\r\n "[self.rng.below(6)]);
        }
        let hdr = (self.clients[idx].headers && self.rng.chance(1, 2))
            .then(|| format!("NATS/1.0\r\nX-Seq: {seq}\r\n\r\n").into_bytes());
        let reply_part = reply.as_ref().map(|r| format!(" {r}")).unwrap_or_default();
        let mut bytes = match &hdr {
            Some(h) => format!(
                "HPUB {subject}{reply_part} {} {}\r\n",
                h.len(),
                h.len() + payload.len()
            )
            .into_bytes(),
            None => format!("PUB {subject}{reply_part} {}\r\n", payload.len()).into_bytes(),
        };
        if let Some(h) = &hdr {
            bytes.extend_from_slice(h);
        }
        bytes.extend_from_slice(&payload);
        bytes.extend_from_slice(b"\r\n");
        self.push_op(
            idx,
            bytes,
            Effect::Pub {
                seq,
                subject,
                reply,
                hdr,
                payload,
            },
        );
    }

    // ---------------------------------------------------------------- engine calls

    /// Hands the next `n` unsent bytes of client `idx` to the engine.
    fn feed(&mut self, idx: usize, n: usize) {
        let g_before = self.msgs.len();
        let now = self.now();
        let c = &mut self.clients[idx];
        let n = n.min(c.wire.len());
        if n == 0 || c.reader_stopped {
            return;
        }
        c.read_buf.extend(c.wire.drain(..n));
        c.sent += n as u64;
        if c.wire.is_empty() {
            c.wire_since = self.now_ms;
        }
        let Some(client) = c.client.as_mut() else {
            return;
        };
        client.handle_input(&mut c.read_buf, now);
        let reason = client.close_reason();
        self.totals.chunks += 1;
        if let Some(reason) = reason {
            self.fail(format!(
                "client {idx} closed by its own valid input: {reason}"
            ));
        }
        // Every op whose last byte was handed over has been processed.
        let sent = self.clients[idx].sent;
        let mut applied = Vec::new();
        while self.clients[idx]
            .effects
            .front()
            .is_some_and(|(end, _)| *end <= sent)
        {
            let Some((_, effect)) = self.clients[idx].effects.pop_front() else {
                break;
            };
            applied.push(effect.describe());
            self.apply(idx, effect);
        }
        if !applied.is_empty() {
            self.note(format!("client {idx}: {n} bytes: {}", applied.join("; ")));
        }
        self.after_call(idx, g_before);
    }

    fn kill_sub(&mut self, s: usize) {
        let sub = &mut self.subs[s];
        if !sub.live {
            return;
        }
        sub.live = false;
        if sub.uncertain {
            self.live_uncertain -= 1;
        } else {
            self.live_certain -= 1;
        }
        self.live_subs.remove(&s);
    }

    fn apply(&mut self, idx: usize, effect: Effect) {
        let verbose = self.clients[idx].verbose;
        match effect {
            Effect::Connect => {
                if verbose {
                    self.clients[idx].oks_expected += 1;
                }
            }
            Effect::Sub { sid, filter, queue } => {
                let s = self.subs.len();
                self.subs.push(ModelSub {
                    client: idx,
                    sid,
                    filter,
                    queue,
                    max: None,
                    assigned: 0,
                    live: true,
                    uncertain: false,
                    expected: Vec::new(),
                    received: Vec::new(),
                    limit_g: 0,
                });
                self.sub_index.insert((idx, sid), s);
                self.live_subs.insert(s);
                self.live_certain += 1;
                self.clients[idx].subs.push(s);
                if verbose {
                    self.clients[idx].oks_expected += 1;
                }
            }
            Effect::Unsub { sid, max } => {
                if verbose {
                    self.clients[idx].oks_expected += 1;
                }
                let Some(&s) = self.sub_index.get(&(idx, sid)) else {
                    self.fail(format!(
                        "model: client {idx} unsubscribes unknown sid {sid}"
                    ));
                };
                match max {
                    Some(m) if self.subs[s].queue.is_none() => {
                        self.subs[s].max = Some(m);
                        if self.subs[s].assigned >= m {
                            self.kill_sub(s);
                        }
                    }
                    Some(m) => {
                        self.subs[s].max = Some(m);
                        self.subs[s].limit_g = self.msgs.len();
                        if self.subs[s].live && !self.subs[s].uncertain {
                            self.subs[s].uncertain = true;
                            self.live_certain -= 1;
                            self.live_uncertain += 1;
                        }
                    }
                    None => self.kill_sub(s),
                }
            }
            Effect::Pub {
                seq,
                subject,
                reply,
                hdr,
                payload,
            } => {
                if verbose {
                    self.clients[idx].oks_expected += 1;
                }
                let g = self.msgs.len();
                if self.clients[idx].pub_gs.len() != seq {
                    self.fail(format!(
                        "model: client {idx} publication {seq} out of order"
                    ));
                }
                self.clients[idx].pub_gs.push(g);
                self.clients[idx].pubs_applied += 1;
                self.totals.published += 1;
                let echo = self.clients[idx].echo;
                let mut groups: Vec<GroupShare> = Vec::new();
                let live: Vec<usize> = self.live_subs.iter().copied().collect();
                for s in live {
                    let sub = &self.subs[s];
                    if !matches(&sub.filter, &subject) || (!echo && sub.client == idx) {
                        continue;
                    }
                    match sub.queue.clone() {
                        None => {
                            let sub = &mut self.subs[s];
                            sub.assigned += 1;
                            sub.expected.push(g);
                            if sub.max.is_some_and(|m| sub.assigned >= m) {
                                self.totals.auto_unsub_reached += 1;
                                self.kill_sub(s);
                            }
                        }
                        Some(name) => {
                            self.subs[s].expected.push(g);
                            match groups.iter_mut().find(|gr| gr.name == name) {
                                Some(gr) => gr.candidates.push(s),
                                None => groups.push(GroupShare {
                                    name,
                                    candidates: vec![s],
                                    delivered: Vec::new(),
                                    must: false,
                                }),
                            }
                        }
                    }
                }
                self.msgs.push(Msg {
                    publisher: idx,
                    subject,
                    reply,
                    hdr,
                    payload,
                    groups,
                });
            }
            Effect::Ping => self.clients[idx].pongs_expected += 1,
            Effect::Pong => {}
        }
    }

    /// After any engine call: observe closures, settle queue-group obligations of the
    /// messages just published, let fast writers drain, compare the subscription count.
    fn after_call(&mut self, actor: usize, g_before: usize) {
        let g_now = self.msgs.len();
        let published = g_now > g_before;
        for (idx, c) in self.clients.iter_mut().enumerate() {
            if (published || idx == actor)
                && !c.finished
                && c.closed_at_g.is_none()
                && c.shared.outbound.close_reason().is_some()
            {
                c.closed_at_g = Some(g_before);
            }
        }
        for g in g_before..g_now {
            for gi in 0..self.msgs[g].groups.len() {
                let must = self.msgs[g].groups[gi].candidates.iter().any(|&s| {
                    let sub = &self.subs[s];
                    sub.max.is_none() && self.clients[sub.client].closed_at_g.is_none()
                });
                self.msgs[g].groups[gi].must = must;
            }
        }
        if published {
            for idx in 0..self.clients.len() {
                if self.drains_fast(idx) {
                    self.drain(idx);
                }
            }
        } else if self.drains_fast(actor) {
            self.drain(actor);
        }
        self.check_sub_count();
    }

    fn drains_fast(&self, idx: usize) -> bool {
        let c = &self.clients[idx];
        !c.finished
            && c.writer_done.is_none()
            && (!matches!(c.kind, Kind::Slow { .. }) || c.we_closed || c.reader_stopped)
    }

    fn check_sub_count(&self) {
        let actual = self.server.num_subscriptions();
        if actual < self.live_certain || actual > self.live_certain + self.live_uncertain {
            // Name the clients whose count differs.
            let mut differ = Vec::new();
            for (idx, c) in self.clients.iter().enumerate() {
                let Some(client) = c.client.as_ref() else {
                    continue;
                };
                let model: Vec<String> = c
                    .subs
                    .iter()
                    .map(|&s| &self.subs[s])
                    .filter(|s| s.live)
                    .map(|s| format!("{} {} {:?} max {:?}", s.sid, s.filter, s.queue, s.max))
                    .collect();
                if client.num_subscriptions() != model.len() {
                    differ.push(format!(
                        "client {idx}: engine {} model {model:?}",
                        client.num_subscriptions()
                    ));
                }
            }
            // And the subscriptions the index holds, against the model's.
            let mut indexed = BTreeSet::new();
            self.server
                .global_account()
                .sublist
                .read()
                .for_each(|subject, _, sub| {
                    indexed.insert((
                        sub.client.cid,
                        String::from_utf8_lossy(&sub.sid).into_owned(),
                        String::from_utf8_lossy(subject).into_owned(),
                    ));
                });
            let mut modelled = BTreeSet::new();
            for &s in &self.live_subs {
                let sub = &self.subs[s];
                modelled.insert((
                    self.clients[sub.client].shared.cid,
                    sub.sid.to_string(),
                    sub.filter.clone(),
                ));
            }
            let missing: Vec<_> = modelled.difference(&indexed).collect();
            let extra: Vec<_> = indexed.difference(&modelled).collect();
            differ.push(format!(
                "missing from the index {missing:?}, only in the index {extra:?}"
            ));
            self.fail(format!(
                "server holds {actual} subscriptions, model {} (+{} uncertain); {differ:?}",
                self.live_certain, self.live_uncertain
            ));
        }
    }

    /// Writer side: takes everything queued for client `idx` and reads it.
    fn drain(&mut self, idx: usize) {
        for _ in 0..64 {
            if !self.write_once(idx) {
                break;
            }
        }
    }

    /// One `poll_transmit`; returns whether it moved data.
    fn write_once(&mut self, idx: usize) -> bool {
        let c = &mut self.clients[idx];
        if c.writer_done.is_some() {
            return false;
        }
        self.out.clear();
        match c
            .shared
            .outbound
            .poll_transmit(&mut self.out, Waker::noop())
        {
            Transmit::Data => {
                c.rx.extend_from_slice(&self.out);
                c.shared.outbound.handle_written();
                self.read_output(idx);
                true
            }
            Transmit::Idle => false,
            Transmit::Close(reason) => {
                self.read_output(idx);
                self.writer_closed(idx, reason);
                false
            }
        }
    }

    /// The writer saw `Close`: the socket is shut down, which also ends the reader.
    fn writer_closed(&mut self, idx: usize, reason: CloseReason) {
        self.clients[idx].writer_done = Some(reason);
        let c = &self.clients[idx];
        let (kind, we_closed) = (c.kind, c.we_closed);
        self.note(format!("client {idx} writer closed: {reason}"));
        if reason == CloseReason::ClientClosed {
            if !we_closed {
                self.fail(format!(
                    "client {idx} closed as 'Client Closed' but it never left"
                ));
            }
        } else if self.shutting_down && reason == CloseReason::ServerShutdown {
            // Everybody is told to close.
        } else {
            let allowed = match kind {
                Kind::Fast => false,
                Kind::Slow { .. } => matches!(
                    reason,
                    CloseReason::SlowConsumerPendingBytes | CloseReason::StaleConnection
                ),
                Kind::Stale => reason == CloseReason::StaleConnection,
            };
            if !allowed {
                self.fail(format!(
                    "{kind:?} client {idx} cut off by the server: {reason}"
                ));
            }
            match reason {
                CloseReason::SlowConsumerPendingBytes => self.totals.slow_consumers += 1,
                CloseReason::StaleConnection => self.totals.stale += 1,
                _ => {}
            }
        }
        if !self.clients[idx].reader_stopped {
            self.stop_reader(idx, CloseReason::ReadError);
        }
        if self.clients[idx].finish_at.is_none() {
            let later = self.step + self.rng.below(4);
            self.clients[idx].finish_at = Some(later);
        }
    }

    fn stop_reader(&mut self, idx: usize, reason: CloseReason) {
        let g_before = self.msgs.len();
        let c = &mut self.clients[idx];
        c.reader_stopped = true;
        c.wire.clear();
        c.effects.clear();
        if let Some(client) = c.client.as_mut() {
            client.handle_read_closed(reason);
        }
        self.after_call(idx, g_before);
    }

    /// Parses what client `idx` received so far and checks every op.
    fn read_output(&mut self, idx: usize) {
        for _ in 0..100_000 {
            let c = &mut self.clients[idx];
            let op = match c.parser.next_op(&mut c.rx) {
                Ok(Some(op)) => op,
                Ok(None) => return,
                Err(e) => self.fail(format!("client {idx} received malformed output: {e}")),
            };
            let first = c.ops_seen == 0;
            c.ops_seen += 1;
            match op {
                ServerOp::Info(_) if first => {}
                // Protocol-1 clients get a second INFO (`connect_info`) once CONNECT is accepted.
                ServerOp::Info(i) if i.connect_info => {}
                ServerOp::Info(_) => self.fail(format!("client {idx}: INFO not first")),
                _ if first => self.fail(format!("client {idx}: first op is not INFO")),
                ServerOp::Msg {
                    subject,
                    sid,
                    reply,
                    payload,
                } => self.receive(idx, &subject, &sid, reply.as_deref(), None, &payload),
                ServerOp::HMsg {
                    subject,
                    sid,
                    reply,
                    headers,
                    payload,
                } => self.receive(
                    idx,
                    &subject,
                    &sid,
                    reply.as_deref(),
                    Some(&headers),
                    &payload,
                ),
                ServerOp::Ping => {
                    c.pings += 1;
                    if c.kind != Kind::Stale && !c.reader_stopped && !c.we_closed {
                        self.push_op(idx, b"PONG\r\n".to_vec(), Effect::Pong);
                    }
                }
                ServerOp::Pong => c.pongs += 1,
                ServerOp::Ok => c.oks += 1,
                ServerOp::Err(text) => {
                    self.note(format!("client {idx} got -ERR '{text}'"));
                    self.clients[idx].errs.push(text);
                }
            }
        }
        self.fail(format!("client {idx}: output parsing did not terminate"));
    }

    fn receive(
        &mut self,
        idx: usize,
        subject: &[u8],
        sid: &[u8],
        reply: Option<&[u8]>,
        hdr: Option<&[u8]>,
        payload: &[u8],
    ) {
        let sid_num: Option<u64> = std::str::from_utf8(sid).ok().and_then(|s| s.parse().ok());
        let Some(&s) = sid_num.and_then(|sid| self.sub_index.get(&(idx, sid))) else {
            self.fail(format!("client {idx}: message for unknown sid {sid:?}"));
        };
        let tag_end = payload.iter().position(|&b| b == b';').unwrap_or(0);
        let tag = std::str::from_utf8(&payload[..tag_end]).unwrap_or("");
        let parsed = tag.strip_prefix('p').and_then(|t| {
            let (p, q) = t.split_once('s')?;
            Some((p.parse::<usize>().ok()?, q.parse::<usize>().ok()?))
        });
        let Some(g) = parsed.and_then(|(p, q)| self.clients.get(p)?.pub_gs.get(q).copied()) else {
            self.fail(format!(
                "client {idx}: unknown message {:?}",
                String::from_utf8_lossy(payload)
            ));
        };
        let m = &self.msgs[g];
        let sub = &self.subs[s];
        let want_hdr = if self.clients[idx].headers {
            m.hdr.as_deref()
        } else {
            None
        };
        if subject != m.subject.as_bytes()
            || reply != m.reply.as_deref().map(str::as_bytes)
            || payload != m.payload.as_slice()
            || hdr != want_hdr
            || !matches(&sub.filter, &m.subject)
        {
            self.fail(format!(
                "client {idx} sid {sid_num:?}: message {g} altered: subject {:?} reply {:?} headers {:?} (published {:?} by client {} with headers {:?}, filter {})",
                String::from_utf8_lossy(subject),
                reply.map(String::from_utf8_lossy),
                hdr.map(String::from_utf8_lossy),
                m.subject,
                m.publisher,
                m.hdr.as_deref().map(String::from_utf8_lossy),
                sub.filter
            ));
        }
        match &sub.queue {
            None => {
                let at = sub.received.len();
                if sub.expected.get(at) != Some(&g) {
                    self.fail(format!(
                        "client {idx} sid {}: received message {g} (from client {}) as delivery #{at}, expected {:?}",
                        sub.sid,
                        m.publisher,
                        sub.expected.get(at)
                    ));
                }
            }
            Some(name) => {
                if sub.received.last().is_some_and(|&last| last >= g)
                    || sub.expected.binary_search(&g).is_err()
                {
                    self.fail(format!(
                        "client {idx} queue sid {}: message {g} out of order or unexpected",
                        sub.sid
                    ));
                }
                let name = name.clone();
                let Some(share) = self.msgs[g].groups.iter_mut().find(|gr| gr.name == name) else {
                    self.fail(format!("message {g}: no share for group {name}"));
                };
                share.delivered.push(s);
                if share.delivered.len() > 1 {
                    let who = share.delivered.clone();
                    self.fail(format!(
                        "message {g} delivered twice in queue group {name}: subs {who:?}"
                    ));
                }
                self.totals.queue_deliveries += 1;
            }
        }
        self.subs[s].received.push(g);
        self.clients[idx].msgs_received += 1;
        self.totals.delivered += 1;
    }

    /// The simulation disconnects client `idx`, maybe after handing over part of an op.
    fn disconnect(&mut self, idx: usize) {
        if self.clients[idx].we_closed || self.clients[idx].finished {
            return;
        }
        let pending = self.clients[idx].wire.len();
        if pending > 1 && !self.clients[idx].reader_stopped && self.rng.chance(1, 2) {
            let n = self.rng.range(1, pending - 1);
            self.feed(idx, n);
            self.totals.mid_op_disconnects += 1;
        }
        self.totals.disconnects += 1;
        self.clients[idx].we_closed = true;
        self.note(format!("client {idx} disconnects"));
        match self.rng.below(3) {
            0 => {
                // The runtime drops the client without calling finish: Drop cleans up.
                let g_before = self.msgs.len();
                self.clients[idx].reader_stopped = true;
                self.clients[idx].client = None;
                self.kill_client_subs(idx);
                self.after_call(idx, g_before);
                self.drain(idx);
                self.check_counters(idx);
                self.mark_finished(idx);
            }
            mode => {
                if !self.clients[idx].reader_stopped {
                    self.stop_reader(idx, CloseReason::ClientClosed);
                }
                self.drain(idx);
                let later = if mode == 1 { 0 } else { self.rng.range(1, 6) };
                self.clients[idx].finish_at = Some(self.step + later);
            }
        }
    }

    /// `Client::finish` once both sides ended.
    fn finish(&mut self, idx: usize) {
        self.drain(idx);
        self.check_counters(idx);
        let g_before = self.msgs.len();
        let now = self.now();
        if let Some(mut client) = self.clients[idx].client.take() {
            client.finish(now);
        }
        self.kill_client_subs(idx);
        self.after_call(idx, g_before);
        self.drain(idx);
        self.mark_finished(idx);
    }

    /// Per-connection counters against what the client sent and received. `out_msgs` counts
    /// messages when they are queued (as the reference does); a connection cut off at once
    /// (slow consumer, read error: reasons that skip the flush) loses what was still queued,
    /// so it may have been counted more than it received, never less.
    fn check_counters(&self, idx: usize) {
        let c = &self.clients[idx];
        let snap = c.shared.snapshot();
        let dropped_queue = c
            .shared
            .outbound
            .close_reason()
            .is_some_and(CloseReason::skips_flush);
        let out_ok = if dropped_queue {
            snap.out_msgs >= c.msgs_received
        } else {
            snap.out_msgs == c.msgs_received
        };
        if snap.in_msgs != c.pubs_applied || !out_ok {
            self.fail(format!(
                "client {idx}: counters in {} out {}, model published {} received {}",
                snap.in_msgs, snap.out_msgs, c.pubs_applied, c.msgs_received
            ));
        }
    }

    /// The model's side of a client's cleanup: all its subscriptions leave the index.
    fn kill_client_subs(&mut self, idx: usize) {
        let subs = self.clients[idx].subs.clone();
        for s in subs {
            self.kill_sub(s);
        }
    }

    fn mark_finished(&mut self, idx: usize) {
        self.kill_client_subs(idx);
        self.clients[idx].finished = true;
        self.clients[idx].finish_at = None;
        self.check_sub_count();
        let c = &self.clients[idx];
        if c.writer_done.is_none() {
            self.fail(format!(
                "client {idx} finished but its writer never saw Close"
            ));
        }
        if c.shared.counters.subscriptions.load(Relaxed) != 0 {
            self.fail(format!("client {idx} finished with subscriptions counted"));
        }
        let cid = c.shared.cid;
        if !self
            .server
            .closed_clients()
            .iter()
            .any(|cc| cc.snapshot.cid == cid)
        {
            self.fail(format!(
                "client {idx} (cid {cid}) missing from closed connections"
            ));
        }
    }

    // ---------------------------------------------------------------- schedule

    fn fire_timers(&mut self) {
        let now = self.now();
        let mut order: Vec<usize> = self
            .slots
            .iter()
            .flatten()
            .copied()
            .filter(|&i| !self.clients[i].finished && !self.clients[i].reader_stopped)
            .collect();
        self.rng.shuffle(&mut order);
        for idx in order {
            let g_before = self.msgs.len();
            let Some(client) = self.clients[idx].client.as_mut() else {
                continue;
            };
            if client.poll_timeout().is_some_and(|at| at <= now) {
                client.handle_timeout(now);
                if client.poll_timeout().is_some_and(|at| at <= now) {
                    self.fail(format!("client {idx}: timer not rearmed after it fired"));
                }
                let stopped = client.close_reason().is_some();
                if stopped {
                    self.clients[idx].reader_stopped = true;
                    self.clients[idx].wire.clear();
                    self.clients[idx].effects.clear();
                    self.note(format!("client {idx} closed by its timer"));
                }
                self.after_call(idx, g_before);
            }
        }
    }

    /// Slow writers finish their write in flight every `every` steps and take the next.
    fn slow_writers(&mut self) {
        for idx in 0..self.clients.len() {
            let c = &mut self.clients[idx];
            let Kind::Slow { every } = c.kind else {
                continue;
            };
            if c.finished || c.writer_done.is_some() || c.next_write_step > self.step {
                continue;
            }
            c.next_write_step = self.step + every;
            if c.in_flight {
                c.shared.outbound.handle_written();
                c.in_flight = false;
            }
            self.out.clear();
            match c
                .shared
                .outbound
                .poll_transmit(&mut self.out, Waker::noop())
            {
                Transmit::Data => {
                    // Handed to the socket; read by the peer (checked) but not yet written.
                    c.rx.extend_from_slice(&self.out);
                    c.in_flight = true;
                    self.read_output(idx);
                }
                Transmit::Idle => {}
                Transmit::Close(reason) => {
                    self.read_output(idx);
                    self.writer_closed(idx, reason);
                }
            }
        }
    }

    /// Fast clients never let their bytes wait long (so they answer PINGs in time).
    fn flush_fast(&mut self) {
        for idx in 0..self.clients.len() {
            let c = &self.clients[idx];
            if c.finished
                || c.reader_stopped
                || matches!(c.kind, Kind::Slow { .. })
                || c.wire.is_empty()
                || c.wire_since + FAST_SEND_WITHIN_MS > self.now_ms
            {
                continue;
            }
            for _ in 0..64 {
                let left = self.clients[idx].wire.len();
                if left == 0 || self.clients[idx].reader_stopped {
                    break;
                }
                let n = self.rng.range(1, left.min(MAX_CHUNK));
                self.feed(idx, n);
            }
        }
    }

    fn due_finishes(&mut self) {
        for idx in 0..self.clients.len() {
            if self.clients[idx]
                .finish_at
                .is_some_and(|at| at <= self.step)
            {
                self.finish(idx);
            }
        }
    }

    fn chunk_len(&mut self, available: usize) -> usize {
        match self.rng.below(4) {
            0 => self.rng.range(1, available.min(3)),
            1 => available.min(MAX_CHUNK),
            _ => self.rng.range(1, available.min(MAX_CHUNK)),
        }
    }

    fn action(&mut self, generate: bool) {
        let slot = self.rng.below(self.slots.len());
        let idx = match self.slots[slot] {
            Some(idx) if self.clients[idx].finished => {
                self.slots[slot] = None;
                return;
            }
            Some(idx) => idx,
            None => {
                if generate && self.clients.len() < self.params.clients {
                    self.spawn(slot);
                }
                return;
            }
        };
        let c = &self.clients[idx];
        if c.reader_stopped || c.we_closed {
            return;
        }
        let may_generate = generate && c.kind != Kind::Stale && c.wire.len() < MAX_BACKLOG;
        let has_wire = !c.wire.is_empty();
        match self.rng.below(100) {
            0 if generate => self.disconnect(idx),
            1..=40 if may_generate => self.gen_ops(idx),
            _ if has_wire => {
                let n = self.chunk_len(self.clients[idx].wire.len());
                self.feed(idx, n);
            }
            _ => {}
        }
    }

    fn tick(&mut self, generate: bool, max_advance_ms: usize) {
        self.step += 1;
        self.now_ms += if generate && self.rng.chance(1, 300) {
            // A jump past the ping interval: one timer tick for everyone at once.
            PING_INTERVAL_MS * 6 / 5
        } else {
            self.rng.below(max_advance_ms + 1) as u64
        };
        self.fire_timers();
        self.slow_writers();
        let actions = self.rng.range(1, 8);
        for _ in 0..actions {
            self.action(generate);
        }
        self.flush_fast();
        self.due_finishes();
    }

    fn run(&mut self) {
        for _ in 0..self.params.steps {
            self.tick(true, 100);
        }
        // Quiesce: nobody starts anything new; time runs long enough for every stale client
        // to be detected while the others keep answering PINGs.
        let quiet_ms = FIRST_PING_MS + u64::from(PING_MAX + 2) * PING_INTERVAL_MS;
        let start = self.now_ms;
        for _ in 0..10_000 {
            if self.now_ms > start + quiet_ms {
                break;
            }
            self.tick(false, 250);
        }
        for idx in 0..self.clients.len() {
            let c = &self.clients[idx];
            if c.finished || c.we_closed {
                continue;
            }
            if c.kind == Kind::Stale
                && (c.writer_done != Some(CloseReason::StaleConnection)
                    || !c.errs.iter().any(|e| e == "Stale Connection"))
            {
                self.fail(format!(
                    "stale client {idx} not cut off as stale (writer {:?}, errors {:?})",
                    c.writer_done, c.errs
                ));
            }
            if c.kind == Kind::Fast && (c.closed_at_g.is_some() || c.reader_stopped) {
                self.fail(format!("fast client {idx} closed"));
            }
        }
        // Sometimes the server shuts down first: every connection is told to close.
        if self.rng.chance(1, 4) {
            self.shutdown();
        }
        // Everybody leaves.
        let mut order: Vec<usize> = (0..self.clients.len()).collect();
        self.rng.shuffle(&mut order);
        for idx in order {
            self.step += 1;
            if !self.clients[idx].finished {
                self.disconnect(idx);
            }
            self.due_finishes();
        }
        for _ in 0..16 {
            self.step += 1;
            self.due_finishes();
        }
        self.final_checks();
    }

    /// `Server::shutdown`: every writer sees `Close(ServerShutdown)`, new connections are
    /// refused.
    fn shutdown(&mut self) {
        self.note("server shutdown".to_string());
        self.shutting_down = true;
        self.totals.shutdowns += 1;
        self.server.shutdown();
        let g = self.msgs.len();
        for c in &mut self.clients {
            if !c.finished && c.closed_at_g.is_none() {
                c.closed_at_g = Some(g);
            }
        }
        let probe = self.server.accept(peer(0xFFFF), self.now());
        if probe.close_reason() != Some(CloseReason::ServerShutdown) {
            self.fail(format!(
                "connection accepted while shutting down: {:?}",
                probe.close_reason()
            ));
        }
        drop(probe);
        for idx in 0..self.clients.len() {
            if !self.clients[idx].finished {
                self.drain(idx);
                if self.clients[idx].writer_done.is_none() {
                    self.fail(format!(
                        "client {idx}: writer not told to close at shutdown"
                    ));
                }
            }
        }
    }

    fn final_checks(&mut self) {
        if let Some(idx) = self.clients.iter().position(|c| !c.finished) {
            self.fail(format!("client {idx} never finished"));
        }
        if self.server.num_clients() != 0 || self.server.num_subscriptions() != 0 {
            self.fail(format!(
                "after everybody left: {} clients, {} subscriptions",
                self.server.num_clients(),
                self.server.num_subscriptions()
            ));
        }
        for sub in &self.subs {
            let c = &self.clients[sub.client];
            let bound = c.closed_at_g.unwrap_or(usize::MAX);
            // A connection cut off at once (slow consumer, read error) loses what was still
            // queued, as with the reference: it is owed no more than the gap-free, in-order
            // prefix the online check already holds it to.
            let dropped_queue = c
                .shared
                .outbound
                .close_reason()
                .is_some_and(CloseReason::skips_flush);
            if sub.queue.is_none() {
                let owed = sub.expected.iter().filter(|&&g| g < bound).count();
                if !dropped_queue && sub.received.len() < owed {
                    self.fail(format!(
                        "client {} sid {}: received {} of {} messages it was owed (cut off after message {bound})",
                        sub.client,
                        sub.sid,
                        sub.received.len(),
                        owed
                    ));
                }
            } else if let Some(max) = sub.max {
                // The limit counts every delivery since SUB: a queue member past it when the
                // UNSUB arrives gets nothing more, otherwise at most `max` in total.
                let before = sub.received.iter().filter(|&&g| g < sub.limit_g).count() as u64;
                let total = sub.received.len() as u64;
                if (before >= max && total > before) || (before < max && total > max) {
                    self.fail(format!(
                        "client {} queue sid {}: {total} deliveries, {before} before the limit {max}",
                        sub.client, sub.sid
                    ));
                }
            }
        }
        // Clients cut off at once lost what was still queued for them (counted as sent).
        let dropped_queue = |c: &SimClient| {
            c.shared
                .outbound
                .close_reason()
                .is_some_and(CloseReason::skips_flush)
        };
        for (g, m) in self.msgs.iter().enumerate() {
            for share in &m.groups {
                // Never twice; once, unless the member it went to lost its queue.
                let lost = share.delivered.is_empty()
                    && share
                        .candidates
                        .iter()
                        .any(|&s| dropped_queue(&self.clients[self.subs[s].client]));
                if share.delivered.len() > 1 || share.must && share.delivered.len() != 1 && !lost {
                    self.fail(format!(
                        "message {g} to {}: queue group {} got it {} times (candidates {:?})",
                        m.subject,
                        share.name,
                        share.delivered.len(),
                        share.candidates
                    ));
                }
            }
        }
        for (idx, c) in self.clients.iter().enumerate() {
            let served_to_end = c.closed_at_g.is_none() || c.we_closed && c.kind == Kind::Fast;
            if c.kind == Kind::Fast {
                if !c.errs.is_empty() {
                    self.fail(format!("fast client {idx} got errors {:?}", c.errs));
                }
                if served_to_end {
                    let oks = if c.verbose { c.oks_expected } else { 0 };
                    if c.oks != oks || c.pongs != c.pongs_expected {
                        self.fail(format!(
                            "client {idx}: {} +OK (want {oks}), {} PONG (want {})",
                            c.oks, c.pongs, c.pongs_expected
                        ));
                    }
                }
            } else if c.errs.iter().any(|e| e != "Stale Connection") {
                self.fail(format!("client {idx} got errors {:?}", c.errs));
            }
        }
        let dropped_msgs: u64 = self
            .clients
            .iter()
            .filter(|c| dropped_queue(c))
            .map(|c| c.shared.snapshot().out_msgs.saturating_sub(c.msgs_received))
            .sum();
        let stats = &self.server.stats;
        let slow = self
            .clients
            .iter()
            .filter(|c| c.writer_done == Some(CloseReason::SlowConsumerPendingBytes))
            .count() as u64;
        let checks = [
            (
                "in_msgs",
                stats.in_msgs.load(Relaxed),
                self.msgs.len() as u64,
            ),
            (
                "out_msgs",
                stats.out_msgs.load(Relaxed),
                self.totals.delivered + dropped_msgs,
            ),
            ("slow_consumers", stats.slow_consumers.load(Relaxed), slow),
            (
                "total_connections",
                stats.total_connections.load(Relaxed),
                self.clients.len() as u64,
            ),
            (
                "closed_clients",
                self.server.closed_clients().len() as u64,
                self.clients.len() as u64,
            ),
        ];
        for (name, got, want) in checks {
            if got != want {
                self.fail(format!("server {name} = {got}, model {want}"));
            }
        }
    }
}

/// Runs one seed; on failure prints the seed (also for panics inside the engine).
fn run_seed(seed: u64, params: Params) -> Totals {
    let result = catch_unwind(AssertUnwindSafe(|| {
        let mut sim = Sim::new(seed, params);
        sim.run();
        sim.totals
    }));
    match result {
        Ok(totals) => totals,
        Err(panic) => {
            eprintln!(
                "simulation failed with seed {seed} ({params:?}); replay with SIM_SEED={seed} SIM_CLIENTS={} SIM_CONCURRENT={} SIM_STEPS={} cargo test -p engine --test simulation replay_seed -- --nocapture",
                params.clients, params.concurrent, params.steps
            );
            resume_unwind(panic)
        }
    }
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

const SMALL: Params = Params {
    clients: 24,
    concurrent: 10,
    steps: 220,
};

/// Many small seeds: what CI runs.
#[test]
fn many_seeds_small() {
    let start = Instant::now();
    let mut totals = Totals::default();
    for seed in 1..=200u64 {
        totals.add(&run_seed(seed, SMALL));
    }
    eprintln!("200 seeds in {:?}: {totals:?}", start.elapsed());
    // The scenarios the simulation is about actually happened.
    assert!(totals.published > 10_000, "{totals:?}");
    assert!(totals.queue_deliveries > 1_000, "{totals:?}");
    assert!(totals.slow_consumers > 0, "{totals:?}");
    assert!(totals.stale > 0, "{totals:?}");
    assert!(totals.mid_op_disconnects > 0, "{totals:?}");
    assert!(totals.auto_unsub_reached > 0, "{totals:?}");
    assert!(totals.shutdowns > 0, "{totals:?}");
}

/// One seed with hundreds of clients.
#[test]
fn hundreds_of_clients() {
    let totals = run_seed(
        0xC0FFEE,
        Params {
            clients: 300,
            concurrent: 150,
            steps: 600,
        },
    );
    eprintln!("{totals:?}");
    assert!(totals.clients >= 200, "{totals:?}");
}

/// Replays `SIM_SEED` (with `SIM_CLIENTS`, `SIM_CONCURRENT`, `SIM_STEPS`); a no-op without it.
#[test]
fn replay_seed() {
    let Some(seed) = std::env::var("SIM_SEED").ok().and_then(|s| s.parse().ok()) else {
        return;
    };
    let params = Params {
        clients: env_usize("SIM_CLIENTS", SMALL.clients),
        concurrent: env_usize("SIM_CONCURRENT", SMALL.concurrent),
        steps: env_usize("SIM_STEPS", SMALL.steps),
    };
    eprintln!("{:?}", run_seed(seed, params));
}

/// The same seed twice gives the same run.
#[test]
fn runs_are_deterministic() {
    let a = run_seed(7, SMALL);
    let b = run_seed(7, SMALL);
    assert_eq!(format!("{a:?}"), format!("{b:?}"));
}

/// The long run: `SIM_SEEDS` (default 200) seeds with hundreds of clients each.
#[test]
#[ignore = "long run: cargo test -p engine --release --test simulation -- --ignored --nocapture"]
fn long_run() {
    let seeds = env_usize("SIM_SEEDS", 200) as u64;
    let first = env_usize("SIM_FIRST_SEED", 1_000) as u64;
    let start = Instant::now();
    let mut totals = Totals::default();
    for seed in first..first + seeds {
        totals.add(&run_seed(
            seed,
            Params {
                clients: 600,
                concurrent: 200,
                steps: 5_000,
            },
        ));
    }
    eprintln!("{seeds} long seeds in {:?}: {totals:?}", start.elapsed());
}

/// Arbitrary byte strings through the engine fuzz target's driver (stable-Rust run of its
/// property over seeded inputs).
#[test]
fn engine_fuzz_property_over_seeded_inputs() {
    let mut rng = Rng(0xF00D);
    for _ in 0..300 {
        let len = rng.range(0, 2_000);
        let mut data: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        // Half of the inputs lean on the fragment dictionary, like a fuzzer would learn to.
        if rng.chance(1, 2) {
            for (i, b) in data.iter_mut().enumerate() {
                if i % 3 == 0 {
                    *b = (*b & 0xF8) | 1;
                }
            }
        }
        engine_fuzz::run(&data);
    }
}

/// Drives one connection the way the runtimes do (`runtime-smol/src/connection.rs`): the
/// writer sees `Transmit::Close`, shuts the socket down, the reader then reads end of file
/// and calls `handle_read_closed(ClientClosed)`, and finally `finish`.
fn close_like_a_runtime(client: &mut Client, now: Instant) -> CloseReason {
    let mut out = BytesMut::new();
    let mut seen = None;
    for _ in 0..1000 {
        out.clear();
        match client
            .shared()
            .outbound
            .poll_transmit(&mut out, Waker::noop())
        {
            Transmit::Data => client.shared().outbound.handle_written(),
            Transmit::Idle => break,
            Transmit::Close(reason) => {
                seen = Some(reason);
                break;
            }
        }
    }
    let seen = seen.expect("writer told to close");
    client.handle_read_closed(CloseReason::ClientClosed);
    client.finish(now);
    seen
}

/// A subscriber cut off as a slow consumer must be remembered among the closed connections
/// (`/connz?state=closed`) as "Slow Consumer (Pending Bytes)", as the reference does.
#[test]
fn closed_connection_remembers_slow_consumer_reason() {
    let now = Instant::now();
    let config = ServerConfig {
        max_pending: 1024,
        ..ServerConfig::default()
    };
    let server = Server::new(
        config,
        ServerSeed {
            identity: [1; 32],
            rng: 1,
        },
        now,
    );
    let mut sub = server.accept(peer(1), now);
    let mut publ = server.accept(peer(2), now);
    let mut buf = BytesMut::from(&b"CONNECT {\"verbose\":false}\r\nSUB s 1\r\n"[..]);
    sub.handle_input(&mut buf, now);
    let mut buf = BytesMut::from(&b"CONNECT {\"verbose\":false}\r\n"[..]);
    publ.handle_input(&mut buf, now);
    // The subscriber's writer holds what it took in flight and never finishes writing it.
    let mut held = BytesMut::new();
    assert_eq!(
        sub.shared()
            .outbound
            .poll_transmit(&mut held, Waker::noop()),
        Transmit::Data
    );
    for _ in 0..20 {
        let mut buf = BytesMut::from(&b"PUB s 100\r\n"[..]);
        buf.extend_from_slice(&[b'x'; 100]);
        buf.extend_from_slice(b"\r\n");
        publ.handle_input(&mut buf, now);
    }
    sub.shared().outbound.handle_written();
    let told = close_like_a_runtime(&mut sub, now);
    assert_eq!(told, CloseReason::SlowConsumerPendingBytes);
    let cid = sub.cid();
    let closed = server.closed_clients();
    let record = closed
        .iter()
        .find(|c| c.snapshot.cid == cid)
        .expect("closed connection recorded");
    assert_eq!(record.reason, CloseReason::SlowConsumerPendingBytes);
}

/// Same for a server shutdown: the record says "Server Shutdown".
#[test]
fn closed_connection_remembers_shutdown_reason() {
    let now = Instant::now();
    let server = Server::new(
        ServerConfig::default(),
        ServerSeed {
            identity: [1; 32],
            rng: 1,
        },
        now,
    );
    let mut c = server.accept(peer(1), now);
    let mut buf = BytesMut::from(&b"CONNECT {\"verbose\":false}\r\n"[..]);
    c.handle_input(&mut buf, now);
    server.shutdown();
    assert_eq!(
        close_like_a_runtime(&mut c, now),
        CloseReason::ServerShutdown
    );
    let record = server
        .closed_clients()
        .into_iter()
        .find(|r| r.snapshot.cid == c.cid())
        .expect("closed connection recorded");
    assert_eq!(record.reason, CloseReason::ServerShutdown);
}
