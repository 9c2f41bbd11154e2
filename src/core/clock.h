// Time comes from an injected Clock so that tests, simulations and replays control it.
#pragma once

#include <atomic>

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

}  // namespace pointsmall
