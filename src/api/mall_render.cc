#include "api/mall_render.h"

#include "api/api.h"
#include "api/render.h"

namespace pointsmall::api {
namespace {

nlohmann::json time_or_null(TimeUs at_us) {
  if (at_us == 0 || at_us == kTimeNever) return nullptr;
  return format_rfc3339_utc(at_us);
}

CounterKey taken_key(const mall::Item& item) {
  return CounterKey{0, "item:" + item.id + ":taken"};
}

nlohmann::json stock_left(const mall::Item& item, const Counters& taken) {
  if (!item.stock) return nullptr;
  return std::max<std::int64_t>(0, *item.stock - taken_of(taken, item));
}

}  // namespace

std::int64_t taken_of(const Counters& taken, const mall::Item& item) {
  return counter_value(taken, taken_key(item));
}

mall::MallSnapshot mall_snapshot(const CallPtr& call) {
  return mall::MallSnapshot{call->services.earning.current(), call->services.mall.current()};
}

mall::MallSnapshot mall_snapshot_naming(const CallPtr& call, const std::string& item_id,
                                        const std::string& template_id) {
  mall::MallSnapshot snapshot = mall_snapshot(call);
  const bool lacking =
      (!item_id.empty() && snapshot.catalog->item(item_id) == nullptr) ||
      (!template_id.empty() && snapshot.catalog->coupon_template(template_id) == nullptr);
  if (lacking) snapshot.catalog = call->services.mall.latest();
  return snapshot;
}

MemberView member_view(const CallPtr& call, const mall::MallSnapshot& snapshot, MemberId member) {
  MemberView view;
  const CounterKey tier{member, "tier"};
  view.tier_level =
      mall::tier_level_of(*snapshot.program, call->services.ledger.counters({tier}), member);
  if (auto account = call->services.ledger.account(member)) view.available = account->available;
  return view;
}

Counters taken_counters(const CallPtr& call, const std::vector<const mall::Item*>& items) {
  std::vector<CounterKey> keys;
  keys.reserve(items.size());
  for (const mall::Item* item : items) keys.push_back(taken_key(*item));
  return call->services.ledger.counters(keys);
}

nlohmann::json operator_item_json(const mall::MallSnapshot& snapshot, const mall::Item& item,
                                  const Counters& taken) {
  nlohmann::json out = mall::item_json(item, snapshot.catalog->item_versions.at(item.id));
  out["taken"] = taken_of(taken, item);
  out["stock_left"] = stock_left(item, taken);
  return out;
}

nlohmann::json member_item_json(const mall::MallSnapshot& snapshot, const mall::Item& item,
                                const Counters& taken, const MemberView& view, TimeUs now_us) {
  nlohmann::json out = mall::to_json(item);
  const Points unit = mall::unit_points_price(item, *snapshot.program, view.tier_level);
  out["unit_points"] = unit;
  out["affordable"] = unit <= view.available;
  out["stock_left"] = stock_left(item, taken);
  const bool opened = !item.window.from_us || *item.window.from_us <= now_us;
  const bool closed = item.window.until_us && *item.window.until_us <= now_us;
  out["on_sale"] = opened && !closed;
  out["needs_shipping"] = mall::needs_shipping(item);
  return out;
}

nlohmann::json order_json(const mall::Order& order) {
  nlohmann::json history = nlohmann::json::array();
  for (const mall::StateChange& change : order.history)
    history.push_back({{"state", mall::order_state_name(change.state)},
                       {"at", format_rfc3339_utc(change.at_us)},
                       {"actor", change.actor},
                       {"note", text_or_null(change.note)}});
  nlohmann::json cash = nullptr;
  if (order.cash_minor > 0) cash = {{"amount", order.cash_minor}, {"currency", order.currency}};
  return {{"id", order.id},
          {"member_id", order.member_id},
          {"item", {{"id", order.item_id}, {"name", order.item_name}, {"kind", order.item_kind}}},
          {"quantity", order.quantity},
          {"unit_points", order.unit_points},
          {"points", order.points},
          {"cash", std::move(cash)},
          {"state", mall::order_state_name(order.state)},
          {"shipping_address", order.shipping_address},
          {"carrier", text_or_null(order.carrier)},
          {"tracking_number", text_or_null(order.tracking_number)},
          {"coupon_codes", order.coupon_codes},
          {"tier", text_or_null(order.tier_id)},
          {"created_at", format_rfc3339_utc(order.created_at_us)},
          {"hold_expires_at", time_or_null(order.hold_expires_at_us)},
          {"history", std::move(history)}};
}

nlohmann::json coupon_json(const mall::Coupon& coupon, const mall::CouponTemplate* coupon_template,
                           TimeUs now_us) {
  const bool open = coupon.state != mall::CouponState::redeemed;
  const bool in_window = coupon.valid_from_us <= now_us && now_us < coupon.valid_until_us;
  nlohmann::json out = {{"code", coupon.code},
                        {"template_id", coupon.template_id},
                        {"name", coupon_template ? nlohmann::json(coupon_template->name) : nullptr},
                        {"benefit", coupon_template ? mall::to_json(*coupon_template).at("benefit")
                                                    : nlohmann::json(nullptr)},
                        {"member_id", coupon.member_id == 0 ? nlohmann::json(nullptr)
                                                            : nlohmann::json(coupon.member_id)},
                        {"state", mall::coupon_state_name(coupon.state)},
                        {"usable", open && in_window && coupon_template != nullptr},
                        {"source", coupon.source},
                        {"issued_at", format_rfc3339_utc(coupon.issued_at_us)},
                        {"valid_from", format_rfc3339_utc(coupon.valid_from_us)},
                        {"valid_until", time_or_null(coupon.valid_until_us)},
                        {"order_id", text_or_null(coupon.order_id)},
                        {"redeemed_at", time_or_null(coupon.redeemed_at_us)},
                        {"discount", coupon.state == mall::CouponState::redeemed
                                         ? nlohmann::json{{"amount", coupon.discount_minor},
                                                          {"currency", coupon.discount_currency}}
                                         : nlohmann::json(nullptr)}};
  return out;
}

}  // namespace pointsmall::api
