//! The outbound queue of one connection: the only per-connection state other connections touch.
//!
//! Publishers append `MSG`s here (under a short per-connection lock, never a global one), the
//! connection's writer drains it with [`Outbound::poll_transmit`]. Pending bytes past
//! `max_pending` mark the connection a slow consumer: further messages are dropped and the
//! writer is told to close, so a stalled reader never blocks a publisher.

use std::task::Waker;

use bytes::BytesMut;
use parking_lot::Mutex;

use crate::CloseReason;

/// What the writer of a connection should do next.
#[derive(Debug, PartialEq, Eq)]
pub enum Transmit {
    /// Bytes were moved into the caller's buffer: write them all, then call
    /// [`Outbound::handle_written`].
    Data,
    /// Nothing to write; the waker is registered and will be woken when there is.
    Idle,
    /// Everything queued has been handed out; close the connection for this reason.
    Close(CloseReason),
}

/// Counters of what was queued to a connection.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct OutboundStats {
    /// Messages queued (MSG/HMSG).
    pub msgs: u64,
    /// Payload bytes queued (headers included).
    pub bytes: u64,
}

#[derive(Debug, Default)]
struct OutboundState {
    buf: BytesMut,
    in_flight: usize,
    waker: Option<Waker>,
    /// Woken when the connection must be cut off at once (see [`CloseReason::skips_flush`]).
    abort: Option<Waker>,
    flush_scheduled: bool,
    close: Option<CloseReason>,
    stats: OutboundStats,
    max_pending: usize,
}

/// The shared outbound queue of one connection.
#[derive(Debug)]
pub struct Outbound {
    state: Mutex<OutboundState>,
}

/// Result of queueing bytes for a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queued {
    /// Queued; the caller must arrange a flush (wake) later, the first time it sees this.
    NeedsFlush,
    /// Queued; a flush is already scheduled.
    Scheduled,
    /// Dropped: the connection is closing.
    Dropped,
    /// Dropped, and this call made the connection a slow consumer (its writer was told).
    SlowConsumer,
}

impl Outbound {
    /// An empty queue that cuts the connection off past `max_pending` bytes.
    pub fn new(max_pending: usize) -> Self {
        Outbound {
            state: Mutex::new(OutboundState {
                max_pending,
                ..OutboundState::default()
            }),
        }
    }

    /// Appends bytes produced by `write` (which must append to the buffer it is given) if the
    /// connection is open and stays under `max_pending`. `msg_payload` counts the message in the
    /// stats when `Some(payload_len)`.
    pub fn queue(&self, msg_payload: Option<usize>, write: impl FnOnce(&mut BytesMut)) -> Queued {
        let mut st = self.state.lock();
        if st.close.is_some() {
            return Queued::Dropped;
        }
        let before = st.buf.len();
        write(&mut st.buf);
        if st.buf.len() + st.in_flight > st.max_pending {
            st.buf.truncate(before);
            st.close = Some(CloseReason::SlowConsumerPendingBytes);
            let wakers = st.abort_wakers();
            drop(st);
            wake_all(wakers);
            return Queued::SlowConsumer;
        }
        if let Some(len) = msg_payload {
            st.stats.msgs += 1;
            st.stats.bytes += len as u64;
        }
        if std::mem::replace(&mut st.flush_scheduled, true) {
            Queued::Scheduled
        } else {
            Queued::NeedsFlush
        }
    }

