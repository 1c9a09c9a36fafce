//! Configuration reload (`SIGHUP`, `--signal reload`), as the reference does it: the file
//! given with `-c` is read again, the command line still wins over it, options that cannot
//! change while running refuse the whole reload (the old options stay), and every option that
//! changed is logged as `Reloaded: <option>`.

// Only signals start a reload, and Windows has none.
#![cfg_attr(not(unix), allow(dead_code))]

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use engine::conf::FileOptions;
use engine::monitor::time::go_duration;
use engine::{Server, ServerConfig};

use crate::flags::Flags;
use crate::lame_duck::Timing;
use crate::logger::{self, LogSettings};
use crate::options::{self, Loaded};

/// Builds the engine options from merged flags and the file, the same way startup does.
pub type BuildConfig =
    dyn Fn(&Flags, Option<&Loaded>) -> Result<ServerConfig, String> + Send + Sync;

/// The options this process runs with, as far as reload compares them.
#[derive(Debug, Clone)]
struct State {
    flags: Flags,
    log: LogSettings,
    timing: Timing,
    /// The file's monitoring host and base path (the ports are in `flags`).
    monitoring: engine::conf::MonitoringOptions,
}

/// Reloads the configuration file of a running server.
pub struct Reloader {
    /// The command line as given (before the file was merged in): it wins over the file.
    cmdline: Flags,
    /// The `-c` file, if any.
    path: Option<String>,
    build: Box<BuildConfig>,
    state: Mutex<State>,
}

/// Sets the options the command line and the file carry that the shared startup code does
/// not: `max_traced_msg_len` (flag over file).
pub fn apply_extras(config: &mut ServerConfig, flags: &Flags, file: Option<&FileOptions>) {
    let len = flags
        .max_traced_msg_len
        .or_else(|| file.and_then(|f| f.max_traced_msg_len));
    if let Some(len) = len {
        config.max_traced_msg_len = usize::try_from(len.max(0)).unwrap_or(0);
    }
}

/// Go's `%v` of a float number of seconds (`2`, `0.5`).
fn seconds(d: Duration) -> String {
    format!("{}", d.as_secs_f64())
}

/// One line a reload logs, in the reference's order.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Line {
    /// `Reloaded: <text>`.
    Reloaded(String),
    /// `Cluster name updated to <name>`, when the engine took a new name.
    ClusterName,
    /// `Removed route <url>` for each connection closed because its route was removed.
    RemovedRoutes,
}

