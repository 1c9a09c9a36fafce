//! Sans-IO state machine of a NATS server.
//!
//! The engine never touches a socket and never reads a clock: the runtime passes bytes and
//! instants in, and drains what the engine decided.
//!
//! # Pieces
//! * [`Server`]: state shared by all connections (options, subscription index, registry,
//!   counters). Shared as `Arc<Server>`; every method takes `&self`.
//! * [`Client`]: the protocol state of one connection, owned by the task that reads it.
//! * [`Outbound`]: a connection's queue of bytes to write, the only per-connection state other
//!   connections touch (publishers append to subscribers' queues under a short lock).
//!
//! # Call order (the contract a runtime follows)
//! 1. `let mut client = server.accept(peer, now)`; spawn the writer of `client.shared()`.
//! 2. Reader loop: wait for socket data or for `client.poll_timeout()`, whichever first.
//!    * data: append to the read buffer, call `client.handle_input(&mut buf, now)`;
//!    * time: call `client.handle_timeout(now)`;
//!    * end of file / read error: `client.handle_read_closed(reason)`.
//!
//!    After each input, if `client.close_reason()` is `Some`, stop reading.
//! 3. Writer loop: `outbound.poll_transmit(&mut out, waker)`:
//!    * [`Transmit::Data`]: write all of `out` (bounded by `write_deadline`), clear it, call
//!      `outbound.handle_written()`, loop;
//!    * [`Transmit::Idle`]: sleep until the waker fires, loop;
//!    * [`Transmit::Close`]: everything queued was handed out; shut the socket down.
//!
//!    A write error or deadline: `outbound.close(reason)` then shut the socket down, which
//!    ends the reader too.
//! 4. When both loops ended: `client.finish(now)` (also run on drop) removes its subscriptions
//!    and records the connection among the closed ones.
//!
//! Publishing never blocks: a subscriber whose queue passes `max_pending` is marked a slow
//! consumer and its writer is told to close.
#![forbid(unsafe_code)]

pub mod account;
pub mod auth;
pub mod client;
pub mod client_info;
pub mod close;
pub mod conf;
pub mod config;
pub mod connection;
pub mod import;
pub mod monitor;
pub mod outbound;
pub mod protocol_error;
pub mod route;
pub mod server;
pub mod subject;
pub mod sublist;
pub mod subscription;
pub mod system;
pub mod trace;

pub use account::{Account, AccountConfig};
pub use client::{Client, ClientShared};
pub use client_info::{ClientIdentity, ClientSnapshot, ClosedClient, ClosedSub};
pub use close::CloseReason;
pub use config::ServerConfig;
pub use connection::Connection;
pub use outbound::{Outbound, Transmit};
pub use protocol_error::ProtocolError;
pub use route::{RouteConn, RouteDial, RouteStart};
pub use server::{ReloadOutcome, Server, ServerSeed, ServerStats, VERSION};
pub use subscription::{SubRef, Subscription};
pub use trace::{LogEvent, LogLevel};
