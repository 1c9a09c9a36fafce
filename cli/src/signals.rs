//! `-sl/--signal <command>[=<pid>|<pid file>]`: signal a running server, as the reference
//! does.
//!
//! Commands: `stop` (SIGKILL), `quit` (SIGINT), `term` (SIGTERM), `reopen` (SIGUSR1),
//! `reload` (SIGHUP), `ldm` (SIGUSR2). Without a pid the single running `nats-server` process
//! is found with `pgrep`; a pid ending in `*` signals every server whose pid starts with it.

/// The process name `pgrep` looks for.
const PROCESS_NAME: &str = "nats-server";

/// What a `--signal` command sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// `stop`: kill the process (SIGKILL).
    Stop,
    /// `quit`: stop gracefully (SIGINT).
    Quit,
    /// `term`: stop gracefully unless in lame duck mode (SIGTERM).
    Term,
    /// `reopen`: reopen the log file (SIGUSR1).
    Reopen,
    /// `reload`: reload the configuration file (SIGHUP).
    Reload,
    /// `ldm`: enter lame duck mode (SIGUSR2).
    LameDuck,
}

impl Command {
    /// The command named `name`, or the reference's complaint.
    pub fn parse(name: &str) -> Result<Command, String> {
        Ok(match name {
            "stop" => Command::Stop,
            "quit" => Command::Quit,
            "term" => Command::Term,
            "reopen" => Command::Reopen,
            "reload" => Command::Reload,
            "ldm" => Command::LameDuck,
            other => return Err(format!("unknown signal {other:?}")),
        })
    }

    #[cfg(unix)]
    fn signal(self) -> libc::c_int {
        match self {
            Command::Stop => libc::SIGKILL,
            Command::Quit => libc::SIGINT,
            Command::Term => libc::SIGTERM,
            Command::Reopen => libc::SIGUSR1,
            Command::Reload => libc::SIGHUP,
            Command::LameDuck => libc::SIGUSR2,
        }
    }
}

/// The argument of `--signal`, split and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Request {
    command: String,
    /// The pid as given (or read from the pid file), without a trailing `*`.
    pid: String,
    glob: bool,
}

/// A pid file's contents, or `value` itself when it names no readable file.
fn maybe_read_pid_file(value: &str) -> String {
    std::fs::read_to_string(value).unwrap_or_else(|_| value.to_string())
}

fn parse_request(arg: &str) -> Result<Request, String> {
    let parts: Vec<&str> = arg.split('=').collect();
    let pid_expr = match parts.len() {
        1 => String::new(),
        2 => maybe_read_pid_file(parts[1]),
        _ => {
            return Err(format!(
                "invalid signal parameters: [{}]",
                parts[2..].join(" ")
            ))
        }
    };
    let glob = pid_expr.ends_with('*');
    let pid = pid_expr.strip_suffix('*').unwrap_or(&pid_expr).to_string();
    if !pid.is_empty() && pid.parse::<i32>().is_err() {
        return Err(format!("invalid pid: {pid}"));
    }
    Ok(Request {
        command: parts[0].to_string(),
        pid,
        glob,
    })
}

/// Pids of the running `nats-server` processes other than this one (`pgrep`).
fn running_servers() -> Result<Vec<i32>, String> {
    let unresolved = || "unable to resolve pid, try providing one".to_string();
    let out = std::process::Command::new("pgrep")
        .arg(PROCESS_NAME)
        .output()
        .map_err(|_| unresolved())?;
    // A non-zero status with no output means no process matched.
    let me = i32::try_from(std::process::id()).unwrap_or(-1);
    let mut pids = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if line.is_empty() {
            continue;
        }
        let pid: i32 = line.trim().parse().map_err(|_| unresolved())?;
        if pid != me {
            pids.push(pid);
        }
    }
    Ok(pids)
}

/// Which of `pids` the request addresses.
fn targets(req: &Request, pids: &[i32]) -> Vec<i32> {
    pids.iter()
        .copied()
        .filter(|p| {
            let s = p.to_string();
            req.pid.is_empty() || s == req.pid || (req.glob && s.starts_with(&req.pid))
        })
        .collect()
}

