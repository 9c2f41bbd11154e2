#!/usr/bin/env bash
# Every test: installs what is missing, checks formatting, builds with warnings as errors, runs
# the unit, property, contract, simulation, concurrency, crash and command-line tests (those of
# the stores and the API on SQLite and again on a private PostgreSQL server that ctest starts and
# stops, see cmake/postgres_fixture.cmake), then the web front end's type check, build, Vitest
# unit tests and browser tests (Debian's Chromium on a demo store, scripts/web.sh), then runs the
# C++ tests again (the simulation shorter) in an AddressSanitizer + UndefinedBehaviorSanitizer build,
# replays the fuzzer's corpus through the API, and finally runs clang-tidy.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

echo "== formatting (clang-format)"
scripts/format.sh --check

# Tests run two at a time (POINTSMALL_TEST_JOBS changes it): each has its own ports, folders and
# PostgreSQL schema, and many wait on a server process or on fsync.
jobs=${POINTSMALL_TEST_JOBS:-2}

echo "== release build"
scripts/build.sh build
(cd build && ctest --output-on-failure --timeout 1200 -j "$jobs")

echo "== web front end (type check and build, Vitest, browser tests in Chromium)"
scripts/web.sh build
scripts/web.sh test
scripts/web.sh e2e build/pointsmall

echo "== sanitizer build (address, undefined)"
# -O1 and line tables only: the sanitizer build is the slowest part of the run.
scripts/build.sh build-asan -DPOINTSMALL_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build-asan && POINTSMALL_SIM_STEPS=${POINTSMALL_ASAN_SIM_STEPS:-20000} ctest --output-on-failure --timeout 1200 -j "$jobs")

echo "== fuzz corpus replay (libFuzzer, clang-14, address + undefined)"
scripts/fuzz.sh --smoke

echo "== clang-tidy"
scripts/tidy.sh build
echo "all tests passed"
