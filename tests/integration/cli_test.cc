// The `pointsmall` command line as an operator uses it: the real binary (POINTSMALL_BINARY) run
// as a child process, its stdout, stderr and exit code checked.
//
// The sample file is a tiny Online Retail extract written at test time: two customers, four
// purchases (one under a pound), one cancellation, and one row for each of five skip reasons.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <zlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "../api/server_process.h"
#include "test_support.h"

namespace pointsmall::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kHeader =
    "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n";

// Customer 12345 buys for 37.50 GBP (500001: 37 points; its postage line is not goods), later
// 0.50 GBP (500002: no points), and cancels 12.00 GBP of 500001 (C500003: pro rata
// floor(37 * 12.00 / 37.50) = 11 points clawed back). Customer 67890 buys for 39.98 GBP (500004:
// 39 points) and 125.00 GBP (500005: 125 points). Times are London time; in winter that is UTC,
// and 500005 (April, BST) is 10:00 UTC.
constexpr const char* kSampleRows =
    "500001,21001,RED MUG,10,2011-01-10 10:00:00,2.55,12345.0,United Kingdom\n"
    "500001,21002,\"TEA SET, BLUE\",4,2011-01-10 10:00:00,3.00,12345.0,United Kingdom\n"
    "500001,POST,POSTAGE,1,2011-01-10 10:00:00,18.00,12345.0,United Kingdom\n"
    "500004,22001,LANTERN,3,2011-01-15 14:30:00,10.00,67890.0,United Kingdom\n"
    "500004,22002,CANDLE,2,2011-01-15 14:30:00,4.99,67890.0,United Kingdom\n"
    "500004,22003,FREE GIFT,1,2011-01-15 14:30:00,0.00,67890.0,United Kingdom\n"
    "500006,21001,RED MUG,2,2011-01-20 09:00:00,2.55,,United Kingdom\n"
    "500002,21003,PENCIL,1,2011-02-01 09:00:00,0.50,12345.0,United Kingdom\n"
    "C500003,21002,\"TEA SET, BLUE\",-4,2011-03-01 12:00:00,3.00,12345.0,United Kingdom\n"
    "C500007,21001,RED MUG,-1,2011-03-02 12:00:00,2.55,99999.0,United Kingdom\n"
    "500005,22004,BIG ORDER,100,2011-04-01 11:00:00,1.25,67890.0,United Kingdom\n"
    "500008,22005,BROKEN,1,2011-13-45 10:00:00,1.00,67890.0,United Kingdom\n";

