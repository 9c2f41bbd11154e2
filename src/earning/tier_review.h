// The tier review: after each tier period ends, members above the first tier whose measure fell
// short are moved down under the program's downgrade policy (rules::review_tier). The server
// runs it once a day; a member with nothing due is left without a transaction.
#pragma once

#include <cstdint>
#include <memory>

#include "rules/program.h"
#include "store/store.h"

namespace pointsmall::earning {

struct TierReviewRun {
  std::int64_t reviewed = 0;  // members with a review due, reviewed
  std::int64_t changed = 0;   // of which moved to another tier
  std::int64_t failures = 0;  // commands the store failed or refused otherwise
};

// Reviews every member above the first tier as of `at_us` and waits for all of them. The keys
// name the member and the local date, so a second run on the same day changes nothing more.
TierReviewRun review_tiers(store::LedgerStore& ledger,
                           const std::shared_ptr<const rules::Program>& program, TimeUs at_us);

}  // namespace pointsmall::earning
