//! `nats-server`: a NATS server, drop-in compatible with the official one.

mod cluster;
mod flags;
mod host_ips;
mod lame_duck;
mod logfile;
mod logger;
mod monitor;
mod options;
mod reload;
mod runtime;
mod signals;
mod syslog;
mod tls;
mod usage;

use std::net::{TcpListener, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use engine::{Server, ServerConfig, ServerSeed};

use crate::flags::Flags;
use crate::logger::LogSettings;

fn main() -> ExitCode {
    let mut flags = match flags::parse(std::env::args_os().skip(1).collect()) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}\n\n{}", usage::USAGE);
            return ExitCode::from(1);
        }
    };
    if flags.help {
        print!("{}", usage::USAGE);
        return ExitCode::SUCCESS;
    }
    if flags.help_tls {
        print!("{}", usage::TLS_USAGE);
        return ExitCode::SUCCESS;
    }
    if flags.version {
        println!("nats-server: v{}", engine::VERSION);
        return ExitCode::SUCCESS;
    }
    if let Some(arg) = &flags.signal {
        return match signals::send(arg) {
            Ok(()) => ExitCode::SUCCESS,
            Err(msg) => {
                eprintln!("nats-server: {msg}");
                ExitCode::from(1)
            }
        };
    }
    if flags.check_config {
        return options::check(&flags);
    }
    // The command line as given: it still wins over the file when the file is reloaded.
    let cmdline = flags.clone();
    let loaded = match options::load(&mut flags) {
        Ok(l) => l,
        Err(msg) => {
            eprintln!("nats-server: {msg}");
            return ExitCode::from(1);
        }
    };
    let tls = match tls_from_flags(&flags) {
        Ok(t) => t,
        Err(msg) => {
            eprintln!("nats-server: {msg}");
            return ExitCode::from(1);
        }
    };
    match run(cmdline, flags, loaded, tls) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            if log::log_enabled!(log::Level::Error) {
                logger::fatal(format_args!("{msg}"));
            } else {
                eprintln!("nats-server: {msg}");
            }
            ExitCode::from(1)
        }
    }
}

/// The options the flags ask for, over the defaults.
fn config_from(flags: &Flags) -> ServerConfig {
    let mut config = ServerConfig::default();
    if let Some(host) = &flags.host {
        config.host = host.clone();
    }
    config.server_name = flags.name.clone();
    config.trace = flags.trace;
    if let Some(user) = &flags.user {
        config.auth.users = vec![engine::auth::User {
            username: user.clone(),
            password: engine::auth::Secret::new(flags.pass.clone().unwrap_or_default()),
            permissions: None,
            account: None,
        }];
    }
    if let Some(token) = &flags.auth {
        config.auth.token = Some(engine::auth::Secret::new(token.clone()));
    }
    config
}

/// Client TLS asked for on the command line: the rustls configuration (certificate, key and
/// CAs loaded) and the settings the engine reports. `None` when TLS is off.
fn tls_from_flags(flags: &Flags) -> Result<Option<ClientTls>, String> {
    if !flags.tls.requested() {
        return Ok(None);
    }
    let cert = flags
        .tls
        .cert
        .as_deref()
        .ok_or("TLS Server certificate must be present and valid")?;
    let key = flags
        .tls
        .key
        .as_deref()
        .ok_or("TLS Server private key must be present and valid")?;
    let config = tls::server_config(tls::TlsFiles {
        cert_file: cert,
        key_file: key,
        ca_file: flags.tls.ca_cert.as_deref(),
        verify: flags.tls.verify,
        tls13_only: flags.tls.tls13_only,
    })
    .map_err(|e| e.to_string())?;
    Ok(Some(ClientTls {
        config,
        settings: engine::config::TlsSettings {
            verify: flags.tls.verify,
            verify_and_map: flags.tls.verify_and_map,
            handshake_first: flags.tls.handshake_first,
            handshake_first_fallback: flags.tls.handshake_first_fallback,
            timeout: flags
                .tls
                .timeout
                .unwrap_or(engine::config::TlsSettings::default().timeout),
        },
    }))
}

/// Client TLS in force: what the runtime handshakes with and what the engine reports.
struct ClientTls {
    config: Arc<rustls::ServerConfig>,
    settings: engine::config::TlsSettings,
}

/// Random seeds from the operating system.
fn seed() -> ServerSeed {
    let mut identity = [0u8; 32];
    let mut rng = [0u8; 8];
    // Without OS randomness fall back to time-derived bytes; ids stay unique enough.
    if getrandom::fill(&mut identity).is_err() || getrandom::fill(&mut rng).is_err() {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        identity[..16].copy_from_slice(&t.to_le_bytes());
        rng.copy_from_slice(&(t as u64 ^ u64::from(std::process::id())).to_le_bytes());
    }
    ServerSeed {
        identity,
        rng: u64::from_le_bytes(rng),
    }
}

