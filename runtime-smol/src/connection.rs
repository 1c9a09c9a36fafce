//! The two tasks of one client connection: the reader (owns the engine `Client`) and the
//! writer (drains the connection's outbound queue).

use std::future::poll_fn;
use std::net::{Shutdown, TcpStream};
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use engine::{Client, ClientShared, CloseReason, LogLevel, Transmit};
use smol::future::FutureExt;
use smol::io::{AsyncReadExt, AsyncWriteExt};
use smol::{Async, Executor, Timer};

/// Smallest and largest read sizes: start small (idle connections stay cheap), double while
/// reads fill the buffer, halve after short reads.
const MIN_READ: usize = 512;
const MAX_READ: usize = 64 * 1024;

/// Outbound buffers larger than this are released after they are written.
const KEEP_OUT_CAPACITY: usize = 1024 * 1024;

/// Runs one connection to its end.
pub(crate) async fn run(ex: Arc<Executor<'static>>, mut client: Client, stream: Async<TcpStream>) {
    let stream = Arc::new(stream);
    let shared = client.shared().clone();
    let deadline = client.write_deadline();
    let writer = ex.spawn(write_loop(shared.clone(), stream.clone(), deadline));
    read_loop(&mut client, &stream).await;
    writer.await;
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
}

async fn read_loop(client: &mut Client, stream: &Async<TcpStream>) {
    if client.close_reason().is_some() {
        return;
    }
    let mut buf = BytesMut::with_capacity(MIN_READ);
    let mut read_size = MIN_READ;
    let mut timer = Timer::never();
    let mut armed: Option<Instant> = None;
    loop {
        let deadline = client.poll_timeout();
        if deadline != armed {
            match deadline {
                Some(at) => timer.set_at(at),
                None => timer = Timer::never(),
            }
            armed = deadline;
        }
        let start = buf.len();
        buf.resize(start + read_size, 0);
        let read = async { Some((&*stream).read(&mut buf[start..]).await) }
            .or(async {
                (&mut timer).await;
                None
            })
            .await;
        match read {
            None => {
                buf.truncate(start);
                armed = None;
                client.handle_timeout(Instant::now());
            }
            Some(Ok(0)) => {
                buf.truncate(start);
                client.handle_read_closed(CloseReason::ClientClosed);
            }
            Some(Ok(n)) => {
                buf.truncate(start + n);
                if n == read_size && read_size < MAX_READ {
                    read_size *= 2;
                } else if n < read_size / 2 && read_size > MIN_READ {
                    read_size /= 2;
                }
                client.handle_input(&mut buf, Instant::now());
            }
            Some(Err(_)) => {
                buf.truncate(start);
                client.handle_read_closed(CloseReason::ReadError);
            }
        }
        write_log(client);
        if client.close_reason().is_some() {
            return;
        }
    }
}

/// Hands the engine's log events (trace lines, errors) to the logger.
fn write_log(client: &mut Client) {
    for event in client.drain_log() {
        match event.level {
            LogLevel::Error => log::error!("{}", event.text),
            LogLevel::Info => log::info!("{}", event.text),
            LogLevel::Debug => log::debug!("{}", event.text),
            LogLevel::Trace => log::trace!("{}", event.text),
        }
    }
}

async fn write_loop(shared: Arc<ClientShared>, stream: Arc<Async<TcpStream>>, deadline: Duration) {
    let mut out = BytesMut::new();
    loop {
        let next = poll_fn(
            |cx| match shared.outbound.poll_transmit(&mut out, cx.waker()) {
                Transmit::Idle => Poll::Pending,
                t => Poll::Ready(t),
            },
        )
        .await;
        match next {
            Transmit::Data => {
                if let Err(reason) = write_all(&stream, &out, deadline).await {
                    shared.outbound.close(reason);
                    break;
                }
                shared.outbound.handle_written();
                if out.capacity() > KEEP_OUT_CAPACITY {
                    out = BytesMut::new();
                } else {
                    out.clear();
                }
            }
            Transmit::Close(_) => break,
            Transmit::Idle => {}
        }
    }
    let _ = stream.get_ref().shutdown(Shutdown::Both);
}

/// Writes all of `data`; the write deadline timer is only armed when the socket pushes back.
async fn write_all(
    stream: &Async<TcpStream>,
    data: &[u8],
    deadline: Duration,
) -> Result<(), CloseReason> {
    let mut written = 0;
    while written < data.len() {
        match smol::future::poll_once((&*stream).write(&data[written..])).await {
            Some(Ok(0)) | Some(Err(_)) => return Err(CloseReason::WriteError),
            Some(Ok(n)) => written += n,
            None => break,
        }
    }
    if written == data.len() {
        return Ok(());
    }
    let rest = &data[written..];
    async {
        (&*stream)
            .write_all(rest)
            .await
            .map_err(|_| CloseReason::WriteError)
    }
    .or(async {
        Timer::after(deadline).await;
        Err(CloseReason::SlowConsumerWriteDeadline)
    })
    .await
}
