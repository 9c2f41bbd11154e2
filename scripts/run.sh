#!/usr/bin/env bash
# The program's main job on the embedded default (SQLite): installs what is missing, builds,
# replays the Online Retail data set into a ledger in data/ledger, and checks every invariant.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build
data_dir=${POINTSMALL_DATA_DIR:-data/ledger}
build/pointsmall import online-retail data/online_retail.csv.gz --data-dir "$data_dir"
build/pointsmall check --data-dir "$data_dir"
