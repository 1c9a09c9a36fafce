#!/usr/bin/env bash
# Builds the static musl nats-server, starts it on a loopback port (inside an empty chroot
# when run as root, which proves it needs no file of the host) and serves a raw client.
set -euo pipefail
cd "$(dirname "$0")/.."
port="${PORT:-14823}"
bin="$(scripts/build-musl.sh "$@" | tail -n1)"
work="$(mktemp -d)"
pid=""
cleanup() {
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then kill "$pid"; wait "$pid" || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
if [[ "$(id -u)" == 0 ]] && command -v chroot >/dev/null; then
    cp "$bin" "$work/nats-server"
    chroot "$work" /nats-server -a 127.0.0.1 -p "$port" 2>"$work.log" &
    mode="empty chroot"
else
    "$bin" -a 127.0.0.1 -p "$port" 2>"$work.log" &
    mode="host"
fi
pid=$!
python3 scripts/smoke_client.py 127.0.0.1 "$port" 10
kill -INT "$pid"
wait "$pid"
pid=""
grep -q "Server Exiting" "$work.log" || { cat "$work.log" >&2; exit 1; }
rm -f "$work.log"
echo "musl smoke ok ($mode): $(file -b "$bin" | cut -d, -f1-5)"
