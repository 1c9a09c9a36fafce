//! Sans-IO state machine of a NATS server.
#![forbid(unsafe_code)]

pub mod subject;
pub mod sublist;
