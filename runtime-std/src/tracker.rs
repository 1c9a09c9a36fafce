//! The live connections of one server: counted so shutdown can wait for them, with their
//! sockets so shutdown can cut off the ones that do not finish in time.

use std::collections::HashMap;
use std::net::{Shutdown, TcpStream};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Live connections, shared by the accept loop and every connection thread.
#[derive(Debug, Default)]
pub(crate) struct Tracker {
    state: Mutex<TrackerState>,
    idle: Condvar,
}

#[derive(Debug, Default)]
struct TrackerState {
    next_id: u64,
    live: HashMap<u64, Arc<TcpStream>>,
}

/// Keeps one connection registered until dropped (at the very end of its thread).
#[derive(Debug)]
pub(crate) struct Registration {
    tracker: Arc<Tracker>,
    id: u64,
}

impl Tracker {
    fn lock(&self) -> MutexGuard<'_, TrackerState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a connection's socket.
    pub(crate) fn register(self: &Arc<Self>, stream: Arc<TcpStream>) -> Registration {
        let mut st = self.lock();
        let id = st.next_id;
        st.next_id += 1;
        st.live.insert(id, stream);
        Registration {
            tracker: self.clone(),
            id,
        }
    }

    /// Number of live connections.
    pub(crate) fn len(&self) -> usize {
        self.lock().live.len()
    }

    /// Waits until no connection is live or `timeout` passed; true if none is live.
    pub(crate) fn wait_idle(&self, timeout: Duration) -> bool {
        let until = Instant::now() + timeout;
        let mut st = self.lock();
        while !st.live.is_empty() {
            let now = Instant::now();
            if now >= until {
                return false;
            }
            st = self
                .idle
                .wait_timeout(st, until - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }

    /// Shuts down the socket of every live connection, which ends their blocked reads and
    /// writes.
    pub(crate) fn cut_off_all(&self) {
        for stream in self.lock().live.values() {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut st = self.tracker.lock();
        st.live.remove(&self.id);
        if st.live.is_empty() {
            self.tracker.idle.notify_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::net::TcpListener;

    fn pair() -> (Arc<TcpStream>, TcpStream) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let a = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (b, _) = l.accept().unwrap();
        (Arc::new(a), b)
    }

    #[test]
    fn wait_idle_returns_when_last_registration_drops() {
        let tracker = Arc::new(Tracker::default());
        let (a, _b) = pair();
        let reg = tracker.register(a);
        assert_eq!(tracker.len(), 1);
        assert!(!tracker.wait_idle(Duration::from_millis(20)));
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            drop(reg);
        });
        assert!(tracker.wait_idle(Duration::from_secs(5)));
        assert_eq!(tracker.len(), 0);
        t.join().unwrap();
    }

    #[test]
    fn cut_off_all_closes_sockets() {
        let tracker = Arc::new(Tracker::default());
        let (a, mut b) = pair();
        let _reg = tracker.register(a);
        tracker.cut_off_all();
        b.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(b.read(&mut buf).unwrap(), 0);
    }
}
