//! Executing a transcript against one server and recording what it answered.

use std::collections::HashMap;
use std::thread;
use std::time::Duration;

use crate::error::HarnessError;
use crate::escape::escape;
use crate::normalize::normalize_frame;
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
        self.records
            .iter()
            .any(|r| r.rendered.ends_with("<timeout>"))
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

/// Renders a collection step: frames, then the closed/timeout flags.
pub fn render(collected: &Collected) -> String {
    let mut text: String = collected
        .frames
        .iter()
        .map(|f| normalize_frame(f))
        .collect();
    text.push_str(&escape(&collected.partial));
    if collected.closed {
        text.push_str(" <closed>");
    }
    if collected.timed_out {
        text.push_str(" <timeout>");
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
                let rendered = normalize_frame(client.info_frame());
                clients.insert(conn.clone(), client);
                Some((conn, rendered))
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
                Some((conn, render(&collected)))
            }
            Step::Closed(conn) => {
                let collected = client(&mut clients, conn)?.collect_until_closed(STEP_TIMEOUT)?;
                Some((conn, render(&collected)))
            }
            Step::Quiet(conn, window) => {
                let collected = client(&mut clients, conn)?.collect_for(*window)?;
                Some((conn, render(&collected)))
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
        if let Some((conn, rendered)) = recorded {
            last.insert(conn.clone(), rendered.clone());
            outcome.records.push(Record {
                line,
                conn: conn.clone(),
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
            Some(actual) if actual.rendered == expected.rendered => {}
            Some(actual) => differences.push(format!(
                "line {} {}:\n    reference: {}\n    ours:      {}",
                expected.line, expected.conn, expected.rendered, actual.rendered
            )),
            None => differences.push(format!(
                "line {} {}: ours recorded nothing (reference: {})",
                expected.line, expected.conn, expected.rendered
            )),
        }
    }
    differences
}
