#!/usr/bin/env bash
# The PostgreSQL benchmark: on one private server (scripts/postgres.sh), pgbench's TPC-B-like
# transaction, then http_bench.sh's earn phase (durable keyed purchase events of three items to
# --members members over --connections connections, the base rate only, bench/http_earn.lua)
# through one, two and three `pointsmall serve` nodes at once, each count on a fresh schema.
#
#   bash bench/postgres_bench.sh [--duration 20] [--connections 64] [--members 1000]
#                                [--nodes 3] [--build DIR] [--access-log]
#
# With N nodes, N wrk processes share the connections (one wrk per node) and send, between them,
# what one wrk sends in http_bench.sh. Prints pgbench's tps; for each node count the earns per
# second summed over the nodes, their ratio to pgbench's tps, p50/p99 (of the slowest node), and
# the CPU PostgreSQL's processes and the nodes used (cores: CPU seconds per second), measured from
# /proc; and what one earn costs PostgreSQL, hence the earn rate its CPU allows per core. The
# machine's load average and its busy cores (every process, other users' too) come with them:
# wrk, the nodes and the server share the machine.
# --access-log has the nodes write their access logs (off otherwise, as it costs CPU) and counts
# the earns they answered by status.
# Exits non-zero when wrk counts an error (a non-2xx answer or a socket error), a node does not
# stop cleanly or `pointsmall check` finds a fault; the other node counts still run.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=20
connections=64
members=1000
max_nodes=3
build=build
access_log=false
while (($# > 0)); do
  case "$1" in
    --duration) duration=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --members) members=$2; shift 2 ;;
    --nodes) max_nodes=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --access-log) access_log=true; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
threads=2  # wrk threads in all, as in http_bench.sh
pgbench_clients=16

bash scripts/install-deps.sh
if ! command -v wrk >/dev/null; then
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends wrk
fi
POINTSMALL_TARGETS=pointsmall bash scripts/build.sh "$build" >/dev/null
binary="$build/pointsmall"

work=$(mktemp -d)
node_pids=()
ports=()
wrk_pids=()
cleanup() {
  local pid
  for pid in "${wrk_pids[@]}" "${node_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  bash scripts/postgres.sh stop "$work/pg" || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() { echo "FAILED: $*" >&2; exit 1; }
load_average() { cut -d' ' -f1-3 /proc/loadavg; }

# Prints, read at one moment: the time, the CPU time the machine has used (every process, every
# user; not the time a virtual machine's host took its cores away, steal), the CPU time used by
# PostgreSQL (the postmaster $1, its children, the backends, and those it has reaped) and by the
# processes $2... (the nodes), in seconds. CPU time is user and system time, from /proc.
snapshot() {
  python3 - "$@" <<'PY'
import os, sys, time
tick = os.sysconf("SC_CLK_TCK")
postmaster, nodes = int(sys.argv[1]), {int(pid) for pid in sys.argv[2:]}
now = time.time()
with open("/proc/stat") as stat:
    user, nice, system, idle, iowait, irq, softirq = map(int, stat.readline().split()[1:8])
machine = user + nice + system + irq + softirq
database = node = 0
for entry in os.listdir("/proc"):
    if not entry.isdigit():
        continue
    try:
        with open(f"/proc/{entry}/stat") as stat:
            text = stat.read()
    except OSError:
        continue  # ended meanwhile
    fields = text[text.rindex(")") + 2:].split()  # fields[0] is field 3 of proc(5), the state
    ticks = sum(int(field) for field in fields[11:15])  # utime, stime, cutime, cstime
    if int(entry) == postmaster or int(fields[1]) == postmaster:
        database += ticks
    elif int(entry) in nodes:
        node += ticks
print(f"{now:.3f} {machine / tick} {database / tick} {node / tick}")
PY
}
# Prints the seconds between two snapshots $1 and $2, then the cores the machine, PostgreSQL and
# the nodes kept busy meanwhile (CPU seconds per second).
cores_between() {
  python3 - "$1" "$2" <<'PY'
import sys
before, after = ([float(field) for field in text.split()] for text in sys.argv[1:3])
seconds = after[0] - before[0]
print(f"{seconds:.3f}", *(f"{(a - b) / seconds:.2f}" for a, b in zip(after[1:], before[1:])))
PY
}
cores=$(nproc)
# Prints PostgreSQL's transactions committed in the database and its WAL flushes (fsyncs) so far.
# Backends report them when they end, or idle, at most once a second: read them with the clients
# gone.
database_counters() {
  psql "$url" -qAtX -F ' ' -c "SELECT (SELECT xact_commit FROM pg_stat_database
    WHERE datname = current_database()), (SELECT wal_sync FROM pg_stat_wal)"
}
# Prints how far each of the counters $1 has moved in $2.
counters_between() {
  python3 - "$1" "$2" <<'PY'
import sys
before, after = (text.split() for text in sys.argv[1:3])
print(*(int(a) - int(b) for b, a in zip(before, after)))
PY
}

