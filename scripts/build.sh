#!/usr/bin/env bash
# Configures and builds one build tree:
#   scripts/build.sh DIR [extra cmake arguments...]
# POINTSMALL_TARGETS (space-separated) builds only those targets, e.g. "pointsmall".
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$1
shift
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
# shellcheck disable=SC2086 # the targets are words
ninja -C "$dir" ${POINTSMALL_TARGETS:-}
