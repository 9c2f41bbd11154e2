#!/usr/bin/env python3
"""The flash redemption of bench/http_bench.sh --flash, before and after wrk's run.

  flash.py setup:  members, each with points enough to win every attempt they make, and one
                   service item with a small stock, all through the API; writes the plan, the
                   attempts' members shuffled (a member id a line, for bench/http_flash.lua).
  flash.py verify: reads wrk's output (RESULT and ANSWER lines) and checks through the API that
                   exactly `stock` attempts won and nothing was oversold: the winning answers, the
                   orders listed page by page, the item's counters and every member's held points
                   agree, and every other answer is a named mall problem. Prints the figures and
                   exits 1 when a check fails.
"""
import argparse
import collections
import concurrent.futures
import http.client
import json
import random
import sys
import threading

sys.dont_write_bytecode = True  # leave no __pycache__ in bench/ for the import below
from earning_rules import post  # noqa: E402

ITEM_ID = "flash"
POINTS_PRICE = 100
# The problem types a redemption is refused with by the mall (mall/catalog.h,
# mall/service/preparers.h). out_of_stock is the one a flash sale expects.
MALL_PROBLEMS = {
    "unknown_item", "item_unavailable", "item_not_eligible", "item_not_yet_available",
    "item_no_longer_available", "invalid_quantity", "limit_per_order", "out_of_stock",
    "limit_per_member", "limit_global", "tier_not_higher", "coupon_limit_reached",
    "order_id_taken",
}
SETUP_CONNECTIONS = 16  # setup speed matters little; in parallel the writer batches the commits
PAGE_LIMIT = 40         # orders a page: the 100 orders take three pages


def get(connection, key, path):
    """GETs `path` and returns the answer's JSON; exits unless the answer is 200."""
    connection.request("GET", path, headers={"Authorization": f"Bearer {key}"})
    response = connection.getresponse()
    text = response.read()
    if response.status != 200:
        sys.exit(f"GET {path}: HTTP {response.status} {text[:300]!r}")
    return json.loads(text)


def points_of(args):
    """The points each member is given: twice the price of every attempt it makes."""
    return POINTS_PRICE * args.attempts_per_member * 2


def setup(args):
    local = threading.local()

    def create_member(i):
        if not hasattr(local, "connection"):
            local.connection = http.client.HTTPConnection("127.0.0.1", args.port)
        member = post(local.connection, args.merchant_key, "/v1/members",
                      {"external_id": f"flash-member-{i}"}, f"flash-member-{i}")["id"]
        post(local.connection, args.operator_key, f"/v1/members/{member}/adjustments",
             {"points": points_of(args), "reason": "bench"}, f"flash-points-{i}")
        return member

    with concurrent.futures.ThreadPoolExecutor(SETUP_CONNECTIONS) as pool:
        members = list(pool.map(create_member, range(args.members)))
    connection = http.client.HTTPConnection("127.0.0.1", args.port)
    post(connection, args.operator_key, "/v1/items",
         {"id": ITEM_ID, "name": "Flash mug", "kind": "service", "points_price": POINTS_PRICE,
          "stock": args.stock})
    plan = [member for member in members for _ in range(args.attempts_per_member)]
    random.Random(args.seed).shuffle(plan)
    with open(args.plan, "w", encoding="ascii") as out:
        out.writelines(f"{member}\n" for member in plan)
    print(f"set up {len(members):,} members with {points_of(args):,} points each, item "
          f"{ITEM_ID!r} with stock {args.stock}, {len(plan):,} attempts shuffled "
          f"(seed {args.seed})")


def result_fields(line):
    """The numbers of a wrk script's RESULT line: {"requests": 1.0, ...}."""
    return {name: float(value) for name, value in
            (word.split("=", 1) for word in line.split()[1:])}


def read_wrk(path):
    """The RESULT line's numbers and the answers ("201", "409 out_of_stock") with their counts."""
    result, answers = None, {}
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            if line.startswith("RESULT "):
                result = result_fields(line)
            elif line.startswith("ANSWER "):
                name, count = line[len("ANSWER "):].rstrip("\n").rsplit("=", 1)
                answers[name] = int(count)
    if result is None:
        sys.exit(f"{path} has no RESULT line: wrk or bench/http_flash.lua failed")
    return result, answers


def list_orders(connection, key):
    """Every redemption order, newest first, page by page; and the number of pages."""
    orders, cursor, pages = [], None, 0
    while True:
        path = f"/v1/redemptions?limit={PAGE_LIMIT}" + (f"&cursor={cursor}" if cursor else "")
        page = get(connection, key, path)
        pages += 1
        orders.extend(page["data"])
        cursor = page["next_cursor"]
        if cursor is None:
            return orders, pages


