//! Running a transcript against both the reference and our server.

use std::path::{Path, PathBuf};

use crate::ours::our_binary;
use crate::reference::reference_binary;
use crate::runner::{compare, run, Outcome};
use crate::server::ServerProcess;
use crate::transcript::Transcript;

/// Folder holding the `*.txt` transcripts of this crate.
pub fn transcripts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("transcripts")
}

/// Names (file stems) of every transcript in [`transcripts_dir`], sorted.
pub fn transcript_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(transcripts_dir())
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .filter(|path| path.extension().is_some_and(|ext| ext == "txt"))
                .filter_map(|path| path.file_stem().map(|s| s.to_string_lossy().into_owned()))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Loads and parses one transcript by name.
pub fn load(name: &str) -> Result<Transcript, String> {
    let path = transcripts_dir().join(format!("{name}.txt"));
    let text =
        std::fs::read_to_string(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    Transcript::parse(name, &text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Runs a transcript on a fresh server started from `binary`.
pub fn run_on(binary: &Path, transcript: &Transcript) -> Result<Outcome, String> {
    let args: Vec<&str> = transcript.server_args.iter().map(String::as_str).collect();
    let server = ServerProcess::start(binary, &args);
    run(transcript, &server.addr()).map_err(|e| format!("{}: {e}", binary.display()))
}

/// Runs the named transcript against the reference and our server.
///
/// Returns a readable report of every problem: a transcript the reference
/// itself does not satisfy (timeouts, failed `expect`s), and every record
/// where our server differs from the reference.
pub fn check(name: &str) -> Result<(), String> {
    let transcript = load(name)?;
    let reference = run_on(&reference_binary(), &transcript)?;
    let mut problems = Vec::new();
    if reference.has_timeout() || !reference.failed_expectations.is_empty() {
        problems.push(format!(
            "transcript {name} is wrong for the reference itself:\n{}\n{}",
            reference.failed_expectations.join("\n"),
            reference.render()
        ));
    }
    let ours = match run_on(&our_binary(), &transcript) {
        Ok(ours) => ours,
        Err(e) => return Err(format!("transcript {name}: our server failed: {e}")),
    };
    let differences = compare(&reference, &ours);
    if !differences.is_empty() || !ours.failed_expectations.is_empty() {
        problems.push(format!(
            "transcript {name}: our server differs from the reference:\n{}\n{}\n\
             full reference record:\n{}\nfull ours record:\n{}",
            differences.join("\n"),
            ours.failed_expectations.join("\n"),
            reference.render(),
            ours.render()
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n\n"))
    }
}
