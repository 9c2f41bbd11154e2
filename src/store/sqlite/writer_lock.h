// The embedded ledger has one writer: the process that opened it hands out transaction and lot
// ids from the maxima it read at open, and keeps accounts in memory. A second process writing
// the same file (`pointsmall expire` beside a running `serve`) would hand out the same ids and
// every later write of the first would fail. WriterLock makes that impossible: an exclusive
// flock(2) on "<database>.lock", held for the store's life and released by the kernel when the
// process ends, however it ends (so a crash leaves no stale lock behind).
#pragma once

#include <optional>
#include <string>

namespace pointsmall::store {

class WriterLock {
 public:
  // Takes the lock of the database at `database_path` without waiting, and writes "pid <n>:
  // <command line>" into the lock file for the message another process shows. nullopt when
  // another open store holds it (this process's included) or the file cannot be made; `error`
  // then says which, naming the holder when it can.
  static std::optional<WriterLock> acquire(const std::string& database_path, std::string& error);

  WriterLock(WriterLock&& other) noexcept;
  WriterLock& operator=(WriterLock&& other) noexcept;
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;
  ~WriterLock();

  // Lets go now (the destructor would later).
  void release();

 private:
  explicit WriterLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// The lock file's name for a database file.
std::string writer_lock_path(const std::string& database_path);

}  // namespace pointsmall::store
