//! Command-line flags, spelled as the reference spells them.
//!
//! Like Go's `flag` package, every flag may be given with one or two dashes and its value
//! either as the next argument or after `=`. Arguments are first rewritten to a canonical
//! `--name` form, then read with `pico_args`.

use std::ffi::OsString;
use std::path::PathBuf;

/// How a flag takes its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A switch: present means true, or `-flag=false`.
    Bool,
    /// Takes a value.
    Value,
}

/// Whether this build implements a flag yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Support {
    Yes,
    /// Not built yet: refuse clearly, naming what is missing.
    NotYet(&'static str),
}

/// One flag: its spellings, canonical name, kind and support.
struct FlagSpec {
    names: &'static [&'static str],
    canonical: &'static str,
    kind: Kind,
    support: Support,
}

const fn spec(
    names: &'static [&'static str],
    canonical: &'static str,
    kind: Kind,
    support: Support,
) -> FlagSpec {
    FlagSpec {
        names,
        canonical,
        kind,
        support,
    }
}

use Kind::{Bool, Value};
use Support::{NotYet, Yes};

const CLUSTER: Support = Yes;
const JETSTREAM: Support = NotYet("JetStream");

/// Every flag of the reference's `nats-server -h`.
const FLAGS: &[FlagSpec] = &[
    spec(&["a", "addr", "net"], "addr", Value, Yes),
    spec(&["p", "port"], "port", Value, Yes),
    spec(&["n", "name", "server_name"], "name", Value, Yes),
    spec(&["P", "pid"], "pid", Value, Yes),
    spec(&["m", "http_port"], "http_port", Value, Yes),
    spec(&["ms", "https_port"], "https_port", Value, Yes),
    spec(&["c", "config"], "config", Value, Yes),
    spec(&["t"], "t", Bool, Yes),
    spec(&["sl", "signal"], "signal", Value, Yes),
    spec(
        &["client_advertise"],
        "client_advertise",
        Value,
        NotYet("client_advertise"),
    ),
    spec(&["ports_file_dir"], "ports_file_dir", Value, Yes),
    spec(&["l", "log"], "log", Value, Yes),
    spec(&["T", "logtime"], "logtime", Bool, Yes),
    spec(&["logtime_utc"], "logtime_utc", Bool, Yes),
    spec(&["s", "syslog"], "syslog", Bool, Yes),
    spec(&["r", "remote_syslog"], "remote_syslog", Value, Yes),
    spec(&["D", "debug"], "debug", Bool, Yes),
    spec(&["V", "trace"], "trace", Bool, Yes),
    spec(&["VV"], "VV", Bool, Yes),
    spec(&["DV"], "DV", Bool, Yes),
    spec(&["DVV"], "DVV", Bool, Yes),
    spec(&["log_size_limit"], "log_size_limit", Value, Yes),
    spec(&["max_traced_msg_len"], "max_traced_msg_len", Value, Yes),
    spec(&["js", "jetstream"], "jetstream", Bool, JETSTREAM),
    spec(&["sd", "store_dir"], "store_dir", Value, JETSTREAM),
    spec(&["user"], "user", Value, Yes),
    spec(&["pass"], "pass", Value, Yes),
    spec(&["auth"], "auth", Value, Yes),
    spec(&["tls"], "tls", Bool, Yes),
    spec(&["tlscert"], "tlscert", Value, Yes),
    spec(&["tlskey"], "tlskey", Value, Yes),
    spec(&["tlsverify"], "tlsverify", Bool, Yes),
    spec(&["tlscacert"], "tlscacert", Value, Yes),
    spec(&["routes"], "routes", Value, CLUSTER),
    spec(&["cluster"], "cluster", Value, CLUSTER),
    spec(&["cluster_name"], "cluster_name", Value, CLUSTER),
    spec(&["no_advertise"], "no_advertise", Bool, CLUSTER),
    spec(&["cluster_advertise"], "cluster_advertise", Value, CLUSTER),
    spec(&["connect_retries"], "connect_retries", Value, CLUSTER),
    spec(&["cluster_listen"], "cluster_listen", Value, CLUSTER),
    spec(&["profile"], "profile", Value, NotYet("the profiling port")),
    spec(&["h", "help"], "help", Bool, Yes),
    spec(&["help_tls"], "help_tls", Bool, Yes),
    spec(&["v", "version"], "version", Bool, Yes),
];

