//! The log file (`-l`), rotated by size as the reference rotates it.
//!
//! Past the size limit the file is renamed to `<name>.YYYY.MM.DD.hh.mm.ss.nnnnnnnnn` (local
//! time, nanoseconds), a new file is opened under the original name and its first line says
//! where the backup went. With a maximum number of files, the oldest backups beyond it are
//! removed. The lines this module writes itself end in `\r\n`, as the reference's do.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// An open log file with its rotation settings.
#[derive(Debug)]
pub struct LogFile {
    path: PathBuf,
    file: File,
    /// Bytes in the current file.
    written: u64,
    /// Rotate once the file grows past this (0: never).
    limit: u64,
    /// Files kept, the current one included (0: all).
    max_files: usize,
    /// `[pid] ` before every line this module writes itself.
    pid_prefix: String,
    /// Whether lines this module writes itself carry a timestamp.
    timestamps: bool,
}

/// Opens `path` for appending, as the reference does (created with mode 0640 on Unix).
fn open_append(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o640);
    }
    options.open(path)
}

/// `open <path>: no such file or directory`: an I/O error worded as Go words it.
pub fn go_error(op: &str, path: &Path, e: &io::Error) -> String {
    let text = e.to_string();
    let desc = text.split(" (os error").next().unwrap_or(&text);
    let mut chars = desc.chars();
    let desc = match chars.next() {
        Some(first) => first.to_lowercase().collect::<String>() + chars.as_str(),
        None => String::new(),
    };
    format!("{op} {}: {desc}", path.display())
}

impl LogFile {
    /// Opens (or creates) `path` for appending. `limit` 0 never rotates; `max_files` 0 keeps
    /// every backup.
    pub fn open(
        path: &Path,
        limit: u64,
        max_files: usize,
        timestamps: bool,
    ) -> Result<LogFile, String> {
        let file = open_append(path).map_err(|e| go_error("open", path, &e))?;
        let written = file.metadata().map(|m| m.len()).unwrap_or(0);
        Ok(LogFile {
            path: path.to_path_buf(),
            file,
            written,
            limit,
            max_files,
            pid_prefix: format!("[{}] ", std::process::id()),
            timestamps,
        })
    }

    /// Whether the file is already over its limit (the reference then logs
    /// `Rotating logfile...`, whose write rotates it).
    pub fn over_limit(&self) -> bool {
        self.limit > 0 && self.written > self.limit
    }

    /// The file's path as given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one complete line, then rotates when the file went past the limit.
    pub fn write_line(&mut self, line: &[u8]) -> io::Result<()> {
        self.file.write_all(line)?;
        self.written += line.len() as u64;
        if self.over_limit() {
            self.rotate()?;
        }
        Ok(())
    }

    /// Flushes the file.
    pub fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }

    /// Renames the file to its timestamped backup name, opens a new one, notes the backup in
    /// it and removes backups beyond the maximum.
    fn rotate(&mut self) -> io::Result<()> {
        let now = chrono::Local::now();
        let mut backup = self.path.clone().into_os_string();
        backup.push(now.format(".%Y.%m.%d.%H.%M.%S.%9f").to_string());
        let backup = PathBuf::from(backup);
        std::fs::rename(&self.path, &backup)?;
        // The old handle is replaced (closed) only once the new file is open.
        self.file = open_append(&self.path)?;
        self.written = 0;
        let note = format!(
            "Rotated log, backup saved as {:?}",
            backup.to_string_lossy()
        );
        self.direct("[INF] ", &note);
        if self.max_files > 0 {
            self.purge();
        }
        Ok(())
    }

    /// Writes a line of this module's own, bypassing rotation (as the reference's
    /// `logDirect`: local time, `\r\n`).
    fn direct(&mut self, label: &str, message: &str) {
        let mut line = self.pid_prefix.clone();
        if self.timestamps {
            line.push_str(
                &chrono::Local::now()
                    .format("%Y/%m/%d %H:%M:%S%.6f ")
                    .to_string(),
            );
        }
        line.push_str(label);
        line.push_str(message);
        line.push_str("\r\n");
        if self.file.write_all(line.as_bytes()).is_ok() {
            self.written += line.len() as u64;
        }
    }

    /// Removes the oldest backups so that at most `max_files - 1` remain.
    fn purge(&mut self) {
        let dir = match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let base = self
            .path
            .file_name()
            .map(|b| b.to_string_lossy().into_owned())
            .unwrap_or_default();
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) => {
                let msg = format!(
                    "Unable to read directory {:?} for log purge ({e}), will attempt next rotation",
                    dir.to_string_lossy()
                );
                self.direct("[ERR] ", &msg);
                return;
            }
        };
        let mut backups: Vec<String> = entries
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_ok_and(|t| !t.is_dir()))
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|name| is_backup_of(&base, name))
            .collect();
        // Timestamped names sort oldest first.
        backups.sort();
        let keep = self.max_files.saturating_sub(1);
        let excess = backups.len().saturating_sub(keep);
        for name in backups.into_iter().take(excess) {
            if let Err(e) = std::fs::remove_file(dir.join(&name)) {
                let msg = format!(
                    "Unable to remove backup log file {name:?} ({e}), will attempt next rotation"
                );
                self.direct("[ERR] ", &msg);
                return;
            }
            self.direct("[INF] ", &format!("Purged log file {name:?}"));
        }
    }
}

