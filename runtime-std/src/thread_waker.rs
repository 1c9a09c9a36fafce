//! A [`Waker`] that unparks one thread: how a publisher wakes a parked writer.

use std::sync::Arc;
use std::task::{Wake, Waker};
use std::thread::Thread;

/// Unparks the thread it was made for. Parking keeps one token, so a wake that arrives
/// before the thread parks is not lost.
#[derive(Debug)]
struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// A waker that unparks the calling thread.
pub(crate) fn current_thread_waker() -> Waker {
    Waker::from(Arc::new(ThreadWaker(std::thread::current())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};

    #[test]
    fn wake_before_park_is_not_lost() {
        let waker = current_thread_waker();
        waker.wake_by_ref();
        let start = Instant::now();
        std::thread::park_timeout(Duration::from_secs(5));
        assert!(start.elapsed() < Duration::from_secs(4));
    }

    #[test]
    fn wake_from_another_thread_unparks() {
        let waker = current_thread_waker();
        let flag = Arc::new(AtomicBool::new(false));
        let f = flag.clone();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            f.store(true, Ordering::Release);
            waker.wake();
        });
        let start = Instant::now();
        while !flag.load(Ordering::Acquire) && start.elapsed() < Duration::from_secs(5) {
            std::thread::park_timeout(Duration::from_secs(5));
        }
        assert!(flag.load(Ordering::Acquire));
        assert!(start.elapsed() < Duration::from_secs(4));
        t.join().unwrap();
    }
}
