#!/usr/bin/env bash
# Builds and runs the fuzz targets of fuzz/ (cargo fuzz + libFuzzer), seeded from the test
# vectors and the tests' cases (fuzz/seeds.py writes them to fuzz/corpus/<target>/).
# Usage: scripts/fuzz.sh --brief [target…]   each target for FUZZ_BRIEF_SECS (default 25) seconds
#        scripts/fuzz.sh --long [target…]    each target to 10 million executions (FUZZ_RUNS),
#                                            or until FUZZ_MAX_SECS if set; figures printed
# Any crash, failed assertion, hang (an input taking over 10 s) or out-of-memory fails the run;
# the input is kept in fuzz/artifacts/<target>/ (replay: cargo fuzz run <target> <file>).
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-}"
case "$mode" in
  --brief | --long) shift ;;
  *) echo "Usage: scripts/fuzz.sh --brief | --long [target…]" >&2; exit 2 ;;
esac

tools="${PITCHBAR_TOOLS_DIR:-$HOME/.cache/pitchbar-admin/tools}"
export PATH="$tools/bin:$PATH"
if ! command -v cargo-fuzz >/dev/null; then
  echo "cargo-fuzz is missing: run scripts/setup.sh --test (it installs it into $tools)." >&2
  exit 1
fi
# Only stable Rust is needed: libFuzzer's instrumentation flags are unstable ones, which stable
# rustc accepts with RUSTC_BOOTSTRAP=1. No sanitizer: the fuzzed code is safe Rust, checked by
# the targets' assertions, with debug assertions and overflow checks on (fuzz/Cargo.toml).
export RUSTC_BOOTSTRAP=1
# The fuzz build has its own flags, so its own target dir (not the main build's).
export CARGO_TARGET_DIR="${PITCHBAR_FUZZ_TARGET_DIR:-$PWD/fuzz/target}"
flags=(--sanitizer none --release)

all=(signature_header verify deep_link socket_frames providers_file api_bodies receiver)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")

echo "==> Fuzz targets: build"
(cd fuzz && cargo fuzz build "${flags[@]}")
python3 fuzz/seeds.py fuzz/corpus

mkdir -p fuzz/logs
summary=()
for t in "${targets[@]}"; do
  corpus="fuzz/corpus/$t"
  log="fuzz/logs/$t.log"
  # Inputs a little past each parser's own cap (a callback or signature header is refused
  # past 4 KB); bodies, files and requests up to 8 KB.
  case "$t" in
    signature_header | deep_link) max_len=4200 ;;
    *) max_len=8192 ;;
  esac
  common=(-timeout=10 -rss_limit_mb=2048 -max_len=$max_len -print_final_stats=1)
  if [ "$mode" = --brief ]; then
    limits=(-max_total_time="${FUZZ_BRIEF_SECS:-25}")
  else
    limits=(-runs="${FUZZ_RUNS:-10000000}")
    [ -n "${FUZZ_MAX_SECS:-}" ] && limits+=(-max_total_time="$FUZZ_MAX_SECS")
  fi
  echo "==> Fuzzing $t ($mode)"
  started=$(date +%s)
  if ! (cd fuzz && cargo fuzz run "${flags[@]}" "$t" "corpus/$t" -- "${common[@]}" "${limits[@]}") >"$log" 2>&1; then
    # What failed, and libFuzzer's summary (not the input's bytes, which can be long).
    grep -A 3 -m 1 'panicked at' "$log" | cut -c 1-600 >&2 || true
    grep -E '^(SUMMARY|artifact_prefix|==[0-9]+== ERROR)' "$log" | cut -c 1-300 >&2 || true
    echo "Fuzz target $t failed: a crash, a failed check or a hang (the input is in fuzz/artifacts/$t/; the log in $log)." >&2
    exit 1
  fi
  secs=$(( $(date +%s) - started ))
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
  files=$(find "$corpus" -type f | wc -l)
  line="$t: ${runs:-?} executions in ${secs} s (${rate:-?}/s), 0 crashes, corpus ${files} inputs, peak RSS ${rss:-?} MB"
  echo "    $line"
  summary+=("$line")
done
echo "==> Fuzzing done ($mode)"
printf '    %s\n' "${summary[@]}"
