// The mall inside the ledger's writer: preparers (store/preparer.h) that check and apply a
// redemption, a step of an order's life, or a coupon's issue, use or release against the state
// of that moment, so that stock, limits, caps, an order's state and a coupon's state hold under
// concurrent requests (two tabs racing for the last unit: one wins, the other is refused).
//
// Records (store/preparer.h) the mall keeps:
//   kind "redemption", id the order id, member the redeemer, state the order's state, body
//     order_to_json (mall/redemption.h);
//   kind "coupon", id the code, member its holder (0: a pool code nobody holds), state the
//     coupon's state, body coupon_to_json (mall/coupon.h);
//   kind "coupon_issue", id an operator's issue command's idempotency key, body {"code"};
//   kind "coupon_use", id a checkout's redeem or release command's key, body the coupon after it.
// Counters, beside mall/catalog.h's stock and limit counters:
//   scope 0       coupon:<template>:issued   coupons of the template issued (its global cap)
//   scope member  coupon:<template>:issued   coupons of the template issued to the member
//                                            (its per-member cap)
// Every ledger line these commands make says why: "redeemed 2 × Mug (order R…)", "order R…
// shipped: DHL 1Z…", "coupon SAVE5 used for order 1001".
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mall/coupon.h"
#include "mall/redemption.h"
#include "mall/service/mall_catalog.h"
#include "rules/program.h"
#include "store/preparer.h"

namespace pointsmall::mall {

inline constexpr const char* kRedemptionRecord = "redemption";
inline constexpr const char* kCouponRecord = "coupon";
// An operator's issue of a coupon, by the command's idempotency key: {"code"}, so that a retry
// answers the code the first attempt issued.
inline constexpr const char* kCouponIssueRecord = "coupon_issue";
// A checkout's use or release of a coupon, by the command's idempotency key: the coupon as that
// command left it, so that a retry answers what the first attempt did.
inline constexpr const char* kCouponUseRecord = "coupon_use";

// Problems of the mall's preparers, beside those of mall/catalog.h and mall/coupon.h.
inline constexpr const char* kUnknownItem = "unknown_item";
inline constexpr const char* kTierNotHigher = "tier_not_higher";
inline constexpr const char* kCouponLimitReached = "coupon_limit_reached";
inline constexpr const char* kUnknownCoupon = "unknown_coupon";
inline constexpr const char* kCouponNotRedeemed = "coupon_not_redeemed";
inline constexpr const char* kOrderStateConflict = "order_state_conflict";
inline constexpr const char* kOrderIdTaken = "order_id_taken";

// The program and catalog in force when the request came; every check uses these.
struct MallSnapshot {
  std::shared_ptr<const rules::Program> program;
  std::shared_ptr<const Catalog> catalog;
};

// The member's tier level from the counter "tier" (0 without tiers).
int tier_level_of(const rules::Program& program, const Counters& counters, MemberId member);

// A stored order or coupon; throws std::runtime_error naming a damaged record.
Order order_of(const store::Record& record);
Coupon coupon_of(const store::Record& record);

struct RedeemRequest {
  std::string order_id;  // order_id_for_key of the request's idempotency key
  MemberId member_id = 0;
  std::string item_id;
  std::int64_t quantity = 1;
  nlohmann::json shipping_address;        // validated; null when the item needs none
  std::vector<std::string> coupon_codes;  // coupon items: a fresh code per unit
  TimeUs payment_within_us = 0;           // points plus cash: released when not paid by then
  TimeUs confirm_within_us = 0;           // others: released when not confirmed; 0: never
};

// Reserves points and units for an order (the command is a PlaceHold, its points set here).
// Coupons and tier upgrades paid with points only are delivered at once: the hold is captured
// by a follow-up in the same batch, the coupons issued or the tier moved in the same savepoint.
class RedeemPreparer final : public store::Preparer {
 public:
  RedeemPreparer(MallSnapshot snapshot, RedeemRequest request);
  std::vector<CounterKey> counters_needed(const ledger::Command& command) override;
  std::vector<store::RecordKey> records_needed(const ledger::Command& command) override;
  store::Preparation prepare(ledger::Command& command, const Counters& current,
                             const store::Records& records) override;

 private:
  MallSnapshot snapshot_;
  RedeemRequest request_;
};

struct StepRequest {
  Order order;  // as read before the step; id, member, item, quantity and creation never change
  OrderStep step = OrderStep::confirm;
  std::string note;  // why (cancel, fail), or anything the operator wants to say
  std::string carrier;
  std::string tracking_number;
  TransactionId hold_transaction_id = 0;  // the order's hold transaction (to give points back)
  std::vector<std::string> coupon_codes;  // pay on a coupon item: a fresh code per unit
  bool only_while_held = false;           // a member's own cancel: only before the points are spent
};

// Takes a step of an order's life (mall/redemption.h) with its ledger move; the command's body
// is set here (CaptureHold, ReleaseHold, CancelTransaction, or RecordEvent for a history line).
// Giving points back gives the units back too.
class StepPreparer final : public store::Preparer {
 public:
  StepPreparer(MallSnapshot snapshot, StepRequest request);
  std::vector<CounterKey> counters_needed(const ledger::Command& command) override;
  std::vector<store::RecordKey> records_needed(const ledger::Command& command) override;
  store::Preparation prepare(ledger::Command& command, const Counters& current,
                             const store::Records& records) override;

 private:
  // The item in the catalog, or, when it was retired, retired_: an item of that id without
  // limits, so that its units taken still go back.
  [[nodiscard]] const Item* item_or_retired(const std::string& item_id) const;

  MallSnapshot snapshot_;
  StepRequest request_;
  Item retired_;
};

enum class CouponAction : std::uint8_t { issue, redeem, release };

struct CouponRequest {
  CouponAction action = CouponAction::issue;
  std::string code;
  MemberId member_id = 0;
  std::string template_id;  // issue
  // redeem: the merchant's order, and the templates of coupons already applied to it
  std::string order_id;  // redeem and release
  CheckoutOrder order;
  std::vector<CouponTemplate> already_applied;
};

// Issues a coupon to a member (by an operator), or uses or releases one at the merchant's
// checkout. The command is a RecordEvent: a line in the member's history.
class CouponPreparer final : public store::Preparer {
 public:
  CouponPreparer(MallSnapshot snapshot, CouponRequest request);
  std::vector<CounterKey> counters_needed(const ledger::Command& command) override;
  std::vector<store::RecordKey> records_needed(const ledger::Command& command) override;
  store::Preparation prepare(ledger::Command& command, const Counters& current,
                             const store::Records& records) override;

 private:
  MallSnapshot snapshot_;
  CouponRequest request_;
};

}  // namespace pointsmall::mall
