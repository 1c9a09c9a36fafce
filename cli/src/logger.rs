//! Log lines in the reference's format: `[pid] 2006/01/02 15:04:05.000000 [INF] text`, to
//! standard error (coloured labels on a terminal), a log file (rotated by size), the local
//! syslog or a remote one. As with the reference, a log file wins over remote syslog, which
//! wins over local syslog.
//!
//! The logger is installed once; [`reconfigure`] swaps where lines go (config reload) and
//! [`reopen`] opens the log file again (`SIGUSR1`, for logrotate).

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, OnceLock};

use engine::conf::FileOptions;
use log::{Level, LevelFilter, Log, Metadata, Record};

use crate::flags::Flags;
use crate::logfile::LogFile;
use crate::syslog::{Severity, Syslog, SyslogError};

/// How the logger is set up: the command line over the configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSettings {
    /// `-l/--log`, `log_file`.
    pub file: Option<PathBuf>,
    /// `--log_size_limit`, `logfile_size_limit` (0: no rotation).
    pub size_limit: i64,
    /// `logfile_max_num` (0: keep every rotated file).
    pub max_files: i64,
    /// `-s/--syslog`, `syslog`.
    pub syslog: bool,
    /// `-r/--remote_syslog`, `remote_syslog`.
    pub remote_syslog: Option<String>,
    /// `-T/--logtime`, `logtime`.
    pub timestamps: bool,
    /// `--logtime_utc`, `logtime_utc`.
    pub utc: bool,
    /// `-D`, `debug`.
    pub debug: bool,
    /// `-V`, `trace`.
    pub trace: bool,
}

impl LogSettings {
    /// The settings of `flags` (already merged with the file by `options::load`) plus the
    /// logging keys only the file has a say in, unless the command line set them.
    pub fn new(flags: &Flags, file: Option<&FileOptions>) -> LogSettings {
        let given = |name: &str| flags.switches_given.contains(&name);
        let mut s = LogSettings {
            file: flags.log_file.clone(),
            size_limit: flags.log_size_limit.unwrap_or(0),
            max_files: 0,
            syslog: flags.syslog,
            remote_syslog: flags.remote_syslog.clone(),
            timestamps: flags.logtime,
            utc: flags.logtime_utc,
            debug: flags.debug,
            trace: flags.trace,
        };
        if let Some(f) = file {
            if flags.log_size_limit.is_none() {
                s.size_limit = f.log_size_limit.unwrap_or(0);
            }
            s.max_files = f.log_max_num.unwrap_or(0);
            if !given("syslog") {
                s.syslog = f.syslog.unwrap_or(s.syslog);
            }
            if s.remote_syslog.is_none() {
                s.remote_syslog = f.remote_syslog.clone().filter(|r| !r.is_empty());
            }
        }
        s
    }

    fn level(&self) -> LevelFilter {
        if self.trace {
            LevelFilter::Trace
        } else if self.debug {
            LevelFilter::Debug
        } else {
            LevelFilter::Info
        }
    }
}

/// Why the logger could not be set up; printed the way the reference's Go `log.Fatalf`
/// prints it, before exiting with status 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogSetupError {
    /// The log file could not be opened.
    #[error("error opening file: {0}")]
    File(String),
    /// Syslog could not be used.
    #[error(transparent)]
    Syslog(#[from] SyslogError),
    /// A logger was already installed.
    #[error("the logger is already installed")]
    AlreadyInstalled,
}

impl LogSetupError {
    /// The line Go's standard logger prints: `2006/01/02 15:04:05 text`.
    pub fn go_log_line(&self) -> String {
        let time = chrono::Local::now().format("%Y/%m/%d %H:%M:%S");
        format!("{time} {self}")
    }
}

/// Where lines go.
enum Sink {
    Stderr { colors: bool },
    File(LogFile),
    Syslog(Syslog),
}

struct Inner {
    settings: LogSettings,
    sink: Sink,
}

/// The process logger.
struct Logger {
    pid: u32,
    inner: Mutex<Option<Inner>>,
}

static LOGGER: OnceLock<Logger> = OnceLock::new();

/// Opens the sink `settings` ask for.
fn open_sink(settings: &LogSettings) -> Result<Sink, LogSetupError> {
    if let Some(path) = &settings.file {
        let limit = u64::try_from(settings.size_limit).unwrap_or(0);
        let max_files = usize::try_from(settings.max_files).unwrap_or(0);
        let f = LogFile::open(path, limit, max_files, settings.timestamps)
            .map_err(LogSetupError::File)?;
        return Ok(Sink::File(f));
    }
    if let Some(url) = &settings.remote_syslog {
        return Ok(Sink::Syslog(Syslog::remote(url)?));
    }
    if settings.syslog {
        return Ok(Sink::Syslog(Syslog::local()?));
    }
    Ok(Sink::Stderr {
        colors: io::stderr().is_terminal(),
    })
}

