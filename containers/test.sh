#!/usr/bin/env bash
# Checks the container images without Docker: builds the static Linux and the Windows
# binaries (no-ops when up to date), stages a build context and runs check_images.py on it
# (with the reference server for the config check when it is present).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
NATS_LINUX_BIN="${NATS_LINUX_BIN:-$(scripts/build-musl.sh | tail -n1)}"
NATS_WINDOWS_BIN="${NATS_WINDOWS_BIN:-$(scripts/build-windows.sh | tail -n1)}"
export NATS_LINUX_BIN NATS_WINDOWS_BIN
context="$(mktemp -d)"
trap 'rm -rf "$context"' EXIT
containers/stage-context.sh "$context"
reference="${NATS_REFERENCE_BIN:-$root/target/nats-server-ref/2.15.1/nats-server}"
if [[ -x "$reference" ]]; then
    python3 containers/check_images.py "$context" "$reference"
else
    echo "reference server not found at $reference: skipping its config check" >&2
    python3 containers/check_images.py "$context"
fi
