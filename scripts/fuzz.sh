#!/usr/bin/env bash
# Builds the libFuzzer targets of Fuzz/ with ASan into a scratch path of their own and runs
# each for a bounded time. Called by `make fuzz`; see docs/fuzzing.md.
#
#   FUZZ_SECONDS=60          seconds per target (libFuzzer -max_total_time)
#   FUZZ_TARGETS="json sse"  which targets (default: all)
#   FUZZ_FLAGS="-runs=1000"  extra libFuzzer flags for every target
#   FUZZ_SCRATCH=.build-fuzz build directory; the grown corpora and crash artifacts live there
#
# Exits non-zero if a target found a crash, a hang (-timeout) or an OOM; its reproducer is in
# $FUZZ_SCRATCH/artifacts/, the whole log in $FUZZ_SCRATCH/logs/.
set -euo pipefail
cd "$(dirname "$0")/.."

SWIFT=${SWIFT:-swift}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_TARGETS=${FUZZ_TARGETS:-json sse eventstream requests responses guardrails snapshot}
FUZZ_FLAGS=${FUZZ_FLAGS:-}
FUZZ_SCRATCH=${FUZZ_SCRATCH:-.build-fuzz}

# Longest input libFuzzer generates per target: bodies and streams need room for a few
# events; the detectors are linear, so guardrail texts stay short for speed.
max_len() {
    case $1 in
        json|sse|requests) echo 8192 ;;
        eventstream|responses|snapshot) echo 16384 ;;
        guardrails) echo 4096 ;;
        *) echo 4096 ;;
    esac
}

# libFuzzer and the ASan runtime ship with the Swift toolchain (compiler-rt in its clang
# resource directory); nothing to install from Debian, but say so clearly if they are gone.
toolchain=$(dirname "$(dirname "$(readlink -f "$(command -v swiftc)")")")
if ! ls "$toolchain"/lib/clang/*/lib/linux/libclang_rt.fuzzer-*.a >/dev/null 2>&1 \
   && ! ls "$toolchain"/lib/swift/clang/lib/linux/libclang_rt.fuzzer-*.a >/dev/null 2>&1; then
    echo "error: the Swift toolchain at $toolchain has no libFuzzer runtime (libclang_rt.fuzzer); use a swift.org Linux toolchain" >&2
    exit 1
fi
export ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-$toolchain/bin/llvm-symbolizer}
# Swift's runtime keeps some allocations for the process's lifetime: leak reports are noise.
# Swift's own crash backtracer would catch the trap before libFuzzer records the input.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:allocator_may_return_null=1}

for t in $FUZZ_TARGETS; do
    TOLLGATE_FUZZ=1 "$SWIFT" build -c release --scratch-path "$FUZZ_SCRATCH" \
        -Xswiftc -sanitize=fuzzer,address --product "fuzz-$t"
done

mkdir -p "$FUZZ_SCRATCH/corpus" "$FUZZ_SCRATCH/artifacts" "$FUZZ_SCRATCH/logs"
failed=""
for t in $FUZZ_TARGETS; do
    # New inputs go to the scratch corpus (first directory); the seeds in the repo are read only.
    mkdir -p "$FUZZ_SCRATCH/corpus/$t"
    log="$FUZZ_SCRATCH/logs/fuzz-$t.log"
    echo "== fuzz-$t: ${FUZZ_SECONDS}s, max_len $(max_len "$t")"
    # shellcheck disable=SC2086
    if "$FUZZ_SCRATCH/release/fuzz-$t" -max_total_time="$FUZZ_SECONDS" -max_len="$(max_len "$t")" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$FUZZ_SCRATCH/artifacts/$t-" $FUZZ_FLAGS \
        "$FUZZ_SCRATCH/corpus/$t" "Fuzz/corpus/fuzz-$t" >"$log" 2>&1; then
        grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$log" | sed 's/^/   /'
    else
        echo "   FAILED: see $log"
        grep -E 'fuzz invariant broken|^SUMMARY|ERROR: libFuzzer|Test unit written' "$log" | sed 's/^/   /' || true
        failed="$failed $t"
    fi
done
if [ -n "$failed" ]; then
    echo "fuzz targets with findings:$failed" >&2
    exit 1
fi
echo "all fuzz targets ran clean"