# --- The server, and its postmaster, whose children are the backends.
url=$(bash scripts/postgres.sh start "$work/pg")
data_directory=$(psql "$url" -qAtX -c 'SHOW data_directory')
postmaster=$(head -1 "$data_directory/postmaster.pid")
[[ $postmaster =~ ^[0-9]+$ ]] || fail "no postmaster id in $data_directory/postmaster.pid"
echo "PostgreSQL: $(psql "$url" -qAtX -c 'SHOW server_version'), $url, postmaster $postmaster"
echo "load average at the start: $(load_average) ($cores cores)"

# --- pgbench's TPC-B-like transaction (the default script) in the public schema.
echo "pgbench: -i -s 10, then -c $pgbench_clients -j 2 -T $duration (TPC-B-like)"
pgbench -i -s 10 -q "$url" >"$work/pgbench-init.txt" 2>&1 ||
  fail "pgbench -i: $(tail -5 "$work/pgbench-init.txt")"
counters=$(database_counters)
before=$(snapshot "$postmaster")
pgbench -c "$pgbench_clients" -j 2 -T "$duration" "$url" >"$work/pgbench.txt" 2>&1 ||
  fail "pgbench: $(tail -5 "$work/pgbench.txt")"
read -r pgbench_seconds pgbench_machine_cores pgbench_db_cores _ < <(
  cores_between "$before" "$(snapshot "$postmaster")")
sleep 1  # pgbench's counters reported
read -r pgbench_commits pgbench_wal_syncs < <(counters_between "$counters" "$(database_counters)")
pgbench_tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$work/pgbench.txt" | head -1)
pgbench_latency=$(sed -n 's/^latency average = \([0-9.]*\) ms.*/\1/p' "$work/pgbench.txt")
[[ -n $pgbench_tps ]] || fail "no tps in pgbench's output: $(cat "$work/pgbench.txt")"
echo "pgbench: $pgbench_tps tps, latency average $pgbench_latency ms," \
  "PostgreSQL used $pgbench_db_cores of $cores cores"

