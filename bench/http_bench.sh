#!/usr/bin/env bash
# The HTTP benchmark: durable keyed purchase events through the whole pipeline (HTTP, JSON, auth,
# ledger decision, group commit with synchronous=FULL) against nginx answering a fixed 200 on the
# same machine, both driven by wrk with the same threads and connections.
#
#   bash bench/http_bench.sh [--duration 20] [--connections 64] [--members 1000] [--build DIR]
#                            [--rules 200] [--dense] [--flash]
#
# Prints both rates, their ratio and the earn p99, then checks the ledger. With --rules N (default
# 200) it runs the earn phase a second time on a fresh ledger with N more earning rules in force
# (bench/earning_rules.py: item, member and time conditions, multipliers, bonuses, caps; most
# apply to other categories, brands, channels or days, so a purchase fires about a dozen; with
# --dense most fire on every purchase) and prints what rule evaluation costs the earn path.
#
# --flash runs the flash redemption instead of the earn phases, after the same nginx reference:
# 100 units of one item, 10,000 redemption attempts from 2,000 members over the same connections
# (bench/flash.py sets it up and judges it, bench/http_flash.lua sends the attempts). It prints
# attempts per second, p50/p99, the answers by status and problem type and the ratio to nginx,
# and exits non-zero unless exactly 100 attempts won, nothing was oversold, every refusal is a
# named mall problem and the ledger checks clean.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=20
connections=64
members=1000
rules=200
dense=()
flash=0
build=build
while (($# > 0)); do
  case "$1" in
    --duration) duration=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --members) members=$2; shift 2 ;;
    --rules) rules=$2; shift 2 ;;
    --dense) dense=(--dense); shift ;;
    --flash) flash=1; shift ;;
    --build) build=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
threads=2

bash scripts/install-deps.sh
for tool in wrk nginx; do
  if ! command -v "$tool" >/dev/null; then
    sudo_cmd=()
    if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends wrk nginx-light
  fi
done
POINTSMALL_TARGETS=pointsmall bash scripts/build.sh "$build" >/dev/null
binary="$build/pointsmall"

work=$(mktemp -d)
server_pid=""
nginx_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; fi
  if [[ -n "$nginx_pid" ]]; then kill "$nginx_pid" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for_port() {
  for _ in $(seq 200); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  echo "nothing listens on port $1" >&2
  exit 1
}
result_field() { sed -n "s/.*$2=\([0-9.]*\).*/\1/p" <<<"$1"; }
# Prints a new API key with role $3 named $2 for the ledger in $1.
new_key() { "$binary" apikey create --data-dir "$1" --name "$2" --role "$3" | tail -1; }
# Serves the ledger in $1 on a free port (sets port and server_pid); the access log goes to $2.
start_server() {
  port=$(free_port)
  "$binary" serve --data-dir "$1" --listen "127.0.0.1:$port" >"$2" 2>"$work/server.log" &
  server_pid=$!
  wait_for_port "$port"
}
stop_server() {
  kill -TERM "$server_pid"; wait "$server_pid" || { echo "server did not stop cleanly" >&2; exit 1; }
  server_pid=""
}

# --- Reference: nginx, a fixed 200, no access log, one worker per core.
nginx_port=$(free_port)
mkdir -p "$work/nginx"
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes auto;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx;
  server {
    listen 127.0.0.1:$nginx_port;
    location / { return 200 "ok"; }
  }
}
CONF
nginx -c "$work/nginx/nginx.conf" &
nginx_pid=$!
wait_for_port "$nginx_port"
echo "nginx: wrk -t$threads -c$connections -d${duration}s on a fixed 200"
nginx_out=$(wrk -t"$threads" -c"$connections" -d"${duration}s" -s bench/http_fixed.lua \
  "http://127.0.0.1:$nginx_port/" | grep RESULT)
kill "$nginx_pid"; wait "$nginx_pid" 2>/dev/null || true; nginx_pid=""

# --- The flash redemption: 10,000 attempts at 100 units (bench/flash.py), then the verdict.
# Returns non-zero when a check fails.
run_flash() {
  local data="$work/ledger-flash" stock=100 merchant operator failed=0 check_out redeemed
  merchant=$(new_key "$data" bench merchant)
  operator=$(new_key "$data" bench-operator operator)
  start_server "$data" "$work/access-flash.log"
  local flash_args=(--port "$port" --merchant-key "$merchant" --plan "$work/flash-plan"
    --stock "$stock")
  python3 bench/flash.py setup "${flash_args[@]}" --operator-key "$operator"
  echo "pointsmall: wrk -t$threads -c$connections sending each attempt once (durable," \
    "synchronous=FULL), stopping when all are answered"
  mkdir "$work/flash-done"
  # -d only bounds the run: http_flash.lua ends wrk when every attempt is answered.
  POINTSMALL_KEY=$merchant POINTSMALL_FLASH_ITEM=flash POINTSMALL_FLASH_PLAN="$work/flash-plan" \
    POINTSMALL_FLASH_THREADS=$threads POINTSMALL_FLASH_DONE="$work/flash-done" \
    wrk -t"$threads" -c"$connections" -d120s --timeout 10s -s bench/http_flash.lua \
    "http://127.0.0.1:$port" >"$work/flash-wrk.txt"
  python3 bench/flash.py verify "${flash_args[@]}" --wrk-output "$work/flash-wrk.txt" \
    --nginx-result "$nginx_out" || failed=1
  stop_server
  redeemed=$(grep -c '"route":"/v1/redemptions","status":201' "$work/access-flash.log" || true)
  echo "access log:                 $redeemed redemptions answered 201"
  if ((redeemed != stock)); then
    echo "FAILED: the access log has $redeemed redemptions won"; failed=1
  fi
  if check_out=$("$binary" check --data-dir "$data"); then
    tail -1 <<<"$check_out"
  else
    echo "$check_out"; echo "FAILED: pointsmall check"; failed=1
  fi
  return "$failed"
}
if ((flash)); then
  run_flash  # set -e: a failed check exits non-zero here
  exit 0
