// Tests of the ledger's audit (audit.h): a book written by the ledger passes, and every kind of
// damage that `pointsmall check` promises to find is reported.
#include "ledger/audit.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "ledger/testing.h"

namespace pointsmall::ledger {
namespace {

using testing::BookKeeper;

TimeUs utc(const char* rfc3339) {
  return parse_rfc3339(rfc3339).value();
}

bool mentions(const Audit& audit, std::string_view text) {
  return std::any_of(
      audit.findings().begin(), audit.findings().end(),
      [&](const std::string& finding) { return finding.find(text) != std::string::npos; });
}

// A book with a little of everything: pending and active lots, a spend, an open and a captured
// hold, a refund into debt, an expiry and a frozen lot.
class AuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    alice = open("alice");
    bob = open("bob");
    run(alice, Earn{100, "purchase", "order-1", 1000});
    run(alice, Earn{50, "checkin", "", 0, 0, 0, now + kMicrosPerDay});
    run(alice, Earn{70, "purchase", "order-2", 700, 0, now + 14 * kMicrosPerDay, 0});
    run(alice, Spend{120, "order-3"});
    run(alice, PlaceHold{"redemption-1", 10});
    run(alice, PlaceHold{"redemption-2", 5});
    run(alice, CaptureHold{"redemption-2"});
    run(alice, Earn{25, "checkin", "", 0, 0, 0, now + kMicrosPerDay});  // expires unspent
    run(bob, Earn{40, "purchase", "order-9", 400});
    run(bob, Spend{40, ""});
    run(bob, Refund{"order-9", 400});
    now += 2 * kMicrosPerDay;
    run(alice, Settle{});
    for (const auto& [id, lot] : keeper.rows.lots)
      if (lot.member_id == alice && lot.state == LotState::pending) pending_lot = id;
    run(alice, FreezeLot{pending_lot});
    ASSERT_EQ(keeper.rows.accounts.at(bob).debt, 40);
    ASSERT_GT(program(Account::program_expired), 0);
  }

  MemberId open(const std::string& external_id) {
    return keeper
        .execute(Command{"open-" + external_id, 0, now, "a", "r", OpenAccount{external_id}})
        .outcome.member_id;
  }
  void run(MemberId member, CommandBody body) {
    const auto result = keeper.execute(
        Command{"k" + std::to_string(++keys), member, now, "a", "setup", std::move(body)});
    ASSERT_TRUE(result.ok()) << rejection_name(*result.rejection);
  }
  Points program(Account account) const { return testing::balance_of(keeper.balances(), account); }
  // Some lot of `member` in `state`.
  Lot& lot_in(MemberId member, LotState state) {
    for (auto& [id, lot] : keeper.rows.lots)
      if (lot.member_id == member && lot.state == state) return lot;
    throw std::logic_error("no such lot");
  }
  Transaction& transaction_of(TransactionKind kind) {
    for (auto& [id, tx] : keeper.rows.journal)
      if (tx.kind == kind && !tx.entries.empty()) return tx;
    throw std::logic_error("no such transaction");
  }

  BookKeeper keeper;
  TimeUs now = utc("2024-03-01T09:00:00Z");
  MemberId alice = 0;
  MemberId bob = 0;
  LotId pending_lot = 0;
  int keys = 0;
};

TEST_F(AuditTest, ABookWrittenByTheLedgerIsClean) {
  const Audit audit = keeper.audit();
  EXPECT_TRUE(audit.clean()) << ::testing::PrintToString(audit.findings());
  EXPECT_EQ(audit.finding_count(), 0);
  EXPECT_EQ(audit.members_checked(), 2);
  EXPECT_EQ(audit.lots_checked(), static_cast<std::int64_t>(keeper.rows.lots.size()));
  EXPECT_EQ(audit.transactions_checked(), static_cast<std::int64_t>(keeper.rows.journal.size()));
  EXPECT_EQ(audit.program_balances(), keeper.balances());
}