/// A command line that cannot be accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlagError {
    /// Not a flag of `nats-server`.
    #[error("flag provided but not defined: -{0}")]
    Unknown(String),
    /// A flag that needs a value came last.
    #[error("flag needs an argument: -{0}")]
    MissingValue(String),
    /// A value that does not parse.
    #[error("invalid value {value:?} for flag -{flag}: parse error")]
    Invalid {
        /// The flag as given.
        flag: String,
        /// The value as given.
        value: String,
    },
    /// A flag of a capability this build does not have yet.
    #[error("flag -{flag} is not supported yet: {what} is not implemented in this build")]
    NotSupported {
        /// The flag as given.
        flag: String,
        /// The capability it belongs to.
        what: &'static str,
    },
    /// An argument that is not a flag.
    #[error("unexpected argument {0:?}")]
    Positional(String),
}

/// The parsed command line.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Flags {
    /// `-a/--addr/--net`.
    pub host: Option<String>,
    /// `-p/--port` (`-1` or `0`: any free port).
    pub port: Option<i32>,
    /// `-n/--name/--server_name`.
    pub name: Option<String>,
    /// `-P/--pid`.
    pub pid_file: Option<PathBuf>,
    /// `-m/--http_port`: monitoring port (`-1`: any free port, `0`: off).
    pub http_port: Option<i32>,
    /// `-ms/--https_port`: HTTPS monitoring port (same conventions; needs TLS).
    pub https_port: Option<i32>,
    /// `--ports_file_dir`.
    pub ports_file_dir: Option<PathBuf>,
    /// `-l/--log`.
    pub log_file: Option<PathBuf>,
    /// `-T/--logtime` (default true).
    pub logtime: bool,
    /// `--logtime_utc`.
    pub logtime_utc: bool,
    /// `-D` (also `-DV`, `-DVV`).
    pub debug: bool,
    /// `-V` (also `-VV`, `-DV`, `-DVV`).
    pub trace: bool,
    /// `--user`.
    pub user: Option<String>,
    /// `--pass`.
    pub pass: Option<String>,
    /// `--auth` (token).
    pub auth: Option<String>,
    /// `-h/--help`.
    pub help: bool,
    /// `-v/--version`.
    pub version: bool,
    /// `-c/--config`: the configuration file.
    pub config: Option<PathBuf>,
    /// `-t`: check the configuration file and exit.
    pub check_config: bool,
    /// Canonical names of the switches given on the command line (they win over the file).
    pub switches_given: Vec<&'static str>,
    /// `--help_tls`.
    pub help_tls: bool,
    /// `--tls`, `--tlscert`, `--tlskey`, `--tlsverify`, `--tlscacert`.
    pub tls: TlsFlags,
    /// `-sl/--signal <command>[=<pid or pid file>]`: signal a running server and exit.
    pub signal: Option<String>,
    /// `-s/--syslog`: log to the local syslog.
    pub syslog: bool,
    /// `-r/--remote_syslog <url>`: log to a syslog server (`udp://host:port`).
    pub remote_syslog: Option<String>,
    /// `--log_size_limit <bytes>`: rotate the log file past this size (0: never).
    pub log_size_limit: Option<i64>,
    /// `--max_traced_msg_len <len>`: longest payload shown in trace lines (0: all).
    pub max_traced_msg_len: Option<i64>,
    /// `--cluster`, `--routes` and the other cluster flags.
    pub cluster: ClusterFlags,
}

/// The cluster flags of the command line.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ClusterFlags {
    /// `--cluster`/`--cluster_listen <url>`: the route listener (`nats://[user:pass@]host:port`).
    pub listen: Option<String>,
    /// `--routes <url,url>`: routes to solicit.
    pub routes: Option<String>,
    /// `--cluster_name`.
    pub name: Option<String>,
    /// `--cluster_advertise`.
    pub advertise: Option<String>,
    /// `--no_advertise` (when given).
    pub no_advertise: Option<bool>,
    /// `--connect_retries`.
    pub connect_retries: Option<i64>,
}

