#include "app/settler.h"

#include <ostream>

#include "core/time_zone.h"
#include "store/settlement.h"

namespace pointsmall::app {

Settler::Settler(store::LedgerStore& ledger, const Clock& clock, std::chrono::seconds interval,
                 std::ostream& log)
    : ledger_(ledger), clock_(clock), interval_(interval), log_(log), thread_([this] { loop(); }) {}

Settler::~Settler() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void Settler::loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    const TimeUs now = clock_.now_us();
    try {
      const store::SettlementRun run = store::settle_due(ledger_, now);
      if (run.members_settled > 0 || run.holds_released > 0 || run.failures > 0) {
        log_ << "pointsmall: expiry run at " << format_rfc3339_utc(now) << ": "
             << run.members_settled << " members settled, " << run.holds_released
             << " holds released, " << run.failures << " failed\n";
      }
    } catch (const std::exception& error) {  // the store failed; try again next time
      log_ << "pointsmall: expiry run failed: " << error.what() << "\n";
    }
    lock.lock();
    wake_.wait_for(lock, interval_, [this] { return stopping_; });
  }
}

}  // namespace pointsmall::app
