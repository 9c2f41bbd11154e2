#include "app/settler.h"

#include <ostream>

#include "core/time_zone.h"
#include "earning/tier_review.h"
#include "store/settlement.h"

namespace pointsmall::app {

Settler::Settler(store::LedgerStore& ledger, earning::EarningPrograms& programs,
                 store::HoldReleasePreparers hold_preparers, const Clock& clock,
                 std::chrono::seconds interval, std::ostream& log)
    : ledger_(ledger),
      programs_(programs),
      hold_preparers_(std::move(hold_preparers)),
      clock_(clock),
      interval_(interval),
      log_(log),
      thread_([this] { loop(); }) {}

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
      const store::SettlementRun run = store::settle_due(ledger_, now, hold_preparers_);
      if (run.members_settled > 0 || run.holds_released > 0 || run.failures > 0) {
        log_ << "pointsmall: expiry run at " << format_rfc3339_utc(now) << ": "
             << run.members_settled << " members settled, " << run.holds_released
             << " holds released, " << run.failures << " failed\n";
      }
      review_tiers_once_a_day(now);
    } catch (const std::exception& error) {  // the store failed; try again next time
      log_ << "pointsmall: housekeeping failed: " << error.what() << "\n";
    }
    lock.lock();
    wake_.wait_for(lock, interval_, [this] { return stopping_; });
  }
}

void Settler::review_tiers_once_a_day(TimeUs now) {
  const auto program = programs_.current();
  const std::string today = format_local_date(*program->zone, now);
  if (today == reviewed_on_) return;
  const earning::TierReviewRun run = earning::review_tiers(ledger_, program, now);
  reviewed_on_ = today;
  if (run.reviewed > 0 || run.failures > 0)
    log_ << "pointsmall: tier review at " << format_rfc3339_utc(now) << ": " << run.reviewed
         << " members reviewed, " << run.changed << " moved, " << run.failures << " failed\n";
}

}  // namespace pointsmall::app
