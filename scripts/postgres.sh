#!/usr/bin/env bash
# A private PostgreSQL server for tests: one folder, one free loopback port, nothing shared with
# the system's own cluster (Debian's "main" on 5432) or with another private server.
#   scripts/postgres.sh start DIR   creates the server in DIR (first stopping and removing a stale
#                                   one an interrupted run left there), starts it, creates the
#                                   database `pointsmall`, writes its URL to DIR/url and prints it
#   scripts/postgres.sh stop DIR    stops the server and removes DIR; succeeds when already stopped
#                                   or DIR is missing
#   scripts/postgres.sh url DIR     prints the URL,
#                                   postgresql://pointsmall@127.0.0.1:PORT/pointsmall
# DIR holds data/ (the cluster), log (the server's log), url, and the server's Unix socket.
# fsync and synchronous_commit stay on: the tests check that committed writes are durable.
# PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user (created
# by Debian's package), which then owns DIR and must be able to reach it.
set -euo pipefail

usage() {
  echo "usage: $0 start|stop|url DIR" >&2
  exit 2
}
fail() {
  echo "postgres.sh: $*" >&2
  exit 1
}

(($# == 2)) || usage
command=$1
dir=$(realpath -m -- "$2")
[[ $dir != / ]] || fail "refusing to use / as the server's folder"
# Written first into every DIR this script creates; stop removes only folders that carry it (or
# are empty), so a mistyped DIR cannot delete someone's files.
marker="$dir/.pointsmall-postgres"

# The newest server binaries: pg_config's when it points at a server, else Debian's layout.
find_bindir() {
  local candidate
  candidate=$(pg_config --bindir 2>/dev/null || true)
  if [[ -x $candidate/initdb ]]; then
    echo "$candidate"
    return
  fi
  candidate=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin 2>/dev/null |
    sort -V | tail -1)
  [[ -x $candidate/initdb ]] ||
    fail "no PostgreSQL server found (initdb); run scripts/install-deps.sh"
  echo "$candidate"
}

server_user=()
if [[ $(id -u) -eq 0 ]]; then
  id postgres >/dev/null 2>&1 ||
    fail "running as root needs the postgres user (from Debian's postgresql package)"
  server_user=(runuser -u postgres --)
fi
# Runs a server program as the server's user, from / so that an unreadable working folder does
# not matter.
as_server() { (cd / && "${server_user[@]}" "$@"); }

# A port the kernel just had free on 127.0.0.1. Another process may take it before the server
# binds it; start_server retries with a new port then.
free_port() {
  python3 -c 'import socket; print(socket.create_server(("127.0.0.1", 0)).getsockname()[1])'
}

# The server's process id while it runs, else nothing. A postmaster that has exited but not yet
# been reaped (a zombie, after kill -9) is not running; a recycled process id is not ours.
postmaster_pid() {
  local pid state
  pid=$(head -1 "$dir/data/postmaster.pid" 2>/dev/null) || return 0
  [[ $pid =~ ^[0-9]+$ ]] || return 0
  [[ $(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") == *" $dir/data "* ]] || return 0
  state=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)
  if [[ -n $state && $state != Z ]]; then echo "$pid"; fi
}

stop_server() {
  [[ -e $dir ]] || return 0
  [[ -e $marker || -z $(ls -A -- "$dir") ]] ||
    fail "$dir was not made by this script; not touching it"
  if [[ -n $(postmaster_pid) ]]; then
    local bin
    bin=$(find_bindir)
    # Fast shutdown rolls back open sessions; immediate is the way out when it hangs. Either may
    # report failure when the server dies on its own meanwhile, so the process decides.
    as_server "$bin/pg_ctl" stop -D "$dir/data" -m fast -w -t 60 >/dev/null 2>&1 ||
      as_server "$bin/pg_ctl" stop -D "$dir/data" -m immediate -w -t 60 >/dev/null 2>&1 || true
    [[ -z $(postmaster_pid) ]] || fail "could not stop the server in $dir/data (see $dir/log)"
  fi
  rm -rf -- "$dir"
}

# Fails with the name of the first folder on the way to DIR that the postgres user cannot enter.
check_reachable() {
  local path=$1
  while [[ $path != / ]]; do
    path=$(dirname "$path")
    as_server test -x "$path" || fail "the postgres user cannot enter $path, on the way to $dir;" \
      "use a folder outside it, or chmod o+x $path"
  done
}

create_cluster() {
  # Unix socket paths are limited to 107 bytes: DIR/.s.PGSQL.PORT must fit.
  ((${#dir} <= 107 - 15)) ||
    fail "$dir is too long for the server's Unix socket (at most 92 characters)"
  mkdir -p -- "$dir"
  touch -- "$marker"
  if ((${#server_user[@]} > 0)); then
    check_reachable "$dir"
    chown postgres: -- "$dir"
  fi
  # Anyone may read the URL; the cluster itself (data/) is the server user's only.
  chmod 755 -- "$dir"
  # --no-sync only spares initdb's own flushes; the running server keeps fsync on.
  as_server "$bin/initdb" -D "$dir/data" -A trust -U pointsmall -E UTF8 --locale=C --no-sync \
    >"$dir/initdb.log" 2>&1 || fail "initdb failed: $(cat "$dir/initdb.log")"
  as_server tee -a "$dir/data/postgresql.conf" >/dev/null <<CONF

# pointsmall's private test server (scripts/postgres.sh)
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
max_connections = 300
shared_buffers = 256MB
fsync = on
synchronous_commit = on
CONF
}

# Starts the server on a free port, trying again with another when the port was taken in between.
# Prints the port.
start_server() {
  local attempt port
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    # A later line wins in postgresql.conf, so each attempt appends its port.
    echo "port = $port" | as_server tee -a "$dir/data/postgresql.conf" >/dev/null
    rm -f -- "$dir/log"
    if as_server "$bin/pg_ctl" start -D "$dir/data" -l "$dir/log" -w -t 60 >/dev/null; then
      echo "$port"
      return
    fi
    grep -q "Address already in use" "$dir/log" 2>/dev/null ||
      fail "the server did not start (waited up to 60 s); its log, $dir/log, ends with:
$(tail -20 "$dir/log" 2>/dev/null)"
    echo "postgres.sh: port $port was taken (attempt $attempt), trying another" >&2
  done
  fail "no free port found after 5 attempts"
}

case $command in
  start)
    bin=$(find_bindir)
    stop_server
    create_cluster
    port=$(start_server)
    url="postgresql://pointsmall@127.0.0.1:$port/pointsmall"
    # Over TCP, as the tests will connect: this also proves the URL works.
    "$bin/createdb" -h 127.0.0.1 -p "$port" -U pointsmall pointsmall ||
      fail "could not create the database pointsmall (see $dir/log)"
    echo "$url" >"$dir/url.tmp"
    mv -- "$dir/url.tmp" "$dir/url"
    echo "$url"
    ;;
  stop)
    stop_server
    ;;
  url)
    [[ -f $dir/url ]] || fail "no server in $dir (run: $0 start $dir)"
    cat -- "$dir/url"
    ;;
  *)
    usage
    ;;
esac
