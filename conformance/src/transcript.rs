//! The transcript format: a scripted conversation with a server.
//!
//! One directive per line; blank lines and lines starting with `#` are
//! ignored. Connection names are single words chosen by the author.
//!
//! ```text
//! args <words>       extra server command-line arguments (before any other
//!                    directive; e.g. `args --user a --pass b`)
//! connect A          open connection A and record its INFO
//! send A <bytes>     send escaped bytes (see `escape`) on A
//! sleep <ms>         pause, e.g. between chunks of one operation
//! sync A [N]         send PING on A, record A's frames until the N-th PONG
//!                    (default 1; that last PONG is the marker, not recorded)
//! closed A           record A's frames until the server closes A
//! quiet A <ms>       record whatever A receives during <ms>
//! expect A <bytes>   the last record of A must render exactly as given
//! ```
//!
//! A record renders as the normalized frames concatenated, followed by
//! ` <closed>` when the server closed the connection and ` <timeout>` when
//! the awaited marker never came; an empty record renders as `<nothing>`.

use std::time::Duration;

use crate::error::HarnessError;
use crate::escape::unescape;

/// One directive of a transcript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Open a named connection and record its `INFO`.
    Connect(String),
    /// Send bytes on a connection.
    Send(String, Vec<u8>),
    /// Pause.
    Sleep(Duration),
    /// Send `PING` and record frames until the given number of `PONG`s.
    Sync(String, usize),
    /// Record frames until the server closes the connection.
    Closed(String),
    /// Record whatever arrives during a window.
    Quiet(String, Duration),
    /// Check the rendering of the connection's last record.
    Expect(String, String),
}

/// A parsed transcript: its steps with their 1-based line numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transcript {
    /// Name (the file stem).
    pub name: String,
    /// Extra command-line arguments for the servers (`args` directive).
    pub server_args: Vec<String>,
    /// Steps with the line they came from.
    pub steps: Vec<(usize, Step)>,
}

impl Transcript {
    /// Parses transcript text.
    pub fn parse(name: &str, text: &str) -> Result<Transcript, HarnessError> {
        let mut steps = Vec::new();
        let mut server_args = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let number = index + 1;
            let line = line.trim_start();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(args) = line.strip_prefix("args ") {
                if !steps.is_empty() || !server_args.is_empty() {
                    return Err(HarnessError::Transcript {
                        line: number,
                        message: "`args` must be the first directive, and only once".into(),
                    });
                }
                server_args = args.split_whitespace().map(str::to_string).collect();
                continue;
            }
            let step = parse_step(line).map_err(|message| HarnessError::Transcript {
                line: number,
                message,
            })?;
            steps.push((number, step));
        }
        if steps.is_empty() {
            return Err(HarnessError::Transcript {
                line: 0,
                message: "transcript has no steps".into(),
            });
        }
        Ok(Transcript {
            name: name.to_string(),
            server_args,
            steps,
        })
    }
}

fn parse_step(line: &str) -> Result<Step, String> {
    let (directive, rest) = split_word(line);
    match directive {
        "connect" => Ok(Step::Connect(one_word(rest)?)),
        "send" => {
            let (conn, data) = split_word(rest);
            let bytes = unescape(data).map_err(|e| e.to_string())?;
            Ok(Step::Send(name(conn)?, bytes))
        }
        "sleep" => Ok(Step::Sleep(millis(rest)?)),
        "sync" => {
            let (conn, count) = split_word(rest);
            let count = if count.trim().is_empty() {
                1
            } else {
                count
                    .trim()
                    .parse()
                    .map_err(|_| format!("bad PONG count {count:?}"))?
            };
            if count == 0 {
                return Err("PONG count must be at least 1".into());
            }
            Ok(Step::Sync(name(conn)?, count))
        }
        "closed" => Ok(Step::Closed(one_word(rest)?)),
        "quiet" => {
            let (conn, ms) = split_word(rest);
            Ok(Step::Quiet(name(conn)?, millis(ms)?))
        }
        "expect" => {
            let (conn, text) = split_word(rest);
            Ok(Step::Expect(name(conn)?, text.to_string()))
        }
        other => Err(format!("unknown directive {other:?}")),
    }
}

/// Splits off the first space-delimited word; the rest keeps its bytes
/// except the single separating space.
fn split_word(text: &str) -> (&str, &str) {
    match text.split_once(' ') {
        Some((word, rest)) => (word, rest),
        None => (text, ""),
    }
}

fn name(word: &str) -> Result<String, String> {
    if word.is_empty() {
        Err("missing connection name".into())
    } else {
        Ok(word.to_string())
    }
}

fn one_word(rest: &str) -> Result<String, String> {
    let rest = rest.trim();
    if rest.contains(' ') {
        return Err(format!("expected one connection name, got {rest:?}"));
    }
    name(rest)
}

fn millis(text: &str) -> Result<Duration, String> {
    let ms: u64 = text
        .trim()
        .parse()
        .map_err(|_| format!("bad milliseconds {text:?}"))?;
    if ms > 5_000 {
        return Err(format!("{ms} ms is too long for a transcript step"));
    }
    Ok(Duration::from_millis(ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_directive() {
        let text = "# comment\n\nconnect A\nsend A PUB a 1\\r\\nx\\r\\n\nsleep 10\n\
                    sync A\nsync A 2\nclosed A\nquiet A 50\nexpect A +OK\\r\\n <closed>\n";
        let transcript = Transcript::parse("t", text).unwrap();
        let steps: Vec<Step> = transcript.steps.into_iter().map(|(_, s)| s).collect();
        assert_eq!(
            steps,
            vec![
                Step::Connect("A".into()),
                Step::Send("A".into(), b"PUB a 1\r\nx\r\n".to_vec()),
                Step::Sleep(Duration::from_millis(10)),
                Step::Sync("A".into(), 1),
                Step::Sync("A".into(), 2),
                Step::Closed("A".into()),
                Step::Quiet("A".into(), Duration::from_millis(50)),
                Step::Expect("A".into(), "+OK\\r\\n <closed>".into()),
            ]
        );
    }

    #[test]
    fn reads_server_args_first_only() {
        let transcript = Transcript::parse("t", "args --user a --pass b\nconnect A\n").unwrap();
        assert_eq!(transcript.server_args, ["--user", "a", "--pass", "b"]);
        assert!(Transcript::parse("t", "connect A\nargs -D\n").is_err());
    }

    #[test]
    fn reports_the_failing_line() {
        let err = Transcript::parse("t", "connect A\nfly A\n").unwrap_err();
        assert!(
            matches!(err, HarnessError::Transcript { line: 2, .. }),
            "{err}"
        );
        assert!(Transcript::parse("t", "sync A 0\n").is_err());
        assert!(Transcript::parse("t", "# nothing\n").is_err());
    }
}
