//! The I/O driver this binary was built with, and the signals that control it.
//!
//! Cargo features choose the driver: `runtime-smol` (the default, async) or `runtime-std`
//! (blocking threads, no async runtime in the binary). With both on, smol is used.
//!
//! Signals, as the reference handles them: SIGINT stops, SIGTERM stops unless lame duck mode
//! runs, SIGHUP reloads the configuration file, SIGUSR1 reopens the log file, SIGUSR2 enters
//! lame duck mode; SIGQUIT quits at once (status 2, like a Go program). On Windows Ctrl-C
//! stops the server.

use std::io;
use std::net::TcpListener;
use std::sync::Arc;

use engine::Server;

use crate::reload::Reloader;

#[cfg(feature = "runtime-smol")]
use runtime_smol as driver;
#[cfg(all(feature = "runtime-std", not(feature = "runtime-smol")))]
use runtime_std as driver;

#[cfg(not(any(feature = "runtime-smol", feature = "runtime-std")))]
compile_error!("enable a runtime feature: `runtime-smol` (default) or `runtime-std`");

/// Route TLS of the driver this binary was built with (server and client configurations).
pub use driver::RouteTls;

/// Controls a running server from another thread.
#[derive(Debug, Clone)]
pub struct Handle(driver::ServeHandle);

impl Handle {
    /// Stops accepting, tells every client the server is shutting down and lets `serve`
    /// return.
    pub fn shutdown(&self) {
        self.0.shutdown();
    }

    /// Closes the listener and keeps serving the connected clients (lame duck mode).
    pub fn stop_accepting(&self) {
        self.0.stop_accepting();
    }
}

/// What signal handlers act on.
#[cfg_attr(not(unix), allow(dead_code))]
pub struct Control {
    /// The server.
    pub server: Arc<Server>,
    /// Reloads the configuration file (`SIGHUP`).
    pub reloader: Reloader,
    /// The signals, caught since before the server announced its port.
    pub trap: SignalTrap,
}

/// The signals the server handles, caught (and queued) from the moment this exists, so that
/// a signal sent as soon as the port is announced does not kill the process.
pub struct SignalTrap {
    #[cfg(unix)]
    signals: Option<signal_hook::iterator::Signals>,
}

/// Starts catching the signals the server handles (call before announcing the port).
pub fn trap_signals() -> SignalTrap {
    #[cfg(unix)]
    {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2};
        let signals = signal_hook::iterator::Signals::new([
            SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGQUIT,
        ]);
        if let Err(e) = &signals {
            log::error!("could not install signal handlers: {e}");
        }
        SignalTrap {
            signals: signals.ok(),
        }
    }
    #[cfg(not(unix))]
    SignalTrap {}
}

/// What the signal handler thread shares (read by the Unix signal handlers only).
#[cfg_attr(not(unix), allow(dead_code))]
struct Shared {
    server: Arc<Server>,
    reloader: Reloader,
}

/// Serves `server` on `listener` until it is stopped by a signal (Ctrl-C on Windows); `ready`
/// runs once the signal handlers are installed and clients are being accepted. `tls` turns
/// TLS on for client connections.
pub fn serve(
    server: Arc<Server>,
    listener: TcpListener,
    cluster: Option<(TcpListener, Option<RouteTls>)>,
    threads: usize,
    tls: Option<Arc<rustls::ServerConfig>>,
    control: Control,
    ready: impl FnOnce(),
) -> io::Result<()> {
    let Control {
        server: controlled,
        reloader,
        trap,
    } = control;
    let shared = Arc::new(Shared {
        server: controlled,
        reloader,
    });
    let mut signals = None;
    let ready = |handle| {
        signals = install_signal_handlers(Handle(handle), shared, trap);
        ready();
    };
    let result = driver::serve_cluster(server, listener, cluster, threads, tls, ready);
    if let Some(s) = signals {
        s.stop();
    }
    result
}

/// Logs the shutdown the way the reference does and stops the server.
fn trapped(signal: &str, handle: &Handle) {
    log::info!("Trapped \"{signal}\" signal");
    log::info!("Initiating Shutdown...");
    handle.shutdown();
}

/// The signal handler thread, stopped once the server is.
struct SignalThread {
    #[cfg(unix)]
    close: signal_hook::iterator::Handle,
}

impl SignalThread {
    fn stop(self) {
        #[cfg(unix)]
        self.close.close();
    }
}

/// Acts on one signal.
#[cfg(unix)]
fn on_signal(sig: libc::c_int, handle: &Handle, control: &Arc<Shared>) {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2};
    if sig == SIGQUIT {
        // Go's default for SIGQUIT: quit at once with status 2, no graceful shutdown.
        eprintln!("SIGQUIT: quit");
        std::process::exit(2);
    }
    let name = crate::signals::name(sig);
    match sig {
        SIGINT => trapped(name, handle),
        SIGTERM if control.server.is_lame_duck() => {
            // The lame duck sequence ends with a shutdown of its own.
            log::info!("Trapped \"{name}\" signal");
        }
        SIGTERM => trapped(name, handle),
        SIGUSR1 => {
            log::info!("Trapped \"{name}\" signal");
            crate::logger::reopen();
        }
        SIGUSR2 => {
            log::info!("Trapped \"{name}\" signal");
            let (handle, control) = (handle.clone(), control.clone());
            let timing = control.reloader.lame_duck_timing();
            let spawned = std::thread::Builder::new()
                .name("lame-duck".into())
                .stack_size(128 * 1024)
                .spawn(move || crate::lame_duck::run(&handle, &control.server, timing));
            if let Err(e) = spawned {
                log::error!("could not start lame duck mode: {e}");
            }
        }
        SIGHUP => {
            log::info!("Trapped \"{name}\" signal");
            if let Err(e) = control.reloader.reload(&control.server) {
                log::error!("Failed to reload server configuration: {e}");
            }
        }
        _ => {}
    }
}

#[cfg(unix)]
fn install_signal_handlers(
    handle: Handle,
    control: Arc<Shared>,
    trap: SignalTrap,
) -> Option<SignalThread> {
    let mut signals = trap.signals?;
    let close = signals.handle();
    let spawned = std::thread::Builder::new()
        .name("signals".into())
        .stack_size(256 * 1024)
        .spawn(move || {
            // Ends when the iterator is closed (the server stopped).
            for sig in signals.forever() {
                on_signal(sig, &handle, &control);
            }
        });
    if spawned.is_err() {
        log::error!("could not start the signal handler thread");
        return None;
    }
    Some(SignalThread { close })
}

#[cfg(windows)]
fn install_signal_handlers(
    handle: Handle,
    control: Arc<Shared>,
    trap: SignalTrap,
) -> Option<SignalThread> {
    let _ = (control, trap);
    // Ctrl-C, Ctrl-Break, and closing the console or the service stopping.
    if let Err(e) = ctrlc::set_handler(move || trapped("interrupt", &handle)) {
        log::error!("could not install the Ctrl-C handler: {e}");
    }
    Some(SignalThread {})
}

#[cfg(not(any(unix, windows)))]
fn install_signal_handlers(
    handle: Handle,
    control: Arc<Shared>,
    trap: SignalTrap,
) -> Option<SignalThread> {
    let _ = (handle, control, trap);
    None
}