/// The TLS flags of the command line.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TlsFlags {
    /// `--tls` as given (`--tls=false` turns TLS off whatever else is given).
    pub enabled: Option<bool>,
    /// `--tlscert`: the server certificate (PEM).
    pub cert: Option<PathBuf>,
    /// `--tlskey`: the server's private key (PEM).
    pub key: Option<PathBuf>,
    /// `--tlsverify`: require and verify client certificates.
    pub verify: bool,
    /// Whether `--tlsverify` was given at all (even `=false`).
    pub verify_given: bool,
    /// `--tlscacert`: CAs client certificates must chain to (PEM).
    pub ca_cert: Option<PathBuf>,
    /// From a config file's `tls {}` block (no flag sets these): handshake timeout.
    pub timeout: Option<std::time::Duration>,
    /// From a config file's `tls {}` block: TLS before INFO.
    pub handshake_first: bool,
    /// From a config file's `tls {}` block: the `handshake_first` plain-text fallback delay.
    pub handshake_first_fallback: Option<std::time::Duration>,
    /// From a config file's `tls {}` block: map client certificates to users.
    pub verify_and_map: bool,
    /// From a config file's `tls {}` block: TLS 1.3 only (`min_version: "1.3"`).
    pub tls13_only: bool,
}

impl TlsFlags {
    /// Whether the command line turns client TLS on: as with the reference, any `--tls*` flag
    /// does, unless `--tls=false` is given.
    pub fn requested(&self) -> bool {
        match self.enabled {
            Some(on) => on,
            None => {
                self.verify_given
                    || self.cert.is_some()
                    || self.key.is_some()
                    || self.ca_cert.is_some()
            }
        }
    }
}

fn find(name: &str) -> Option<&'static FlagSpec> {
    FLAGS.iter().find(|f| f.names.contains(&name))
}

/// The command line split into switches (in order) and `--canonical value` pairs.
struct Canonical {
    switches: Vec<(&'static str, bool)>,
    values: Vec<OsString>,
}

/// Rewrites `args` to canonical form, checking names and support.
fn canonicalize(args: Vec<OsString>) -> Result<Canonical, FlagError> {
    let mut switches = Vec::new();
    let mut out = Vec::with_capacity(args.len());
    let mut iter = args.into_iter();
    while let Some(arg) = iter.next() {
        let arg = arg.to_string_lossy().into_owned();
        let Some(body) = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-')) else {
            return Err(FlagError::Positional(arg));
        };
        if body.is_empty() {
            return Err(FlagError::Positional(arg));
        }
        let (name, inline) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (body, None),
        };
        let spec = find(name).ok_or_else(|| FlagError::Unknown(name.to_string()))?;
        if let NotYet(what) = spec.support {
            return Err(FlagError::NotSupported {
                flag: name.to_string(),
                what,
            });
        }
        match spec.kind {
            Bool => {
                let on = match inline.as_deref() {
                    None => true,
                    Some(v) => parse_bool(v).ok_or_else(|| FlagError::Invalid {
                        flag: name.to_string(),
                        value: v.to_string(),
                    })?,
                };
                switches.push((spec.canonical, on));
            }
            Value => {
                let value = match inline {
                    Some(v) => v,
                    None => iter
                        .next()
                        .map(|v| v.to_string_lossy().into_owned())
                        .ok_or_else(|| FlagError::MissingValue(name.to_string()))?,
                };
                out.push(format!("--{}", spec.canonical).into());
                out.push(value.into());
            }
        }
    }
    Ok(Canonical {
        switches,
        values: out,
    })
}

/// Go's `strconv.ParseBool` spellings.
fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

fn invalid(flag: &str, e: pico_args::Error) -> FlagError {
    let value = match e {
        pico_args::Error::Utf8ArgumentParsingFailed { value, .. }
        | pico_args::Error::ArgumentParsingFailed { cause: value } => value,
        other => other.to_string(),
    };
    FlagError::Invalid {
        flag: flag.to_string(),
        value,
    }
}