/// Installs the process logger with `settings`.
pub fn install(settings: &LogSettings) -> Result<(), LogSetupError> {
    let sink = open_sink(settings)?;
    let logger = LOGGER.get_or_init(|| Logger {
        pid: std::process::id(),
        inner: Mutex::new(None),
    });
    {
        let mut inner = logger.lock();
        if inner.is_some() {
            return Err(LogSetupError::AlreadyInstalled);
        }
        *inner = Some(Inner {
            settings: settings.clone(),
            sink,
        });
    }
    log::set_logger(logger).map_err(|_| LogSetupError::AlreadyInstalled)?;
    log::set_max_level(settings.level());
    logger.announce_rotation();
    Ok(())
}

/// Swaps the logger's settings (config reload). On failure the old sink stays.
#[cfg_attr(not(unix), allow(dead_code))]
pub fn reconfigure(settings: &LogSettings) -> Result<(), LogSetupError> {
    let Some(logger) = LOGGER.get() else {
        return install(settings);
    };
    {
        let mut inner = logger.lock();
        if inner.as_ref().is_some_and(|i| &i.settings == settings) {
            return Ok(());
        }
        let sink = open_sink(settings)?;
        *inner = Some(Inner {
            settings: settings.clone(),
            sink,
        });
    }
    log::set_max_level(settings.level());
    logger.announce_rotation();
    Ok(())
}

/// `SIGUSR1`: closes and opens the log file again (after logrotate moved it), logging what
/// the reference logs.
#[cfg_attr(not(unix), allow(dead_code))]
pub fn reopen() {
    let Some(logger) = LOGGER.get() else {
        return;
    };
    // What to log once the lock is released: a notice, or an error.
    let outcome: Result<&str, String> = {
        let mut guard = logger.lock();
        match guard.as_mut() {
            None => Ok("File log re-open ignored, no logger"),
            Some(inner) if inner.settings.file.is_none() => {
                Ok("File log re-open ignored, not a file logger")
            }
            Some(inner) => match open_sink(&inner.settings) {
                Ok(sink) => {
                    inner.sink = sink;
                    Ok("File log re-opened")
                }
                Err(e) => Err(e.to_string()),
            },
        }
    };
    match outcome {
        Ok(msg) => {
            log::info!("{msg}");
            logger.announce_rotation();
        }
        Err(msg) => log::error!("{msg}"),
    }
}

impl Logger {
    fn lock(&self) -> MutexGuard<'_, Option<Inner>> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A file already over its size limit is rotated by the next line, which the reference
    /// makes `Rotating logfile...`.
    fn announce_rotation(&self) {
        let over = matches!(
            self.lock().as_ref().map(|i| &i.sink),
            Some(Sink::File(f)) if f.over_limit()
        );
        if over {
            log::info!("Rotating logfile...");
        }
    }
}

/// The label of a level, plain or coloured as the reference colours it.
fn label(level: Level, colors: bool) -> &'static str {
    match (level, colors) {
        (Level::Error, false) => "[ERR]",
        (Level::Warn, false) => "[WRN]",
        (Level::Info, false) => "[INF]",
        (Level::Debug, false) => "[DBG]",
        (Level::Trace, false) => "[TRC]",
        (Level::Error, true) => "[\x1b[31mERR\x1b[0m]",
        (Level::Warn, true) => "[\x1b[0;93mWRN\x1b[0m]",
        (Level::Info, true) => "[\x1b[32mINF\x1b[0m]",
        (Level::Debug, true) => "[\x1b[36mDBG\x1b[0m]",
        (Level::Trace, true) => "[\x1b[33mTRC\x1b[0m]",
    }
}

/// Formats one line (without the newline).
fn format_line(
    pid: u32,
    settings: &LogSettings,
    colors: bool,
    level: Level,
    args: &std::fmt::Arguments<'_>,
) -> String {
    let tag = label(level, colors);
    if !settings.timestamps {
        return format!("[{pid}] {tag} {args}");
    }
    const FORMAT: &str = "%Y/%m/%d %H:%M:%S%.6f";
    let time = if settings.utc {
        chrono::Utc::now().format(FORMAT).to_string()
    } else {
        chrono::Local::now().format(FORMAT).to_string()
    };
    format!("[{pid}] {time} {tag} {args}")
}

