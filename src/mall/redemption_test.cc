#include "mall/redemption.h"

#include <gtest/gtest.h>

#include <set>

namespace pointsmall::mall {
namespace {

Order order_in(OrderState state) {
  Order order;
  order.id = "R0000000000001";
  order.state = state;
  return order;
}

TEST(MallOrder, EveryStepGoesOnlyWhereTheLifeCycleAllows) {
  using S = OrderState;
  using O = OrderStep;
  using M = LedgerMove;
  struct Case {
    S from;
    O step;
    bool shipped_item;
    S to;
    M move;
  };
  const std::vector<Case> allowed = {
      {S::awaiting_payment, O::pay, true, S::confirmed, M::capture},
      {S::reserved, O::confirm, true, S::confirmed, M::capture},
      {S::confirmed, O::fulfil, true, S::fulfilled, M::none},
      {S::fulfilled, O::ship, true, S::shipped, M::none},
      {S::shipped, O::deliver, true, S::delivered, M::none},
      {S::fulfilled, O::deliver, false, S::delivered, M::none},
      {S::shipped, O::deliver, false, S::delivered, M::none},
      {S::awaiting_payment, O::cancel, true, S::cancelled, M::release},
      {S::reserved, O::cancel, true, S::cancelled, M::release},
      {S::confirmed, O::cancel, true, S::cancelled, M::cancel_captured},
      {S::fulfilled, O::cancel, true, S::cancelled, M::cancel_captured},
      {S::confirmed, O::fail, true, S::failed, M::cancel_captured},
      {S::fulfilled, O::fail, true, S::failed, M::cancel_captured},
      {S::shipped, O::fail, true, S::failed, M::cancel_captured},
      {S::awaiting_payment, O::time_out, true, S::cancelled, M::release},
      {S::reserved, O::time_out, true, S::cancelled, M::release},
  };
  std::set<std::tuple<int, int, bool>> allowed_keys;
  for (const Case& c : allowed) {
    const StepCheck check = check_step(order_in(c.from), c.step, c.shipped_item);
    EXPECT_EQ(check.problem, "") << order_state_name(c.from) << " " << order_step_name(c.step);
    EXPECT_EQ(check.to, c.to);
    EXPECT_EQ(check.move, c.move);
    allowed_keys.insert({static_cast<int>(c.from), static_cast<int>(c.step), c.shipped_item});
  }
  int refused = 0;
  for (int from = 0; from <= static_cast<int>(S::failed); ++from)
    for (int step = 0; step <= static_cast<int>(O::time_out); ++step)
      for (bool shipped_item : {true, false}) {
        if (allowed_keys.contains({from, step, shipped_item})) continue;
        // Steps other than ship and deliver do not depend on shipping.
        const bool depends =
            step == static_cast<int>(O::ship) || step == static_cast<int>(O::deliver);
        if (!depends && allowed_keys.contains({from, step, !shipped_item})) continue;
        const StepCheck check =
            check_step(order_in(static_cast<S>(from)), static_cast<O>(step), shipped_item);
        EXPECT_EQ(check.problem, "order_state_conflict")
            << order_state_name(static_cast<S>(from)) << " "
            << order_step_name(static_cast<O>(step));
        ++refused;
      }
  EXPECT_GT(refused, 90);
}

TEST(MallOrder, ARefusedStepSaysWhatTheOrderIsAndMustBe) {
  const StepCheck check = check_step(order_in(OrderState::delivered), OrderStep::cancel, true);
  EXPECT_EQ(check.problem, "order_state_conflict");
  EXPECT_EQ(check.detail,
            "order R0000000000001 is delivered; to cancel it must be awaiting_payment, reserved, "
            "confirmed or fulfilled");
  EXPECT_EQ(check_step(order_in(OrderState::fulfilled), OrderStep::ship, false).problem,
            "order_state_conflict")
      << "a coupon or service is never shipped";
}

TEST(MallOrder, AnOrderIdIsTheSameForEveryRetryOfAKeyAndDiffersBetweenKeys) {
  EXPECT_EQ(order_id_for_key("checkout-42"), order_id_for_key("checkout-42"));
  std::set<std::string> ids;
  for (int i = 0; i < 10000; ++i) ids.insert(order_id_for_key("key-" + std::to_string(i)));
  EXPECT_EQ(ids.size(), 10000u);
  const std::string id = order_id_for_key("checkout-42");
  EXPECT_EQ(id.size(), 14u);
  EXPECT_EQ(id[0], 'R');
  EXPECT_EQ(id.find_first_not_of("0123456789ABCDEFGHJKMNPQRSTVWXYZ", 1), std::string::npos);
  EXPECT_EQ(order_id_of_hold(hold_ref_of(id)), id);
  EXPECT_EQ(order_id_of_hold("cart-7"), std::nullopt);
}

TEST(MallOrder, TheStoredFormReadsBackExactlyAndADamagedOneIsRefused) {
  Order order = order_in(OrderState::shipped);
  order.member_id = 7;
  order.item_id = "mug";
  order.item_name = "Mug";
  order.item_kind = "physical";
  order.quantity = 2;
  order.unit_points = 450;
  order.points = 900;
  order.cash_minor = 199;
  order.currency = "GBP";
  order.shipping_address = {{"name", "Ada"}, {"country", "GB"}};
  order.created_at_us = 1'700'000'000'000'000;
  order.carrier = "DHL";
  order.tracking_number = "1Z999";
  order.history = {{OrderState::reserved, 1, "member:7", ""},
                   {OrderState::shipped, 2, "operator:bo", "DHL 1Z999"}};
  EXPECT_EQ(order_from_json(order_to_json(order)), order);
  nlohmann::json damaged = order_to_json(order);
  damaged["state"] = "lost";
  EXPECT_EQ(order_from_json(damaged), std::nullopt);
  damaged = order_to_json(order);
  damaged.erase("points");
  EXPECT_EQ(order_from_json(damaged), std::nullopt);
}

}  // namespace
}  // namespace pointsmall::mall
