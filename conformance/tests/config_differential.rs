//! Differential test of configuration files: `nats-server -t -c FILE` on our server and on
//! the reference, for every file in `conformance/configs/`. Both must accept or reject each
//! file alike and print the same lines (as sets: the reference reports several errors in a
//! random order), except for the files listed in [`REFUSED`].

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Files the reference accepts and we deliberately refuse: they configure security or
/// storage this server does not implement yet, and ignoring them would silently open the
/// server or lose data.
const REFUSED: &[&str] = &[
    "refuse-jetstream-enabled.conf",
    "refuse-jetstream.conf",
    "refuse-mappings.conf",
];

/// Environment the corpus refers to (`$NATS_CONF_TEST_PORT`, ...).
const ENV: &[(&str, &str)] = &[
    ("NATS_CONF_TEST_PORT", "4333"),
    ("NATS_CONF_TEST_SIZE", "1KB"),
];

fn configs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("configs")
}

/// Exit success and the stderr lines (blank lines dropped) of `-t -c name` run in `dir`.
fn check(binary: &Path, dir: &Path, name: &str) -> (bool, BTreeSet<String>) {
    let out = Command::new(binary)
        .args(["-t", "-c", name])
        .current_dir(dir)
        .envs(ENV.iter().copied())
        .env_remove("NATS_CONF_TEST_UNSET_VAR")
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", binary.display()));
    let lines = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.strip_prefix("nats-server: ").unwrap_or(l).to_string())
        .collect();
    (out.status.success(), lines)
}

#[test]
fn config_files_are_judged_like_the_reference() {
    let ours = conformance::our_binary();
    let reference = conformance::reference_binary();
    let dir = configs_dir();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("conformance/configs")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".conf"))
        .collect();
    names.sort();
    assert!(names.len() >= 60, "corpus too small: {}", names.len());
    let mut failures = Vec::new();
    let (mut agree, mut accepted, mut rejected) = (0, 0, 0);
    for name in &names {
        let (ref_ok, ref_lines) = check(&reference, &dir, name);
        let (our_ok, our_lines) = check(&ours, &dir, name);
        if REFUSED.contains(&name.as_str()) {
            if !ref_ok || our_ok {
                failures.push(format!(
                    "{name}: listed as refused by us only, but reference ok={ref_ok}, ours ok={our_ok}"
                ));
            } else if !our_lines.iter().any(|l| l.contains("not supported")) {
                failures.push(format!("{name}: refusal does not say why: {our_lines:?}"));
            }
            continue;
        }
        if ref_ok != our_ok {
            failures.push(format!(
                "{name}: reference ok={ref_ok} {ref_lines:?}, ours ok={our_ok} {our_lines:?}"
            ));
        } else if ref_lines != our_lines {
            failures.push(format!(
                "{name}: same verdict ({ref_ok}) but different output:\n  reference {ref_lines:?}\n  ours      {our_lines:?}"
            ));
        } else {
            agree += 1;
            if ref_ok {
                accepted += 1;
            } else {
                rejected += 1;
            }
        }
    }
    eprintln!(
        "config differential: {agree} of {} files agree exactly ({accepted} valid, {rejected} invalid), {} refused on purpose",
        names.len(),
        REFUSED.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn missing_file_and_missing_flag_like_the_reference() {
    let ours = conformance::our_binary();
    let reference = conformance::reference_binary();
    let dir = configs_dir();
    assert_eq!(
        check(&ours, &dir, "no-such-file.conf"),
        check(&reference, &dir, "no-such-file.conf")
    );
    let run = |b: &Path| {
        let out = Command::new(b).arg("-t").output().expect("run");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert_eq!(run(&ours), run(&reference));
}
