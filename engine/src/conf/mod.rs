//! The NATS configuration file format, read as the reference server reads it.
//!
//! * [`lexer`]: bytes to items (keys, values, brackets), with the reference's quirks and
//!   error texts;
//! * [`parser`](parse_file): items to a tree of [`Token`]s (values with file, line and
//!   position), resolving `$variables` (from enclosing maps, then the environment) and
//!   `include` (relative to the including file);
//! * [`digest`]: the `sha256:` digest `nats-server -t` prints;
//! * [`options`]: the tree read as server options;
//! * [`security`]: the `authorization` and `accounts` blocks;
//! * [`cluster_block`]: the `cluster {}` block (routes);
//! * [`unimplemented_blocks`]: the `gateway`, `leafnodes`, `websocket` and `mqtt` blocks,
//!   checked as the reference checks them though not applied.
//!
//! The engine does no IO: files and environment variables come through a [`Host`].
//!
//! ```
//! use engine::conf::{parse_bytes, Host};
//! struct NoFiles;
//! impl Host for NoFiles {
//!     fn read(&mut self, path: &str) -> Result<Vec<u8>, String> {
//!         Err(format!("open {path}: no such file or directory"))
//!     }
//!     fn env(&self, _name: &str) -> Option<String> { None }
//! }
//! let doc = parse_bytes(b"port: 4333\nmax_payload: 1KB", "x.conf", &mut NoFiles).unwrap();
//! assert_eq!(doc.root["max_payload"].value, engine::conf::Value::Int(1024));
//! ```

pub mod cluster_block;
pub mod digest;
pub mod duration;
pub mod error;
pub mod lexer;
pub mod options;
mod parser;
pub mod path;
pub mod security;
pub mod tls_block;
pub mod unimplemented_blocks;
pub mod value;

pub use error::ConfError;
pub use options::{map_options, FileOptions, Issue, Mapped, MonitoringOptions};
pub use security::SecurityOptions;
pub use value::{Map, Token, Value};

/// Deepest chain of includes accepted (the reference recurses without limit).
pub const MAX_INCLUDE_DEPTH: usize = 32;

/// Most values a file (variables expanded) may produce.
pub const MAX_NODES: usize = 1_000_000;

/// Where the parser gets files and environment variables from.
pub trait Host {
    /// The bytes of the file at `path` (already joined to the including file's directory), or
    /// the reason in the reference's words, e.g. `open x.conf: no such file or directory`.
    fn read(&mut self, path: &str) -> Result<Vec<u8>, String>;
    /// The value of environment variable `name`, if set.
    fn env(&self, name: &str) -> Option<String>;
}

/// A parsed file.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The top-level keys.
    pub root: Map,
}

impl Document {
    /// `sha256:<hex>`, as `nats-server -t` prints it.
    pub fn digest(&self) -> String {
        digest::digest(&self.root)
    }
}

/// Reads and parses the file at `path` through `host`.
pub fn parse_file(path: &str, host: &mut dyn Host) -> Result<Document, ConfError> {
    let data = host.read(path).map_err(ConfError::Read)?;
    parse_bytes(&data, path, host)
}

/// Parses `data` as the contents of the file `path` (used for positions and includes).
pub fn parse_bytes(data: &[u8], path: &str, host: &mut dyn Host) -> Result<Document, ConfError> {
    let mut shared = parser::Shared {
        host,
        nodes: 0,
        env_refs: Default::default(),
    };
    let root = parser::Parser::new(path, 0, &mut shared).parse(data)?;
    Ok(Document { root })
}

#[cfg(test)]
mod tests;
