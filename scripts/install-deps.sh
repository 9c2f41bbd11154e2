#!/usr/bin/env bash
# Installs the Debian packages pointsmall needs to build, run and test, when any is missing.
# `postgresql` (postgresql-15: initdb, pg_ctl, pgbench, and psql with it) runs the tests' private
# servers (scripts/postgres.sh); they never use the "main" cluster the package may create and start.
# `chromium` (with `chromium-driver`) is the browser of the web front end's end-to-end tests, which
# never download one; `fonts-wqy-microhei` lets it draw Simplified Chinese.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config
  libsqlite3-dev zlib1g-dev libhowardhinnant-date-dev tzdata libcli11-dev
  libgtest-dev librapidcheck-dev
  libboost-dev nlohmann-json3-dev libsodium-dev libssl-dev libtomlplusplus-dev
  clang-format clang-tidy curl openssl
  python3-yaml python3-jsonschema
  clang-14 libclang-rt-14-dev
  postgresql libpq-dev
  chromium chromium-driver fonts-wqy-microhei
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if ((${#missing[@]} > 0)); then
  echo "installing: ${missing[*]}"
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
