//! How much to read at once: small while a connection is idle, larger under load.

/// Smallest read size: idle connections keep a small buffer.
pub(crate) const MIN_READ: usize = 512;
/// Largest read size.
pub(crate) const MAX_READ: usize = 64 * 1024;

/// Read size that doubles while reads fill the buffer and halves after short reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ReadSize(usize);

impl ReadSize {
    /// Starts at [`MIN_READ`].
    pub(crate) fn new() -> Self {
        ReadSize(MIN_READ)
    }

    /// Bytes to ask for in the next read.
    pub(crate) fn get(self) -> usize {
        self.0
    }

    /// Adapts to a read that returned `n` bytes.
    pub(crate) fn observe(&mut self, n: usize) {
        if n == self.0 && self.0 < MAX_READ {
            self.0 *= 2;
        } else if n < self.0 / 2 && self.0 > MIN_READ {
            self.0 /= 2;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_to_max_on_full_reads_and_stops() {
        let mut s = ReadSize::new();
        for _ in 0..20 {
            let n = s.get();
            s.observe(n);
        }
        assert_eq!(s.get(), MAX_READ);
    }

    #[test]
    fn shrinks_to_min_on_short_reads() {
        let mut s = ReadSize::new();
        for _ in 0..10 {
            let n = s.get();
            s.observe(n);
        }
        for _ in 0..20 {
            s.observe(1);
        }
        assert_eq!(s.get(), MIN_READ);
    }

    #[test]
    fn half_full_read_keeps_size() {
        let mut s = ReadSize::new();
        s.observe(MIN_READ);
        s.observe(MIN_READ);
        assert_eq!(s.get(), MIN_READ * 2);
    }
}
