// Records beside the ledger on SQLite (migration 004): the writer's statements are prepared once;
// readers use the free functions on their own connection.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "store/preparer.h"
#include "store/sqlite/sqlite_db.h"
#include "store/store.h"

namespace pointsmall::store::sqlite {

class RecordTables {
 public:
  explicit RecordTables(Connection& connection);

  Records read(const std::vector<RecordKey>& keys);
  // Inserts or replaces each record (keeping an existing record's seq and created_at_us).
  void write(const std::vector<Record>& records);

 private:
  Statement select_;
  Statement upsert_;
};

std::optional<Record> read_record(Connection& db, const RecordKey& key);
std::vector<Record> read_records(Connection& db, const LedgerStore::RecordQuery& query);
// Inserts the records whose key is new, in the caller's transaction; returns the ids that existed.
std::vector<std::string> insert_new_records(Connection& db, const std::vector<Record>& records);

}  // namespace pointsmall::store::sqlite
