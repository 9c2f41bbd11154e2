#include "store/sqlite/sqlite_reports.h"

#include <algorithm>
#include <map>
#include <string>

namespace pointsmall::store::sqlite {
std::vector<ActivityBucket> read_activity(Connection& db, TimeUs from_us) {
  from_us = std::max<TimeUs>(from_us, 0);
  std::map<std::int64_t, ActivityBucket> buckets;  // by number: time / kActivityBucketUs
  // One scan of the journal from `from_us`: the entries each transaction of the range made.
  Statement journal = db.prepare(
      "SELECT t.at_us / $2 AS b, "
      "-sum(CASE WHEN e.account = 'program_issued' THEN e.amount ELSE 0 END), "
      "sum(CASE WHEN e.account = 'program_spent' THEN e.amount ELSE 0 END), "
      "sum(CASE WHEN e.account = 'program_expired' THEN e.amount ELSE 0 END), "
      "sum(CASE WHEN e.account IN ('member_available', 'member_pending', 'member_frozen', "
      "'member_held') THEN e.amount ELSE 0 END) "
      "FROM transactions t JOIN entries e ON e.transaction_id = t.id "
      "WHERE t.at_us >= $1 GROUP BY b");
  journal.bind(1, from_us).bind(2, kActivityBucketUs);
  while (journal.step()) {
    ActivityBucket& bucket = buckets[journal.column_int(0)];
    bucket.issued = journal.column_int(1);
    bucket.redeemed = journal.column_int(2);
    bucket.expired = journal.column_int(3);
    bucket.outstanding_change = journal.column_int(4);
  }
  struct Count {
    const char* sql;
    std::int64_t ActivityBucket::*figure;
  };
  const Count counts[] = {
      {"SELECT opened_at_us / $2, count(*) FROM accounts WHERE opened_at_us >= $1 GROUP BY 1",
       &ActivityBucket::new_members},
      {"SELECT occurred_at_us / $2, count(*) FROM events "
       "WHERE occurred_at_us >= $1 AND type = 'checkin' GROUP BY 1",
       &ActivityBucket::checkins},
      {"SELECT created_at_us / $2, count(*) FROM records "
       "WHERE kind = 'redemption' AND created_at_us >= $1 GROUP BY 1",
       &ActivityBucket::redemptions},
  };
  for (const Count& count : counts) {
    Statement s = db.prepare(count.sql);
    s.bind(1, from_us).bind(2, kActivityBucketUs);
    while (s.step()) buckets[s.column_int(0)].*count.figure = s.column_int(1);
  }
  std::vector<ActivityBucket> out;
  out.reserve(buckets.size());
  for (auto& [number, bucket] : buckets) {
    bucket.start_us = number * kActivityBucketUs;
    out.push_back(bucket);
  }
  return out;
}

std::vector<ItemRedemptions> read_top_items(Connection& db, TimeUs from_us, TimeUs until_us,
                                            std::size_t limit) {
  Statement s = db.prepare(
      "SELECT json_extract(body, '$.item_id') AS item, max(json_extract(body, '$.item_name')), "
      "count(*), sum(json_extract(body, '$.quantity')) AS units, "
      "sum(json_extract(body, '$.points')) FROM records "
      "WHERE kind = 'redemption' AND created_at_us >= $1 AND created_at_us < $2 "
      "AND state NOT IN ('cancelled', 'failed') "
      "GROUP BY item ORDER BY units DESC, item LIMIT $3");
  s.bind(1, from_us).bind(2, until_us);
  s.bind(3, static_cast<std::int64_t>(std::min(limit, LedgerStore::kMaxTopItems)));
  std::vector<ItemRedemptions> out;
  while (s.step())
    out.push_back(ItemRedemptions{s.column_text(0), s.column_text(1), s.column_int(2),
                                  s.column_int(3), s.column_int(4)});
  return out;
}

}  // namespace pointsmall::store::sqlite
