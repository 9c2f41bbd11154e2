#!/usr/bin/env bash
# The program's main job on the embedded default (SQLite): installs what is missing, builds, and
# serves the HTTP API on http://127.0.0.1:8080 (POINTSMALL_LISTEN to change it).
# On first start it replays the Online Retail data set into the ledger (4,334 members with a year
# of purchases and refunds), checks every invariant, and creates an admin API key, kept in
# DATA_DIR/admin.key (readable by you only) and printed with example calls.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
POINTSMALL_TARGETS=pointsmall scripts/build.sh build
data_dir=${POINTSMALL_DATA_DIR:-data/ledger}
listen=${POINTSMALL_LISTEN:-127.0.0.1:8080}
key_file="$data_dir/admin.key"

if [[ ! -f "$key_file" ]]; then
  if [[ ! -e "$data_dir/pointsmall.db" ]]; then
    build/pointsmall import online-retail data/online_retail.csv.gz --data-dir "$data_dir"
    build/pointsmall check --data-dir "$data_dir"
  fi
  key=$(build/pointsmall apikey create --data-dir "$data_dir" --name "admin-$(date +%s)" --role admin | tail -1)
  (umask 077 && printf '%s\n' "$key" >"$key_file")
fi
key=$(cat "$key_file")
# The imported shop sells in pounds sterling, in London.
config_file="$data_dir/pointsmall.toml"
if [[ ! -f "$config_file" ]]; then
  cat >"$config_file" <<TOML
[program]
currency = "GBP"
points_per_unit = { GBP = 1 }
time_zone = "Europe/London"
TOML
fi
cat <<TEXT

Try it (the admin API key is in $key_file):
  curl -s http://$listen/healthz
  curl -s -H "Authorization: Bearer $key" "http://$listen/v1/members?external_id=12346"
  curl -s -H "Authorization: Bearer $key" http://$listen/v1/members/1/balance
  curl -s -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \\
       -H 'Idempotency-Key: first-purchase' \\
       -d '{"type":"purchase","member_id":1,"order_id":"web-1","amount":{"amount":1999,"currency":"GBP"}}' \\
       http://$listen/v1/events
  curl -s -H "Authorization: Bearer $key" http://$listen/v1/rules
  curl -s -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \\
       -d '{"from":"2010-12-01T00:00:00Z","until":"2011-12-10T00:00:00Z","draft":{"rules":[{"id":"weekend","name":"Double at weekends","event_type":"purchase","window":{"weekdays":["sat","sun"]},"effect":{"kind":"multiplier","percent":200}}]}}' \\
       http://$listen/v1/simulations
  curl -s -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \\
       -d '{"id":"tote-bag","name":"Tote bag","kind":"physical","points_price":10,"stock":100,"limits":{"per_member":{"units":1,"period":"lifetime"}}}' \\
       http://$listen/v1/items
  curl -s -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \\
       -H 'Idempotency-Key: first-redemption' \\
       -d '{"member_id":1,"item_id":"tote-bag","shipping_address":{"name":"A Customer","line1":"1 High Street","city":"London","postal_code":"N1 1AA","country":"GB"}}' \\
       http://$listen/v1/redemptions
The API is described in docs/api.md and docs/openapi.yaml; earning rules in docs/earning.md; the
mall (items, redemptions, coupons) in docs/mall.md.

TEXT
exec build/pointsmall serve --config "$config_file" --data-dir "$data_dir" --listen "$listen"
