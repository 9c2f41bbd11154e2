#!/usr/bin/env python3
"""Sets up the HTTP benchmark's program: members 1..N, and --rules earning rules of every kind
(item, member and time conditions; fixed, per-unit, multiplier and bonus effects; three kinds in
ten capped), saved through the API like an operator would."""
import argparse
import http.client
import json
import sys


def post(connection, key, path, body, idempotency_key=None):
    """POSTs `body` as JSON and returns the answer's JSON; exits unless the answer is 201."""
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    connection.request("POST", path, json.dumps(body), headers)
    response = connection.getresponse()
    text = response.read()
    if response.status != 201:
        sys.exit(f"POST {path}: HTTP {response.status} {text[:300]!r}")
    return json.loads(text)


def rule(i, dense):
    """Rule i of the program. A typical program has many rules that each apply to a few
    categories, brands, channels or days, so that a purchase fires a handful; `dense` makes most of
    them fire on every purchase (a worst case)."""
    usd = {"amount": 100, "currency": "USD"}
    hit = dense or i % 40 < 4  # about one rule in ten of each kind applies to the bench's orders
    kinds = [
        {"items": {"categories": ["apparel" if hit else f"cat-{i}"]},
         "effect": {"kind": "per_unit", "points": 1, "per": usd, "matching_items_only": True}},
        {"conditions": [{"field": "amount", "op": "gte", "value": 1000 if hit else 100000 + i}],
         "effect": {"kind": "fixed", "points": 5}},
        {"window": {"weekdays": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] if hit else ["sun"],
                    "hours": {"from": "00:00", "until": "24:00"} if hit else {"from": "03:00", "until": "03:01"}},
         "effect": {"kind": "multiplier", "percent": 110}},
        {"conditions": [{"field": "member.tags", "op": "any_of", "value": ["vip", f"tag-{i}"]}],
         "effect": {"kind": "bonus", "points": 25}},
        {"conditions": [{"field": "channel", "op": "eq", "value": "web" if hit else "app"}],
         "effect": {"kind": "fixed", "points": 2},
         "caps": {"per_member": [{"period": "day", "points": 50}]}},
        {"items": {"brands": ["acme" if hit else f"brand-{i}"]},
         "effect": {"kind": "per_unit", "points": 1, "per": usd, "base": "before_discounts",
                    "matching_items_only": True}},
        {"conditions": [{"field": "member.first_purchase", "op": "eq", "value": True}],
         "effect": {"kind": "bonus", "points": 100}},
        {"conditions": [{"field": "items.quantity", "op": "gte", "value": 3 if hit else 30}],
         "effect": {"kind": "bonus", "points": 3},
         "caps": {"per_member": [{"period": "day", "times": 1}]}},
        {"conditions": [{"field": "items.sku", "op": "any_of", "value": [f"pen-{i % 50}", "none"]}],
         "effect": {"kind": "fixed", "points": 1}},
        {"conditions": [{"field": "amount", "op": "between", "value": [500, 5000] if hit else [50000, 90000]},
                        {"field": "currency", "op": "eq", "value": "USD"}],
         "effect": {"kind": "per_unit", "points": 1, "per": {"amount": 1000, "currency": "USD"}},
         "caps": {"per_event": 10}},
    ]
    document = {"id": f"bench-{i}", "name": f"Benchmark rule {i}", "event_type": "purchase",
                "priority": i % 7}
    document.update(kinds[i % len(kinds)])
    return document


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--merchant-key", required=True)
    parser.add_argument("--admin-key", required=True)
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--rules", type=int, default=200)
    parser.add_argument("--dense", action="store_true", help="most rules fire on every purchase")
    args = parser.parse_args()
    connection = http.client.HTTPConnection("127.0.0.1", args.port)
    for i in range(args.members):
        post(connection, args.merchant_key, "/v1/members", {"external_id": f"bench-member-{i}"},
             f"bench-m-{i}")
    for i in range(args.rules):
        post(connection, args.admin_key, "/v1/rules", rule(i, args.dense))


if __name__ == "__main__":
    main()
