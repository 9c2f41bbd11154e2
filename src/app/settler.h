// The server's housekeeping: every interval (and once at start) it releases timed-out holds and
// matures and expires due points (store::settle_due), so balances never show points past their
// expiry for longer than one interval; and on the first run of each day it reviews tiers
// (earning::review_tiers).
#pragma once

#include <chrono>
#include <condition_variable>
#include <iosfwd>
#include <mutex>
#include <string>
#include <thread>

#include "core/clock.h"
#include "earning/programs.h"
#include "store/settlement.h"
#include "store/store.h"

namespace pointsmall::app {

class Settler {
 public:
  // Starts the job; `log` gets one line per run that changed something.
  // `hold_preparers` release timed-out holds with what their owner keeps (the mall's orders).
  Settler(store::LedgerStore& ledger, earning::EarningPrograms& programs,
          store::HoldReleasePreparers hold_preparers, const Clock& clock,
          std::chrono::seconds interval, std::ostream& log);
  // Stops after the run in progress, if any.
  ~Settler();
  Settler(const Settler&) = delete;
  Settler& operator=(const Settler&) = delete;

 private:
  void loop();
  void review_tiers_once_a_day(TimeUs now);

  store::LedgerStore& ledger_;
  earning::EarningPrograms& programs_;
  store::HoldReleasePreparers hold_preparers_;
  std::string reviewed_on_;  // the local date of the last tier review (the loop's thread only)
  const Clock& clock_;
  std::chrono::seconds interval_;
  std::ostream& log_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mutex_
  std::thread thread_;
};

}  // namespace pointsmall::app