def check_answers(result, answers, attempts, stock):
    """What is wrong with wrk's count of the attempts and their answers."""
    failures = []
    if not result["attempts"] == result["sent"] == result["answered"] == attempts:
        failures.append(f"{attempts:,} attempts planned, {result['attempts']:,.0f} shared out, "
                        f"{result['sent']:,.0f} sent, {result['answered']:,.0f} answered")
    if result["socket_errors"] != 0:
        failures.append(f"{result['socket_errors']:.0f} socket errors")
    if answers.get("201", 0) != stock:
        failures.append(f"{answers.get('201', 0)} attempts answered 201, not {stock}")
    unnamed = {name: n for name, n in answers.items()
               if name != "201" and name.split(" ", 1)[-1] not in MALL_PROBLEMS}
    if unnamed:
        failures.append(f"answers that are not a named mall problem: {unnamed}")
    return failures


def check_mall(connection, args, attempts_by_member):
    """What the API shows after the run, and what is wrong with it: the item's counters, the
    orders listed page by page, and every member's points (a winner holds the price of each unit
    it won; every other balance is untouched)."""
    failures = []
    item = get(connection, args.merchant_key, f"/v1/items/{ITEM_ID}")
    if (item["taken"], item["stock_left"]) != (args.stock, 0):
        failures.append(f"item {ITEM_ID}: taken {item['taken']}, stock_left {item['stock_left']}")
    orders, pages = list_orders(connection, args.merchant_key)
    if len(orders) != args.stock or len({order["id"] for order in orders}) != len(orders):
        failures.append(f"{len(orders)} orders listed ({len({o['id'] for o in orders})} "
                        f"different), not {args.stock}")
    odd = [order["id"] for order in orders
           if (order["item"]["id"], order["quantity"], order["state"], order["points"]) !=
           (ITEM_ID, 1, "reserved", POINTS_PRICE)]
    if odd:
        failures.append(f"orders not for one reserved unit of {ITEM_ID}: {odd[:5]}")
    won_by_member = collections.Counter(order["member_id"] for order in orders)
    if not set(won_by_member) <= set(attempts_by_member):
        failures.append("an order belongs to a member who made no attempt")
    held_total = 0
    for member in sorted(attempts_by_member):
        balance = get(connection, args.merchant_key, f"/v1/members/{member}/balance")
        held = POINTS_PRICE * won_by_member[member]
        held_total += balance["held"]
        if (balance["held"], balance["available"]) != (held, points_of(args) - held):
            failures.append(f"member {member} holds {balance['held']} and has "
                            f"{balance['available']} available after winning "
                            f"{won_by_member[member]}")
    shown = {"item": item, "orders": len(orders), "pages": pages, "winners": len(won_by_member),
             "most_won": max(won_by_member.values(), default=0), "held": held_total}
    return shown, failures


def print_figures(result, answers, nginx, shown, balances):
    seconds = result["seconds"]
    rate = result["answered"] / seconds if seconds > 0 else 0.0
    nginx_rate = nginx["requests"] / nginx["seconds"]
    item = shown["item"]
    for label, text in [
        ("nginx fixed 200", f"{nginx_rate:10,.0f} requests/s"),
        ("flash redemption", f"{rate:10,.0f} attempts/s   p50 {result['p50_us'] / 1000:.2f} ms"
                             f"   p99 {result['p99_us'] / 1000:.2f} ms   ({result['answered']:,.0f}"
                             f" attempts in {seconds:.3f} s)"),
        ("ratio flash/nginx", f"{rate / nginx_rate:10.2f}   (target >= 10,000 attempts/s)"),
        ("answers", "   ".join(f"{name}: {n:,}" for name, n in
                               sorted(answers.items(), key=lambda answer: -answer[1]))),
        ("orders listed", f"{shown['orders']:10,}   ({shown['pages']} pages of {PAGE_LIMIT}; "
                          f"{shown['winners']} members won, at most {shown['most_won']} units "
                          f"each)"),
        (f"item {ITEM_ID}", f"taken {item['taken']}, stock_left {item['stock_left']}; points "
                            f"held {shown['held']:,} over {balances:,} balances"),
    ]:
        print(f"{label + ':':27} {text}")


def verify(args):
    result, answers = read_wrk(args.wrk_output)
    with open(args.plan, encoding="ascii") as lines:
        plan = [int(line) for line in lines]
    attempts_by_member = collections.Counter(plan)
    connection = http.client.HTTPConnection("127.0.0.1", args.port)
    failures = check_answers(result, answers, len(plan), args.stock)
    shown, mall_failures = check_mall(connection, args, attempts_by_member)
    print_figures(result, answers, result_fields(args.nginx_result), shown,
                  len(attempts_by_member))
    for failure in failures + mall_failures:
        print(f"FAILED: {failure}")
    return 1 if failures or mall_failures else 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("step", choices=["setup", "verify"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--merchant-key", required=True)
    parser.add_argument("--operator-key", help="setup: creates the item and gives the points")
    parser.add_argument("--plan", required=True, help="the attempts' members, a line each")
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--attempts-per-member", type=int, default=5)
    parser.add_argument("--stock", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--wrk-output", help="verify: what wrk printed with bench/http_flash.lua")
    parser.add_argument("--nginx-result", help="verify: the reference's RESULT line")
    args = parser.parse_args()
    if args.step == "setup":
        setup(args)
        return 0
    return verify(args)


if __name__ == "__main__":
    sys.exit(main())
