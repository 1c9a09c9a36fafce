//! The configuration file (`-c`) merged with the command line: flags given on the command
//! line win over the file, as with the reference. Also `-t` (check the file and exit).

use std::process::ExitCode;

use engine::conf::{self, FileOptions, Host, Issue, Mapped};
use engine::ServerConfig;

use crate::flags::Flags;

/// Files and environment variables from the operating system, errors worded as the
/// reference words them (`open x.conf: no such file or directory`).
pub struct OsHost;

impl Host for OsHost {
    fn read(&mut self, path: &str) -> Result<Vec<u8>, String> {
        std::fs::read(path).map_err(|e| {
            let text = e.to_string();
            let desc = text.split(" (os error").next().unwrap_or(&text);
            let mut desc = desc.to_string();
            if let Some(first) = desc.get(..1) {
                desc = first.to_lowercase() + &desc[1..];
            }
            if e.raw_os_error() == Some(21) {
                format!("read {path}: {desc}")
            } else {
                format!("open {path}: {desc}")
            }
        })
    }

    fn env(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

/// A configuration file read and checked.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The path as given with `-c`.
    pub path: String,
    /// `sha256:<hex>` of the parsed file, as the reference prints it.
    pub digest: String,
    /// What the file sets (including the monitoring keys: `file.monitoring`).
    pub file: FileOptions,
    /// The reference's warnings (printed before start).
    pub warnings: Vec<Issue>,
    /// Keys parsed but not implemented, ignored (logged as warnings once logging runs).
    pub ignored: Vec<Issue>,
}

/// Reads `path` into options. `Err` holds the complete message after `nats-server: `.
/// With `strict` (`-t`), the reference's warnings are errors too.
pub fn read(path: &str, strict: bool) -> Result<Loaded, String> {
    let doc = conf::parse_file(path, &mut OsHost).map_err(|e| e.to_string())?;
    let Mapped {
        options,
        errors,
        warnings,
        ignored,
    } = conf::map_options(path, &doc.root);
    if !errors.is_empty() || (strict && !warnings.is_empty()) {
        // As the reference: warnings first, then errors, each line ending in a newline.
        let mut msg = String::new();
        for issue in warnings.iter().chain(errors.iter()) {
            msg.push_str(&issue.to_string());
            msg.push('\n');
        }
        return Err(msg);
    }
    Ok(Loaded {
        path: path.to_string(),
        digest: doc.digest(),
        file: options,
        warnings,
        ignored,
    })
}

/// `nats-server -t`: checks the file named by `-c` and says so on stderr, as the reference.
pub fn check(flags: &Flags) -> ExitCode {
    let Some(path) = &flags.config else {
        eprintln!(
            "nats-server: must specify [-c, --config] option to check configuration file syntax"
        );
        return ExitCode::from(1);
    };
    let path = path.to_string_lossy();
    match read(&path, true) {
        Ok(l) => {
            eprintln!(
                "nats-server: configuration file {} is valid ({})",
                l.path, l.digest
            );
            ExitCode::SUCCESS
        }
        Err(msg) => {
            eprintln!("nats-server: {msg}");
            ExitCode::from(1)
        }
    }
}

/// Reads the file named by `-c` (if any) and fills in what the command line left unset.
/// Prints the reference's warnings to stderr, as it does before starting.
pub fn load(flags: &mut Flags) -> Result<Option<Loaded>, String> {
    let Some(path) = flags.config.clone() else {
        return Ok(None);
    };
    let loaded = read(&path.to_string_lossy(), false)?;
    for w in &loaded.warnings {
        eprintln!("{w}");
    }
    merge_into_flags(flags, &loaded.file)?;
    Ok(Some(loaded))
}

/// Options the flags also carry: the file's value unless the flag was on the command line.
fn merge_into_flags(flags: &mut Flags, file: &FileOptions) -> Result<(), String> {
    let given = |names: &[&str]| names.iter().any(|n| flags.switches_given.contains(n));
    if flags.host.is_none() {
        flags.host = file.host.clone().filter(|h| !h.is_empty());
    }
    if flags.port.is_none() {
        if let Some(p) = file.port.filter(|&p| p != 0) {
            flags.port = Some(i32::try_from(p).map_err(|_| format!("invalid port {p}"))?);
        }
    }
    if flags.name.is_none() {
        flags.name = file.server_name.clone();
    }
    // The file's `tls {}` block, unless TLS was set on the command line.
    if let (Some(t), None, None, None) = (
        &file.tls,
        &flags.tls.enabled,
        &flags.tls.cert,
        &flags.tls.key,
    ) {
        flags.tls.enabled = Some(true);
        flags.tls.cert = t.cert_file.as_ref().map(Into::into);
        flags.tls.key = t.key_file.as_ref().map(Into::into);
        flags.tls.ca_cert = t.ca_file.as_ref().map(Into::into);
        flags.tls.verify = t.verify;
        flags.tls.timeout = t.timeout;
        flags.tls.handshake_first = t.handshake_first;
        flags.tls.handshake_first_fallback = t.handshake_first_fallback;
        flags.tls.verify_and_map = t.verify_and_map;
        flags.tls.tls13_only = t.tls13_only;
    }
    if flags.http_port.is_none() {
        if let Some(p) = file.monitoring.http_port {
            flags.http_port = Some(i32::try_from(p).map_err(|_| format!("invalid port {p}"))?);
        }
    }
    if flags.https_port.is_none() {
        if let Some(p) = file.monitoring.https_port {
            flags.https_port = Some(i32::try_from(p).map_err(|_| format!("invalid port {p}"))?);
        }
    }
    if flags.pid_file.is_none() {
        flags.pid_file = file.pid_file.as_ref().map(Into::into);
    }
    if flags.ports_file_dir.is_none() {
        flags.ports_file_dir = file.ports_file_dir.as_ref().map(Into::into);
    }
    if flags.log_file.is_none() {
        flags.log_file = file.log_file.as_ref().map(Into::into);
    }
    if !given(&["debug", "DV", "DVV"]) {
        flags.debug = file.debug.unwrap_or(flags.debug);
    }
    if !given(&["trace", "VV", "DV", "DVV"]) {
        flags.trace = file.trace.unwrap_or(flags.trace);
    }
    if !given(&["logtime"]) {
        flags.logtime = file.logtime.unwrap_or(flags.logtime);
    }
    if !given(&["logtime_utc"]) {
        flags.logtime_utc = file.logtime_utc.unwrap_or(flags.logtime_utc);
    }
    Ok(())
}

/// A positive limit as `usize` (0 and negatives keep the default, as the reference).
fn positive(v: Option<i64>) -> Option<usize> {
    v.filter(|&v| v > 0).and_then(|v| usize::try_from(v).ok())
}

/// Applies the engine options of the file (those the flags do not carry) to `config`.
pub fn apply(config: &mut ServerConfig, file: &FileOptions) -> Result<(), String> {
    if let Some(v) = file.max_payload.filter(|&v| v != 0) {
        config.max_payload = v;
    }
    if let Some(v) = file.max_control_line.filter(|&v| v > 0) {
        config.max_control_line = usize::try_from(v).unwrap_or(config.max_control_line);
    }
    match file.max_connections {
        Some(v) if v < 0 => {
            return Err(
                "max_connections of 0 or less refuses every client; not supported by this server"
                    .to_string(),
            )
        }
        v => {
            if let Some(v) = positive(v) {
                config.max_connections = v;
            }
        }
    }
    if let Some(v) = file.max_subscriptions {
        config.max_subscriptions = usize::try_from(v.max(0)).unwrap_or(0);
    }
    if let Some(v) = positive(file.max_pending) {
        config.max_pending = v;
    }
    if let Some(d) = file.write_deadline.filter(|d| !d.is_zero()) {
        config.write_deadline = d;
    }
    if let Some(d) = file.ping_interval.filter(|d| !d.is_zero()) {
        config.ping_interval = d;
        config.first_ping_delay = config.first_ping_delay.min(d);
    }
    if let Some(v) = positive(file.ping_max) {
        config.ping_max = u32::try_from(v).unwrap_or(u32::MAX);
    }
    if let Some(v) = file.no_header_support {
        config.headers = !v;
    }
    if let Some(v) = positive(file.max_closed_clients) {
        config.max_closed_clients = v;
    }
    let security = &file.security;
    config.accounts = security.accounts.clone();
    // Credentials given as flags (`--user`, `--auth`) win over the file's.
    if security.is_set() && !config.auth.is_required() {
        config.auth = security.auth_config();
    }
    Ok(())
}

/// Logs what the reference logs about its file, and the keys this build ignores.
pub fn log_loaded(loaded: &Loaded) {
    log::info!(
        "Using configuration file: {} ({})",
        loaded.path,
        loaded.digest
    );
    for issue in &loaded.ignored {
        log::warn!("{issue}");
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn write(name: &str, body: &str) -> String {
        let dir = std::env::temp_dir().join(format!("nats-options-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, body).unwrap();
        p.to_string_lossy().into_owned()
    }

    #[test]
    fn flags_win_over_the_file() {
        let path = write("a.conf", "port: 4333\nhost: 127.0.0.2\ndebug: true\nlogtime: false\nmax_payload: 2KB\nping_interval: \"5s\"\n");
        let mut flags = crate::flags::parse(
            ["-c", &path, "-p", "5555", "-T"]
                .iter()
                .map(Into::into)
                .collect(),
        )
        .unwrap();
        let loaded = load(&mut flags).unwrap().unwrap();
        assert_eq!(flags.port, Some(5555));
        assert_eq!(flags.host.as_deref(), Some("127.0.0.2"));
        assert!(flags.debug);
        assert!(flags.logtime);
        let mut config = ServerConfig::default();
        apply(&mut config, &loaded.file).unwrap();
        assert_eq!(config.max_payload, 2048);
        assert_eq!(config.ping_interval, Duration::from_secs(5));
    }

    #[test]
    fn errors_and_missing_files() {
        let path = write("b.conf", "foo: 1\n");
        let e = read(&path, true).unwrap_err();
        assert!(e.ends_with(":1:0: unknown field \"foo\"\n"), "{e}");
        let e = read("/nonexistent/x.conf", true).unwrap_err();
        assert_eq!(e, "open /nonexistent/x.conf: no such file or directory");
        let path = write("c.conf", "ping_interval: 60\n");
        assert!(read(&path, true).is_err());
        assert_eq!(read(&path, false).unwrap().warnings.len(), 1);
    }
}