struct CliRun {
  int exit_code = -1;  // -1 when the process did not exit normally
  int signal = 0;      // the signal that killed it, if one did
  std::string out;
  std::string err;
};

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class Cli : public ::testing::Test {
 protected:
  // Runs `pointsmall ARGS...` and returns what it printed and how it ended.
  CliRun run(const std::vector<std::string>& args) {
    const std::string out_path = dir_.file("stdout.txt");
    const std::string err_path = dir_.file("stderr.txt");
    CliRun result;
    const pid_t pid = api_test::spawn_pointsmall(args, out_path, err_path);
    if (pid < 0) return result;
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
    result.out = read_file(out_path);
    result.err = read_file(err_path);
    return result;
  }

  std::string write_gzip(const std::string& name, const std::string& content) {
    std::string path = dir_.file(name);
    gzFile file = gzopen(path.c_str(), "wb");
    if (file == nullptr) {
      ADD_FAILURE() << "cannot create " << path;
      return path;
    }
    EXPECT_EQ(gzwrite(file, content.data(), static_cast<unsigned>(content.size())),
              static_cast<int>(content.size()));
    EXPECT_EQ(gzclose(file), Z_OK);
    return path;
  }

  std::string write_plain(const std::string& name, const std::string& content) {
    std::string path = dir_.file(name);
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  std::string sample_file() {
    return write_gzip("sample.csv.gz", std::string(kHeader) + kSampleRows);
  }

  CliRun import(const std::string& file, const std::string& data_dir) {
    return run({"import", "online-retail", file, "--data-dir", data_dir, "--quiet"});
  }

  // Imports the sample into `data_dir` (the test's ledger unless told otherwise).
  CliRun import_sample(const std::string& data_dir) {
    CliRun r = import(sample_file(), data_dir);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    return r;
  }

  // `check` passes: exit 0 and the ok line.
  void expect_check_ok(const std::string& data_dir) {
    const CliRun r = run({"check", "--data-dir", data_dir});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(contains(r.out, "ok: every balance re-derives")) << r.out;
    EXPECT_FALSE(contains(r.out, "DIFF")) << r.out;
  }

  // A failure that the user can act on: the given exit code, a message naming the problem, and
  // no crash.
  static void expect_refusal(const CliRun& r, int exit_code, const std::string& words) {
    EXPECT_EQ(r.signal, 0) << "killed by signal " << r.signal << "\n" << r.out << r.err;
    EXPECT_EQ(r.exit_code, exit_code) << r.out << r.err;
    EXPECT_TRUE(contains(r.err, words)) << "stderr: " << r.err;
  }

  // A copy of the ledger directory `from`, for tampering.
  std::string copy_ledger(const std::string& from, const std::string& name) {
    std::string to = dir_.file(name);
    fs::copy(from, to, fs::copy_options::recursive);
    return to;
  }

  TempDir dir_;
  std::string ledger_ = dir_.file("ledger");
};

// ---- Import, balance, history, expire --------------------------------------------------------

TEST_F(Cli, ImportSummaryCountsMembersEventsPointsAndSkippedRows) {
  const CliRun r = import_sample(ledger_);
  EXPECT_TRUE(contains(r.out, "rows read            12\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "members              2\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "events               5 (4 purchases, 1 refunds)\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "points issued        201\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "points clawed back   11\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "purchases under 1 GBP (no points) 1\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "rows skipped         5\n")) << r.out;
  for (const char* reason :
       {"bad date: 1", "cancellation without an earlier purchase: 1", "missing customer: 1",
        "non-product adjustment code: 1", "zero or negative price: 1"})
    EXPECT_TRUE(contains(r.out, std::string("    ") + reason + "\n")) << reason << "\n" << r.out;
  EXPECT_FALSE(contains(r.out, "refused")) << r.out;
  EXPECT_FALSE(contains(r.out, "already in the ledger")) << r.out;
  expect_check_ok(ledger_);
  const CliRun check = run({"check", "--data-dir", ledger_});
  EXPECT_TRUE(contains(check.out, "checked 2 members, 3 lots")) << check.out;
  EXPECT_TRUE(contains(check.out,
                       "issued 201 = available 190 + pending 0 + frozen 0 + held 0 + "
                       "spent 0 + expired 0 + clawed back 11 + revoked 0 - debt 0"))
      << check.out;
}

TEST_F(Cli, ImportingTheSameFileAgainChangesNothing) {
  const std::string file = sample_file();
  ASSERT_EQ(import(file, ledger_).exit_code, 0);
  const CliRun balance_before = run({"balance", "--data-dir", ledger_, "12345"});
  const CliRun other_before = run({"balance", "--data-dir", ledger_, "67890"});
  const CliRun history_before = run({"history", "--data-dir", ledger_, "12345"});
  const CliRun check_before = run({"check", "--data-dir", ledger_});

  const CliRun again = import(file, ledger_);
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_TRUE(contains(again.out, "members              2\n")) << again.out;
  EXPECT_TRUE(contains(again.out, "points issued        0\n")) << again.out;
  EXPECT_TRUE(contains(again.out, "points clawed back   0\n")) << again.out;
  // Two accounts, three purchases with points and one refund, all replayed from their keys.
  EXPECT_TRUE(
      contains(again.out, "already in the ledger (idempotent replays, not counted again) 6\n"))
      << again.out;
  EXPECT_FALSE(contains(again.out, "refused")) << again.out;

  EXPECT_EQ(run({"balance", "--data-dir", ledger_, "12345"}).out, balance_before.out);
  EXPECT_EQ(run({"balance", "--data-dir", ledger_, "67890"}).out, other_before.out);
  EXPECT_EQ(run({"history", "--data-dir", ledger_, "12345"}).out, history_before.out);
  EXPECT_EQ(run({"check", "--data-dir", ledger_}).out, check_before.out);
  expect_check_ok(ledger_);
}

TEST_F(Cli, BalanceShowsBalancesAndLotsOfAMember) {
  import_sample(ledger_);
  const CliRun first = run({"balance", "--data-dir", ledger_, "12345"});
  EXPECT_EQ(first.exit_code, 0) << first.err;
  EXPECT_TRUE(contains(first.out, "(12345)\n")) << first.out;
  EXPECT_TRUE(contains(first.out, "  available 26\n")) << first.out;
  EXPECT_TRUE(contains(first.out, "  pending   0\n")) << first.out;
  EXPECT_TRUE(contains(first.out, "  debt      0\n")) << first.out;
  EXPECT_TRUE(contains(first.out,
                       " active 26/37 2011-01-10T10:00:00Z 2012-01-10T10:00:00Z "
                       "purchase 500001\n"))
      << first.out;

  const CliRun second = run({"balance", "--data-dir", ledger_, "67890"});
  EXPECT_EQ(second.exit_code, 0) << second.err;
  EXPECT_TRUE(contains(second.out, "  available 164\n")) << second.out;
  EXPECT_TRUE(contains(second.out,
                       " active 39/39 2011-01-15T14:30:00Z 2012-01-15T14:30:00Z "
                       "purchase 500004\n"))
      << second.out;
  EXPECT_TRUE(contains(second.out,
                       " active 125/125 2011-04-01T10:00:00Z 2012-03-31T10:00:00Z "
                       "purchase 500005\n"))
      << second.out;

  // The same member by its id.
  const std::string id = first.out.substr(7, first.out.find(' ', 7) - 7);  // "member <id> (...)"
  const CliRun by_id = run({"balance", "--data-dir", ledger_, "#" + id});
  EXPECT_EQ(by_id.exit_code, 0) << by_id.err;
  EXPECT_EQ(by_id.out, first.out);
}

TEST_F(Cli, HistoryShowsTransactionsNewestFirstWithTheirReasons) {
  import_sample(ledger_);
  const CliRun r = run({"history", "--data-dir", ledger_, "12345"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const auto refund =
      r.out.find("refund 500001  by import: cancellation C500003 of order 500001\n");
  const auto earn = r.out.find(
      "earn 500001  by import: purchase 500001 of 37.50 GBP: 37 points: base-rate-gbp 37\n");
  const auto open = r.out.find("open_account 12345  by import: customer in the Online Retail");
  ASSERT_NE(refund, std::string::npos) << r.out;
  ASSERT_NE(earn, std::string::npos) << r.out;
  ASSERT_NE(open, std::string::npos) << r.out;
  EXPECT_LT(refund, earn) << "newest first";
  EXPECT_LT(earn, open) << "newest first";
  EXPECT_TRUE(contains(r.out, "2011-03-01T12:00:00Z  #")) << r.out;
  EXPECT_TRUE(contains(r.out, "    -11 member_available (lot ")) << r.out;
  EXPECT_TRUE(contains(r.out, "    +11 program_clawed_back (lot ")) << r.out;
  EXPECT_TRUE(contains(r.out, "    -37 program_issued (lot ")) << r.out;
  EXPECT_TRUE(contains(r.out, "    +37 member_available (lot ")) << r.out;
  // The purchase under a pound earned nothing and is not in the journal.
  EXPECT_FALSE(contains(r.out, "500002")) << r.out;

  const CliRun limited = run({"history", "--data-dir", ledger_, "12345", "--limit", "1"});
  EXPECT_EQ(limited.exit_code, 0) << limited.err;
  EXPECT_TRUE(contains(limited.out, "refund 500001")) << limited.out;
  EXPECT_FALSE(contains(limited.out, "earn 500001")) << limited.out;
}

TEST_F(Cli, ExpireAtADateAfterExpiryExpiresThePoints) {
  import_sample(ledger_);
  // Between the two expiries: 12345's lot (until 2012-01-10) expires, 67890's do not.
  const CliRun first = run({"expire", "--data-dir", ledger_, "--at", "2012-01-12"});
  EXPECT_EQ(first.exit_code, 0) << first.out << first.err;
  EXPECT_TRUE(contains(first.out, "expiry run at 2012-01-12T00:00:00Z")) << first.out;
  EXPECT_TRUE(contains(first.out, "points expired in total: 26, available now: 164")) << first.out;
  EXPECT_TRUE(contains(run({"balance", "--data-dir", ledger_, "12345"}).out, "  available 0\n"));
  EXPECT_TRUE(contains(run({"balance", "--data-dir", ledger_, "67890"}).out, "  available 164\n"));
  const CliRun history = run({"history", "--data-dir", ledger_, "12345", "--limit", "2"});
  EXPECT_TRUE(contains(history.out, "expiry  by system: validity ended\n")) << history.out;
  EXPECT_TRUE(contains(history.out, "    -26 member_available (lot ")) << history.out;
  EXPECT_TRUE(contains(history.out, "    +26 program_expired (lot ")) << history.out;
  expect_check_ok(ledger_);

  // After everything has expired (an RFC 3339 time this time).
  const CliRun second = run({"expire", "--data-dir", ledger_, "--at", "2013-01-01T00:00:00Z"});
  EXPECT_EQ(second.exit_code, 0) << second.out << second.err;
  EXPECT_TRUE(contains(second.out, "points expired in total: 190, available now: 0")) << second.out;
  const CliRun balance = run({"balance", "--data-dir", ledger_, "67890"});
  EXPECT_TRUE(contains(balance.out, "  available 0\n")) << balance.out;
  EXPECT_FALSE(contains(balance.out, " active ")) << "no live lot is left\n" << balance.out;
  expect_check_ok(ledger_);
  const CliRun check = run({"check", "--data-dir", ledger_});
  EXPECT_TRUE(contains(check.out,
                       "issued 201 = available 0 + pending 0 + frozen 0 + held 0 + "
                       "spent 0 + expired 190 + clawed back 11"))
      << check.out;

  // Running it again at the same time changes nothing.
  const CliRun repeat = run({"expire", "--data-dir", ledger_, "--at", "2013-01-01T00:00:00Z"});
  EXPECT_EQ(repeat.exit_code, 0) << repeat.out << repeat.err;
  EXPECT_TRUE(contains(repeat.out, "points expired in total: 190, available now: 0")) << repeat.out;
  expect_check_ok(ledger_);
}

// ---- check finds tampering -------------------------------------------------------------------

class CliTampering : public Cli {
 protected:
  // Imports the sample, copies the ledger, changes the copy with `sql`, and returns `check`'s run.
  CliRun check_after(const std::string& name, const std::string& sql) {
    if (!fs::exists(ledger_)) import_sample(ledger_);
    const std::string copy = copy_ledger(ledger_, name);
    {
      RawDatabase db(copy + "/pointsmall.db", false);
      db.exec(sql);
      EXPECT_GT(db.changes(), 0) << "the tampering changed nothing: " << sql;
    }
    return run({"check", "--data-dir", copy});
  }

  static void expect_failed(const CliRun& r, const std::string& difference) {
    EXPECT_EQ(r.signal, 0) << r.err;
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_TRUE(contains(r.out, "FAILED: ")) << r.out;
    EXPECT_FALSE(contains(r.out, "ok: every balance")) << r.out;
    EXPECT_TRUE(contains(r.out, "DIFF " + difference)) << "expected DIFF " << difference << "\n"
                                                       << r.out;
  }
};

TEST_F(CliTampering, CheckFindsAnAccountBalanceRaised) {
  const CliRun r = check_after(
      "raised", "UPDATE accounts SET available = available + 5 WHERE external_id = '67890'");
  // Member 2 is 67890 (member 1, 12345, bought first).
  expect_failed(r, "member 2: available (journal) is 169 but re-derives to 164");
  expect_failed(r, "member 2: available (lots) is 169 but re-derives to 164");
  expect_check_ok(ledger_);  // the original is untouched
}

TEST_F(CliTampering, CheckFindsLotsWithMoreRemainingThanTheJournalSays) {
  const CliRun r = check_after("lots", "UPDATE lots SET remaining = remaining + 1");
  expect_failed(r, "member 1: available (lots) is 26 but re-derives to 27");
  expect_failed(r, "member 2: available (lots) is 164 but re-derives to 166");
  expect_failed(r, "lot 2: remaining 40 outside 0..39");
  expect_failed(r, "lot 3: remaining 126 outside 0..125");
}

TEST_F(CliTampering, CheckFindsADeletedJournalEntry) {
  const CliRun r =
      check_after("entries",
                  "DELETE FROM entries WHERE account = 'program_clawed_back' AND transaction_id = "
                  "(SELECT id FROM transactions WHERE idempotency_key = 'refund:C500003:500001')");
  expect_failed(r, "transaction ");
  EXPECT_TRUE(contains(r.out, ": entries sum to -11, not 0")) << r.out;
  expect_failed(r, "program: all accounts sum to -11, not 0");
}

TEST_F(CliTampering, CheckFindsADeletedTransactionWhoseEntriesRemain) {
  const CliRun r =
      check_after("orphans", "DELETE FROM transactions WHERE idempotency_key = 'purchase:500005'");
  expect_failed(r, "2 entries name transaction ");
}

// A journal line naming an account the ledger does not have is a difference to report like any
// other, not a reason to crash.
TEST_F(CliTampering, CheckFindsAnUnknownAccountName) {
  const CliRun r = check_after(
      "account-name",
      "UPDATE entries SET account = 'member_bonus' WHERE account = 'program_clawed_back'");
  EXPECT_EQ(r.signal, 0) << "check died of signal " << r.signal << ":\n" << r.out << r.err;
  EXPECT_NE(r.exit_code, 0) << r.out << r.err;
  EXPECT_FALSE(contains(r.out, "ok: every balance")) << r.out;
  EXPECT_TRUE(contains(r.out + r.err, "member_bonus")) << r.out << r.err;
}

// ---- Bad input -------------------------------------------------------------------------------

// A refused import leaves no ledger behind: the data directory is not even created.
TEST_F(Cli, ImportOfAMissingFileFailsAndWritesNothing) {
  const CliRun r = import(dir_.file("no-such-file.csv.gz"), ledger_);
  expect_refusal(r, 2, "cannot open " + dir_.file("no-such-file.csv.gz"));
  EXPECT_FALSE(fs::exists(ledger_));
}

TEST_F(Cli, ImportOfANonGzipFileFailsAndWritesNothing) {
  const std::string file = write_plain("plain.csv.gz", std::string(kHeader) + kSampleRows);
  const CliRun r = import(file, ledger_);
  expect_refusal(r, 2, "not a gzip file: " + file);
  EXPECT_FALSE(fs::exists(ledger_));
}

TEST_F(Cli, ImportOfATruncatedGzipFileFailsAndWritesNothing) {
  std::string rows;
  for (int i = 0; i < 200; ++i) rows += kSampleRows;  // long enough to cut in the middle
  const std::string file = write_gzip("truncated.csv.gz", std::string(kHeader) + rows);
  fs::resize_file(file, fs::file_size(file) / 2);
  const CliRun r = import(file, ledger_);
  expect_refusal(r, 2, "truncated gzip file " + file);
  EXPECT_FALSE(fs::exists(ledger_));
}

TEST_F(Cli, ImportOfAFileWithTheWrongHeaderFailsAndWritesNothing) {
  const std::string file = write_gzip("wrong.csv.gz", "Invoice,Stock\n1,2\n");
  const CliRun r = import(file, ledger_);
  expect_refusal(r, 2, "unexpected header line");
  EXPECT_FALSE(fs::exists(ledger_));
}

// A bad file imported into an existing ledger leaves that ledger as it was.
TEST_F(Cli, ABadImportIntoAnExistingLedgerChangesNothing) {
  import_sample(ledger_);
  const CliRun before = run({"check", "--data-dir", ledger_});
  std::string rows;
  for (int i = 0; i < 200; ++i) rows += kSampleRows;
  const std::string file = write_gzip("truncated.csv.gz", std::string(kHeader) + rows);
  fs::resize_file(file, fs::file_size(file) / 2);
  expect_refusal(import(file, ledger_), 2, "truncated gzip file");
  EXPECT_EQ(run({"check", "--data-dir", ledger_}).out, before.out);
  expect_check_ok(ledger_);
}

TEST_F(Cli, CommandsOnAMissingDataDirectoryFail) {
  const std::string missing = dir_.file("nowhere");
  expect_refusal(run({"check", "--data-dir", missing}), 2, "no ledger in " + missing);
  expect_refusal(run({"balance", "--data-dir", missing, "12345"}), 2, "no ledger in " + missing);
  expect_refusal(run({"history", "--data-dir", missing, "12345"}), 2, "no ledger in " + missing);
  expect_refusal(run({"expire", "--data-dir", missing, "--at", "2012-01-01"}), 2,
                 "no ledger in " + missing);
  EXPECT_FALSE(fs::exists(missing)) << "a read-only command created the data directory";
}

TEST_F(Cli, CheckOnAGarbageDatabaseFileFailsWithAMessage) {
  fs::create_directories(ledger_);
  std::string garbage;
  for (int i = 0; i < 8192; ++i) garbage.push_back(static_cast<char>((i * 7919 + 13) % 251));
  write_plain("ledger/pointsmall.db", garbage);
  const CliRun r = run({"check", "--data-dir", ledger_});
  expect_refusal(r, 2, "cannot open the ledger");
  EXPECT_TRUE(contains(r.err, "not a database")) << r.err;
  expect_refusal(run({"balance", "--data-dir", ledger_, "12345"}), 2, "cannot open the ledger");
}

// A real ledger file whose pages after the first are overwritten: SQLite opens it (the header is
// fine) and finds the damage only while reading. `check` must report it, not crash.
TEST_F(Cli, CheckOnADatabaseWithCorruptPagesFailsWithAMessage) {
  import_sample(ledger_);
  const std::string db = ledger_ + "/pointsmall.db";
  ASSERT_FALSE(fs::exists(db + "-wal")) << "the ledger was not closed cleanly";
  const auto size = fs::file_size(db);
  ASSERT_GT(size, 8192u);
  {
    std::fstream file(db, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(4096);
    const std::string garbage(size - 4096, '\x5a');
    file.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
  }
  const CliRun r = run({"check", "--data-dir", ledger_});
  EXPECT_EQ(r.signal, 0) << "check crashed on a corrupt file:\n" << r.out << r.err;
  EXPECT_NE(r.exit_code, 0) << r.out << r.err;
  EXPECT_FALSE(contains(r.out, "ok: every balance")) << r.out;
  EXPECT_TRUE(contains(r.err, "error: ")) << "stderr: " << r.err;
}

// Damage SQLite only meets while reading a table (here the first page of the journal's entries;
// the schema and settings pages are intact, so the ledger opens). Every command that reads the
// journal must report it and exit non-zero; none may die of an uncaught exception.
TEST_F(Cli, CheckOnADatabaseWithACorruptTablePageFailsWithAMessage) {
  import_sample(ledger_);
  const std::string db = ledger_ + "/pointsmall.db";
  std::int64_t page_size = 0, entries_page = 0;
  {
    RawDatabase raw(db);
    page_size = raw.query_int("PRAGMA page_size");
    entries_page = raw.query_int("SELECT rootpage FROM sqlite_master WHERE name = 'entries'");
  }
  ASSERT_GT(page_size, 0);
  ASSERT_GT(entries_page, 1);
  {
    std::fstream file(db, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp((entries_page - 1) * page_size);
    const std::string garbage(static_cast<std::size_t>(page_size), '\x5a');
    file.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
  }
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"check", "--data-dir", ledger_},
        std::vector<std::string>{"history", "--data-dir", ledger_, "12345"}}) {
    const CliRun r = run(args);
    EXPECT_EQ(r.signal, 0) << args[0] << " died of signal " << r.signal << ":\n" << r.out << r.err;
    EXPECT_NE(r.exit_code, 0) << args[0] << ":\n" << r.out << r.err;
    EXPECT_FALSE(contains(r.out, "ok: every balance")) << r.out;
    EXPECT_TRUE(contains(r.err, "error: ")) << args[0] << " stderr: " << r.err;
    EXPECT_TRUE(contains(r.err, "malformed")) << args[0] << " stderr: " << r.err;
  }
}

TEST_F(Cli, ExpireAtAGarbageTimeFails) {
  import_sample(ledger_);
  expect_refusal(run({"expire", "--data-dir", ledger_, "--at", "garbage"}), 2,
                 "--at garbage is not an RFC 3339 time or a date");
  expect_refusal(run({"expire", "--data-dir", ledger_, "--at", "2012-02-30"}), 2,
                 "is not an RFC 3339 time");
  EXPECT_TRUE(contains(run({"balance", "--data-dir", ledger_, "12345"}).out, "  available 26\n"));
}

TEST_F(Cli, AnUnknownMemberFails) {
  import_sample(ledger_);
  expect_refusal(run({"balance", "--data-dir", ledger_, "99999"}), 2, "no member 99999");
  expect_refusal(run({"history", "--data-dir", ledger_, "99999"}), 2, "no member 99999");
  expect_refusal(run({"balance", "--data-dir", ledger_, "#12345"}), 2, "no member #12345");
  expect_refusal(run({"balance", "--data-dir", ledger_, "#x"}), 2, "no member #x");
}

TEST_F(Cli, BadArgumentsFailWithUsage) {
  const CliRun none = run({});
  EXPECT_EQ(none.exit_code, 2) << none.out << none.err;
  const CliRun unknown = run({"frobnicate"});
  EXPECT_EQ(unknown.exit_code, 2) << unknown.out << unknown.err;
  const CliRun no_dir = run({"check"});
  EXPECT_EQ(no_dir.exit_code, 2) << no_dir.out << no_dir.err;
  EXPECT_TRUE(contains(no_dir.err, "--data-dir")) << no_dir.err;
}

}  // namespace
}  // namespace pointsmall::testing

