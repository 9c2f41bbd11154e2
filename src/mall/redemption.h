// A redemption order and its life: what a member redeemed, for how many points (and cash), and
// the steps it goes through until it is delivered, cancelled or failed. Pure values: the mall's
// preparers (mall/service) apply a step inside the ledger's writer together with the ledger move
// it needs, so an order's state and its points never disagree.
//
//   awaiting_payment --pay--> confirmed          reserved --confirm--> confirmed
//   confirmed --fulfil--> fulfilled --ship--> shipped --deliver--> delivered
//   fulfilled --deliver--> delivered             (items that need no shipping)
//   awaiting_payment, reserved --cancel | time_out--> cancelled   (hold released)
//   confirmed, fulfilled --cancel--> cancelled                    (captured points given back)
//   confirmed, fulfilled, shipped --fail--> failed                (captured points given back)
//
// Points go back to the lots they came from (into `expired` for a lot that expired meanwhile:
// ledger/README.md); the units go back to the item's stock and to the limits of the period the
// order was made in.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/types.h"

namespace pointsmall::mall {

enum class OrderState : std::uint8_t {
  awaiting_payment,  // points held until the merchant confirms the cash part
  reserved,          // points and stock held until the merchant confirms the order
  confirmed,         // points spent (the hold captured)
  fulfilled,         // packed, or the service arranged
  shipped,           // handed to the carrier
  delivered,         // final
  cancelled,         // final: points and units given back
  failed,            // final: delivery failed; points and units given back
};
std::string_view order_state_name(OrderState state);
std::optional<OrderState> order_state_from_name(std::string_view name);
bool is_final(OrderState state);

enum class OrderStep : std::uint8_t { pay, confirm, fulfil, ship, deliver, cancel, fail, time_out };
std::string_view order_step_name(OrderStep step);

// What the ledger does for a step.
enum class LedgerMove : std::uint8_t {
  none,             // a history line only
  capture,          // the hold becomes a spend
  release,          // the open hold's points go back
  cancel_captured,  // the captured hold's points go back
};

struct StateChange {
  OrderState state = OrderState::reserved;
  TimeUs at_us = 0;
  std::string actor;
  std::string note;  // why (a cancellation's reason), or the carrier and tracking number
  friend bool operator==(const StateChange&, const StateChange&) = default;
};

struct Order {
  std::string id;  // order_id_for_key
  MemberId member_id = 0;
  std::string item_id;
  std::string item_name;
  std::string item_kind;  // physical | coupon | service | tier_upgrade
  std::int64_t quantity = 0;
  Points unit_points = 0;  // after the member's tier discount
  Points points = 0;       // unit_points * quantity
  MinorUnits cash_minor = 0;
  std::string currency;             // of the cash part; empty without one
  nlohmann::json shipping_address;  // null when the item needs none
  OrderState state = OrderState::reserved;
  TimeUs created_at_us = 0;
  TimeUs hold_expires_at_us = kTimeNever;  // when an unconfirmed or unpaid order is released
  std::string carrier;
  std::string tracking_number;
  std::vector<std::string> coupon_codes;  // the coupons a coupon item issued, one per unit
  std::string tier_id;                    // the tier a tier upgrade moved the member to
  std::vector<StateChange> history;       // oldest first; the first is the order's creation
  friend bool operator==(const Order&, const Order&) = default;
};

nlohmann::json order_to_json(const Order& order);
// nullopt when the stored form is not an order (a damaged record).
std::optional<Order> order_from_json(const nlohmann::json& json);

// The order id a redemption request gets, the same for every retry of its idempotency key:
// "R" and 13 symbols of Crockford base32 (64 bits of a digest of the key).
std::string order_id_for_key(std::string_view idempotency_key);
// The ledger hold of an order.
std::string hold_ref_of(const std::string& order_id);
// The order id of a hold made by the mall, or nullopt for another hold.
std::optional<std::string> order_id_of_hold(std::string_view hold_ref);

struct StepCheck {
  std::string problem;  // empty: allowed; else "order_state_conflict"
  std::string detail;
  OrderState to = OrderState::reserved;
  LedgerMove move = LedgerMove::none;
};
// Whether `step` may be taken from the order's state, to which state, with which ledger move.
// `needs_shipping`: the item is physical (only those are shipped).
StepCheck check_step(const Order& order, OrderStep step, bool needs_shipping);

}  // namespace pointsmall::mall
