//! The route protocol: what two servers of one cluster exchange (`nats-server` 2.15.1).
//!
//! * [`RouteParser`] turns bytes a route peer sent into [`RouteOp`]s, incrementally and
//!   zero-copy, with the reference's grammar and limits.
//! * [`encode`] writes every [`RouteOp`] the way the reference does.
//! * [`RouteInfo`] / [`RouteConnect`] are the JSON bodies of route `INFO` / `CONNECT`.
//!
//! `docs/route-protocol.md` describes the protocol as observed; `fixtures/` holds the raw
//! bytes captured between two 2.15.1 servers that the tests parse.

pub mod encode;
mod error;
mod info;
mod op;
mod parser;

pub use error::RouteParseError;
pub use info::{RouteConnect, RouteInfo, SubjectPermission};
pub use op::{QueueNames, RouteOp};
pub use parser::RouteParser;

#[cfg(test)]
mod tests;
