//! Shared core of `pubsub` and `fanout`: one flow-controlled publisher and
//! K counting subscribers.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::CONNECT_WAIT;
use crate::conn::Conn;
use crate::cpu::{self, CpuProbe};
use crate::error::{BenchError, Result};
use crate::flow::{FlowGate, SubProgress};
use crate::options::Options;
use crate::publisher::Publisher;
use crate::subscriber::{self, SubOutcome};

/// Bytes of a delivered `MSG` beyond subject and payload (`MSG  1 N\r\n..\r\n`).
const MSG_OVERHEAD: usize = 24;

/// The result of one delivery run.
pub struct Delivery {
    /// Time from the first publish to the final PONG on the publisher.
    pub pub_elapsed: Duration,
    /// One outcome per subscriber.
    pub subs: Vec<SubOutcome>,
    /// Server CPU time over the whole run, if `--pid` was given.
    pub server_cpu: Option<Duration>,
}

impl Delivery {
    /// Messages received over all subscribers.
    pub fn delivered(&self) -> u64 {
        self.subs.iter().map(|s| s.received).sum()
    }

    /// From the earliest first message to the latest last message.
    pub fn receive_window(&self) -> Duration {
        let first = self.subs.iter().filter_map(|s| s.first).min();
        let last = self.subs.iter().filter_map(|s| s.last).max();
        match (first, last) {
            (Some(f), Some(l)) => l - f,
            _ => Duration::ZERO,
        }
    }

    /// The first subscriber error, if any.
    pub fn error(&self) -> Option<&str> {
        self.subs.iter().find_map(|s| s.error.as_deref())
    }
}

/// Publishes `o.msgs` messages to `subs` subscribers, never letting the
/// slowest fall more than `o.window_bytes` behind.
pub fn run(o: &Options, subs: usize) -> Result<Delivery> {
    let mut progress = Vec::with_capacity(subs);
    let mut counters = Vec::with_capacity(subs);
    let sub_server = o.sub_server.as_deref().unwrap_or(&o.server);
    let mut subscribed = Vec::with_capacity(subs);
    for _ in 0..subs {
        subscribed.push(subscriber::subscribe(
            sub_server,
            &o.subject,
            1,
            CONNECT_WAIT,
        )?);
    }
    if sub_server != o.server {
        super::route_interest::wait(&o.server, sub_server, o.stall)?;
    }
    for conn in subscribed {
        let p = Arc::new(SubProgress::default());
        counters.push(subscriber::spawn_counter(conn, o.msgs, p.clone(), o.stall));
        progress.push(p);
    }
    let mut conn = Conn::connect(&o.server, CONNECT_WAIT)?;
    let publisher = Publisher::new(&o.subject, None, o.size);
    let per_msg = (o.size + o.subject.len() + MSG_OVERHEAD) as u64;
    let window = (o.window_bytes / per_msg).max(publisher.frames_per_batch() as u64);
    let gate = FlowGate::new(progress, window, o.stall);

    let probe = CpuProbe::new(o.pid);
    let cpu_start = cpu::sample(probe)?;
    let start = Instant::now();
    let mut sent = 0u64;
    // Each iteration sends at least one message.
    while sent < o.msgs {
        let n = (o.msgs - sent).min(publisher.frames_per_batch() as u64);
        publisher.send(&mut conn, n as usize)?;
        sent += n;
        gate.wait_for_room(sent)?;
    }
    conn.sync(o.stall)?;
    let pub_elapsed = start.elapsed();

    let mut outcomes = Vec::with_capacity(subs);
    for c in counters {
        outcomes.push(
            c.join()
                .map_err(|_| BenchError::Protocol("subscriber thread panicked".into()))?,
        );
    }
    let server_cpu = cpu::used(cpu_start, cpu::sample(probe)?);
    Ok(Delivery {
        pub_elapsed,
        subs: outcomes,
        server_cpu,
    })
}
