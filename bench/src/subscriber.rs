//! A subscriber connection that counts messages on its own thread.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::conn::{Conn, Pumped};
use crate::error::Result;
use crate::flow::SubProgress;
use crate::parser::Handler;

/// What a subscriber saw.
#[derive(Debug)]
pub struct SubOutcome {
    /// Messages received.
    pub received: u64,
    /// When the first message was read.
    pub first: Option<Instant>,
    /// When the last message was read.
    pub last: Option<Instant>,
    /// Why the subscriber stopped early, if it did.
    pub error: Option<String>,
}

/// Connects, subscribes to `subject` and waits until the server confirmed
/// the subscription, so publishing may start right after this returns.
pub fn subscribe(addr: &str, subject: &str, sid: u32, wait: Duration) -> Result<Conn> {
    let mut conn = Conn::connect(addr, wait)?;
    conn.write_all(format!("SUB {subject} {sid}\r\n").as_bytes())?;
    conn.sync(wait)?;
    Ok(conn)
}

/// Counts messages on `conn` until `expected` arrived or nothing arrived for
/// `stall`, publishing progress to `progress` for flow control.
pub fn spawn_counter(
    mut conn: Conn,
    expected: u64,
    progress: Arc<SubProgress>,
    stall: Duration,
) -> JoinHandle<SubOutcome> {
    thread::spawn(move || {
        let outcome = count(&mut conn, expected, &progress, stall);
        if outcome.error.is_some() {
            progress.failed.store(true, Ordering::Relaxed);
        }
        outcome
    })
}

fn count(conn: &mut Conn, expected: u64, progress: &SubProgress, stall: Duration) -> SubOutcome {
    let mut h = Counter::default();
    let mut out = SubOutcome {
        received: 0,
        first: None,
        last: None,
        error: None,
    };
    let mut last_progress = Instant::now();
    // Ends when all messages arrived, on error, or after `stall` without data.
    while h.msgs < expected {
        match conn.pump(&mut h) {
            Ok(Pumped::Data) if h.msgs != out.received => {
                let now = Instant::now();
                out.first.get_or_insert(now);
                out.last = Some(now);
                out.received = h.msgs;
                last_progress = now;
                progress.received.store(h.msgs, Ordering::Relaxed);
            }
            Ok(_) if last_progress.elapsed() > stall => {
                out.error = Some(format!("no message for {}s", stall.as_secs()));
                break;
            }
            Ok(_) => {}
            Err(e) => {
                out.error = Some(e.to_string());
                break;
            }
        }
        if let Some(e) = h.err.take() {
            out.error = Some(format!("-ERR {e}"));
            break;
        }
    }
    out.received = h.msgs;
    out
}

/// Counts `MSG`s and remembers the first `-ERR`.
#[derive(Default)]
struct Counter {
    msgs: u64,
    err: Option<String>,
}

impl Handler for Counter {
    #[inline]
    fn msg(&mut self, _: &[u8], _: Option<&[u8]>, _: usize) {
        self.msgs += 1;
    }
    fn err(&mut self, text: &[u8]) {
        self.err
            .get_or_insert_with(|| String::from_utf8_lossy(text).into_owned());
    }
}