/// The changes from `old` to `new`, in the reference's order, or the refusal of the first
/// option that cannot change while running.
fn changes(
    old: &State,
    new: &State,
    old_cfg: &ServerConfig,
    new_cfg: &ServerConfig,
) -> Result<Vec<Line>, String> {
    let refuse = |field: &str, o: String, n: String| -> Result<(), String> {
        if o == n {
            Ok(())
        } else {
            Err(format!(
                "config reload not supported for {field}: old={o}, new={n}"
            ))
        }
    };
    let lines = std::cell::RefCell::new(Vec::new());
    let note = |changed: bool, line: String| {
        if changed {
            lines.borrow_mut().push(Line::Reloaded(line));
        }
    };
    refuse(
        "ServerName",
        old_cfg.server_name.clone().unwrap_or_default(),
        new_cfg.server_name.clone().unwrap_or_default(),
    )?;
    refuse("Host", old_cfg.host.clone(), new_cfg.host.clone())?;
    refuse("Port", old_cfg.port.to_string(), new_cfg.port.to_string())?;
    let (ol, nl) = (&old.log, &new.log);
    note(ol.trace != nl.trace, format!("trace = {}", nl.trace));
    note(ol.debug != nl.debug, format!("debug = {}", nl.debug));
    refuse(
        "NoHeaderSupport",
        (!old_cfg.headers).to_string(),
        (!new_cfg.headers).to_string(),
    )?;
    note(
        ol.timestamps != nl.timestamps,
        format!("logtime = {}", nl.timestamps),
    );
    note(ol.utc != nl.utc, format!("logtime_utc = {}", nl.utc));
    note(
        old_cfg.max_connections != new_cfg.max_connections,
        format!("max_connections = {}", new_cfg.max_connections),
    );
    refuse(
        "MaxSubs",
        old_cfg.max_subscriptions.to_string(),
        new_cfg.max_subscriptions.to_string(),
    )?;
    let (oa, na) = (&old_cfg.auth, &new_cfg.auth);
    // The reference reports users and accounts on every reload, users or not (it never
    // compares them: they are rebuilt), even when nothing changed.
    note(oa.nkeys != na.nkeys, "authorization nkey users".into());
    note(true, "authorization users".into());
    note(true, "accounts".into());
    refuse(
        "NoAuthUser",
        oa.no_auth_user.clone().unwrap_or_default(),
        na.no_auth_user.clone().unwrap_or_default(),
    )?;
    note(oa.token != na.token, "authorization token".into());
    note(
        old_cfg.ping_interval != new_cfg.ping_interval,
        format!("ping_interval = {}", go_duration(new_cfg.ping_interval)),
    );
    note(
        old_cfg.ping_max != new_cfg.ping_max,
        format!("ping_max = {}", new_cfg.ping_max),
    );
    // The monitoring listener stays as started: the reference refuses to change it.
    let (om, nm) = (&old.monitoring, &new.monitoring);
    let host = |m: &engine::conf::MonitoringOptions, cfg: &ServerConfig| {
        m.http_host
            .clone()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| cfg.host.clone())
    };
    refuse("HTTPHost", host(om, old_cfg), host(nm, new_cfg))?;
    let port = |p: Option<i32>| p.unwrap_or(0).to_string();
    refuse(
        "HTTPPort",
        port(old.flags.http_port),
        port(new.flags.http_port),
    )?;
    refuse(
        "HTTPBasePath",
        om.http_base_path.clone().unwrap_or_default(),
        nm.http_base_path.clone().unwrap_or_default(),
    )?;
    refuse(
        "HTTPSPort",
        port(old.flags.https_port),
        port(new.flags.https_port),
    )?;
    note(
        oa.timeout != na.timeout,
        format!("authorization timeout = {}", seconds(na.timeout)),
    );
    note(
        old_cfg.max_control_line != new_cfg.max_control_line,
        format!("max_control_line = {}", new_cfg.max_control_line),
    );
    note(
        old_cfg.max_payload != new_cfg.max_payload,
        format!("max_payload = {}", new_cfg.max_payload),
    );
    refuse(
        "MaxPending",
        old_cfg.max_pending.to_string(),
        new_cfg.max_pending.to_string(),
    )?;
    let (oc, nc) = (old_cfg.cluster.as_ref(), new_cfg.cluster.as_ref());
    if let (Some(o), Some(n)) = (oc, nc) {
        refuse("cluster host", o.host.clone(), n.host.clone())?;
    }
    // A port of 0 (`-1`/`0`: any free port) keeps the one listened on.
    let cluster_port = |c: Option<&engine::config::ClusterConfig>| c.map_or(0, |c| c.port);
    let new_port = match (oc, cluster_port(nc)) {
        (Some(o), 0) if nc.is_some() => o.port,
        (_, p) => p,
    };
    refuse(
        "cluster port",
        cluster_port(oc).to_string(),
        new_port.to_string(),
    )?;
    if let (Some(o), Some(n)) = (oc, nc) {
        if engine::route::cluster_settings_changed(o, n) {
            let mut lines = lines.borrow_mut();
            lines.push(Line::ClusterName);
            lines.push(Line::Reloaded("cluster".into()));
        }
    }
    let (of, nf) = (&old.flags, &new.flags);
    let shown = |p: &Option<std::path::PathBuf>| {
        p.as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    };
    note(
        of.pid_file != nf.pid_file,
        format!("pid_file = {}", shown(&nf.pid_file)),
    );
    note(
        of.ports_file_dir != nf.ports_file_dir,
        format!("ports_file_dir = {}", shown(&nf.ports_file_dir)),
    );
    note(
        ol.file != nl.file,
        format!("log_file = {}", shown(&nl.file)),
    );
    refuse(
        "LogSizeLimit",
        ol.size_limit.to_string(),
        nl.size_limit.to_string(),
    )?;
    refuse(
        "LogMaxFiles",
        ol.max_files.to_string(),
        nl.max_files.to_string(),
    )?;
    note(ol.syslog != nl.syslog, format!("syslog = {}", nl.syslog));
    note(
        ol.remote_syslog != nl.remote_syslog,
        format!(
            "remote_syslog = {}",
            nl.remote_syslog.clone().unwrap_or_default()
        ),
    );
    let routes = |c: Option<&engine::config::ClusterConfig>| c.map(|c| c.routes.clone());
    if routes(oc) != routes(nc) {
        let mut lines = lines.borrow_mut();
        lines.push(Line::RemovedRoutes);
        lines.push(Line::Reloaded("cluster routes".into()));
    }
    note(
        old_cfg.write_deadline != new_cfg.write_deadline,
        format!("write_deadline = {}", go_duration(new_cfg.write_deadline)),
    );
    refuse(
        "MaxClosedClients",
        old_cfg.max_closed_clients.to_string(),
        new_cfg.max_closed_clients.to_string(),
    )?;
    refuse(
        "LameDuckDuration",
        go_duration(old.timing.duration),
        go_duration(new.timing.duration),
    )?;
    refuse(
        "LameDuckGracePeriod",
        go_duration(old.timing.grace),
        go_duration(new.timing.grace),
    )?;
    note(
        old_cfg.max_traced_msg_len != new_cfg.max_traced_msg_len,
        format!("max_traced_msg_len = {}", new_cfg.max_traced_msg_len),
    );
    Ok(lines.into_inner())
}

