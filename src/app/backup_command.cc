// `pointsmall backup`: an online copy of the embedded ledger, then the same check as `pointsmall
// check`, run on the copy.
#include <filesystem>
#include <iomanip>
#include <ostream>
#include <sstream>

#include "app/commands.h"
#include "store/migrations.h"
#include "store/sqlite/sqlite_backup.h"
#include "store/sqlite/sqlite_earning_documents.h"
#include "store/sqlite/sqlite_store.h"

namespace pointsmall::app {
namespace {

namespace fs = std::filesystem;

std::string seconds(std::chrono::microseconds elapsed) {
  std::ostringstream text;
  text << std::fixed << std::setprecision(3) << static_cast<double>(elapsed.count()) / 1e6 << " s";
  return text.str();
}

// "1 step", "2 steps".
std::string counted(std::int64_t count, const std::string& noun) {
  return with_commas(count) + " " + noun + (count == 1 ? "" : "s");
}

// True when writing `to` (or `to`.tmp) would write over the live ledger `from` or its log files.
bool names_the_ledger(const std::string& from, const std::string& to) {
  std::error_code error;
  const fs::path target = fs::weakly_canonical(to, error);
  if (error) return false;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    const fs::path live = fs::weakly_canonical(from + suffix, error);
    if (error) continue;
    if (target == live || target.string() + ".tmp" == live.string()) return true;
  }
  return false;
}

int copy_failure_exit_code(store::BackupFailure failure) {
  return failure == store::BackupFailure::copy ? kExitProblem : kExitBadInput;
}

// Runs `check` on the ledger file `path`; fills `totals`.
int check_file(const std::string& path, Console console, CheckTotals& totals) {
  store::SqliteOptions options;
  options.writer_lock = false;  // the copy is this command's alone: leave no lock file beside it
  auto ledger = open_ledger_file(path, options, console);
  if (!ledger) return kExitProblem;
  auto documents = store::open_sqlite_earning_documents(path);
  return check_ledger(*ledger, *documents, console, totals);
}

// Checks the copy. Opening a ledger migrates it to this release's schema, so a copy of an older
// schema (a backup taken with a new binary before an upgrade) is checked on a scratch copy: the
// backup itself stays restorable by the release that wrote it.
int check_copy(const std::string& to, Console console, CheckTotals& totals) {
  const std::int64_t known = store::migrations().back().version;
  const std::int64_t version = store::sqlite_schema_version(to);
  if (version == known) return check_file(to, console, totals);
  if (version > known || version < 0) {
    console.err << "error: " << to << " has schema version " << version << " and this pointsmall "
                << "knows versions up to " << known << "; the copy is written but not checked "
                << "(check it with the release that serves this ledger)\n";
    return kExitProblem;
  }
  console.out << "the copy has schema version " << version << " (this release migrates to " << known
              << "): checking a scratch copy, so that the backup stays as it was\n";
  const std::string scratch = to + ".check";
  std::error_code error;
  fs::copy_file(to, scratch, fs::copy_options::overwrite_existing, error);
  if (error) {
    console.err << "error: cannot make the scratch copy " << scratch << ": " << error.message()
                << "\n";
    return kExitProblem;
  }
  const int checked = check_file(scratch, console, totals);
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(scratch + suffix, error);
  return checked;
}

}  // namespace

int backup(const BackupOptions& options, Console console) {
  const std::string from = database_path(options.data_dir);
  std::error_code error;
  if (!fs::is_regular_file(from, error)) {
    console.err << "error: no ledger in " << options.data_dir << " (" << from
                << " is missing); nothing to back up\n";
    return kExitBadInput;
  }
  if (names_the_ledger(from, options.to)) {
    console.err << "error: --to " << options.to << " is the ledger itself; back up to a file "
                << "outside the data directory\n";
    return kExitBadInput;
  }
  store::BackupOptions copy_options;
  copy_options.pages_per_step = options.pages_per_step;
  copy_options.replace_existing = options.force;
  const store::BackupResult copied = store::backup_sqlite_database(from, options.to, copy_options);
  if (!copied.ok()) {
    console.err << "error: backup failed: " << copied.error;
    if (copied.failure == store::BackupFailure::destination_exists)
      console.err << " (--force replaces it)";
    console.err << "\n";
    return copy_failure_exit_code(copied.failure);
  }
  console.out << "copied " << from << " to " << options.to << ": " << with_commas(copied.pages)
              << " pages of " << with_commas(copied.page_size_bytes) << " bytes ("
              << with_commas(copied.bytes) << " bytes) in " << counted(copied.steps, "step") << ", "
              << counted(copied.restarts, "restart")
              << (copied.finished_in_one_step ? " (the rest copied in one step)" : "") << ", "
              << seconds(copied.elapsed) << "\n";
  const auto check_started = std::chrono::steady_clock::now();
  CheckTotals totals;
  const int checked = check_copy(options.to, console, totals);
  const auto check_elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - check_started);
  if (checked != kExitOk) {
    console.err << "error: the backup " << options.to << " is written but did not pass the check"
                << " (see above); run `pointsmall check --data-dir " << options.data_dir
                << "` on the ledger itself\n";
    return kExitProblem;
  }
  console.out << "backup " << options.to << ": " << with_commas(totals.members) << " members, "
              << with_commas(totals.transactions) << " transactions, " << with_commas(copied.bytes)
              << " bytes; copied in " << seconds(copied.elapsed) << ", checked in "
              << seconds(check_elapsed) << "\n";
  return kExitOk;
}

}  // namespace pointsmall::app
