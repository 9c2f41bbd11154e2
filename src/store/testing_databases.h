// For tests of what lives beside the ledger (earning documents, the member directory,
// credentials) on every engine: a new database, migrated by opening the ledger store on it as
// the server does, and where more connections to it ("nodes") are opened.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "core/temp_dir.h"
#include "store/earning_documents.h"
#include "store/member_directory.h"
#include "store/postgresql/pg_earning_documents.h"
#include "store/postgresql/pg_member_directory.h"
#include "store/postgresql/pg_store.h"
#include "store/postgresql/testing.h"
#include "store/sqlite/sqlite_earning_documents.h"
#include "store/sqlite/sqlite_member_directory.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store.h"

namespace pointsmall::store {

enum class TestEngine : std::uint8_t { sqlite, postgres };

// For INSTANTIATE_TEST_SUITE_P: "Sqlite" or "Postgres", the suffix of each test's name.
inline std::string test_engine_name(const ::testing::TestParamInfo<TestEngine>& info) {
  return info.param == TestEngine::sqlite ? "Sqlite" : "Postgres";
}

// A thread running fn; an exception it throws fails the test instead of ending the program.
template <typename Fn>
std::thread test_thread(Fn fn) {
  return std::thread([fn = std::move(fn)]() mutable {
    try {
      fn();
    } catch (const std::exception& error) {
      ADD_FAILURE() << "a test thread threw: " << error.what();
    }
  });
}

class TestDatabase {
 public:
  // A new database: a file in a temporary directory, or a fresh schema on the test server
  // (store/postgresql/testing.h). On failure the test fails and ledger() is null.
  explicit TestDatabase(TestEngine engine) : engine_(engine) {
    std::string error;
    if (engine == TestEngine::sqlite) {
      location_ = dir_.file("pointsmall.db");
      SqliteOptions options;
      options.path = location_;
      options.readers = 1;
      options.cache_mib = 4;
      ledger_ = open_sqlite_store(options, error);
    } else {
      location_ = pg::fresh_test_schema_url();
      if (location_.empty()) return;
      PostgresOptions options;
      options.url = location_;
      options.readers = 1;
      ledger_ = open_postgres_store(options, error);
    }
    if (!ledger_) ADD_FAILURE() << "cannot open the ledger store: " << error;
  }

  [[nodiscard]] TestEngine engine() const { return engine_; }
  [[nodiscard]] LedgerStore* ledger() const { return ledger_.get(); }
  // The SQLite file's path, or the PostgreSQL schema's URL.
  [[nodiscard]] const std::string& location() const { return location_; }

  // A member with an account in the ledger, as the API opens it.
  MemberId open_member(const std::string& external_id, TimeUs at_us) const {
    ledger::Command command;
    command.idempotency_key = "open-" + external_id;
    command.at_us = at_us;
    command.actor = "api-key:test";
    command.reason = "test";
    command.body = ledger::OpenAccount{external_id};
    const CommandResult result = ledger_->execute(std::move(command));
    EXPECT_TRUE(result.ok()) << external_id << ": " << result.storage_error;
    return result.outcome.member_id;
  }

  // Another connection to the database: a second node, or the same node after a restart.
  // `node` names the PostgreSQL sessions (pg::with_application_name), when not empty.
  [[nodiscard]] std::unique_ptr<EarningDocuments> open_documents(
      const std::string& node = "") const {
    if (engine_ == TestEngine::sqlite) return open_sqlite_earning_documents(location_);
    return open_postgres_earning_documents(postgres_url(node));
  }
  [[nodiscard]] std::unique_ptr<MemberDirectory> open_directory(
      const std::string& node = "") const {
    if (engine_ == TestEngine::sqlite) return open_sqlite_member_directory(location_);
    return open_postgres_member_directory(postgres_url(node));
  }

 private:
  [[nodiscard]] std::string postgres_url(const std::string& node) const {
    return node.empty() ? location_ : pg::with_application_name(location_, node);
  }

  TestEngine engine_;
  TempDir dir_;
  std::string location_;
  std::unique_ptr<LedgerStore> ledger_;
};

}  // namespace pointsmall::store
