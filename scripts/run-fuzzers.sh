#!/usr/bin/env bash
# Builds the libFuzzer harnesses of tests/fuzz (the `fuzz` preset: clang++, -fsanitize=fuzzer,address,undefined)
# and runs each one for a bounded time, starting from its seed corpus tests/fuzz/corpus/<name>.
#
#   scripts/run-fuzzers.sh [BUILD_DIR]      # default build/fuzz
#
# Environment: FUZZ_SECONDS (per harness, default 30), FUZZ_JOBS (build parallelism, default 2),
# FUZZERS (space-separated subset, default all). New inputs go to BUILD_DIR/corpus/<name>, never into the
# source tree; a crash is saved as BUILD_DIR/artifacts/<name>-crash-* and makes the script exit 1 after
# every harness has run. Prints executions per harness.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build/fuzz}"
seconds="${FUZZ_SECONDS:-30}"
jobs="${FUZZ_JOBS:-2}"
fuzzers="${FUZZERS:-utf8 tokenize markup span levenshtein markov}"

command -v clang++ >/dev/null || { echo "run-fuzzers.sh: clang++ is needed (apt-get install clang)" >&2; exit 2; }
cmake --preset fuzz -B "$build" >/dev/null
targets=()
for name in $fuzzers; do targets+=(--target "fuzz_$name"); done
cmake --build "$build" -j"$jobs" "${targets[@]}"

failed=()
summary=()
for name in $fuzzers; do
    work="$build/corpus/$name"
    artifacts="$build/artifacts"
    mkdir -p "$work" "$artifacts"
    log="$build/fuzz_$name.log"
    echo "==== fuzz_$name: ${seconds}s"
    status=0
    "$build/tests/fuzz/fuzz_$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$artifacts/$name-" "$work" "tests/fuzz/corpus/$name" >"$log" 2>&1 || status=$?
    runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
    summary+=("fuzz_$name: ${runs:-?} executions, corpus $(find "$work" -type f | wc -l) inputs, exit $status")
    if [ "$status" -ne 0 ]; then
        failed+=("$name")
        grep -E "oracle failed|ERROR|SUMMARY|runtime error" -A2 "$log" | head -20 >&2 || true
        echo "fuzz_$name failed; log: $log; reproduce: $build/tests/fuzz/fuzz_$name $artifacts/$name-crash-*" >&2
    fi
done
printf '%s\n' "${summary[@]}"
if [ "${#failed[@]}" -ne 0 ]; then
    echo "run-fuzzers.sh: failures in: ${failed[*]}" >&2
    exit 1
fi
