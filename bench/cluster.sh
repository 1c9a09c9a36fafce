#!/usr/bin/env bash
# Fan-out across a 2-node cluster: the publisher on node A, --subs
# subscribers on node B, every message crossing the route once. Runs a
# cluster of two of our servers and a cluster of two reference servers
# (v2.15.1) side by side, one cluster at a time on free loopback ports,
# and prints the median msgs/s of each and the ratio (> 1: ours is faster).
set -euo pipefail

REF_VERSION=2.15.1
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
BENCH=$TARGET/release/nats-bench
OURS=$TARGET/release/nats-server
REF=$TARGET/nats-server-ref/$REF_VERSION/nats-server

REPS=3
SUBS=5
SIZES="16 128"
MSGS=200000
BUILD=1
BASE_PORT=25222
RUN_TIMEOUT=120
FORM_TIMEOUT=20

usage() {
    cat <<USAGE
usage: bench/cluster.sh [options]
  -r, --reps N      repetitions per server kind, median reported [$REPS]
      --subs N      subscribers on node B [$SUBS]
      --sizes LIST  payload sizes [$SIZES]
      --msgs N      messages published on node A per run [$MSGS]
      --ours PATH   our server binary [$OURS]
      --ref PATH    reference binary [$REF]
      --no-build    do not run cargo build
      --port N      first loopback port to try [$BASE_PORT]
  -h, --help        this help
The reference binary is the one the conformance tests download
(cargo test -p conformance fetches it into target/nats-server-ref).
USAGE
}

while [[ $# -gt 0 ]]; do
    case $1 in
        -r|--reps) REPS=$2; shift 2 ;;
        --subs) SUBS=$2; shift 2 ;;
        --sizes) SIZES=${2//,/ }; shift 2 ;;
        --msgs) MSGS=$2; shift 2 ;;
        --ours) OURS=$2; shift 2 ;;
        --ref) REF=$2; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        --port) BASE_PORT=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done

log() { echo "[cluster.sh] $*" >&2; }

if [[ $BUILD == 1 ]]; then
    log "building nats-bench and nats-server (release)"
    (cd "$ROOT" && cargo build --release -p cli -p bench)
fi
for bin in "$BENCH" "$OURS" "$REF"; do
    [[ -x $bin ]] || { log "missing $bin"; exit 1; }
done

# --- ports and processes ---------------------------------------------------
NEXT_PORT=$BASE_PORT
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# take_port: advances NEXT_PORT to a port nothing listens on (bounded search).
take_port() {
    local tries=0
    while (( tries < 200 )); do
        NEXT_PORT=$((NEXT_PORT + 1)); tries=$((tries + 1))
        port_in_use "$NEXT_PORT" || return 0
    done
    log "no free port found"; exit 1
}

PIDS=()
stop_all() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    PIDS=()
}
trap stop_all EXIT

# num_routes MONITOR_PORT: the num_routes of /routez (0 if unreachable).
num_routes() {
    local body
    body=$(curl -s --max-time 2 "http://127.0.0.1:$1/routez" 2>/dev/null) || { echo 0; return; }
    sed -n 's/.*"num_routes": *\([0-9]*\).*/\1/p' <<<"$body" | head -n1 | grep . || echo 0
}

# start_cluster BINARY: starts nodes A and B (B solicits A), waits until both
# report routes; sets A_ADDR, B_ADDR.
start_cluster() {
    local bin=$1
    local pa ca ma pb cb mb
    take_port; pa=$NEXT_PORT; take_port; ca=$NEXT_PORT; take_port; ma=$NEXT_PORT
    take_port; pb=$NEXT_PORT; take_port; cb=$NEXT_PORT; take_port; mb=$NEXT_PORT
    "$bin" -a 127.0.0.1 -p "$pa" -m "$ma" -n A --cluster_name bench \
        --cluster "nats://127.0.0.1:$ca" >/dev/null 2>&1 &
    PIDS+=($!)
    "$bin" -a 127.0.0.1 -p "$pb" -m "$mb" -n B --cluster_name bench \
        --cluster "nats://127.0.0.1:$cb" --routes "nats-route://127.0.0.1:$ca" >/dev/null 2>&1 &
    PIDS+=($!)
    local waited=0
    while (( waited < FORM_TIMEOUT * 10 )); do
        if (( $(num_routes "$ma") > 0 && $(num_routes "$mb") > 0 )); then
            A_ADDR=127.0.0.1:$pa; B_ADDR=127.0.0.1:$pb
            return 0
        fi
        sleep 0.1; waited=$((waited + 1))
    done
    log "$bin: the 2-node cluster did not form within ${FORM_TIMEOUT}s"
    stop_all; exit 1
}

# --- measurements ------------------------------------------------------------
RESULTS=$(mktemp)
field() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }

run_kind() {
    local who=$1 bin=$2 size line
    start_cluster "$bin"
    log "rep $rep: $who cluster A=$A_ADDR B=$B_ADDR"
    for size in $SIZES; do
        if ! line=$(timeout "$RUN_TIMEOUT" "$BENCH" fanout --server "$A_ADDR" --sub-server "$B_ADDR" \
            --subs "$SUBS" --size "$size" --msgs "$MSGS"); then
            log "$who: fanout size $size failed"; continue
        fi
        [[ $(field "$line" lost) == 0 ]] || log "$who: size $size lost messages: $line"
        echo "$who $size $(field "$line" msgs_per_sec)" >>"$RESULTS"
    done
    stop_all
}

for rep in $(seq 1 "$REPS"); do
    # Alternate the order so slow drifts in machine load hit both equally.
    if (( rep % 2 )); then run_kind ours "$OURS"; run_kind ref "$REF"
    else run_kind ref "$REF"; run_kind ours "$OURS"; fi
done

echo "cluster fan-out: publisher on A, $SUBS subscribers on B; median of $REPS"
awk '
function median(list,   n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 2; i <= n; i++) { t = a[i]; j = i - 1; while (j > 0 && a[j] + 0 > t + 0) { a[j+1] = a[j]; j-- } a[j+1] = t }
    return (n % 2) ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
}
{ if ($3 == "") next; v[$1, $2] = v[$1, $2] " " $3; if (!(($2) in seen)) { seen[$2] = 1; order[++k] = $2 } }
END {
    printf "| %5s | %14s | %14s | %6s |\n", "size", "ours msgs/s", "ref msgs/s", "ratio"
    printf "|------:|---------------:|---------------:|-------:|\n"
    for (i = 1; i <= k; i++) {
        s = order[i]; o = ""; r = ""
        if ((("ours", s) in v)) o = median(v["ours", s])
        if ((("ref", s) in v)) r = median(v["ref", s])
        ratio = (o > 0 && r > 0) ? sprintf("%.2f", o / r) : "n/a"
        printf "| %5s | %14s | %14s | %6s |\n", s, (o == "") ? "-" : sprintf("%.0f", o), (r == "") ? "-" : sprintf("%.0f", r), ratio
    }
}' "$RESULTS"
rm -f "$RESULTS"