    /// Wakes the writer after a batch of [`Outbound::queue`] calls.
    pub fn flush(&self) {
        let waker = {
            let mut st = self.state.lock();
            st.flush_scheduled = false;
            st.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// Asks the writer to close the connection for `reason` once what is queued is written.
    /// The first reason wins. Returns true if this call set it.
    /// For reasons that [skip the flush](CloseReason::skips_flush), what is queued is dropped
    /// and the abort waker is woken so the runtime can cut off a write in progress.
    pub fn close(&self, reason: CloseReason) -> bool {
        let (set, wakers) = {
            let mut st = self.state.lock();
            if st.close.is_some() {
                (false, [None, None])
            } else {
                st.close = Some(reason);
                if reason.skips_flush() {
                    (true, st.abort_wakers())
                } else {
                    (true, [st.waker.take(), None])
                }
            }
        };
        wake_all(wakers);
        set
    }

    /// Registers the waker woken when the connection must be cut off at once, even in the
    /// middle of a write (the runtime shuts the socket down). Woken right away if that
    /// already happened.
    pub fn set_abort_waker(&self, waker: Waker) {
        let mut st = self.state.lock();
        match st.close {
            Some(reason) if reason.skips_flush() => {
                drop(st);
                waker.wake();
            }
            _ => st.abort = Some(waker),
        }
    }

    /// The close reason, if the connection is closing.
    pub fn close_reason(&self) -> Option<CloseReason> {
        self.state.lock().close
    }

    /// Writer side: moves all queued bytes into `out` (which should be empty; its capacity is
    /// reused for the next swap). Registers `waker` when there is nothing to do.
    pub fn poll_transmit(&self, out: &mut BytesMut, waker: &Waker) -> Transmit {
        let mut st = self.state.lock();
        if !st.buf.is_empty() {
            std::mem::swap(&mut st.buf, out);
            st.in_flight = out.len();
            return Transmit::Data;
        }
        if let Some(reason) = st.close {
            return Transmit::Close(reason);
        }
        match &st.waker {
            Some(w) if w.will_wake(waker) => {}
            _ => st.waker = Some(waker.clone()),
        }
        Transmit::Idle
    }

    /// Writer side: the bytes handed out by the last [`Transmit::Data`] were written.
    pub fn handle_written(&self) {
        self.state.lock().in_flight = 0;
    }

    /// Bytes queued or being written.
    pub fn pending_bytes(&self) -> usize {
        let st = self.state.lock();
        st.buf.len() + st.in_flight
    }

    /// Messages and bytes queued so far.
    pub fn stats(&self) -> OutboundStats {
        self.state.lock().stats
    }
}

impl OutboundState {
    /// Drops what is queued and takes both wakers: the connection is being cut off.
    fn abort_wakers(&mut self) -> [Option<Waker>; 2] {
        self.buf.clear();
        [self.waker.take(), self.abort.take()]
    }
}

fn wake_all(wakers: [Option<Waker>; 2]) {
    for w in wakers.into_iter().flatten() {
        w.wake();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    #[derive(Default)]
    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counting() -> (Arc<Count>, Waker) {
        let c = Arc::new(Count::default());
        (c.clone(), Waker::from(c))
    }

    #[test]
    fn slow_consumer_drops_the_queue_and_wakes_the_abort_waker() {
        let out = Outbound::new(10);
        let (aborts, abort) = counting();
        out.set_abort_waker(abort);
        assert_eq!(
            out.queue(None, |b| b.extend_from_slice(b"12345")),
            Queued::NeedsFlush
        );
        assert_eq!(
            out.queue(None, |b| b.extend_from_slice(b"123456")),
            Queued::SlowConsumer
        );
        assert_eq!(aborts.0.load(Ordering::SeqCst), 1);
        let (_, w) = counting();
        let mut buf = BytesMut::new();
        assert_eq!(
            out.poll_transmit(&mut buf, &w),
            Transmit::Close(CloseReason::SlowConsumerPendingBytes)
        );
        assert!(buf.is_empty());
    }

    #[test]
    fn orderly_close_flushes_first_and_does_not_abort() {
        let out = Outbound::new(1024);
        let (aborts, abort) = counting();
        out.set_abort_waker(abort);
        out.queue(None, |b| b.extend_from_slice(b"-ERR 'x'\r\n"));
        assert!(out.close(CloseReason::ProtocolViolation));
        assert_eq!(aborts.0.load(Ordering::SeqCst), 0);
        let (_, w) = counting();
        let mut buf = BytesMut::new();
        assert_eq!(out.poll_transmit(&mut buf, &w), Transmit::Data);
        assert_eq!(&buf[..], b"-ERR 'x'\r\n");
        buf.clear();
        assert_eq!(
            out.poll_transmit(&mut buf, &w),
            Transmit::Close(CloseReason::ProtocolViolation)
        );
    }

    #[test]
    fn abort_waker_registered_after_the_cut_is_woken_at_once() {
        let out = Outbound::new(1024);
        out.close(CloseReason::ReadError);
        let (aborts, abort) = counting();
        out.set_abort_waker(abort);
        assert_eq!(aborts.0.load(Ordering::SeqCst), 1);
    }
}
