//! The property of the `engine` fuzz target (`fuzz/fuzz_targets/engine.rs` includes this
//! file), also run on stable Rust by `engine/tests/simulation.rs` over seeded inputs.
//!
//! Arbitrary bytes are decoded into steps applied to one in-process server with up to
//! [`SLOTS`] connections, following the runtime call-order contract of `engine`:
//!
//! | op byte `b & 7` | step (slot `(b >> 3) & 3`)                                   |
//! |-----------------|---------------------------------------------------------------|
//! | 0               | raw input: next byte is a length, that many bytes follow      |
//! | 1, 7            | input: next byte picks a protocol fragment from [`FRAGMENTS`] |
//! | 2               | time advance: next byte × 20 ms, then every due timer fires   |
//! | 3               | the peer disconnects (EOF or read error by `b >> 5`)          |
//! | 4               | the writer drains the connection's queue                      |
//! | 5               | the writer stalls / resumes (a write held in flight)          |
//! | 6               | the runtime drops the `Client` without calling `finish`       |
//!
//! Input to an empty slot first accepts a new connection. After every step: no panic, the
//! server's subscription and client counts equal the sums over live connections, `in_msgs`
//! equals the sum of per-connection counters, no queue holds more than `max_pending`, every
//! byte any connection received parses as server protocol starting with INFO, timers re-arm
//! into the future. At the end everybody leaves and the server must be empty.

use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::task::Waker;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use engine::{Client, ClientShared, CloseReason, Server, ServerConfig, ServerSeed, Transmit};
use proto::{ServerOp, ServerParser};

/// Connections at once.
pub const SLOTS: usize = 4;

/// Most steps one input runs.
const MAX_STEPS: usize = 20_000;

/// `max_pending` of the fuzzed server: small, so slow consumers happen.
const MAX_PENDING: usize = 4096;

/// Protocol fragments the fuzzer can pick with one byte (valid ops, limits, errors, splits).
pub const FRAGMENTS: &[&[u8]] = &[
    b"CONNECT {}\r\n",
    b"CONNECT {\"verbose\":false,\"pedantic\":true}\r\n",
    b"CONNECT {\"verbose\":false,\"echo\":false,\"headers\":true,\"no_responders\":true}\r\n",
    b"CONNECT {\"verbose\":true,\"headers\":true}\r\n",
    b"CONNECT {\"verbose\":false,\"headers\":false}\r\n",
    b"SUB a 1\r\n",
    b"SUB a.* 2\r\n",
    b"SUB > 3\r\n",
    b"SUB a.> q 4\r\n",
    b"SUB * q 5\r\n",
    b"SUB _INBOX.* 6\r\n",
    b"SUB a..b 7\r\n",
    b"sub A 8\r\n",
    b"UNSUB 1\r\n",
    b"UNSUB 2 1\r\n",
    b"UNSUB 4 3\r\n",
    b"UNSUB 9\r\n",
    b"PUB a 2\r\nhi\r\n",
    b"PUB a.b _INBOX.x 0\r\n\r\n",
    b"PUB nobody _INBOX.y 1\r\nx\r\n",
    b"PUB a.b 5\r\nhel",
    b"lo\r\n",
    b"PUB a 600\r\n",
    b"PUB a.b.c 300\r\n",
    b"HPUB a.b 12 14\r\nNATS/1.0\r\n\r\nhi\r\n",
    b"HPUB a 16 16\r\nNATS/1.0 503\r\n\r\n\r\n",
    b"HPUB a 20 10\r\n",
    b"PING\r\n",
    b"PONG\r\n",
    b"\r\n",
    b"INFO {}\r\n",
    b"MSG a 1 0\r\n\r\n",
    b"PUB a 3000000000\r\n",
];

/// One connection slot.
struct Conn {
    client: Option<Client>,
    shared: Arc<ClientShared>,
    buf: BytesMut,
    rx: BytesMut,
    parser: ServerParser,
    ops_seen: u64,
    admitted: bool,
    stalled: bool,
    writer_done: Option<CloseReason>,
}

struct Driver {
    server: Arc<Server>,
    base: Instant,
    now: Duration,
    slots: [Option<Conn>; SLOTS],
    /// `in_msgs` of connections already gone.
    gone_in_msgs: u64,
    accepted: u64,
    out: BytesMut,
}

/// Reads one byte (0 when the input is exhausted).
fn take(data: &mut &[u8]) -> u8 {
    match data.split_first() {
        Some((&b, rest)) => {
            *data = rest;
            b
        }
        None => 0,
    }
}