/// Sends the command of `arg` (`reload`, `stop=1234`, `reopen=/var/run/nats.pid`, ...).
/// `Err` holds the message the reference prints after `nats-server: ` (exit status 1).
pub fn send(arg: &str) -> Result<(), String> {
    let req = parse_request(arg)?;
    let mut pids = if req.pid.is_empty() {
        Vec::new()
    } else {
        vec![req
            .pid
            .parse::<i32>()
            .map_err(|_| format!("invalid pid: {}", req.pid))?]
    };
    if req.pid.is_empty() || req.glob {
        pids = running_servers()?;
    }
    if pids.len() > 1 && !req.glob {
        let mut msg = format!("multiple {PROCESS_NAME} processes running:");
        for p in &pids {
            msg.push_str(&format!("\n{p}"));
        }
        return Err(msg);
    }
    if pids.is_empty() {
        return Err(format!("no {PROCESS_NAME} processes running"));
    }
    let command = Command::parse(&req.command)?;
    let mut errors = String::new();
    for pid in targets(&req, &pids) {
        if let Err(e) = kill(pid, command) {
            errors.push_str(&format!("\nsignal {:?} {pid}: {e}", req.command));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Sends `command`'s signal to `pid`; the error as Go words it (`no such process`).
#[cfg(unix)]
fn kill(pid: i32, command: Command) -> Result<(), String> {
    // SAFETY: kill(2) takes plain integers and touches no memory of this process.
    let rc = unsafe { libc::kill(pid, command.signal()) };
    if rc == 0 {
        return Ok(());
    }
    let e = std::io::Error::last_os_error();
    let text = e.to_string();
    let desc = text.split(" (os error").next().unwrap_or(&text);
    let mut chars = desc.chars();
    Err(match chars.next() {
        Some(c) => c.to_lowercase().collect::<String>() + chars.as_str(),
        None => String::new(),
    })
}

/// Windows has no signals: the reference controls its Windows service instead, which this
/// server does not do.
#[cfg(not(unix))]
fn kill(_pid: i32, _command: Command) -> Result<(), String> {
    Err("signalling a server is not supported on this platform".to_string())
}

/// The name Go gives a signal in `Trapped "<name>" signal`.
#[cfg(unix)]
pub fn name(signal: libc::c_int) -> &'static str {
    match signal {
        libc::SIGINT => "interrupt",
        libc::SIGTERM => "terminated",
        libc::SIGHUP => "hangup",
        libc::SIGUSR1 => "user defined signal 1",
        libc::SIGUSR2 => "user defined signal 2",
        libc::SIGQUIT => "quit",
        _ => "signal",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_as_the_reference_reads_them() {
        assert_eq!(
            parse_request("reload").unwrap(),
            Request {
                command: "reload".into(),
                pid: String::new(),
                glob: false
            }
        );
        let r = parse_request("stop=12*").unwrap();
        assert_eq!((r.pid.as_str(), r.glob), ("12", true));
        assert_eq!(
            parse_request("reload=1=2").unwrap_err(),
            "invalid signal parameters: [2]"
        );
        assert_eq!(parse_request("reload=abc").unwrap_err(), "invalid pid: abc");
        assert_eq!(
            Command::parse("bogus").unwrap_err(),
            "unknown signal \"bogus\""
        );
        let dir = std::env::temp_dir().join(format!("nats-signals-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pid_file = dir.join("s.pid");
        std::fs::write(&pid_file, "4242").unwrap();
        let r = parse_request(&format!("reopen={}", pid_file.display())).unwrap();
        assert_eq!(r.pid, "4242");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn glob_and_exact_targets() {
        let req = |pid: &str, glob| Request {
            command: "reload".into(),
            pid: pid.into(),
            glob,
        };
        assert_eq!(targets(&req("12", true), &[120, 13, 1299]), vec![120, 1299]);
        assert_eq!(targets(&req("13", false), &[13]), vec![13]);
        assert_eq!(targets(&req("", false), &[7]), vec![7]);
    }

    #[cfg(unix)]
    #[test]
    fn signalling_a_missing_process_says_so() {
        // Pids are below 2^22 on Linux: this one does not exist.
        let e = send("reload=2147483000").unwrap_err();
        assert_eq!(e, "\nsignal \"reload\" 2147483000: no such process");
    }
}
