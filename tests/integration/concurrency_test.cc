// Many threads against the same few accounts through the SQLite store's single writer.
//
// The story (issue: "32 threads spending from and earning into the same accounts through the
// writer; balances never negative, every acknowledged operation present exactly once after
// reopening"): whatever the interleaving, the writer applies one command at a time against the
// member's current state, so no two spends ever see the same balance, an acknowledged operation
// is on disk exactly once, and a refused one leaves nothing, not even its key.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <latch>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "test_support.h"

namespace pointsmall::testing {
namespace {

using ledger::Rejection;
using store::CommandResult;

enum class Op { earn, spend, hold, capture, release };

// What one caller saw of one command.
struct Ack {
  std::string key;
  MemberId member = 0;
  Op op = Op::earn;
  Points points = 0;  // as requested (hold, capture and release: the hold's points)
  CommandResult result;
};

constexpr int kThreads = 32;
constexpr int kOpsPerThread = 60;
constexpr int kMembers = 3;
constexpr Points kStartingPoints = 500;

// The ledger's answers as callers collect them: from their own thread (execute) or from the
// writer thread (submit callbacks).
class Acks {
 public:
  void add(Ack ack) {
    std::lock_guard lock(mutex_);
    acks_.push_back(std::move(ack));
  }
  std::vector<Ack> take() {
    std::lock_guard lock(mutex_);
    return std::move(acks_);
  }

