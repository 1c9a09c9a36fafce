//! A [`Waker`] that shuts a socket down: how the engine cuts off a connection whose writer
//! is blocked in a write (a slow consumer, a failed read).

use std::net::{Shutdown, TcpStream};
use std::sync::{Arc, Weak};
use std::task::{Wake, Waker};

/// Shuts the socket down when woken, if it still exists.
#[derive(Debug)]
struct SocketCutter(Weak<TcpStream>);

impl Wake for SocketCutter {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if let Some(stream) = self.0.upgrade() {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

/// A waker that shuts `stream` down; it does not keep the socket open.
pub(crate) fn socket_cutter(stream: &Arc<TcpStream>) -> Waker {
    Waker::from(Arc::new(SocketCutter(Arc::downgrade(stream))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::net::TcpListener;
    use std::time::Duration;

    #[test]
    fn wake_shuts_the_socket_down() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let a = Arc::new(TcpStream::connect(l.local_addr().unwrap()).unwrap());
        let (mut b, _) = l.accept().unwrap();
        socket_cutter(&a).wake();
        b.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(b.read(&mut buf).unwrap(), 0);
    }
}