/// The engine options of `flags` (merged with the file) and the file, as startup and reload
/// build them. The port is the caller's business.
fn server_config(
    flags: &Flags,
    loaded: Option<&options::Loaded>,
    tls: Option<&engine::config::TlsSettings>,
) -> Result<ServerConfig, String> {
    let mut config = config_from(flags);
    if let Some(l) = loaded {
        options::apply(&mut config, &l.file)?;
    }
    reload::apply_extras(&mut config, flags, loaded.map(|l| &l.file));
    config.config_digest = loaded.map(|l| l.digest.clone()).unwrap_or_default();
    config.cluster = cluster::config(flags, loaded.and_then(|l| l.file.cluster.as_ref()))?;
    if let Some(t) = tls {
        // With TLS the reference gives clients the TLS timeout plus a second to authenticate,
        // unless an authorization timeout was configured.
        if config.auth.timeout == engine::auth::AuthConfig::default().timeout {
            config.auth.timeout = t.timeout + Duration::from_secs(1);
        }
        config.tls = Some(t.clone());
    }
    Ok(config)
}

fn run(
    cmdline: Flags,
    flags: Flags,
    loaded: Option<options::Loaded>,
    tls: Option<ClientTls>,
) -> Result<(), String> {
    let tls_settings = tls.as_ref().map(|t| t.settings.clone());
    let reloader = reload::Reloader::new(
        cmdline,
        &flags,
        loaded.as_ref(),
        Box::new(move |f, l| {
            // `/varz` reports when a reload loaded the options.
            server_config(f, l, tls_settings.as_ref()).map(|mut c| {
                c.config_load_time = Some(std::time::SystemTime::now());
                c
            })
        }),
    )?;
    if let Err(e) = logger::install(&LogSettings::new(&flags, loaded.as_ref().map(|l| &l.file))) {
        // As the reference's Go logger: a plain timestamped line, status 1.
        eprintln!("{}", e.go_log_line());
        std::process::exit(1);
    }
    // Signals are caught from here on: one sent once the port is announced must not kill us.
    let trap = runtime::trap_signals();

    let mut config = server_config(&flags, loaded.as_ref(), tls.as_ref().map(|t| &t.settings))?;
    let port = match flags.port {
        None => 4222,
        Some(p) if p <= 0 => 0,
        Some(p) => u16::try_from(p).map_err(|_| format!("invalid port {p}"))?,
    };
    let server_seed = seed();
    // Name and id are known once the server exists; bind first so the port is known too.
    let addr = (config.host.as_str(), port)
        .to_socket_addrs()
        .map_err(|e| format!("Error listening on port: {}:{port}, {e:?}", config.host))?
        .next()
        .ok_or_else(|| format!("no address for {}", config.host))?;
    log::info!("Starting nats-server");
    log::info!("  Version:  {}", engine::VERSION);
    let listener = TcpListener::bind(addr).map_err(|e| {
        format!(
            "Error listening on port: {}:{port}, \"listen tcp {addr}: {e}\"",
            config.host
        )
    })?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    config.port = local.port();
    let cluster_listener = match config.cluster.as_mut() {
        Some(c) => {
            let l = cluster::bind(c)?;
            c.port = l.local_addr().map_err(|e| e.to_string())?.port();
            let tls = cluster::route_tls(loaded.as_ref().and_then(|l| l.file.cluster.as_ref()))?;
            Some((l, tls))
        }
        None => None,
    };
    let server = Server::new(config, server_seed, Instant::now());
    if server.routes().is_enabled() {
        log::info!("  Cluster:  {}", server.routes().cluster_name().0);
    }
    log::info!("  Name:     {}", server.name());
    log::info!("  ID:       {}", server.id());
    if let Some(l) = &loaded {
        options::log_loaded(l);
    }
    // `/varz` reports when the client certificate expires.
    let cert_not_after = server
        .config()
        .tls
        .as_ref()
        .and(flags.tls.cert.as_deref())
        .and_then(monitor::not_after_of_pem_file);
    let monitor = start_monitor(&flags, loaded.as_ref(), &server, cert_not_after)?;
    // The system account's documents report the monitoring listener as `/varz` does.
    let listen = monitor.as_ref().map(|m| m.listen().clone());
    server.set_system_handler(std::sync::Arc::new(monitor::system::SystemResponder::new(
        listen.unwrap_or_default(),
        cert_not_after,
    )));
    let monitor_url = monitor
        .as_ref()
        .map(|m| (m.scheme(), m.listen().host.clone(), m.local_addr().port()));
    log::info!(
        "Listening for client connections on {}",
        host_port(&server.config().host, local.port())
    );
    if let Some(t) = server.config().tls.as_ref() {
        log::info!("TLS required for client connections");
        if t.handshake_first {
            log::warn!(
                "Clients that are not using \"TLS Handshake First\" option will fail to connect"
            );
        }
    }
    let pid_file = flags.pid_file.clone();
    if let Some(p) = &pid_file {
        std::fs::write(p, std::process::id().to_string())
            .map_err(|e| format!("Could not write pidfile: {e}"))?;
    }
    let ports_file = match &flags.ports_file_dir {
        Some(dir) => Some(write_ports_file(
            dir,
            &server.config().host,
            local.port(),
            monitor_url
                .as_ref()
                .map(|(scheme, host, port)| (*scheme, host.as_str(), *port)),
        )?),
        None => None,
    };
    if let Some((l, _)) = &cluster_listener {
        let (name, dynamic) = server.routes().cluster_name();
        log::info!("Cluster name is {name}");
        if dynamic {
            log::warn!("Cluster name was dynamically generated, consider setting one");
        }
        let listen = l.local_addr().map_err(|e| e.to_string())?;
        let host = server
            .config()
            .cluster
            .as_ref()
            .map(|c| c.host.clone())
            .unwrap_or_default();
        log::info!(
            "Listening for route connections on {}",
            host_port(&host, listen.port())
        );
        server.start_routes(engine::RouteStart {
            listen,
            client_urls: cluster::client_urls(&server.config().host, local.port()),
        });
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let control = runtime::Control {
        server: server.clone(),
        reloader,
        trap,
    };
    let result = runtime::serve(
        server,
        listener,
        cluster_listener,
        threads,
        tls.map(|t| t.config),
        control,
        || log::info!("Server is ready"),
    );
    if let Some(m) = monitor {
        m.shutdown();
    }
    for p in pid_file.iter().chain(ports_file.iter()) {
        let _ = std::fs::remove_file(p);
    }
    log::info!("Server Exiting..");
    result.map_err(|e| e.to_string())
}

/// Starts HTTP monitoring when `-m` (or the file) asks for it, or HTTPS monitoring when
/// `-ms` does (`-1`: any free port, `0`: off), on the file's `http`/`https` host or else the
/// client host, as the reference does.
fn start_monitor(
    flags: &Flags,
    loaded: Option<&options::Loaded>,
    server: &std::sync::Arc<Server>,
    cert_not_after: Option<std::time::SystemTime>,
) -> Result<Option<monitor::Monitor>, String> {
    let file = loaded.map(|l| &l.file.monitoring);
    let requested = monitor::settings::Requested {
        http_port: flags.http_port.map(i64::from),
        https_port: flags.https_port.map(i64::from),
        http_host: file.and_then(|m| m.http_host.as_deref()),
        client_host: &server.config().host,
        base_path: file.and_then(|m| m.http_base_path.as_deref()),
    };
    let settings = monitor::settings::resolve(&requested, || monitor_tls(flags))
        .map_err(|e| format!("Can't start monitoring: {e}"))?;
    let Some(settings) = settings else {
        return Ok(None);
    };
    monitor::start(server.clone(), &settings, cert_not_after)
        .map(Some)
        .map_err(|e| format!("Can't start monitoring: {e}"))
}

/// The TLS configuration of HTTPS monitoring: the client certificate and key, without
/// asking browsers for a client certificate (as the reference). `None` without TLS.
fn monitor_tls(flags: &Flags) -> Option<Arc<rustls::ServerConfig>> {
    if !flags.tls.requested() {
        return None;
    }
    let files = tls::TlsFiles {
        cert_file: flags.tls.cert.as_deref()?,
        key_file: flags.tls.key.as_deref()?,
        ca_file: None,
        verify: false,
        tls13_only: flags.tls.tls13_only,
    };
    // The client listener loaded the same files a moment ago; a failure here is reported
    // as the reference's "TLS cert and key required".
    tls::server_config(files).ok()
}

/// `host:port`, with brackets around IPv6 hosts.
fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Writes `<dir>/<executable>_<pid>.ports` with the client and monitoring URLs, as the
/// reference does.
fn write_ports_file(
    dir: &Path,
    host: &str,
    port: u16,
    monitor: Option<(&str, &str, u16)>,
) -> Result<PathBuf, String> {
    let exe = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "nats-server".to_string());
    let path = dir.join(format!("{exe}_{}.ports", std::process::id()));
    let reachable = |host: &'_ str| -> String {
        if host == "0.0.0.0" || host == "::" || host.is_empty() {
            "127.0.0.1".to_string()
        } else {
            host.to_string()
        }
    };
    let host = reachable(host);
    let host = host.as_str();
    let monitoring =
        monitor.map(|(scheme, mhost, p)| format!("{scheme}://{}", host_port(&reachable(mhost), p)));
    let body = ports_json(
        &format!("nats://{}", host_port(host, port)),
        monitoring.as_deref(),
    );
    std::fs::write(&path, body).map_err(|e| format!("Error writing ports file: {e}"))?;
    Ok(path)
}

/// `{"nats":["<url>"]}`, plus `"monitoring":["<url>"]` when monitoring runs.
fn ports_json(url: &str, monitoring: Option<&str>) -> String {
    match monitoring {
        Some(m) => format!("{{\"nats\":[\"{url}\"],\"monitoring\":[\"{m}\"]}}"),
        None => format!("{{\"nats\":[\"{url}\"]}}"),
    }
}
