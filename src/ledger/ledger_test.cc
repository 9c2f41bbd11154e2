// Unit tests of the ledger's decisions (ledger.h), run through an in-memory book keeper
// (testing.h) so that commands chain as they would against a store. Each test tells one story a
// member, merchant or operator would notice.
#include "ledger/ledger.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "ledger/testing.h"

namespace pointsmall::ledger {
namespace {

using testing::BookKeeper;
using testing::Result;
using testing::Rows;

constexpr TimeUs kHour = 3600 * kMicrosPerSecond;
constexpr TimeUs kDay = kMicrosPerDay;

TimeUs utc(const char* rfc3339) {
  return parse_rfc3339(rfc3339).value();
}

// A program with one keeper and a clock the test moves by hand.
class LedgerTest : public ::testing::Test {
 protected:
  // Replaces the program's policy; call before the first command.
  void use_policy(Policy policy) { keeper = BookKeeper(std::move(policy)); }

  Result run(MemberId member, CommandBody body, std::string reason = "test") {
    return keeper.execute(command(member, std::move(body), std::move(reason)));
  }
  Command command(MemberId member, CommandBody body, std::string reason = "test") {
    return Command{"key-" + std::to_string(++keys_),
                   member,
                   now,
                   "api-key:shop",
                   std::move(reason),
                   std::move(body)};
  }
  MemberId open(const std::string& external_id = "alice") {
    const Result result = run(0, OpenAccount{external_id});
    EXPECT_TRUE(result.ok()) << rejection_name(*result.rejection);
    return result.outcome.member_id;
  }
  Result earn(MemberId member, Points points, std::string order_id = "",
              MinorUnits order_amount_minor = 0) {
    Earn earn{points, "purchase", std::move(order_id), order_amount_minor};
    if (!earn.order_id.empty() && order_amount_minor == 0) earn.order_amount_minor = 10'000;
    return run(member, earn);
  }
  Result earn_pending(MemberId member, Points points, TimeUs matures_at_us,
                      std::string order_id = "") {
    return run(member, Earn{points, "purchase", order_id, order_id.empty() ? 0 : 10'000, 0,
                            matures_at_us, 0});
  }
  Result earn_expiring(MemberId member, Points points, TimeUs expires_at_us) {
    return run(member, Earn{points, "checkin", "", 0, 0, 0, expires_at_us});
  }
  Result spend(MemberId member, Points points, std::string order_id = "") {
    return run(member, Spend{points, std::move(order_id)});
  }
  Result hold(MemberId member, const std::string& ref, Points points,
              TimeUs expires_at_us = kTimeNever) {
    return run(member, PlaceHold{ref, points, expires_at_us});
  }
  Result refund(MemberId member, const std::string& order_id, MinorUnits amount_minor) {
    return run(member, Refund{order_id, amount_minor});
  }
  Result cancel(MemberId member, TransactionId transaction_id) {
    return run(member, CancelTransaction{transaction_id});
  }
  Result settle(MemberId member) { return run(member, Settle{}, "scheduled expiry run"); }

  [[nodiscard]] AccountRow account(MemberId member) const {
    return keeper.rows.accounts.at(member);
  }
  [[nodiscard]] Lot lot(LotId id) const { return keeper.rows.lots.at(id); }
  [[nodiscard]] std::vector<Lot> lots(MemberId member) const { return keeper.lots_of(member); }
  [[nodiscard]] const Transaction& transaction(TransactionId id) const {
    return keeper.rows.journal.at(id);
  }
  // The id of the lot the accepted earn `result` granted.
  [[nodiscard]] LotId lot_of(const Result& result) const {
    for (const auto& [id, lot] : keeper.rows.lots)
      if (lot.transaction_id == result.outcome.transaction_id) return id;
    ADD_FAILURE() << "no lot for transaction " << result.outcome.transaction_id;
    return 0;
  }
  [[nodiscard]] std::vector<Allocation> allocations_of(TransactionId id) const {
    std::vector<Allocation> out;
    for (const auto& [key, allocation] : keeper.rows.allocations)
      if (allocation.transaction_id == id) out.push_back(allocation);
    return out;
  }
  [[nodiscard]] Points program(Account account) const {
    return testing::balance_of(keeper.balances(), account);
  }
  void expect_clean_audit() const {
    const Audit audit = keeper.audit();
    EXPECT_TRUE(audit.clean()) << ::testing::PrintToString(audit.findings());
  }

  BookKeeper keeper;
  TimeUs now = utc("2024-01-10T12:00:00Z");