/// The last value given for `key` (repeated flags: the last one wins).
fn last_value<T: std::str::FromStr>(
    p: &mut pico_args::Arguments,
    key: &'static str,
    flag: &str,
) -> Result<Option<T>, FlagError>
where
    T::Err: std::fmt::Display,
{
    let mut value = None;
    while let Some(v) = p.opt_value_from_str(key).map_err(|e| invalid(flag, e))? {
        value = Some(v);
    }
    Ok(value)
}

/// Parses the arguments after the program name.
pub fn parse(args: Vec<OsString>) -> Result<Flags, FlagError> {
    let canonical = canonicalize(args)?;
    let mut p = pico_args::Arguments::from_vec(canonical.values);
    // The last occurrence of a switch wins, as with Go's flag package.
    let switch = |name: &str, default: bool| {
        canonical
            .switches
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map_or(default, |(_, on)| *on)
    };
    let mut flags = Flags {
        debug: switch("debug", false),
        trace: switch("trace", false),
        logtime: switch("logtime", true),
        logtime_utc: switch("logtime_utc", false),
        help: switch("help", false),
        check_config: switch("t", false),
        switches_given: canonical.switches.iter().map(|(n, _)| *n).collect(),
        version: switch("version", false),
        help_tls: switch("help_tls", false),
        syslog: switch("syslog", false),
        ..Flags::default()
    };
    let given = |name: &str| canonical.switches.iter().any(|(n, _)| *n == name);
    flags.tls.enabled = given("tls").then(|| switch("tls", false));
    flags.tls.verify = switch("tlsverify", false);
    flags.tls.verify_given = given("tlsverify");
    if switch("VV", false) {
        flags.trace = true;
    }
    if switch("DV", false) || switch("DVV", false) {
        flags.debug = true;
        flags.trace = true;
    }
    flags.host = last_value(&mut p, "--addr", "a")?;
    flags.port = last_value(&mut p, "--port", "p")?;
    flags.name = last_value(&mut p, "--name", "n")?;
    flags.pid_file = last_value(&mut p, "--pid", "P")?;
    flags.http_port = last_value(&mut p, "--http_port", "m")?;
    flags.https_port = last_value(&mut p, "--https_port", "ms")?;
    flags.ports_file_dir = last_value(&mut p, "--ports_file_dir", "ports_file_dir")?;
    flags.log_file = last_value(&mut p, "--log", "l")?;
    flags.config = last_value(&mut p, "--config", "c")?;
    flags.user = last_value(&mut p, "--user", "user")?;
    flags.pass = last_value(&mut p, "--pass", "pass")?;
    flags.auth = last_value(&mut p, "--auth", "auth")?;
    flags.tls.cert = last_value(&mut p, "--tlscert", "tlscert")?;
    flags.tls.key = last_value(&mut p, "--tlskey", "tlskey")?;
    flags.tls.ca_cert = last_value(&mut p, "--tlscacert", "tlscacert")?;
    flags.signal = last_value(&mut p, "--signal", "signal")?;
    flags.remote_syslog = last_value(&mut p, "--remote_syslog", "remote_syslog")?;
    flags.log_size_limit = last_value(&mut p, "--log_size_limit", "log_size_limit")?;
    flags.max_traced_msg_len = last_value(&mut p, "--max_traced_msg_len", "max_traced_msg_len")?;
    flags.cluster.listen = last_value(&mut p, "--cluster", "cluster")?;
    if let Some(l) = last_value::<String>(&mut p, "--cluster_listen", "cluster_listen")? {
        flags.cluster.listen = Some(l);
    }
    flags.cluster.routes = last_value(&mut p, "--routes", "routes")?;
    flags.cluster.name = last_value(&mut p, "--cluster_name", "cluster_name")?;
    flags.cluster.advertise = last_value(&mut p, "--cluster_advertise", "cluster_advertise")?;
    flags.cluster.connect_retries = last_value(&mut p, "--connect_retries", "connect_retries")?;
    flags.cluster.no_advertise = given("no_advertise").then(|| switch("no_advertise", false));
    let rest = p.finish();
    if let Some(first) = rest.first() {
        return Err(FlagError::Positional(first.to_string_lossy().into_owned()));
    }
    Ok(flags)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &[&str]) -> Vec<OsString> {
        s.iter().map(OsString::from).collect()
    }

    #[test]
    fn short_long_and_single_dash_long_forms() {
        let f = parse(args(&["-p", "4333", "--addr", "127.0.0.1", "-name=x"])).unwrap();
        assert_eq!(f.port, Some(4333));
        assert_eq!(f.host.as_deref(), Some("127.0.0.1"));
        assert_eq!(f.name.as_deref(), Some("x"));
        let f = parse(args(&["-port=5", "--net=::1", "--server_name", "y"])).unwrap();
        assert_eq!(f.port, Some(5));
        assert_eq!(f.host.as_deref(), Some("::1"));
        assert_eq!(f.name.as_deref(), Some("y"));
    }

    #[test]
    fn log_switches() {
        let f = parse(args(&["-DV"])).unwrap();
        assert!(f.debug && f.trace);
        let f = parse(args(&["-T=false", "-D"])).unwrap();
        assert!(!f.logtime && f.debug && !f.trace);
        assert!(parse(args(&[])).unwrap().logtime);
    }

    #[test]
    fn last_value_wins() {
        let f = parse(args(&["-p", "1", "-p", "2"])).unwrap();
        assert_eq!(f.port, Some(2));
    }

    #[test]
    fn tls_flags_turn_tls_on_unless_tls_is_false() {
        assert!(!parse(args(&[])).unwrap().tls.requested());
        let f = parse(args(&["--tlscert", "c.pem", "--tlskey=k.pem"])).unwrap();
        assert!(f.tls.requested());
        assert_eq!(f.tls.cert.as_deref(), Some(std::path::Path::new("c.pem")));
        assert_eq!(f.tls.key.as_deref(), Some(std::path::Path::new("k.pem")));
        assert!(!f.tls.verify);
        let f = parse(args(&["--tlscert", "c.pem", "-tls=false", "--tlsverify"])).unwrap();
        assert!(!f.tls.requested());
        let f = parse(args(&["--tlsverify=false", "--tlscacert", "ca.pem"])).unwrap();
        assert!(f.tls.requested() && !f.tls.verify);
        assert!(parse(args(&["-tls"])).unwrap().tls.requested());
        assert!(parse(args(&["--help_tls"])).unwrap().help_tls);
    }

    #[test]
    fn logging_and_signal_flags() {
        let f = parse(args(&[
            "-sl",
            "reload=/tmp/x.pid",
            "-s",
            "-r",
            "udp://127.0.0.1:514",
            "--log_size_limit=1000",
            "--max_traced_msg_len",
            "12",
        ]))
        .unwrap();
        assert_eq!(f.signal.as_deref(), Some("reload=/tmp/x.pid"));
        assert!(f.syslog);
        assert_eq!(f.remote_syslog.as_deref(), Some("udp://127.0.0.1:514"));
        assert_eq!(f.log_size_limit, Some(1000));
        assert_eq!(f.max_traced_msg_len, Some(12));
        assert_eq!(
            parse(args(&["--log_size_limit", "x"]))
                .unwrap_err()
                .to_string(),
            "invalid value \"x\" for flag -log_size_limit: parse error"
        );
    }

    #[test]
    fn errors_name_the_flag() {
        assert_eq!(
            parse(args(&["--bogus"])).unwrap_err(),
            FlagError::Unknown("bogus".into())
        );
        assert_eq!(
            parse(args(&["-p", "abc"])).unwrap_err().to_string(),
            "invalid value \"abc\" for flag -p: parse error"
        );
        assert_eq!(
            parse(args(&["-p"])).unwrap_err(),
            FlagError::MissingValue("p".into())
        );
        let f = parse(args(&["-c", "x.conf", "-t", "-D"])).unwrap();
        assert_eq!(f.config.as_deref(), Some(std::path::Path::new("x.conf")));
        assert!(f.check_config);
        assert!(f.switches_given.contains(&"debug"));
        assert!(matches!(
            parse(args(&["--client_advertise", "x:1"])).unwrap_err(),
            FlagError::NotSupported { .. }
        ));
    }
}
