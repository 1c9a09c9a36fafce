//! One connection's two threads: the reader (owns the engine `Client`) and the writer
//! (drains the connection's outbound queue).

use std::io;
use std::net::{Shutdown, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::Instant;

use engine::{Client, CloseReason};

use crate::reader::read_loop;
use crate::tracker::{Registration, Tracker};
use crate::writer::write_loop;

/// Stack of a reader thread: parsing and routing one op at a time, no recursion.
pub(crate) const READER_STACK: usize = 128 * 1024;
/// Stack of a writer thread: it only moves bytes.
pub(crate) const WRITER_STACK: usize = 64 * 1024;

/// Starts the threads of a newly accepted connection. On failure the client is dropped
/// (which cleans it up) and the socket closed.
pub(crate) fn spawn(client: Client, stream: TcpStream, tracker: &Arc<Tracker>) -> io::Result<()> {
    let stream = Arc::new(stream);
    let registration = tracker.register(stream.clone());
    thread::Builder::new()
        .name(format!("nats-read-{}", client.cid()))
        .stack_size(READER_STACK)
        .spawn(move || run(client, stream, registration))
        .map(drop)
}

/// Runs one connection to its end on the reader thread; the writer gets its own thread.
fn run(mut client: Client, stream: Arc<TcpStream>, registration: Registration) {
    let shared = client.shared().clone();
    let deadline = client.write_deadline();
    let writer = {
        let shared = shared.clone();
        let stream = stream.clone();
        thread::Builder::new()
            .name(format!("nats-write-{}", shared.cid))
            .stack_size(WRITER_STACK)
            .spawn(move || write_loop(&shared, &stream, deadline))
    };
    match writer {
        Ok(writer) => {
            read_loop(&mut client, &stream);
            let _ = writer.join();
        }
        Err(e) => {
            log::error!(
                "{} - cid:{} - Could not start the connection's writer: {e}",
                shared.peer,
                shared.cid
            );
            shared.outbound.close(CloseReason::WriteError);
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
    let reason = shared
        .outbound
        .close_reason()
        .unwrap_or(CloseReason::ClientClosed);
    log::debug!(
        "{} - cid:{} - Client connection closed: {reason}",
        shared.peer,
        shared.cid
    );
    client.finish(Instant::now());
    drop(registration);
}
