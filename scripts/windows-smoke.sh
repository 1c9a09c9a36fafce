#!/usr/bin/env bash
# Cross-builds nats-server.exe, runs it under wine on a loopback port, serves a raw client
# (SUB/PUB/MSG, PING/PONG) from Linux and stops it. Installs wine when missing.
# Extra arguments go to cargo (e.g. --no-default-features --features runtime-std).
set -euo pipefail
cd "$(dirname "$0")/.."
port="${PORT:-14824}"
start=$(date +%s)
exe="$(scripts/build-windows.sh "$@" | tail -n1)"
built=$(date +%s)
if ! command -v wine >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends wine wine64
fi
export WINEPREFIX="${WINEPREFIX:-$PWD/target/wineprefix}"
export WINEDEBUG=-all
log="$(mktemp)"
wine "$exe" -a 127.0.0.1 -p "$port" >"$log" 2>&1 &
pid=$!
cleanup() {
    if kill -0 "$pid" 2>/dev/null; then kill "$pid" 2>/dev/null || true; fi
    wineserver -k 2>/dev/null || true
    rm -f "$log"
}
trap cleanup EXIT
# The first run creates the wine prefix, which takes a while.
if ! python3 scripts/smoke_client.py 127.0.0.1 "$port" 180; then
    cat "$log" >&2
    exit 1
fi
served=$(date +%s)
grep -q "Server is ready" "$log" || { cat "$log" >&2; exit 1; }
echo "windows smoke ok: build $((built - start))s, wine start + smoke $((served - built))s"
