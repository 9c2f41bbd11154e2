#include "api/login_throttle.h"

namespace pointsmall::api {

bool LoginThrottle::allowed(const std::string& name, TimeUs now_us) {
  std::lock_guard lock(mutex_);
  const auto it = counts_.find(name);
  if (it == counts_.end()) return true;
  if (now_us - it->second.first_failure_us >= kWindowUs) {
    counts_.erase(it);
    return true;
  }
  return it->second.failures < kMaxFailures;
}

void LoginThrottle::failed(const std::string& name, TimeUs now_us) {
  std::lock_guard lock(mutex_);
  if (counts_.size() >= kMaxNames) forget_expired(now_us);
  if (counts_.size() >= kMaxNames) return;  // under attack by many names: the 2-hash limit holds
  Count& count = counts_[name];
  if (count.failures == 0 || now_us - count.first_failure_us >= kWindowUs) count = {0, now_us};
  ++count.failures;
}

void LoginThrottle::succeeded(const std::string& name) {
  std::lock_guard lock(mutex_);
  counts_.erase(name);
}

void LoginThrottle::forget_expired(TimeUs now_us) {
  for (auto it = counts_.begin(); it != counts_.end();) {
    if (now_us - it->second.first_failure_us >= kWindowUs)
      it = counts_.erase(it);
    else
      ++it;
  }
}

}  // namespace pointsmall::api
