#include "earning/tier_review.h"

#include <atomic>

#include "earning/preparers.h"

namespace pointsmall::earning {

TierReviewRun review_tiers(store::LedgerStore& ledger,
                           const std::shared_ptr<const rules::Program>& program, TimeUs at_us) {
  TierReviewRun run;
  if (!program->tiers) return run;
  const std::string date = format_local_date(*program->zone, at_us);
  std::atomic<std::int64_t> reviewed{0}, changed{0}, failures{0};
  constexpr std::size_t kPage = 1000;
  for (MemberId after = 0;;) {
    const auto members = ledger.members_with_counter("tier", 1, after, kPage);
    for (MemberId member : members) {
      ledger::Command command;
      command.idempotency_key = "tier-review:" + std::to_string(member) + ":" + date;
      command.member_id = member;
      command.at_us = at_us;
      command.actor = "tier-review";
      command.reason = "tier review";
      command.body = ledger::RecordEvent{"tier_review"};
      auto preparer = TierPreparer::review(program, member);
      ledger.submit_prepared(
          std::move(command), preparer, [&, preparer](const store::CommandResult& result) {
            if (result.ok()) {
              ++reviewed;
              if (!result.replayed && preparer->evaluation().tier_change) ++changed;
            } else if (!result.refusal || result.refusal->problem != "tier_review_not_due") {
              ++failures;
            }
          });
    }
    if (members.size() < kPage) break;
    after = members.back();
  }
  ledger.flush();
  run.reviewed = reviewed;
  run.changed = changed;
  run.failures = failures;
  return run;
}

}  // namespace pointsmall::earning
