// The mall's preparers inside the SQLite store's writer: stock and limits under racing requests,
// retries, timed-out holds, and points given back to lots that expired meanwhile.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "core/clock.h"
#include "core/temp_dir.h"
#include "mall/service/hold_release.h"
#include "mall/service/mall_audit.h"
#include "mall/service/preparers.h"
#include "store/settlement.h"
#include "store/sqlite/sqlite_earning_documents.h"
#include "store/sqlite/sqlite_store.h"

namespace pointsmall::mall {
namespace {

constexpr TimeUs kStart = 1'767'225'600'000'000;  // 2026-01-01T00:00:00Z
constexpr TimeUs kMinute = 60'000'000;
constexpr TimeUs kDay = 86'400'000'000;

class MallService : public ::testing::Test {
 protected:
  void SetUp() override {
    store::SqliteOptions options;
    options.path = dir_.file("pointsmall.db");
    options.policy_if_new.expiry = {ledger::ExpiryPolicy::Kind::days_after_earning, 10};
    std::string error;
    ledger_ = store::open_sqlite_store(options, error);
    ASSERT_NE(ledger_, nullptr) << error;
    documents_ = store::open_sqlite_earning_documents(options.path);
    programs_ =
        std::make_unique<earning::EarningPrograms>(*documents_, ledger_->policy().zone, clock_);
    catalog_ = std::make_unique<MallCatalog>(*documents_, *programs_, clock_);
  }

  void save(CatalogKind kind, const nlohmann::json& document) {
    const auto saved = catalog_->save(kind, "", document, true, "test");
    ASSERT_TRUE(saved.errors.empty())
        << saved.errors.front().field << " " << saved.errors.front().message;
  }

  MemberId member_with(Points points, const std::string& external_id) {
    const auto opened = ledger_->execute(ledger::Command{
        "open-" + external_id, 0, kStart, "test", "joined", ledger::OpenAccount{external_id}});
    EXPECT_TRUE(opened.ok());
    ledger::Earn earn;
    earn.points = points;
    earn.source = "test";
    EXPECT_TRUE(ledger_
                    ->execute(ledger::Command{"earn-" + external_id, opened.outcome.member_id,
                                              kStart, "test", "welcome", earn})
                    .ok());
    return opened.outcome.member_id;
  }

  MallSnapshot snapshot() { return {programs_->current(), catalog_->current()}; }

  store::CommandResult run(ledger::Command command, std::shared_ptr<store::Preparer> preparer) {
    std::promise<store::CommandResult> promise;
    auto future = promise.get_future();
    ledger_->submit_prepared(std::move(command), std::move(preparer),
                             [&promise](const store::CommandResult& r) { promise.set_value(r); });
    return future.get();
  }

  store::CommandResult redeem(const std::string& key, MemberId member, const std::string& item,
                              std::int64_t quantity = 1) {
    RedeemRequest request;
    request.order_id = order_id_for_key(key);
    request.member_id = member;
    request.item_id = item;
    request.quantity = quantity;
    request.payment_within_us = 30 * kMinute;
    ledger::Command command{key,
                            member,
                            clock_.now_us(),
                            "member:" + std::to_string(member),
                            "",
                            ledger::PlaceHold{hold_ref_of(request.order_id), 1, kTimeNever}};
    return run(std::move(command), std::make_shared<RedeemPreparer>(snapshot(), request));
  }

  store::CommandResult step(const std::string& key, const std::string& order_id, OrderStep step) {
    StepRequest request;
    request.order = order(order_id);
    request.step = step;
    if (auto hold = ledger_->hold(request.order.member_id, hold_ref_of(order_id)))
      request.hold_transaction_id = hold->transaction_id;
    ledger::Command command{key,
                            request.order.member_id,
                            clock_.now_us(),
                            "operator:1",
                            "",
                            ledger::RecordEvent{"redemption_step"}};
    return run(std::move(command), std::make_shared<StepPreparer>(snapshot(), request));
  }

  Order order(const std::string& id) {
    auto record = ledger_->record({kRedemptionRecord, id});
    EXPECT_TRUE(record.has_value()) << id;
    return record ? order_of(*record) : Order{};
  }

  std::int64_t taken(const std::string& item) {
    const CounterKey key{0, "item:" + item + ":taken"};
    return counter_value(ledger_->counters({key}), key);
  }

  ledger::AccountRow account(MemberId member) { return *ledger_->account(member); }

