// The storage contract (store.h), run against every engine: SQLite on a fresh file per test, and
// the in-memory reference model. Tests that only make sense for a persistent engine (reopen,
// crash, corrupt files, injected storage failures) are at the end, for SQLite alone.
#include "core/temp_dir.h"
#include "store/store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "store/memory/memory_store.h"
#include "store/postgresql/pg_store.h"
#include "store/postgresql/testing.h"
#include "store/settlement.h"
#include "store/sqlite/sqlite_store.h"

namespace pointsmall::store {
namespace {

using ledger::Rejection;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr TimeUs kStart = 1'709'251'200 * kMicrosPerSecond;  // 2024-03-01T00:00:00Z
constexpr TimeUs kHour = 3600 * kMicrosPerSecond;

ledger::Policy test_policy() {
  ledger::Policy policy;
  policy.expiry = ledger::ExpiryPolicy{ledger::ExpiryPolicy::Kind::days_after_earning, 365};
  policy.shortfall = ledger::ShortfallPolicy::other_lots_then_debt;
  return policy;
}

std::unique_ptr<SqliteLedgerStore> open_sqlite(const std::filesystem::path& file,
                                               const ledger::Policy& policy) {
  SqliteOptions options;
  options.path = file.string();
  options.policy_if_new = policy;
  options.readers = 2;
  std::string error;
  auto store = open_sqlite_store(options, error);
  if (!store) ADD_FAILURE() << "cannot open " << file << ": " << error;
  return store;
}

struct SqliteEngine {
  static std::unique_ptr<LedgerStore> open(const TempDir& dir, const ledger::Policy& policy) {
    return open_sqlite(dir.path() / "ledger.db", policy);
  }
};

struct PostgresEngine {
  static std::unique_ptr<LedgerStore> open(const TempDir&, const ledger::Policy& policy) {
    PostgresOptions options;
    options.url = pg::fresh_test_schema_url();
    options.policy_if_new = policy;
    options.readers = 2;
    std::string error;
    auto store = open_postgres_store(options, error);
    if (!store) ADD_FAILURE() << "cannot open the PostgreSQL store: " << error;
    return store;
  }
};

struct MemoryEngine {
  static std::unique_ptr<LedgerStore> open(const TempDir&, const ledger::Policy& policy) {
    return std::make_unique<MemoryLedgerStore>(policy);
  }
};

ledger::Command make(std::string key, MemberId member, TimeUs at_us, ledger::CommandBody body) {
  ledger::Command command;
  command.idempotency_key = std::move(key);
  command.member_id = member;
  command.at_us = at_us;
  command.actor = "api-key:test";
  command.reason = "contract test";
  command.body = std::move(body);
  return command;
}

ledger::Earn earn(Points points) {
  ledger::Earn body;
  body.points = points;
  body.source = "purchase";
  return body;
}

ledger::Earn order_earn(Points points, std::string order_id, MinorUnits amount_minor) {
  ledger::Earn body = earn(points);
  body.order_id = std::move(order_id);
  body.order_amount_minor = amount_minor;
  return body;
}

// Runs commands against one engine; every helper asserts what the caller would notice.
class StoreTestBase : public ::testing::Test {
 protected:
  LedgerStore& store() { return *store_; }

  CommandResult run(const std::string& key, MemberId member, TimeUs at_us,
                    ledger::CommandBody body) {
    return store_->execute(make(key, member, at_us, std::move(body)));
  }
  // Runs a command that must be accepted and returns its outcome.
  ledger::Outcome accept(const std::string& key, MemberId member, TimeUs at_us,
                         ledger::CommandBody body) {
    const CommandResult result = run(key, member, at_us, std::move(body));
    EXPECT_TRUE(result.ok()) << key << ": "
                             << (result.rejection ? ledger::rejection_name(*result.rejection)
                                                  : std::string_view(result.storage_error));
    EXPECT_FALSE(result.replayed) << key;
    return result.outcome;
  }
  std::optional<Rejection> reject(const std::string& key, MemberId member, TimeUs at_us,
                                  ledger::CommandBody body) {
    const CommandResult result = run(key, member, at_us, std::move(body));
    EXPECT_TRUE(result.storage_error.empty()) << key << ": " << result.storage_error;
    return result.rejection;
  }
  MemberId open_member(const std::string& external_id, TimeUs at_us = kStart) {
    const ledger::Outcome outcome =
        accept("open-" + external_id, 0, at_us, ledger::OpenAccount{external_id});
    EXPECT_GT(outcome.member_id, 0);
    return outcome.member_id;
  }
  ledger::AccountRow row(MemberId member) {
    auto account = store_->account(member);
    EXPECT_TRUE(account.has_value()) << "member " << member;
    return account.value_or(ledger::AccountRow{});
  }
  std::vector<ledger::Transaction> full_history(MemberId member) {
    return store_->history(member, 0, LedgerStore::kMaxHistoryPage);
  }
  void expect_clean_audit() {
    const ledger::Audit audit = store_->audit();
    EXPECT_TRUE(audit.clean()) << ::testing::PrintToString(audit.findings());
  }

  TempDir dir_;
  std::unique_ptr<LedgerStore> store_;
};

template <typename Engine>
class StoreContractTest : public StoreTestBase {
 protected:
  void SetUp() override {
    store_ = Engine::open(dir_, test_policy());
    ASSERT_NE(store_, nullptr);
  }
};

class EngineNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    if (std::is_same_v<T, SqliteEngine>) return "Sqlite";
    return std::is_same_v<T, PostgresEngine> ? "Postgres" : "Memory";
  }
};

using Engines = ::testing::Types<SqliteEngine, PostgresEngine, MemoryEngine>;
TYPED_TEST_SUITE(StoreContractTest, Engines, EngineNames);

TYPED_TEST(StoreContractTest, ReportsThePolicyItWasOpenedWith) {
  EXPECT_EQ(this->store().policy().expiry.kind, ledger::ExpiryPolicy::Kind::days_after_earning);
  EXPECT_EQ(this->store().policy().expiry.count, 365);
  EXPECT_EQ(this->store().policy().shortfall, ledger::ShortfallPolicy::other_lots_then_debt);
}

// Text is kept exactly as sent, whatever it holds (the PostgreSQL engine sends rows as arrays).
TYPED_TEST(StoreContractTest, TextIsKeptExactlyAsSent) {
  const MemberId member = this->open_member("o'neil \"quoted\", {braced} \\ back");
  const std::string reason = "one, \"quoted\" {NULL} NULL \\ caf\u00e9 \u6728 'single'";
  ledger::Command command = make("text-1", member, kStart + 1, earn(5));
  command.reason = reason;
  command.event = ledger::EventRecord{"purchase", kStart, R"({"note":"a \"b\" {c}, d\\e"})"};
  const CommandResult result = this->store().execute(command);
  ASSERT_TRUE(result.ok()) << (result.rejection ? ledger::rejection_name(*result.rejection)
                                                : std::string_view(result.storage_error));
  const auto history = this->full_history(member);
  ASSERT_FALSE(history.empty());
  EXPECT_EQ(history.front().reason, reason);
  EXPECT_EQ(this->row(member).external_id, "o'neil \"quoted\", {braced} \\ back");
  const auto events = this->store().events(kStart, kStart + 1, 0, 10);
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].payload, R"({"note":"a \"b\" {c}, d\\e"})");
}

