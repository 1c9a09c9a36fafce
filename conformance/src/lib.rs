//! Conformance harness: runs the official `nats-server` (the reference) and our
//! server side by side, talks to them over raw sockets and compares what they
//! answer.
//!
//! The crate deliberately speaks bytes and JSON only; it does not depend on the
//! workspace protocol crate, so it can judge that crate's output independently.

pub mod cluster;
pub mod differential;
pub mod error;
pub mod escape;
pub mod frames;
pub mod normalize;
pub mod ours;
pub mod paths;
pub mod raw;
pub mod reference;
pub mod runner;
pub mod server;
pub mod transcript;

pub use error::HarnessError;
pub use ours::our_binary;
pub use reference::reference_binary;
pub use server::ServerProcess;
