//! Log lines in the reference's format: `[pid] 2006/01/02 15:04:05.000000 [INF] text`.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

use log::{Level, LevelFilter, Log, Metadata, Record};
use std::sync::Mutex;

/// Where log lines go and how they look.
pub struct Logger {
    pid: u32,
    timestamps: bool,
    utc: bool,
    level: LevelFilter,
    file: Option<Mutex<File>>,
}

impl Logger {
    /// A logger writing to `file` (or standard error), at the level the switches ask for.
    pub fn new(
        file: Option<&Path>,
        timestamps: bool,
        utc: bool,
        debug: bool,
        trace: bool,
    ) -> io::Result<Logger> {
        let file = match file {
            Some(p) => Some(Mutex::new(
                OpenOptions::new().create(true).append(true).open(p)?,
            )),
            None => None,
        };
        let level = if trace {
            LevelFilter::Trace
        } else if debug {
            LevelFilter::Debug
        } else {
            LevelFilter::Info
        };
        Ok(Logger {
            pid: std::process::id(),
            timestamps,
            utc,
            level,
            file,
        })
    }

    /// Installs this logger as the process logger.
    pub fn install(self) -> Result<(), log::SetLoggerError> {
        let level = self.level;
        log::set_boxed_logger(Box::new(self))?;
        log::set_max_level(level);
        Ok(())
    }

    /// Formats one line (without the newline).
    fn format(&self, level: Level, args: &std::fmt::Arguments<'_>) -> String {
        let tag = match level {
            Level::Error => "[ERR]",
            Level::Warn => "[WRN]",
            Level::Info => "[INF]",
            Level::Debug => "[DBG]",
            Level::Trace => "[TRC]",
        };
        if !self.timestamps {
            return format!("[{}] {tag} {args}", self.pid);
        }
        const FORMAT: &str = "%Y/%m/%d %H:%M:%S%.6f";
        let time = if self.utc {
            chrono::Utc::now().format(FORMAT).to_string()
        } else {
            chrono::Local::now().format(FORMAT).to_string()
        };
        format!("[{}] {time} {tag} {args}", self.pid)
    }

    /// Writes a fatal line (`[FTL]`), as the reference does before exiting.
    pub fn fatal(args: std::fmt::Arguments<'_>) {
        let pid = std::process::id();
        let time = chrono::Local::now().format("%Y/%m/%d %H:%M:%S%.6f");
        let _ = writeln!(io::stderr(), "[{pid}] {time} [FTL] {args}");
    }
}

impl Log for Logger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= self.level
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let mut line = self.format(record.level(), record.args());
        line.push('\n');
        match &self.file {
            Some(f) => {
                if let Ok(mut f) = f.lock() {
                    let _ = f.write_all(line.as_bytes());
                }
            }
            None => {
                let _ = io::stderr().write_all(line.as_bytes());
            }
        }
    }

    fn flush(&self) {
        if let Some(f) = &self.file {
            if let Ok(mut f) = f.lock() {
                let _ = f.flush();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_shape_matches_the_reference() {
        let l = Logger::new(None, true, true, false, false).unwrap();
        let line = l.format(Level::Info, &format_args!("Server is ready"));
        // [pid] YYYY/MM/DD HH:MM:SS.micros [INF] text
        let (pid, rest) = line.split_once("] ").unwrap();
        assert!(pid.starts_with('[') && pid[1..].parse::<u32>().is_ok());
        let bytes = rest.as_bytes();
        assert_eq!(bytes[4], b'/');
        assert_eq!(bytes[7], b'/');
        assert_eq!(bytes[13], b':');
        assert_eq!(bytes[19], b'.');
        assert_eq!(&rest[26..], " [INF] Server is ready");
        let l = Logger::new(None, false, false, true, false).unwrap();
        let line = l.format(Level::Debug, &format_args!("x"));
        assert!(line.ends_with("] [DBG] x"), "{line}");
    }
}