TEST_F(AuditTest, AStoredBalanceThatDiffersFromTheLotsIsReported) {
  keeper.rows.accounts.at(alice).available += 1;
  const Audit audit = keeper.audit();
  EXPECT_FALSE(audit.clean());
  EXPECT_TRUE(mentions(audit, "available (lots)"));
  EXPECT_TRUE(mentions(audit, "available (journal)"));
  EXPECT_TRUE(mentions(audit, "member " + std::to_string(alice)));
}

TEST_F(AuditTest, ALotWhoseRemainingChangedWithoutAnEntryIsReported) {
  lot_in(alice, LotState::active).remaining -= 1;
  const Audit audit = keeper.audit();
  EXPECT_TRUE(mentions(audit, "available (lots) is"));
  EXPECT_FALSE(mentions(audit, "available (journal)"));
}

TEST_F(AuditTest, EachStoredBalanceIsCheckedAgainstItsLots) {
  for (auto field : {&AccountRow::pending, &AccountRow::frozen, &AccountRow::held}) {
    BookKeeper damaged = keeper;
    damaged.rows.accounts.at(alice).*field += 3;
    EXPECT_FALSE(damaged.audit().clean());
  }
  keeper.rows.accounts.at(alice).frozen += 3;
  EXPECT_TRUE(mentions(keeper.audit(), "frozen (lots)"));
}

TEST_F(AuditTest, EntriesThatDoNotSumToZeroAreReported) {
  Transaction& spend = transaction_of(TransactionKind::spend);
  spend.entries.front().amount -= 1;
  const Audit audit = keeper.audit();
  EXPECT_TRUE(mentions(audit, "transaction " + std::to_string(spend.id) + ": entries sum to"));
  EXPECT_TRUE(mentions(audit, "program: all accounts sum to"));
}

TEST_F(AuditTest, RemainingAboveTheGrantOrBelowZeroIsReported) {
  Lot& lot = lot_in(alice, LotState::active);
  lot.remaining = lot.amount + 1;
  EXPECT_TRUE(mentions(keeper.audit(), "lot " + std::to_string(lot.id) + ": remaining"));
  lot.remaining = -1;
  EXPECT_TRUE(mentions(keeper.audit(), "outside 0.."));
}

TEST_F(AuditTest, ALotExpiredTwiceIsReported) {
  const Lot& expired = lot_in(alice, LotState::expired);
  Transaction twice = transaction_of(TransactionKind::expiry);
  twice.id = 10'000;
  twice.entries = {Entry{Account::member_available, -1, expired.id},
                   Entry{Account::program_expired, 1, expired.id}};
  keeper.rows.journal[twice.id] = twice;
  const Audit audit = keeper.audit();
  EXPECT_TRUE(mentions(audit, "lot " + std::to_string(expired.id) + ": expired 2 times"));
}

TEST_F(AuditTest, AnExpiryOfALotThatIsStillActiveIsReported) {
  const Lot& active = lot_in(alice, LotState::active);
  Transaction expiry = transaction_of(TransactionKind::expiry);
  expiry.id = 10'000;
  expiry.entries = {Entry{Account::member_available, -1, active.id},
                    Entry{Account::program_expired, 1, active.id}};
  keeper.rows.journal[expiry.id] = expiry;
  EXPECT_TRUE(mentions(keeper.audit(), "has an expiry entry but is active"));
}

TEST_F(AuditTest, ExpiredPointsThatNoExpiredLotHoldsAreReported) {
  lot_in(alice, LotState::expired).remaining += 1;
  EXPECT_TRUE(mentions(keeper.audit(), "program: expired is"));
}

TEST_F(AuditTest, ANegativeAvailableBalanceIsReported) {
  // Consistent everywhere but the sign: the row and an overdrawing entry.
  AccountRow& row = keeper.rows.accounts.at(bob);
  Transaction overdraw = transaction_of(TransactionKind::spend);
  overdraw.id = 10'001;
  overdraw.member_id = bob;
  overdraw.entries = {Entry{Account::member_available, -5, 0}, Entry{Account::program_spent, 5, 0}};
  keeper.rows.journal[overdraw.id] = overdraw;
  row.available -= 5;
  const Audit audit = keeper.audit();
  EXPECT_TRUE(mentions(audit, "available balance is negative"));
}

