//! Locating our own `nats-server` binary.

use std::path::PathBuf;

use crate::paths::profile_dir;

/// Environment variable that overrides the path of the server under test.
pub const OUR_BINARY_ENV: &str = "NATS_SERVER_BIN";

/// Path of the server under test.
///
/// `NATS_SERVER_BIN` wins if set; otherwise the `nats-server` binary built in
/// the same cargo profile as the running test. Panics with an explanation when
/// the binary does not exist, because every test depends on it.
pub fn our_binary() -> PathBuf {
    let path = match std::env::var_os(OUR_BINARY_ENV) {
        Some(path) => PathBuf::from(path),
        None => profile_dir().join("nats-server"),
    };
    assert!(
        path.is_file(),
        "our nats-server binary not found at {}: build it with `cargo build -p cli` \
         (or set {OUR_BINARY_ENV} to a server binary)",
        path.display()
    );
    path
}
