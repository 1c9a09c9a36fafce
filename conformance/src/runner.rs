//! Executing a transcript against one server and recording what it answered.

use std::collections::HashMap;
use std::thread;
use std::time::Duration;

use crate::error::HarnessError;
use crate::escape::escape;
use crate::normalize::{frame_differences, normalize_frame};
use crate::raw::{Collected, RawClient};
use crate::transcript::{Step, Transcript};

/// Bound for `sync` and `closed` steps.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(2);

/// What one recording step observed, rendered for comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Transcript line of the step.
    pub line: usize,
    /// Connection the record belongs to.
    pub conn: String,
    /// What was received.
    pub collected: Collected,
    /// Normalized frames plus ` <closed>` / ` <timeout>` flags.
    pub rendered: String,
}

/// Everything a server answered to a transcript.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Records in transcript order.
    pub records: Vec<Record>,
    /// `expect` steps that did not match, one message each.
    pub failed_expectations: Vec<String>,
}

impl Outcome {
    /// Whether any record waited in vain for its marker.
    pub fn has_timeout(&self) -> bool {
        self.records.iter().any(|r| r.collected.timed_out)
    }

    /// All records, one per line, for failure reports.
    pub fn render(&self) -> String {
        self.records
            .iter()
            .map(|r| format!("  line {:>3} {}: {}", r.line, r.conn, r.rendered))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Renders a collection step: frames, then the ` <closed>` / ` <timeout>`
/// flags; a step that received nothing and saw no close renders as
/// `<nothing>`.
pub fn render(collected: &Collected) -> String {
    let mut text: String = collected
        .frames
        .iter()
        .map(|f| normalize_frame(f))
        .collect();
    text.push_str(&escape(&collected.partial));
    let flags = [
        (collected.closed, "<closed>"),
        (collected.timed_out, "<timeout>"),
    ];
    for (set, flag) in flags {
        if set {
            if !text.is_empty() {
                text.push(' ');
            }
            text.push_str(flag);
        }
    }
    if text.is_empty() {
        text.push_str("<nothing>");
    }
    text
}

/// Runs `transcript` against the server at `addr` (`host:port`).
pub fn run(transcript: &Transcript, addr: &str) -> Result<Outcome, HarnessError> {
    let mut clients: HashMap<String, RawClient> = HashMap::new();
    let mut last: HashMap<String, String> = HashMap::new();
    let mut outcome = Outcome::default();
    for (line, step) in &transcript.steps {
        let line = *line;
        let recorded = match step {
            Step::Connect(conn) => {
                let client = RawClient::connect(addr)?;
                let collected = Collected {
                    frames: vec![client.info_frame().to_vec()],
                    ..Collected::default()
                };
                clients.insert(conn.clone(), client);
                Some((conn, collected))
            }
            Step::Send(conn, bytes) => {
                client(&mut clients, conn)?.send(bytes)?;
                None
            }
            Step::Sleep(pause) => {
                thread::sleep(*pause);
                None
            }
            Step::Sync(conn, pongs) => {
                let collected = client(&mut clients, conn)?.sync(*pongs, STEP_TIMEOUT)?;
                Some((conn, collected))
            }
            Step::Closed(conn) => {
                let collected = client(&mut clients, conn)?.collect_until_closed(STEP_TIMEOUT)?;
                Some((conn, collected))
            }
            Step::Quiet(conn, window) => {
                let collected = client(&mut clients, conn)?.collect_for(*window)?;
                Some((conn, collected))
            }
            Step::Expect(conn, expected) => {
                let actual = last
                    .get(conn)
                    .map(String::as_str)
                    .unwrap_or("<nothing recorded>");
                if actual != expected {
                    outcome.failed_expectations.push(format!(
                        "line {line} {conn}: expected {expected}\n{:>17} got {actual}",
                        ""
                    ));
                }
                None
            }
        };
        if let Some((conn, collected)) = recorded {
            let rendered = render(&collected);
            last.insert(conn.clone(), rendered.clone());
            outcome.records.push(Record {
                line,
                conn: conn.clone(),
                collected,
                rendered,
            });
        }
    }
    Ok(outcome)
}

fn client<'a>(
    clients: &'a mut HashMap<String, RawClient>,
    conn: &str,
) -> Result<&'a mut RawClient, HarnessError> {
    clients
        .get_mut(conn)
        .ok_or_else(|| HarnessError::UnknownConnection(conn.to_string()))
}