/// Applies `data` to a fresh server and checks the invariants; panics on a violation.
pub fn run(data: &[u8]) {
    let mut data = data;
    let flags = take(&mut data);
    let config = ServerConfig {
        max_pending: MAX_PENDING,
        max_payload: 512,
        max_control_line: 128,
        max_connections: 3,
        max_subscriptions: if flags & 1 != 0 { 4 } else { 0 },
        ping_interval: Duration::from_secs(1),
        first_ping_delay: Duration::from_millis(200),
        ping_max: 2,
        headers: flags & 2 == 0,
        trace: flags & 4 != 0,
        max_closed_clients: 16,
        ..ServerConfig::default()
    };
    let base = Instant::now();
    let server = Server::new(
        config,
        ServerSeed {
            identity: [9; 32],
            rng: u64::from(flags),
        },
        base,
    );
    let mut d = Driver {
        server,
        base,
        now: Duration::ZERO,
        slots: Default::default(),
        gone_in_msgs: 0,
        accepted: 0,
        out: BytesMut::new(),
    };
    for _ in 0..MAX_STEPS {
        if data.is_empty() {
            break;
        }
        let b = take(&mut data);
        let slot = usize::from(b >> 3) & (SLOTS - 1);
        match b & 7 {
            0 => {
                let len = usize::from(take(&mut data)).min(data.len());
                let (chunk, rest) = data.split_at(len);
                data = rest;
                d.input(slot, chunk);
            }
            1 | 7 => {
                let pick = usize::from(take(&mut data)) % FRAGMENTS.len();
                d.input(slot, FRAGMENTS[pick]);
            }
            2 => {
                d.now += Duration::from_millis(20 * u64::from(take(&mut data)));
                d.fire_timers();
            }
            3 => {
                let reason = if b & 0x20 != 0 {
                    CloseReason::ReadError
                } else {
                    CloseReason::ClientClosed
                };
                d.disconnect(slot, reason);
            }
            4 => d.drain(slot),
            5 => d.toggle_stall(slot),
            _ => d.drop_client(slot),
        }
        d.check();
    }
    for slot in 0..SLOTS {
        d.disconnect(slot, CloseReason::ClientClosed);
    }
    d.check();
    assert_eq!(
        d.server.num_clients(),
        0,
        "clients left after everybody left"
    );
    assert_eq!(
        d.server.num_subscriptions(),
        0,
        "subscriptions left after everybody left"
    );
    assert_eq!(
        d.server.stats.in_msgs.load(Relaxed),
        d.gone_in_msgs,
        "in_msgs differs from the sum of per-connection counters"
    );
    assert_eq!(
        d.server.stats.total_connections.load(Relaxed),
        d.accepted,
        "total_connections differs from the connections admitted"
    );
}

impl Driver {
    fn at(&self) -> Instant {
        self.base + self.now
    }

