//! Server CPU time, read from `/proc/<pid>/stat`, so efficiency (messages
//! per server CPU second) can be reported next to wall-clock rates; it is far
//! less sensitive to other load on a shared machine than wall time.

use std::fs;
use std::time::Duration;

use crate::error::{BenchError, Result};

/// Kernel clock ticks per second for `utime`/`stime` (USER_HZ, 100 on Linux).
const TICKS_PER_SEC: u64 = 100;

/// Reads the accumulated CPU time of one process.
#[derive(Debug, Clone, Copy)]
pub struct CpuProbe {
    pid: u32,
}

impl CpuProbe {
    /// A probe for `pid`, or `None` without a pid.
    pub fn new(pid: Option<u32>) -> Option<Self> {
        pid.map(|pid| Self { pid })
    }

    /// User plus system CPU time consumed so far (all threads, dead ones included).
    pub fn read(&self) -> Result<Duration> {
        let stat = fs::read_to_string(format!("/proc/{}/stat", self.pid))?;
        let ticks = parse_cpu_ticks(&stat)
            .ok_or_else(|| BenchError::Protocol(format!("unreadable /proc/{}/stat", self.pid)))?;
        Ok(Duration::from_millis(ticks * 1000 / TICKS_PER_SEC))
    }
}

/// Reads the probe if there is one.
pub fn sample(probe: Option<CpuProbe>) -> Result<Option<Duration>> {
    probe.map(|p| p.read()).transpose()
}

/// CPU used between two optional samples.
pub fn used(start: Option<Duration>, end: Option<Duration>) -> Option<Duration> {
    Some(end?.saturating_sub(start?))
}

/// `utime + stime` (fields 14 and 15) from a stat line; the command name in
/// field 2 may contain spaces, so fields are counted after its closing `)`.
fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_spaces_in_name() {
        let stat = "42 (nats server) S 1 42 42 0 -1 4194560 100 0 0 0 250 31 0 0 20 0 8 0 1 2 3";
        assert_eq!(parse_cpu_ticks(stat), Some(281));
        assert_eq!(parse_cpu_ticks("garbage"), None);
    }

    #[test]
    fn reads_own_process() {
        let probe = CpuProbe::new(Some(std::process::id())).unwrap();
        assert!(probe.read().is_ok());
    }
}
