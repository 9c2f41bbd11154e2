#include "mall/service/preparers.h"

#include <algorithm>
#include <stdexcept>

#include "earning/preparers.h"

namespace pointsmall::mall {
namespace {

store::Preparation refused(std::string problem, std::string detail) {
  store::Preparation preparation;
  preparation.refusal = store::Refusal{std::move(problem), std::move(detail)};
  return preparation;
}

void merge(Counters& into, const Counters& updates) {
  for (const auto& [key, value] : updates) into[key] = value;
}

CounterKey issued_counter(const std::string& template_id, MemberId scope) {
  return CounterKey{scope, "coupon:" + template_id + ":issued"};
}

std::string in_quotes(const std::string& text) {
  return "\"" + text + "\"";
}

store::Record order_record(const Order& order, TimeUs at_us) {
  return store::Record{kRedemptionRecord,
                       order.id,
                       0,
                       order.member_id,
                       std::string(order_state_name(order.state)),
                       order.created_at_us,
                       at_us,
                       order_to_json(order).dump()};
}

store::Record coupon_record(const Coupon& coupon, TimeUs at_us) {
  return store::Record{kCouponRecord,
                       coupon.code,
                       0,
                       coupon.member_id,
                       std::string(coupon_state_name(coupon.state)),
                       coupon.issued_at_us,
                       at_us,
                       coupon_to_json(coupon).dump()};
}

int level_of_tier(const rules::Program& program, const std::string& tier_id) {
  if (!program.tiers) return -1;
  const auto& tiers = program.tiers->tiers;
  for (std::size_t i = 0; i < tiers.size(); ++i)
    if (tiers[i].id == tier_id) return static_cast<int>(i);
  return -1;
}

// The counters that delivering `item` at once reads (coupon caps, or the tier's counters).
std::vector<CounterKey> delivery_counters(const MallSnapshot& snapshot, const Item& item,
                                          MemberId member, TimeUs at_us) {
  if (item.kind == ItemKind::coupon)
    return {issued_counter(item.coupon_template, 0), issued_counter(item.coupon_template, member)};
  if (item.kind == ItemKind::tier_upgrade) {
    auto keys = rules::tier_counters_needed(*snapshot.program, member, at_us);
    keys.push_back({member, "tier"});
    return keys;
  }
  return {};
}

// Counts `count` coupons of the template for `member` against its caps (at reservation, so
// that a paid order's coupons are always there to issue), or refuses: the template's fixed window
// has ended (its coupons would be born expired), or a cap is reached.
std::optional<store::Refusal> reserve_coupons(const CouponTemplate& coupon_template,
                                              MemberId member, std::int64_t count,
                                              const Counters& current, TimeUs at_us,
                                              store::Preparation& preparation) {
  if (issue_validity(coupon_template, at_us).valid_until_us <= at_us)
    return store::Refusal{
        std::string(kCouponExpired),
        "coupons of " + coupon_template.name + " are no longer valid; none can be issued"};
  const CounterKey global = issued_counter(coupon_template.id, 0);
  const CounterKey mine = issued_counter(coupon_template.id, member);
  const std::int64_t issued = counter_value(current, global);
  const std::int64_t held = counter_value(current, mine);
  if (coupon_template.global_cap > 0 && issued + count > coupon_template.global_cap)
    return store::Refusal{kCouponLimitReached, "all " + std::to_string(coupon_template.global_cap) +
                                                   " coupons of this kind have been issued"};
  if (coupon_template.per_member_cap > 0 && held + count > coupon_template.per_member_cap)
    return store::Refusal{kCouponLimitReached, "at most " +
                                                   std::to_string(coupon_template.per_member_cap) +
                                                   " of these coupons per member; the member has " +
                                                   std::to_string(held)};
  preparation.counter_updates[global] = issued + count;
  preparation.counter_updates[mine] = held + count;
  return std::nullopt;
}

// Gives back the caps an order counted and never issued (cancelled before payment).
void unreserve_coupons(const std::string& template_id, MemberId member, std::int64_t count,
                       const Counters& current, store::Preparation& preparation) {
  for (const CounterKey& key :
       {issued_counter(template_id, 0), issued_counter(template_id, member)})
    preparation.counter_updates[key] =
        std::max<std::int64_t>(0, counter_value(current, key) - count);
}

// Writes the coupons of `codes` for `member` (their caps counted already).
void write_coupons(const CouponTemplate& coupon_template, MemberId member,
                   const std::vector<std::string>& codes, std::string_view source, TimeUs at_us,
                   store::Preparation& preparation) {
  const CouponWindow window = issue_validity(coupon_template, at_us);
  for (const std::string& code : codes) {
    Coupon coupon;
    coupon.code = code;
    coupon.template_id = coupon_template.id;
    coupon.member_id = member;
    coupon.state = CouponState::issued;
    coupon.issued_at_us = at_us;
    coupon.valid_from_us = window.valid_from_us;
    coupon.valid_until_us = window.valid_until_us;
    coupon.source = std::string(source);
    preparation.record_writes.push_back(coupon_record(coupon, at_us));
  }
}

// Whether the item can be delivered to the order's member at all, checked when the order is
// made (also for orders that wait for payment): its template or tier exists, the template's caps
// hold (they are counted now) and the tier is above the member's.
std::optional<store::Refusal> reserve_delivery(const MallSnapshot& snapshot, const Item& item,
                                               const Order& order, const Counters& current,
                                               TimeUs at_us, store::Preparation& preparation) {
  if (item.kind == ItemKind::coupon) {
    const CouponTemplate* coupon_template = snapshot.catalog->coupon_template(item.coupon_template);
    if (coupon_template == nullptr)
      return store::Refusal{kItemUnavailable, "its coupon template was retired"};
    return reserve_coupons(*coupon_template, order.member_id, order.quantity, current, at_us,
                           preparation);
  }
  if (item.kind != ItemKind::tier_upgrade) return std::nullopt;
  const int target = level_of_tier(*snapshot.program, item.tier);
  if (target < 0) return store::Refusal{kItemUnavailable, "its tier is no longer in the program"};
  const int level = tier_level_of(*snapshot.program, current, order.member_id);
  if (target <= level)
    return store::Refusal{kTierNotHigher, "the member's tier is " +
                                              earning::tier_id(*snapshot.program, level) +
                                              ", not below " + item.tier};
  return std::nullopt;
}

// Moves the order's member to the item's tier through the earning engine's tier service; a
// member who reached it meanwhile (a paid order) keeps their tier. Returns the note.
std::string upgrade_tier(const MallSnapshot& snapshot, const Item& item, Order& order,
                         const ledger::Command& command, const Counters& current,
                         store::Preparation& preparation) {
  const int target = level_of_tier(*snapshot.program, item.tier);
  if (target <= tier_level_of(*snapshot.program, current, order.member_id))
    return "the member was in " + item.tier + " or above already";
  auto tier = earning::TierPreparer::set(snapshot.program, order.member_id, target,
                                         "redeemed " + item.name + " (order " + order.id + ")");
  ledger::Command copy = command;
  store::Preparation moved = tier->prepare(copy, current, {});
  if (moved.refusal) return moved.refusal->detail;
  merge(preparation.counter_updates, moved.counter_updates);
  preparation.tier_change = moved.tier_change;
  preparation.earning_record = moved.earning_record;
  order.tier_id = item.tier;
  return "tier moved";
}

// Delivers a coupon or tier upgrade (reserved by reserve_delivery): its coupons issued or the
// tier moved, the order delivered.
void deliver_now(const MallSnapshot& snapshot, const Item& item, Order& order,
                 const std::vector<std::string>& codes, const ledger::Command& command,
                 const Counters& current, store::Preparation& preparation) {
  std::string note = "coupons issued";
  const CouponTemplate* coupon_template =
      item.kind == ItemKind::coupon ? snapshot.catalog->coupon_template(item.coupon_template)
                                    : nullptr;
  if (coupon_template != nullptr) {
    write_coupons(*coupon_template, order.member_id, codes, kCouponSourceRedemption, command.at_us,
                  preparation);
    order.coupon_codes = codes;
  } else if (item.kind == ItemKind::tier_upgrade) {
    note = upgrade_tier(snapshot, item, order, command, current, preparation);
  }
  order.state = OrderState::delivered;
  order.history.push_back({OrderState::delivered, command.at_us, command.actor, note});
}

bool delivered_at_once(const Item& item) {
  return item.kind == ItemKind::coupon || item.kind == ItemKind::tier_upgrade;
}

std::string units_text(const Order& order) {
  return std::to_string(order.quantity) + " \xC3\x97 " + order.item_name;  // "2 × Mug"
}

}  // namespace

int tier_level_of(const rules::Program& program, const Counters& counters, MemberId member) {
  if (!program.tiers || program.tiers->tiers.empty()) return 0;
  const auto last = static_cast<std::int64_t>(program.tiers->tiers.size()) - 1;
  return static_cast<int>(
      std::clamp<std::int64_t>(counter_value(counters, {member, "tier"}), 0, last));
}

Order order_of(const store::Record& record) {
  auto order = order_from_json(nlohmann::json::parse(record.body, nullptr, false));
  if (!order) throw std::runtime_error("redemption record " + record.id + " is damaged");
  return *order;
}

Coupon coupon_of(const store::Record& record) {
  auto coupon = coupon_from_json(nlohmann::json::parse(record.body, nullptr, false));
  if (!coupon) throw std::runtime_error("coupon record " + record.id + " is damaged");
  return *coupon;
}

// ---- Redeem -----------------------------------------------------------------------------------

RedeemPreparer::RedeemPreparer(MallSnapshot snapshot, RedeemRequest request)
    : snapshot_(std::move(snapshot)), request_(std::move(request)) {}

std::vector<CounterKey> RedeemPreparer::counters_needed(const ledger::Command& command) {
  const Item* item = snapshot_.catalog->item(request_.item_id);
  if (item == nullptr) return {};
  auto keys = redemption_counters(*item, request_.member_id, command.at_us, *snapshot_.program);
  keys.push_back({request_.member_id, "tier"});
  for (CounterKey& key : delivery_counters(snapshot_, *item, request_.member_id, command.at_us))
    keys.push_back(std::move(key));
  return keys;
}

std::vector<store::RecordKey> RedeemPreparer::records_needed(const ledger::Command& /*command*/) {
  std::vector<store::RecordKey> keys = {{kRedemptionRecord, request_.order_id}};
  for (const std::string& code : request_.coupon_codes) keys.push_back({kCouponRecord, code});
  return keys;
}

store::Preparation RedeemPreparer::prepare(ledger::Command& command, const Counters& current,
                                           const store::Records& records) {
  if (!records.empty())  // a retry finds its order: the store replays the first outcome
    return refused(kOrderIdTaken, "an order or coupon with this id exists; use another key");
  const Item* item = snapshot_.catalog->item(request_.item_id);
  if (item == nullptr)
    return refused(kUnknownItem, "no item " + in_quotes(request_.item_id) + " is in the catalog");
  const MemberId member = request_.member_id;
  const int level = tier_level_of(*snapshot_.program, current, member);
  const RedemptionCheck check = check_redemption(*item, *snapshot_.program, member, level,
                                                 request_.quantity, current, command.at_us);
  if (!check.problem.empty()) return refused(check.problem, check.detail);

  store::Preparation preparation;
  preparation.counter_updates = check.updates;
  Order order;
  order.id = request_.order_id;
  order.member_id = member;
  order.item_id = item->id;
  order.item_name = item->name;
  order.item_kind = kind_name(item->kind);
  order.quantity = request_.quantity;
  order.unit_points = check.unit_points;
  order.points = check.total_points;
  order.cash_minor = check.total_cash_minor;
  if (item->cash_price) order.currency = item->cash_price->currency;
  order.shipping_address = request_.shipping_address;
  order.created_at_us = command.at_us;
  const bool cash = order.cash_minor > 0;
  order.state = cash ? OrderState::awaiting_payment : OrderState::reserved;
  if (cash)
    order.hold_expires_at_us = command.at_us + request_.payment_within_us;
  else if (request_.confirm_within_us > 0 && !delivered_at_once(*item))
    order.hold_expires_at_us = command.at_us + request_.confirm_within_us;
  order.history.push_back({order.state, command.at_us, command.actor, ""});

  const std::string ref = hold_ref_of(order.id);
  command.body = ledger::PlaceHold{ref, order.points, order.hold_expires_at_us};
  command.reason = "redeemed " + units_text(order) + " (order " + order.id + ")";
  if (auto refusal = reserve_delivery(snapshot_, *item, order, current, command.at_us, preparation))
    return refused(refusal->problem, refusal->detail);
  if (!cash && delivered_at_once(*item)) {
    deliver_now(snapshot_, *item, order, request_.coupon_codes, command, current, preparation);
    ledger::Command capture{command.idempotency_key + "/capture",
                            member,
                            command.at_us,
                            command.actor,
                            "order " + order.id + " delivered",
                            ledger::CaptureHold{ref}};
    preparation.follow_ups.push_back(std::move(capture));
  }
  preparation.record_writes.push_back(order_record(order, command.at_us));
  return preparation;
}

// ---- Steps ------------------------------------------------------------------------------------

StepPreparer::StepPreparer(MallSnapshot snapshot, StepRequest request)
    : snapshot_(std::move(snapshot)), request_(std::move(request)) {
  retired_.id = request_.order.item_id;  // no limits: only its units taken are given back
}

const Item* StepPreparer::item_or_retired(const std::string& item_id) const {
  const Item* item = snapshot_.catalog->item(item_id);
  return item != nullptr ? item : &retired_;
}

std::vector<CounterKey> StepPreparer::counters_needed(const ledger::Command& command) {
  const Order& order = request_.order;
  const Item* item = item_or_retired(order.item_id);
  std::vector<CounterKey> keys;
  const OrderStep step = request_.step;
  const bool gives_back =
      step == OrderStep::cancel || step == OrderStep::fail || step == OrderStep::time_out;
  if (gives_back)
    keys = redemption_counters(*item, order.member_id, order.created_at_us, *snapshot_.program);
  if ((step == OrderStep::pay || gives_back) && delivered_at_once(*item))
    for (CounterKey& key : delivery_counters(snapshot_, *item, order.member_id, command.at_us))
      keys.push_back(std::move(key));
  return keys;
}

std::vector<store::RecordKey> StepPreparer::records_needed(const ledger::Command& /*command*/) {
  std::vector<store::RecordKey> keys = {{kRedemptionRecord, request_.order.id}};
  for (const std::string& code : request_.coupon_codes) keys.push_back({kCouponRecord, code});
  return keys;
}

store::Preparation StepPreparer::prepare(ledger::Command& command, const Counters& current,
                                         const store::Records& records) {
  auto found = records.find({kRedemptionRecord, request_.order.id});
  if (found == records.end())
    return refused(kOrderStateConflict, "order " + request_.order.id + " does not exist");
  Order order = order_of(found->second);
  const Item* item = snapshot_.catalog->item(order.item_id);  // nullptr: retired
  const bool shipped_item = order.item_kind == "physical";
  const bool held =
      order.state == OrderState::awaiting_payment || order.state == OrderState::reserved;
  if (request_.only_while_held && !held)
    return refused(kOrderStateConflict, "order " + order.id + " is " +
                                            std::string(order_state_name(order.state)) +
                                            "; ask the shop to cancel it");
  const StepCheck check = check_step(order, request_.step, shipped_item);
  if (!check.problem.empty()) return refused(check.problem, check.detail);

  store::Preparation preparation;
  const std::string ref = hold_ref_of(order.id);
  std::string note = request_.note;
  if (request_.step == OrderStep::ship) {
    order.carrier = request_.carrier;
    order.tracking_number = request_.tracking_number;
    note = request_.carrier + " " + request_.tracking_number +
           (request_.note.empty() ? "" : "; " + request_.note);
  }
  if (request_.step == OrderStep::pay && item == nullptr && order.item_kind != "physical" &&
      order.item_kind != "service")  // nothing left to deliver: the shop cancels it instead
    return refused(kItemUnavailable, "item " + order.item_id + " was retired; cancel the order");
  if (request_.step == OrderStep::time_out)
    note =
        order.state == OrderState::awaiting_payment ? "not paid in time" : "not confirmed in time";
  order.state = check.to;
  order.history.push_back({check.to, command.at_us, command.actor, note});
  command.reason = "order " + order.id + " " + std::string(order_state_name(check.to)) +
                   (note.empty() ? "" : ": " + note);
  switch (check.move) {
    case LedgerMove::capture:
      command.body = ledger::CaptureHold{ref};
      break;
    case LedgerMove::release:
      command.body = ledger::ReleaseHold{ref};
      break;
    case LedgerMove::cancel_captured:
      command.body = ledger::CancelTransaction{request_.hold_transaction_id};
      break;
    case LedgerMove::none:
      command.body = ledger::RecordEvent{"redemption_" + std::string(order_state_name(check.to))};
      break;
  }
  const bool gives_back =
      check.move == LedgerMove::release || check.move == LedgerMove::cancel_captured;
  if (gives_back) {  // a retired item's units go back too, should it come back
    preparation.counter_updates =
        give_back_updates(item != nullptr ? *item : retired_, order.member_id, order.quantity,
                          order.created_at_us, *snapshot_.program, current);
    if (item != nullptr && item->kind == ItemKind::coupon)  // counted at the order, not issued
      unreserve_coupons(item->coupon_template, order.member_id, order.quantity, current,
                        preparation);
  }
  if (check.move != LedgerMove::none) order.hold_expires_at_us = kTimeNever;  // no open hold
  if (request_.step == OrderStep::pay && item != nullptr && delivered_at_once(*item))
    deliver_now(snapshot_, *item, order, request_.coupon_codes, command, current, preparation);
  preparation.record_writes.push_back(order_record(order, command.at_us));
  return preparation;
}

// ---- Coupons ----------------------------------------------------------------------------------

CouponPreparer::CouponPreparer(MallSnapshot snapshot, CouponRequest request)
    : snapshot_(std::move(snapshot)), request_(std::move(request)) {}

std::vector<CounterKey> CouponPreparer::counters_needed(const ledger::Command& /*command*/) {
  if (request_.action != CouponAction::issue) return {};
  return {issued_counter(request_.template_id, 0),
          issued_counter(request_.template_id, request_.member_id)};
}

std::vector<store::RecordKey> CouponPreparer::records_needed(const ledger::Command& /*command*/) {
  return {{kCouponRecord, request_.code}};
}

store::Preparation CouponPreparer::prepare(ledger::Command& command, const Counters& current,
                                           const store::Records& records) {
  auto found = records.find({kCouponRecord, request_.code});
  store::Preparation preparation;
  if (request_.action == CouponAction::issue) {
    if (found != records.end())
      return refused(kOrderIdTaken, "a coupon with this code exists; use another key");
    const CouponTemplate* coupon_template =
        snapshot_.catalog->coupon_template(request_.template_id);
    if (coupon_template == nullptr)
      return refused(kUnknownCoupon, "no coupon template " + in_quotes(request_.template_id));
    if (auto refusal = reserve_coupons(*coupon_template, request_.member_id, 1, current,
                                       command.at_us, preparation))
      return refused(refusal->problem, refusal->detail);
    write_coupons(*coupon_template, request_.member_id, {request_.code}, kCouponSourceOperator,
                  command.at_us, preparation);
    command.body = ledger::RecordEvent{"coupon_issued"};
    command.reason = "coupon " + coupon_template->name + " issued: " + request_.code;
    const nlohmann::json issue = {{"code", request_.code}};
    preparation.record_writes.push_back(store::Record{kCouponIssueRecord, command.idempotency_key,
                                                      0, request_.member_id, "issued",
                                                      command.at_us, command.at_us, issue.dump()});
    return preparation;
  }
  if (found == records.end())
    return refused(kUnknownCoupon, "no coupon has the code " + request_.code);
  Coupon coupon = coupon_of(found->second);
  const CouponTemplate* coupon_template = snapshot_.catalog->coupon_template(coupon.template_id);
  if (request_.action == CouponAction::redeem) {
    if (coupon_template == nullptr)
      return refused(std::string(kCouponNotApplicable), "its coupon template was retired");
    std::vector<const CouponTemplate*> applied;
    for (const CouponTemplate& other : request_.already_applied) applied.push_back(&other);
    const CouponCheck check = check_coupon(*coupon_template, coupon, request_.member_id,
                                           request_.order, applied, command.at_us);
    if (!check.problem.empty()) return refused(check.problem, check.detail);
    coupon.member_id = request_.member_id;
    coupon.state = CouponState::redeemed;
    coupon.order_id = request_.order_id;
    coupon.redeemed_at_us = command.at_us;
    coupon.discount_minor = check.discount_minor;
    coupon.discount_currency = request_.order.currency;
    command.body = ledger::RecordEvent{"coupon_redeemed"};
    command.reason = "coupon " + coupon.code + " used for order " + request_.order_id;
  } else {
    if (coupon.state != CouponState::redeemed || coupon.order_id != request_.order_id)
      return refused(kCouponNotRedeemed,
                     "coupon " + coupon.code + " is not in use for order " + request_.order_id);
    // A pool code goes back to the pool: anyone may use it again, as before.
    const bool pooled = coupon.source == kCouponSourcePool;
    coupon.state = pooled ? CouponState::available : CouponState::issued;
    if (pooled) coupon.member_id = 0;
    coupon.order_id.clear();
    coupon.redeemed_at_us = 0;
    coupon.discount_minor = 0;
    coupon.discount_currency.clear();
    command.body = ledger::RecordEvent{"coupon_released"};
    command.reason = "coupon " + coupon.code + " released from order " + request_.order_id;
  }
  preparation.record_writes.push_back(coupon_record(coupon, command.at_us));
  store::Record use = coupon_record(coupon, command.at_us);
  use.kind = kCouponUseRecord;
  use.id = command.idempotency_key;
  use.member_id = command.member_id;
  preparation.record_writes.push_back(std::move(use));
  return preparation;
}

}  // namespace pointsmall::mall
