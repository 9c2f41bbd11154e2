// Slows down password guessing: after kMaxFailures failed sign-ins for one name within kWindowUs,
// that name is refused (429) until the window since its first counted failure has passed. A
// success clears the name's count. Counts are in memory, per process: a restart forgets them.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/types.h"

namespace pointsmall::api {

class LoginThrottle {
 public:
  static constexpr int kMaxFailures = 5;
  static constexpr TimeUs kWindowUs = 15LL * 60 * 1'000'000;
  static constexpr std::size_t kMaxNames = 100'000;  // beyond this, expired counts are dropped

  // Whether `name` may try to sign in now.
  bool allowed(const std::string& name, TimeUs now_us);
  void failed(const std::string& name, TimeUs now_us);
  void succeeded(const std::string& name);

 private:
  struct Count {
    int failures = 0;
    TimeUs first_failure_us = 0;
  };
  void forget_expired(TimeUs now_us);  // under mutex_

  std::mutex mutex_;
  std::unordered_map<std::string, Count> counts_;  // guarded by mutex_
};

}  // namespace pointsmall::api
