//! `reqrep`: sequential request/reply latency through a responder client.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::CONNECT_WAIT;
use crate::conn::Conn;
use crate::cpu::{self, CpuProbe};
use crate::error::{BenchError, Result};
use crate::latency::Latencies;
use crate::options::Options;
use crate::parser::Handler;
use crate::publisher::encode_pub;
use crate::report::Report;
use crate::subscriber;

/// Subject the requester listens on for replies.
const REPLY_SUBJECT: &str = "bench.reply";

/// Runs `--warmup` unmeasured then `--msgs` measured round trips.
pub fn run(o: &Options) -> Result<Report> {
    let stop = Arc::new(AtomicBool::new(false));
    let responder = subscriber::subscribe(&o.server, &o.subject, 1, CONNECT_WAIT)?;
    let responder = spawn_responder(responder, o.size, stop.clone());
    let result = measure(o);
    stop.store(true, Ordering::Relaxed);
    let served = responder
        .join()
        .map_err(|_| BenchError::Protocol("responder thread panicked".into()))??;
    let Measured {
        samples,
        elapsed,
        server_cpu,
    } = result?;
    let lat = Latencies::new(samples);
    let mut r = Report::new("reqrep");
    r.add("size", o.size)
        .add("msgs", o.msgs)
        .add("served", served);
    r.add("secs", format!("{:.3}", elapsed.as_secs_f64()));
    r.rate("req_per_sec", o.msgs as f64, elapsed);
    r.cpu("req_per_cpu_sec", o.msgs as f64, server_cpu);
    for (key, q) in [
        ("p50_us", 0.5),
        ("p90_us", 0.9),
        ("p99_us", 0.99),
        ("p999_us", 0.999),
    ] {
        r.add(key, format!("{:.1}", lat.quantile_us(q)));
    }
    Ok(r)
}

/// What the requester measured after the warm-up.
struct Measured {
    /// Per-request round-trip latency in nanoseconds.
    samples: Vec<u64>,
    /// Wall time of the measured requests.
    elapsed: Duration,
    /// Server CPU time of the measured requests, if `--pid` was given.
    server_cpu: Option<Duration>,
}

/// Sends requests one at a time, the first `o.warmup` unmeasured.
fn measure(o: &Options) -> Result<Measured> {
    let mut conn = subscriber::subscribe(&o.server, REPLY_SUBJECT, 1, CONNECT_WAIT)?;
    let request = encode_pub(&o.subject, Some(REPLY_SUBJECT), o.size);
    let mut samples = Vec::with_capacity(o.msgs as usize);
    let mut h = Replies::default();
    let probe = CpuProbe::new(o.pid);
    let mut cpu_start = None;
    let mut start = Instant::now();
    for i in 0..o.warmup + o.msgs {
        if i == o.warmup {
            cpu_start = cpu::sample(probe)?;
            start = Instant::now();
        }
        let t0 = Instant::now();
        let want = h.msgs + 1;
        conn.write_all(&request)?;
        // Bounded by the stall timeout.
        while h.msgs < want {
            conn.pump(&mut h)?;
            if h.msgs < want && t0.elapsed() > o.stall {
                return Err(BenchError::Stalled("no reply"));
            }
            if let Some(e) = h.err.take() {
                return Err(BenchError::Server(e));
            }
        }
        if i >= o.warmup {
            samples.push(t0.elapsed().as_nanos() as u64);
        }
    }
    let elapsed = start.elapsed();
    let server_cpu = cpu::used(cpu_start, cpu::sample(probe)?);
    Ok(Measured {
        samples,
        elapsed,
        server_cpu,
    })
}

/// Answers every request on `conn` with a `size`-byte reply until `stop`.
fn spawn_responder(mut conn: Conn, size: usize, stop: Arc<AtomicBool>) -> JoinHandle<Result<u64>> {
    thread::spawn(move || {
        let mut h = Responder {
            size,
            out: Vec::with_capacity(64 * 1024),
            served: 0,
            err: None,
        };
        // Ends when the requester sets `stop` (checked every read tick).
        while !stop.load(Ordering::Relaxed) {
            conn.pump(&mut h)?;
            if !h.out.is_empty() {
                conn.write_all(&h.out)?;
                h.out.clear();
            }
            if let Some(e) = h.err.take() {
                return Err(BenchError::Server(e));
            }
        }
        Ok(h.served)
    })
}

/// Encodes a reply for each request into `out`.
struct Responder {
    size: usize,
    out: Vec<u8>,
    served: u64,
    err: Option<String>,
}

impl Handler for Responder {
    fn msg(&mut self, _: &[u8], reply: Option<&[u8]>, _: usize) {
        if let Some(reply) = reply {
            let reply = String::from_utf8_lossy(reply);
            self.out
                .extend_from_slice(&encode_pub(&reply, None, self.size));
            self.served += 1;
        }
    }
    fn err(&mut self, text: &[u8]) {
        self.err
            .get_or_insert_with(|| String::from_utf8_lossy(text).into_owned());
    }
}

/// Counts replies on the requester connection.
#[derive(Default)]
struct Replies {
    msgs: u64,
    err: Option<String>,
}

impl Handler for Replies {
    fn msg(&mut self, _: &[u8], _: Option<&[u8]>, _: usize) {
        self.msgs += 1;
    }
    fn err(&mut self, text: &[u8]) {
        self.err
            .get_or_insert_with(|| String::from_utf8_lossy(text).into_owned());
    }
}