// Reports: the journal's figures by 15-minute bucket, accounts opened, check-ins and redemption
// orders; and what members redeemed of each item.
TYPED_TEST(StoreContractTest, ActivityAndTopItemsSumTheJournalByBucket) {
  constexpr TimeUs kMinute = 60 * kMicrosPerSecond;
  const MemberId alice = this->open_member("alice", kStart);
  this->open_member("bob", kStart + 2 * kHour);
  this->accept("earn-1", alice, kStart + kMinute, earn(100));
  this->accept("spend-1", alice, kStart + 20 * kMinute, ledger::Spend{30, ""});
  ledger::Command checkin = make("checkin-1", alice, kStart + 25 * kMinute, earn(5));
  checkin.event = ledger::EventRecord{"checkin", kStart + 25 * kMinute, "{}"};
  ASSERT_TRUE(this->store().execute(checkin).ok());
  const TimeUs expiry = kStart + 366 * kMicrosPerDay;
  this->accept("settle-1", alice, expiry, ledger::Settle{});
  auto order = [&](const std::string& id, const std::string& item, std::int64_t units,
                   Points points, const std::string& state) {
    const nlohmann::json body = {{"item_id", item},
                                 {"item_name", "Name of " + item},
                                 {"quantity", units},
                                 {"points", points}};
    return Record{"redemption",          id,         0, alice, state, kStart + 31 * kMinute,
                  kStart + 31 * kMinute, body.dump()};
  };
  this->store().insert_new_records({order("R1", "mug", 2, 200, "confirmed"),
                                    order("R2", "mug", 5, 500, "cancelled"),
                                    order("R3", "tea", 1, 50, "delivered")});

  ActivityBucket opened{.start_us = kStart, .issued = 100, .outstanding_change = 100};
  opened.new_members = 1;
  ActivityBucket spent{.start_us = kStart + 15 * kMinute, .issued = 5, .redeemed = 30};
  spent.outstanding_change = -25;
  spent.checkins = 1;
  ActivityBucket ordered{.start_us = kStart + 30 * kMinute};
  ordered.redemptions = 3;
  ActivityBucket joined{.start_us = kStart + 2 * kHour};
  joined.new_members = 1;
  const TimeUs expiry_bucket = expiry / kActivityBucketUs * kActivityBucketUs;
  ActivityBucket expired{.start_us = expiry_bucket, .expired = 75, .outstanding_change = -75};
  EXPECT_THAT(this->store().activity(kStart), ElementsAre(opened, spent, ordered, joined, expired));
  EXPECT_THAT(this->store().activity(kStart + 2 * kHour), ElementsAre(joined, expired));
  EXPECT_THAT(this->store().activity(expiry_bucket + kActivityBucketUs), ElementsAre());

  // The cancelled order's units went back: it is not counted.
  EXPECT_THAT(this->store().top_items(kStart, kStart + kHour, 10),
              ElementsAre(ItemRedemptions{"mug", "Name of mug", 1, 2, 200},
                          ItemRedemptions{"tea", "Name of tea", 1, 1, 50}));
  EXPECT_THAT(this->store().top_items(kStart, kStart + kHour, 1),
              ElementsAre(ItemRedemptions{"mug", "Name of mug", 1, 2, 200}));
  EXPECT_THAT(this->store().top_items(kStart + kHour, expiry, 10), ElementsAre());
}

// Contract 2: the callback runs after the effects are durable, so a read made from inside it
// already sees them.
TYPED_TEST(StoreContractTest, CallbackRunsOnceTheEffectsCanBeRead) {
  const MemberId member = this->open_member("alice");
  std::optional<ledger::AccountRow> seen_in_callback;
  int calls = 0;
  this->store().submit(make("earn-1", member, kStart + 1, earn(250)),
                       [&](const CommandResult& result) {
                         ++calls;
                         EXPECT_TRUE(result.ok());
                         seen_in_callback = this->store().account(member);
                       });
  this->store().flush();
  EXPECT_EQ(calls, 1);
  ASSERT_TRUE(seen_in_callback.has_value());
  EXPECT_EQ(seen_in_callback->available, 250);
  EXPECT_EQ(this->row(member).available, 250);
}

// Contract 1 and 2: commands apply one at a time in submission order, each callback runs once.
TYPED_TEST(StoreContractTest, CommandsApplyInSubmissionOrderWithOneCallbackEach) {
  const MemberId member = this->open_member("alice");
  constexpr int kCount = 300;
  std::mutex mutex;
  std::vector<int> order;
  std::vector<ledger::Outcome> outcomes(kCount);
  for (int i = 0; i < kCount; ++i) {
    this->store().submit(make("earn-" + std::to_string(i), member, kStart + i, earn(i + 1)),
                         [&, i](const CommandResult& result) {
                           std::lock_guard lock(mutex);
                           EXPECT_TRUE(result.ok()) << i;
                           order.push_back(i);
                           outcomes[static_cast<std::size_t>(i)] = result.outcome;
                         });
  }
  this->store().flush();
  std::lock_guard lock(mutex);
  ASSERT_EQ(order.size(), static_cast<std::size_t>(kCount));
  Points balance = 0;
  for (int i = 0; i < kCount; ++i) {
    EXPECT_EQ(order[static_cast<std::size_t>(i)], i);
    balance += i + 1;
    EXPECT_EQ(outcomes[static_cast<std::size_t>(i)].available_after, balance) << "earn " << i;
  }
  EXPECT_EQ(this->row(member).available, balance);
}

// Contract 3: a repeat with the same request replays the first outcome, even when sent later, and
// changes nothing.
TYPED_TEST(StoreContractTest, RepeatedKeyReplaysTheFirstOutcome) {
  const MemberId member = this->open_member("alice");
  const ledger::Outcome first = this->accept("earn-1", member, kStart + 1, earn(100));
  this->accept("spend-1", member, kStart + 2, ledger::Spend{30, ""});
  const auto history = this->full_history(member);
  const ProgramSummary summary = this->store().summary();

  for (TimeUs at_us : {kStart + 1, kStart + 10 * kHour}) {
    const CommandResult again = this->run("earn-1", member, at_us, earn(100));
    EXPECT_TRUE(again.ok());
    EXPECT_TRUE(again.replayed);
    EXPECT_EQ(again.outcome, first);  // available_after as it was then, not as it is now
  }
  EXPECT_EQ(first.available_after, 100);
  EXPECT_EQ(this->row(member).available, 70);
  EXPECT_EQ(this->full_history(member), history);
  EXPECT_EQ(this->store().summary().transactions, summary.transactions);
  EXPECT_EQ(this->store().summary().issued, summary.issued);

  // Opening an account is idempotent too: the same member comes back.
  const CommandResult reopened =
      this->run("open-alice", 0, kStart + 5, ledger::OpenAccount{"alice"});
  EXPECT_TRUE(reopened.replayed);
  EXPECT_EQ(reopened.outcome.member_id, member);
  EXPECT_EQ(this->store().summary().members, 1);
}

TYPED_TEST(StoreContractTest, SameKeyWithDifferentRequestIsAConflict) {
  const MemberId alice = this->open_member("alice");
  const MemberId bob = this->open_member("bob");
  this->accept("earn-1", alice, kStart + 1, earn(100));

  EXPECT_EQ(this->reject("earn-1", alice, kStart + 2, earn(101)), Rejection::idempotency_conflict);
  EXPECT_EQ(this->reject("earn-1", bob, kStart + 2, earn(100)), Rejection::idempotency_conflict);
  EXPECT_EQ(this->reject("earn-1", alice, kStart + 2, ledger::Spend{100, ""}),
            Rejection::idempotency_conflict);
  ledger::Command other_reason = make("earn-1", alice, kStart + 2, earn(100));
  other_reason.reason = "another reason";
  const CommandResult conflict = this->store().execute(other_reason);
  EXPECT_EQ(conflict.rejection, Rejection::idempotency_conflict);
  EXPECT_FALSE(conflict.replayed);

  EXPECT_EQ(this->row(alice).available, 100);
  EXPECT_EQ(this->row(bob).available, 0);
  EXPECT_EQ(this->full_history(bob).size(), 1u);  // only its opening
  // The first request still replays.
  EXPECT_TRUE(this->run("earn-1", alice, kStart + 3, earn(100)).replayed);
}

// Contract 3: a rejected command leaves nothing, not even its key; a retry after fixing the cause
// is a first attempt.
TYPED_TEST(StoreContractTest, RejectedCommandLeavesNoKey) {
  const MemberId member = this->open_member("alice");
  this->accept("earn-1", member, kStart + 1, earn(100));
  const auto history = this->full_history(member);

  EXPECT_EQ(this->reject("spend-1", member, kStart + 2, ledger::Spend{500, ""}),
            Rejection::insufficient_points);
  EXPECT_EQ(this->full_history(member), history);
  EXPECT_EQ(this->row(member).available, 100);

  this->accept("earn-2", member, kStart + 3, earn(400));
  const CommandResult retry = this->run("spend-1", member, kStart + 4, ledger::Spend{500, ""});
  EXPECT_TRUE(retry.ok());
  EXPECT_FALSE(retry.replayed);
  EXPECT_EQ(retry.outcome.points, -500);
  EXPECT_EQ(this->row(member).available, 0);

  // An invalid request leaves its key free as well.
  EXPECT_EQ(this->reject("earn-3", member, kStart + 5, earn(0)), Rejection::invalid_request);
  EXPECT_EQ(this->reject("", member, kStart + 5, earn(10)), Rejection::invalid_request);
  EXPECT_FALSE(this->run("earn-3", member, kStart + 6, earn(10)).replayed);
  EXPECT_EQ(this->row(member).available, 10);
}