fi

# --- pointsmall: keyed purchase events (three items each), durable. $1: extra rules.
run_pointsmall() {
  local extra_rules=$1
  data="$work/ledger-$extra_rules"
  key=$(new_key "$data" bench merchant)
  local admin
  admin=$(new_key "$data" bench-admin admin)
  start_server "$data" "$work/access-$extra_rules.log"
  python3 bench/earning_rules.py --port "$port" --merchant-key "$key" --admin-key "$admin" \
    --members "$members" --rules "$extra_rules" "${dense[@]}"
  echo "pointsmall: wrk -t$threads -c$connections -d${duration}s posting keyed purchase events" \
    "to $members members (synchronous=FULL), $extra_rules rules besides the base rate"
  earn_out=$(POINTSMALL_KEY=$key POINTSMALL_MEMBERS=$members \
    wrk -t"$threads" -c"$connections" -d"${duration}s" -s bench/http_earn.lua \
    "http://127.0.0.1:$port" | grep RESULT)
  # What one more purchase fires: the rules' share of the work.
  fired=$(curl -s -H "Authorization: Bearer $key" -H "Content-Type: application/json" \
    "http://127.0.0.1:$port/v1/events?dry_run=true" -d '{"type":"purchase","member_id":1,
    "order_id":"probe","amount":{"amount":1999,"currency":"USD"},"channel":"web","items":[
    {"sku":"tee-1","category":"apparel","brand":"acme","price":{"amount":999,"currency":"USD"},"quantity":1},
    {"sku":"mug-2","category":"home","brand":"acme","price":{"amount":500,"currency":"USD"},"quantity":1},
    {"sku":"pen-7","category":"office","brand":"inkco","price":{"amount":250,"currency":"USD"},"quantity":2}]}' |
    python3 -c 'import json,sys; print(len(json.load(sys.stdin)["explanation"]))')
  echo "a purchase fires $fired rules"
  stop_server
  accepted=$(grep -c '"route":"/v1/events","status":201' "$work/access-$extra_rules.log" || true)
  "$binary" check --data-dir "$data" | tail -1
}
run_pointsmall 0
base_out=$earn_out
base_accepted=$accepted
if ((rules > 0)); then
  run_pointsmall "$rules"
  rules_out=$earn_out
fi
earn_out=$base_out
accepted=$base_accepted

nginx_requests=$(result_field "$nginx_out" requests)
nginx_seconds=$(result_field "$nginx_out" seconds)
earn_requests=$(result_field "$earn_out" requests)
earn_seconds=$(result_field "$earn_out" seconds)
earn_errors=$(result_field "$earn_out" errors)
earn_p99=$(result_field "$earn_out" p99_us)
earn_p50=$(result_field "$earn_out" p50_us)
python3 - <<PY
nginx = $nginx_requests / $nginx_seconds
earn = $earn_requests / $earn_seconds
print(f"nginx fixed 200:            {nginx:10.0f} requests/s")
print(f"pointsmall durable earns:   {earn:10.0f} requests/s   p50 {$earn_p50 / 1000:.2f} ms   p99 {$earn_p99 / 1000:.2f} ms")
print(f"ratio earn/nginx:           {earn / nginx:10.2f}   (target >= 0.5; p99 target < 10 ms)")
print(f"earns answered 201:         {$accepted:10d}   non-2xx or socket errors: $earn_errors")
PY
if ((rules > 0)); then
  rules_requests=$(result_field "$rules_out" requests)
  rules_seconds=$(result_field "$rules_out" seconds)
  rules_p99=$(result_field "$rules_out" p99_us)
  rules_errors=$(result_field "$rules_out" errors)
  python3 - <<PY
earn = $earn_requests / $earn_seconds
with_rules = $rules_requests / $rules_seconds
print(f"with $rules more rules:       {with_rules:10.0f} requests/s   p99 {$rules_p99 / 1000:.2f} ms   errors: $rules_errors")
print(f"rule evaluation costs:      {100 * (earn / with_rules - 1):9.1f} % more time per earn (target < 10 %)")
PY
fi
