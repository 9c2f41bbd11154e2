#include "mall/redemption.h"

#include <array>

namespace pointsmall::mall {
namespace {

constexpr std::array<std::string_view, 8> kStateNames = {
    "awaiting_payment", "reserved",  "confirmed", "fulfilled",
    "shipped",          "delivered", "cancelled", "failed"};
constexpr std::array<std::string_view, 8> kStepNames = {"pay",     "confirm", "fulfil", "ship",
                                                        "deliver", "cancel",  "fail",   "time_out"};
constexpr std::string_view kHoldPrefix = "redemption:";
constexpr std::string_view kCrockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

StepCheck allowed(OrderState to, LedgerMove move) {
  return StepCheck{"", "", to, move};
}

// What each step needs the order to be in: the states it may start from, in words.
const char* expected_states(OrderStep step) {
  switch (step) {
    case OrderStep::pay:
      return "awaiting_payment";
    case OrderStep::confirm:
      return "reserved";
    case OrderStep::fulfil:
      return "confirmed";
    case OrderStep::ship:
      return "fulfilled (and the item is shipped)";
    case OrderStep::deliver:
      return "shipped, or fulfilled when the item needs no shipping";
    case OrderStep::cancel:
      return "awaiting_payment, reserved, confirmed or fulfilled";
    case OrderStep::fail:
      return "confirmed, fulfilled or shipped";
    case OrderStep::time_out:
      return "awaiting_payment or reserved";
  }
  return "";
}

std::optional<StepCheck> step_from(OrderState from, OrderStep step, bool needs_shipping) {
  using S = OrderState;
  const bool open = from == S::awaiting_payment || from == S::reserved;
  const bool captured = from == S::confirmed || from == S::fulfilled;
  switch (step) {
    case OrderStep::pay:
      if (from == S::awaiting_payment) return allowed(S::confirmed, LedgerMove::capture);
      break;
    case OrderStep::confirm:
      if (from == S::reserved) return allowed(S::confirmed, LedgerMove::capture);
      break;
    case OrderStep::fulfil:
      if (from == S::confirmed) return allowed(S::fulfilled, LedgerMove::none);
      break;
    case OrderStep::ship:
      if (from == S::fulfilled && needs_shipping) return allowed(S::shipped, LedgerMove::none);
      break;
    case OrderStep::deliver:
      if (from == S::shipped || (from == S::fulfilled && !needs_shipping))
        return allowed(S::delivered, LedgerMove::none);
      break;
    case OrderStep::cancel:
      if (open) return allowed(S::cancelled, LedgerMove::release);
      if (captured) return allowed(S::cancelled, LedgerMove::cancel_captured);
      break;
    case OrderStep::fail:
      if (captured || from == S::shipped) return allowed(S::failed, LedgerMove::cancel_captured);
      break;
    case OrderStep::time_out:
      if (open) return allowed(S::cancelled, LedgerMove::release);
      break;
  }
  return std::nullopt;
}

// FNV-1a, 64 bits: stable across builds and platforms (std::hash is not).
std::uint64_t digest(std::string_view text) {
  std::uint64_t hash = 14695981039346656037ULL;
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  return hash;
}

nlohmann::json change_to_json(const StateChange& change) {
  return {{"state", order_state_name(change.state)},
          {"at_us", change.at_us},
          {"actor", change.actor},
          {"note", change.note}};
}

}  // namespace

std::string_view order_state_name(OrderState state) {
  return kStateNames.at(static_cast<std::size_t>(state));
}

std::optional<OrderState> order_state_from_name(std::string_view name) {
  for (std::size_t i = 0; i < kStateNames.size(); ++i)
    if (kStateNames[i] == name) return static_cast<OrderState>(i);
  return std::nullopt;
}

bool is_final(OrderState state) {
  return state == OrderState::delivered || state == OrderState::cancelled ||
         state == OrderState::failed;
}

std::string_view order_step_name(OrderStep step) {
  return kStepNames.at(static_cast<std::size_t>(step));
}

StepCheck check_step(const Order& order, OrderStep step, bool needs_shipping) {
  if (auto check = step_from(order.state, step, needs_shipping)) return *check;
  StepCheck refused;
  refused.problem = "order_state_conflict";
  refused.detail = "order " + order.id + " is " + std::string(order_state_name(order.state)) +
                   "; to " + std::string(order_step_name(step)) + " it must be " +
                   expected_states(step);
  refused.to = order.state;
  return refused;
}

std::string order_id_for_key(std::string_view idempotency_key) {
  // splitmix64's finaliser spreads FNV's bits, so that similar keys give unlike ids.
  std::uint64_t value = digest(idempotency_key);
  value = (value ^ (value >> 30U)) * 0xBF58476D1CE4E5B9ULL;
  value = (value ^ (value >> 27U)) * 0x94D049BB133111EBULL;
  value ^= value >> 31U;
  std::string id(14, 'R');
  for (std::size_t i = 13; i >= 1; --i) {
    id[i] = kCrockford[value & 31U];
    value >>= 5U;
  }
  return id;
}

std::string hold_ref_of(const std::string& order_id) {
  return std::string(kHoldPrefix) + order_id;
}

std::optional<std::string> order_id_of_hold(std::string_view hold_ref) {
  if (!hold_ref.starts_with(kHoldPrefix)) return std::nullopt;
  return std::string(hold_ref.substr(kHoldPrefix.size()));
}

nlohmann::json order_to_json(const Order& order) {
  nlohmann::json history = nlohmann::json::array();
  for (const StateChange& change : order.history) history.push_back(change_to_json(change));
  return {{"id", order.id},
          {"member_id", order.member_id},
          {"item_id", order.item_id},
          {"item_name", order.item_name},
          {"item_kind", order.item_kind},
          {"quantity", order.quantity},
          {"unit_points", order.unit_points},
          {"points", order.points},
          {"cash_minor", order.cash_minor},
          {"currency", order.currency},
          {"shipping_address", order.shipping_address},
          {"state", order_state_name(order.state)},
          {"created_at_us", order.created_at_us},
          {"hold_expires_at_us", order.hold_expires_at_us},
          {"carrier", order.carrier},
          {"tracking_number", order.tracking_number},
          {"coupon_codes", order.coupon_codes},
          {"tier_id", order.tier_id},
          {"history", std::move(history)}};
}

std::optional<Order> order_from_json(const nlohmann::json& json) {
  if (!json.is_object()) return std::nullopt;
  Order order;
  try {
    json.at("id").get_to(order.id);
    json.at("member_id").get_to(order.member_id);
    json.at("item_id").get_to(order.item_id);
    json.at("item_name").get_to(order.item_name);
    json.at("item_kind").get_to(order.item_kind);
    json.at("quantity").get_to(order.quantity);
    json.at("unit_points").get_to(order.unit_points);
    json.at("points").get_to(order.points);
    json.at("cash_minor").get_to(order.cash_minor);
    json.at("currency").get_to(order.currency);
    order.shipping_address = json.at("shipping_address");
    auto state = order_state_from_name(json.at("state").get<std::string>());
    if (!state) return std::nullopt;
    order.state = *state;
    json.at("created_at_us").get_to(order.created_at_us);
    json.at("hold_expires_at_us").get_to(order.hold_expires_at_us);
    json.at("carrier").get_to(order.carrier);
    json.at("tracking_number").get_to(order.tracking_number);
    json.at("coupon_codes").get_to(order.coupon_codes);
    json.at("tier_id").get_to(order.tier_id);
    for (const auto& change : json.at("history")) {
      auto changed = order_state_from_name(change.at("state").get<std::string>());
      if (!changed) return std::nullopt;
      order.history.push_back(StateChange{*changed, change.at("at_us").get<TimeUs>(),
                                          change.at("actor").get<std::string>(),
                                          change.at("note").get<std::string>()});
    }
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;  // a damaged record: the caller reports it
  }
  return order;
}

}  // namespace pointsmall::mall