 private:
  std::mutex mutex_;
  std::vector<Ack> acks_;
};

// One caller: random earns, spends and holds (each hold then captured or released) with keys of
// its own, against the shared members. Even callers wait for each answer (execute); odd ones
// pipeline earns and spends (submit) and wait only for holds. Now and then a caller retries its
// previous command, which must replay the same outcome and change nothing.
void run_caller(store::LedgerStore& store, const std::vector<MemberId>& members, int caller,
                std::uint64_t seed, Acks& acks, std::atomic<int>& bad_replays) {
  std::mt19937_64 random(seed * 1000 + static_cast<std::uint64_t>(caller));
  auto pick = [&](std::int64_t low, std::int64_t high) {
    return std::uniform_int_distribution<std::int64_t>(low, high)(random);
  };
  const bool pipelined = caller % 2 == 1;
  std::optional<std::pair<ledger::Command, CommandResult>> previous;  // for a retry
  for (int i = 0; i < kOpsPerThread; ++i) {
    const std::string key = "c" + std::to_string(caller) + ":" + std::to_string(i);
    const MemberId member = members[static_cast<std::size_t>(pick(0, kMembers - 1))];
    const std::int64_t dice = pick(0, 99);
    if (dice < 5 && previous) {
      const CommandResult again = store.execute(previous->first);
      const bool same = again.ok() && again.replayed &&
                        again.outcome.transaction_id == previous->second.outcome.transaction_id &&
                        again.outcome.points == previous->second.outcome.points;
      if (!same) bad_replays.fetch_add(1);
      continue;
    }
    if (dice < 80) {
      const bool earning = dice < 40;
      const Points points = earning ? pick(1, 40) : pick(1, 120);
      ledger::Command command =
          earning ? earn_command(key, member, points) : spend_command(key, member, points);
      Ack ack{key, member, earning ? Op::earn : Op::spend, points, {}};
      if (pipelined) {
        store.submit(std::move(command), [&acks, ack](const CommandResult& r) mutable {
          ack.result = r;
          acks.add(std::move(ack));
        });
        continue;
      }
      ack.result = store.execute(command);
      if (ack.result.ok()) previous.emplace(command, ack.result);
      acks.add(std::move(ack));
      continue;
    }
    const std::string hold_ref = "hold-" + key;
    const Points points = pick(1, 80);
    Ack hold{key, member, Op::hold, points,
             store.execute(hold_command(key, member, hold_ref, points))};
    const bool held = hold.result.ok();
    acks.add(std::move(hold));
    if (!held) continue;
    const bool capture = pick(0, 1) == 0;
    const std::string second_key = key + (capture ? ":capture" : ":release");
    ledger::Command second = capture ? capture_command(second_key, member, hold_ref)
                                     : release_command(second_key, member, hold_ref);
    acks.add(Ack{second_key, member, capture ? Op::capture : Op::release, points,
                 store.execute(second)});
  }
  store.flush();
}

// Reads balances and program figures until told to stop; every snapshot must be consistent.
struct ReaderReport {
  std::int64_t reads = 0;
  std::vector<std::string> problems;
};

void run_reader(store::LedgerStore& store, const std::vector<MemberId>& members,
                const std::atomic<bool>& stop, ReaderReport& report) {
  std::int64_t transactions_seen = 0;
  do {
    for (MemberId member : members) {
      const auto row = store.account(member);
      ++report.reads;
      if (!row) {
        report.problems.push_back("member " + std::to_string(member) + " vanished");
      } else if (row->available < 0 || row->held < 0 || row->debt != 0) {
        report.problems.push_back("member " + std::to_string(member) + ": available " +
                                  std::to_string(row->available) + ", held " +
                                  std::to_string(row->held));
      }
    }
    const store::ProgramSummary s = store.summary();
    const Points accounted = s.available + s.pending + s.frozen + s.held + s.spent + s.expired +
                             s.clawed_back + s.revoked - s.debt;
    if (s.issued != accounted)
      report.problems.push_back("issued " + std::to_string(s.issued) + " but accounted " +
                                std::to_string(accounted));
    if (s.transactions < transactions_seen)
      report.problems.push_back("the journal shrank from " + std::to_string(transactions_seen) +
                                " to " + std::to_string(s.transactions));
    transactions_seen = s.transactions;
  } while (!stop.load() && report.problems.size() < 10);
}

// Every transaction of a member, newest first, page by page.
std::vector<ledger::Transaction> full_history(store::LedgerStore& store, MemberId member) {
  std::vector<ledger::Transaction> all;
  TransactionId before = 0;
  for (;;) {
    auto page = store.history(member, before, 100);
    if (page.empty()) return all;
    before = page.back().id;
    all.insert(all.end(), page.begin(), page.end());
  }
}

struct Expected {
  Points available = 0;
  Points held = 0;
};

TEST(Concurrency, ThirtyTwoCallersOnTheSameAccountsKeepEveryAcknowledgedOperationExactlyOnce) {
  TempDir dir;
  const std::string path = dir.file("ledger.db");
  constexpr std::uint64_t kSeed = 20260101;
  std::vector<MemberId> members;
  std::vector<Ack> acks;
  std::vector<ReaderReport> reports(2);
  int bad_replays = 0;
  {
    auto store = open_store(path, 64);
    ASSERT_NE(store, nullptr);
    for (int m = 0; m < kMembers; ++m)
      members.push_back(open_member_with(*store, "shared-" + std::to_string(m), kStartingPoints));
    Acks collected;
    std::atomic<int> replay_failures{0};
    std::atomic<bool> stop_readers{false};
    std::vector<std::thread> readers;
    readers.reserve(reports.size());
    for (ReaderReport& report : reports)
      readers.emplace_back(run_reader, std::ref(*store), std::cref(members),
                           std::cref(stop_readers), std::ref(report));
    std::vector<std::thread> callers;
    callers.reserve(kThreads);
    for (int c = 0; c < kThreads; ++c)
      callers.emplace_back(run_caller, std::ref(*store), std::cref(members), c, kSeed,
                           std::ref(collected), std::ref(replay_failures));
    for (std::thread& t : callers) t.join();
    stop_readers.store(true);
    for (std::thread& t : readers) t.join();
    acks = collected.take();
    bad_replays = replay_failures.load();
  }  // closed: everything settled and durable

  EXPECT_EQ(bad_replays, 0) << "a retried key did not replay its first outcome";
  for (const ReaderReport& report : reports) {
    EXPECT_GT(report.reads, 0);
    for (const std::string& problem : report.problems) ADD_FAILURE() << "reader saw: " << problem;
  }

  // The model: what the acknowledged operations must have done to each member.
  std::map<MemberId, Expected> expected;
  for (MemberId member : members) expected[member].available = kStartingPoints;
  std::int64_t accepted = 0, refused = 0;
  for (const Ack& ack : acks) {
    EXPECT_TRUE(ack.result.storage_error.empty()) << ack.key << ": " << ack.result.storage_error;
    EXPECT_FALSE(ack.result.replayed) << ack.key << " is unique yet was replayed";
    if (ack.op == Op::capture || ack.op == Op::release) {
      EXPECT_TRUE(ack.result.ok()) << ack.key << ": " << describe(ack.result);
    }
    if (!ack.result.ok()) {
      ++refused;
      EXPECT_EQ(ack.result.rejection, Rejection::insufficient_points) << ack.key;
      continue;
    }
    ++accepted;
    Expected& e = expected[ack.member];
    switch (ack.op) {
      case Op::earn:
        e.available += ack.points;
        break;
      case Op::spend:
        e.available -= ack.points;
        break;
      case Op::hold:
        e.available -= ack.points, e.held += ack.points;
        break;
      case Op::capture:
        e.held -= ack.points;
        break;
      case Op::release:
        e.available += ack.points, e.held -= ack.points;
        break;
    }
    EXPECT_EQ(ack.result.outcome.member_id, ack.member) << ack.key;
  }
  EXPECT_EQ(acks.size(), static_cast<std::size_t>(accepted + refused));
  EXPECT_GT(accepted, kThreads * kOpsPerThread / 2) << "the test should mostly succeed";
  EXPECT_GT(refused, 0) << "the test should provoke refused spends";

  // On disk, read without the store: each acknowledged key once, with the transaction id the
  // caller was told; no refused key at all.
  {
    RawDatabase raw(path);
    const auto keys = raw.keys();
    for (const Ack& ack : acks) {
      const auto found = keys.find(ack.key);
      if (!ack.result.ok()) {
        EXPECT_TRUE(found == keys.end()) << "refused " << ack.key << " left a transaction";
        continue;
      }
      ASSERT_TRUE(found != keys.end()) << "acknowledged " << ack.key << " is missing";
      EXPECT_EQ(found->second.count, 1) << ack.key;
      EXPECT_EQ(found->second.transaction_id, ack.result.outcome.transaction_id) << ack.key;
    }
    // Nothing on disk that nobody asked for: the members' own keys plus the accepted ones.
    EXPECT_EQ(keys.size(), static_cast<std::size_t>(accepted) + std::size_t{2} * kMembers);
  }

  // Reopened: balances are the model's, nothing negative, the audit is clean, and each member's
  // history names each of its acknowledged keys exactly once.
  auto store = open_store(path);
  ASSERT_NE(store, nullptr);
  const ledger::Audit audit = store->audit();
  EXPECT_TRUE(audit.clean()) << describe(audit);
  for (MemberId member : members) {
    const auto row = store->account(member);
    ASSERT_TRUE(row.has_value());
    EXPECT_EQ(row->available, expected[member].available) << "member " << member;
    EXPECT_EQ(row->held, expected[member].held) << "member " << member;
    EXPECT_EQ(row->held, 0) << "every hold was captured or released";
    EXPECT_GE(row->available, 0);
    EXPECT_EQ(row->debt, 0);
    std::map<std::string, int> seen;
    for (const ledger::Transaction& tx : full_history(*store, member)) ++seen[tx.idempotency_key];
    for (const Ack& ack : acks) {
      if (ack.member == member && ack.result.ok()) {
        EXPECT_EQ(seen[ack.key], 1) << ack.key << " in the history of member " << member;
      }
    }
  }
}

// The classic race: twenty callers each try to spend all 100 points of the same account at once.
// Exactly one may succeed; the others see the spent balance and are refused.
TEST(Concurrency, TwentySimultaneousSpendsOfTheWholeBalanceLetExactlyOneThrough) {
  TempDir dir;
  const std::string path = dir.file("ledger.db");
  constexpr int kRounds = 5;
  constexpr int kSpenders = 20;
  std::vector<MemberId> members;
  std::vector<std::vector<CommandResult>> results(kRounds, std::vector<CommandResult>(kSpenders));
  {
    auto store = open_store(path);
    ASSERT_NE(store, nullptr);
    for (int round = 0; round < kRounds; ++round) {
      const MemberId member = open_member_with(*store, "race-" + std::to_string(round), 100);
      members.push_back(member);
      std::latch start(kSpenders);
      std::vector<std::thread> spenders;
      spenders.reserve(kSpenders);
      for (int i = 0; i < kSpenders; ++i) {
        spenders.emplace_back([&, i] {
          ledger::Command spend =
              spend_command("race:" + std::to_string(round) + ":" + std::to_string(i), member, 100);
          start.arrive_and_wait();  // all twenty go at once
          results[round][i] = store->execute(std::move(spend));
        });
      }
      for (std::thread& t : spenders) t.join();
    }
  }
  RawDatabase raw(path);
  const auto keys = raw.keys();
  for (int round = 0; round < kRounds; ++round) {
    int winners = 0;
    for (int i = 0; i < kSpenders; ++i) {
      const CommandResult& r = results[round][i];
      const std::string key = "race:" + std::to_string(round) + ":" + std::to_string(i);
      if (r.ok()) {
        ++winners;
        EXPECT_EQ(r.outcome.points, -100);
        EXPECT_EQ(r.outcome.available_after, 0);
        EXPECT_EQ(keys.count(key), 1u) << key;
      } else {
        EXPECT_EQ(r.rejection, Rejection::insufficient_points) << key << ": " << describe(r);
        EXPECT_EQ(keys.count(key), 0u) << "refused " << key << " left a transaction";
      }
    }
    EXPECT_EQ(winners, 1) << "round " << round;
  }
  auto store = open_store(path);
  ASSERT_NE(store, nullptr);
  for (MemberId member : members) EXPECT_EQ(store->account(member)->available, 0);
  const ledger::Audit audit = store->audit();
  EXPECT_TRUE(audit.clean()) << describe(audit);
  EXPECT_EQ(store->summary().spent, 100 * kRounds);
}

// Thirty-two callers send the same idempotency key at once: one effect. Those whose request
// matches the winner's get its outcome replayed; the others get idempotency_conflict.
TEST(Concurrency, TheSameKeyFromManyCallersAtOnceTakesEffectOnce) {
  TempDir dir;
  const std::string path = dir.file("ledger.db");
  std::vector<CommandResult> results(kThreads);
  MemberId member = 0;
  {
    auto store = open_store(path);
    ASSERT_NE(store, nullptr);
    member = open_member_with(*store, "same-key", 0);
    std::latch start(kThreads);
    std::vector<std::thread> callers;
    callers.reserve(kThreads);
    for (int i = 0; i < kThreads; ++i) {
      callers.emplace_back([&, i] {
        // Two different requests under one key: 10 or 11 points.
        ledger::Command earn = earn_command("the-one-key", member, 10 + i % 2);
        start.arrive_and_wait();
        results[static_cast<std::size_t>(i)] = store->execute(std::move(earn));
      });
    }
    for (std::thread& t : callers) t.join();
  }
  int first = 0, replayed = 0, conflicts = 0;
  Points winner_points = 0;
  TransactionId winner_tx = 0;
  for (const CommandResult& r : results) {
    if (r.ok() && !r.replayed) {
      ++first;
      winner_points = r.outcome.points;
      winner_tx = r.outcome.transaction_id;
    }
  }
  ASSERT_EQ(first, 1) << "exactly one caller's command takes effect";
  for (int i = 0; i < kThreads; ++i) {
    const CommandResult& r = results[static_cast<std::size_t>(i)];
    if (r.ok() && !r.replayed) continue;
    if (10 + i % 2 == winner_points) {
      ++replayed;
      EXPECT_TRUE(r.ok() && r.replayed) << "caller " << i << ": " << describe(r);
      EXPECT_EQ(r.outcome.transaction_id, winner_tx);
      EXPECT_EQ(r.outcome.points, winner_points);
    } else {
      ++conflicts;
      EXPECT_EQ(r.rejection, Rejection::idempotency_conflict) << "caller " << i;
    }
  }
  EXPECT_EQ(replayed, kThreads / 2 - 1);
  EXPECT_EQ(conflicts, kThreads / 2);
  auto store = open_store(path);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->account(member)->available, winner_points);
  EXPECT_TRUE(store->audit().clean());
  RawDatabase raw(path);
  EXPECT_EQ(
      raw.query_int("SELECT count(*) FROM transactions WHERE idempotency_key = 'the-one-key'"), 1);
}

}  // namespace
}  // namespace pointsmall::testing
