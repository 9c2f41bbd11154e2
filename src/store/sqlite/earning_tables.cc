#include "store/sqlite/earning_tables.h"

namespace pointsmall::store::sqlite {
namespace {

constexpr const char* kSelectCounter = "SELECT value FROM counters WHERE scope = $1 AND name = $2";

void read_into(Statement& select, const std::vector<CounterKey>& keys, Counters& out) {
  for (const CounterKey& key : keys) {
    StatementScope scope(select);
    select.bind(1, key.scope).bind(2, key.name);
    out[key] = select.step() ? select.column_int(0) : 0;
  }
}

}  // namespace

EarningTables::EarningTables(Connection& c)
    : select_counter_(c.prepare(kSelectCounter)),
      upsert_counter_(c.prepare("INSERT INTO counters (scope, name, value) VALUES ($1, $2, $3) "
                                "ON CONFLICT (scope, name) DO UPDATE SET value = excluded.value")),
      insert_earning_(c.prepare(
          "INSERT INTO earnings (transaction_id, member_id, record) VALUES ($1, $2, $3)")),
      insert_tier_change_(c.prepare(
          "INSERT INTO tier_changes (member_id, transaction_id, at_us, from_level, to_level, "
          "reason) VALUES ($1, $2, $3, $4, $5, $6)")) {}

Counters EarningTables::read(const std::vector<CounterKey>& keys) {
  Counters out;
  read_into(select_counter_, keys, out);
  return out;
}

void EarningTables::apply(const Preparation& preparation, MemberId member_id,
                          TransactionId transaction_id, TimeUs at_us) {
  for (const auto& [key, value] : preparation.counter_updates)
    upsert_counter_.bind(1, key.scope).bind(2, key.name).bind(3, value).run();
  if (!preparation.earning_record.empty())
    insert_earning_.bind(1, transaction_id)
        .bind(2, member_id)
        .bind(3, preparation.earning_record)
        .run();
  if (const auto& change = preparation.tier_change) {
    insert_tier_change_.bind(1, member_id).bind(2, transaction_id).bind(3, at_us);
    insert_tier_change_.bind(4, change->from_level)
        .bind(5, change->to_level)
        .bind(6, change->reason)
        .run();
  }
}

Counters read_counters(Connection& db, const std::vector<CounterKey>& keys) {
  Statement select = db.prepare(kSelectCounter);
  Counters out;
  read_into(select, keys, out);
  return out;
}

std::vector<MemberId> members_with_counter(Connection& db, const std::string& name,
                                           std::int64_t at_least, MemberId after,
                                           std::size_t limit) {
  Statement s = db.prepare(
      "SELECT scope FROM counters WHERE name = $1 AND value >= $2 AND scope > $3 "
      "ORDER BY scope LIMIT $4");
  s.bind(1, name).bind(2, at_least).bind(3, after).bind(4, static_cast<std::int64_t>(limit));
  std::vector<MemberId> out;
  while (s.step()) out.push_back(s.column_int(0));
  return out;
}

std::optional<std::string> read_earning_record(Connection& db, TransactionId transaction_id) {
  Statement s = db.prepare("SELECT record FROM earnings WHERE transaction_id = $1");
  s.bind(1, transaction_id);
  if (!s.step()) return std::nullopt;
  return s.column_text(0);
}

std::vector<TierChangeRow> read_tier_changes(Connection& db, MemberId member_id,
                                             std::size_t limit) {
  Statement s = db.prepare(
      "SELECT transaction_id, at_us, from_level, to_level, reason FROM tier_changes "
      "WHERE member_id = $1 ORDER BY id DESC LIMIT $2");
  s.bind(1, member_id).bind(2, static_cast<std::int64_t>(limit));
  std::vector<TierChangeRow> out;
  while (s.step())
    out.push_back(TierChangeRow{member_id, s.column_int(0), s.column_int(1),
                                static_cast<int>(s.column_int(2)),
                                static_cast<int>(s.column_int(3)), s.column_text(4)});
  return out;
}

std::vector<StoredEvent> read_events(Connection& db, TimeUs from_us, TimeUs until_us,
                                     TransactionId after, std::size_t limit) {
  Statement s = db.prepare(
      "SELECT e.transaction_id, e.member_id, e.type, e.occurred_at_us, t.at_us, e.payload, "
      "t.result, coalesce(r.record, '') FROM events e "
      "JOIN transactions t ON t.id = e.transaction_id "
      "LEFT JOIN earnings r ON r.transaction_id = e.transaction_id "
      "WHERE e.transaction_id > $1 AND e.occurred_at_us >= $2 AND e.occurred_at_us < $3 "
      "ORDER BY e.transaction_id LIMIT $4");
  s.bind(1, after).bind(2, from_us).bind(3, until_us).bind(4, static_cast<std::int64_t>(limit));
  std::vector<StoredEvent> out;
  while (s.step()) {
    StoredEvent event{s.column_int(0), s.column_int(1), s.column_text(2),
                      s.column_int(3), s.column_int(4), s.column_text(5)};
    auto outcome = ledger::decode_outcome(s.column_text(6));
    if (!outcome) throw SqliteError(SQLITE_CORRUPT, "unreadable transaction result");
    event.points = outcome->points;
    event.earning_record = s.column_text(7);
    out.push_back(std::move(event));
  }
  return out;
}

}  // namespace pointsmall::store::sqlite
