// The mall's part of the expiry run (store/settlement.h): a redemption whose hold timed out (not
// paid, or not confirmed, in time) is cancelled with it, and its units go back to stock.
#pragma once

#include "earning/programs.h"
#include "mall/service/mall_catalog.h"
#include "store/settlement.h"

namespace pointsmall::mall {

// Preparers for the holds the mall made; nullptr (a plain release) for any other hold.
store::HoldReleasePreparers hold_release_preparers(store::LedgerStore& ledger, MallCatalog& catalog,
                                                   earning::EarningPrograms& programs);

}  // namespace pointsmall::mall