/// Whether `name` is `<base>.YYYY.MM.DD.hh.mm.ss[.fraction]`, a backup of log file `base`.
pub fn is_backup_of(base: &str, name: &str) -> bool {
    let Some(stamp) = name
        .strip_prefix(base)
        .and_then(|rest| rest.strip_prefix('.'))
    else {
        return false;
    };
    let parts: Vec<&str> = stamp.split('.').collect();
    let widths = [4, 2, 2, 2, 2, 2];
    if parts.len() < 6 || parts.len() > 7 {
        return false;
    }
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    let fixed_ok = parts
        .iter()
        .zip(widths)
        .all(|(p, w)| p.len() == w && digits(p));
    let fraction_ok = parts.get(6).into_iter().all(|f| f.len() <= 9 && digits(f));
    fixed_ok && fraction_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("nats-logfile-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn backup_names() {
        assert!(is_backup_of("n.log", "n.log.2024.01.02.03.04.05.123456789"));
        assert!(is_backup_of("n.log", "n.log.2024.01.02.03.04.05"));
        assert!(!is_backup_of("n.log", "n.log"));
        assert!(!is_backup_of("n.log", "n.log.1"));
        assert!(!is_backup_of("n.log", "n.log.2024.01.02.03.04.xx.1"));
        assert!(!is_backup_of("n.log", "m.log.2024.01.02.03.04.05.1"));
    }

    #[test]
    fn rotates_past_the_limit_and_keeps_max_files() {
        let dir = temp_dir("rotate");
        let path = dir.join("n.log");
        let mut f = LogFile::open(&path, 100, 3, false).unwrap();
        let line = [b'x'; 59];
        let mut line = line.to_vec();
        line.push(b'\n');
        // 60 bytes: the second line crosses the limit and rotates after being written.
        for _ in 0..10 {
            f.write_line(&line).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names.len(), 3, "{names:?}");
        assert_eq!(names[0], "n.log");
        for b in &names[1..] {
            assert!(is_backup_of("n.log", b), "{b}");
            let body = std::fs::read_to_string(dir.join(b)).unwrap();
            assert!(
                body.len() > 100,
                "a backup holds the line that crossed the limit"
            );
        }
        let current = std::fs::read_to_string(&path).unwrap();
        assert!(
            current.contains("[INF] Rotated log, backup saved as \""),
            "{current}"
        );
        assert!(
            current.contains("[INF] Purged log file \"n.log."),
            "{current}"
        );
        assert!(current.contains("\r\n"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn open_errors_are_worded_as_go() {
        let e = LogFile::open(Path::new("/nonexistent-dir/x.log"), 0, 0, true).unwrap_err();
        assert_eq!(e, "open /nonexistent-dir/x.log: no such file or directory");
    }
}