/// Differences between the reference's and our records, one message each.
pub fn compare(reference: &Outcome, ours: &Outcome) -> Vec<String> {
    let mut differences = Vec::new();
    for (index, expected) in reference.records.iter().enumerate() {
        match ours.records.get(index) {
            Some(actual) => {
                let details = record_differences(&expected.collected, &actual.collected);
                if !details.is_empty() {
                    differences.push(format!(
                        "line {} {}: {}\n    reference: {}\n    ours:      {}",
                        expected.line,
                        expected.conn,
                        details.join("; "),
                        expected.rendered,
                        actual.rendered
                    ));
                }
            }
            None => differences.push(format!(
                "line {} {}: ours recorded nothing (reference: {})",
                expected.line, expected.conn, expected.rendered
            )),
        }
    }
    differences
}

/// Differences between two recordings of the same step.
fn record_differences(expected: &Collected, actual: &Collected) -> Vec<String> {
    let mut details = Vec::new();
    if expected.frames.len() != actual.frames.len() {
        details.push(format!(
            "{} frames, reference {}",
            actual.frames.len(),
            expected.frames.len()
        ));
    } else {
        for (reference, ours) in expected.frames.iter().zip(&actual.frames) {
            details.extend(frame_differences(reference, ours));
        }
    }
    if expected.partial != actual.partial {
        details.push(format!(
            "incomplete bytes {:?}, reference {:?}",
            escape(&actual.partial),
            escape(&expected.partial)
        ));
    }
    if expected.closed != actual.closed {
        details.push(format!(
            "closed: {}, reference {}",
            actual.closed, expected.closed
        ));
    }
    if expected.timed_out != actual.timed_out {
        details.push(format!(
            "timed out: {}, reference {}",
            actual.timed_out, expected.timed_out
        ));
    }
    details
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collected(frames: &[&[u8]], closed: bool) -> Collected {
        Collected {
            frames: frames.iter().map(|f| f.to_vec()).collect(),
            closed,
            ..Collected::default()
        }
    }

    fn outcome(records: Vec<Collected>) -> Outcome {
        Outcome {
            records: records
                .into_iter()
                .enumerate()
                .map(|(line, collected)| Record {
                    line,
                    conn: "A".into(),
                    rendered: render(&collected),
                    collected,
                })
                .collect(),
            failed_expectations: Vec::new(),
        }
    }

    #[test]
    fn equal_records_have_no_differences() {
        let a = outcome(vec![collected(
            &[b"INFO {\"port\":1} \r\n", b"+OK\r\n"],
            false,
        )]);
        let b = outcome(vec![collected(
            &[b"INFO {\"port\":9} \r\n", b"+OK\r\n"],
            false,
        )]);
        assert!(compare(&a, &b).is_empty());
    }

    #[test]
    fn reports_frames_and_close_differences() {
        let reference = outcome(vec![collected(&[b"-ERR 'x'\r\n"], true)]);
        let ours = outcome(vec![collected(&[b"-ERR 'y'\r\n"], false)]);
        let differences = compare(&reference, &ours);
        assert_eq!(differences.len(), 1);
        assert!(differences[0].contains("closed: false, reference true"));
        assert!(differences[0].contains("-ERR 'y'"));
        let missing = outcome(vec![collected(&[], true)]);
        assert!(compare(&reference, &missing)[0].contains("0 frames, reference 1"));
    }
}