# Waits for file $1, which node $2 writes once it listens.
wait_for_port_file() {
  for _ in $(seq 600); do
    if [[ -s $1 ]]; then return 0; fi
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

# Starts $1 nodes on $2 (sets node_pids and ports).
start_nodes() {
  local nodes=$1 node_url=$2 i
  node_pids=()
  ports=()
  for ((i = 0; i < nodes; i++)); do
    POINTSMALL_ACCESS_LOG=$access_log "$binary" serve --store "$node_url" \
      --listen 127.0.0.1:0 --port-file "$work/port-$nodes-$i" \
      >"$work/access-$nodes-$i.log" 2>"$work/node-$nodes-$i.log" &
    node_pids+=($!)
    wait_for_port_file "$work/port-$nodes-$i" "${node_pids[i]}" ||
      fail "node $i of $nodes did not start: $(tail -5 "$work/node-$nodes-$i.log")"
    ports+=("$(cat "$work/port-$nodes-$i")")
  done
}

# Drives the $1 nodes at once with the earn workload, merchant key $2: one wrk per node; between
# them the threads and connections of http_bench.sh's one wrk, and thread numbers that continue
# from one wrk to the next, so that no two send the same order id. Sets the figures of $1 nodes,
# all but PostgreSQL's counters.
drive_nodes() {
  local nodes=$1 merchant=$2 i node_connections before
  local wrk_threads=$((threads / nodes > 0 ? threads / nodes : 1))
  echo "$nodes node(s): $nodes wrk -t$wrk_threads, $connections connections in all," \
    "-d${duration}s, keyed purchase events to $members members (fsync and synchronous_commit on)"
  before=$(snapshot "$postmaster" "${node_pids[@]}")
  wrk_pids=()
  for ((i = 0; i < nodes; i++)); do
    node_connections=$((connections / nodes + (i < connections % nodes ? 1 : 0)))
    POINTSMALL_KEY=$merchant POINTSMALL_MEMBERS=$members \
      POINTSMALL_THREAD_BASE=$((i * wrk_threads)) \
      wrk -t"$wrk_threads" -c"$node_connections" -d"${duration}s" -s bench/http_earn.lua \
      "http://127.0.0.1:${ports[i]}" >"$work/wrk-$nodes-$i.txt" 2>&1 &
    wrk_pids+=($!)
  done
  for ((i = 0; i < nodes; i++)); do
    wait "${wrk_pids[i]}" || fail "wrk against node $i: $(cat "$work/wrk-$nodes-$i.txt")"
  done
  wrk_pids=()
  read -r "seconds[$nodes]" "machine_cores[$nodes]" "db_cores[$nodes]" "node_cores[$nodes]" < <(
    cores_between "$before" "$(snapshot "$postmaster" "${node_pids[@]}")")
  load[$nodes]=$(load_average)
  # Rates add up over the nodes; of the latencies, the slowest node's.
  for ((i = 0; i < nodes; i++)); do
    grep RESULT "$work/wrk-$nodes-$i.txt" ||
      fail "no RESULT from wrk against node $i: $(cat "$work/wrk-$nodes-$i.txt")"
  done >"$work/results-$nodes"
  read -r "rate[$nodes]" "p50_us[$nodes]" "p99_us[$nodes]" "errors[$nodes]" "earns[$nodes]" < <(
    python3 - "$work/results-$nodes" <<'PY'
import re, sys
results = [dict(re.findall(r"(\w+)=([0-9.]+)", line)) for line in open(sys.argv[1])]
print(sum(float(r["requests"]) / float(r["seconds"]) for r in results),
      max(int(r["p50_us"]) for r in results), max(int(r["p99_us"]) for r in results),
      sum(int(r["errors"]) for r in results), sum(int(r["requests"]) for r in results))
PY
  )
  if ((errors[$nodes] > 0)); then
    echo "FAILED: wrk counted ${errors[$nodes]} errors (non-2xx answers or socket errors)"
    failed=1
  fi
}

# Stops the nodes (SIGTERM: they answer what they have begun), then says what they logged.
stop_nodes() {
  local nodes=$1 i said
  for ((i = 0; i < nodes; i++)); do
    kill -TERM "${node_pids[i]}"
    if ! wait "${node_pids[i]}"; then
      echo "FAILED: node $i of $nodes did not stop cleanly: $(tail -5 "$work/node-$nodes-$i.log")"
      failed=1
    fi
  done
  node_pids=()
  said=$(cat "$work"/node-"$nodes"-*.log | grep -v '^pointsmall: \(serving\|stopped\)' || true)
  if [[ -n $said ]]; then echo "the nodes said: $(head -10 <<<"$said")"; fi
  if [[ $access_log == true ]]; then
    echo "earns answered, by status, over the nodes:" \
      "$(cat "$work"/access-"$nodes"-*.log | grep -o '"route":"/v1/events","status":[0-9]*' |
        sed 's/.*://' | sort | uniq -c | tr -s ' \n' ' ')"
  fi
}

# --- The earn benchmark through $1 nodes on the fresh schema bench_$1. Sets the figures of $1
# nodes in the arrays below; sets failed when a check fails.
declare -A seconds rate p50_us p99_us errors earns db_cores node_cores machine_cores load \
  commits wal_syncs
