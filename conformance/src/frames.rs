//! Splitting a server's byte stream into protocol frames.
//!
//! A frame is one complete server operation as sent on the wire: a control
//! line ending in `\n`, plus the payload and its trailing `\r\n` for `MSG` and
//! `HMSG`. Splitting lets the collector recognise `PONG` markers and server
//! `PING`s without being fooled by payload bytes.

/// Incremental splitter of server output into frames.
#[derive(Debug, Default)]
pub struct FrameSplitter {
    buffer: Vec<u8>,
}

impl FrameSplitter {
    /// An empty splitter.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends bytes read from the socket.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// Removes and returns the next complete frame, if any.
    pub fn next_frame(&mut self) -> Option<Vec<u8>> {
        let line_end = self.buffer.iter().position(|&b| b == b'\n')? + 1;
        let frame_len = match payload_len(&self.buffer[..line_end]) {
            Some(payload) => line_end + payload + 2,
            None => line_end,
        };
        if self.buffer.len() < frame_len {
            return None;
        }
        Some(self.buffer.drain(..frame_len).collect())
    }

    /// Bytes received that do not form a complete frame (e.g. before a close).
    pub fn take_remainder(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buffer)
    }
}

/// For a `MSG`/`HMSG` control line, the payload size it announces.
fn payload_len(line: &[u8]) -> Option<usize> {
    let text = std::str::from_utf8(line).ok()?;
    let mut fields = text.split_ascii_whitespace();
    let op = fields.next()?;
    if op != "MSG" && op != "HMSG" {
        return None;
    }
    fields.last()?.parse().ok()
}

/// The operation name of a frame (`MSG`, `PONG`, `-ERR`, ...).
pub fn frame_op(frame: &[u8]) -> &[u8] {
    let end = frame
        .iter()
        .position(|&b| b == b' ' || b == b'\r' || b == b'\n' || b == b'\t')
        .unwrap_or(frame.len());
    &frame[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_control_lines_and_messages() {
        let mut splitter = FrameSplitter::new();
        splitter.push(b"+OK\r\nMSG a 1 6\r\nPONG\r\n\r\nPO");
        assert_eq!(splitter.next_frame().unwrap(), b"+OK\r\n");
        assert_eq!(splitter.next_frame().unwrap(), b"MSG a 1 6\r\nPONG\r\n\r\n");
        assert_eq!(splitter.next_frame(), None);
        splitter.push(b"NG\r\nHMSG a 1 r 12 14\r\nNATS/1.0\r\n\r\nhi\r\n");
        assert_eq!(splitter.next_frame().unwrap(), b"PONG\r\n");
        assert_eq!(
            splitter.next_frame().unwrap(),
            b"HMSG a 1 r 12 14\r\nNATS/1.0\r\n\r\nhi\r\n"
        );
        assert_eq!(splitter.take_remainder(), b"");
    }

    #[test]
    fn waits_for_the_whole_payload() {
        let mut splitter = FrameSplitter::new();
        splitter.push(b"MSG a 1 5\r\nhel");
        assert_eq!(splitter.next_frame(), None);
        assert_eq!(splitter.take_remainder(), b"MSG a 1 5\r\nhel");
    }

    #[test]
    fn names_the_operation() {
        assert_eq!(frame_op(b"-ERR 'x'\r\n"), b"-ERR");
        assert_eq!(frame_op(b"PONG\r\n"), b"PONG");
    }
}
