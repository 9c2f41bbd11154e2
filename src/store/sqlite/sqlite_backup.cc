#include "store/sqlite/sqlite_backup.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>  // renameat2, RENAME_NOREPLACE (glibc 2.28)
#include <cstring>
#include <filesystem>
#include <thread>
#include <utility>

namespace pointsmall::store {
namespace {

using SteadyClock = std::chrono::steady_clock;

// A connection closed when leaving its scope.
class Database {
 public:
  Database() = default;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database() { close(); }

  // Opens `path` with `flags`; false with `error` set when it cannot.
  bool open(const std::string& path, int flags, std::string& error) {
    const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
    if (rc == SQLITE_OK) return true;
    error = "cannot open " + path + ": " + (db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory");
    close();
    return false;
  }
  // SQLITE_OK, or why the connection could not be closed (it is released all the same).
  int close() {
    if (db_ == nullptr) return SQLITE_OK;
    const int rc = sqlite3_close(db_);
    if (rc != SQLITE_OK) sqlite3_close_v2(db_);
    db_ = nullptr;
    return rc;
  }
  [[nodiscard]] sqlite3* get() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
};

std::string system_error(const std::string& what, const std::string& path, int error_number) {
  return what + " " + path + ": " + std::strerror(error_number);
}

// Removes `path` and any journal SQLite may have left beside it.
void remove_with_journals(const std::string& path) {
  for (const char* suffix : {"", "-journal", "-wal", "-shm"}) ::unlink((path + suffix).c_str());
}

// fsync of a file or (O_DIRECTORY) a folder; "" or why it failed.
std::string sync_path(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return system_error("cannot open", path, errno);
  const int rc = ::fsync(fd);
  const int error_number = errno;
  ::close(fd);
  return rc == 0 ? std::string() : system_error("cannot fsync", path, error_number);
}

// Renames `from` to `to`; without `replace`, fails with EEXIST rather than replace `to`.
// Returns 0 or the errno.
int move_into_place(const std::string& from, const std::string& to, bool replace) {
  if (replace) return ::rename(from.c_str(), to.c_str()) == 0 ? 0 : errno;
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return 0;
  if (errno != EINVAL && errno != ENOSYS) return errno;
  // A file system without RENAME_NOREPLACE: link() refuses an existing name as well.
  if (::link(from.c_str(), to.c_str()) != 0) return errno;
  ::unlink(from.c_str());
  return 0;
}

// The failure an error code of sqlite3_backup_step means: a source that is not a readable
// database, or an I/O problem while copying.
BackupFailure step_failure(int rc) {
  const int primary = rc & 0xff;
  if (primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT || primary == SQLITE_CANTOPEN)
    return BackupFailure::source;
  return BackupFailure::copy;
}

// Steps `backup` to its end (contract 1 of the header); fills the counts of `result`.
void copy_pages(sqlite3_backup* backup, const std::string& from, const BackupOptions& options,
                BackupResult& result) {
  int pages_per_step = options.pages_per_step > 0 ? options.pages_per_step : 1024;
  std::int64_t copied_before = 0;
  auto busy_since = SteadyClock::now();
  bool busy = false;
  for (;;) {
    const int rc = sqlite3_backup_step(backup, pages_per_step);
    ++result.steps;
    result.pages = sqlite3_backup_pagecount(backup);
    if (rc == SQLITE_DONE) return;
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
      if (!busy) busy_since = SteadyClock::now();
      busy = true;
      if (SteadyClock::now() - busy_since > options.busy_timeout) {
        result.failure = BackupFailure::copy;
        result.error = from + " stayed locked for " + std::to_string(options.busy_timeout.count()) +
                       " ms: " + sqlite3_errstr(rc);
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    busy = false;
    if (rc != SQLITE_OK) {
      result.failure = step_failure(rc);
      result.error = "cannot copy " + from + ": " + sqlite3_errstr(rc);
      return;
    }
    // Without a restart every step adds pages_per_step pages; a restart starts again at page 1.
    const std::int64_t copied = result.pages - sqlite3_backup_remaining(backup);
    if (copied <= copied_before) {
      ++result.restarts;
      if (result.restarts >= options.restarts_before_one_step) {
        pages_per_step = -1;
        result.finished_in_one_step = true;
      }
    }
    copied_before = copied;
    if (options.after_step) options.after_step();
    std::this_thread::sleep_for(options.pause_between_steps);
  }
}

// Copies `from` into the new, empty file `temporary` (closed again on return).
void copy_database(const std::string& from, const std::string& temporary,
                   const BackupOptions& options, BackupResult& result) {
  Database source;
  Database destination;
  std::string error;
  // Read-write but only read (contract 2): a read-only connection that is the last to close
  // cannot remove the log files it opened, and would leave them beside a stopped ledger.
  if (!source.open(from, SQLITE_OPEN_READWRITE, error)) {
    result.failure = BackupFailure::source;
    result.error = error;
    return;
  }
  if (!destination.open(temporary, SQLITE_OPEN_READWRITE, error)) {
    result.failure = BackupFailure::destination;
    result.error = error;
    return;
  }
  sqlite3_busy_timeout(source.get(), static_cast<int>(options.busy_timeout.count()));
  sqlite3_busy_timeout(destination.get(), static_cast<int>(options.busy_timeout.count()));
  sqlite3_exec(destination.get(), "PRAGMA synchronous = FULL", nullptr, nullptr, nullptr);
  sqlite3_backup* backup = sqlite3_backup_init(destination.get(), "main", source.get(), "main");
  if (backup == nullptr) {
    result.failure = BackupFailure::copy;
    result.error = "cannot start the copy of " + from + ": " + sqlite3_errmsg(destination.get());
    return;
  }
  copy_pages(backup, from, options, result);
  const int finished = sqlite3_backup_finish(backup);
  if (result.ok() && finished != SQLITE_OK) {
    result.failure = step_failure(finished);
    result.error = "cannot copy " + from + ": " + sqlite3_errmsg(destination.get());
  }
  if (!result.ok()) return;
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v2(destination.get(), "PRAGMA page_size", -1, &statement, nullptr) ==
          SQLITE_OK &&
      sqlite3_step(statement) == SQLITE_ROW)
    result.page_size_bytes = sqlite3_column_int64(statement, 0);
  sqlite3_finalize(statement);
  result.bytes = result.pages * result.page_size_bytes;
  if (const int rc = destination.close(); rc != SQLITE_OK) {
    result.failure = BackupFailure::destination;
    result.error = "cannot close " + temporary + ": " + sqlite3_errstr(rc);
  }
}

// Contract 3: fsync the copy, rename it to `to`, fsync the folder.
void install(const std::string& temporary, const std::string& to, bool replace,
             BackupResult& result) {
  if (std::string error = sync_path(temporary, O_RDONLY); !error.empty()) {
    result.failure = BackupFailure::destination;
    result.error = error;
    return;
  }
  if (const int error_number = move_into_place(temporary, to, replace); error_number != 0) {
    result.failure =
        error_number == EEXIST ? BackupFailure::destination_exists : BackupFailure::destination;
    result.error = error_number == EEXIST
                       ? to + " already exists"
                       : system_error("cannot rename " + temporary + " to", to, error_number);
    return;
  }
  std::string folder = std::filesystem::path(to).parent_path().string();
  if (folder.empty()) folder = ".";
  if (std::string error = sync_path(folder, O_RDONLY | O_DIRECTORY); !error.empty()) {
    result.failure = BackupFailure::destination;
    result.error = error + " (" + to + " is written but may not survive a power cut)";
  }
}

}  // namespace

BackupResult backup_sqlite_database(const std::string& from, const std::string& to,
                                    const BackupOptions& options) {
  const auto started = SteadyClock::now();
  BackupResult result;
  const auto finish = [&]() -> BackupResult {
    result.elapsed =
        std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - started);
    return result;
  };
  std::error_code error_code;
  if (!std::filesystem::is_regular_file(from, error_code)) {
    result.failure = BackupFailure::source;
    result.error = "no database file at " + from;
    return finish();
  }
  if (!options.replace_existing && std::filesystem::exists(to, error_code)) {
    result.failure = BackupFailure::destination_exists;
    result.error = to + " already exists";
    return finish();
  }
  const std::string temporary = to + ".tmp";
  remove_with_journals(temporary);  // left by an interrupted backup
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    result.failure = BackupFailure::destination;
    result.error = system_error("cannot create", temporary, errno);
    return finish();
  }
  ::close(fd);
  copy_database(from, temporary, options, result);
  if (result.ok()) install(temporary, to, options.replace_existing, result);
  if (!result.ok()) remove_with_journals(temporary);
  return finish();
}

}  // namespace pointsmall::store
