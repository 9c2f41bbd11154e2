#include "store/sqlite/sqlite_reports.h"

#include <algorithm>
#include <map>
#include <string>

#include "store/activity_queries.h"

namespace pointsmall::store::sqlite {
std::vector<ActivityBucket> read_activity(Connection& db, TimeUs from_us) {
  from_us = std::max<TimeUs>(from_us, 0);
  std::map<std::int64_t, ActivityBucket> buckets;  // by number: time / kActivityBucketUs
  Statement journal = db.prepare(kActivityJournalSql);
  journal.bind(1, from_us).bind(2, kActivityBucketUs);
  while (journal.step()) {
    ActivityBucket& bucket = buckets[journal.column_int(0)];
    bucket.issued = journal.column_int(1);
    bucket.redeemed = journal.column_int(2);
    bucket.expired = journal.column_int(3);
    bucket.outstanding_change = journal.column_int(4);
  }
  for (const ActivityCountQuery& count : kActivityCountQueries) {
    Statement s = db.prepare(count.sql);
    s.bind(1, from_us).bind(2, kActivityBucketUs);
    while (s.step()) buckets[s.column_int(0)].*count.figure = s.column_int(1);
  }
  return ordered_buckets(buckets);
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
