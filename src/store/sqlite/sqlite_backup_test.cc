// backup_sqlite_database: a consistent, whole copy under the final name or nothing; restarts when
// the source changes between steps, and still ends.
#include "store/sqlite/sqlite_backup.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/temp_dir.h"
#include "store/sqlite/sqlite_db.h"

namespace pointsmall::store {
namespace {

namespace fs = std::filesystem;
using sqlite::Connection;

// A WAL database of `rows` rows of 1,000 bytes (about 4 to a page of 4,096 bytes).
void make_database(const std::string& path, int rows) {
  Connection db(path, /*create=*/true, /*read_only=*/false);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
  db.exec("BEGIN");
  for (int i = 0; i < rows; ++i) db.exec("INSERT INTO t (body) VALUES (printf('%.1000c', 'x'))");
  db.exec("COMMIT");
}

std::int64_t rows_in(const std::string& path) {
  Connection db(path, /*create=*/false, /*read_only=*/true);
  return db.query_int("SELECT count(*) FROM t");
}

std::string text_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(SqliteBackup, CopiesEveryRowIntoAWholeOwnerOnlyFileAndLeavesNoTemporaryFile) {
  TempDir dir;
  const std::string from = dir.file("source.db");
  const std::string to = dir.file("copy.db");
  make_database(from, 200);
  BackupOptions options;
  options.pages_per_step = 16;
  options.pause_between_steps = std::chrono::milliseconds(0);
  const BackupResult result = backup_sqlite_database(from, to, options);
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(rows_in(to), 200);
  EXPECT_GT(result.steps, 1) << "16 pages a step cannot copy 200 rows of 1,000 bytes at once";
  EXPECT_EQ(result.restarts, 0);
  EXPECT_EQ(result.bytes, result.pages * result.page_size_bytes);
  EXPECT_EQ(static_cast<std::uintmax_t>(result.bytes), fs::file_size(to));
  EXPECT_FALSE(fs::exists(to + ".tmp"));
  EXPECT_FALSE(fs::exists(to + ".tmp-journal"));
  struct stat info {};
  ASSERT_EQ(::stat(to.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600U);
  Connection copy(to, false, true);
  sqlite::Statement check = copy.prepare("PRAGMA quick_check");
  ASSERT_TRUE(check.step());
  EXPECT_EQ(check.column_text(0), "ok");
}

// A write between two steps makes SQLite start the copy again; after restarts_before_one_step
// restarts the rest is copied in one step, and the copy holds every row committed before it.
TEST(SqliteBackup, RestartsWhenTheSourceChangesAndFinishesInOneStepAfterTooManyRestarts) {
  TempDir dir;
  const std::string from = dir.file("source.db");
  const std::string to = dir.file("copy.db");
  make_database(from, 100);
  Connection writer(from, false, false);
  int writes = 0;
  BackupOptions options;
  options.pages_per_step = 4;
  options.pause_between_steps = std::chrono::milliseconds(0);
  options.restarts_before_one_step = 3;
  options.after_step = [&] {
    writer.exec("INSERT INTO t (body) VALUES ('written while copying')");
    ++writes;
  };
  const BackupResult result = backup_sqlite_database(from, to, options);
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.restarts, 3);
  EXPECT_TRUE(result.finished_in_one_step);
  EXPECT_EQ(writes, 4) << "a write after the first step and after each of the 3 restarts";
  EXPECT_EQ(result.steps, 5);
  EXPECT_EQ(rows_in(to), 100 + writes);
}

TEST(SqliteBackup, NeverReplacesAnExistingFileUnlessTold) {
  TempDir dir;
  const std::string from = dir.file("source.db");
  const std::string to = dir.file("copy.db");
  make_database(from, 10);
  std::ofstream(to) << "precious";
  const BackupResult refused = backup_sqlite_database(from, to);
  EXPECT_EQ(refused.failure, BackupFailure::destination_exists);
  EXPECT_NE(refused.error.find(to + " already exists"), std::string::npos) << refused.error;
  EXPECT_TRUE(text_of(to) == "precious") << "the existing file was replaced";
  EXPECT_FALSE(fs::exists(to + ".tmp"));

  // A file that appears while the copy runs is not replaced either (the rename refuses).
  BackupOptions options;
  options.pages_per_step = 1;
  options.pause_between_steps = std::chrono::milliseconds(0);
  const std::string late = dir.file("late.db");
  options.after_step = [&] {
    if (!fs::exists(late)) std::ofstream(late) << "also precious";
  };
  const BackupResult raced = backup_sqlite_database(from, late, options);
  EXPECT_EQ(raced.failure, BackupFailure::destination_exists) << raced.error;
  EXPECT_TRUE(text_of(late) == "also precious") << "the file that appeared meanwhile was replaced";
  EXPECT_FALSE(fs::exists(late + ".tmp"));

  options = BackupOptions{};
  options.replace_existing = true;
  const BackupResult replaced = backup_sqlite_database(from, to, options);
  ASSERT_TRUE(replaced.ok()) << replaced.error;
  EXPECT_EQ(rows_in(to), 10);
}

TEST(SqliteBackup, ASourceThatIsNotADatabaseFailsAndLeavesNothing) {
  TempDir dir;
  const std::string from = dir.file("garbage.db");
  const std::string to = dir.file("copy.db");
  std::ofstream(from) << std::string(8192, 'z');
  const BackupResult garbage = backup_sqlite_database(from, to);
  EXPECT_EQ(garbage.failure, BackupFailure::source);
  EXPECT_NE(garbage.error.find("not a database"), std::string::npos) << garbage.error;
  EXPECT_FALSE(fs::exists(to));
  EXPECT_FALSE(fs::exists(to + ".tmp"));

  const BackupResult missing = backup_sqlite_database(dir.file("missing.db"), to);
  EXPECT_EQ(missing.failure, BackupFailure::source);
  EXPECT_NE(missing.error.find("no database file at"), std::string::npos) << missing.error;
  EXPECT_FALSE(fs::exists(to));
}

TEST(SqliteBackup, ADestinationInAMissingFolderFailsWithTheReason) {
  TempDir dir;
  const std::string from = dir.file("source.db");
  make_database(from, 1);
  const BackupResult result = backup_sqlite_database(from, dir.file("no/such/folder/copy.db"));
  EXPECT_EQ(result.failure, BackupFailure::destination);
  EXPECT_NE(result.error.find("cannot create"), std::string::npos) << result.error;
  EXPECT_NE(result.error.find("No such file or directory"), std::string::npos) << result.error;
}

}  // namespace
}  // namespace pointsmall::store
