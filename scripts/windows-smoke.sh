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
if [[ ! -d "$WINEPREFIX/drive_c/windows/system32" ]]; then
    # First use: create the prefix (about a minute).
    wineboot --init >/dev/null 2>&1 || true
fi
# Wine 8 lacks bcryptprimitives.dll (ProcessPrng), which Rust's std needs on Windows 10+:
# install a test-only stand-in into the prefix (see scripts/wine-shim/).
shim="$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll"
if [[ ! -f "$shim" ]]; then
    x86_64-w64-mingw32-gcc -O2 -shared -o "$shim" scripts/wine-shim/bcryptprimitives.c \
        scripts/wine-shim/bcryptprimitives.def -ladvapi32
fi
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
# Wine turns SIGINT into a console Ctrl-C event: the server's Ctrl-C handler must stop it.
kill -INT "$pid"
for _ in $(seq 100); do
    grep -q "Server Exiting" "$log" && break
    sleep 0.1
done
grep -q "Trapped \"interrupt\" signal" "$log" && grep -q "Server Exiting" "$log" || {
    echo "no clean shutdown on Ctrl-C:" >&2
    cat "$log" >&2
    exit 1
}
served=$(date +%s)
echo "windows smoke ok: build $((built - start))s, wine start + smoke + Ctrl-C stop $((served - built))s"
