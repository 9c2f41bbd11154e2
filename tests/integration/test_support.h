// Shared helpers of the system tests in tests/integration: temporary directories, opening a
// SQLite ledger, building commands, and reading the database file directly (read-only, through
// the SQLite C API) so that a test checks what is on disk rather than what the store says.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "core/time_zone.h"
#include "ledger/ledger.h"
#include "store/sqlite/sqlite_store.h"

namespace pointsmall::testing {

// A fresh directory under the system's temporary directory, unique per process, test and
// instance; removed with everything in it when the object goes away.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name =
        "pointsmall_it_" + std::to_string(::getpid()) + "_" + std::to_string(counter.fetch_add(1));
    if (info != nullptr) name += std::string("_") + info->test_suite_name() + "_" + info->name();
    for (char& c : name)
      if (c == '/') c = '_';  // parameterised test names
    path_ = std::filesystem::temp_directory_path() / name;
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  [[nodiscard]] std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// 2011-06-01T00:00:00Z: the ledger's time in tests that do not care about time.
inline constexpr TimeUs kTestTimeUs = 1'306'886'400LL * kMicrosPerSecond;

// Opens (creating if missing) a durable SQLite ledger; fails the current test when it cannot.
inline std::unique_ptr<store::SqliteLedgerStore> open_store(const std::string& path,
                                                            std::size_t max_batch = 8192) {
  store::SqliteOptions options;
  options.path = path;
  options.max_batch = max_batch;
  options.readers = 4;
  options.cache_mib = 16;
  options.policy_if_new.expiry = ledger::ExpiryPolicy{ledger::ExpiryPolicy::Kind::never, 0};
  std::string error;
  auto store = store::open_sqlite_store(options, error);
  EXPECT_NE(store, nullptr) << "cannot open " << path << ": " << error;
  return store;
}

inline ledger::Command open_account_command(const std::string& external_id) {
  return ledger::Command{"open:" + external_id,           0, kTestTimeUs, "test", "test member",
                         ledger::OpenAccount{external_id}};
}

inline ledger::Command earn_command(std::string key, MemberId member, Points points) {
  ledger::Earn earn;
  earn.points = points;
  earn.source = "test";
  return ledger::Command{std::move(key), member, kTestTimeUs, "test", "test earn", earn};
}

inline ledger::Command spend_command(std::string key, MemberId member, Points points) {
  return ledger::Command{std::move(key), member,       kTestTimeUs,
                         "test",         "test spend", ledger::Spend{points, ""}};
}

inline ledger::Command hold_command(std::string key, MemberId member, std::string hold_ref,
                                    Points points) {
  return ledger::Command{
      std::move(key), member,      kTestTimeUs,
      "test",         "test hold", ledger::PlaceHold{std::move(hold_ref), points, kTimeNever}};
}

inline ledger::Command capture_command(std::string key, MemberId member, std::string hold_ref) {
  return ledger::Command{std::move(key), member,         kTestTimeUs,
                         "test",         "test capture", ledger::CaptureHold{std::move(hold_ref)}};
}

inline ledger::Command release_command(std::string key, MemberId member, std::string hold_ref) {
  return ledger::Command{std::move(key), member,         kTestTimeUs,
                         "test",         "test release", ledger::ReleaseHold{std::move(hold_ref)}};
}

// Opens an account and gives it `points` (as an earn keyed "start:<external id>"); returns its id.
inline MemberId open_member_with(store::LedgerStore& store, const std::string& external_id,
                                 Points points) {
  const store::CommandResult opened = store.execute(open_account_command(external_id));
  EXPECT_TRUE(opened.ok()) << external_id << ": " << opened.storage_error;
  const MemberId member = opened.outcome.member_id;
  if (points > 0) {
    const store::CommandResult earned =
        store.execute(earn_command("start:" + external_id, member, points));
    EXPECT_TRUE(earned.ok()) << external_id << ": " << earned.storage_error;
  }
  return member;
}

// The audit's findings as one text, for failure messages.
inline std::string describe(const ledger::Audit& audit) {
  std::string text = std::to_string(audit.finding_count()) + " findings";
  for (const std::string& finding : audit.findings()) text += "\n  " + finding;
  return text;
}

inline std::string describe(const store::CommandResult& result) {
  if (!result.storage_error.empty()) return "storage error: " + result.storage_error;
  if (result.rejection) return std::string(ledger::rejection_name(*result.rejection));
  return result.replayed ? "ok (replayed)" : "ok";
}

// A read-only connection to a ledger file, independent of the store under test.
class RawDatabase {
 public:
  explicit RawDatabase(const std::string& path, bool read_only = true) {
    const int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
    if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << "cannot open " << path << ": " << sqlite3_errmsg(db_);
      sqlite3_close(db_);
      db_ = nullptr;
    }
  }
  RawDatabase(const RawDatabase&) = delete;
  RawDatabase& operator=(const RawDatabase&) = delete;
  ~RawDatabase() { sqlite3_close(db_); }

  // Runs statements without results; fails the test on an error.
  void exec(const std::string& sql) {
    char* message = nullptr;
    if (db_ == nullptr) return;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK)
      ADD_FAILURE() << sql << ": " << (message != nullptr ? message : "?");
    sqlite3_free(message);
  }
  // The number of rows a statement changed last.
  [[nodiscard]] int changes() const { return db_ == nullptr ? 0 : sqlite3_changes(db_); }

  // The first column of the first row of a query as an integer (`fallback` when no row).
  std::int64_t query_int(const std::string& sql, std::int64_t fallback = 0) {
    std::int64_t value = fallback;
    for_each_row(sql, [&](sqlite3_stmt* row) { value = sqlite3_column_int64(row, 0); });
    return value;
  }

  // Calls `fn` with each row of a query.
  template <typename Fn>
  void for_each_row(const std::string& sql, Fn&& fn) {
    if (db_ == nullptr) return;
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db_);
      return;
    }
    int rc = SQLITE_ROW;
    while ((rc = sqlite3_step(statement)) == SQLITE_ROW) fn(statement);
    if (rc != SQLITE_DONE) ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db_);
    sqlite3_finalize(statement);
  }

  // Idempotency key -> (number of transactions with that key, id of the last of them).
  struct KeyUse {
    std::int64_t count = 0;
    TransactionId transaction_id = 0;
    std::string kind;
  };
  std::map<std::string, KeyUse> keys() {
    std::map<std::string, KeyUse> out;
    for_each_row(
        "SELECT idempotency_key, id, kind FROM transactions WHERE idempotency_key IS NOT NULL",
        [&](sqlite3_stmt* row) {
          const auto* key = reinterpret_cast<const char*>(sqlite3_column_text(row, 0));
          KeyUse& use = out[key != nullptr ? key : ""];
          ++use.count;
          use.transaction_id = sqlite3_column_int64(row, 1);
          const auto* kind = reinterpret_cast<const char*>(sqlite3_column_text(row, 2));
          use.kind = kind != nullptr ? kind : "";
        });
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace pointsmall::testing
