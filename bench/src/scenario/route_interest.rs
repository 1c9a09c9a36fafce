//! Waiting until subscriptions made on one server of a cluster are known to
//! another, before a cross-server benchmark starts publishing.
//!
//! Interest crosses a route asynchronously. Both servers of a route send a
//! subscription's `RS+` in the order the subscriptions were made (for one
//! account on one route connection), so once a probe subscription made
//! *after* the benchmark's own subscriptions receives a message published on
//! the other server, the benchmark's interest has arrived there too.

use std::time::{Duration, Instant};

use super::CONNECT_WAIT;
use crate::conn::Conn;
use crate::error::{BenchError, Result};
use crate::parser::Handler;
use crate::subscriber;

/// Subject of the probe subscription.
const PROBE_SUBJECT: &str = "_bench.route.probe";

/// Pause between probes.
const PROBE_EVERY: Duration = Duration::from_millis(20);

/// Subscribes a probe on `sub_addr` and publishes to it from `pub_addr`
/// until one probe arrives (bounded by `stall`).
pub fn wait(pub_addr: &str, sub_addr: &str, stall: Duration) -> Result<()> {
    let mut probe = subscriber::subscribe(sub_addr, PROBE_SUBJECT, 1, CONNECT_WAIT)?;
    let mut publisher = Conn::connect(pub_addr, CONNECT_WAIT)?;
    let deadline = Instant::now() + stall;
    let mut seen = Seen::default();
    // Each turn publishes one probe and reads for about PROBE_EVERY.
    while seen.msgs == 0 {
        if Instant::now() > deadline {
            return Err(BenchError::Stalled("subscriptions never crossed the route"));
        }
        publisher.write_all(format!("PUB {PROBE_SUBJECT} 0\r\n\r\n").as_bytes())?;
        let turn = Instant::now() + PROBE_EVERY;
        while seen.msgs == 0 && Instant::now() < turn {
            probe.pump(&mut seen)?;
        }
    }
    Ok(())
}

/// Counts probe messages.
#[derive(Default)]
struct Seen {
    msgs: u64,
}

impl Handler for Seen {
    fn msg(&mut self, _: &[u8], _: Option<&[u8]>, _: usize) {
        self.msgs += 1;
    }
}
