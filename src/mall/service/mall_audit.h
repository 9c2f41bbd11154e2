// The mall's invariants, re-derived from its records (for `pointsmall check`):
//  1. No oversell: for every item, the units taken (`item:<id>:taken`) are the units of its
//     orders that were not cancelled or failed, and never more than its stock.
//  2. An order's points and its ledger hold agree: the hold exists with the order's points, and
//     is open while the order awaits payment or confirmation, captured once it is confirmed
//     (through delivered), released once it is cancelled or failed.
//  3. Every coupon issued by a redemption or an operator is counted in its template's
//     `coupon:<template>:issued`, which is never more than the template's global cap.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mall/service/mall_catalog.h"
#include "store/store.h"

namespace pointsmall::mall {

struct MallAudit {
  std::int64_t orders_checked = 0;
  std::int64_t items_checked = 0;
  std::int64_t coupons_checked = 0;
  std::vector<std::string> findings;  // empty: every invariant holds
};

// Reads every order and coupon record (committed state) and the counters they imply.
MallAudit audit_mall(store::LedgerStore& ledger, const Catalog& catalog);

}  // namespace pointsmall::mall
