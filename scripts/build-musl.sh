#!/usr/bin/env bash
# Builds a fully static Linux nats-server (x86_64-unknown-linux-musl) into target/cross and
# checks that it is static. Installs the rustup target and musl-tools when missing.
# Extra arguments go to cargo (e.g. --no-default-features --features runtime-std).
# Prints the path of the binary on the last line.
set -euo pipefail
cd "$(dirname "$0")/.."
target=x86_64-unknown-linux-musl
target_dir="${CROSS_TARGET_DIR:-target/cross}"
if ! rustup target list --installed | grep -qx "$target"; then
    rustup target add "$target" >&2
fi
if ! command -v musl-gcc >/dev/null; then
    apt-get install -y musl-tools >&2
fi
cargo build --release -p cli --target "$target" --target-dir "$target_dir" "$@" >&2
bin="$target_dir/$target/release/nats-server"
desc="$(file -b "$bin")"
case "$desc" in
    *"statically linked"* | *"static-pie linked"*) ;;
    *) echo "build-musl: $bin is not static: $desc" >&2; exit 1 ;;
esac
deps="$(ldd "$bin" 2>&1 || true)"
case "$deps" in
    *"not a dynamic executable"* | *"statically linked"*) ;;
    *) echo "build-musl: ldd lists dynamic dependencies of $bin: $deps" >&2; exit 1 ;;
esac
echo "$bin"
