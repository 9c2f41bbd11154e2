#!/usr/bin/env bash
# Fuzzes the HTTP API's request reading and JSON decoding (fuzz/api_request_fuzzer.cc) with
# libFuzzer, in a clang-14 build with AddressSanitizer and UndefinedBehaviorSanitizer.
#
#   scripts/fuzz.sh [SECONDS]   fuzzes for SECONDS (default 60). Inputs that reach new code are
#                               added to fuzz/corpus/api_request/ (keep them: commit the corpus).
#   scripts/fuzz.sh --smoke     runs every corpus input once (for the test command).
#   scripts/fuzz.sh --minimize  replaces the corpus by the seeds and the fewest inputs that reach
#                               the same code (libFuzzer -merge=1).
#
# Exits 1 on a finding (crash, sanitizer report, or a broken check of the fuzzer); the input is
# kept as $BUILD/fuzz-artifacts/crash-* (replay: $BUILD/api_request_fuzzer FILE).
# BUILD: the build directory (default build-fuzz). POINTSMALL_FUZZ_STRICT=1: a 500 or 503
# response is a finding too. FUZZ_BUILD_JOBS: parallel compile jobs (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

mode=fuzz
seconds=60
case "${1:-}" in
  --smoke) mode=smoke ;;
  --minimize) mode=minimize ;;
  '') ;;
  *[!0-9]*)
    echo "usage: scripts/fuzz.sh [SECONDS | --smoke | --minimize]" >&2
    exit 2
    ;;
  *) seconds=$1 ;;
esac

build=${BUILD:-$root/build-fuzz}
corpus=$root/fuzz/corpus/api_request
dict=$root/fuzz/api_request.dict
fuzzer=$build/api_request_fuzzer
corpus_bytes() { du -sb --apparent-size "$corpus" | cut -f1; }

scripts/install-deps.sh
# -O1 with line tables, assertions on (Debug without -O0 and full debug information).
CC=clang-14 CXX=clang++-14 cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" -DCMAKE_C_FLAGS_DEBUG="-O1 -g1" \
  -DPOINTSMALL_FUZZ=ON -DPOINTSMALL_WERROR=OFF >/dev/null
ninja -C "$build" -j "${FUZZ_BUILD_JOBS:-2}" api_request_fuzzer

# Each fuzzer process keeps its database in a fresh temporary directory under $work.
work=$build/fuzz-work
rm -rf "$work"
mkdir -p "$work/tmp" "$build/fuzz-artifacts"
export TMPDIR=$work/tmp
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
common=(-dict="$dict" -max_len=65536 -timeout=30 -rss_limit_mb=4096
  -artifact_prefix="$build/fuzz-artifacts/")

case $mode in
  smoke)
    started=$SECONDS
    "$fuzzer" "${common[@]}" -runs=0 "$corpus" >"$work/smoke.log" 2>&1 || {
      tail -n 80 "$work/smoke.log"
      echo "fuzz smoke: FAILED on a corpus input (see above)" >&2
      exit 1
    }
    inputs=$(find "$corpus" -type f | wc -l)
    grep -E '^#[0-9]+[[:space:]]+INITED' "$work/smoke.log" | tail -n 1 || true
    echo "fuzz smoke: $inputs corpus inputs ran without a finding in $((SECONDS - started)) s"
    ;;
  minimize)
    fresh=$build/corpus-minimized
    found=$build/corpus-found
    rm -rf "$fresh" "$found"
    mkdir -p "$fresh" "$found"
    # The hand-written seeds (named; libFuzzer names its inputs by their SHA-1) all stay. Found
    # inputs over 8 KiB (mostly near the 16 KiB header limit) add little but size: left out.
    find "$corpus" -type f -regextype posix-extended ! -regex '.*/[0-9a-f]{40}' \
      -exec cp {} "$fresh" \;
    find "$corpus" -type f -regextype posix-extended -regex '.*/[0-9a-f]{40}' ! -size +8k \
      -exec cp {} "$found" \;
    "$fuzzer" "${common[@]}" -merge=1 "$fresh" "$found" >"$work/merge.log" 2>&1 || {
      tail -n 40 "$work/merge.log"
      exit 1
    }
    echo "corpus: $(find "$corpus" -type f | wc -l) files, $(corpus_bytes) bytes before"
    rm -rf "$corpus" "$found"
    mv "$fresh" "$corpus"
    echo "corpus: $(find "$corpus" -type f | wc -l) files, $(corpus_bytes) bytes after"
    ;;
  fuzz)
    before=$(find "$corpus" -type f | wc -l)
    touch "$work/started"
    status=0
    # -jobs=1: one worker process, whose log is fuzz-0.log in the working directory.
    # It prints the worker's log when the worker ends; only the summary below is kept on screen.
    (cd "$work" && "$fuzzer" "${common[@]}" -max_total_time="$seconds" -print_final_stats=1 \
      -jobs=1 "$corpus" >"$work/fuzz-parent.log" 2>&1) || status=$?
    log=$work/fuzz-0.log
    if ((status != 0)); then
      tail -n 100 "$log"
      echo "fuzz: FINDING; the input is kept in $build/fuzz-artifacts/:" >&2
      find "$build/fuzz-artifacts" -type f -newer "$work/started" >&2
      exit 1
    fi
    echo "== fuzz: the last status line (cov: edges covered, ft: features, corp: corpus units/size)"
    grep -E '^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE|INITED)' "$log" | tail -n 1 || true
    grep -E '^stat::' "$log" || true
    echo "fuzz: no finding in $seconds s; corpus $before -> $(find "$corpus" -type f | wc -l) files" \
      "($(corpus_bytes) bytes)"
    ;;
esac
