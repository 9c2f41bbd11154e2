// An online copy of a SQLite database file, taken with SQLite's backup API while other processes
// (a running `pointsmall serve`) keep reading and writing it.
//
// Contract of backup_sqlite_database(from, to, options):
//  1. The copy is one consistent snapshot of `from`: every transaction committed before the
//     snapshot is in it, and no transaction is partly in it. Pages are copied in steps of
//     `pages_per_step` with `pause_between_steps` between them; when another connection writes
//     to `from` between two steps, SQLite starts the copy again from the first page (a restart).
//     After `restarts_before_one_step` restarts the rest is copied in one step, inside one read
//     transaction, so the copy always ends. In WAL mode (the store's) neither way blocks the
//     writer: a reader keeps its snapshot while the writer appends to the log.
//  2. `from` is only read (its connection is opened read-write without create, so that, as the
//     last connection to close when no server runs, it removes the log files as the server
//     would; SQLite then checkpoints the log into the file, which changes no content).
//  3. The copy is written to `to` + ".tmp" (a stale one from an interrupted run is removed
//     first), created owner-only (0600: the ledger holds personal data and credentials),
//     fsynced, then renamed to `to`, and the directory is fsynced: a crash leaves either no file
//     or a whole database under `to`, never half of one.
//  4. An existing `to` is never replaced unless `replace_existing`. Without it the rename itself
//     refuses to replace (RENAME_NOREPLACE), so a file created by someone else meanwhile is not
//     lost either.
//  5. On any failure `error` says what failed and why, naming the file, and nothing is left
//     under `to` + ".tmp" nor under `to` (an existing `to` is untouched) - except when only the
//     last fsync, of the folder, fails: the whole copy is then under `to`, maybe not durably.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace pointsmall::store {

struct BackupOptions {
  int pages_per_step = 1024;                         // pages copied per step, 1..1,000,000
  std::chrono::milliseconds pause_between_steps{5};  // lets the writer commit between steps
  int restarts_before_one_step = 8;                  // then the rest is copied in one step
  std::chrono::milliseconds busy_timeout{10'000};    // longest wait while the source is locked
  bool replace_existing = false;                     // replace an existing `to`
  // Called after every step that did not end the copy, before the pause; tests write to the
  // source here to make SQLite restart the copy.
  std::function<void()> after_step;
};

enum class BackupFailure {
  none,
  source,              // `from` is missing, unreadable or not a database
  destination_exists,  // `to` exists and replace_existing is false
  destination,         // `to` + ".tmp" or `to` cannot be written (missing folder, disk full...)
  copy,                // the copy failed midway (an I/O error, the source stayed locked)
};

struct BackupResult {
  BackupFailure failure = BackupFailure::none;
  std::string error;  // empty when failure is none

  std::int64_t pages = 0;             // pages in the copy
  std::int64_t page_size_bytes = 0;   // bytes per page
  std::int64_t bytes = 0;             // size of the copy: pages * page_size_bytes
  std::int64_t steps = 0;             // calls of sqlite3_backup_step
  std::int64_t restarts = 0;          // times the source changed under the copy
  bool finished_in_one_step = false;  // the copy ended with one step after too many restarts
  std::chrono::microseconds elapsed{0};

  [[nodiscard]] bool ok() const { return failure == BackupFailure::none; }
};

// Copies the database at `from` to the new file `to` (see the contract above).
BackupResult backup_sqlite_database(const std::string& from, const std::string& to,
                                    const BackupOptions& options = {});

}  // namespace pointsmall::store
