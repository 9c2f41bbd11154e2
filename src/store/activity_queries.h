#pragma once
// The SQL of LedgerStore::activity, one text for SQLite and PostgreSQL (both take `$1` = the first
// instant, `$2` = kActivityBucketUs), and the step both engines end with.

#include <cstdint>
#include <map>
#include <vector>

#include "store/store.h"

namespace pointsmall::store {

// One scan of the journal from `$1`: per bucket, points issued (the program's issued account
// gives), spent, expired, and the net change of members' available, pending, frozen and held.
// Columns: bucket number, issued, redeemed, expired, outstanding change.
inline constexpr const char* kActivityJournalSql =
    "SELECT t.at_us / $2 AS b, "
    "-sum(CASE WHEN e.account = 'program_issued' THEN e.amount ELSE 0 END), "
    "sum(CASE WHEN e.account = 'program_spent' THEN e.amount ELSE 0 END), "
    "sum(CASE WHEN e.account = 'program_expired' THEN e.amount ELSE 0 END), "
    "sum(CASE WHEN e.account IN ('member_available', 'member_pending', 'member_frozen', "
    "'member_held') THEN e.amount ELSE 0 END) "
    "FROM transactions t JOIN entries e ON e.transaction_id = t.id "
    "WHERE t.at_us >= $1 GROUP BY b";

// The counted figures: columns bucket number, count.
struct ActivityCountQuery {
  const char* sql;
  std::int64_t ActivityBucket::*figure;
};
inline constexpr ActivityCountQuery kActivityCountQueries[] = {
    {"SELECT opened_at_us / $2, count(*) FROM accounts WHERE opened_at_us >= $1 GROUP BY 1",
     &ActivityBucket::new_members},
    {"SELECT occurred_at_us / $2, count(*) FROM events "
     "WHERE occurred_at_us >= $1 AND type = 'checkin' GROUP BY 1",
     &ActivityBucket::checkins},
    {"SELECT created_at_us / $2, count(*) FROM records "
     "WHERE kind = 'redemption' AND created_at_us >= $1 GROUP BY 1",
     &ActivityBucket::redemptions},
};

// The buckets by number (time / kActivityBucketUs), in time order with their start set.
inline std::vector<ActivityBucket> ordered_buckets(
    std::map<std::int64_t, ActivityBucket>& buckets) {
  std::vector<ActivityBucket> out;
  out.reserve(buckets.size());
  for (auto& [number, bucket] : buckets) {
    bucket.start_us = number * kActivityBucketUs;
    out.push_back(bucket);
  }
  return out;
}

}  // namespace pointsmall::store
