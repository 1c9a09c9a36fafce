//! `pub`: publishers with no subscribers, measuring ingest rate.

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Instant;

use super::CONNECT_WAIT;
use crate::conn::Conn;
use crate::cpu::{self, CpuProbe};
use crate::error::{BenchError, Result};
use crate::options::Options;
use crate::publisher::Publisher;
use crate::report::Report;

/// Each publisher connection sends its share of `--msgs` as fast as the
/// socket takes it, then PING/PONG proves the server consumed everything.
pub fn run(o: &Options) -> Result<Report> {
    let publisher = Arc::new(Publisher::new(&o.subject, None, o.size));
    let start_line = Arc::new(Barrier::new(o.pubs + 1));
    let mut workers = Vec::with_capacity(o.pubs);
    for i in 0..o.pubs {
        let mut conn = Conn::connect(&o.server, CONNECT_WAIT)?;
        let share = o.msgs / o.pubs as u64 + u64::from((i as u64) < o.msgs % o.pubs as u64);
        let (publisher, start_line, stall) = (publisher.clone(), start_line.clone(), o.stall);
        workers.push(thread::spawn(move || -> Result<Instant> {
            start_line.wait();
            publisher.send_all(&mut conn, share)?;
            conn.sync(stall)?;
            Ok(Instant::now())
        }));
    }
    let probe = CpuProbe::new(o.pid);
    let cpu_start = cpu::sample(probe)?;
    start_line.wait();
    let start = Instant::now();
    let mut end = start;
    for w in workers {
        let done = w
            .join()
            .map_err(|_| BenchError::Protocol("publisher thread panicked".into()))??;
        end = end.max(done);
    }
    let elapsed = end - start;
    let cpu_used = cpu::used(cpu_start, cpu::sample(probe)?);
    let mut r = Report::new("pub");
    r.add("size", o.size)
        .add("msgs", o.msgs)
        .add("pubs", o.pubs);
    r.add("secs", format!("{:.3}", elapsed.as_secs_f64()));
    r.rate("msgs_per_sec", o.msgs as f64, elapsed);
    r.mbps("mb_per_sec", (o.msgs * o.size as u64) as f64, elapsed);
    r.cpu("msgs_per_cpu_sec", o.msgs as f64, cpu_used);
    Ok(r)
}