  TempDir dir_;
  ManualClock clock_{kStart + kMinute};
  std::unique_ptr<store::SqliteLedgerStore> ledger_;
  std::unique_ptr<store::EarningDocuments> documents_;
  std::unique_ptr<earning::EarningPrograms> programs_;
  std::unique_ptr<MallCatalog> catalog_;
};

TEST_F(MallService, TabsRacingWithinAPerMemberLimitOfOneGetExactlyOneOrder) {
  save(CatalogKind::item, {{"id", "mug"},
                           {"name", "Mug"},
                           {"kind", "service"},
                           {"points_price", 100},
                           {"stock", 5},
                           {"limits", {{"per_member", {{"units", 1}, {"period", "lifetime"}}}}}});
  const MemberId ada = member_with(1000, "ada");
  std::vector<std::thread> tabs;
  tabs.reserve(8);
  std::atomic<int> orders = 0;
  std::atomic<int> refused_by_limit = 0;
  for (int tab = 0; tab < 8; ++tab)
    tabs.emplace_back([&, tab] {
      const auto result = redeem("tab-" + std::to_string(tab), ada, "mug");
      if (result.ok()) ++orders;
      if (result.refusal && result.refusal->problem == "limit_per_member") ++refused_by_limit;
    });
  for (std::thread& tab : tabs) tab.join();
  EXPECT_EQ(orders.load(), 1);
  EXPECT_EQ(refused_by_limit.load(), 7);
  EXPECT_EQ(taken("mug"), 1);
  EXPECT_EQ(account(ada).held, 100);
  EXPECT_EQ(account(ada).available, 900);
}

TEST_F(MallService, ARushOfMembersNeverTakesMoreThanTheStock) {
  save(CatalogKind::item, {{"id", "flash"},
                           {"name", "Flash"},
                           {"kind", "service"},
                           {"points_price", 10},
                           {"stock", 50}});
  std::vector<MemberId> members;
  members.reserve(200);
  for (int i = 0; i < 200; ++i) members.push_back(member_with(100, "m" + std::to_string(i)));
  std::atomic<int> orders = 0;
  std::atomic<int> out_of_stock = 0;
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (std::size_t i = static_cast<std::size_t>(t); i < members.size(); i += 4) {
        const auto result = redeem("rush-" + std::to_string(i), members[i], "flash");
        if (result.ok()) ++orders;
        if (result.refusal && result.refusal->problem == "out_of_stock") ++out_of_stock;
      }
    });
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(orders.load(), 50);
  EXPECT_EQ(out_of_stock.load(), 150);
  EXPECT_EQ(taken("flash"), 50);
  EXPECT_EQ(ledger_->summary().held, 500);
  EXPECT_TRUE(ledger_->audit().clean());
  const MallAudit mall = audit_mall(*ledger_, *catalog_->current());
  EXPECT_TRUE(mall.findings.empty()) << mall.findings.front();
  EXPECT_EQ(mall.orders_checked, 50);
}

TEST_F(MallService, ARetryWithTheSameKeyFindsTheFirstOrderAndHoldsNothingMore) {
  save(CatalogKind::item,
       {{"id", "mug"}, {"name", "Mug"}, {"kind", "service"}, {"points_price", 100}, {"stock", 5}});
  const MemberId ada = member_with(1000, "ada");
  const auto first = redeem("click", ada, "mug");
  const auto second = redeem("click", ada, "mug");
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second.replayed);
  EXPECT_EQ(second.outcome.transaction_id, first.outcome.transaction_id);
  EXPECT_EQ(taken("mug"), 1);
  EXPECT_EQ(account(ada).held, 100);
}

TEST_F(MallService, AnUnpaidOrderTimesOutAndGivesItsPointsAndUnitsBack) {
  save(CatalogKind::item, {{"id", "lamp"},
                           {"name", "Lamp"},
                           {"kind", "service"},
                           {"points_price", 200},
                           {"cash_price", {{"amount", 999}, {"currency", "GBP"}}},
                           {"stock", 3}});
  const MemberId ada = member_with(1000, "ada");
  ASSERT_TRUE(redeem("lamp-1", ada, "lamp").ok());
  const std::string id = order_id_for_key("lamp-1");
  EXPECT_EQ(order(id).state, OrderState::awaiting_payment);
  EXPECT_EQ(order(id).hold_expires_at_us, clock_.now_us() + 30 * kMinute);
  EXPECT_EQ(account(ada).held, 200);

  const auto preparers = hold_release_preparers(*ledger_, *catalog_, *programs_);
  EXPECT_EQ(store::settle_due(*ledger_, clock_.now_us() + 29 * kMinute, preparers).holds_released,
            0);
  const auto run = store::settle_due(*ledger_, clock_.now_us() + 31 * kMinute, preparers);
  EXPECT_EQ(run.holds_released, 1);
  EXPECT_EQ(run.failures, 0);
  const Order cancelled = order(id);
  EXPECT_EQ(cancelled.state, OrderState::cancelled);
  EXPECT_EQ(cancelled.history.back().note, "not paid in time");
  EXPECT_EQ(cancelled.history.back().actor, "system");
  EXPECT_EQ(account(ada).held, 0);
  EXPECT_EQ(account(ada).available, 1000);
  EXPECT_EQ(taken("lamp"), 0);
  EXPECT_EQ(step("pay-late", id, OrderStep::pay).refusal->problem, "order_state_conflict");
}