 private:
  int keys_ = 0;
};

void expect_rejected(const Result& result, Rejection expected) {
  ASSERT_TRUE(result.rejection.has_value()) << "accepted, expected " << rejection_name(expected);
  EXPECT_EQ(rejection_name(*result.rejection), rejection_name(expected));
}

void expect_ok(const Result& result) {
  EXPECT_TRUE(result.ok()) << "rejected: "
                           << rejection_name(result.rejection.value_or(Rejection::invalid_request));
}

// ---- Opening an account ------------------------------------------------------------------------

using LedgerOpenAccount = LedgerTest;

TEST_F(LedgerOpenAccount, NewMembersStartAtZeroWithTheirOwnIds) {
  const MemberId alice = open("alice");
  const MemberId bob = open("bob");
  EXPECT_NE(alice, bob);
  const AccountRow row = account(alice);
  EXPECT_EQ(row.external_id, "alice");
  EXPECT_EQ(row.opened_at_us, now);
  EXPECT_EQ(row.available + row.pending + row.frozen + row.held + row.debt, 0);
  EXPECT_FALSE(row.account_frozen);
  EXPECT_EQ(row.next_due_us, kTimeNever);
  expect_clean_audit();
}

TEST_F(LedgerOpenAccount, ASecondAccountForTheSameShopMemberIsRefused) {
  open("alice");
  const Rows before = keeper.rows;
  expect_rejected(run(0, OpenAccount{"alice"}), Rejection::member_exists);
  EXPECT_EQ(keeper.rows, before);
}

TEST_F(LedgerOpenAccount, CommandsForAMemberWithoutAnAccountAreRefused) {
  expect_rejected(earn(42, 100), Rejection::unknown_member);
  expect_rejected(spend(42, 1), Rejection::unknown_member);
  EXPECT_TRUE(keeper.rows.journal.empty());
}

// ---- Earning -----------------------------------------------------------------------------------

using LedgerEarn = LedgerTest;

TEST_F(LedgerEarn, EarnedPointsAreAvailableAtOnceInANewLot) {
  const MemberId alice = open();
  const Result result = run(alice, Earn{120, "purchase", "order-1", 2599, 60, 0, 0});
  expect_ok(result);
  EXPECT_EQ(result.outcome.points, 120);
  EXPECT_EQ(result.outcome.available_after, 120);
  EXPECT_FALSE(result.outcome.pending);
  EXPECT_EQ(account(alice).available, 120);

  const Lot granted = lot(lot_of(result));
  EXPECT_EQ(granted.amount, 120);
  EXPECT_EQ(granted.remaining, 120);
  EXPECT_EQ(granted.state, LotState::active);
  EXPECT_EQ(granted.source, "purchase");
  EXPECT_EQ(granted.order_id, "order-1");
  EXPECT_EQ(granted.cost_minor, 60);
  EXPECT_EQ(granted.earned_at_us, now);
  EXPECT_EQ(granted.expires_at_us, now + 365 * kDay);  // the default policy: days:365

  const Transaction& tx = transaction(result.outcome.transaction_id);
  EXPECT_EQ(tx.kind, TransactionKind::earn);
  EXPECT_EQ(tx.reference, "order-1");
  EXPECT_EQ(tx.actor, "api-key:shop");
  EXPECT_EQ(program(Account::program_issued), -120);
  expect_clean_audit();
}

TEST_F(LedgerEarn, PointsInsideTheReturnWindowArePendingAndCannotBeSpent) {
  const MemberId alice = open();
  const TimeUs matures = now + 14 * kDay;
  const Result result = earn_pending(alice, 80, matures);
  expect_ok(result);
  EXPECT_TRUE(result.outcome.pending);
  EXPECT_EQ(account(alice).pending, 80);
  EXPECT_EQ(account(alice).available, 0);
  EXPECT_EQ(account(alice).next_due_us, matures);
  expect_rejected(spend(alice, 1), Rejection::insufficient_points);

  now = matures - 1;
  expect_ok(settle(alice));
  EXPECT_EQ(account(alice).pending, 80) << "matured a microsecond early";

  now = matures;
  expect_ok(settle(alice));
  EXPECT_EQ(account(alice).pending, 0);
  EXPECT_EQ(account(alice).available, 80);
  EXPECT_EQ(lot(lot_of(result)).state, LotState::active);
  expect_clean_audit();
}

TEST_F(LedgerEarn, MaturedPointsCanBeSpentWithoutWaitingForTheExpiryRun) {
  const MemberId alice = open();
  earn_pending(alice, 80, now + 14 * kDay);
  now += 15 * kDay;
  const Result result = spend(alice, 80);
  expect_ok(result);
  EXPECT_EQ(result.outcome.available_after, 0);
  // The maturation is its own housekeeping transaction, before the spend.
  std::vector<TransactionKind> kinds;
  for (const auto& [id, tx] : keeper.rows.journal) kinds.push_back(tx.kind);
  ASSERT_GE(kinds.size(), 2u);
  EXPECT_EQ(kinds[kinds.size() - 2], TransactionKind::maturation);
  EXPECT_EQ(kinds.back(), TransactionKind::spend);
  expect_clean_audit();
}

TEST_F(LedgerEarn, AnExplicitExpiryOverridesTheProgramPolicy) {
  const MemberId alice = open();
  const TimeUs expires = now + 7 * kDay;
  const Result result = earn_expiring(alice, 10, expires);
  EXPECT_EQ(lot(lot_of(result)).expires_at_us, expires);
  EXPECT_EQ(account(alice).next_due_us, expires);
}

TEST_F(LedgerEarn, ASecondPurchaseEventForTheSameOrderEarnsNothing) {
  const MemberId alice = open();
  expect_ok(earn(alice, 100, "order-1"));
  const Rows before = keeper.rows;
  expect_rejected(earn(alice, 100, "order-1"), Rejection::duplicate_order);
  EXPECT_EQ(keeper.rows, before);
  EXPECT_EQ(account(alice).available, 100);
}

TEST_F(LedgerEarn, TheSameOrderIdOfAnotherMemberIsAnotherOrder) {
  const MemberId alice = open("alice");
  const MemberId bob = open("bob");
  expect_ok(earn(alice, 100, "order-1"));
  expect_ok(earn(bob, 50, "order-1"));
  EXPECT_EQ(account(bob).available, 50);
}

// ---- Spending ----------------------------------------------------------------------------------

using LedgerSpend = LedgerTest;

TEST_F(LedgerSpend, SpendingTakesTheSoonestExpiringPointsFirst) {
  const MemberId alice = open();
  const LotId late = lot_of(earn_expiring(alice, 100, now + 90 * kDay));
  const LotId soon = lot_of(earn_expiring(alice, 100, now + 10 * kDay));
  const LotId middle = lot_of(earn_expiring(alice, 100, now + 30 * kDay));
  const Result result = spend(alice, 150);
  expect_ok(result);
  EXPECT_EQ(result.outcome.points, -150);
  EXPECT_EQ(lot(soon).remaining, 0);
  EXPECT_EQ(lot(middle).remaining, 50);
  EXPECT_EQ(lot(late).remaining, 100);

  const std::vector<Allocation> taken = allocations_of(result.outcome.transaction_id);
  ASSERT_EQ(taken.size(), 2u);
  Points total = 0;
  for (const Allocation& allocation : taken) {
    total += allocation.points;
    EXPECT_EQ(allocation.member_id, alice);
    EXPECT_EQ(allocation.returned, 0);
    EXPECT_EQ(allocation.points, allocation.lot_id == soon ? 100 : 50);
  }
  EXPECT_EQ(total, 150);
  EXPECT_EQ(account(alice).available, 150);
  EXPECT_EQ(program(Account::program_spent), 150);
  expect_clean_audit();
}

TEST_F(LedgerSpend, AmongPointsExpiringTogetherTheOldestGoFirst) {
  Policy policy;
  policy.expiry = ExpiryPolicy{ExpiryPolicy::Kind::never, 0};
  use_policy(policy);
  const MemberId alice = open();
  const LotId first = lot_of(earn(alice, 30));
  now += kHour;
  const LotId second = lot_of(earn(alice, 30));
  expect_ok(spend(alice, 40));
  EXPECT_EQ(lot(first).remaining, 0);
  EXPECT_EQ(lot(second).remaining, 20);
}

TEST_F(LedgerSpend, SpendingMoreThanAvailableIsRefusedAndChangesNothing) {
  const MemberId alice = open();
  earn(alice, 100);
  earn_pending(alice, 500, now + 14 * kDay);
  const Rows before = keeper.rows;
  expect_rejected(spend(alice, 101), Rejection::insufficient_points);
  EXPECT_EQ(keeper.rows, before);
  expect_ok(spend(alice, 100));
  EXPECT_EQ(account(alice).available, 0);
  EXPECT_EQ(account(alice).pending, 500);
}

TEST_F(LedgerSpend, AnOrderPaidWithPointsRemembersThem) {
  const MemberId alice = open();
  earn(alice, 300);
  expect_ok(spend(alice, 120, "order-9"));
  const Order& order = keeper.rows.orders.at({alice, "order-9"});
  EXPECT_EQ(order.points_spent, 120);
  EXPECT_EQ(order.amount_minor, 0);  // the purchase itself is not reported yet
}

// ---- Holds: reserve, then capture or release ---------------------------------------------------

using LedgerHold = LedgerTest;

TEST_F(LedgerHold, AHoldReservesPointsSoTheyCannotBeSpentTwice) {
  const MemberId alice = open();
  earn(alice, 100);
  const Result held = hold(alice, "redemption-1", 70);
  expect_ok(held);
  EXPECT_EQ(held.outcome.points, -70);
  EXPECT_EQ(account(alice).available, 30);
  EXPECT_EQ(account(alice).held, 70);
  expect_rejected(spend(alice, 31), Rejection::insufficient_points);
  expect_rejected(hold(alice, "redemption-2", 31), Rejection::insufficient_points);
  EXPECT_EQ(keeper.rows.holds.at({alice, "redemption-1"}).state, HoldState::open);
  expect_clean_audit();
}

TEST_F(LedgerHold, CaptureOnFulfilmentMakesTheHeldPointsSpent) {
  const MemberId alice = open();
  earn(alice, 100);
  hold(alice, "redemption-1", 70);
  const Result captured = run(alice, CaptureHold{"redemption-1"});
  expect_ok(captured);
  EXPECT_EQ(account(alice).held, 0);
  EXPECT_EQ(account(alice).available, 30);
  EXPECT_EQ(program(Account::program_spent), 70);
  EXPECT_EQ(keeper.rows.holds.at({alice, "redemption-1"}).state, HoldState::captured);
  expect_rejected(run(alice, CaptureHold{"redemption-1"}), Rejection::hold_not_open);
  expect_rejected(run(alice, ReleaseHold{"redemption-1"}), Rejection::hold_not_open);
  expect_clean_audit();
}

TEST_F(LedgerHold, ReleaseGivesThePointsBackToTheSameLots) {
  const MemberId alice = open();
  const LotId soon = lot_of(earn_expiring(alice, 50, now + 10 * kDay));
  const LotId late = lot_of(earn_expiring(alice, 50, now + 20 * kDay));
  hold(alice, "redemption-1", 70);
  EXPECT_EQ(lot(soon).remaining, 0);
  EXPECT_EQ(lot(late).remaining, 30);
  const Result released = run(alice, ReleaseHold{"redemption-1"});
  expect_ok(released);
  EXPECT_EQ(released.outcome.points, 70);
  EXPECT_EQ(lot(soon).remaining, 50);
  EXPECT_EQ(lot(late).remaining, 50);
  EXPECT_EQ(account(alice).available, 100);
  EXPECT_EQ(account(alice).held, 0);
  EXPECT_EQ(keeper.rows.holds.at({alice, "redemption-1"}).state, HoldState::released);
  expect_rejected(run(alice, ReleaseHold{"redemption-1"}), Rejection::hold_not_open);
  expect_clean_audit();
}

TEST_F(LedgerHold, AHoldReferenceIsUsedOnceEvenAfterRelease) {
  const MemberId alice = open();
  earn(alice, 100);
  hold(alice, "redemption-1", 10);
  expect_rejected(hold(alice, "redemption-1", 10), Rejection::hold_exists);
  run(alice, ReleaseHold{"redemption-1"});
  expect_rejected(hold(alice, "redemption-1", 10), Rejection::hold_exists);
}

TEST_F(LedgerHold, CaptureOrReleaseOfAnUnknownHoldIsRefused) {
  const MemberId alice = open();
  earn(alice, 100);
  expect_rejected(run(alice, CaptureHold{"nope"}), Rejection::unknown_hold);
  expect_rejected(run(alice, ReleaseHold{"nope"}), Rejection::unknown_hold);
}

TEST_F(LedgerHold, ATimedOutHoldCannotBeCapturedButCanBeReleased) {
  const MemberId alice = open();
  earn(alice, 100);
  hold(alice, "redemption-1", 60, now + kHour);
  now += kHour;
  expect_rejected(run(alice, CaptureHold{"redemption-1"}), Rejection::hold_expired);
  expect_ok(run(alice, ReleaseHold{"redemption-1"}));
  EXPECT_EQ(account(alice).available, 100);
}

// ---- Cancelling a spend or a redemption ------------------------------------------------------

using LedgerCancel = LedgerTest;

TEST_F(LedgerCancel, CancellingASpendGivesThePointsBackToTheSameLots) {
  const MemberId alice = open();
  const LotId soon = lot_of(earn_expiring(alice, 40, now + 10 * kDay));
  const LotId late = lot_of(earn_expiring(alice, 100, now + 50 * kDay));
  const Result spent = spend(alice, 90);
  const LotId extra = lot_of(earn_expiring(alice, 5, now + 5 * kDay));
  const Result cancelled = cancel(alice, spent.outcome.transaction_id);
  expect_ok(cancelled);
  EXPECT_EQ(cancelled.outcome.points, 90);
  EXPECT_EQ(lot(soon).remaining, 40);
  EXPECT_EQ(lot(late).remaining, 100);
  EXPECT_EQ(lot(extra).remaining, 5) << "points went back to a lot the spend never used";
  EXPECT_EQ(account(alice).available, 145);
  EXPECT_EQ(program(Account::program_spent), 0);
  for (const Allocation& allocation : allocations_of(spent.outcome.transaction_id))
    EXPECT_EQ(allocation.returned, allocation.points);
  EXPECT_EQ(transaction(cancelled.outcome.transaction_id).reference,
            std::to_string(spent.outcome.transaction_id));
  expect_clean_audit();
}

TEST_F(LedgerCancel, ASpendIsCancelledOnlyOnce) {
  const MemberId alice = open();
  earn(alice, 100);
  const Result spent = spend(alice, 60);
  expect_ok(cancel(alice, spent.outcome.transaction_id));
  expect_rejected(cancel(alice, spent.outcome.transaction_id), Rejection::already_cancelled);
  EXPECT_EQ(account(alice).available, 100);
}

TEST_F(LedgerCancel, CancellingAnOpenRedemptionReleasesItsHold) {
  const MemberId alice = open();
  const LotId granted = lot_of(earn(alice, 100));
  const Result held = hold(alice, "redemption-1", 70);
  const Result cancelled = cancel(alice, held.outcome.transaction_id);
  expect_ok(cancelled);
  EXPECT_EQ(cancelled.outcome.points, 70);
  EXPECT_EQ(lot(granted).remaining, 100);
  EXPECT_EQ(account(alice).held, 0);
  EXPECT_EQ(account(alice).available, 100);
  EXPECT_EQ(keeper.rows.holds.at({alice, "redemption-1"}).state, HoldState::released);
  expect_rejected(run(alice, CaptureHold{"redemption-1"}), Rejection::hold_not_open);
  expect_rejected(cancel(alice, held.outcome.transaction_id), Rejection::already_cancelled);
  expect_clean_audit();
}

TEST_F(LedgerCancel, CancellingAFulfilledRedemptionRefundsItsPoints) {
  const MemberId alice = open();
  const LotId granted = lot_of(earn(alice, 100));
  const Result held = hold(alice, "redemption-1", 70);
  run(alice, CaptureHold{"redemption-1"});
  const Result cancelled = cancel(alice, held.outcome.transaction_id);
  expect_ok(cancelled);
  EXPECT_EQ(lot(granted).remaining, 100);
  EXPECT_EQ(account(alice).available, 100);
  EXPECT_EQ(account(alice).held, 0);
  EXPECT_EQ(program(Account::program_spent), 0);
  expect_rejected(cancel(alice, held.outcome.transaction_id), Rejection::already_cancelled);
  expect_clean_audit();
}

TEST_F(LedgerCancel, OnlySpendsAndRedemptionsCanBeCancelled) {
  const MemberId alice = open();
  const Result earned = earn(alice, 100);
  expect_rejected(cancel(alice, earned.outcome.transaction_id), Rejection::not_cancellable);
  const Result taken = run(alice, Adjust{-10}, "duplicate grant");
  expect_rejected(cancel(alice, taken.outcome.transaction_id), Rejection::not_cancellable);
  EXPECT_EQ(account(alice).available, 90);
}

TEST_F(LedgerCancel, AnotherMembersTransactionIsUnknown) {
  const MemberId alice = open("alice");
  const MemberId bob = open("bob");
  earn(alice, 100);
  const Result spent = spend(alice, 50);
  expect_rejected(cancel(bob, spent.outcome.transaction_id), Rejection::unknown_transaction);
  expect_rejected(cancel(bob, 9999), Rejection::unknown_transaction);
  EXPECT_EQ(account(alice).available, 50);
  EXPECT_EQ(account(bob).available, 0);
}

TEST_F(LedgerCancel, PointsGivenBackToALotPastItsExpiryExpireOnTheNextRun) {
  const MemberId alice = open();
  const LotId granted = lot_of(earn_expiring(alice, 100, now + 10 * kDay));
  const Result spent = spend(alice, 100);
  now += 20 * kDay;  // the lot's expiry passed while it was empty
  expect_ok(cancel(alice, spent.outcome.transaction_id));
  // The expiry run finds members by next_due_us: the refilled lot is due again.
  EXPECT_EQ(account(alice).next_due_us, lot(granted).expires_at_us);
  expect_rejected(spend(alice, 1), Rejection::insufficient_points);
  expect_ok(settle(alice));
  EXPECT_EQ(account(alice).available, 0);
  EXPECT_EQ(lot(granted).state, LotState::expired);
  EXPECT_EQ(program(Account::program_expired), 100);
  expect_clean_audit();
}

TEST_F(LedgerCancel, ReleasedPointsOfALotPastItsExpiryExpireOnTheNextRun) {
  const MemberId alice = open();
  const LotId granted = lot_of(earn_expiring(alice, 100, now + 10 * kDay));
  hold(alice, "redemption-1", 100);
  now += 20 * kDay;
  expect_ok(run(alice, ReleaseHold{"redemption-1"}));
  EXPECT_EQ(account(alice).next_due_us, lot(granted).expires_at_us);
  expect_ok(settle(alice));
  EXPECT_EQ(account(alice).available, 0);
  EXPECT_EQ(lot(granted).state, LotState::expired);
  expect_clean_audit();
}

// ---- Refunds claw back what the order earned ---------------------------------------------------

using LedgerRefund = LedgerTest;

TEST_F(LedgerRefund, AFullRefundClawsBackExactlyWhatTheOrderEarned) {
  const MemberId alice = open();
  earn(alice, 50);
  const LotId order_lot = lot_of(earn(alice, 100, "order-1", 2000));
  const Result refunded = refund(alice, "order-1", 2000);
  expect_ok(refunded);
  EXPECT_EQ(refunded.outcome.points, -100);
  EXPECT_EQ(account(alice).available, 50);
  EXPECT_EQ(lot(order_lot).remaining, 0);
  EXPECT_EQ(lot(order_lot).state, LotState::reversed);
  EXPECT_EQ(program(Account::program_clawed_back), 100);
  const Order& order = keeper.rows.orders.at({alice, "order-1"});
  EXPECT_EQ(order.refunded_minor, 2000);
  EXPECT_EQ(order.points_clawed_back, 100);
  expect_clean_audit();
}

TEST_F(LedgerRefund, PartialRefundsClawBackProRataAndAddUpToTheEarnedPoints) {
  const MemberId alice = open();
  earn(alice, 100, "order-1", 999);
  std::vector<Points> clawed;
  for (int i = 0; i < 3; ++i) clawed.push_back(-refund(alice, "order-1", 333).outcome.points);
  EXPECT_EQ(clawed, (std::vector<Points>{33, 33, 34}));
  EXPECT_EQ(account(alice).available, 0);
  expect_rejected(refund(alice, "order-1", 1), Rejection::refund_exceeds_order);
  expect_clean_audit();
}

TEST_F(LedgerRefund, RoundingNeverClawsBackMoreThanTheRefundedShare) {
  const MemberId alice = open();
  earn(alice, 7, "order-1", 3);
  // After each refund of 1 of 3, at most floor(7 * refunded / 3) may have been clawed back.
  const std::vector<Points> most = {2, 4, 7};
  Points total = 0;
  for (Points limit : most) {
    total += -refund(alice, "order-1", 1).outcome.points;
    EXPECT_LE(total, limit);
    EXPECT_EQ(keeper.rows.orders.at({alice, "order-1"}).points_clawed_back, total);
  }
  EXPECT_EQ(total, 7);
}

TEST_F(LedgerRefund, RefundsBeyondTheOrderOrOfUnknownOrdersAreRefused) {
  const MemberId alice = open();
  earn(alice, 100, "order-1", 1000);
  expect_rejected(refund(alice, "order-1", 1001), Rejection::refund_exceeds_order);
  expect_ok(refund(alice, "order-1", 400));
  expect_rejected(refund(alice, "order-1", 601), Rejection::refund_exceeds_order);
  expect_rejected(refund(alice, "order-2", 1), Rejection::unknown_order);
  EXPECT_EQ(account(alice).available, 60);
}

TEST_F(LedgerRefund, SpentPointsAreClawedBackFromTheMembersOtherLots) {
  const MemberId alice = open();
  earn_expiring(alice, 100, now + 5 * kDay);
  const LotId purchase = lot_of(earn(alice, 100, "order-1", 1000));
  expect_ok(spend(alice, 150));  // takes the soon-expiring lot, then 50 of the order's
  EXPECT_EQ(lot(purchase).remaining, 50);
  now += kHour;
  const LotId other = lot_of(earn(alice, 200));
  const Result refunded = refund(alice, "order-1", 1000);
  expect_ok(refunded);
  EXPECT_EQ(refunded.outcome.points, -100);
  EXPECT_EQ(refunded.outcome.debt_added, 0);
  EXPECT_EQ(lot(purchase).remaining, 0);
  EXPECT_EQ(lot(other).remaining, 150);
  EXPECT_EQ(account(alice).available, 150);
  expect_clean_audit();
}

TEST_F(LedgerRefund, WhatNoLotCanCoverBecomesDebtThatLaterEarningRepays) {
  const MemberId alice = open();
  earn(alice, 100, "order-1", 1000);
  spend(alice, 100);
  const Result refunded = refund(alice, "order-1", 1000);
  expect_ok(refunded);
  EXPECT_EQ(refunded.outcome.debt_added, 100);
  EXPECT_EQ(refunded.outcome.debt_after, 100);
  EXPECT_EQ(account(alice).debt, 100);
  EXPECT_EQ(account(alice).available, 0);

  const Result first = earn(alice, 60);
  EXPECT_EQ(first.outcome.debt_repaid, 60);
  EXPECT_EQ(account(alice).debt, 40);
  EXPECT_EQ(account(alice).available, 0);
  const Result second = earn(alice, 60);
  EXPECT_EQ(second.outcome.debt_repaid, 40);
  EXPECT_EQ(account(alice).debt, 0);
  EXPECT_EQ(account(alice).available, 20);
  expect_rejected(spend(alice, 21), Rejection::insufficient_points);
  expect_clean_audit();
}

TEST_F(LedgerRefund, DebtIsRepaidWhenPendingPointsMature) {
  const MemberId alice = open();
  earn(alice, 100, "order-1", 1000);
  spend(alice, 100);
  refund(alice, "order-1", 1000);
  earn_pending(alice, 150, now + 14 * kDay);
  EXPECT_EQ(account(alice).debt, 100) << "pending points must not repay debt yet";
  now += 14 * kDay;
  settle(alice);
  EXPECT_EQ(account(alice).debt, 0);
  EXPECT_EQ(account(alice).available, 50);
  expect_clean_audit();
}

TEST_F(LedgerRefund, PendingPointsAreClawedBackBeforeTheyMature) {
  const MemberId alice = open();
  const Result earned = earn_pending(alice, 100, now + 14 * kDay, "order-1");
  refund(alice, "order-1", 2500);  // a quarter of the default 10'000
  EXPECT_EQ(account(alice).pending, 75);
  EXPECT_EQ(account(alice).available, 0);
  EXPECT_EQ(lot(lot_of(earned)).state, LotState::pending);
  now += 14 * kDay;
  settle(alice);
  EXPECT_EQ(account(alice).available, 75);
  expect_clean_audit();
}

TEST_F(LedgerRefund, PendingPointsCoverAClawbackBeforeItBecomesDebt) {
  const MemberId alice = open();
  earn(alice, 100, "order-1", 1000);
  spend(alice, 100);
  earn_pending(alice, 70, now + 14 * kDay);
  const Result refunded = refund(alice, "order-1", 1000);
  EXPECT_EQ(refunded.outcome.points, -100);
  EXPECT_EQ(refunded.outcome.debt_added, 30);
  EXPECT_EQ(account(alice).pending, 0);
  EXPECT_EQ(account(alice).debt, 30);
  expect_clean_audit();
}

TEST_F(LedgerRefund, PointsThatPaidForAnOrderComeBackProRataPieceByPiece) {
  const MemberId alice = open();
  earn(alice, 500);
  spend(alice, 200, "order-1");
  earn(alice, 30, "order-1", 3000);
  std::vector<Points> returned;
  for (int i = 0; i < 3; ++i)
    returned.push_back(refund(alice, "order-1", 1000).outcome.points_returned);
  // floor(200 * 1/3) = 66, floor(200 * 2/3) = 133, 200.
  EXPECT_EQ(returned, (std::vector<Points>{66, 67, 67}));
  EXPECT_EQ(account(alice).available, 500);
  expect_clean_audit();
}

TEST_F(LedgerRefund, UnderAbsorbAfterLotsTheMerchantBearsWhatLotsCannotCover) {
  Policy policy;
  policy.shortfall = ShortfallPolicy::other_lots_then_absorb;
  use_policy(policy);
  const MemberId alice = open();
  earn(alice, 100, "order-1", 1000);
  spend(alice, 80);
  earn(alice, 30);
  const Result refunded = refund(alice, "order-1", 1000);
  expect_ok(refunded);
  EXPECT_EQ(refunded.outcome.points, -50);  // 20 left in the order's lot, 30 from the other
  EXPECT_EQ(refunded.outcome.absorbed, 50);
  EXPECT_EQ(refunded.outcome.debt_added, 0);
  EXPECT_EQ(account(alice).available, 0);
  EXPECT_EQ(account(alice).debt, 0);
  EXPECT_EQ(keeper.rows.orders.at({alice, "order-1"}).points_clawed_back, 100);
  expect_clean_audit();
}

TEST_F(LedgerRefund, UnderAbsorbOnlyTheOrdersOwnPointsAreTakenBack) {
  Policy policy;
  policy.shortfall = ShortfallPolicy::absorb;
  use_policy(policy);
  const MemberId alice = open();
  earn(alice, 100, "order-1", 1000);
  spend(alice, 80);
  earn(alice, 30);
  const Result refunded = refund(alice, "order-1", 1000);
  EXPECT_EQ(refunded.outcome.points, -20);
  EXPECT_EQ(refunded.outcome.absorbed, 80);
  EXPECT_EQ(account(alice).available, 30);
  EXPECT_EQ(account(alice).debt, 0);
  expect_clean_audit();
}

TEST_F(LedgerRefund, AFrozenLotOfTheOrderIsClawedBackToo) {
  const MemberId alice = open();
  const LotId purchase = lot_of(earn(alice, 100, "order-1", 1000));
  run(alice, FreezeLot{purchase}, "fraud review");
  const Result refunded = refund(alice, "order-1", 1000);
  EXPECT_EQ(refunded.outcome.points, -100);
  EXPECT_EQ(account(alice).frozen, 0);
  EXPECT_EQ(lot(purchase).state, LotState::reversed);
  expect_clean_audit();
}

// A purchase that earns nothing (paid with points, or too small) is still recorded, so that its
// refund is known and gives back the points that paid for it.
TEST_F(LedgerRefund, AnOrderPaidOnlyWithPointsIsRefundedOnceItsPurchaseIsRecorded) {
  const MemberId alice = open();
  earn(alice, 300);
  expect_ok(spend(alice, 120, "order-9"));
  const std::size_t lots_before = keeper.rows.lots.size();
  const Result recorded = earn(alice, 0, "order-9", 1000);
  expect_ok(recorded);
  EXPECT_EQ(recorded.outcome.points, 0);
  EXPECT_EQ(keeper.rows.lots.size(), lots_before) << "no lot for 0 points";
  const Result refunded = refund(alice, "order-9", 1000);
  expect_ok(refunded);
  EXPECT_EQ(refunded.outcome.points, 0);
  EXPECT_EQ(refunded.outcome.points_returned, 120);
  EXPECT_EQ(account(alice).available, 300);
  expect_clean_audit();
}

TEST_F(LedgerRefund, ZeroPointsAreRecordedOnlyForAnOrder) {
  const MemberId alice = open();
  expect_rejected(earn(alice, 0), Rejection::invalid_request);
  expect_ok(earn(alice, 0, "order-small", 50));
  expect_ok(refund(alice, "order-small", 50));
  expect_rejected(earn(alice, 0, "order-small", 50), Rejection::duplicate_order);
  EXPECT_EQ(account(alice).available, 0);
  expect_clean_audit();
}

// ---- Operator adjustments ----------------------------------------------------------------------

using LedgerAdjust = LedgerTest;

TEST_F(LedgerAdjust, APositiveAdjustmentGrantsALotThatSaysWhoAndWhy) {
  const MemberId alice = open();
  const Command adjust{"adjust-1", alice, now, "operator:carol", "goodwill after late delivery",
                       Adjust{25}};
  const Result result = keeper.execute(adjust);
  expect_ok(result);
  EXPECT_EQ(result.outcome.points, 25);
  EXPECT_EQ(account(alice).available, 25);
  const Lot granted = lot(lot_of(result));
  EXPECT_EQ(granted.source, "adjustment");
  const Transaction& tx = transaction(result.outcome.transaction_id);
  EXPECT_EQ(tx.kind, TransactionKind::adjustment);
  EXPECT_EQ(tx.actor, "operator:carol");
  EXPECT_EQ(tx.reason, "goodwill after late delivery");
  expect_clean_audit();
}

TEST_F(LedgerAdjust, ANegativeAdjustmentRevokesPointsLikeASpend) {
  const MemberId alice = open();
  const LotId soon = lot_of(earn_expiring(alice, 30, now + 3 * kDay));
  const LotId late = lot_of(earn(alice, 100));
  const Result result = run(alice, Adjust{-50}, "points granted twice by mistake");
  expect_ok(result);
  EXPECT_EQ(result.outcome.points, -50);
  EXPECT_EQ(lot(soon).remaining, 0);
  EXPECT_EQ(lot(late).remaining, 80);
  EXPECT_EQ(account(alice).available, 80);
  EXPECT_EQ(program(Account::program_revoked), 50);
  EXPECT_EQ(program(Account::program_spent), 0);
  expect_clean_audit();
}

TEST_F(LedgerAdjust, ANegativeAdjustmentCannotTakeMoreThanIsAvailable) {
  const MemberId alice = open();
  earn(alice, 10);
  expect_rejected(run(alice, Adjust{-11}, "reason"), Rejection::insufficient_points);
  EXPECT_EQ(account(alice).available, 10);
}

TEST_F(LedgerAdjust, APositiveAdjustmentRepaysDebtFirst) {
  const MemberId alice = open();
  earn(alice, 100, "order-1", 1000);
  spend(alice, 100);
  refund(alice, "order-1", 1000);
  const Result result = run(alice, Adjust{130}, "goodwill");
  EXPECT_EQ(result.outcome.debt_repaid, 100);
  EXPECT_EQ(account(alice).debt, 0);
  EXPECT_EQ(account(alice).available, 30);
  expect_clean_audit();
}

// ---- Expiry ------------------------------------------------------------------------------------

using LedgerExpiry = LedgerTest;

TEST_F(LedgerExpiry, PointsExpireAtTheirExpiryTimeAndNotBefore) {
  const MemberId alice = open();
  const TimeUs expires = now + 30 * kDay;
  const LotId granted = lot_of(earn_expiring(alice, 100, expires));
  now = expires - 1;
  settle(alice);
  EXPECT_EQ(account(alice).available, 100);
  now = expires;
  settle(alice);
  EXPECT_EQ(account(alice).available, 0);
  EXPECT_EQ(lot(granted).state, LotState::expired);
  EXPECT_EQ(lot(granted).remaining, 100);  // what expired
  EXPECT_EQ(program(Account::program_expired), 100);
  EXPECT_EQ(account(alice).next_due_us, kTimeNever);
  expect_clean_audit();
}

TEST_F(LedgerExpiry, ALotExpiresOnlyOnce) {
  const MemberId alice = open();
  earn_expiring(alice, 100, now + kDay);
  now += 2 * kDay;
  settle(alice);
  settle(alice);
  now += 400 * kDay;
  settle(alice);
  EXPECT_EQ(program(Account::program_expired), 100);
  int expiry_entries = 0;
  for (const auto& [id, tx] : keeper.rows.journal)
    for (const Entry& entry : tx.entries)
      expiry_entries += entry.account == Account::program_expired ? 1 : 0;
  EXPECT_EQ(expiry_entries, 1);
  expect_clean_audit();
}

TEST_F(LedgerExpiry, TheAccountKnowsWhenItsNextLotIsDue) {
  const MemberId alice = open();
  earn_expiring(alice, 10, now + 30 * kDay);
  EXPECT_EQ(account(alice).next_due_us, now + 30 * kDay);
  earn_expiring(alice, 10, now + 20 * kDay);
  EXPECT_EQ(account(alice).next_due_us, now + 20 * kDay);
  earn_pending(alice, 10, now + 5 * kDay);
  EXPECT_EQ(account(alice).next_due_us, now + 5 * kDay);
  const TimeUs start = now;
  now = start + 5 * kDay;
  settle(alice);
  EXPECT_EQ(account(alice).next_due_us, start + 20 * kDay);
  now = start + 20 * kDay;
  settle(alice);
  EXPECT_EQ(account(alice).next_due_us, start + 30 * kDay);
}

TEST_F(LedgerExpiry, FreezingTheLotDueNextMovesTheExpiryRunOn) {
  const MemberId alice = open();
  const LotId soon = lot_of(earn_expiring(alice, 10, now + 5 * kDay));
  earn_expiring(alice, 10, now + 9 * kDay);
  run(alice, FreezeLot{soon}, "fraud review");
  EXPECT_EQ(account(alice).next_due_us, now + 9 * kDay);
  run(alice, UnfreezeLot{soon}, "review passed");
  EXPECT_EQ(account(alice).next_due_us, now + 5 * kDay);
}

TEST_F(LedgerExpiry, EndOfMonthPointsInLondonExpireAtLocalMidnight) {
  Policy policy;
  policy.expiry = ExpiryPolicy{ExpiryPolicy::Kind::end_of_month, 1};
  policy.zone = TimeZone::load("Europe/London");
  ASSERT_NE(policy.zone, nullptr);
  use_policy(policy);
  const MemberId alice = open();
  now = utc("2024-04-15T10:00:00Z");
  const LotId granted = lot_of(earn(alice, 100));
  // End of May, in British Summer Time: 1 June 00:00 BST is 31 May 23:00 UTC.
  EXPECT_EQ(lot(granted).expires_at_us, utc("2024-05-31T23:00:00Z"));
  now = utc("2024-05-31T22:59:59Z");
  settle(alice);
  EXPECT_EQ(account(alice).available, 100);
  now = utc("2024-05-31T23:00:00Z");
  settle(alice);
  EXPECT_EQ(account(alice).available, 0);
}

TEST_F(LedgerExpiry, EndOfYearPointsInLondonExpireAtNewYear) {
  Policy policy;
  policy.expiry = ExpiryPolicy{ExpiryPolicy::Kind::end_of_year, 1};
  policy.zone = TimeZone::load("Europe/London");
  use_policy(policy);
  const MemberId alice = open();
  now = utc("2024-07-01T09:00:00Z");
  const LotId granted = lot_of(earn(alice, 100));
  EXPECT_EQ(lot(granted).expires_at_us, utc("2026-01-01T00:00:00Z"));
}

TEST_F(LedgerExpiry, EarningRenewsRollingValidityOfEveryActiveLot) {
  Policy policy;
  policy.expiry = ExpiryPolicy{ExpiryPolicy::Kind::rolling_days, 30};
  use_policy(policy);
  const MemberId alice = open();
  const TimeUs start = now;
  const LotId first = lot_of(earn(alice, 100));
  EXPECT_EQ(lot(first).expires_at_us, start + 30 * kDay);
  now = start + 20 * kDay;
  const LotId second = lot_of(earn(alice, 10));
  EXPECT_EQ(lot(first).expires_at_us, start + 50 * kDay);
  EXPECT_EQ(lot(second).expires_at_us, start + 50 * kDay);
  now = start + 45 * kDay;  // past the first lot's original validity
  settle(alice);
  EXPECT_EQ(account(alice).available, 110);
  now = start + 50 * kDay;
  settle(alice);
  EXPECT_EQ(account(alice).available, 0);
}

TEST_F(LedgerExpiry, SpendingRenewsRollingValidityOfWhatIsLeft) {
  Policy policy;
  policy.expiry = ExpiryPolicy{ExpiryPolicy::Kind::rolling_days, 30};
  use_policy(policy);
  const MemberId alice = open();
  const TimeUs start = now;
  const LotId granted = lot_of(earn(alice, 100));
  now = start + 29 * kDay;
  spend(alice, 10);
  EXPECT_EQ(lot(granted).expires_at_us, start + 59 * kDay);
  EXPECT_EQ(account(alice).next_due_us, start + 59 * kDay);
  now = start + 40 * kDay;
  settle(alice);
  EXPECT_EQ(account(alice).available, 90);
}

TEST_F(LedgerExpiry, RollingValidityAlsoCoversPointsStillInTheReturnWindow) {
  Policy policy;
  policy.expiry = ExpiryPolicy{ExpiryPolicy::Kind::rolling_days, 30};
  use_policy(policy);
  const MemberId alice = open();
  const TimeUs start = now;
  const LotId first = lot_of(earn_pending(alice, 100, start + 14 * kDay));
  now = start + 10 * kDay;
  earn_pending(alice, 10, now + 14 * kDay);  // the member's latest activity: day 10
  EXPECT_EQ(lot(first).expires_at_us, start + 40 * kDay);
  now = start + 35 * kDay;
  settle(alice);
  EXPECT_EQ(account(alice).available, 110) << "expired 30 days after earning, not after activity";
  now = start + 40 * kDay;
  settle(alice);
  EXPECT_EQ(account(alice).available, 0);
  expect_clean_audit();
}

TEST_F(LedgerExpiry, RollingValidityAlsoCoversFrozenPoints) {
  Policy policy;
  policy.expiry = ExpiryPolicy{ExpiryPolicy::Kind::rolling_days, 30};
  use_policy(policy);
  const MemberId alice = open();
  const TimeUs start = now;
  const LotId suspicious = lot_of(earn(alice, 100));
  run(alice, FreezeLot{suspicious}, "fraud review");
  now = start + 20 * kDay;
  earn(alice, 10);
  now = start + 35 * kDay;
  run(alice, UnfreezeLot{suspicious}, "review passed");
  EXPECT_EQ(lot(suspicious).state, LotState::active);
  EXPECT_EQ(account(alice).available, 110);
  expect_clean_audit();
}

TEST_F(LedgerExpiry, RollingValidityIsNotRenewedByTimeAlone) {
  Policy policy;
  policy.expiry = ExpiryPolicy{ExpiryPolicy::Kind::rolling_days, 30};
  use_policy(policy);
  const MemberId alice = open();
  const TimeUs start = now;
  earn(alice, 100);
  now = start + 29 * kDay;
  settle(alice);
  now = start + 30 * kDay;
  settle(alice);
  EXPECT_EQ(account(alice).available, 0);
}

TEST_F(LedgerExpiry, SettleMaturesAndExpiresInOneRunWithHousekeepingFirst) {
  const MemberId alice = open();
  earn_pending(alice, 40, now + 2 * kDay);
  earn_expiring(alice, 60, now + 3 * kDay);
  now += 5 * kDay;
  const Result settled = settle(alice);
  expect_ok(settled);
  EXPECT_EQ(account(alice).available, 40);
  EXPECT_EQ(account(alice).pending, 0);
  std::vector<TransactionKind> kinds;
  for (const auto& [id, tx] : keeper.rows.journal)
    if (id > settled.outcome.transaction_id - 3) kinds.push_back(tx.kind);
  EXPECT_EQ(kinds,
            (std::vector<TransactionKind>{TransactionKind::maturation, TransactionKind::expiry,
                                          TransactionKind::expiry}));
  const Transaction& own = transaction(settled.outcome.transaction_id);
  EXPECT_FALSE(own.idempotency_key.empty());
  EXPECT_TRUE(own.entries.empty());
  expect_clean_audit();
}

// ---- Freezing accounts and lots ----------------------------------------------------------------

using LedgerFreeze = LedgerTest;

TEST_F(LedgerFreeze, AFrozenAccountCannotSpendOrHoldButStillEarns) {
  const MemberId alice = open();
  earn(alice, 100);
  expect_ok(run(alice, FreezeAccount{}, "fraud review"));
  EXPECT_TRUE(account(alice).account_frozen);
  expect_rejected(spend(alice, 10), Rejection::account_frozen);
  expect_rejected(hold(alice, "redemption-1", 10), Rejection::account_frozen);
  expect_ok(earn(alice, 50));
  EXPECT_EQ(account(alice).available, 150);
  expect_ok(run(alice, UnfreezeAccount{}, "review passed"));
  EXPECT_FALSE(account(alice).account_frozen);
  expect_ok(spend(alice, 150));
  expect_clean_audit();
}

TEST_F(LedgerFreeze, AFrozenLotIsSetAsideAndNotSpendable) {
  const MemberId alice = open();
  const LotId suspicious = lot_of(earn_expiring(alice, 100, now + 5 * kDay));
  earn(alice, 20);
  expect_ok(run(alice, FreezeLot{suspicious}, "fraud review"));
  EXPECT_EQ(lot(suspicious).state, LotState::frozen);
  EXPECT_EQ(account(alice).frozen, 100);
  EXPECT_EQ(account(alice).available, 20);
  expect_rejected(spend(alice, 21), Rejection::insufficient_points);
  expect_ok(run(alice, UnfreezeLot{suspicious}, "review passed"));
  EXPECT_EQ(account(alice).frozen, 0);
  EXPECT_EQ(account(alice).available, 120);
  expect_clean_audit();
}

TEST_F(LedgerFreeze, AFrozenLotDoesNotExpireUntilUnfrozen) {
  const MemberId alice = open();
  const LotId suspicious = lot_of(earn_expiring(alice, 100, now + 5 * kDay));
  run(alice, FreezeLot{suspicious}, "fraud review");
  now += 10 * kDay;
  settle(alice);
  EXPECT_EQ(account(alice).frozen, 100);
  const Result unfrozen = run(alice, UnfreezeLot{suspicious}, "review passed");
  expect_ok(unfrozen);
  EXPECT_EQ(lot(suspicious).state, LotState::expired);
  EXPECT_EQ(account(alice).frozen, 0);
  EXPECT_EQ(account(alice).available, 0);
  EXPECT_EQ(program(Account::program_expired), 100);
  expect_clean_audit();
}

TEST_F(LedgerFreeze, AnUnfrozenLotStillInsideItsReturnWindowIsPendingAgain) {
  const MemberId alice = open();
  const LotId pending = lot_of(earn_pending(alice, 100, now + 14 * kDay));
  run(alice, FreezeLot{pending}, "fraud review");
  EXPECT_EQ(account(alice).pending, 0);
  EXPECT_EQ(account(alice).frozen, 100);
  now += kDay;
  run(alice, UnfreezeLot{pending}, "review passed");
  EXPECT_EQ(lot(pending).state, LotState::pending);
  EXPECT_EQ(account(alice).pending, 100);
  now += 14 * kDay;
  settle(alice);
  EXPECT_EQ(account(alice).available, 100);
  expect_clean_audit();
}

TEST_F(LedgerFreeze, OnlyLiveLotsCanBeFrozenAndOnlyFrozenOnesUnfrozen) {
  const MemberId alice = open("alice");
  const MemberId bob = open("bob");
  const LotId granted = lot_of(earn_expiring(alice, 100, now + kDay));
  expect_rejected(run(alice, UnfreezeLot{granted}, "r"), Rejection::lot_not_frozen);
  expect_ok(run(alice, FreezeLot{granted}, "r"));
  expect_rejected(run(alice, FreezeLot{granted}, "r"), Rejection::lot_not_freezable);
  expect_rejected(run(bob, FreezeLot{granted}, "r"), Rejection::unknown_lot);
  expect_rejected(run(bob, UnfreezeLot{granted}, "r"), Rejection::unknown_lot);
  expect_rejected(run(alice, FreezeLot{9999}, "r"), Rejection::unknown_lot);
  expect_ok(run(alice, UnfreezeLot{granted}, "r"));
  now += 2 * kDay;
  settle(alice);
  expect_rejected(run(alice, FreezeLot{granted}, "r"), Rejection::lot_not_freezable);
}

// ---- Validation --------------------------------------------------------------------------------

using LedgerValidation = LedgerTest;

TEST_F(LedgerValidation, MalformedCommandsAreRefusedAsInvalidAndChangeNothing) {
  const MemberId alice = open();
  earn(alice, 100, "order-1", 1000);
  const std::string too_long(129, 'x');
  struct Case {
    const char* what;
    Command command;
  };
  auto with = [&](CommandBody body, std::string reason = "why") {
    return Command{"bad", alice, now, "operator:carol", std::move(reason), std::move(body)};
  };
  std::vector<Case> cases = {
      {"empty key", Command{"", alice, now, "a", "r", Spend{1, ""}}},
      {"key too long", Command{too_long, alice, now, "a", "r", Spend{1, ""}}},
      {"control character in key", Command{"a\nb", alice, now, "a", "r", Spend{1, ""}}},
      {"no member", Command{"k", 0, now, "a", "r", Spend{1, ""}}},
      {"negative member", Command{"k", -1, now, "a", "r", Spend{1, ""}}},
      {"open account with a member id", Command{"k", alice, now, "a", "r", OpenAccount{"x"}}},
      {"empty external id", Command{"k", 0, now, "a", "r", OpenAccount{""}}},
      {"external id too long", Command{"k", 0, now, "a", "r", OpenAccount{too_long}}},
      {"zero earn", with(Earn{0, "purchase", ""})},
      {"negative earn", with(Earn{-5, "purchase", ""})},
      {"absurd earn", with(Earn{1'000'000'000'001, "purchase", ""})},
      {"earn without source", with(Earn{5, "", ""})},
      {"order without amount", with(Earn{5, "purchase", "order-2", 0})},
      {"negative cost", with(Earn{5, "purchase", "", 0, -1})},
      {"negative maturity", with(Earn{5, "purchase", "", 0, 0, -1, 0})},
      {"negative expiry", with(Earn{5, "purchase", "", 0, 0, 0, -1})},
      {"zero spend", with(Spend{0, ""})},
      {"negative spend", with(Spend{-1, ""})},
      {"zero hold", with(PlaceHold{"h", 0})},
      {"hold without reference", with(PlaceHold{"", 5})},
      {"capture without reference", with(CaptureHold{""})},
      {"release without reference", with(ReleaseHold{""})},
      {"zero refund", with(Refund{"order-1", 0})},
      {"negative refund", with(Refund{"order-1", -10})},
      {"refund without order", with(Refund{"", 10})},
      {"cancel of transaction 0", with(CancelTransaction{0})},
      {"zero adjustment", with(Adjust{0})},
      {"adjustment without reason", with(Adjust{10}, "")},
      {"negative adjustment without reason", with(Adjust{-10}, "")},
      {"freeze without reason", with(FreezeAccount{}, "")},
      {"unfreeze without reason", with(UnfreezeAccount{}, "")},
      {"lot freeze without reason", with(FreezeLot{1}, "")},
      {"lot unfreeze without reason", with(UnfreezeLot{1}, "")},
      {"lot 0", with(FreezeLot{0})},
      {"reason too long", with(Adjust{10}, std::string(501, 'r'))},
  };
  const Rows before = keeper.rows;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    EXPECT_EQ(validate(c.command), Rejection::invalid_request);
    SequentialIds ids;
    const Decision decision = decide(keeper.load(c.command), c.command, keeper.policy(), ids);
    ASSERT_TRUE(decision.rejection.has_value());
    EXPECT_EQ(*decision.rejection, Rejection::invalid_request);
    EXPECT_TRUE(decision.effects.transactions.empty());
  }
  EXPECT_EQ(keeper.rows, before);
}

TEST_F(LedgerValidation, WellFormedCommandsPassValidation) {
  const std::vector<Command> fine = {
      Command{"k", 0, now, "", "", OpenAccount{std::string(128, 'x')}},
      Command{std::string(128, 'k'), 1, now, "", "", Earn{1'000'000'000'000, "purchase", ""}},
      Command{"k", 1, now, "", "", Earn{1, "purchase", "order", 1}},
      Command{"k", 1, now, "", "with\ttab", Spend{1, ""}},
      Command{"k", 1, now, "", "why", Adjust{-1}},
      Command{"k", 1, now, "", "", Settle{}},
  };
  for (const Command& command : fine)
    EXPECT_EQ(validate(command), std::nullopt) << command_name(command.body);
}

// ---- The failure stories of the issue -----------------------------------------------------------

using LedgerStory = LedgerTest;

// Twenty "gift" redemptions of 100 arrive at once for a member who has 100. The store applies them
// one after another, each decided against the book the previous one left.
TEST_F(LedgerStory, ConcurrentGiftsCannotCreatePoints) {
  const MemberId alice = open();
  earn(alice, 100);
  int accepted = 0;
  for (int i = 0; i < 20; ++i) {
    const Result result = spend(alice, 100);
    if (result.ok()) {
      ++accepted;
    } else {
      EXPECT_EQ(*result.rejection, Rejection::insufficient_points);
    }
    EXPECT_GE(account(alice).available, 0);
  }
  EXPECT_EQ(accepted, 1);
  EXPECT_EQ(account(alice).available, 0);
  EXPECT_EQ(program(Account::program_spent), 100);
  EXPECT_EQ(-program(Account::program_issued), 100);
  expect_clean_audit();
}

// A customer buys, earns, returns everything, and does it again and again: nothing may be left
// over, in either direction.
TEST_F(LedgerStory, BuyEarnRefundRepeatNetsZero) {
  const MemberId alice = open();
  Points issued = 0;
  for (int i = 0; i < 30; ++i) {
    const std::string order = "order-" + std::to_string(i);
    const MinorUnits amount = 1999 + 7 * i;
    const Points points = 37 + i;
    if (i % 3 == 0) {
      expect_ok(earn_pending(alice, points, now + 14 * kDay, order));
      // earn_pending reports an order amount of 10'000
      expect_ok(refund(alice, order, 3333));
      expect_ok(refund(alice, order, 10'000 - 3333));
    } else {
      expect_ok(earn(alice, points, order, amount));
      if (i % 2 == 0) expect_ok(refund(alice, order, amount / 3));
      expect_ok(refund(alice, order, amount - (i % 2 == 0 ? amount / 3 : 0)));
    }
    issued += points;
    now += kDay;
  }
  now += 30 * kDay;
  settle(alice);
  const AccountRow row = account(alice);
  EXPECT_EQ(row.available, 0);
  EXPECT_EQ(row.pending, 0);
  EXPECT_EQ(row.debt, 0);
  EXPECT_EQ(-program(Account::program_issued), issued);
  EXPECT_EQ(program(Account::program_clawed_back), issued);
  EXPECT_EQ(program(Account::program_expired), 0);
  expect_clean_audit();
}

// An order paid partly with points is refunded: the member gets those points back (pro rata), loses
// only what the order earned, and a later cancel of the spend does not pay them back twice.
TEST_F(LedgerStory, RefundOfOrderPaidWithPointsReturnsThePointsNotChargesThem) {
  const MemberId alice = open();
  const LotId savings = lot_of(earn(alice, 500));
  const Result paid = spend(alice, 200, "order-7");
  expect_ok(earn(alice, 50, "order-7", 5000));
  EXPECT_EQ(account(alice).available, 350);

  const Result half = refund(alice, "order-7", 2500);
  expect_ok(half);
  EXPECT_EQ(half.outcome.points_returned, 100);
  EXPECT_EQ(half.outcome.points, -25);
  EXPECT_EQ(half.outcome.debt_added, 0);
  EXPECT_EQ(account(alice).available, 425);
  EXPECT_EQ(lot(savings).remaining, 400) << "returned points go back to the lot they came from";

  const Result cancelled = cancel(alice, paid.outcome.transaction_id);
  expect_ok(cancelled);
  EXPECT_EQ(cancelled.outcome.points, 100) << "only what the refund had not returned yet";
  EXPECT_EQ(account(alice).available, 525);

  const Result rest = refund(alice, "order-7", 2500);
  expect_ok(rest);
  EXPECT_EQ(rest.outcome.points_returned, 0);
  EXPECT_EQ(rest.outcome.points, -25);
  EXPECT_EQ(account(alice).available, 500);
  EXPECT_EQ(account(alice).debt, 0);
  EXPECT_EQ(lot(savings).remaining, 500);
  EXPECT_EQ(program(Account::program_spent), 0);
  const Order& order = keeper.rows.orders.at({alice, "order-7"});
  EXPECT_EQ(order.points_returned, 200);
  EXPECT_EQ(order.points_clawed_back, 50);
  expect_rejected(cancel(alice, paid.outcome.transaction_id), Rejection::already_cancelled);
  expect_clean_audit();
}

TEST_F(LedgerStory, RefundAfterTheSpendWasCancelledReturnsNothingMore) {
  const MemberId alice = open();
  earn(alice, 500);
  const Result paid = spend(alice, 200, "order-7");
  earn(alice, 50, "order-7", 5000);
  expect_ok(cancel(alice, paid.outcome.transaction_id));
  EXPECT_EQ(account(alice).available, 550);
  const Result refunded = refund(alice, "order-7", 5000);
  EXPECT_EQ(refunded.outcome.points_returned, 0);
  EXPECT_EQ(refunded.outcome.points, -50);
  EXPECT_EQ(account(alice).available, 500);
  expect_clean_audit();
}

TEST_F(LedgerStory, ExpiryNeverDeductsMoreThanRemains) {
  const MemberId alice = open();
  const TimeUs expires = now + 30 * kDay;
  const LotId old_lot = lot_of(earn_expiring(alice, 100, expires));
  const LotId new_lot = lot_of(earn_expiring(alice, 100, expires + 30 * kDay));
  spend(alice, 70);
  hold(alice, "redemption-1", 20);
  EXPECT_EQ(lot(old_lot).remaining, 10);

  now = expires;
  const Rows before = keeper.rows;
  // A spend just after the expiry time sees the expiry first and is refused, not overdrawn.
  expect_rejected(spend(alice, 101), Rejection::insufficient_points);
  EXPECT_EQ(keeper.rows, before) << "a refused command must not leave its housekeeping behind";
  expect_ok(settle(alice));
  EXPECT_EQ(lot(old_lot).state, LotState::expired);
  EXPECT_EQ(lot(old_lot).remaining, 10);
  EXPECT_EQ(program(Account::program_expired), 10) << "held and spent points never expire";
  EXPECT_EQ(account(alice).available, 100);
  EXPECT_EQ(account(alice).held, 20);
  EXPECT_EQ(lot(new_lot).remaining, 100);
  expect_rejected(spend(alice, 101), Rejection::insufficient_points);
  expect_ok(run(alice, CaptureHold{"redemption-1"}));
  expect_ok(spend(alice, 100));
  EXPECT_EQ(account(alice).available, 0);
  expect_clean_audit();
}

// ---- Idempotency -------------------------------------------------------------------------------

using LedgerIdempotency = LedgerTest;

TEST_F(LedgerIdempotency, ARetrySentLaterHasTheSameRequestHash) {
  const Command first{"k", 7, now, "api-key:shop", "purchase", Earn{10, "purchase", "o", 100}};
  Command retry = first;
  retry.at_us = now + kHour;
  EXPECT_EQ(request_hash(first), request_hash(retry));
}

TEST_F(LedgerIdempotency, AnyOtherChangeToTheRequestChangesItsHash) {
  const Command base{"k", 7, now, "api-key:shop", "why", Earn{}};
  std::vector<std::pair<const char*, Command>> variants;
  auto vary = [&](const char* what, auto change) {
    Command copy = base;
    change(copy);
    variants.emplace_back(what, copy);
  };
  vary("member", [](Command& c) { c.member_id = 8; });
  vary("actor", [](Command& c) { c.actor = "api-key:other"; });
  vary("reason", [](Command& c) { c.reason = "because"; });
  const std::vector<CommandBody> bodies = {
      OpenAccount{"a"},
      OpenAccount{"b"},
      Earn{1, "s", "o", 1, 0, 0, 0},
      Earn{2, "s", "o", 1, 0, 0, 0},
      Earn{1, "t", "o", 1, 0, 0, 0},
      Earn{1, "s", "p", 1, 0, 0, 0},
      Earn{1, "s", "o", 2, 0, 0, 0},
      Earn{1, "s", "o", 1, 1, 0, 0},
      Earn{1, "s", "o", 1, 0, 1, 0},
      Earn{1, "s", "o", 1, 0, 0, 1},
      Earn{1, "so", "", 1, 0, 0, 0},
      Earn{1, "s", "o", 1, 0, 0, 0},  // duplicate of the first
      Spend{1, ""},
      Spend{2, ""},
      Spend{1, "o"},
      PlaceHold{"h", 1, 5},
      PlaceHold{"i", 1, 5},
      PlaceHold{"h", 2, 5},
      PlaceHold{"h", 1, 6},
      CaptureHold{"h"},
      CaptureHold{"i"},
      ReleaseHold{"h"},
      Refund{"o", 1},
      Refund{"p", 1},
      Refund{"o", 2},
      CancelTransaction{1},
      CancelTransaction{2},
      Adjust{1},
      Adjust{-1},
      Settle{},
      FreezeAccount{},
      UnfreezeAccount{},
      FreezeLot{1},
      FreezeLot{2},
      UnfreezeLot{1},
  };
  for (std::size_t i = 0; i < bodies.size(); ++i) {
    if (i == 11) continue;  // the deliberate duplicate, checked below
    Command c = base;
    c.body = bodies[i];
    variants.emplace_back(command_name(bodies[i]).data(), c);
  }
  std::set<std::uint64_t> hashes = {request_hash(base)};
  for (const auto& [what, variant] : variants)
    EXPECT_TRUE(hashes.insert(request_hash(variant)).second) << what << " collides";
  Command a = base, b = base;
  a.body = bodies[2];
  b.body = bodies[11];
  EXPECT_EQ(request_hash(a), request_hash(b));
}

TEST_F(LedgerIdempotency, ARepeatedKeyReplaysTheFirstOutcomeAndChangesNothing) {
  const MemberId alice = open();
  const Command first = command(alice, Earn{100, "purchase", "order-1", 1000});
  const Result original = keeper.execute(first);
  expect_ok(original);
  earn(alice, 5);
  const Rows before = keeper.rows;
  Command retry = first;
  retry.at_us = now + kDay;
  const Result replayed = keeper.execute(retry);
  expect_ok(replayed);
  EXPECT_TRUE(replayed.replayed);
  EXPECT_EQ(replayed.outcome, original.outcome);
  EXPECT_EQ(replayed.outcome.available_after, 100) << "the first answer, not today's balance";
  EXPECT_EQ(keeper.rows, before);
}

TEST_F(LedgerIdempotency, TheSameKeyWithADifferentRequestIsAConflict) {
  const MemberId alice = open();
  earn(alice, 100);
  const Command first = command(alice, Spend{10, ""});
  expect_ok(keeper.execute(first));
  const Rows before = keeper.rows;
  Command other = first;
  other.body = Spend{11, ""};
  const Result conflict = keeper.execute(other);
  expect_rejected(conflict, Rejection::idempotency_conflict);
  EXPECT_EQ(keeper.rows, before);

  const Transaction& stored = transaction(keeper.execute(first).outcome.transaction_id);
  const Replay same = replay_or_conflict(first, stored.request_hash, stored.result);
  EXPECT_FALSE(same.rejection);
  EXPECT_EQ(same.outcome.points, -10);
  const Replay different = replay_or_conflict(other, stored.request_hash, stored.result);
  EXPECT_EQ(different.rejection, Rejection::idempotency_conflict);
  const Replay unreadable = replay_or_conflict(first, stored.request_hash, "garbage");
  EXPECT_EQ(unreadable.rejection, Rejection::idempotency_conflict);
}

TEST_F(LedgerIdempotency, ARefusedCommandLeavesNoKeyBehindSoItsRetryCanSucceed) {
  const MemberId alice = open();
  const Command attempt = command(alice, Spend{50, ""});
  expect_rejected(keeper.execute(attempt), Rejection::insufficient_points);
  earn(alice, 50);
  const Result retried = keeper.execute(attempt);
  expect_ok(retried);
  EXPECT_FALSE(retried.replayed);
  EXPECT_EQ(account(alice).available, 0);
}

TEST_F(LedgerIdempotency, EveryAcceptedCommandStoresItsOutcomeWithItsKey) {
  const MemberId alice = open();
  const Command c = command(alice, Earn{42, "checkin", ""});
  const Result result = keeper.execute(c);
  const Transaction& tx = transaction(result.outcome.transaction_id);
  EXPECT_EQ(tx.idempotency_key, c.idempotency_key);
  EXPECT_EQ(tx.request_hash, request_hash(c));
  EXPECT_EQ(decode_outcome(tx.result), result.outcome);
}

TEST(LedgerOutcomeEncoding, EveryFieldSurvivesARoundTrip) {
  Outcome outcome;
  outcome.transaction_id = 123456789012;
  outcome.member_id = 42;
  outcome.points = -1'000'000'000'000;
  outcome.points_returned = 3;
  outcome.debt_added = 4;
  outcome.absorbed = 5;
  outcome.debt_repaid = 6;
  outcome.pending = true;
  outcome.available_after = 7;
  outcome.pending_after = 8;
  outcome.debt_after = 9;
  EXPECT_EQ(decode_outcome(encode_outcome(outcome)), outcome);
  EXPECT_EQ(decode_outcome(encode_outcome(Outcome{})), Outcome{});
  // Each field on its own, so that two fields sharing a slot cannot hide.
  for (Points Outcome::*field :
       {&Outcome::transaction_id, &Outcome::member_id, &Outcome::points, &Outcome::points_returned,
        &Outcome::debt_added, &Outcome::absorbed, &Outcome::debt_repaid, &Outcome::available_after,
        &Outcome::pending_after, &Outcome::debt_after}) {
    Outcome one;
    one.*field = 17;
    EXPECT_EQ(decode_outcome(encode_outcome(one)), one) << encode_outcome(one);
  }
}

TEST(LedgerOutcomeEncoding, MalformedTextIsNotAnOutcome) {
  EXPECT_EQ(decode_outcome("points=abc;"), std::nullopt);
  EXPECT_EQ(decode_outcome("points=1"), std::nullopt);
  EXPECT_EQ(decode_outcome("points;"), std::nullopt);
  EXPECT_EQ(decode_outcome("points=1x;"), std::nullopt);
  // Names added later are ignored, so an old binary can still replay a newer outcome.
  const auto tolerant = decode_outcome("points=5;added_later=9;");
  ASSERT_TRUE(tolerant.has_value());
  EXPECT_EQ(tolerant->points, 5);
}

// ---- Every named rejection ---------------------------------------------------------------------

TEST(LedgerRejectionNames, EveryRejectionHasAStableNameThatParsesBack) {
  std::set<std::string_view> names;
  std::size_t count = 0;
  for (;; ++count) {
    const auto rejection = static_cast<Rejection>(count);
    const std::string_view name = rejection_name(rejection);
    if (name == "unknown") break;
    EXPECT_TRUE(names.insert(name).second) << name;
    EXPECT_EQ(rejection_from_name(name), rejection);
  }
  EXPECT_EQ(count, 19u);
  EXPECT_EQ(rejection_name(Rejection::insufficient_points), "insufficient_points");
  EXPECT_EQ(rejection_name(Rejection::idempotency_conflict), "idempotency_conflict");
  EXPECT_EQ(rejection_from_name("nope"), std::nullopt);
}

TEST(LedgerRejectionNames, StoredEnumNamesParseBack) {
  for (std::size_t i = 0; i < kAccountCount; ++i) {
    const auto account = static_cast<Account>(i);
    EXPECT_EQ(account_from_name(account_name(account)), account);
  }
  for (std::uint8_t i = 0; i < 5; ++i)
    EXPECT_EQ(lot_state_from_name(lot_state_name(static_cast<LotState>(i))),
              static_cast<LotState>(i));
  for (std::uint8_t i = 0; i < 15; ++i) {
    const auto kind = static_cast<TransactionKind>(i);
    EXPECT_EQ(transaction_kind_from_name(transaction_kind_name(kind)), kind);
  }
  for (std::uint8_t i = 0; i < 3; ++i)
    EXPECT_EQ(hold_state_from_name(hold_state_name(static_cast<HoldState>(i))),
              static_cast<HoldState>(i));
  EXPECT_EQ(account_from_name("member"), std::nullopt);
}

using LedgerRejections = LedgerTest;

TEST_F(LedgerRejections, EveryNamedRejectionIsReachable) {
  const MemberId alice = open("alice");
  const MemberId bob = open("bob");
  const LotId granted = lot_of(earn(alice, 100, "order-1", 1000));
  const Result earned = earn(alice, 10);
  hold(alice, "h-open", 5);
  hold(alice, "h-done", 5, now + kHour);
  run(alice, CaptureHold{"h-done"});
  hold(alice, "h-late", 5, now + kHour);
  const Result spent = spend(alice, 5);
  cancel(alice, spent.outcome.transaction_id);
  run(bob, FreezeAccount{}, "fraud review");
  now += kHour;
  const Command first = command(alice, Spend{1, ""});
  keeper.execute(first);
  Command conflicting = first;
  conflicting.body = Spend{2, ""};

  std::map<std::string_view, Result> seen = {
      {"invalid_request", spend(alice, 0)},
      {"unknown_member", spend(999, 1)},
      {"member_exists", run(0, OpenAccount{"alice"})},
      {"account_frozen", spend(bob, 1)},
      {"insufficient_points", spend(alice, 1'000'000)},
      {"unknown_lot", run(alice, FreezeLot{999}, "r")},
      {"lot_not_frozen", run(alice, UnfreezeLot{granted}, "r")},
      {"hold_exists", hold(alice, "h-open", 1)},
      {"unknown_hold", run(alice, CaptureHold{"h-none"})},
      {"hold_not_open", run(alice, CaptureHold{"h-done"})},
      {"hold_expired", run(alice, CaptureHold{"h-late"})},
      {"unknown_order", refund(alice, "order-none", 1)},
      {"duplicate_order", earn(alice, 1, "order-1", 1000)},
      {"refund_exceeds_order", refund(alice, "order-1", 1001)},
      {"unknown_transaction", cancel(alice, 999)},
      {"not_cancellable", cancel(alice, earned.outcome.transaction_id)},
      {"already_cancelled", cancel(alice, spent.outcome.transaction_id)},
      {"idempotency_conflict", keeper.execute(conflicting)},
  };
  // lot_not_freezable needs a lot that exists but is no longer live: expire one.
  const LotId short_lot = lot_of(earn_expiring(alice, 1, now + 1));
  now += kDay;
  settle(alice);
  seen.emplace("lot_not_freezable", run(alice, FreezeLot{short_lot}, "r"));

  for (std::size_t i = 0;; ++i) {
    const std::string_view name = rejection_name(static_cast<Rejection>(i));
    if (name == "unknown") break;
    auto it = seen.find(name);
    ASSERT_NE(it, seen.end()) << name << " has no scenario";
    ASSERT_TRUE(it->second.rejection.has_value()) << name << " was accepted";
    EXPECT_EQ(rejection_name(*it->second.rejection), name);
  }
}

// ---- What a decision returns -------------------------------------------------------------------

using LedgerDecision = LedgerTest;

TEST_F(LedgerDecision, ARefusedDecisionCarriesNoEffects) {
  const MemberId alice = open();
  earn(alice, 10);
  const Command c = command(alice, Spend{11, ""});
  SequentialIds ids;
  const Decision decision = decide(keeper.load(c), c, keeper.policy(), ids);
  ASSERT_EQ(decision.rejection, Rejection::insufficient_points);
  EXPECT_TRUE(decision.effects.transactions.empty());
  EXPECT_TRUE(decision.effects.lots_updated.empty());
  EXPECT_TRUE(decision.effects.allocations_inserted.empty());
  EXPECT_FALSE(decision.effects.order.has_value());
}

TEST_F(LedgerDecision, EachChangedLotAppearsOnceWithItsFinalState) {
  const MemberId alice = open();
  const LotId a = lot_of(earn_expiring(alice, 10, now + kDay));
  const LotId b = lot_of(earn_expiring(alice, 10, now + 2 * kDay));
  now += kDay;  // lot a expires on the way, then the spend takes from b
  const Command c = command(alice, Spend{4, ""});
  SequentialIds ids;
  const Decision decision = decide(keeper.load(c), c, keeper.policy(), ids);
  ASSERT_FALSE(decision.rejection);
  std::set<LotId> ids_seen;
  for (const Lot& changed : decision.effects.lots_updated) {
    EXPECT_TRUE(ids_seen.insert(changed.id).second);
    if (changed.id == a) {
      EXPECT_EQ(changed.state, LotState::expired);
    }
    if (changed.id == b) {
      EXPECT_EQ(changed.remaining, 6);
    }
  }
  EXPECT_EQ(ids_seen, (std::set<LotId>{a, b}));
  ASSERT_EQ(decision.effects.transactions.size(), 2u);
  EXPECT_EQ(decision.effects.transactions[0].kind, TransactionKind::expiry);
  EXPECT_TRUE(decision.effects.transactions[0].idempotency_key.empty());
  EXPECT_EQ(decision.effects.transactions[0].actor, "system");
  EXPECT_EQ(decision.effects.transactions[1].kind, TransactionKind::spend);
  for (const Transaction& tx : decision.effects.transactions) {
    Points sum = 0;
    for (const Entry& entry : tx.entries) sum += entry.amount;
    EXPECT_EQ(sum, 0) << transaction_kind_name(tx.kind);
  }
}

TEST_F(LedgerDecision, TheStoreLoadsOnlyWhatEachCommandNeeds) {
  const Policy fixed;  // days:365
  Policy rolling;
  rolling.expiry = ExpiryPolicy{ExpiryPolicy::Kind::rolling_days, 30};
  AccountRow row;
  row.member_id = 1;
  row.next_due_us = now + kDay;
  auto needs = [&](CommandBody body, const Policy& policy = Policy{}) {
    return needs_for(Command{"k", 1, now, "", "r", std::move(body)}, row, policy);
  };
  EXPECT_FALSE(needs(Earn{1, "s", ""}, fixed).live_lots);
  EXPECT_TRUE(needs(Earn{1, "s", ""}, rolling).live_lots);
  EXPECT_EQ(needs(Earn{1, "s", "o", 1}).order_id, "o");
  EXPECT_TRUE(needs(Spend{1, ""}).live_lots);
  EXPECT_TRUE(needs(PlaceHold{"h", 1}).live_lots);
  EXPECT_EQ(needs(PlaceHold{"h", 1}).hold_ref, "h");
  EXPECT_FALSE(needs(CaptureHold{"h"}).live_lots);
  EXPECT_EQ(needs(ReleaseHold{"h"}).hold_ref, "h");
  const Needs refund_needs = needs(Refund{"o", 1});
  EXPECT_TRUE(refund_needs.live_lots);
  EXPECT_TRUE(refund_needs.order_spend_allocations);
  EXPECT_EQ(refund_needs.order_id, "o");
  EXPECT_EQ(needs(CancelTransaction{7}).transaction_id, 7);
  EXPECT_TRUE(needs(Adjust{-1}).live_lots);
  EXPECT_TRUE(needs(Settle{}).live_lots);
  EXPECT_EQ(needs(FreezeLot{3}).lot_id, 3);
  EXPECT_TRUE(needs(FreezeLot{3}).live_lots);  // the lot may have been the next one due
  EXPECT_TRUE(needs(UnfreezeLot{3}).live_lots);
  EXPECT_FALSE(needs(FreezeAccount{}).live_lots);
  row.next_due_us = now;  // something is due: every command settles it first
  EXPECT_TRUE(needs(Earn{1, "s", ""}, fixed).live_lots);
  EXPECT_TRUE(needs(FreezeAccount{}).live_lots);
  EXPECT_TRUE(needs(CaptureHold{"h"}).live_lots);
}

}  // namespace
}  // namespace pointsmall::ledger
