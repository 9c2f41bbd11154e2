// `pointsmall backup` as an operator uses it: the real binary (POINTSMALL_BINARY) copies a
// ledger, alone or while a real `pointsmall serve` takes keyed earns over HTTP, and the copy,
// restored into a data directory as docs/operations.md says, is a ledger that `pointsmall check`
// passes, with the source's balances and every write acknowledged before the backup began.
#include <gtest/gtest.h>

#include <cctype>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "../api/http_client.h"
#include "../api/server_process.h"
#include "test_support.h"

namespace pointsmall::testing {
namespace {

namespace fs = std::filesystem;
using api_test::CliResult;
using api_test::HttpResponse;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string text_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The number before `word` in the backup's "copied ..." line ("in 3 steps"), -1 when absent.
std::int64_t count_before(const std::string& out, const std::string& word) {
  for (std::size_t at = out.find(" " + word); at != std::string::npos;
       at = out.find(" " + word, at + 1)) {
    std::size_t begin = at;
    while (begin > 0 &&
           (std::isdigit(static_cast<unsigned char>(out[begin - 1])) != 0 || out[begin - 1] == ','))
      --begin;
    std::string digits = out.substr(begin, at - begin);
    std::erase(digits, ',');
    if (!digits.empty()) return std::stoll(digits);
  }
  return -1;
}

class Backup : public ::testing::Test {
 protected:
  CliResult run(const std::vector<std::string>& args) { return api_test::run_cli(args, scratch_); }

  // A ledger in `data_dir` with three members: alice earned 500 and spent 120, bob earned 300
  // and holds 50 of it for an order, carol opened an account and has nothing.
  static void make_ledger(const std::string& data_dir) {
    fs::create_directories(data_dir);
    auto store = open_store(data_dir + "/pointsmall.db");
    ASSERT_NE(store, nullptr);
    const MemberId alice = open_member_with(*store, "alice", 500);
    const MemberId bob = open_member_with(*store, "bob", 300);
    open_member_with(*store, "carol", 0);
    EXPECT_TRUE(store->execute(spend_command("spend:alice", alice, 120)).ok());
    EXPECT_TRUE(store->execute(hold_command("hold:bob", bob, "order-1", 50)).ok());
  }

  // Restores `backup` into a new data directory as docs/operations.md says (the file copied in
  // as pointsmall.db, owner-only); returns the directory.
  std::string restore(const std::string& backup, const std::string& name) {
    const std::string data_dir = scratch_.file(name);
    fs::create_directories(data_dir);
    fs::copy_file(backup, data_dir + "/pointsmall.db");
    fs::permissions(data_dir + "/pointsmall.db", fs::perms::owner_read | fs::perms::owner_write);
    return data_dir;
  }

  void expect_check_ok(const CliResult& r) {
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(contains(r.out, "ok: every balance re-derives")) << r.out;
    EXPECT_FALSE(contains(r.out, "DIFF")) << r.out;
  }

