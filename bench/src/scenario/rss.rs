//! `rss`: the server's resident memory with one client connected.

use std::fs;

use super::CONNECT_WAIT;
use crate::conn::Conn;
use crate::error::{BenchError, Result};
use crate::options::Options;
use crate::report::Report;

/// Connects, completes a PING/PONG, then reads `VmRSS` of `--pid`.
pub fn run(o: &Options) -> Result<Report> {
    let pid = o
        .pid
        .ok_or_else(|| BenchError::Usage("rss needs --pid".into()))?;
    let mut conn = Conn::connect(&o.server, CONNECT_WAIT)?;
    conn.sync(o.stall)?;
    let kib = vm_rss_kib(pid)?;
    let mut r = Report::new("rss");
    r.add("pid", pid).add("rss_kib", kib);
    Ok(r)
}

/// Reads the `VmRSS` line of `/proc/<pid>/status`, in KiB.
pub fn vm_rss_kib(pid: u32) -> Result<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status"))?;
    parse_vm_rss(&status).ok_or_else(|| BenchError::Protocol(format!("no VmRSS for pid {pid}")))
}

fn parse_vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status() {
        assert_eq!(
            parse_vm_rss("Name:\tx\nVmRSS:\t   12345 kB\nVmData: 1 kB\n"),
            Some(12345)
        );
        assert_eq!(parse_vm_rss("Name:\tx\n"), None);
    }
}
