//! Flow control between a publisher and its subscribers, so the server never
//! holds more than a bounded window for any subscriber (the official server
//! cuts off slow consumers at 64 MiB pending).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crate::error::{BenchError, Result};

/// Progress published by one subscriber thread.
#[derive(Debug, Default)]
pub struct SubProgress {
    /// Messages received so far.
    pub received: AtomicU64,
    /// Set when the subscriber stopped early.
    pub failed: AtomicBool,
}

/// Blocks a publisher while the slowest subscriber lags by more than a window.
pub struct FlowGate {
    subs: Vec<Arc<SubProgress>>,
    window: u64,
    stall: Duration,
}

impl FlowGate {
    /// A gate allowing `window` messages in flight per subscriber.
    pub fn new(subs: Vec<Arc<SubProgress>>, window: u64, stall: Duration) -> Self {
        Self {
            subs,
            window: window.max(1),
            stall,
        }
    }

    /// Returns once `published - slowest_received <= window`; fails if a
    /// subscriber stopped or made no progress for the stall timeout.
    pub fn wait_for_room(&self, published: u64) -> Result<()> {
        let mut last_seen = self.slowest();
        let mut since = Instant::now();
        // Bounded by the stall timeout: each pass either returns or sleeps.
        loop {
            if self.subs.iter().any(|s| s.failed.load(Ordering::Relaxed)) {
                return Err(BenchError::Stalled("a subscriber stopped"));
            }
            let slowest = self.slowest();
            if published.saturating_sub(slowest) <= self.window {
                return Ok(());
            }
            if slowest != last_seen {
                last_seen = slowest;
                since = Instant::now();
            } else if since.elapsed() > self.stall {
                return Err(BenchError::Stalled("subscribers stopped receiving"));
            }
            thread::sleep(Duration::from_micros(100));
        }
    }

    fn slowest(&self) -> u64 {
        self.subs
            .iter()
            .map(|s| s.received.load(Ordering::Relaxed))
            .min()
            .unwrap_or(u64::MAX)
    }
}
