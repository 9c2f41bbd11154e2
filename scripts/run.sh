#!/usr/bin/env bash
# The program's main job on the embedded default (SQLite): installs what is missing, builds the
# server and the web front end, and serves both on http://127.0.0.1:8080 (POINTSMALL_LISTEN to
# change it): the member's points mall at / and the operators' console at /admin/.
# On first start it seeds a demo program (`pointsmall demo`: tiers, rules, campaigns, a catalog of
# about 60 items, and a real year of an online shop's customers replayed into the ledger up to
# yesterday), checks every invariant, and prints how a member and an operator sign in; the demo's
# admin API key is kept in DATA_DIR/admin.key (readable by you only) and printed with example calls.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
POINTSMALL_TARGETS=pointsmall scripts/build.sh build
scripts/web.sh build
data_dir=${POINTSMALL_DATA_DIR:-data/ledger}
listen=${POINTSMALL_LISTEN:-127.0.0.1:8080}
key_file="$data_dir/admin.key"
demo_file="$data_dir/demo.json"
config_file="$data_dir/pointsmall.toml"

if [[ ! -e "$data_dir/pointsmall.db" ]]; then
  build/pointsmall demo --data-dir "$data_dir" --quiet
  build/pointsmall check --data-dir "$data_dir"
fi
if [[ ! -f "$key_file" ]]; then
  if [[ -f "$demo_file" ]]; then
    key=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["api_key"])' "$demo_file")
  else
    key=$(build/pointsmall apikey create --data-dir "$data_dir" --name "admin-$(date +%s)" --role admin | tail -1)
  fi
  (umask 077 && printf '%s\n' "$key" >"$key_file")
fi
key=$(cat "$key_file")
# A store made before the demo existed: the imported shop sells in pounds sterling, in London.
if [[ ! -f "$config_file" ]]; then
  cat >"$config_file" <<TOML
[program]
currency = "GBP"
points_per_unit = { GBP = 1 }
time_zone = "Europe/London"
TOML
fi
if [[ -f "$demo_file" ]]; then
  python3 - "$demo_file" "$listen" <<'PY'
import json, sys
demo, listen = json.load(open(sys.argv[1])), sys.argv[2]
member, operator = demo["member"], demo["operator"]
print(f"""
The points mall:  http://{listen}/        sign in as {member["login"]} / {member["password"]}
The console:      http://{listen}/admin/  sign in as {operator["name"]} / {operator["password"]}
                  with a code from an authenticator app holding the TOTP secret {operator["totp_secret"]}
                  (otpauth://totp/pointsmall:{operator["name"]}?secret={operator["totp_secret"]}&issuer=pointsmall)""")
PY
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
exec build/pointsmall serve --config "$config_file" --data-dir "$data_dir" --listen "$listen" --web-dir web/dist
