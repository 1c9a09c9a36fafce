#!/usr/bin/env bash
# Stages a minimal docker build context for the images in this folder:
#   OUTDIR/nats-server       static Linux binary (x86_64-unknown-linux-musl)
#   OUTDIR/nats-server.exe   Windows binary (x86_64-pc-windows-gnu)
#   OUTDIR/nats-server.conf  the images' default configuration
# Usage: containers/stage-context.sh OUTDIR
# Binaries default to the cross builds of scripts/build-musl.sh and scripts/windows-smoke.sh;
# override with NATS_LINUX_BIN / NATS_WINDOWS_BIN. A missing binary is reported and skipped
# (the Linux images only need the Linux one, the Windows images the .exe).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:?usage: stage-context.sh OUTDIR}"
cross="${CROSS_TARGET_DIR:-$root/target/cross}"
linux_bin="${NATS_LINUX_BIN:-$cross/x86_64-unknown-linux-musl/release/nats-server}"
windows_bin="${NATS_WINDOWS_BIN:-$cross/x86_64-pc-windows-gnu/release/nats-server.exe}"
mkdir -p "$out"
cp "$root/containers/nats-server.conf" "$out/nats-server.conf"
status=0
if [[ -f "$linux_bin" ]]; then
    cp "$linux_bin" "$out/nats-server"
    chmod 755 "$out/nats-server"
else
    echo "stage-context: no Linux binary at $linux_bin (run scripts/build-musl.sh)" >&2
    status=1
fi
if [[ -f "$windows_bin" ]]; then
    cp "$windows_bin" "$out/nats-server.exe"
else
    echo "stage-context: no Windows binary at $windows_bin (run scripts/build-windows.sh)" >&2
    status=1
fi
exit "$status"