/// Writes a fatal line (`[FTL]`), as the reference does before exiting.
pub fn fatal(args: std::fmt::Arguments<'_>) {
    let pid = std::process::id();
    let time = chrono::Local::now().format("%Y/%m/%d %H:%M:%S%.6f");
    let line = format!("[{pid}] {time} [FTL] {args}\n");
    if let Some(logger) = LOGGER.get() {
        let mut guard = logger.lock();
        match guard.as_mut().map(|i| &mut i.sink) {
            Some(Sink::File(f)) => {
                let _ = f.write_line(line.as_bytes());
                return;
            }
            Some(Sink::Syslog(s)) => {
                let _ = s.write(Severity::Crit, &args.to_string());
                return;
            }
            _ => {}
        }
    }
    let _ = io::stderr().write_all(line.as_bytes());
}

impl Log for Logger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let mut guard = self.lock();
        let Some(inner) = guard.as_mut() else {
            return;
        };
        match &mut inner.sink {
            Sink::Stderr { colors } => {
                let mut line = format_line(
                    self.pid,
                    &inner.settings,
                    *colors,
                    record.level(),
                    record.args(),
                );
                line.push('\n');
                let _ = io::stderr().write_all(line.as_bytes());
            }
            Sink::File(f) => {
                let mut line = format_line(
                    self.pid,
                    &inner.settings,
                    false,
                    record.level(),
                    record.args(),
                );
                line.push('\n');
                if let Err(e) = f.write_line(line.as_bytes()) {
                    let _ = writeln!(
                        io::stderr(),
                        "[{}] [ERR] writing to log file {}: {e}",
                        self.pid,
                        f.path().display()
                    );
                }
            }
            Sink::Syslog(s) => {
                let severity = match record.level() {
                    Level::Error => Severity::Err,
                    Level::Warn => Severity::Warning,
                    Level::Info | Level::Trace => Severity::Notice,
                    Level::Debug => Severity::Debug,
                };
                let _ = s.write(severity, &record.args().to_string());
            }
        }
    }

    fn flush(&self) {
        if let Some(Inner {
            sink: Sink::File(f),
            ..
        }) = self.lock().as_mut()
        {
            let _ = f.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(timestamps: bool, utc: bool) -> LogSettings {
        LogSettings {
            file: None,
            size_limit: 0,
            max_files: 0,
            syslog: false,
            remote_syslog: None,
            timestamps,
            utc,
            debug: false,
            trace: false,
        }
    }

    #[test]
    fn line_shape_matches_the_reference() {
        let s = settings(true, true);
        let line = format_line(7, &s, false, Level::Info, &format_args!("Server is ready"));
        // [pid] YYYY/MM/DD HH:MM:SS.micros [INF] text
        let (pid, rest) = line.split_once("] ").unwrap();
        assert_eq!(pid, "[7");
        let bytes = rest.as_bytes();
        assert_eq!(bytes[4], b'/');
        assert_eq!(bytes[7], b'/');
        assert_eq!(bytes[13], b':');
        assert_eq!(bytes[19], b'.');
        assert_eq!(&rest[26..], " [INF] Server is ready");
        let line = format_line(
            7,
            &settings(false, false),
            false,
            Level::Debug,
            &format_args!("x"),
        );
        assert_eq!(line, "[7] [DBG] x");
        let line = format_line(
            7,
            &settings(false, false),
            true,
            Level::Info,
            &format_args!("x"),
        );
        assert_eq!(line, "[7] [\x1b[32mINF\x1b[0m] x");
    }

    #[test]
    fn command_line_wins_over_the_file() {
        let flags = crate::flags::parse(
            ["-r", "udp://127.0.0.1:1", "--log_size_limit", "5"]
                .iter()
                .map(Into::into)
                .collect(),
        )
        .unwrap();
        let file = FileOptions {
            log_size_limit: Some(100),
            log_max_num: Some(3),
            syslog: Some(true),
            remote_syslog: Some("udp://10.0.0.1:514".into()),
            ..FileOptions::default()
        };
        let s = LogSettings::new(&flags, Some(&file));
        assert_eq!(s.size_limit, 5);
        assert_eq!(s.max_files, 3);
        assert!(s.syslog);
        assert_eq!(s.remote_syslog.as_deref(), Some("udp://127.0.0.1:1"));
        let flags = crate::flags::parse(vec!["-s=false".into()]).unwrap();
        let s = LogSettings::new(&flags, Some(&file));
        assert!(!s.syslog);
        assert_eq!(s.size_limit, 100);
        assert_eq!(s.remote_syslog.as_deref(), Some("udp://10.0.0.1:514"));
    }

    #[test]
    fn setup_errors_are_worded_as_the_reference() {
        let mut s = settings(true, false);
        s.file = Some("/nonexistent-dir/n.log".into());
        let e = open_sink(&s).err().unwrap();
        assert_eq!(
            e.to_string(),
            "error opening file: open /nonexistent-dir/n.log: no such file or directory"
        );
        let line = e.go_log_line();
        assert_eq!(line.as_bytes()[4], b'/');
        assert!(line[19..].starts_with(" error opening file"), "{line}");
    }
}