namespace pointsmall::testing {
namespace {

// An operator's password stays off the command line: it comes from POINTSMALL_PASSWORD (or a
// line of standard input); an empty one is refused.
TEST_F(Cli, OperatorPasswordComesFromTheEnvironmentWhenNotGiven) {
  const std::string ledger = dir_.file("ledger");
  ::setenv("POINTSMALL_PASSWORD", "a long enough password", 1);
  const CliRun created =
      run({"operator", "create", "--data-dir", ledger, "--name", "ana", "--role", "admin"});
  ::unsetenv("POINTSMALL_PASSWORD");
  EXPECT_EQ(created.exit_code, 0) << created.err;
  EXPECT_TRUE(contains(created.out, "TOTP secret: ")) << created.out;
  const CliRun refused = run({"operator", "create", "--data-dir", ledger, "--name", "bob", "--role",
                              "admin"});  // standard input is empty
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_TRUE(contains(refused.err, "at least 10 characters")) << refused.err;
}

// ---- Back-tests ------------------------------------------------------------------------------

// The default program replayed over the whole imported Online Retail year gives exactly the
// points that were issued, in total, by rule and on every day.
TEST_F(Cli, ABackTestOfTheDefaultProgramReproducesTheImportedYearExactly) {
  const std::string data = std::string(POINTSMALL_SOURCE_DIR) + "/data/online_retail.csv.gz";
  const CliRun imported = import(data, ledger_);
  ASSERT_EQ(imported.exit_code, 0) << imported.out << imported.err;
  const CliRun r = run({"simulate", "--data-dir", ledger_, "--from", "2010-01-01", "--until",
                        "2012-01-01", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto report = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(report.is_object()) << r.out;
  EXPECT_EQ(report["events"], 18402 - 6) << "every purchase of a whole pound or more";
  EXPECT_EQ(report["actual"]["points"], 8752353);
  EXPECT_EQ(report["simulated"]["points"], report["actual"]["points"]);
  EXPECT_EQ(report["difference"], 0);
  EXPECT_EQ(report["simulated"]["by_rule"], report["actual"]["by_rule"]);
  EXPECT_EQ(report["simulated"]["by_day"], report["actual"]["by_day"]);
  EXPECT_EQ(report["events_without_record"], 0);
  EXPECT_GT(report["actual"]["by_day"].size(), 300U);

  // A draft that doubles weekend points costs exactly the weekend points again.
  const std::string draft = dir_.file("draft.json");
  std::ofstream(draft) << R"({"rules": [{"id": "weekend", "name": "Double at weekends",
      "event_type": "purchase", "window": {"weekdays": ["sat", "sun"]},
      "effect": {"kind": "multiplier", "percent": 200}}]})";
  const CliRun doubled = run({"simulate", "--data-dir", ledger_, "--from", "2010-01-01", "--until",
                              "2012-01-01", "--draft", draft});
  ASSERT_EQ(doubled.exit_code, 0) << doubled.out << doubled.err;
  EXPECT_TRUE(contains(doubled.out, "  actual     8,752,353 points\n")) << doubled.out;
  EXPECT_TRUE(contains(doubled.out, "weekend")) << doubled.out;
}

TEST_F(Cli, ASimulationWithABadDraftNamesTheField) {
  import_sample(ledger_);
  const std::string draft = dir_.file("draft.json");
  std::ofstream(draft) << R"({"rules": [{"id": "x", "name": "x", "event_type": "purchase",
      "effect": {"kind": "fixed", "points": "ten"}}]})";
  expect_refusal(run({"simulate", "--data-dir", ledger_, "--from", "2010-01-01", "--until",
                      "2012-01-01", "--draft", draft}),
                 2, "rules[0].effect.points");
  expect_refusal(
      run({"simulate", "--data-dir", ledger_, "--from", "2012-01-01", "--until", "2010-01-01"}), 2,
      "--from and --until");
}

}  // namespace
}  // namespace pointsmall::testing