// A rejection also drops the housekeeping (maturation) that the decision did on the way.
TYPED_TEST(StoreContractTest, RejectedCommandLeavesDueHousekeepingUndone) {
  const MemberId member = this->open_member("alice");
  ledger::Earn pending = earn(100);
  pending.matures_at_us = kStart + 24 * kHour;
  EXPECT_TRUE(this->accept("earn-1", member, kStart + 1, pending).pending);
  const auto lots = this->store().lots(member);

  EXPECT_EQ(this->reject("spend-1", member, kStart + 48 * kHour, ledger::Spend{1000, ""}),
            Rejection::insufficient_points);
  EXPECT_EQ(this->store().lots(member), lots);
  EXPECT_EQ(this->row(member).pending, 100);
  EXPECT_EQ(this->row(member).available, 0);

  // The next accepted command matures the lot on the way.
  const ledger::Outcome spent =
      this->accept("spend-2", member, kStart + 48 * kHour, ledger::Spend{60, ""});
  EXPECT_EQ(spent.available_after, 40);
  EXPECT_EQ(spent.pending_after, 0);
  this->expect_clean_audit();
}

TYPED_TEST(StoreContractTest, CommandsForAnUnknownMemberAreRejected) {
  EXPECT_EQ(this->reject("earn-1", 42, kStart, earn(10)), Rejection::unknown_member);
  EXPECT_FALSE(this->store().account(42).has_value());
  EXPECT_EQ(this->store().summary().transactions, 0);
  this->open_member("alice");
  EXPECT_EQ(this->reject("open-again", 0, kStart, ledger::OpenAccount{"alice"}),
            Rejection::member_exists);
}

TYPED_TEST(StoreContractTest, ReadsShowAccountsAndLotsOldestFirst) {
  const MemberId alice = this->open_member("alice");
  const MemberId bob = this->open_member("bob");
  EXPECT_NE(alice, bob);
  EXPECT_EQ(this->store().member_by_external_id("alice"), alice);
  EXPECT_EQ(this->store().member_by_external_id("bob"), bob);
  EXPECT_FALSE(this->store().member_by_external_id("carol").has_value());
  EXPECT_FALSE(this->store().account(bob + 1000).has_value());

  ledger::Earn first = order_earn(100, "order-1", 2500);
  first.cost_minor = 7;
  this->accept("earn-1", alice, kStart + 1, first);
  ledger::Earn second = earn(50);
  second.source = "checkin";
  second.matures_at_us = kStart + 24 * kHour;
  this->accept("earn-2", alice, kStart + 2, second);
  this->accept("spend-1", alice, kStart + 3, ledger::Spend{30, ""});

  const ledger::AccountRow row = this->row(alice);
  EXPECT_EQ(row.member_id, alice);
  EXPECT_EQ(row.external_id, "alice");
  EXPECT_EQ(row.available, 70);
  EXPECT_EQ(row.pending, 50);
  EXPECT_EQ(row.opened_at_us, kStart);
  EXPECT_FALSE(row.account_frozen);
  EXPECT_EQ(row.next_due_us, kStart + 24 * kHour);  // the pending lot matures first

  const auto lots = this->store().lots(alice);
  ASSERT_EQ(lots.size(), 2u);
  EXPECT_LT(lots[0].id, lots[1].id);
  EXPECT_EQ(lots[0].amount, 100);
  EXPECT_EQ(lots[0].remaining, 70);
  EXPECT_EQ(lots[0].state, ledger::LotState::active);
  EXPECT_EQ(lots[0].order_id, "order-1");
  EXPECT_EQ(lots[0].cost_minor, 7);
  EXPECT_EQ(lots[0].expires_at_us, kStart + 1 + 365 * kMicrosPerDay);
  EXPECT_EQ(lots[1].source, "checkin");
  EXPECT_EQ(lots[1].state, ledger::LotState::pending);
  EXPECT_EQ(lots[1].matures_at_us, kStart + 24 * kHour);
  EXPECT_TRUE(this->store().lots(bob).empty());
}

TYPED_TEST(StoreContractTest, HistoryIsNewestFirstAndPagesWithBefore) {
  const MemberId alice = this->open_member("alice");
  const MemberId bob = this->open_member("bob");
  for (int i = 0; i < 24; ++i) {
    this->accept("earn-" + std::to_string(i), alice, kStart + i + 1, earn(i + 1));
    if (i % 6 == 0) this->accept("bob-" + std::to_string(i), bob, kStart + i + 1, earn(5));
  }
  const auto all = this->full_history(alice);
  ASSERT_EQ(all.size(), 25u);  // opening and 24 earns
  EXPECT_EQ(all.back().kind, ledger::TransactionKind::open_account);
  EXPECT_EQ(all.front().idempotency_key, "earn-23");
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].member_id, alice);
    if (i > 0) {
      EXPECT_GT(all[i - 1].id, all[i].id);
    }
    Points sum = 0;
    for (const ledger::Entry& entry : all[i].entries) sum += entry.amount;
    EXPECT_EQ(sum, 0) << "transaction " << all[i].id;
  }
  const ledger::Transaction& earned = all.front();
  EXPECT_EQ(earned.kind, ledger::TransactionKind::earn);
  EXPECT_EQ(earned.actor, "api-key:test");
  EXPECT_EQ(earned.reason, "contract test");
  EXPECT_EQ(earned.at_us, kStart + 24);
  ASSERT_EQ(earned.entries.size(), 2u);
  EXPECT_EQ(earned.entries[0].account, ledger::Account::program_issued);
  EXPECT_EQ(earned.entries[0].amount, -24);
  EXPECT_EQ(earned.entries[1].account, ledger::Account::member_available);
  EXPECT_NE(earned.entries[1].lot_id, 0);
  EXPECT_EQ(ledger::decode_outcome(earned.result)->available_after, 300);

  std::vector<ledger::Transaction> paged;
  TransactionId before = 0;
  for (;;) {
    auto page = this->store().history(alice, before, 7);
    ASSERT_LE(page.size(), 7u);
    for (const auto& tx : page) {
      if (before != 0) {
        EXPECT_LT(tx.id, before);
      }
    }
    if (page.empty()) break;
    before = page.back().id;
    paged.insert(paged.end(), page.begin(), page.end());
  }
  EXPECT_EQ(paged, all);
  EXPECT_TRUE(this->store().history(alice, all.back().id, 10).empty());
  EXPECT_TRUE(this->store().history(alice, 0, 0).empty());
  EXPECT_TRUE(this->store().history(bob + 1000, 0, 10).empty());
  EXPECT_EQ(this->full_history(bob).size(), 5u);
}

TYPED_TEST(StoreContractTest, HistoryPagesAreCappedAtTheMaximum) {
  const MemberId member = this->open_member("alice");
  constexpr int kEarns = static_cast<int>(LedgerStore::kMaxHistoryPage) + 5;
  int failed = 0;
  for (int i = 0; i < kEarns; ++i)
    this->store().submit(make("earn-" + std::to_string(i), member, kStart + i + 1, earn(1)),
                         [&failed](const CommandResult& r) { failed += r.ok() ? 0 : 1; });
  this->store().flush();
  EXPECT_EQ(failed, 0);
  const auto page = this->store().history(member, 0, LedgerStore::kMaxHistoryPage * 2);
  EXPECT_EQ(page.size(), LedgerStore::kMaxHistoryPage);
  EXPECT_EQ(this->store().history(member, page.back().id, 100).size(), 6u);
}

