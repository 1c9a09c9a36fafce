//! The I/O driver this binary was built with, and the signals that stop it.
//!
//! Cargo features choose the driver: `runtime-smol` (the default, async) or `runtime-std`
//! (blocking threads, no async runtime in the binary). With both on, smol is used.

use std::io;
use std::net::TcpListener;
use std::sync::Arc;

use engine::Server;

#[cfg(feature = "runtime-smol")]
use runtime_smol as driver;
#[cfg(all(feature = "runtime-std", not(feature = "runtime-smol")))]
use runtime_std as driver;

#[cfg(not(any(feature = "runtime-smol", feature = "runtime-std")))]
compile_error!("enable a runtime feature: `runtime-smol` (default) or `runtime-std`");

/// Whether the driver of this build speaks TLS on client connections.
pub const SUPPORTS_TLS: bool = cfg!(feature = "runtime-smol");

/// Serves `server` on `listener` until a termination signal (Ctrl-C on Windows); `ready` runs
/// once the signal handlers are installed and clients are being accepted. `tls` turns TLS on
/// for client connections (only when [`SUPPORTS_TLS`]).
pub fn serve(
    server: Arc<Server>,
    listener: TcpListener,
    threads: usize,
    tls: Option<Arc<rustls::ServerConfig>>,
    ready: impl FnOnce(),
) -> io::Result<()> {
    let ready = |handle| {
        install_signal_handlers(handle);
        ready();
    };
    #[cfg(feature = "runtime-smol")]
    return driver::serve_tls(server, listener, threads, tls, ready);
    #[cfg(not(feature = "runtime-smol"))]
    {
        if tls.is_some() {
            return Err(io::Error::other("TLS is not supported by this build"));
        }
        driver::serve(server, listener, threads, ready)
    }
}

/// Logs the shutdown the way the reference does and stops the server.
fn trapped(signal: &str, handle: &driver::ServeHandle) {
    log::info!("Trapped \"{signal}\" signal");
    log::info!("Initiating Shutdown...");
    handle.shutdown();
}

#[cfg(unix)]
fn install_signal_handlers(handle: driver::ServeHandle) {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
        log::error!("could not install signal handlers");
        return;
    };
    let spawned = std::thread::Builder::new()
        .name("signals".into())
        .stack_size(64 * 1024)
        .spawn(move || {
            if let Some(sig) = signals.forever().next() {
                let name = if sig == SIGINT {
                    "interrupt"
                } else {
                    "terminated"
                };
                trapped(name, &handle);
            }
        });
    if spawned.is_err() {
        log::error!("could not start the signal handler thread");
    }
}

#[cfg(windows)]
fn install_signal_handlers(handle: driver::ServeHandle) {
    // Ctrl-C, Ctrl-Break, and closing the console or the service stopping.
    if let Err(e) = ctrlc::set_handler(move || trapped("interrupt", &handle)) {
        log::error!("could not install the Ctrl-C handler: {e}");
    }
}

#[cfg(not(any(unix, windows)))]
fn install_signal_handlers(_handle: driver::ServeHandle) {}
