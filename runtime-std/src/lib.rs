//! The blocking driver of the engine, on plain `std` threads: no async runtime at all.
//!
//! Per connection a reader thread owns the [`engine::Client`] (blocking reads whose timeout is
//! the client's next keepalive deadline) and a writer thread drains its [`engine::Outbound`],
//! parked until a publisher wakes it through a [`std::task::Waker`] that unparks it. Both
//! threads run on small stacks so thousands of idle connections stay cheap; read buffers start
//! at 512 bytes and grow to 64 KiB only under load.
//!
//! The public shape matches `runtime-smol`: [`serve`] plus a [`ServeHandle`] whose
//! [`ServeHandle::shutdown`] stops accepting and closes every client.
#![forbid(unsafe_code)]

mod connection;
mod listener;
mod read_size;
mod read_timer;
mod reader;
mod route;
mod socket_cutter;
mod thread_waker;
pub mod tls;
mod tracker;
mod writer;

pub use listener::{serve, serve_cluster, serve_tls, RouteTls, ServeHandle};
