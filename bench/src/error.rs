//! The error type shared by every part of the bench client.

use std::fmt;
use std::io;

/// Everything that can make a benchmark run fail.
#[derive(Debug)]
pub enum BenchError {
    /// A socket operation failed.
    Io(io::Error),
    /// The command line was not understood.
    Usage(String),
    /// The server sent bytes that are not valid NATS protocol.
    Protocol(String),
    /// The server answered with `-ERR`.
    Server(String),
    /// The server closed the connection.
    Closed,
    /// Nothing happened for longer than the stall timeout.
    Stalled(&'static str),
}

impl fmt::Display for BenchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "i/o error: {e}"),
            Self::Usage(m) => write!(f, "usage: {m}"),
            Self::Protocol(m) => write!(f, "protocol error: {m}"),
            Self::Server(m) => write!(f, "server error: -ERR {m}"),
            Self::Closed => write!(f, "connection closed by server"),
            Self::Stalled(what) => write!(f, "stalled: {what}"),
        }
    }
}

impl std::error::Error for BenchError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for BenchError {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

/// Result alias used across the crate.
pub type Result<T> = std::result::Result<T, BenchError>;