failed=0
run_nodes() {
  local nodes=$1 schema="bench_$1" node_url merchant admin counters check_out
  node_url="$url?options=-csearch_path%3D$schema"
  psql "$url" -qAtX -v ON_ERROR_STOP=1 -c "CREATE SCHEMA $schema"
  merchant=$("$binary" apikey create --store "$node_url" --name bench --role merchant | tail -1)
  admin=$("$binary" apikey create --store "$node_url" --name bench-admin --role admin | tail -1)
  start_nodes "$nodes" "$node_url"
  python3 bench/earning_rules.py --port "${ports[0]}" --merchant-key "$merchant" \
    --admin-key "$admin" --members "$members" --rules 0
  sleep 1  # the setup's counters reported
  counters=$(database_counters)
  drive_nodes "$nodes" "$merchant"
  stop_nodes "$nodes"
  read -r "commits[$nodes]" "wal_syncs[$nodes]" < <(
    counters_between "$counters" "$(database_counters)")
  if check_out=$("$binary" check --store "$node_url" 2>&1); then
    echo "check: $(tail -1 <<<"$check_out")"
  else
    echo "$check_out"; echo "FAILED: pointsmall check on $schema"; failed=1
  fi
  # Every earn counted must be a new one, not a replay of a repeated key.
  local journal
  journal=$(psql "$url" -qAtX -c "SELECT count(*) FROM $schema.transactions WHERE kind = 'earn'")
  echo "journal: $journal earn transactions for ${earns[$nodes]} earns answered"
  if ((journal < earns[nodes])); then
    echo "FAILED: fewer earn transactions than earns answered: some answers were replays"
    failed=1
  fi
}

for ((nodes = 1; nodes <= max_nodes; nodes++)); do
  run_nodes "$nodes"
done

# --- The summary.
echo
echo "load average at the end: $(load_average) ($cores cores)"
{
  echo "$pgbench_tps $pgbench_seconds $pgbench_db_cores $pgbench_machine_cores $pgbench_commits" \
    "$pgbench_wal_syncs"
  for ((nodes = 1; nodes <= max_nodes; nodes++)); do
    echo "$nodes ${rate[$nodes]} ${p50_us[$nodes]} ${p99_us[$nodes]} ${errors[$nodes]}" \
      "${earns[$nodes]} ${seconds[$nodes]} ${db_cores[$nodes]} ${node_cores[$nodes]}" \
      "${machine_cores[$nodes]} ${commits[$nodes]} ${wal_syncs[$nodes]} ${load[$nodes]}"
  done
} >"$work/figures"
python3 - "$work/figures" "$cores" <<'PY'
import sys
lines = [line.split() for line in open(sys.argv[1])]
cores = int(sys.argv[2])
tps, seconds, db, machine, commits, wal_syncs = map(float, lines[0])
print(f"pgbench TPC-B-like: {tps:.0f} tps; PostgreSQL {db:.2f} cores, every process"
      f" {machine:.2f} of {cores}; {db / tps * 1e6:.0f} us of PostgreSQL's CPU per transaction;"
      f" {tps * seconds / max(wal_syncs, 1):.1f} transactions per WAL flush")
print(f"cores: CPU seconds per second (of {cores}) over the phase: PostgreSQL's processes, the"
      " nodes, every process; us/earn: PostgreSQL's CPU; xact: a transaction committed")
print("nodes  earns/s  x pgbench  x 1 node  p50 ms  p99 ms  errors  PG cores  node cores"
      "  busy cores  PG us/earn  earns/xact  earns/WAL flush  load average")
one = float(lines[1][1])
least_us = None
for nodes, rate, p50, p99, errors, earns, seconds, db, node, machine, commits, flushes, *load in \
        lines[1:]:
    rate, earns, seconds = float(rate), float(earns), float(seconds)
    us = float(db) * seconds / max(earns, 1) * 1e6
    least_us = us if least_us is None else min(least_us, us)
    print(f"{nodes:>5} {rate:8.0f} {rate / tps:10.2f} {rate / one:9.2f} {float(p50) / 1000:7.1f}"
          f" {float(p99) / 1000:7.1f} {errors:>7} {db:>9} {node:>11} {machine:>11} {us:11.0f}"
          f" {earns / max(int(commits), 1):11.2f} {earns / max(int(flushes), 1):16.1f}"
          f"  {' '.join(load)}")
print(f"one earn costs PostgreSQL {least_us:.0f} us of CPU at least: its CPU alone would allow"
      f" about {1e6 / least_us:.0f} earns/s per core, {cores * 1e6 / least_us:.0f} on all {cores}"
      f" of this machine's cores, {16 * 1e6 / least_us:.0f} on a database server of 16")
verdict = "met" if one >= 3 * tps else "not met"
print(f"target one node >= 3 x pgbench's tps: {verdict} ({one / tps:.2f} x)")
PY
if ((failed)); then
  echo "FAILED: see above" >&2
  exit 1
fi