  api_test::ScratchDir scratch_;
};

// ---- (1) A backup is a ledger with the source's balances --------------------------------------

TEST_F(Backup, ACopyOfALedgerPassesCheckAndHasTheSameBalancesAndHistories) {
  const std::string ledger = scratch_.file("ledger");
  make_ledger(ledger);
  const std::string to = scratch_.file("pointsmall-backup.db");
  const CliResult backup = run({"backup", "--data-dir", ledger, "--to", to});
  expect_check_ok(backup);
  EXPECT_TRUE(contains(backup.out, "copied " + ledger + "/pointsmall.db to " + to + ": "))
      << backup.out;
  // Three account openings, two earns, a spend and a hold.
  EXPECT_TRUE(contains(backup.out, "backup " + to + ": 3 members, 7 transactions, ")) << backup.out;
  EXPECT_GT(count_before(backup.out, "pages of"), 0) << backup.out;
  EXPECT_TRUE(fs::is_regular_file(to));
  EXPECT_FALSE(fs::exists(to + ".tmp")) << "the temporary file is renamed, not left behind";
  EXPECT_FALSE(fs::exists(to + ".lock")) << "checking the copy leaves no lock file beside it";
  EXPECT_EQ(fs::status(to).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write)
      << "the copy holds personal data and credentials: owner-only";

  const std::string restored = restore(to, "restored");
  expect_check_ok(run({"check", "--data-dir", restored}));
  EXPECT_EQ(run({"check", "--data-dir", restored}).out, run({"check", "--data-dir", ledger}).out);
  for (const char* member : {"alice", "bob", "carol"}) {
    const CliResult original = run({"balance", "--data-dir", ledger, member});
    const CliResult copy = run({"balance", "--data-dir", restored, member});
    EXPECT_EQ(original.exit_code, 0) << original.err;
    EXPECT_EQ(copy.out, original.out) << member;
    EXPECT_EQ(run({"history", "--data-dir", restored, member}).out,
              run({"history", "--data-dir", ledger, member}).out)
        << member;
  }
  EXPECT_TRUE(contains(run({"balance", "--data-dir", restored, "alice"}).out, "  available 380\n"));
  EXPECT_TRUE(contains(run({"balance", "--data-dir", restored, "bob"}).out, "  held      50\n"));
}

// ---- (2) A backup while the server takes writes -----------------------------------------------

// Purchase events of 10.00 USD (10 points) keyed "earn-<thread>-<n>", sent by `threads`
// connections over `members` members until stopped; remembers the keys answered 201.
class EarnLoad {
 public:
  EarnLoad(std::uint16_t port, std::string merchant_key, std::vector<std::int64_t> members,
           int threads)
      : port_(port), merchant_key_(std::move(merchant_key)), members_(std::move(members)) {
    for (int i = 0; i < threads; ++i) workers_.emplace_back([this, i] { run(i); });
  }
  EarnLoad(const EarnLoad&) = delete;
  EarnLoad& operator=(const EarnLoad&) = delete;
  ~EarnLoad() { finish(); }

  void finish() {
    stop_ = true;
    for (std::thread& worker : workers_)
      if (worker.joinable()) worker.join();
  }
  // The keys acknowledged so far.
  std::vector<std::string> acknowledged() {
    std::lock_guard lock(mutex_);
    return acknowledged_;
  }
  std::vector<std::string> failures() {
    std::lock_guard lock(mutex_);
    return failures_;
  }

 private:
  void run(int thread) {
    api_test::ApiClient client(port_);
    for (std::size_t n = 0; !stop_; ++n) {
      const std::string key = "earn-" + std::to_string(thread) + "-" + std::to_string(n);
      const std::int64_t member = members_[n % members_.size()];
      const HttpResponse r = client.call_json(
          "POST", "/v1/events",
          {{"type", "purchase"},
           {"member_id", member},
           {"order_id", key},
           {"amount", {{"amount", 1000}, {"currency", "USD"}}}},
          {{"Authorization", "Bearer " + merchant_key_}, {"Idempotency-Key", key}});
      std::lock_guard lock(mutex_);
      if (r.status == 201) {
        acknowledged_.push_back(key);
      } else {
        failures_.push_back(key + ": " + r.describe());
        return;
      }
    }
  }

