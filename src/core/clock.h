// Time comes from an injected Clock so that tests, simulations and replays control it.
#pragma once

#include <atomic>
#include <string>
#include <utility>

#include "core/types.h"

namespace pointsmall {

class Clock {
 public:
  virtual ~Clock() = default;
  // Returns the current UTC time in microseconds.
  [[nodiscard]] virtual TimeUs now_us() const = 0;
};

// The real wall clock (std::chrono::system_clock).
class SystemClock final : public Clock {
 public:
  [[nodiscard]] TimeUs now_us() const override;
};

// A clock that only moves when told to; safe to read and set from several threads.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimeUs start_us) : now_us_(start_us) {}
  [[nodiscard]] TimeUs now_us() const override { return now_us_.load(); }
  void set(TimeUs at_us) { now_us_.store(at_us); }
  void advance(TimeUs by_us) { now_us_.fetch_add(by_us); }

 private:
  std::atomic<TimeUs> now_us_;
};

// A clock that reads the time from a file at every call: an RFC 3339 time such as
// "2026-03-29T00:30:00Z". End-to-end tests move a server's time by rewriting the file
// (`pointsmall serve` uses it when POINTSMALL_TEST_CLOCK_FILE names one). A file that cannot be
// read or parsed throws std::runtime_error: a test must never run on a time it did not set.
class FileClock final : public Clock {
 public:
  explicit FileClock(std::string path) : path_(std::move(path)) {}
  [[nodiscard]] TimeUs now_us() const override;

 private:
  std::string path_;
};

}  // namespace pointsmall
