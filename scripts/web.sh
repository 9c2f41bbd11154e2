#!/usr/bin/env bash
# The web front end (web/): the member mall and the operators' console.
#   scripts/web.sh build         installs the npm packages the lock file names (when they changed)
#                                and builds web/dist (type check, then Vite)
#   scripts/web.sh test          the Vitest unit tests of components and stores
#   scripts/web.sh e2e BINARY    the browser tests: each starts BINARY's `demo` and `serve` on a
#                                free loopback port and drives Debian's Chromium (playwright-core,
#                                never a downloaded browser); screenshots go to web/test-results/
set -euo pipefail
caller_dir=$PWD  # BINARY may be relative to it
cd "$(dirname "$0")/../web"

require_node() {
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "error: the web front end needs Node.js 20.19 or newer with npm" >&2
    exit 1
  fi
  local major minor
  IFS=. read -r major minor _ <<<"$(node --version | tr -d v)"
  if ((major < 20 || (major == 20 && minor < 19))); then
    echo "error: Node.js $(node --version) is too old: Vite needs 20.19 or newer" >&2
    exit 1
  fi
}

# Installs exactly the versions package-lock.json names. Not `npm ci`: the registry this project
# is built from lacks some other platforms' optional packages (e.g. rollup's Android builds), which
# npm therefore leaves out of the lock file and `npm ci` then refuses as out of sync. `--no-save`
# never rewrites the lock file. Skipped when node_modules was installed from this very lock file.
install_packages() {
  local stamp=node_modules/.package-lock.sha256
  local sum
  sum=$(sha256sum package-lock.json | cut -d' ' -f1)
  if [[ ! -f $stamp || $(cat "$stamp") != "$sum" ]]; then
    npm install --no-save --no-audit --no-fund --loglevel=error
    echo "$sum" >"$stamp"
  fi
}

require_node
case ${1:-} in
  build)
    install_packages
    npm run --silent build
    ;;
  test)
    install_packages
    npx vitest run
    ;;
  e2e)
    binary=$(cd "$caller_dir" && realpath "${2:?usage: scripts/web.sh e2e BINARY}")
    [[ -f dist/index.html ]] || { echo "error: build web/dist first (scripts/web.sh build)" >&2; exit 1; }
    rm -rf test-results
    POINTSMALL_BIN=$binary node --test --test-concurrency=1 e2e/
    ;;
  *)
    echo "usage: scripts/web.sh build | test | e2e BINARY" >&2
    exit 2
    ;;
esac
