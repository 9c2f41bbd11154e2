#include "store/sqlite/writer_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace pointsmall::store {
namespace {

// What the holder wrote into the lock file, e.g. "pid 4242: pointsmall serve"; empty if nothing.
std::string holder_of(int fd) {
  std::string text(256, '\0');
  const ssize_t read = ::pread(fd, text.data(), text.size(), 0);
  text.resize(read > 0 ? static_cast<std::size_t>(read) : 0);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\0')) text.pop_back();
  return text;
}

// This process's command line with spaces between the arguments, e.g. "pointsmall serve
// --data-dir /var/lib/pointsmall"; cut at 200 characters.
std::string command_line() {
  std::string text(200, '\0');
  const int fd = ::open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
  const ssize_t read = fd < 0 ? -1 : ::read(fd, text.data(), text.size());
  if (fd >= 0) ::close(fd);
  text.resize(read > 0 ? static_cast<std::size_t>(read) : 0);
  while (!text.empty() && text.back() == '\0') text.pop_back();
  for (char& c : text) c = c == '\0' ? ' ' : c;
  return text;
}

}  // namespace

std::string writer_lock_path(const std::string& database_path) {
  return database_path + ".lock";
}

std::optional<WriterLock> WriterLock::acquire(const std::string& database_path,
                                              std::string& error) {
  const std::string path = writer_lock_path(database_path);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    error = "cannot open the lock file " + path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int cause = errno;
    const std::string named = holder_of(fd);
    ::close(fd);
    if (cause == EWOULDBLOCK) {
      error = "the ledger is open in another process (" +
              (named.empty() ? std::string("unknown") : named) +
              "); only one process may write it: stop that one first, or, while a server runs, "
              "use its API (and `pointsmall backup` for a copy to check)";
    } else {
      error = "cannot lock " + path + ": " + std::strerror(cause);
    }
    return std::nullopt;
  }
  const std::string line = "pid " + std::to_string(::getpid()) + ": " + command_line() + "\n";
  if (::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, line.data(), line.size(), 0) != static_cast<ssize_t>(line.size())) {
    // The lock holds all the same; only the name in another process's message is lost.
  }
  return WriterLock(fd);
}

WriterLock::WriterLock(WriterLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

WriterLock& WriterLock::operator=(WriterLock&& other) noexcept {
  if (this != &other) {
    release();
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

WriterLock::~WriterLock() {
  release();
}

void WriterLock::release() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor of the file lets go of the flock
  fd_ = -1;
}

}  // namespace pointsmall::store