TYPED_TEST(StoreContractTest, MembersDueListsMembersWithLotsToMatureOrExpire) {
  const MemberId pending = this->open_member("pending");
  const MemberId expiring = this->open_member("expiring");
  const MemberId lasting = this->open_member("lasting");
  const MemberId empty = this->open_member("empty");
  ledger::Earn matures = earn(10);
  matures.matures_at_us = kStart + 10 * kMicrosPerDay;
  this->accept("earn-1", pending, kStart, matures);
  ledger::Earn expires = earn(10);
  expires.expires_at_us = kStart + 5 * kMicrosPerDay;
  this->accept("earn-2", expiring, kStart, expires);
  this->accept("earn-3", lasting, kStart, earn(10));  // expires after 365 days

  auto due = [&](TimeUs at_us, MemberId after = 0, std::size_t limit = 100) {
    return this->store().members_due(at_us, after, limit);
  };
  EXPECT_THAT(due(kStart + kMicrosPerDay), ElementsAre());
  EXPECT_THAT(due(kStart + 5 * kMicrosPerDay), ElementsAre(expiring));
  EXPECT_THAT(due(kStart + 10 * kMicrosPerDay), ElementsAre(pending, expiring));
  EXPECT_THAT(due(kStart + 10 * kMicrosPerDay, pending), ElementsAre(expiring));
  EXPECT_THAT(due(kStart + 10 * kMicrosPerDay, 0, 1), ElementsAre(pending));
  EXPECT_THAT(due(kStart + 365 * kMicrosPerDay), ElementsAre(pending, expiring, lasting));

  // Settling the expiring member expires its lot; nothing is due for it any more.
  const ledger::Outcome settled =
      this->accept("settle-1", expiring, kStart + 6 * kMicrosPerDay, ledger::Settle{});
  EXPECT_EQ(settled.available_after, 0);
  EXPECT_EQ(this->store().lots(expiring).at(0).state, ledger::LotState::expired);
  EXPECT_THAT(due(kStart + 365 * kMicrosPerDay), ElementsAre(pending, lasting));
  EXPECT_EQ(this->row(empty).next_due_us, kTimeNever);
  EXPECT_EQ(this->store().summary().expired, 10);
}

// Points given back to a lot that a spend had emptied make it due again: a cancel (or a release)
// must bring next_due_us forward, or members_due never finds the member and its points never
// expire.
TYPED_TEST(StoreContractTest, MembersDueSeesPointsGivenBackByACancel) {
  const MemberId member = this->open_member("alice");
  this->accept("earn-1", member, kStart, earn(100));  // expires after 365 days
  const ledger::Outcome spent = this->accept("spend-1", member, kStart + 1, ledger::Spend{100, ""});
  EXPECT_EQ(this->row(member).next_due_us, kTimeNever);  // nothing left to expire
  this->accept("cancel-1", member, kStart + 2, ledger::CancelTransaction{spent.transaction_id});

  const TimeUs expiry = kStart + 365 * kMicrosPerDay;
  EXPECT_EQ(this->row(member).next_due_us, expiry);
  EXPECT_THAT(this->store().members_due(expiry, 0, 10), ElementsAre(member));
  this->accept("settle-1", member, expiry, ledger::Settle{});
  EXPECT_EQ(this->row(member).available, 0);
  EXPECT_EQ(this->store().summary().expired, 100);
}

// next_due_us is exact (model.h): freezing the lot that is due first makes the next one the
// earliest, and unfreezing it brings it back.
TYPED_TEST(StoreContractTest, NextDueFollowsTheEarliestLot) {
  const MemberId member = this->open_member("alice");
  this->accept("earn-1", member, kStart, earn(100));  // expires after 365 days
  ledger::Earn soon = earn(50);
  soon.expires_at_us = kStart + 10 * kMicrosPerDay;
  this->accept("earn-2", member, kStart, soon);
  EXPECT_EQ(this->row(member).next_due_us, kStart + 10 * kMicrosPerDay);

  const LotId lot = this->store().lots(member).at(1).id;
  this->accept("freeze-lot", member, kStart + 1, ledger::FreezeLot{lot});
  EXPECT_EQ(this->row(member).next_due_us, kStart + 365 * kMicrosPerDay);
  EXPECT_THAT(this->store().members_due(kStart + 10 * kMicrosPerDay, 0, 10), ElementsAre());
  this->accept("unfreeze-lot", member, kStart + 2, ledger::UnfreezeLot{lot});
  EXPECT_EQ(this->row(member).next_due_us, kStart + 10 * kMicrosPerDay);
  EXPECT_THAT(this->store().members_due(kStart + 10 * kMicrosPerDay, 0, 10), ElementsAre(member));
}

// live_lots_from_id is the smallest id of a lot with points left (model.h), exact like
// next_due_us: spending the oldest lot moves it up, giving the points back moves it down.
TYPED_TEST(StoreContractTest, LiveLotFloorIsTheOldestLotWithPointsLeft) {
  const MemberId member = this->open_member("alice");
  EXPECT_EQ(this->row(member).live_lots_from_id, ledger::kNoLiveLot);
  this->accept("earn-1", member, kStart, earn(100));
  this->accept("earn-2", member, kStart + 1, earn(50));
  const auto lots = this->store().lots(member);
  ASSERT_EQ(lots.size(), 2u);
  EXPECT_EQ(this->row(member).live_lots_from_id, lots[0].id);

  const ledger::Outcome spent = this->accept("spend-1", member, kStart + 2, ledger::Spend{100, ""});
  EXPECT_EQ(this->row(member).live_lots_from_id, lots[1].id);
  this->accept("cancel-1", member, kStart + 3, ledger::CancelTransaction{spent.transaction_id});
  EXPECT_EQ(this->row(member).live_lots_from_id, lots[0].id);
  this->accept("spend-2", member, kStart + 4, ledger::Spend{150, ""});
  EXPECT_EQ(this->row(member).live_lots_from_id, ledger::kNoLiveLot);
  this->expect_clean_audit();
}

TYPED_TEST(StoreContractTest, ExpiredHoldsListsOpenHoldsPastTheirTime) {
  const MemberId member = this->open_member("alice");
  this->accept("earn-1", member, kStart, earn(1000));
  this->accept("hold-1", member, kStart, ledger::PlaceHold{"r1", 100, kStart + kHour});
  this->accept("hold-2", member, kStart, ledger::PlaceHold{"r2", 100, kStart + 2 * kHour});
  this->accept("hold-3", member, kStart, ledger::PlaceHold{"r3", 100, kTimeNever});
  using Due = std::pair<MemberId, std::string>;

  EXPECT_THAT(this->store().expired_holds(kStart, 10), ElementsAre());
  EXPECT_THAT(this->store().expired_holds(kStart + kHour, 10), ElementsAre(Due{member, "r1"}));
  EXPECT_THAT(this->store().expired_holds(kStart + 3 * kHour, 10),
              ElementsAre(Due{member, "r1"}, Due{member, "r2"}));
  EXPECT_THAT(this->store().expired_holds(kStart + 3 * kHour, 1), ElementsAre(Due{member, "r1"}));

  EXPECT_EQ(this->reject("capture-2", member, kStart + 3 * kHour, ledger::CaptureHold{"r2"}),
            Rejection::hold_expired);
  const ledger::Outcome released =
      this->accept("release-1", member, kStart + 3 * kHour, ledger::ReleaseHold{"r1"});
  EXPECT_EQ(released.points, 100);
  EXPECT_THAT(this->store().expired_holds(kStart + 3 * kHour, 10), ElementsAre(Due{member, "r2"}));
  EXPECT_EQ(this->row(member).held, 200);
  EXPECT_EQ(this->row(member).available, 800);
}

TYPED_TEST(StoreContractTest, SummaryAddsUpTheProgram) {
  const MemberId alice = this->open_member("alice");
  const MemberId bob = this->open_member("bob");
  this->accept("earn-1", alice, kStart + 1, earn(1000));
  this->accept("spend-1", alice, kStart + 2, ledger::Spend{300, ""});
  ledger::Earn pending = earn(200);
  pending.matures_at_us = kStart + kMicrosPerDay;
  this->accept("earn-2", bob, kStart + 3, pending);
  this->accept("hold-1", alice, kStart + 4, ledger::PlaceHold{"r1", 100, kTimeNever});
  this->accept("adjust-1", alice, kStart + 5, ledger::Adjust{-50});

  const ProgramSummary s = this->store().summary();
  EXPECT_EQ(s.members, 2);
  EXPECT_EQ(s.transactions, 7);
  EXPECT_EQ(s.lots, 2);
  EXPECT_EQ(s.issued, 1200);
  EXPECT_EQ(s.available, 550);
  EXPECT_EQ(s.pending, 200);
  EXPECT_EQ(s.held, 100);
  EXPECT_EQ(s.spent, 300);
  EXPECT_EQ(s.revoked, 50);
  EXPECT_EQ(s.frozen, 0);
  EXPECT_EQ(s.debt, 0);
  EXPECT_EQ(s.issued, s.available + s.pending + s.frozen + s.held + s.spent + s.expired +
                          s.clawed_back + s.revoked - s.debt);
}

