//! Latency percentiles.

/// Sorted latency samples in nanoseconds.
pub struct Latencies {
    sorted: Vec<u64>,
}

impl Latencies {
    /// Sorts the samples.
    pub fn new(mut samples: Vec<u64>) -> Self {
        samples.sort_unstable();
        Self { sorted: samples }
    }

    /// The `q`-quantile (0.0..=1.0) in microseconds, nearest-rank; 0 if empty.
    pub fn quantile_us(&self, q: f64) -> f64 {
        if self.sorted.is_empty() {
            return 0.0;
        }
        let rank = (q * self.sorted.len() as f64).ceil() as usize;
        let idx = rank.clamp(1, self.sorted.len()) - 1;
        self.sorted[idx] as f64 / 1e3
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let l = Latencies::new((1..=100).rev().map(|i| i * 1000).collect());
        assert_eq!(l.quantile_us(0.5), 50.0);
        assert_eq!(l.quantile_us(0.99), 99.0);
        assert_eq!(l.quantile_us(1.0), 100.0);
        assert_eq!(Latencies::new(vec![]).quantile_us(0.5), 0.0);
    }
}
