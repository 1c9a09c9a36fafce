#!/usr/bin/env bash
# Cross-builds nats-server.exe for x86_64-pc-windows-gnu (MinGW) into target/cross.
# Installs the rustup target and the MinGW linker when missing.
# Extra arguments go to cargo (e.g. --no-default-features --features runtime-std).
# Prints the path of the binary on the last line.
set -euo pipefail
cd "$(dirname "$0")/.."
target=x86_64-pc-windows-gnu
target_dir="${CROSS_TARGET_DIR:-target/cross}"
if ! rustup target list --installed | grep -qx "$target"; then
    rustup target add "$target" >&2
fi
if ! command -v x86_64-w64-mingw32-gcc >/dev/null; then
    apt-get install -y gcc-mingw-w64-x86-64 >&2
fi
cargo build --release -p cli --target "$target" --target-dir "$target_dir" "$@" >&2
echo "$target_dir/$target/release/nats-server.exe"
