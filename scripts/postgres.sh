#!/usr/bin/env bash
# A private PostgreSQL server for tests: one folder, one free loopback port, nothing shared with
# the system's own cluster (Debian's "main" on 5432) or with another private server.
#   scripts/postgres.sh start DIR   creates the server of DIR (first stopping and removing a stale
#                                   one an interrupted run left), starts it, creates the
#                                   database `pointsmall`, writes its URL to DIR/url and prints it
#   scripts/postgres.sh stop DIR    stops the server and removes DIR and its cluster folder;
#                                   succeeds when already stopped or DIR is missing
#   scripts/postgres.sh url DIR     prints the URL,
#                                   postgresql://pointsmall@127.0.0.1:PORT/pointsmall
# DIR holds url, the marker below and, as root, cluster. The cluster folder holds data/ (the
# cluster), log (the server's log), initdb.log and the server's Unix socket; for a user other than
# root it is DIR.
# PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user (created
# by Debian's package), which may be unable to reach DIR (a checkout under /root, mode 700): the
# cluster folder is then a fresh /tmp/pointsmall-postgres.XXXXXX owned by that user, named in
# DIR/cluster, through which stop and the next start find it.
# fsync and synchronous_commit stay on: the tests check that committed writes are durable.
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
# Written first into every folder this script creates; stop removes only folders that carry it
# (or are empty), so a mistyped DIR, or a DIR/cluster naming another folder, cannot delete
# someone's files.
marker_name=.pointsmall-postgres
marker="$dir/$marker_name"
cluster_file="$dir/cluster"
# Where data/, log and the socket are: DIR, or the folder DIR/cluster names (see cluster_of_dir).
cluster=$dir

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
  pid=$(head -1 "$cluster/data/postmaster.pid" 2>/dev/null) || return 0
  [[ $pid =~ ^[0-9]+$ ]] || return 0
  [[ $(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") == *" $cluster/data "* ]] || return 0
  state=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)
  if [[ -n $state && $state != Z ]]; then echo "$pid"; fi
}

# Succeeds when folder $1 carries the marker or is empty.
made_here() { [[ -e $1/$marker_name || -z $(ls -A -- "$1") ]]; }

# Prints the cluster folder of DIR: the one DIR/cluster names, else DIR itself.
cluster_of_dir() {
  if [[ ! -f $cluster_file ]]; then
    echo "$dir"
    return
  fi
  local named
  named=$(head -1 -- "$cluster_file")
  [[ $named =~ ^/tmp/pointsmall-postgres\.[A-Za-z0-9]+$ ]] ||
    fail "$cluster_file names '$named', not a folder this script makes; not touching it"
  echo "$named"
}

stop_server() {
  [[ -e $dir ]] || return 0
  made_here "$dir" || fail "$dir was not made by this script; not touching it"
  cluster=$(cluster_of_dir)
  if [[ $cluster != "$dir" && -e $cluster ]]; then
    made_here "$cluster" || fail "$cluster was not made by this script; not touching it"
  fi
  if [[ -n $(postmaster_pid) ]]; then
    local bin
    bin=$(find_bindir)
    # Fast shutdown rolls back open sessions; immediate is the way out when it hangs. Either may
    # report failure when the server dies on its own meanwhile, so the process decides.
    as_server "$bin/pg_ctl" stop -D "$cluster/data" -m fast -w -t 60 >/dev/null 2>&1 ||
      as_server "$bin/pg_ctl" stop -D "$cluster/data" -m immediate -w -t 60 >/dev/null 2>&1 ||
      true
    [[ -z $(postmaster_pid) ]] ||
      fail "could not stop the server in $cluster/data (see $cluster/log)"
  fi
  # The cluster folder first: while DIR is left, it still leads to whatever remains.
  if [[ $cluster != "$dir" ]]; then rm -rf -- "$cluster"; fi
  rm -rf -- "$dir"
  cluster=$dir
}

# Makes DIR and the cluster folder and initialises the cluster in it (sets cluster).
create_cluster() {
  if ((${#server_user[@]} == 0)); then
    # Unix socket paths are limited to 107 bytes: DIR/.s.PGSQL.PORT must fit.
    ((${#dir} <= 107 - 15)) ||
      fail "$dir is too long for the server's Unix socket (at most 92 characters)"
  fi
  mkdir -p -- "$dir"
  touch -- "$marker"
  # Anyone may read the URL; the cluster itself (data/) is the server user's only.
  chmod 755 -- "$dir"
  if ((${#server_user[@]} > 0)); then
    # /tmp is open to every user, unlike DIR perhaps. DIR names the folder before anything is put
    # in it, so that an interrupted start leaves nothing the next start cannot find.
    cluster=$(mktemp -d /tmp/pointsmall-postgres.XXXXXX)
    echo "$cluster" >"$cluster_file.tmp"
    mv -- "$cluster_file.tmp" "$cluster_file"
    touch -- "$cluster/$marker_name"
    chown -R postgres: -- "$cluster"
    chmod 755 -- "$cluster"
  fi
  # --no-sync only spares initdb's own flushes; the running server keeps fsync on.
  as_server "$bin/initdb" -D "$cluster/data" -A trust -U pointsmall -E UTF8 --locale=C \
    --no-sync >"$cluster/initdb.log" 2>&1 ||
    fail "initdb failed: $(cat "$cluster/initdb.log")"
  as_server tee -a "$cluster/data/postgresql.conf" >/dev/null <<CONF

# pointsmall's private test server (scripts/postgres.sh)
listen_addresses = '127.0.0.1'
unix_socket_directories = '$cluster'
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
    echo "port = $port" | as_server tee -a "$cluster/data/postgresql.conf" >/dev/null
    rm -f -- "$cluster/log"
    if as_server "$bin/pg_ctl" start -D "$cluster/data" -l "$cluster/log" -w -t 60 >/dev/null; then
      echo "$port"
      return
    fi
    grep -q "Address already in use" "$cluster/log" 2>/dev/null ||
      fail "the server did not start (waited up to 60 s); its log, $cluster/log, ends with:
$(tail -20 "$cluster/log" 2>/dev/null)"
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
      fail "could not create the database pointsmall (see $cluster/log)"
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
