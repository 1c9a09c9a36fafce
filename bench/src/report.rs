//! The one-line `key=value` result printed by every scenario.

use std::fmt;
use std::time::Duration;

/// An ordered list of named result values.
#[derive(Debug, Default)]
pub struct Report {
    fields: Vec<(&'static str, String)>,
}

impl Report {
    /// Starts a report for `scenario`.
    pub fn new(scenario: &str) -> Self {
        let mut r = Self::default();
        r.add("scenario", scenario);
        r
    }

    /// Appends a field.
    pub fn add(&mut self, key: &'static str, value: impl fmt::Display) -> &mut Self {
        self.fields.push((key, value.to_string()));
        self
    }

    /// Appends a rate (`count / elapsed`) rounded to an integer.
    pub fn rate(&mut self, key: &'static str, count: f64, elapsed: Duration) -> &mut Self {
        self.add(key, format!("{:.0}", per_sec(count, elapsed)))
    }

    /// Appends server CPU seconds and `count` per server CPU second under
    /// `key`, if the CPU time was measured.
    pub fn cpu(&mut self, key: &'static str, count: f64, cpu: Option<Duration>) -> &mut Self {
        if let Some(cpu) = cpu {
            self.add("server_cpu_secs", format!("{:.2}", cpu.as_secs_f64()));
            self.rate(key, count, cpu);
        }
        self
    }

    /// Appends payload throughput in MB/s (10^6 bytes).
    pub fn mbps(&mut self, key: &'static str, bytes: f64, elapsed: Duration) -> &mut Self {
        self.add(key, format!("{:.2}", per_sec(bytes, elapsed) / 1e6))
    }
}

/// `count / elapsed` in units per second (0 when nothing elapsed).
pub fn per_sec(count: f64, elapsed: Duration) -> f64 {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 {
        count / secs
    } else {
        0.0
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (k, v)) in self.fields.iter().enumerate() {
            let sep = if i == 0 { "" } else { " " };
            write!(f, "{sep}{k}={v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_pairs() {
        let mut r = Report::new("pub");
        r.add("size", 16)
            .rate("msgs_per_sec", 10.0, Duration::from_millis(500));
        assert_eq!(r.to_string(), "scenario=pub size=16 msgs_per_sec=20");
    }
}
