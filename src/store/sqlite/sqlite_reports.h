// The report queries of the SQLite store (LedgerStore::activity, top_items), on a reader's
// connection inside its read transaction.
#pragma once

#include <vector>

#include "store/sqlite/sqlite_db.h"
#include "store/store.h"

namespace pointsmall::store::sqlite {

std::vector<ActivityBucket> read_activity(Connection& db, TimeUs from_us);
std::vector<ItemRedemptions> read_top_items(Connection& db, TimeUs from_us, TimeUs until_us,
                                            std::size_t limit);

}  // namespace pointsmall::store::sqlite
