// The server's expiry job: every interval (and once at start) it releases timed-out holds and
// matures and expires due points (store::settle_due), so balances never show points past their
// expiry for longer than one interval.
#pragma once

#include <chrono>
#include <condition_variable>
#include <iosfwd>
#include <mutex>
#include <thread>

#include "core/clock.h"
#include "store/store.h"

namespace pointsmall::app {

class Settler {
 public:
  // Starts the job; `log` gets one line per run that changed something.
  Settler(store::LedgerStore& ledger, const Clock& clock, std::chrono::seconds interval,
          std::ostream& log);
  // Stops after the run in progress, if any.
  ~Settler();
  Settler(const Settler&) = delete;
  Settler& operator=(const Settler&) = delete;

 private:
  void loop();

  store::LedgerStore& ledger_;
  const Clock& clock_;
  std::chrono::seconds interval_;
  std::ostream& log_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mutex_
  std::thread thread_;
};

}  // namespace pointsmall::app