    fn peer(slot: usize) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 50_000 + slot as u16))
    }

    fn accept(&mut self, slot: usize) {
        let client = self.server.accept(Self::peer(slot), self.at());
        let admitted = client.close_reason().is_none();
        if admitted {
            self.accepted += 1;
        }
        self.slots[slot] = Some(Conn {
            shared: client.shared().clone(),
            client: Some(client),
            buf: BytesMut::new(),
            rx: BytesMut::new(),
            parser: ServerParser::new(),
            ops_seen: 0,
            admitted,
            stalled: false,
            writer_done: None,
        });
    }

    /// Reader side: bytes arrive.
    fn input(&mut self, slot: usize, bytes: &[u8]) {
        if self.slots[slot].is_none() {
            self.accept(slot);
        }
        let now = self.at();
        let Some(conn) = self.slots[slot].as_mut() else {
            return;
        };
        let Some(client) = conn.client.as_mut() else {
            return;
        };
        if client.close_reason().is_some() {
            // The reader stopped: nothing more is read.
            return;
        }
        conn.buf.extend_from_slice(bytes);
        client.handle_input(&mut conn.buf, now);
        client.drain_log().for_each(drop);
    }

    fn fire_timers(&mut self) {
        let now = self.at();
        for conn in self.slots.iter_mut().flatten() {
            let Some(client) = conn.client.as_mut() else {
                continue;
            };
            if client.poll_timeout().is_some_and(|t| t <= now) {
                client.handle_timeout(now);
                client.drain_log().for_each(drop);
                if let Some(next) = client.poll_timeout() {
                    assert!(next > now, "timer re-armed into the past");
                }
            }
        }
    }

    /// Writer side: drains the queue unless stalled; a `Close` ends the connection.
    fn drain(&mut self, slot: usize) {
        let Some(conn) = self.slots[slot].as_mut() else {
            return;
        };
        if conn.stalled {
            return;
        }
        for _ in 0..64 {
            if conn.writer_done.is_some() {
                break;
            }
            self.out.clear();
            match conn
                .shared
                .outbound
                .poll_transmit(&mut self.out, Waker::noop())
            {
                Transmit::Data => {
                    conn.rx.extend_from_slice(&self.out);
                    conn.shared.outbound.handle_written();
                }
                Transmit::Idle => break,
                Transmit::Close(reason) => conn.writer_done = Some(reason),
            }
        }
        parse_output(conn);
        if conn.writer_done.is_some() {
            // The socket is shut down: the reader sees an error, then both sides ended.
            if let Some(client) = conn.client.as_mut() {
                client.handle_read_closed(CloseReason::ReadError);
            }
            self.finish(slot);
        }
    }

    fn toggle_stall(&mut self, slot: usize) {
        let Some(conn) = self.slots[slot].as_mut() else {
            return;
        };
        if conn.stalled {
            conn.stalled = false;
            conn.shared.outbound.handle_written();
        } else if conn.writer_done.is_none() {
            self.out.clear();
            match conn
                .shared
                .outbound
                .poll_transmit(&mut self.out, Waker::noop())
            {
                Transmit::Data => {
                    conn.rx.extend_from_slice(&self.out);
                    conn.stalled = true;
                }
                Transmit::Idle => {}
                Transmit::Close(reason) => conn.writer_done = Some(reason),
            }
            parse_output(conn);
        }
    }

    /// The peer went away: the reader sees it, the writer flushes and closes, then finish.
    fn disconnect(&mut self, slot: usize, reason: CloseReason) {
        let Some(conn) = self.slots[slot].as_mut() else {
            return;
        };
        if let Some(client) = conn.client.as_mut() {
            client.handle_read_closed(reason);
            assert!(
                client.close_reason().is_some(),
                "no close reason after the read side closed"
            );
        }
        conn.stalled = false;
        conn.shared.outbound.handle_written();
        self.drain(slot);
        // The writer may already have finished the slot; if it did not see Close, it is a bug.
        if let Some(conn) = self.slots[slot].as_ref() {
            panic!(
                "writer never saw Close after disconnect (writer {:?})",
                conn.writer_done
            );
        }
    }

    /// The runtime drops the client without `finish`; `Drop` must clean up.
    fn drop_client(&mut self, slot: usize) {
        let Some(conn) = self.slots[slot].as_mut() else {
            return;
        };
        if let Some(client) = conn.client.take() {
            self.gone_in_msgs += conn.shared.snapshot().in_msgs;
            drop(client);
        }
        conn.stalled = false;
        conn.shared.outbound.handle_written();
        self.drain(slot);
        if self.slots[slot].is_some() {
            panic!("writer never saw Close after the client was dropped");
        }
    }

    fn finish(&mut self, slot: usize) {
        let now = self.at();
        let Some(mut conn) = self.slots[slot].take() else {
            return;
        };
        if let Some(mut client) = conn.client.take() {
            self.gone_in_msgs += conn.shared.snapshot().in_msgs;
            client.finish(now);
        }
        assert_eq!(
            conn.shared.counters.subscriptions.load(Relaxed),
            0,
            "finished connection still counts subscriptions"
        );
        // Nothing may be queued after the close was handed out.
        self.out.clear();
        assert!(
            matches!(
                conn.shared
                    .outbound
                    .poll_transmit(&mut self.out, Waker::noop()),
                Transmit::Close(_)
            ),
            "data queued after Close"
        );
        parse_output(&mut conn);
    }

    fn check(&mut self) {
        let mut subs = 0usize;
        let mut counted = 0u64;
        let mut clients = 0usize;
        let mut in_msgs = self.gone_in_msgs;
        for conn in self.slots.iter().flatten() {
            let Some(client) = conn.client.as_ref() else {
                continue;
            };
            subs += client.num_subscriptions();
            counted += conn.shared.counters.subscriptions.load(Relaxed);
            clients += usize::from(conn.admitted);
            in_msgs += conn.shared.snapshot().in_msgs;
            let pending = conn.shared.outbound.pending_bytes();
            assert!(
                pending <= MAX_PENDING,
                "{pending} bytes pending over max_pending"
            );
        }
        let server_subs = self.server.num_subscriptions();
        assert_eq!(
            server_subs, subs,
            "server counts {server_subs} subscriptions, connections {subs}"
        );
        assert_eq!(
            server_subs as u64, counted,
            "per-connection subscription counters disagree"
        );
        assert_eq!(self.server.num_clients(), clients, "client registry");
        assert_eq!(
            self.server.stats.in_msgs.load(Relaxed),
            in_msgs,
            "in_msgs differs from the sum of per-connection counters"
        );
    }
}

/// Everything a connection received must be server protocol, INFO first.
fn parse_output(conn: &mut Conn) {
    for _ in 0..100_000 {
        match conn.parser.next_op(&mut conn.rx) {
            Ok(Some(op)) => {
                // INFO first; later only the `connect_info` INFO after CONNECT.
                match &op {
                    ServerOp::Info(info) => assert!(
                        conn.ops_seen == 0 || info.connect_info,
                        "a second INFO without connect_info: {op:?}"
                    ),
                    _ => assert!(conn.ops_seen > 0, "first op is not INFO: {op:?}"),
                }
                conn.ops_seen += 1;
            }
            Ok(None) => return,
            Err(e) => panic!("server sent malformed protocol: {e}"),
        }
    }
    panic!("output parsing did not terminate");
}
