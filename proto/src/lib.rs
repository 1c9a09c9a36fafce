//! Sans-IO parser and encoder of the NATS client protocol (and, later, the route protocol).
//!
//! Nothing here touches a socket, a clock or a thread. Bytes go in, typed operations come
//! out; typed operations go in, bytes come out.
//!
//! * [`ClientParser`] turns bytes a client sent into [`ClientOp`]s (server side).
//! * [`ServerParser`] turns bytes a server sent into [`ServerOp`]s (client side: tests, bench).
//! * [`encode`] writes every op into a caller's `BytesMut`.
//! * [`ConnectInfo`] / [`ServerInfo`] are the JSON bodies of `CONNECT` / `INFO`.
//! * [`headers`] parses and builds `NATS/1.0` header blocks.
//! * [`route`]: the route (cluster) protocol: [`RouteParser`], [`RouteOp`], `route::encode`.
//!
//! Parsing is incremental: a buffer may end anywhere, and the parser answers "need more"
//! (`Ok(None)`) until a whole op is there. Payloads are zero-copy `Bytes` slices split off the
//! caller's read buffer.
#![forbid(unsafe_code)]

pub mod client_op;
pub mod connect;
pub mod encode;
pub mod error;
pub mod headers;
pub mod info;
pub mod parser;
pub mod route;
pub mod server_op;

pub use client_op::ClientOp;
pub use connect::{ConnectInfo, ConnectJsonError};
pub use error::ParseError;
pub use headers::{HeaderError, HeaderMap};
pub use info::ServerInfo;
pub use parser::{ClientParser, ParserLimits, ServerParser};
pub use route::{RouteConnect, RouteInfo, RouteOp, RouteParseError, RouteParser};
pub use server_op::ServerOp;