TEST_F(MallService, PaymentInTimeConfirmsTheOrderAndItNoLongerTimesOut) {
  save(CatalogKind::item, {{"id", "lamp"},
                           {"name", "Lamp"},
                           {"kind", "service"},
                           {"points_price", 200},
                           {"cash_price", {{"amount", 999}, {"currency", "GBP"}}}});
  const MemberId ada = member_with(1000, "ada");
  ASSERT_TRUE(redeem("lamp-1", ada, "lamp").ok());
  const std::string id = order_id_for_key("lamp-1");
  ASSERT_TRUE(step("paid", id, OrderStep::pay).ok());
  EXPECT_EQ(order(id).state, OrderState::confirmed);
  const auto run = store::settle_due(*ledger_, clock_.now_us() + kDay,
                                     hold_release_preparers(*ledger_, *catalog_, *programs_));
  EXPECT_EQ(run.holds_released, 0);
  EXPECT_EQ(account(ada).available, 800);
  EXPECT_EQ(account(ada).held, 0);
}

// Declared policy (ledger/README.md): points go back to the lots they came from; a lot that
// expired meanwhile takes them straight into `expired`, so a late cancellation never revives
// points past their validity.
TEST_F(MallService, CancellingAfterTheLotsExpiredReturnsThePointsToExpired) {
  save(CatalogKind::item,
       {{"id", "mug"}, {"name", "Mug"}, {"kind", "service"}, {"points_price", 300}});
  const MemberId ada = member_with(1000, "ada");  // expires 10 days after kStart
  ASSERT_TRUE(redeem("mug-1", ada, "mug").ok());
  const std::string id = order_id_for_key("mug-1");
  ASSERT_TRUE(step("confirm", id, OrderStep::confirm).ok());
  EXPECT_EQ(account(ada).available, 700);

  clock_.set(kStart + 11 * kDay);
  ASSERT_TRUE(step("cancel", id, OrderStep::cancel).ok());
  EXPECT_EQ(order(id).state, OrderState::cancelled);
  EXPECT_EQ(account(ada).available, 0) << "the 700 left expired with their lot";
  const store::ProgramSummary summary = ledger_->summary();
  EXPECT_EQ(summary.expired, 1000) << "700 by expiry, 300 given back into the expired lot";
  EXPECT_EQ(summary.spent, 0);
  EXPECT_EQ(taken("mug"), 0);
  EXPECT_TRUE(ledger_->audit().clean());
}

TEST_F(MallService, PayingForACouponItemIssuesItsCouponsThen) {
  save(CatalogKind::coupon_template,
       {{"id", "five-off"},
        {"name", "5 off"},
        {"benefit", {{"kind", "fixed_amount"}, {"amount", {{"amount", 500}, {"currency", "GBP"}}}}},
        {"validity", {{"days_after_issue", 30}}}});
  save(CatalogKind::item, {{"id", "voucher"},
                           {"name", "Voucher"},
                           {"kind", "coupon"},
                           {"coupon_template", "five-off"},
                           {"points_price", 50},
                           {"cash_price", {{"amount", 100}, {"currency", "GBP"}}}});
  const MemberId ada = member_with(1000, "ada");
  ASSERT_TRUE(redeem("voucher-1", ada, "voucher", 2).ok());
  const std::string id = order_id_for_key("voucher-1");
  EXPECT_TRUE(order(id).coupon_codes.empty()) << "nothing is issued before payment";

  StepRequest request;
  request.order = order(id);
  request.step = OrderStep::pay;
  request.coupon_codes = {"AAAA-0001", "AAAA-0002"};
  ledger::Command command{"pay",          ada, clock_.now_us(),
                          "api-key:shop", "",  ledger::RecordEvent{"redemption_step"}};
  ASSERT_TRUE(run(std::move(command), std::make_shared<StepPreparer>(snapshot(), request)).ok());
  const Order paid = order(id);
  EXPECT_EQ(paid.state, OrderState::delivered);
  EXPECT_EQ(paid.coupon_codes, request.coupon_codes);
  const auto coupon = ledger_->record({kCouponRecord, "AAAA-0001"});
  ASSERT_TRUE(coupon.has_value());
  EXPECT_EQ(coupon->member_id, ada);
  EXPECT_EQ(coupon->state, "issued");
  EXPECT_EQ(account(ada).available, 900);
  EXPECT_EQ(account(ada).held, 0);
}

