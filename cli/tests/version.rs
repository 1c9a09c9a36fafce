//! The binary answers `-v` like the reference (`nats-server: vX.Y.Z`). Its presence also makes
//! `cargo test --workspace` build the binary before the conformance suites run.

use std::process::Command;

#[test]
fn version_flag_prints_reference_format() {
    let out = Command::new(env!("CARGO_BIN_EXE_nats-server"))
        .arg("-v")
        .output()
        .expect("run nats-server -v");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text.trim(),
        format!("nats-server: v{}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn unknown_flag_fails_naming_it() {
    let out = Command::new(env!("CARGO_BIN_EXE_nats-server"))
        .arg("--bogus")
        .output()
        .expect("run nats-server --bogus");
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("flag provided but not defined: -bogus"),
        "{text}"
    );
}

#[test]
fn unimplemented_flag_fails_clearly() {
    let out = Command::new(env!("CARGO_BIN_EXE_nats-server"))
        .args(["--jetstream"])
        .output()
        .expect("run nats-server --jetstream");
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("flag -jetstream is not supported yet"),
        "{text}"
    );
}
