//! Lame duck mode (`SIGUSR2`, `--signal ldm`), as the reference runs it: stop accepting,
//! tell the clients (INFO with `ldm:true`), wait the grace period, close the clients spread
//! over the rest of the lame duck duration, then shut down.

// Only signals start lame duck mode, and Windows has none.
#![cfg_attr(not(unix), allow(dead_code))]

use std::time::{Duration, Instant};

use engine::conf::FileOptions;
use engine::{CloseReason, Server};

use crate::runtime::Handle;

/// The reference's default `lame_duck_duration`.
pub const DEFAULT_DURATION: Duration = Duration::from_secs(120);
/// The reference's default `lame_duck_grace_period`.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(10);
/// How often waits check whether the server was shut down meanwhile.
const POLL: Duration = Duration::from_millis(50);

/// How long lame duck mode lasts and how long it waits before closing clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// `lame_duck_duration`: the whole of it, grace period included.
    pub duration: Duration,
    /// `lame_duck_grace_period`: before the first client is closed.
    pub grace: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            duration: DEFAULT_DURATION,
            grace: DEFAULT_GRACE,
        }
    }
}

impl Timing {
    /// The timing a configuration file asks for (defaults for what it leaves out), refused as
    /// the reference refuses a grace period that is not shorter than the duration.
    pub fn from_file(file: Option<&FileOptions>) -> Result<Timing, String> {
        let mut t = Timing::default();
        if let Some(f) = file {
            t.duration = f.lame_duck_duration.unwrap_or(t.duration);
            t.grace = f
                .lame_duck_grace_period
                .filter(|g| !g.is_zero())
                .unwrap_or(t.grace);
        }
        if t.grace >= t.duration {
            return Err(format!(
                "lame duck grace period ({}) should be strictly lower than lame duck duration ({})",
                engine::monitor::time::go_duration(t.grace),
                engine::monitor::time::go_duration(t.duration)
            ));
        }
        Ok(t)
    }

    /// The pause between two client closes for `clients` clients and how many clients are
    /// closed per pause, as the reference computes them: the time after the grace period
    /// shared out, at most a second and at least a nanosecond (then in batches).
    pub fn spacing(&self, clients: usize) -> (Duration, usize) {
        let mut dur = self.duration.saturating_sub(self.grace).as_nanos();
        if dur == 0 {
            dur = Duration::from_secs(1).as_nanos();
        }
        let n = clients.max(1) as u128;
        let si = dur / n;
        if si < 1 {
            let batch = usize::try_from(n / dur).unwrap_or(usize::MAX).max(1);
            return (Duration::from_nanos(1), batch);
        }
        let si = si.min(Duration::from_secs(1).as_nanos());
        (
            Duration::from_nanos(u64::try_from(si).unwrap_or(u64::MAX)),
            1,
        )
    }
}

/// Sleeps `d` unless the server shuts down first; `false` when it did.
fn pause(server: &Server, d: Duration) -> bool {
    let end = Instant::now() + d;
    loop {
        if server.is_shutting_down() {
            return false;
        }
        let now = Instant::now();
        if now >= end {
            return true;
        }
        std::thread::sleep((end - now).min(POLL));
    }
}

/// A random pause in `[si/2, si)`, as the reference picks between two closes.
fn jitter(si: Duration) -> Duration {
    let mut bytes = [0u8; 8];
    let r = if getrandom::fill(&mut bytes).is_ok() {
        u64::from_le_bytes(bytes)
    } else {
        u64::from(std::process::id())
    };
    let nanos = u64::try_from(si.as_nanos()).unwrap_or(u64::MAX).max(1);
    let v = r % nanos;
    Duration::from_nanos(v.max(nanos / 2))
}

/// Stops the server, logging it as the reference does.
fn shut_down(handle: &Handle) {
    log::info!("Initiating Shutdown...");
    handle.shutdown();
}

/// Runs lame duck mode to its end (blocking: run it on a thread of its own). Does nothing
/// when the server is already shutting down or in lame duck mode.
pub fn run(handle: &Handle, server: &Server, timing: Timing) {
    if server.is_shutting_down() || server.is_lame_duck() {
        return;
    }
    log::info!("Entering lame duck mode, stop accepting new clients");
    handle.stop_accepting();
    server.enter_lame_duck();
    let clients = server.clients();
    if clients.is_empty() {
        shut_down(handle);
        return;
    }
    let (si, batch) = timing.spacing(clients.len());
    if !pause(server, timing.grace) {
        return;
    }
    log::info!("Closing existing clients");
    let last = clients.len() - 1;
    for (i, client) in clients.iter().enumerate() {
        server.close_client(client.cid, CloseReason::ServerShutdown);
        if i == last {
            break;
        }
        if (batch == 1 || i % batch == 0) && !pause(server, jitter(si)) {
            return;
        }
    }
    shut_down(handle);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_checks() {
        assert_eq!(Timing::from_file(None).unwrap(), Timing::default());
        let file = FileOptions {
            lame_duck_duration: Some(Duration::from_secs(40)),
            lame_duck_grace_period: Some(Duration::from_secs(50)),
            ..FileOptions::default()
        };
        assert_eq!(
            Timing::from_file(Some(&file)).unwrap_err(),
            "lame duck grace period (50s) should be strictly lower than lame duck duration (40s)"
        );
        let file = FileOptions {
            lame_duck_grace_period: Some(Duration::from_secs(180)),
            ..FileOptions::default()
        };
        assert_eq!(
            Timing::from_file(Some(&file)).unwrap_err(),
            "lame duck grace period (3m0s) should be strictly lower than lame duck duration (2m0s)"
        );
    }

    #[test]
    fn closes_are_spread_at_most_a_second_apart() {
        let t = Timing {
            duration: Duration::from_secs(30),
            grace: Duration::from_secs(1),
        };
        assert_eq!(t.spacing(3), (Duration::from_secs(1), 1));
        assert_eq!(t.spacing(290), (Duration::from_millis(100), 1));
        let tiny = Timing {
            duration: Duration::from_nanos(10),
            grace: Duration::ZERO,
        };
        assert_eq!(tiny.spacing(100), (Duration::from_nanos(1), 10));
        for _ in 0..100 {
            let j = jitter(Duration::from_millis(100));
            assert!(j >= Duration::from_millis(50) && j < Duration::from_millis(100));
        }
    }
}