// Writes what it is given, whatever the mall's rules say: a stand-in for a bug or a broken
// database, for the audit to find.
class Tamper final : public store::Preparer {
 public:
  Tamper(Counters counters, std::vector<store::Record> records)
      : counters_(std::move(counters)), records_(std::move(records)) {}
  std::vector<CounterKey> counters_needed(const ledger::Command& /*command*/) override {
    return {};
  }
  store::Preparation prepare(ledger::Command& /*command*/, const Counters& /*current*/,
                             const store::Records& /*records*/) override {
    store::Preparation preparation;
    preparation.counter_updates = counters_;
    preparation.record_writes = records_;
    return preparation;
  }

 private:
  Counters counters_;
  std::vector<store::Record> records_;
};

TEST_F(MallService, TheAuditFindsAnOversoldItemAndAnOrderAtOddsWithItsHold) {
  save(CatalogKind::item,
       {{"id", "mug"}, {"name", "Mug"}, {"kind", "service"}, {"points_price", 100}, {"stock", 2}});
  const MemberId ada = member_with(1000, "ada");
  ASSERT_TRUE(redeem("mug-1", ada, "mug").ok());
  ASSERT_TRUE(redeem("mug-2", ada, "mug").ok());
  ASSERT_TRUE(step("cancel-2", order_id_for_key("mug-2"), OrderStep::cancel).ok());
  const MallAudit clean = audit_mall(*ledger_, *catalog_->current());
  EXPECT_TRUE(clean.findings.empty()) << clean.findings.front();
  EXPECT_EQ(clean.orders_checked, 2);

  store::Record confirmed = *ledger_->record({kRedemptionRecord, order_id_for_key("mug-1")});
  Order forged = order_of(confirmed);
  forged.state = OrderState::confirmed;
  confirmed.state = "confirmed";
  confirmed.body = order_to_json(forged).dump();
  ledger::Command command{"tamper", ada, clock_.now_us(),
                          "test",   "",  ledger::RecordEvent{"tamper"}};
  ASSERT_TRUE(
      run(std::move(command), std::make_shared<Tamper>(Counters{{{0, "item:mug:taken"}, 3}},
                                                       std::vector<store::Record>{confirmed}))
          .ok());
  const MallAudit broken = audit_mall(*ledger_, *catalog_->current());
  const std::string id = order_id_for_key("mug-1");
  EXPECT_EQ(broken.findings,
            (std::vector<std::string>{"order " + id + " (confirmed): its hold is open",
                                      "item mug: 3 units counted as taken, its orders hold 1",
                                      "item mug: oversold, 3 taken of a stock of 2"}));
}

// Every ```json example in docs/mall.md is an item or coupon template the server accepts (in a
// program with a Gold tier), templates before the items that issue them.
TEST_F(MallService, EveryExampleInTheMallGuideIsAccepted) {
  const nlohmann::json tiers = {{"measure", "points_earned"},
                                {"period", "calendar_year"},
                                {"downgrade", "recalculate"},
                                {"tiers",
                                 {{{"id", "member"}, {"name", "Member"}, {"threshold", 0}},
                                  {{"id", "gold"}, {"name", "Gold"}, {"threshold", 1000}}}}};
  const auto saved_tiers =
      programs_->save(earning::DocumentKind::tiers, "default", tiers, false, std::nullopt, "test");
  ASSERT_TRUE(saved_tiers.errors.empty()) << saved_tiers.errors.front().message;
  std::ifstream file(std::string(POINTSMALL_SOURCE_DIR) + "/docs/mall.md");
  ASSERT_TRUE(file) << "docs/mall.md";
  std::stringstream text;
  text << file.rdbuf();
  const std::string guide = text.str();
  std::vector<nlohmann::json> templates;
  std::vector<nlohmann::json> items;
  for (std::size_t start = guide.find("```json\n"); start != std::string::npos;
       start = guide.find("```json\n", start)) {
    start += 8;
    const std::size_t end = guide.find("```", start);
    ASSERT_NE(end, std::string::npos);
    const auto document = nlohmann::json::parse(guide.substr(start, end - start));
    (document.contains("benefit") ? templates : items).push_back(document);
    start = end + 3;
  }
  EXPECT_GE(templates.size(), 2U);
  EXPECT_GE(items.size(), 5U);
  for (const auto& document : templates) save(CatalogKind::coupon_template, document);
  for (const auto& document : items) save(CatalogKind::item, document);
  EXPECT_EQ(catalog_->current()->items.size(), items.size());
}

}  // namespace
}  // namespace pointsmall::mall