impl Reloader {
    /// A reloader for a server started with `cmdline` (the flags as given, before the file
    /// was merged in), now running with `effective` flags and the file `loaded`.
    pub fn new(
        cmdline: Flags,
        effective: &Flags,
        loaded: Option<&Loaded>,
        build: Box<BuildConfig>,
    ) -> Result<Reloader, String> {
        let state = State {
            flags: effective.clone(),
            log: LogSettings::new(effective, loaded.map(|l| &l.file)),
            timing: Timing::from_file(loaded.map(|l| &l.file))?,
            monitoring: loaded
                .map(|l| l.file.monitoring.clone())
                .unwrap_or_default(),
        };
        Ok(Reloader {
            path: loaded.map(|l| l.path.clone()),
            cmdline,
            build,
            state: Mutex::new(state),
        })
    }

    /// The lame duck timing in force.
    pub fn lame_duck_timing(&self) -> Timing {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .timing
    }

    /// Reads the file again and applies it to `server`, logging each change and the
    /// outcome as the reference does. `Err` holds the reason (logged by the caller as
    /// `Failed to reload server configuration: <reason>`); nothing was changed then.
    pub fn reload(&self, server: &Server) -> Result<(), String> {
        let path = self
            .path
            .as_ref()
            .ok_or("can only reload config when a file is provided using -c or --config")?;
        let mut flags = self.cmdline.clone();
        flags.config = Some(path.into());
        let loaded = options::load(&mut flags)
            .map_err(|e| e.trim_end().to_string())?
            .ok_or("the configuration file could not be read")?;
        let mut config = (self.build)(&flags, Some(&loaded))?;
        let old_cfg = server.config();
        // A random port (-1 or 0) keeps the port listened on.
        config.port = match flags.port {
            None => 4222,
            Some(p) if p <= 0 => old_cfg.port,
            Some(p) => u16::try_from(p).map_err(|_| format!("invalid port {p}"))?,
        };
        let new = State {
            log: LogSettings::new(&flags, Some(&loaded.file)),
            timing: Timing::from_file(Some(&loaded.file))?,
            monitoring: loaded.file.monitoring.clone(),
            flags,
        };
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let lines = changes(&state, &new, &old_cfg, &config)?;
        let outcome = server.reload(config).map_err(|e| e.to_string())?;
        if outcome.closed_over_max_connections > 0 {
            log::info!(
                "Closed {} connections to fall within max_connections",
                outcome.closed_over_max_connections
            );
        }
        if state.flags.pid_file != new.flags.pid_file {
            if let Some(p) = &new.flags.pid_file {
                if let Err(e) = std::fs::write(p, std::process::id().to_string()) {
                    log::error!("Failed to write pidfile: {e}");
                }
            }
        }
        for line in &lines {
            match line {
                Line::Reloaded(text) => log::info!("Reloaded: {text}"),
                Line::ClusterName => {
                    if let Some(name) = &outcome.cluster.name {
                        log::info!("Cluster name updated to {name}");
                    }
                }
                Line::RemovedRoutes => {
                    for url in &outcome.cluster.removed_routes {
                        log::info!("Removed route nats://{}", url.address());
                    }
                }
            }
        }
        if state.log != new.log {
            if let Err(e) = logger::reconfigure(&new.log) {
                log::error!("{e}");
            }
        }
        *state = new;
        drop(state);
        log::info!("Reloaded server configuration ({})", loaded.digest);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> State {
        let flags = Flags::default();
        State {
            log: LogSettings::new(&flags, None),
            flags,
            timing: Timing::default(),
            monitoring: engine::conf::MonitoringOptions::default(),
        }
    }

    #[test]
    fn changed_options_are_listed_in_the_reference_order() {
        let old = state();
        let mut new = state();
        new.log.timestamps = true;
        new.log.debug = true;
        let old_cfg = ServerConfig::default();
        let mut cfg = ServerConfig {
            max_payload: 2048,
            ping_interval: Duration::from_secs(30),
            ..ServerConfig::default()
        };
        cfg.auth.timeout = Duration::from_millis(500);
        cfg.auth.token = Some(engine::auth::Secret::new("t".to_string()));
        let lines = changes(&old, &new, &old_cfg, &cfg).unwrap();
        assert_eq!(
            lines,
            [
                "debug = true",
                "logtime = true",
                "authorization users",
                "accounts",
                "authorization token",
                "ping_interval = 30s",
                "authorization timeout = 0.5",
                "max_payload = 2048",
            ]
            .map(|l| Line::Reloaded(l.to_string()))
        );
    }

    #[test]
    fn cluster_changes_and_refusals() {
        use engine::config::ClusterConfig;
        use engine::route::RouteUrl;
        let (old, new) = (state(), state());
        let url = |p: u16| RouteUrl::parse(&format!("nats://127.0.0.1:{p}")).unwrap();
        let cluster = |port: u16, name: &str, routes: Vec<RouteUrl>| ServerConfig {
            cluster: Some(ClusterConfig {
                port,
                name: Some(name.to_string()),
                routes,
                ..ClusterConfig::default()
            }),
            ..ServerConfig::default()
        };
        let old_cfg = cluster(6222, "t", vec![url(1)]);
        // Routes only: `cluster routes`, after the removals.
        // Users and accounts are reported on every reload: look past them.
        let cluster_lines = |cfg: &ServerConfig| -> Vec<Line> {
            let mut lines = changes(&old, &new, &old_cfg, cfg).unwrap();
            assert_eq!(
                lines.drain(..2).collect::<Vec<_>>(),
                [
                    Line::Reloaded("authorization users".into()),
                    Line::Reloaded("accounts".into())
                ]
            );
            lines
        };
        let lines = cluster_lines(&cluster(6222, "t", vec![url(2)]));
        assert_eq!(
            lines,
            [Line::RemovedRoutes, Line::Reloaded("cluster routes".into())]
        );
        // Another option of the block: `cluster`, after the name update; a free port (0)
        // keeps the one listened on.
        let lines = cluster_lines(&cluster(0, "t2", vec![url(1)]));
        assert_eq!(lines, [Line::ClusterName, Line::Reloaded("cluster".into())]);
        assert_eq!(
            changes(&old, &new, &old_cfg, &cluster(6223, "t", vec![url(1)])).unwrap_err(),
            "config reload not supported for cluster port: old=6222, new=6223"
        );
    }

    #[test]
    fn fixed_options_refuse_the_reload() {
        let old = state();
        let old_cfg = ServerConfig::default();
        let cfg = ServerConfig {
            port: 4333,
            ..ServerConfig::default()
        };
        assert_eq!(
            changes(&old, &state(), &old_cfg, &cfg).unwrap_err(),
            "config reload not supported for Port: old=4222, new=4333"
        );
        let cfg = ServerConfig {
            max_pending: 1000,
            ..ServerConfig::default()
        };
        assert_eq!(
            changes(&old, &state(), &old_cfg, &cfg).unwrap_err(),
            "config reload not supported for MaxPending: old=67108864, new=1000"
        );
        let mut new = state();
        new.timing.duration = Duration::from_secs(40);
        assert_eq!(
            changes(&old, &new, &old_cfg, &old_cfg).unwrap_err(),
            "config reload not supported for LameDuckDuration: old=2m0s, new=40s"
        );
        let mut new = state();
        new.log.size_limit = 1000;
        assert_eq!(
            changes(&old, &new, &old_cfg, &old_cfg).unwrap_err(),
            "config reload not supported for LogSizeLimit: old=0, new=1000"
        );
    }

    #[test]
    fn max_traced_msg_len_flag_wins() {
        let mut cfg = ServerConfig::default();
        let file = FileOptions {
            max_traced_msg_len: Some(10),
            ..FileOptions::default()
        };
        apply_extras(&mut cfg, &Flags::default(), Some(&file));
        assert_eq!(cfg.max_traced_msg_len, 10);
        let flags = Flags {
            max_traced_msg_len: Some(3),
            ..Flags::default()
        };
        apply_extras(&mut cfg, &flags, Some(&file));
        assert_eq!(cfg.max_traced_msg_len, 3);
    }
}
