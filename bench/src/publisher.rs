//! Pre-encoded `PUB` frames written in large pipelined batches.

use crate::conn::Conn;
use crate::error::Result;

/// Target size of one write.
pub const BATCH_BYTES: usize = 64 * 1024;

/// A buffer holding as many identical `PUB` frames as fit in [`BATCH_BYTES`].
pub struct Publisher {
    batch: Vec<u8>,
    frame_len: usize,
    frames_per_batch: usize,
}

impl Publisher {
    /// Encodes `PUB subject [reply] size` with a `size`-byte payload.
    pub fn new(subject: &str, reply: Option<&str>, size: usize) -> Self {
        let frame = encode_pub(subject, reply, size);
        let frames_per_batch = (BATCH_BYTES / frame.len()).max(1);
        let batch = frame.repeat(frames_per_batch);
        Self {
            batch,
            frame_len: frame.len(),
            frames_per_batch,
        }
    }

    /// How many messages one full batch carries.
    pub fn frames_per_batch(&self) -> usize {
        self.frames_per_batch
    }

    /// Writes `n` messages, at most one batch (larger values are clamped).
    pub fn send(&self, conn: &mut Conn, n: usize) -> Result<()> {
        let n = n.min(self.frames_per_batch);
        conn.write_all(&self.batch[..n * self.frame_len])
    }

    /// Writes `total` messages in full batches; returns when all are written.
    pub fn send_all(&self, conn: &mut Conn, total: u64) -> Result<()> {
        let mut left = total;
        // Each iteration sends at least one message.
        while left > 0 {
            let n = left.min(self.frames_per_batch as u64) as usize;
            self.send(conn, n)?;
            left -= n as u64;
        }
        Ok(())
    }
}

/// Encodes one `PUB` frame with a recognisable payload pattern.
pub fn encode_pub(subject: &str, reply: Option<&str>, size: usize) -> Vec<u8> {
    let mut frame = Vec::with_capacity(subject.len() + size + 40);
    frame.extend_from_slice(b"PUB ");
    frame.extend_from_slice(subject.as_bytes());
    if let Some(r) = reply {
        frame.push(b' ');
        frame.extend_from_slice(r.as_bytes());
    }
    frame.extend_from_slice(format!(" {size}\r\n").as_bytes());
    frame.extend((0..size).map(|i| b'a' + (i % 26) as u8));
    frame.extend_from_slice(b"\r\n");
    frame
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_frames() {
        assert_eq!(encode_pub("a.b", None, 3), b"PUB a.b 3\r\nabc\r\n");
        assert_eq!(encode_pub("q", Some("r"), 0), b"PUB q r 0\r\n\r\n");
    }

    #[test]
    fn batches_fill_64k() {
        let p = Publisher::new("bench.s", None, 16);
        assert_eq!(p.frame_len, 34);
        assert_eq!(p.frames_per_batch(), BATCH_BYTES / 34);
        assert_eq!(Publisher::new("s", None, 100_000).frames_per_batch(), 1);
    }
}
