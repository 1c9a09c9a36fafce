#!/usr/bin/env bash
# Bounded fuzzing run of every cargo-fuzz target (issue 8), run by CI after the tests.
#
#   scripts/fuzz-smoke.sh                 # every target for 60 s each
#   FUZZ_SECONDS=1800 scripts/fuzz-smoke.sh engine config   # longer, chosen targets
#
# Installs what it needs when missing (the nightly toolchain with rustup, cargo-fuzz with
# `cargo install --locked`), seeds fuzz/corpus/<target>/ from the conformance transcripts,
# configuration files and route captures (fuzz/seed_corpora.py; the corpus folders are
# git-ignored and keep what earlier runs found), builds all targets at once into fuzz/target,
# then fuzzes each target for FUZZ_SECONDS. Any crash, hang (FUZZ_TIMEOUT seconds on one
# input), leak or out-of-memory fails the script after every target ran; it prints the
# artifact and the commands that reproduce and minimise it. Logs: fuzz/target/smoke-logs/
# (or FUZZ_LOGS); FUZZ_CORPUS picks another corpus folder than fuzz/corpus.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds="${FUZZ_SECONDS:-60}"
timeout="${FUZZ_TIMEOUT:-20}"
if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  targets=(parser server_parser route_parser config engine)
fi
target_dir="$PWD/target"
logs="${FUZZ_LOGS:-$target_dir/smoke-logs}"
corpus="${FUZZ_CORPUS:-$PWD/corpus}"
started=$(date +%s)

# Toolchain: nightly (the sanitizer and coverage flags need it) and cargo-fuzz.
if ! command -v rustup >/dev/null 2>&1; then
  echo "fuzz-smoke: rustup is needed to install the nightly toolchain" >&2
  exit 1
fi
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  rustup toolchain install nightly --profile minimal
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi
echo "fuzz-smoke: $(rustup run nightly rustc --version), $(cargo +nightly fuzz --version)"

python3 seed_corpora.py "$corpus"

# One build of every target (they share the instrumented workspace crates); `run` below
# then finds them up to date. Run from fuzz/ so that fuzz/.cargo/config.toml (no fat LTO) applies.
build_started=$(date +%s)
cargo +nightly fuzz build --target-dir "$target_dir"
echo "fuzz-smoke: build took $(( $(date +%s) - build_started )) s"

mkdir -p "$logs"
failed=()
for t in "${targets[@]}"; do
  mkdir -p "$corpus/$t" "artifacts/$t"
  before=$(ls "artifacts/$t")
  log="$logs/$t.log"
  echo "fuzz-smoke: $t for ${seconds} s (log $log)"
  status=0
  cargo +nightly fuzz run --target-dir "$target_dir" "$t" "$corpus/$t" -- \
    -max_total_time="$seconds" -timeout="$timeout" -print_final_stats=1 >"$log" 2>&1 || status=$?
  # The summary: the last status line and the final stats.
  grep -E '^#[0-9]+' "$log" | tail -n 1 || true
  grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$log" || true
  new=$(comm -13 <(echo "$before") <(ls "artifacts/$t") | sed '/^$/d')
  if [ "$status" -ne 0 ] || [ -n "$new" ]; then
    failed+=("$t")
    echo "fuzz-smoke: $t FAILED (exit $status); end of its log:" >&2
    tail -n 60 "$log" >&2
    for a in $new; do
      echo "fuzz-smoke: artifact fuzz/artifacts/$t/$a" >&2
      echo "  reproduce: cd fuzz && cargo +nightly fuzz run --target-dir target $t artifacts/$t/$a" >&2
      echo "  minimise:  cd fuzz && cargo +nightly fuzz tmin --target-dir target $t artifacts/$t/$a" >&2
      echo "  base64:    $(head -c 4096 "artifacts/$t/$a" | base64 -w0)" >&2
    done
  fi
done

echo "fuzz-smoke: ${#targets[@]} targets in $(( $(date +%s) - started )) s"
if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzz-smoke: failures in: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz-smoke: all targets clean"
