//! Typed errors of the harness.

use std::io;

/// Everything that can go wrong while driving a server.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// A socket or process operation failed.
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
    /// The server did not send its `INFO` line in time.
    #[error("no INFO received from the server: got {0:?}")]
    NoInfo(String),
    /// A transcript file could not be parsed.
    #[error("transcript line {line}: {message}")]
    Transcript {
        /// 1-based line number in the transcript file.
        line: usize,
        /// What is wrong with that line.
        message: String,
    },
    /// A transcript refers to a connection it never opened.
    #[error("unknown connection {0:?}")]
    UnknownConnection(String),
}
