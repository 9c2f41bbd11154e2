// The expiry run: releases holds that timed out and settles (matures and expires) every member
// with something due, as of one instant. Used by `pointsmall expire` and by the server's
// periodic settler.
#pragma once

#include <cstdint>

#include "store/store.h"

namespace pointsmall::store {

struct SettlementRun {
  std::int64_t members_settled = 0;
  std::int64_t holds_released = 0;
  std::int64_t failures = 0;  // commands the store failed or refused
};

// Submits the commands and waits for all of them. Their idempotency keys name the instant, so a
// run repeated for the same `at_us` changes nothing more.
SettlementRun settle_due(LedgerStore& ledger, TimeUs at_us);

}  // namespace pointsmall::store