  std::uint16_t port_;
  std::string merchant_key_;
  std::vector<std::int64_t> members_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::vector<std::string> acknowledged_;  // guarded by mutex_
  std::vector<std::string> failures_;      // guarded by mutex_
  std::vector<std::thread> workers_;
};

TEST_F(Backup, ACopyTakenWhileTheServerTakesWritesIsConsistentAndHasEveryAcknowledgedWrite) {
  api_test::ServerProcess server;
  const std::string merchant_key = server.create_api_key("shop", "merchant");
  ASSERT_FALSE(merchant_key.empty());
  ASSERT_TRUE(server.start());
  std::vector<std::int64_t> members;
  {
    api_test::ApiClient client(server.port());
    for (int i = 0; i < 8; ++i) {
      const HttpResponse r =
          client.call_json("POST", "/v1/members", {{"external_id", "m" + std::to_string(i)}},
                           {{"Authorization", "Bearer " + merchant_key}});
      ASSERT_EQ(r.status, 201) << r.describe();
      members.push_back(r.json().value("id", std::int64_t{0}));
    }
  }
  EarnLoad load(server.port(), merchant_key, members, 4);
  // Enough acknowledged earns before the backup that the ledger spans many steps of 4 pages.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (load.acknowledged().size() < 1500 && load.failures().empty() &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const std::vector<std::string> before = load.acknowledged();
  ASSERT_GE(before.size(), 1500U) << "the load did not get going: "
                                  << (load.failures().empty() ? "" : load.failures().front());

  const std::string to = scratch_.file("live-backup.db");
  const CliResult backup =
      run({"backup", "--data-dir", server.data_dir(), "--to", to, "--pages-per-step", "4"});
  const std::size_t acknowledged_during = load.acknowledged().size() - before.size();
  load.finish();
  EXPECT_TRUE(load.failures().empty()) << load.failures().front();
  EXPECT_EQ(server.stop(), 0) << server.stderr_text();

  expect_check_ok(backup);
  EXPECT_GT(acknowledged_during, 0U) << "the server took no write while the copy ran";
  EXPECT_GT(count_before(backup.out, "step"), 1) << backup.out;
  std::cout << "[ backup   ] " << before.size() << " earns acknowledged before the backup, "
            << acknowledged_during << " during it; " << backup.out.substr(0, backup.out.find('\n'))
            << "\n";

  // Every earn acknowledged before the backup began is in the copy, exactly once; the copy is
  // a ledger on its own.
  const std::string restored = restore(to, "restored");
  {
    RawDatabase copy(restored + "/pointsmall.db");
    const auto keys = copy.keys();
    std::size_t missing = 0;
    for (const std::string& key : before) {
      const auto found = keys.find(key);
      if (found == keys.end() || found->second.count != 1 || found->second.kind != "earn")
        ++missing;
    }
    EXPECT_EQ(missing, 0U) << "of " << before.size() << " earns acknowledged before the backup";
    EXPECT_EQ(copy.query_int("SELECT count(*) FROM accounts"), 8);
  }
  expect_check_ok(run({"check", "--data-dir", restored}));
  expect_check_ok(run({"check", "--data-dir", server.data_dir()}));
}

// Opening a ledger migrates it. A backup taken by a newer release of an older ledger (before an
// upgrade) must stay at the older schema, restorable by the release that wrote it: the check
// runs on a scratch copy.
TEST_F(Backup, ACopyOfAnOlderSchemaIsCheckedOnAScratchCopyAndKeepsItsSchema) {
  const std::string ledger = scratch_.file("ledger");
  make_ledger(ledger);
  std::int64_t newest = 0;
  {
    RawDatabase db(ledger + "/pointsmall.db", /*read_only=*/false);
    newest = db.query_int("SELECT max(version) FROM schema_migrations");
    ASSERT_EQ(newest, 4) << "a migration was added: undo the newest one here instead";
    // As the ledger was before migration 4, which only adds the mall's records.
    db.exec("DROP TABLE records; DELETE FROM schema_migrations WHERE version = 4");
  }
  const std::string to = scratch_.file("backup.db");
  const CliResult backup = run({"backup", "--data-dir", ledger, "--to", to});
  expect_check_ok(backup);
  EXPECT_TRUE(contains(backup.out, "checking a scratch copy")) << backup.out;
  EXPECT_FALSE(fs::exists(to + ".check")) << "the scratch copy is removed";
  RawDatabase copy(to);
  EXPECT_EQ(copy.query_int("SELECT max(version) FROM schema_migrations"), newest - 1);
  EXPECT_EQ(copy.query_int("SELECT count(*) FROM sqlite_master WHERE name = 'records'"), 0);
}

// A ledger of a newer release than this binary: checking it here would mean running this
// release's code on a schema it does not know, so the copy is written but not checked.
TEST_F(Backup, ACopyOfANewerSchemaIsWrittenButNotCheckedAndSaysSo) {
  const std::string ledger = scratch_.file("ledger");
  make_ledger(ledger);
  {
    RawDatabase db(ledger + "/pointsmall.db", /*read_only=*/false);
    db.exec("INSERT INTO schema_migrations (version, name) VALUES (999, 'from_the_future')");
  }
  const std::string to = scratch_.file("backup.db");
  const CliResult backup = run({"backup", "--data-dir", ledger, "--to", to});
  EXPECT_EQ(backup.exit_code, 1) << backup.out << backup.err;
  EXPECT_TRUE(contains(backup.err, "has schema version 999")) << backup.err;
  EXPECT_TRUE(contains(backup.err, "written but not checked")) << backup.err;
  EXPECT_FALSE(contains(backup.out, "ok: ")) << backup.out;
  RawDatabase copy(to);
  EXPECT_EQ(copy.query_int("SELECT max(version) FROM schema_migrations"), 999);
}

// ---- (3) Refusals -----------------------------------------------------------------------------

TEST_F(Backup, AnExistingFileIsNotReplacedWithoutForce) {
  const std::string ledger = scratch_.file("ledger");
  make_ledger(ledger);
  const std::string to = scratch_.file("backup.db");
  std::ofstream(to) << "last week's backup";

  const CliResult refused = run({"backup", "--data-dir", ledger, "--to", to});
  EXPECT_EQ(refused.exit_code, 2) << refused.out << refused.err;
  EXPECT_TRUE(contains(refused.err, "error: backup failed: " + to + " already exists"))
      << refused.err;
  EXPECT_TRUE(contains(refused.err, "--force")) << refused.err;
  EXPECT_EQ(text_of(to), "last week's backup");
  EXPECT_FALSE(fs::exists(to + ".tmp"));

  const CliResult forced = run({"backup", "--data-dir", ledger, "--to", to, "--force"});
  expect_check_ok(forced);
  EXPECT_TRUE(contains(forced.out, "backup " + to + ": 3 members")) << forced.out;
  expect_check_ok(run({"check", "--data-dir", restore(to, "restored")}));
}

TEST_F(Backup, ABadDataDirectoryOrDestinationFailsWithAClearMessageAndWritesNothing) {
  const std::string to = scratch_.file("backup.db");
  const std::string missing = scratch_.file("nowhere");
  const CliResult no_ledger = run({"backup", "--data-dir", missing, "--to", to});
  EXPECT_EQ(no_ledger.exit_code, 2) << no_ledger.out << no_ledger.err;
  EXPECT_TRUE(contains(no_ledger.err, "error: no ledger in " + missing)) << no_ledger.err;
  EXPECT_FALSE(fs::exists(missing)) << "a backup created the data directory";

  const std::string garbage = scratch_.file("garbage");
  fs::create_directories(garbage);
  std::ofstream(garbage + "/pointsmall.db") << std::string(8192, 'z');
  const CliResult not_a_database = run({"backup", "--data-dir", garbage, "--to", to});
  EXPECT_EQ(not_a_database.exit_code, 2) << not_a_database.out << not_a_database.err;
  EXPECT_TRUE(contains(not_a_database.err, "file is not a database")) << not_a_database.err;
  EXPECT_FALSE(contains(not_a_database.out, "ok: ")) << not_a_database.out;

  const std::string ledger = scratch_.file("ledger");
  make_ledger(ledger);
  const std::string no_folder = scratch_.file("no/such/folder/backup.db");
  const CliResult unwritable = run({"backup", "--data-dir", ledger, "--to", no_folder});
  EXPECT_EQ(unwritable.exit_code, 2) << unwritable.out << unwritable.err;
  EXPECT_TRUE(contains(unwritable.err, "cannot create " + no_folder + ".tmp")) << unwritable.err;

  const CliResult onto_itself =
      run({"backup", "--data-dir", ledger, "--to", ledger + "/pointsmall.db", "--force"});
  EXPECT_EQ(onto_itself.exit_code, 2) << onto_itself.out << onto_itself.err;
  EXPECT_TRUE(contains(onto_itself.err, "is the ledger itself")) << onto_itself.err;
  expect_check_ok(run({"check", "--data-dir", ledger}));

  EXPECT_FALSE(fs::exists(to));
  EXPECT_FALSE(fs::exists(to + ".tmp"));
  const CliResult no_destination = run({"backup", "--data-dir", ledger});
  EXPECT_EQ(no_destination.exit_code, 2);
  EXPECT_TRUE(contains(no_destination.err, "--to")) << no_destination.err;
}

}  // namespace
}  // namespace pointsmall::testing
