//! The `runtime-std` build of the binary carries no async runtime: checked on the resolved
//! dependency tree (fast: no compilation).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// Crates that only an async runtime brings in.
const ASYNC_CRATES: &[&str] = &[
    "smol",
    "async-io",
    "async-executor",
    "async-task",
    "async-channel",
    "polling",
    "futures-lite",
];

/// Names of the crates in the normal dependency tree of `cli` built with `args`.
fn dependency_names(args: &[&str]) -> BTreeSet<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let output = Command::new(cargo)
        .current_dir(workspace)
        .args(["tree", "-p", "cli", "-e", "normal", "--prefix", "none"])
        .args(["--format", "{p}"])
        .args(args)
        .output()
        .expect("cargo tree runs");
    assert!(
        output.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

fn async_crates_in(names: &BTreeSet<String>) -> Vec<&'static str> {
    ASYNC_CRATES
        .iter()
        .copied()
        .filter(|c| names.contains(*c))
        .collect()
}

#[test]
fn std_build_has_no_async_runtime() {
    let names = dependency_names(&["--no-default-features", "--features", "runtime-std"]);
    assert!(names.contains("runtime-std"), "{names:?}");
    assert!(!names.contains("runtime-smol"), "{names:?}");
    assert_eq!(async_crates_in(&names), Vec::<&str>::new());
}

#[test]
fn default_build_uses_smol() {
    let names = dependency_names(&[]);
    assert!(names.contains("runtime-smol"), "{names:?}");
    assert!(names.contains("smol"), "{names:?}");
    assert!(!names.contains("runtime-std"), "{names:?}");
}

#[test]
fn windows_build_handles_ctrl_c() {
    let names = dependency_names(&["--target", "x86_64-pc-windows-gnu"]);
    assert!(names.contains("ctrlc"), "{names:?}");
    assert!(!names.contains("signal-hook"), "{names:?}");
}
