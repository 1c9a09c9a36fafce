#!/usr/bin/env bash
# Builds the std-only variant of nats-server (no async runtime) into target/std and runs the
# whole conformance suite (transcripts, raw and async-client tests) against it.
# Extra arguments go to `cargo test -p conformance` (e.g. a test name filter).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -p cli --no-default-features --features runtime-std --target-dir target/std
bin="$PWD/target/std/debug/nats-server"
echo "conformance against $bin"
NATS_SERVER_BIN="$bin" cargo test -p conformance "$@"
