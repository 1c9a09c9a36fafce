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
            let waker = st.waker.take();
            drop(st);
            if let Some(w) = waker {
                w.wake();
            }
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
    pub fn close(&self, reason: CloseReason) -> bool {
        let (set, waker) = {
            let mut st = self.state.lock();
            if st.close.is_some() {
                (false, None)
            } else {
                st.close = Some(reason);
                (true, st.waker.take())
            }
        };
        if let Some(w) = waker {
            w.wake();
        }
        set
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
