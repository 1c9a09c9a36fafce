//! The async driver of the engine, on `smol`.
//!
//! One multi-threaded executor (a thread per core) runs, per connection, a reader task that
//! owns the [`engine::Client`] and a writer task that drains its [`engine::Outbound`]. Read
//! buffers start small and grow under load; writes move every queued message in one syscall.
//! See `ARCHITECTURE.md` at the repository root for why.

mod connection;
mod listener;
mod route;
pub mod tls;

pub use listener::{serve, serve_cluster, serve_tls, RouteTls, ServeHandle};
