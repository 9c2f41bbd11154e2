#include "mall/service/mall_audit.h"

#include <map>

#include "mall/service/preparers.h"

namespace pointsmall::mall {
namespace {

constexpr std::size_t kPage = store::LedgerStore::kMaxRecordPage;

// Calls `visit` for every record of `kind`, newest first.
template <typename Visit>
void each_record(store::LedgerStore& ledger, const std::string& kind, Visit&& visit) {
  std::int64_t before = 0;
  for (;;) {
    const auto page = ledger.records({kind, 0, "", before, kPage});
    for (const store::Record& record : page) visit(record);
    if (page.size() < kPage) return;
    before = page.back().seq;
  }
}

ledger::HoldState expected_hold(OrderState state) {
  switch (state) {
    case OrderState::awaiting_payment:
    case OrderState::reserved:
      return ledger::HoldState::open;
    case OrderState::cancelled:
    case OrderState::failed:
      return ledger::HoldState::released;
    default:
      return ledger::HoldState::captured;
  }
}

void check_order(store::LedgerStore& ledger, const Order& order, MallAudit& audit) {
  const auto hold = ledger.hold(order.member_id, hold_ref_of(order.id));
  const std::string name =
      "order " + order.id + " (" + std::string(order_state_name(order.state)) + ")";
  if (!hold) {
    audit.findings.push_back(name + ": its hold is missing");
    return;
  }
  if (hold->points != order.points)
    audit.findings.push_back(name + ": holds " + std::to_string(hold->points) +
                             " points, the order says " + std::to_string(order.points));
  if (hold->state != expected_hold(order.state))
    audit.findings.push_back(name + ": its hold is " +
                             std::string(ledger::hold_state_name(hold->state)));
}

void check_items(store::LedgerStore& ledger, const Catalog& catalog,
                 const std::map<std::string, std::int64_t>& units, MallAudit& audit) {
  std::vector<CounterKey> keys;
  std::map<std::string, std::int64_t> expected = units;
  for (const auto& [id, item] : catalog.items) expected.emplace(id, 0);
  keys.reserve(expected.size());
  for (const auto& [id, count] : expected) keys.push_back({0, "item:" + id + ":taken"});
  const Counters taken = ledger.counters(keys);
  for (const auto& [id, count] : expected) {
    ++audit.items_checked;
    const std::int64_t counted = counter_value(taken, {0, "item:" + id + ":taken"});
    if (counted != count)
      audit.findings.push_back("item " + id + ": " + std::to_string(counted) +
                               " units counted as taken, its orders hold " + std::to_string(count));
    const Item* item = catalog.item(id);
    if (item != nullptr && item->stock && counted > *item->stock)
      audit.findings.push_back("item " + id + ": oversold, " + std::to_string(counted) +
                               " taken of a stock of " + std::to_string(*item->stock));
  }
}

void check_coupons(store::LedgerStore& ledger, const Catalog& catalog,
                   const std::map<std::string, std::int64_t>& issued, MallAudit& audit) {
  std::vector<CounterKey> keys;
  keys.reserve(issued.size());
  for (const auto& [id, count] : issued) keys.push_back({0, "coupon:" + id + ":issued"});
  const Counters counted = ledger.counters(keys);
  for (const auto& [id, count] : issued) {
    const std::int64_t counter = counter_value(counted, {0, "coupon:" + id + ":issued"});
    if (counter != count)
      audit.findings.push_back("coupon template " + id + ": " + std::to_string(counter) +
                               " counted as issued, " + std::to_string(count) + " coupons exist");
    const CouponTemplate* coupon_template = catalog.coupon_template(id);
    if (coupon_template != nullptr && coupon_template->global_cap > 0 &&
        counter > coupon_template->global_cap)
      audit.findings.push_back("coupon template " + id + ": " + std::to_string(counter) +
                               " issued over a cap of " +
                               std::to_string(coupon_template->global_cap));
  }
}

}  // namespace

MallAudit audit_mall(store::LedgerStore& ledger, const Catalog& catalog) {
  MallAudit audit;
  std::map<std::string, std::int64_t> units;  // by item: units of orders not given back
  each_record(ledger, kRedemptionRecord, [&](const store::Record& record) {
    const Order order = order_of(record);
    ++audit.orders_checked;
    if (order.state != OrderState::cancelled && order.state != OrderState::failed)
      units[order.item_id] += order.quantity;
    else
      units.emplace(order.item_id, 0);
    check_order(ledger, order, audit);
  });
  check_items(ledger, catalog, units, audit);
  std::map<std::string, std::int64_t> issued;  // by template: coupons not from a pool
  each_record(ledger, kCouponRecord, [&](const store::Record& record) {
    const Coupon coupon = coupon_of(record);
    ++audit.coupons_checked;
    if (coupon.source != kCouponSourcePool) ++issued[coupon.template_id];
  });
  check_coupons(ledger, catalog, issued, audit);
  return audit;
}

}  // namespace pointsmall::mall
