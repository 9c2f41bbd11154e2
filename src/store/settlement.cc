#include "store/settlement.h"

#include <atomic>
#include <cstdint>
#include <string>

namespace pointsmall::store {

SettlementRun settle_due(LedgerStore& ledger, TimeUs at_us,
                         const HoldReleasePreparers& hold_preparers) {
  constexpr std::size_t kPage = 10'000;
  SettlementRun run;
  auto failures = std::make_shared<std::atomic<std::int64_t>>(0);
  auto count_failure = [failures](const CommandResult& r) {
    if (!r.ok()) failures->fetch_add(1);
  };
  const std::string stamp = std::to_string(at_us);
  for (auto& [member_id, hold_ref] : ledger.expired_holds(at_us, SIZE_MAX)) {
    ledger.submit_prepared(
        ledger::Command{"expire-hold:" + std::to_string(member_id) + ":" + hold_ref, member_id,
                        at_us, "system", "hold timed out", ledger::ReleaseHold{hold_ref}},
        hold_preparers ? hold_preparers(member_id, hold_ref) : nullptr, count_failure);
    ++run.holds_released;
  }
  MemberId after = 0;
  for (;;) {
    const auto due = ledger.members_due(at_us, after, kPage);
    if (due.empty()) break;
    for (MemberId member_id : due) {
      ledger.submit(ledger::Command{"expire:" + std::to_string(member_id) + ":" + stamp, member_id,
                                    at_us, "system", "scheduled expiry run", ledger::Settle{}},
                    count_failure);
    }
    run.members_settled += static_cast<std::int64_t>(due.size());
    after = due.back();
    ledger.flush();
  }
  ledger.flush();
  run.failures = failures->load();
  return run;
}

}  // namespace pointsmall::store