// Every kind of command, with its rejections, then the full re-derivation must agree.
TYPED_TEST(StoreContractTest, AuditIsCleanAfterAMixedWorkload) {
  const MemberId alice = this->open_member("alice");
  const MemberId bob = this->open_member("bob");
  TimeUs now = kStart;
  auto at = [&now] { return now += kHour; };

  this->accept("a-earn-1", alice, at(), order_earn(500, "o-1", 10'000));
  this->accept("a-earn-2", alice, at(), earn(300));
  EXPECT_EQ(this->reject("a-earn-dup", alice, at(), order_earn(500, "o-1", 10'000)),
            Rejection::duplicate_order);
  const ledger::Outcome spend = this->accept("a-spend-1", alice, at(), ledger::Spend{200, "o-2"});
  this->accept("a-hold-1", alice, at(), ledger::PlaceHold{"r1", 100, kTimeNever});
  EXPECT_EQ(this->reject("a-hold-dup", alice, at(), ledger::PlaceHold{"r1", 1, kTimeNever}),
            Rejection::hold_exists);
  this->accept("a-capture-1", alice, at(), ledger::CaptureHold{"r1"});
  EXPECT_EQ(this->reject("a-capture-again", alice, at(), ledger::CaptureHold{"r1"}),
            Rejection::hold_not_open);
  const ledger::Outcome hold2 =
      this->accept("a-hold-2", alice, at(), ledger::PlaceHold{"r2", 50, kTimeNever});
  this->accept("a-release-2", alice, at(), ledger::ReleaseHold{"r2"});
  EXPECT_EQ(this->reject("a-cancel-released", alice, at(),
                         ledger::CancelTransaction{hold2.transaction_id}),
            Rejection::already_cancelled);
  this->accept("a-cancel-spend", alice, at(), ledger::CancelTransaction{spend.transaction_id});
  EXPECT_EQ(
      this->reject("a-cancel-again", alice, at(), ledger::CancelTransaction{spend.transaction_id}),
      Rejection::already_cancelled);
  EXPECT_EQ(
      this->reject("a-cancel-bob", bob, at(), ledger::CancelTransaction{spend.transaction_id}),
      Rejection::unknown_transaction);

  // Refunds claw back pro rata; the second one makes the order whole.
  const ledger::Outcome partial =
      this->accept("a-refund-1", alice, at(), ledger::Refund{"o-1", 2'500});
  EXPECT_EQ(partial.points, -125);
  EXPECT_EQ(this->reject("a-refund-too-much", alice, at(), ledger::Refund{"o-1", 8'000}),
            Rejection::refund_exceeds_order);
  const ledger::Outcome rest =
      this->accept("a-refund-2", alice, at(), ledger::Refund{"o-1", 7'500});
  EXPECT_EQ(rest.points, -375);
  EXPECT_EQ(this->reject("a-refund-none", alice, at(), ledger::Refund{"o-9", 1}),
            Rejection::unknown_order);

  // Bob spends what an order earned, then the order is refunded: the shortfall becomes debt that
  // his next earn repays.
  this->accept("b-earn-1", bob, at(), order_earn(400, "o-3", 4'000));
  this->accept("b-spend-1", bob, at(), ledger::Spend{400, ""});
  const ledger::Outcome clawed =
      this->accept("b-refund-1", bob, at(), ledger::Refund{"o-3", 4'000});
  EXPECT_EQ(clawed.debt_added, 400);
  EXPECT_EQ(clawed.debt_after, 400);
  const ledger::Outcome repaid = this->accept("b-earn-2", bob, at(), earn(500));
  EXPECT_EQ(repaid.debt_repaid, 400);
  EXPECT_EQ(repaid.available_after, 100);

  // Operator actions.
  this->accept("a-adjust-up", alice, at(), ledger::Adjust{40});
  this->accept("a-adjust-down", alice, at(), ledger::Adjust{-20});
  const LotId lot = this->store().lots(alice).at(1).id;
  this->accept("a-freeze-lot", alice, at(), ledger::FreezeLot{lot});
  EXPECT_EQ(this->reject("a-freeze-lot-again", alice, at(), ledger::FreezeLot{lot}),
            Rejection::lot_not_freezable);
  this->accept("a-unfreeze-lot", alice, at(), ledger::UnfreezeLot{lot});
  EXPECT_EQ(this->reject("a-unfreeze-lot-again", alice, at(), ledger::UnfreezeLot{lot}),
            Rejection::lot_not_frozen);
  this->accept("a-freeze", alice, at(), ledger::FreezeAccount{});
  EXPECT_EQ(this->reject("a-spend-frozen", alice, at(), ledger::Spend{1, ""}),
            Rejection::account_frozen);
  this->accept("a-unfreeze", alice, at(), ledger::UnfreezeAccount{});

  // A year later everything left has expired.
  now += 400 * kMicrosPerDay;
  this->accept("a-settle", alice, at(), ledger::Settle{});
  this->accept("b-settle", bob, at(), ledger::Settle{});
  EXPECT_EQ(this->row(alice).available, 0);
  EXPECT_EQ(this->row(bob).available, 0);

  this->expect_clean_audit();
  const ledger::Audit audit = this->store().audit();
  EXPECT_EQ(audit.members_checked(), 2);
  EXPECT_GT(audit.lots_checked(), 4);
  EXPECT_EQ(audit.transactions_checked(), this->store().summary().transactions);
  const ProgramSummary s = this->store().summary();
  EXPECT_EQ(s.issued, s.available + s.pending + s.frozen + s.held + s.spent + s.expired +
                          s.clawed_back + s.revoked - s.debt);
  EXPECT_GT(s.expired, 0);
  EXPECT_EQ(s.clawed_back, 900);
}

// ---- Preparers (store/preparer.h) ------------------------------------------------------------

// Earns `wanted` points capped so that a member never gets more than `cap` in total, counted in
// the member's counter "earned"; refuses a second earn on the same day (counter "day"); gives a
// `referrer` a follow-up earn of 5. Records how the points were computed.
class CappedEarn final : public Preparer {
 public:
  CappedEarn(Points wanted, Points cap, MemberId referrer = 0)
      : wanted_(wanted), cap_(cap), referrer_(referrer) {}

  std::vector<CounterKey> counters_needed(const ledger::Command& command) override {
    return {{command.member_id, "earned"}, {command.member_id, "day"}, {0, "program"}};
  }
  Preparation prepare(ledger::Command& command, const Counters& current,
                      const store::Records& /*records*/) override {
    ++calls;
    Preparation preparation;
    const std::int64_t day = command.at_us / kMicrosPerDay + 1;
    if (counter_value(current, {command.member_id, "day"}) == day) {
      preparation.refusal = Refusal{"already_today", "one earn a day"};
      return preparation;
    }
    const Points earned = counter_value(current, {command.member_id, "earned"});
    const Points points = std::min(wanted_, std::max<Points>(0, cap_ - earned));
    std::get<ledger::Earn>(command.body).points = points;
    preparation.counter_updates[{command.member_id, "earned"}] = earned + points;
    preparation.counter_updates[{command.member_id, "day"}] = day;
    preparation.counter_updates[{0, "program"}] = counter_value(current, {0, "program"}) + points;
    preparation.earning_record = R"({"points":)" + std::to_string(points) + "}";
    if (earned + points >= cap_) preparation.tier_change = TierChangeRecord{0, 1, "cap reached"};
    if (referrer_ != 0) {
      ledger::Command reward =
          make("reward:" + command.idempotency_key, referrer_, command.at_us, earn(5));
      preparation.follow_ups.push_back(std::move(reward));
    }
    return preparation;
  }
  int calls = 0;

 private:
  Points wanted_;
  Points cap_;
  MemberId referrer_;
};

ledger::Command capped_earn_command(const std::string& key, MemberId member, TimeUs at_us) {
  ledger::Command command = make(key, member, at_us, order_earn(0, key, 1000));
  command.event = ledger::EventRecord{"purchase", at_us, R"({"order_id":")" + key + "\"}"};
  return command;
}

CommandResult execute_prepared(LedgerStore& store, ledger::Command command,
                               std::shared_ptr<Preparer> preparer) {
  std::promise<CommandResult> promise;
  auto future = promise.get_future();
  store.submit_prepared(std::move(command), std::move(preparer),
                        [&promise](const CommandResult& r) { promise.set_value(r); });
  return future.get();
}

// ---- Records beside the ledger (store/preparer.h) ---------------------------------------------

// Reserves one unit of a stock of `stock` (counter "taken") with a hold of `points`, and keeps
// an order record "order/<hold_ref>" in state "reserved"; on a ReleaseHold the unit goes back and
// the order becomes "released". Refuses a second order with the same hold_ref.
class ReserveUnit final : public Preparer {
 public:
  explicit ReserveUnit(std::int64_t stock) : stock_(stock) {}

  std::vector<CounterKey> counters_needed(const ledger::Command& /*command*/) override {
    return {{0, "taken"}};
  }
  std::vector<RecordKey> records_needed(const ledger::Command& command) override {
    return {{"order", hold_ref(command)}};
  }
  Preparation prepare(ledger::Command& command, const Counters& current,
                      const Records& records) override {
    Preparation preparation;
    const RecordKey key{"order", hold_ref(command)};
    const std::int64_t taken = counter_value(current, {0, "taken"});
    const bool release = std::holds_alternative<ledger::ReleaseHold>(command.body);
    if (!release && (records.contains(key) || taken >= stock_)) {
      preparation.refusal = Refusal{"unavailable", "sold out or ordered already"};
      return preparation;
    }
    preparation.counter_updates[{0, "taken"}] = release ? taken - 1 : taken + 1;
    Record order{key.kind,
                 key.id,
                 0,
                 command.member_id,
                 release ? "released" : "reserved",
                 command.at_us,
                 command.at_us,
                 R"({"units":1})"};
    preparation.record_writes.push_back(std::move(order));
    return preparation;
  }

 private:
  static std::string hold_ref(const ledger::Command& command) {
    if (const auto* hold = std::get_if<ledger::PlaceHold>(&command.body)) return hold->hold_ref;
    return std::get<ledger::ReleaseHold>(command.body).hold_ref;
  }
  std::int64_t stock_;
};

TYPED_TEST(StoreContractTest, RecordsCommitWithTheirCommandAndNotWithoutIt) {
  const MemberId alice = this->open_member("alice");
  const MemberId bob = this->open_member("bob");
  this->accept("earn-a", alice, kStart, earn(100));
  this->accept("earn-b", bob, kStart, earn(10));
  auto reserve = [&](const std::string& key, MemberId member, const std::string& ref) {
    return execute_prepared(this->store(),
                            make(key, member, kStart + 1, ledger::PlaceHold{ref, 50, kTimeNever}),
                            std::make_shared<ReserveUnit>(2));
  };
  ASSERT_TRUE(reserve("r1", alice, "o1").ok());
  const CommandResult poor = reserve("r2", bob, "o2");
  EXPECT_EQ(poor.rejection, Rejection::insufficient_points);
  EXPECT_EQ(this->store().record({"order", "o2"}), std::nullopt) << "refused: no record";
  EXPECT_EQ(counter_value(this->store().counters({{0, "taken"}}), {0, "taken"}), 1);
  EXPECT_EQ(reserve("r3", alice, "o1").refusal->problem, "unavailable");
  const CommandResult replay = reserve("r1", alice, "o1");
  EXPECT_TRUE(replay.ok() && replay.replayed) << "a repeated key replays, not refused";
  ASSERT_TRUE(reserve("r4", alice, "o3").ok());
  EXPECT_EQ(reserve("r5", alice, "o4").refusal->problem, "unavailable") << "stock of 2 taken";

  const auto o1 = this->store().record({"order", "o1"});
  ASSERT_TRUE(o1.has_value());
  EXPECT_EQ(o1->member_id, alice);
  EXPECT_EQ(o1->state, "reserved");
  EXPECT_EQ(o1->body, R"({"units":1})");
  const auto newest_first = this->store().records({"order", alice, "", 0, 10});
  ASSERT_EQ(newest_first.size(), 2u);
  EXPECT_EQ(newest_first[0].id, "o3");
  EXPECT_EQ(newest_first[1].id, "o1");
  EXPECT_GT(newest_first[0].seq, newest_first[1].seq);
  const auto older = this->store().records({"order", 0, "reserved", newest_first[0].seq, 10});
  ASSERT_EQ(older.size(), 1u);
  EXPECT_EQ(older[0].id, "o1");
  EXPECT_TRUE(this->store().records({"order", bob, "", 0, 10}).empty());
}

TYPED_TEST(StoreContractTest, AnUpdatedRecordKeepsItsPlaceAndTheSettlerReleasesWithItsPreparer) {
  const MemberId alice = this->open_member("alice");
  this->accept("earn-a", alice, kStart, earn(100));
  ASSERT_TRUE(execute_prepared(this->store(),
                               make("r1", alice, kStart, ledger::PlaceHold{"o1", 60, kStart + 5}),
                               std::make_shared<ReserveUnit>(1))
                  .ok());
  const Record reserved = *this->store().record({"order", "o1"});
  const auto hold = this->store().hold(alice, "o1");
  ASSERT_TRUE(hold.has_value());
  EXPECT_EQ(hold->points, 60);
  EXPECT_EQ(hold->state, ledger::HoldState::open);
  EXPECT_EQ(this->store().hold(alice, "o2"), std::nullopt);
  const SettlementRun run =
      settle_due(this->store(), kStart + 10,
                 [](MemberId, const std::string&) { return std::make_shared<ReserveUnit>(1); });
  EXPECT_EQ(run.holds_released, 1);
  EXPECT_EQ(run.failures, 0);
  const Record released = *this->store().record({"order", "o1"});
  EXPECT_EQ(released.state, "released");
  EXPECT_EQ(released.seq, reserved.seq);
  EXPECT_EQ(released.created_at_us, kStart);
  EXPECT_EQ(released.updated_at_us, kStart + 10);
  EXPECT_EQ(counter_value(this->store().counters({{0, "taken"}}), {0, "taken"}), 0);
  EXPECT_EQ(this->row(alice).available, 100);
  EXPECT_EQ(this->store().hold(alice, "o1")->state, ledger::HoldState::released);
  this->expect_clean_audit();
}

TYPED_TEST(StoreContractTest, InsertingNewRecordsLeavesExistingOnesAlone) {
  const MemberId alice = this->open_member("alice");
  this->accept("earn-a", alice, kStart, earn(100));
  ASSERT_TRUE(execute_prepared(this->store(),
                               make("r1", alice, kStart, ledger::PlaceHold{"o1", 60, kTimeNever}),
                               std::make_shared<ReserveUnit>(1))
                  .ok());
  const std::vector<Record> pool = {{"order", "o1", 0, 0, "free", kStart, kStart, "{}"},
                                    {"order", "p1", 0, 0, "free", kStart, kStart, "{}"},
                                    {"order", "p2", 0, 0, "free", kStart, kStart, "{}"}};
  EXPECT_THAT(this->store().insert_new_records(pool), ElementsAre("o1"));
  EXPECT_EQ(this->store().record({"order", "o1"})->state, "reserved");
  EXPECT_EQ(this->store().records({"order", 0, "free", 0, 10}).size(), 2u);
  EXPECT_THAT(this->store().insert_new_records(pool), ElementsAre("o1", "p1", "p2"));
}

TYPED_TEST(StoreContractTest, PreparerSetsPointsAndItsCountersCommitWithTheCommand) {
  const MemberId member = this->open_member("alice");
  auto preparer = std::make_shared<CappedEarn>(70, 100);
  const CommandResult first =
      execute_prepared(this->store(), capped_earn_command("e1", member, kStart), preparer);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first.outcome.points, 70);
  const CommandResult second = execute_prepared(
      this->store(), capped_earn_command("e2", member, kStart + 25 * kHour), preparer);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second.outcome.points, 30) << "the cap leaves 30";
  EXPECT_EQ(this->row(member).available, 100);
  const Counters counters =
      this->store().counters({{member, "earned"}, {0, "program"}, {member, "never"}});
  EXPECT_EQ(counter_value(counters, {member, "earned"}), 100);
  EXPECT_EQ(counter_value(counters, {0, "program"}), 100);
  EXPECT_EQ(counter_value(counters, {member, "never"}), 0);
  EXPECT_EQ(this->store().earning_record(second.outcome.transaction_id), R"({"points":30})");
  EXPECT_EQ(this->store().earning_record(999999), std::nullopt);
  const auto changes = this->store().tier_changes(member, 10);
  ASSERT_EQ(changes.size(), 1U);
  EXPECT_EQ(changes[0].transaction_id, second.outcome.transaction_id);
  EXPECT_EQ(changes[0].reason, "cap reached");
  EXPECT_THAT(this->store().members_with_counter("earned", 100, 0, 10), ElementsAre(member));
  EXPECT_TRUE(this->store().members_with_counter("earned", 101, 0, 10).empty());
}

TYPED_TEST(StoreContractTest, PreparerRefusalWritesNothingButARepeatStillReplays) {
  const MemberId member = this->open_member("alice");
  auto preparer = std::make_shared<CappedEarn>(10, 100);
  const CommandResult first =
      execute_prepared(this->store(), capped_earn_command("e1", member, kStart), preparer);
  ASSERT_TRUE(first.ok());
  const CommandResult again =
      execute_prepared(this->store(), capped_earn_command("e1", member, kStart), preparer);
  EXPECT_TRUE(again.ok());
  EXPECT_TRUE(again.replayed) << "the same key replays although the preparer would refuse";
  EXPECT_EQ(again.outcome, first.outcome);
  const CommandResult refused =
      execute_prepared(this->store(), capped_earn_command("e2", member, kStart + kHour), preparer);
  ASSERT_TRUE(refused.refusal.has_value());
  EXPECT_EQ(refused.refusal->problem, "already_today");
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(this->row(member).available, 10);
  EXPECT_EQ(counter_value(this->store().counters({{member, "earned"}}), {member, "earned"}), 10);
  // The refused key was not kept: the next day it is a new command.
  const CommandResult next_day = execute_prepared(
      this->store(), capped_earn_command("e2", member, kStart + 25 * kHour), preparer);
  EXPECT_TRUE(next_day.ok());
  EXPECT_FALSE(next_day.replayed);
}

TYPED_TEST(StoreContractTest, CountersOfACommandTheLedgerRefusesAreNotWritten) {
  auto preparer = std::make_shared<CappedEarn>(10, 100);
  const CommandResult refused =
      execute_prepared(this->store(), capped_earn_command("e1", 4242, kStart), preparer);
  EXPECT_EQ(refused.rejection, Rejection::unknown_member);
  EXPECT_EQ(counter_value(this->store().counters({{0, "program"}}), {0, "program"}), 0);
  EXPECT_TRUE(this->store().events(0, kTimeNever, 0, 10).empty());
}

TYPED_TEST(StoreContractTest, FollowUpsCommitWithTheirCommand) {
  const MemberId friend_id = this->open_member("friend");
  const MemberId referrer = this->open_member("referrer");
  auto preparer = std::make_shared<CappedEarn>(10, 100, referrer);
  ASSERT_TRUE(
      execute_prepared(this->store(), capped_earn_command("e1", friend_id, kStart), preparer).ok());
  EXPECT_EQ(this->row(referrer).available, 5);
  EXPECT_EQ(this->full_history(referrer).front().reason, "contract test");
  this->expect_clean_audit();
}

// Caps hold when many events of one member race: each sees the counters of those before it.
TYPED_TEST(StoreContractTest, CapHoldsUnderConcurrentSubmissions) {
  const MemberId member = this->open_member("alice");
  std::vector<std::thread> threads;
  std::atomic<Points> awarded{0};
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        // One day per command so that the once-a-day refusal stays out of the way.
        const TimeUs at = kStart + (t * 10 + i) * kMicrosPerDay;
        const CommandResult r = execute_prepared(
            this->store(),
            capped_earn_command("t" + std::to_string(t) + "-" + std::to_string(i), member, at),
            std::make_shared<CappedEarn>(7, 300));
        if (r.ok()) awarded += r.outcome.points;
      }
    });
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(awarded.load(), 300);
  EXPECT_EQ(this->row(member).available + this->row(member).pending, 300);
  EXPECT_EQ(counter_value(this->store().counters({{member, "earned"}}), {member, "earned"}), 300);
}

TYPED_TEST(StoreContractTest, EventsAreReadBackInOrderWithWhatTheyEarned) {
  const MemberId member = this->open_member("alice");
  auto preparer = std::make_shared<CappedEarn>(40, 100);
  for (int day = 0; day < 4; ++day)
    ASSERT_TRUE(execute_prepared(this->store(),
                                 capped_earn_command("e" + std::to_string(day), member,
                                                     kStart + day * kMicrosPerDay),
                                 preparer)
                    .ok());
  const auto all = this->store().events(0, kTimeNever, 0, 100);
  ASSERT_EQ(all.size(), 4U);
  EXPECT_EQ(all[0].points, 40);
  EXPECT_EQ(all[2].points, 20);
  EXPECT_EQ(all[3].points, 0);
  EXPECT_EQ(all[2].earning_record, R"({"points":20})");
  EXPECT_EQ(all[1].payload, R"({"order_id":"e1"})");
  EXPECT_EQ(all[1].occurred_at_us, kStart + kMicrosPerDay);
  const auto window =
      this->store().events(kStart + kMicrosPerDay, kStart + 3 * kMicrosPerDay, 0, 100);
  ASSERT_EQ(window.size(), 2U);
  EXPECT_EQ(window[0].payload, R"({"order_id":"e1"})");
  const auto page = this->store().events(0, kTimeNever, all[1].transaction_id, 1);
  ASSERT_EQ(page.size(), 1U);
  EXPECT_EQ(page[0].transaction_id, all[2].transaction_id);
}

// ---- SQLite only: a file that outlives the process ------------------------------------------

class SqliteStoreTest : public StoreTestBase {
 protected:
  void SetUp() override { reopen(); }
  std::filesystem::path file() const { return dir_.path() / "ledger.db"; }
  void reopen() {
    store_.reset();
    store_ = open_sqlite(file(), test_policy());
    ASSERT_NE(store_, nullptr);
  }
  SqliteLedgerStore& sqlite() { return static_cast<SqliteLedgerStore&>(*store_); }

  // A small workload over two members; returns what a reader sees afterwards.
  struct Snapshot {
    std::vector<std::optional<ledger::AccountRow>> accounts;
    std::vector<std::vector<ledger::Lot>> lots;
    std::vector<std::vector<ledger::Transaction>> history;
    ProgramSummary summary;
  };
  Snapshot snapshot(const std::vector<MemberId>& members) {
    Snapshot s;
    for (MemberId member : members) {
      s.accounts.push_back(store_->account(member));
      s.lots.push_back(store_->lots(member));
      s.history.push_back(full_history(member));
    }
    s.summary = store_->summary();
    return s;
  }
  static void expect_equal(const Snapshot& a, const Snapshot& b) {
    EXPECT_EQ(a.accounts, b.accounts);
    EXPECT_EQ(a.lots, b.lots);
    EXPECT_EQ(a.history, b.history);
    EXPECT_EQ(a.summary.transactions, b.summary.transactions);
    EXPECT_EQ(a.summary.issued, b.summary.issued);
    EXPECT_EQ(a.summary.available, b.summary.available);
    EXPECT_EQ(a.summary.spent, b.summary.spent);
  }
};

TEST_F(SqliteStoreTest, ReopenedStoreKeepsEverything) {
  const MemberId alice = open_member("alice");
  const MemberId bob = open_member("bob");
  const ledger::Outcome earned = accept("earn-1", alice, kStart + 1, order_earn(500, "o-1", 900));
  accept("spend-1", alice, kStart + 2, ledger::Spend{120, ""});
  accept("hold-1", alice, kStart + 3, ledger::PlaceHold{"r1", 80, kStart + kHour});
  accept("earn-2", bob, kStart + 4, earn(70));
  accept("refund-1", alice, kStart + 5, ledger::Refund{"o-1", 300});
  const Snapshot before = snapshot({alice, bob});

  reopen();
  expect_equal(snapshot({alice, bob}), before);
  EXPECT_EQ(store().member_by_external_id("bob"), bob);
  const CommandResult replay = run("earn-1", alice, kStart + 9, order_earn(500, "o-1", 900));
  EXPECT_TRUE(replay.replayed);
  EXPECT_EQ(replay.outcome, earned);
  EXPECT_THAT(store().expired_holds(kStart + kHour, 10),
              ElementsAre(std::pair<MemberId, std::string>{alice, "r1"}));
  // New ids continue after the stored ones.
  const ledger::Outcome next = accept("earn-3", bob, kStart + 10, earn(1));
  EXPECT_GT(next.transaction_id, before.history[0].front().id);
  EXPECT_GT(store().lots(bob).back().id, before.lots[1].back().id);
  EXPECT_GT(open_member("carol"), bob);
  expect_clean_audit();
}

TEST_F(SqliteStoreTest, ExistingDatabaseKeepsItsPolicy) {
  store_.reset();
  ledger::Policy other;
  other.expiry = ledger::ExpiryPolicy{ledger::ExpiryPolicy::Kind::end_of_month, 3};
  other.shortfall = ledger::ShortfallPolicy::absorb;
  store_ = open_sqlite(file(), other);
  ASSERT_NE(store_, nullptr);
  EXPECT_EQ(store().policy().expiry.kind, ledger::ExpiryPolicy::Kind::days_after_earning);
  EXPECT_EQ(store().policy().expiry.count, 365);
  EXPECT_EQ(store().policy().shortfall, ledger::ShortfallPolicy::other_lots_then_debt);
}

// crash_for_test() stops as a crash right after the last committed batch would: whatever was
// acknowledged is there after reopening, and whatever was not acknowledged was not applied.
TEST_F(SqliteStoreTest, CrashKeepsEveryAcknowledgedCommand) {
  const MemberId member = open_member("alice");
  constexpr int kCount = 3000;
  std::mutex mutex;
  std::vector<std::optional<CommandResult>> results(kCount);
  for (int i = 0; i < kCount; ++i) {
    store().submit(make("earn-" + std::to_string(i), member, kStart + i + 1, earn(1)),
                   [&, i](const CommandResult& r) {
                     std::lock_guard lock(mutex);
                     results[static_cast<std::size_t>(i)] = r;
                   });
  }
  sqlite().crash_for_test();
  std::vector<std::optional<CommandResult>> acknowledged;
  {
    std::lock_guard lock(mutex);
    acknowledged = results;
  }
  reopen();

  int count = 0;
  for (int i = 0; i < kCount; ++i) {
    const auto& result = acknowledged[static_cast<std::size_t>(i)];
    if (!result) continue;
    ++count;
    ASSERT_TRUE(result->ok()) << i;
    // Commits are in order, so what was acknowledged is a prefix.
    ASSERT_TRUE(i == 0 || acknowledged[static_cast<std::size_t>(i - 1)]) << i;
    EXPECT_EQ(result->outcome.available_after, i + 1);
  }
  EXPECT_EQ(row(member).available, count);
  EXPECT_EQ(store().summary().transactions, 1 + count);
  // Acknowledged keys replay; the others run now, for the first time.
  std::vector<CommandResult> retries(kCount);
  for (int i = 0; i < kCount; ++i) {
    store().submit(
        make("earn-" + std::to_string(i), member, kStart + i + 1, earn(1)),
        [&retries, i](const CommandResult& r) { retries[static_cast<std::size_t>(i)] = r; });
  }
  store().flush();
  for (int i = 0; i < kCount; ++i) {
    const CommandResult& again = retries[static_cast<std::size_t>(i)];
    ASSERT_TRUE(again.ok()) << i;
    const auto& first = acknowledged[static_cast<std::size_t>(i)];
    EXPECT_EQ(again.replayed, first.has_value()) << i;
    if (first) {
      EXPECT_EQ(again.outcome, first->outcome) << i;
    } else {
      EXPECT_EQ(again.outcome.available_after, i + 1) << i;
    }
  }
  EXPECT_EQ(row(member).available, kCount);
  expect_clean_audit();
}

// Contract 2: a storage failure reports storage_error for every command of the failed batch (or,
// when SQLite can undo one command alone, for that command), and none of their effects remain.
// The failure is injected with a trigger that fires on lots of source "fail".
TEST_F(SqliteStoreTest, StorageFailureLeavesNoEffects) {
  for (const char* raise : {"ROLLBACK", "ABORT"}) {
    SCOPED_TRACE(raise);
    reopen();
    const MemberId member = open_member(std::string("member-") + raise);
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(file().c_str(), &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 10'000);
    auto exec = [db](const std::string& sql) {
      char* error = nullptr;
      EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
          << (error ? error : "");
      sqlite3_free(error);
    };
    exec(std::string("CREATE TRIGGER inject_failure BEFORE INSERT ON lots WHEN NEW.source = "
                     "'fail' BEGIN SELECT RAISE(") +
         raise + ", 'injected failure'); END");

    constexpr int kCount = 41;
    constexpr int kFailing = 20;
    std::vector<ledger::Command> commands;
    for (int i = 0; i < kCount; ++i) {
      ledger::Earn body = earn(1 + i);
      if (i == kFailing) body.source = "fail";
      commands.push_back(
          make(std::string(raise) + "-earn-" + std::to_string(i), member, kStart + i + 1, body));
    }
    std::vector<CommandResult> results(kCount);
    for (int i = 0; i < kCount; ++i)
      store().submit(commands[static_cast<std::size_t>(i)], [&results, i](const CommandResult& r) {
        results[static_cast<std::size_t>(i)] = r;
      });
    store().flush();

    ASSERT_FALSE(results[kFailing].storage_error.empty());
    EXPECT_THAT(results[kFailing].storage_error, HasSubstr("injected failure"));
    Points accepted = 0;
    int first_failed = kCount, last_failed = -1;
    for (int i = 0; i < kCount; ++i) {
      const CommandResult& r = results[static_cast<std::size_t>(i)];
      EXPECT_FALSE(r.rejection) << i;
      if (r.storage_error.empty()) {
        accepted += 1 + i;
        continue;
      }
      first_failed = std::min(first_failed, i);
      last_failed = std::max(last_failed, i);
    }
    for (int i = first_failed; i <= last_failed; ++i)  // one batch: a contiguous run
      EXPECT_FALSE(results[static_cast<std::size_t>(i)].storage_error.empty()) << i;
    EXPECT_EQ(row(member).available, accepted);
    expect_clean_audit();

    // Without the fault, every failed command runs for the first time; the others replay.
    exec("DROP TRIGGER inject_failure");
    sqlite3_close(db);
    for (int i = 0; i < kCount; ++i) {
      const CommandResult again = store().execute(commands[static_cast<std::size_t>(i)]);
      ASSERT_TRUE(again.ok()) << i << ": " << again.storage_error;
      EXPECT_EQ(again.replayed, results[static_cast<std::size_t>(i)].ok()) << i;
    }
    EXPECT_EQ(row(member).available, kCount * (kCount + 1) / 2);
    expect_clean_audit();
  }
}

TEST_F(SqliteStoreTest, CorruptFileIsRefusedWithAMessage) {
  store_.reset();
  const std::filesystem::path garbage = dir_.path() / "garbage.db";
  {
    std::ofstream out(garbage, std::ios::binary);
    for (int i = 0; i < 16384; ++i) out.put(static_cast<char>((i * 7919 + 13) % 251));
  }
  SqliteOptions options;
  options.path = garbage.string();
  std::string error;
  EXPECT_EQ(open_sqlite_store(options, error), nullptr);
  EXPECT_THAT(error, HasSubstr("not a database"));
  EXPECT_THAT(error, HasSubstr(garbage.string()));
}

TEST_F(SqliteStoreTest, MissingFileIsRefusedWithoutCreateIfMissing) {
  store_.reset();
  const std::filesystem::path missing = dir_.path() / "missing.db";
  SqliteOptions options;
  options.path = missing.string();
  options.create_if_missing = false;
  std::string error;
  EXPECT_EQ(open_sqlite_store(options, error), nullptr);
  EXPECT_FALSE(error.empty());
  EXPECT_THAT(error, HasSubstr(missing.string()));
  EXPECT_FALSE(std::filesystem::exists(missing));
}

}  // namespace
}  // namespace pointsmall::store
