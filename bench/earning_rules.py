#!/usr/bin/env python3
"""Sets up the HTTP benchmark's program: members 1..N, and --rules earning rules of every kind
(item, member and time conditions; fixed, per-unit, multiplier and bonus effects; a fifth of them
capped per member and day), saved through the API like an operator would."""
import argparse
import http.client
import json
import sys


def post(connection, key, path, body, idempotency_key=None):
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    connection.request("POST", path, json.dumps(body), headers)
    response = connection.getresponse()
    text = response.read()
    if response.status != 201:
        sys.exit(f"POST {path}: HTTP {response.status} {text[:300]!r}")


def rule(i):
    usd = {"amount": 100, "currency": "USD"}
    kinds = [
        {"items": {"categories": ["apparel" if i % 20 == 0 else f"cat-{i}"]},
         "effect": {"kind": "per_unit", "points": 1, "per": usd, "matching_items_only": True}},
        {"conditions": [{"field": "amount", "op": "gte", "value": 1000 + i}],
         "effect": {"kind": "fixed", "points": 5}},
        {"window": {"weekdays": ["mon", "wed", "fri", "sun"], "hours": {"from": "08:00", "until": "22:00"}},
         "effect": {"kind": "multiplier", "percent": 110}},
        {"conditions": [{"field": "member.tags", "op": "any_of", "value": ["vip", f"tag-{i}"]}],
         "effect": {"kind": "bonus", "points": 25}},
        {"conditions": [{"field": "channel", "op": "eq", "value": "web"}],
         "effect": {"kind": "fixed", "points": 2},
         "caps": {"per_member": [{"period": "day", "points": 50}]}},
        {"items": {"brands": ["acme" if i % 20 == 5 else f"brand-{i}"]},
         "effect": {"kind": "per_unit", "points": 1, "per": usd, "base": "before_discounts",
                    "matching_items_only": True}},
        {"conditions": [{"field": "member.first_purchase", "op": "eq", "value": True}],
         "effect": {"kind": "bonus", "points": 100}},
        {"conditions": [{"field": "items.quantity", "op": "gte", "value": 3}],
         "effect": {"kind": "bonus", "points": 3},
         "caps": {"per_member": [{"period": "day", "times": 1}]}},
        {"conditions": [{"field": "items.sku", "op": "any_of", "value": [f"pen-{i % 50}", "none"]}],
         "effect": {"kind": "fixed", "points": 1}},
        {"conditions": [{"field": "amount", "op": "between", "value": [500, 5000]},
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
    args = parser.parse_args()
    connection = http.client.HTTPConnection("127.0.0.1", args.port)
    for i in range(args.members):
        post(connection, args.merchant_key, "/v1/members", {"external_id": f"bench-member-{i}"},
             f"bench-m-{i}")
    for i in range(args.rules):
        post(connection, args.admin_key, "/v1/rules", rule(i))


if __name__ == "__main__":
    main()
