// What the earning engine keeps beside the ledger on SQLite (migration 003): counters, earning
// records and tier changes. The writer's statements are prepared once; readers use the free
// functions on their own connection.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/counters.h"
#include "store/preparer.h"
#include "store/sqlite/sqlite_db.h"
#include "store/store.h"

namespace pointsmall::store::sqlite {

class EarningTables {
 public:
  explicit EarningTables(Connection& connection);

  Counters read(const std::vector<CounterKey>& keys);
  // Writes what an accepted command's preparation decided, for its transaction.
  void apply(const Preparation& preparation, MemberId member_id, TransactionId transaction_id,
             TimeUs at_us);

 private:
  Statement select_counter_;
  Statement upsert_counter_;
  Statement insert_earning_;
  Statement insert_tier_change_;
};

Counters read_counters(Connection& db, const std::vector<CounterKey>& keys);
std::vector<MemberId> members_with_counter(Connection& db, const std::string& name,
                                           std::int64_t at_least, MemberId after,
                                           std::size_t limit);
std::optional<std::string> read_earning_record(Connection& db, TransactionId transaction_id);
std::vector<TierChangeRow> read_tier_changes(Connection& db, MemberId member_id, std::size_t limit);
std::vector<StoredEvent> read_events(Connection& db, TimeUs from_us, TimeUs until_us,
                                     TransactionId after, std::size_t limit);

}  // namespace pointsmall::store::sqlite