TEST_F(AuditTest, DebtThatDiffersFromTheJournalOrIsNegativeIsReported) {
  keeper.rows.accounts.at(bob).debt -= 41;
  const Audit audit = keeper.audit();
  EXPECT_TRUE(mentions(audit, "debt (journal)"));
  EXPECT_TRUE(mentions(audit, "debt is negative"));
}

TEST_F(AuditTest, HeldPointsWithoutAnOpenHoldAreReported) {
  keeper.rows.holds.at({alice, "redemption-1"}).state = HoldState::released;
  const Audit audit = keeper.audit();
  EXPECT_TRUE(mentions(audit, "held (lots)"));
}

TEST_F(AuditTest, AHoldWhosePointsDifferFromWhatItTookIsReported) {
  keeper.rows.holds.at({alice, "redemption-1"}).points += 1;
  EXPECT_TRUE(mentions(keeper.audit(), "open holds' points"));
}

TEST_F(AuditTest, AnAllocationReturningMoreThanItTookIsReported) {
  Allocation& allocation = keeper.rows.allocations.begin()->second;
  allocation.returned = allocation.points + 1;
  EXPECT_TRUE(mentions(keeper.audit(), "allocation of transaction"));
}

TEST_F(AuditTest, AnOrderThatGaveBackMoreThanItHadIsReported) {
  Order& order = keeper.rows.orders.at({bob, "order-9"});
  order.points_clawed_back = order.points_earned + 1;
  EXPECT_TRUE(mentions(keeper.audit(), "order order-9 of member"));
  order.points_clawed_back = order.points_earned;
  order.refunded_minor = order.amount_minor + 1;
  EXPECT_TRUE(mentions(keeper.audit(), "refunded 401 of 400"));
  order.refunded_minor = order.amount_minor;
  Order& paid = keeper.rows.orders.at({alice, "order-3"});
  paid.points_returned = paid.points_spent + 1;
  EXPECT_TRUE(mentions(keeper.audit(), "returned 121 of 120 spent"));
}

TEST_F(AuditTest, PointsReturnedToTheProgramBeyondWhatWasIssuedAreReported) {
  AccountBalances all{};
  all[static_cast<std::size_t>(Account::program_issued)] = 5;
  all[static_cast<std::size_t>(Account::member_available)] = -5;
  Audit audit;
  audit.check_program(all, 0);
  EXPECT_TRUE(mentions(audit, "more points returned than issued"));
  AccountBalances negative{};
  negative[static_cast<std::size_t>(Account::program_spent)] = -5;
  negative[static_cast<std::size_t>(Account::member_available)] = 5;
  Audit second;
  second.check_program(negative, 0);
  EXPECT_TRUE(mentions(second, "program_spent is negative"));
}

TEST_F(AuditTest, RowsOfAMemberWithoutAnAccountAreReported) {
  keeper.rows.accounts.erase(bob);
  EXPECT_TRUE(mentions(keeper.audit(), "member " + std::to_string(bob) + ": "));
}

TEST(AuditFindings, DuplicateKeysAndOrphanEntriesAreReported) {
  Audit audit;
  audit.check_duplicate_key("k-1", 2);
  audit.report_orphan_entries(77, 3);
  EXPECT_EQ(audit.finding_count(), 2);
  EXPECT_TRUE(mentions(audit, "idempotency key 'k-1' has 2 transactions"));
  EXPECT_TRUE(mentions(audit, "3 entries name transaction 77"));
}

TEST(AuditFindings, FindingsBeyondTheLimitAreCountedButNotKept) {
  Audit audit;
  for (std::size_t i = 0; i < Audit::kMaxFindings + 5; ++i)
    audit.check_transaction_sum(static_cast<TransactionId>(i + 1), 1);
  EXPECT_EQ(audit.finding_count(), static_cast<std::int64_t>(Audit::kMaxFindings + 5));
  EXPECT_EQ(audit.findings().size(), Audit::kMaxFindings);
  EXPECT_EQ(audit.transactions_checked(), static_cast<std::int64_t>(Audit::kMaxFindings + 5));
}

}  // namespace
}  // namespace pointsmall::ledger
