//! Process statistics for `/varz` (`mem`, `cpu`, `cores`): read from `/proc/self` on Linux,
//! zero elsewhere.

use std::sync::Mutex;
use std::time::Instant;

use engine::monitor::ProcessStats;

/// Clock ticks per second of `/proc/<pid>/stat` times (`USER_HZ`, 100 on Linux ports).
const TICKS_PER_SEC: f64 = 100.0;

/// Samples CPU time between requests to report recent CPU use.
#[derive(Debug)]
pub struct ProcessSampler {
    last: Mutex<Option<(Instant, u64)>>,
    cores: usize,
}

impl ProcessSampler {
    /// A sampler whose first interval starts now.
    pub fn new(now: Instant) -> ProcessSampler {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        ProcessSampler {
            last: Mutex::new(cpu_ticks().map(|t| (now, t))),
            cores,
        }
    }

    /// Current statistics: resident memory and CPU percent since the previous sample.
    pub fn sample(&self, now: Instant) -> ProcessStats {
        let mut cpu_percent = 0.0;
        if let Some(ticks) = cpu_ticks() {
            let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((then, before)) = *last {
                let secs = now.saturating_duration_since(then).as_secs_f64();
                if secs > 0.0 {
                    // Tick counts stay far below 2^53.
                    let used = ticks.saturating_sub(before) as f64 / TICKS_PER_SEC;
                    cpu_percent = (used / secs * 1000.0).round() / 10.0;
                }
            }
            *last = Some((now, ticks));
        }
        ProcessStats {
            rss_bytes: rss_bytes().unwrap_or(0),
            cpu_percent,
            cores: self.cores,
            max_procs: self.cores,
        }
    }
}

/// User plus system CPU time of this process in clock ticks.
#[cfg(target_os = "linux")]
fn cpu_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    parse_stat_ticks(&stat)
}

#[cfg(not(target_os = "linux"))]
fn cpu_ticks() -> Option<u64> {
    None
}

/// Resident set size in bytes.
#[cfg(target_os = "linux")]
fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_status_rss(&status)
}

#[cfg(not(target_os = "linux"))]
fn rss_bytes() -> Option<u64> {
    None
}

/// `utime + stime` from the text of `/proc/<pid>/stat` (fields 14 and 15; the command name
/// in field 2 may hold spaces, so fields are counted after its closing parenthesis).
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn parse_stat_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// `VmRSS` (kB) of `/proc/<pid>/status`, in bytes.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn parse_status_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_texts() {
        let stat = "123 (a b) S 1 123 123 0 -1 4194560 100 0 0 0 7 5 0 0 20 0 1 0 1 2 3";
        assert_eq!(parse_stat_ticks(stat), Some(12));
        assert_eq!(parse_stat_ticks("garbage"), None);
        let status = "Name:\tx\nVmRSS:\t   2048 kB\nThreads: 1\n";
        assert_eq!(parse_status_rss(status), Some(2048 * 1024));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn reads_this_process() {
        let s = ProcessSampler::new(Instant::now());
        let stats = s.sample(Instant::now());
        assert!(stats.rss_bytes > 0);
        assert!(stats.cores >= 1);
    }
}
