// The expiry run: releases holds that timed out and settles (matures and expires) every member
// with something due, as of one instant. Used by `pointsmall expire` and by the server's
// periodic settler.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "store/store.h"

namespace pointsmall::store {

struct SettlementRun {
  std::int64_t members_settled = 0;
  std::int64_t holds_released = 0;
  std::int64_t failures = 0;  // commands the store failed or refused
};

// The preparer that releases a timed-out hold together with what its owner keeps beside it (the
// mall gives an order's stock back and marks the order), or nullptr for a plain release.
using HoldReleasePreparers =
    std::function<std::shared_ptr<Preparer>(MemberId member_id, const std::string& hold_ref)>;

// Submits the commands and waits for all of them. Their idempotency keys name the instant, so a
// run repeated for the same `at_us` changes nothing more.
SettlementRun settle_due(LedgerStore& ledger, TimeUs at_us,
                         const HoldReleasePreparers& hold_preparers = {});

}  // namespace pointsmall::store
