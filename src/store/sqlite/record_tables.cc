#include "store/sqlite/record_tables.h"

#include <algorithm>

namespace pointsmall::store::sqlite {
namespace {

constexpr const char* kColumns =
    "kind, id, seq, member_id, state, created_at_us, updated_at_us, body";

constexpr const char* kSelectByKey =
    "SELECT kind, id, seq, member_id, state, created_at_us, updated_at_us, body FROM records "
    "WHERE kind = $1 AND id = $2";

Record record_at(const Statement& s) {
  Record r;
  r.kind = s.column_text(0);
  r.id = s.column_text(1);
  r.seq = s.column_int(2);
  r.member_id = s.column_int(3);
  r.state = s.column_text(4);
  r.created_at_us = s.column_int(5);
  r.updated_at_us = s.column_int(6);
  r.body = s.column_text(7);
  return r;
}

std::optional<Record> select_one(Statement& select, const RecordKey& key) {
  StatementScope scope(select);
  select.bind(1, key.kind).bind(2, key.id);
  if (!select.step()) return std::nullopt;
  return record_at(select);
}

}  // namespace

RecordTables::RecordTables(Connection& c)
    : select_(c.prepare(kSelectByKey)),
      upsert_(c.prepare(
          "INSERT INTO records (kind, id, member_id, state, created_at_us, updated_at_us, body) "
          "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (kind, id) DO UPDATE SET "
          "member_id = excluded.member_id, state = excluded.state, "
          "updated_at_us = excluded.updated_at_us, body = excluded.body")) {}

Records RecordTables::read(const std::vector<RecordKey>& keys) {
  Records out;
  for (const RecordKey& key : keys)
    if (auto record = select_one(select_, key)) out.emplace(key, std::move(*record));
  return out;
}

void RecordTables::write(const std::vector<Record>& records) {
  for (const Record& r : records) {
    upsert_.bind(1, r.kind).bind(2, r.id).bind(3, r.member_id).bind(4, r.state);
    upsert_.bind(5, r.created_at_us).bind(6, r.updated_at_us).bind(7, r.body).run();
  }
}

std::optional<Record> read_record(Connection& db, const RecordKey& key) {
  Statement select = db.prepare(kSelectByKey);
  return select_one(select, key);
}

std::vector<Record> read_records(Connection& db, const LedgerStore::RecordQuery& query) {
  std::string sql = std::string("SELECT ") + kColumns + " FROM records WHERE kind = $1";
  if (query.member_id != 0) sql += " AND member_id = $2";
  if (!query.state.empty()) sql += " AND state = $3";
  if (query.before_seq != 0) sql += " AND seq < $4";
  sql += " ORDER BY seq DESC LIMIT $5";
  Statement s = db.prepare(sql);
  s.bind(1, query.kind);
  if (query.member_id != 0) s.bind(2, query.member_id);
  if (!query.state.empty()) s.bind(3, query.state);
  if (query.before_seq != 0) s.bind(4, query.before_seq);
  s.bind(5, static_cast<std::int64_t>(std::min(query.limit, LedgerStore::kMaxRecordPage)));
  std::vector<Record> out;
  while (s.step()) out.push_back(record_at(s));
  return out;
}

std::vector<std::string> insert_new_records(Connection& db, const std::vector<Record>& records) {
  Statement insert = db.prepare(
      "INSERT INTO records (kind, id, member_id, state, created_at_us, updated_at_us, body) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (kind, id) DO NOTHING");
  std::vector<std::string> existing;
  for (const Record& r : records) {
    insert.bind(1, r.kind).bind(2, r.id).bind(3, r.member_id).bind(4, r.state);
    insert.bind(5, r.created_at_us).bind(6, r.updated_at_us).bind(7, r.body).run();
    if (sqlite3_changes(db.handle()) == 0) existing.push_back(r.id);
  }
  return existing;
}

}  // namespace pointsmall::store::sqlite
