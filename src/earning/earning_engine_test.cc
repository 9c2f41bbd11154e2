// The earning engine with a real SQLite store: events prepared inside the writer, many of them in
// one batch, against a campaign budget; the tier review at period ends.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/temp_dir.h"
#include "earning/preparers.h"
#include "earning/programs.h"
#include "earning/tier_review.h"
#include "store/sqlite/sqlite_store.h"

namespace pointsmall::earning {
namespace {

TimeUs at(const char* rfc3339) {
  return parse_rfc3339(rfc3339).value();
}

class EarningEngine : public ::testing::Test {
 protected:
  void SetUp() override {
    store::SqliteOptions options;
    options.path = dir_.file("ledger.db");
    options.policy_if_new.expiry = {ledger::ExpiryPolicy::Kind::never, 0};
    std::string error;
    ledger_ = store::open_sqlite_store(options, error);
    ASSERT_NE(ledger_, nullptr) << error;
  }

  MemberId open_member(const std::string& external_id) {
    const store::CommandResult r =
        ledger_->execute(ledger::Command{"open-" + external_id, 0, at("2025-01-01T00:00:00Z"),
                                         "test", "joined", ledger::OpenAccount{external_id}});
    EXPECT_TRUE(r.ok());
    return r.outcome.member_id;
  }

  // A purchase of `amount_minor` GBP cents, prepared by the engine; submitted without waiting.
  void submit_purchase(const std::shared_ptr<const rules::Program>& program, MemberId member,
                       const std::string& order, MinorUnits amount_minor, TimeUs when,
                       store::LedgerStore::Callback done) {
    ledger::Earn earn;
    earn.source = "purchase";
    earn.order_id = order;
    earn.order_amount_minor = amount_minor;
    ledger::Command command{order, member, when, "test", "purchase " + order, earn};
    rules::Event event;
    event.type = "purchase";
    event.occurred_at_us = when;
    event.amount_minor = amount_minor;
    event.currency = "GBP";
    rules::Member facts;
    facts.id = member;
    ledger_->submit_prepared(std::move(command),
                             std::make_shared<EventPreparer>(program, event, facts),
                             std::move(done));
  }

  static std::shared_ptr<rules::Program> base_program() {
    auto program = std::make_shared<rules::Program>();
    program->rules.push_back(base_rate_rule("GBP", 2, 1));
    return program;
  }

  TempDir dir_;
  std::unique_ptr<store::SqliteLedgerStore> ledger_;
};

TEST_F(EarningEngine, ACampaignBudgetRunsOutMidBatchAndNotAPointMore) {
  auto program = base_program();
  rules::Campaign campaign;
  campaign.id = "launch";
  campaign.name = "Launch";
  campaign.budget = 95;
  rules::Rule bonus;
  bonus.id = "bonus";
  bonus.name = "10 extra";
  bonus.event_type = "purchase";
  bonus.effect.kind = rules::Effect::Kind::bonus;
  bonus.effect.points = 10;
  bonus.campaign_id = "launch";
  campaign.rules.push_back(bonus);
  program->campaigns.push_back(campaign);

  std::vector<MemberId> members;
  members.reserve(5);
  for (int i = 0; i < 5; ++i) members.push_back(open_member("m" + std::to_string(i)));
  std::atomic<Points> awarded{0};
  std::atomic<int> accepted{0};
  // Forty purchases submitted at once: the writer takes them in batches, each seeing the
  // budget as the purchases before it left it.
  for (int i = 0; i < 40; ++i)
    submit_purchase(program, members[static_cast<std::size_t>(i % 5)], "order-" + std::to_string(i),
                    100, at("2026-03-01T12:00:00Z"), [&](const store::CommandResult& r) {
                      if (!r.ok()) return;
                      ++accepted;
                      awarded += r.outcome.points;
                    });
  ledger_->flush();
  EXPECT_EQ(accepted.load(), 40);
  EXPECT_EQ(awarded.load(), 40 * 1 + 95) << "one point each, and the budget exactly";
  const Counters budget = ledger_->counters({{0, "campaign:launch:budget"}});
  EXPECT_EQ(counter_value(budget, {0, "campaign:launch:budget"}), 95);
  EXPECT_GT(ledger_->writer_stats().batches, 0U);
  EXPECT_TRUE(ledger_->audit().clean());
}

TEST_F(EarningEngine, TheTierReviewKeepsQualifiedMembersAndDowngradesAtThePeriodEnd) {
  auto program = base_program();
  rules::TierProgram tiers;
  tiers.measure = rules::TierMeasure::points_earned;
  tiers.period = rules::TierPeriod::calendar_year;
  tiers.downgrade = rules::DowngradePolicy::recalculate;
  tiers.tiers = {rules::Tier{"member", "Member", 0}, rules::Tier{"silver", "Silver", 100}};
  program->tiers = tiers;
  const MemberId member = open_member("ana");
  const MemberId quiet = open_member("bo");

  store::CommandResult result;
  submit_purchase(program, member, "o-1", 15000, at("2025-06-01T12:00:00Z"),
                  [&](const store::CommandResult& r) { result = r; });
  ledger_->flush();
  ASSERT_TRUE(result.ok());
  ASSERT_EQ(ledger_->tier_changes(member, 10).size(), 1U) << "upgraded at once";

  // 2025 qualified the member: the review after it keeps Silver for 2026.
  TierReviewRun run = review_tiers(*ledger_, program, at("2026-01-02T09:00:00Z"));
  EXPECT_EQ(run.reviewed, 1);
  EXPECT_EQ(run.changed, 0);
  EXPECT_EQ(run.failures, 0);
  // The same day again: nothing more is due.
  run = review_tiers(*ledger_, program, at("2026-01-02T10:00:00Z"));
  EXPECT_EQ(run.reviewed, 1) << "the repeat replays the day's review";
  EXPECT_EQ(run.changed, 0);

  // Nothing earned in 2026: the review after it moves the member down, with a reason.
  run = review_tiers(*ledger_, program, at("2027-01-03T09:00:00Z"));
  EXPECT_EQ(run.reviewed, 1);
  EXPECT_EQ(run.changed, 1);
  const auto changes = ledger_->tier_changes(member, 10);
  ASSERT_EQ(changes.size(), 2U);
  EXPECT_EQ(changes[0].from_level, 1);
  EXPECT_EQ(changes[0].to_level, 0);
  EXPECT_NE(changes[0].reason.find("2026"), std::string::npos) << changes[0].reason;
  EXPECT_TRUE(ledger_->tier_changes(quiet, 10).empty()) << "members in the first tier are left";
  // Spending never entered into it: the member still has every point earned.
  EXPECT_EQ(ledger_->account(member)->available, 150);
  EXPECT_TRUE(ledger_->audit().clean());
}

}  // namespace
}  // namespace pointsmall::earning
