//! Finding the end of a control line incrementally, with the reference's CR rule.

use memchr::memchr;

/// Progress of the search for the `\n` that ends an op's argument.
///
/// The argument starts at offset 0 of the buffer. As in the reference, its first byte always
/// belongs to it (even a CR or LF), and if any CR occurs after that first byte, the byte
/// before the LF is dropped from the argument (normally that CR itself).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct LineScan {
    scanned: usize,
    cr_seen: bool,
}

impl LineScan {
    /// Looks for the end of the line in `buf`, resuming where the last call stopped.
    /// Returns the offset of the `\n`.
    pub(crate) fn find_end(&mut self, buf: &[u8]) -> Option<usize> {
        let from = self.scanned.max(1);
        let rest = buf.get(from..)?;
        match memchr(b'\n', rest) {
            Some(off) => {
                let lf = from + off;
                if !self.cr_seen {
                    self.cr_seen =
                        (lf > 1 && buf[lf - 1] == b'\r') || memchr(b'\r', &buf[from..lf]).is_some();
                }
                self.scanned = lf;
                Some(lf)
            }
            None => {
                if !self.cr_seen {
                    self.cr_seen = memchr(b'\r', rest).is_some();
                }
                self.scanned = buf.len();
                None
            }
        }
    }

    /// Length of the argument: of the whole line when `end` is the LF offset, or of what
    /// has arrived so far when `end` is the buffer length.
    pub(crate) fn arg_len(&self, end: usize) -> usize {
        if self.cr_seen {
            end.saturating_sub(1)
        } else {
            end
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_crlf_and_lf() {
        let mut s = LineScan::default();
        assert_eq!(s.find_end(b"foo 1\r\n"), Some(6));
        assert_eq!(s.arg_len(6), 5);
        let mut s = LineScan::default();
        assert_eq!(s.find_end(b"foo 1\n"), Some(5));
        assert_eq!(s.arg_len(5), 5);
    }

    #[test]
    fn resumes_and_counts_pending() {
        let mut s = LineScan::default();
        assert_eq!(s.find_end(b"foo"), None);
        assert_eq!(s.arg_len(3), 3);
        assert_eq!(s.find_end(b"foo 1\r"), None);
        assert_eq!(s.arg_len(6), 5);
        assert_eq!(s.find_end(b"foo 1\r\n"), Some(6));
    }

    #[test]
    fn first_byte_is_opaque_and_inner_cr_drops_last_byte() {
        let mut s = LineScan::default();
        assert_eq!(s.find_end(b"\nfoo\n"), Some(4));
        assert_eq!(s.arg_len(4), 4);
        let mut s = LineScan::default();
        assert_eq!(s.find_end(b"\rfoo\n"), Some(4));
        assert_eq!(s.arg_len(4), 4);
        let mut s = LineScan::default();
        assert_eq!(s.find_end(b"foo 1\rX\n"), Some(7));
        assert_eq!(s.arg_len(7), 6);
    }
}
