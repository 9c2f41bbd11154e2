#include "store/sqlite/sqlite_earning_documents.h"

#include <mutex>

#include "store/sqlite/sqlite_db.h"

namespace pointsmall::store {
namespace {

using sqlite::Connection;
using sqlite::SqliteError;
using sqlite::Statement;
using sqlite::StatementScope;

constexpr const char* kColumns =
    "SELECT kind, id, version, document, retired, created_at_us, created_by "
    "FROM earning_documents ";

EarningDocument read_document(const Statement& row) {
  return EarningDocument{row.column_text(0), row.column_text(1),     row.column_int(2),
                         row.column_text(3), row.column_int(4) != 0, row.column_int(5),
                         row.column_text(6)};
}

class SqliteEarningDocuments final : public EarningDocuments {
 public:
  explicit SqliteEarningDocuments(const std::string& path)
      : db_(path, false, false),
        latest_version_(db_.prepare(
            "SELECT coalesce(max(version), 0) FROM earning_documents WHERE kind = $1 AND id = $2")),
        insert_(db_.prepare(
            "INSERT INTO earning_documents (kind, id, version, document, retired, created_at_us, "
            "created_by) VALUES ($1, $2, $3, $4, $5, $6, $7)")),
        in_force_(db_.prepare(std::string(kColumns) +
                              "d WHERE kind = $1 AND retired = 0 AND version = (SELECT "
                              "max(version) FROM earning_documents WHERE kind = d.kind AND id = "
                              "d.id) ORDER BY id")),
        versions_(db_.prepare(std::string(kColumns) +
                              "WHERE kind = $1 AND id = $2 ORDER BY version DESC")),
        generation_(db_.prepare("SELECT coalesce(max(rowid), 0) FROM earning_documents")) {
    db_.exec("PRAGMA busy_timeout = 5000");
    db_.exec("PRAGMA synchronous = FULL");  // an answered save is on disk
  }

  Saved save(const std::string& kind, const std::string& id, const std::string& document,
             bool retire, const std::string& actor, TimeUs now_us,
             std::optional<std::int64_t> expected_version) override {
    std::lock_guard lock(mutex_);
    db_.exec("BEGIN IMMEDIATE");
    try {
      std::int64_t latest = 0;
      {
        StatementScope scope(latest_version_);
        latest_version_.bind(1, kind).bind(2, id);
        if (latest_version_.step()) latest = latest_version_.column_int(0);
      }
      if (expected_version && *expected_version != latest) {
        db_.exec("ROLLBACK");
        return Saved{true, latest};
      }
      insert_.bind(1, kind).bind(2, id).bind(3, latest + 1).bind(4, document);
      insert_.bind(5, retire ? 1 : 0).bind(6, now_us).bind(7, actor).run();
      db_.exec("COMMIT");
      return Saved{false, latest + 1};
    } catch (const SqliteError&) {
      try {
        db_.exec("ROLLBACK");
      } catch (const SqliteError&) {  // already rolled back
      }
      throw;
    }
  }

  std::vector<EarningDocument> in_force(const std::string& kind) override {
    std::lock_guard lock(mutex_);
    std::vector<EarningDocument> out;
    StatementScope scope(in_force_);
    in_force_.bind(1, kind);
    while (in_force_.step()) out.push_back(read_document(in_force_));
    return out;
  }

  std::vector<EarningDocument> versions(const std::string& kind, const std::string& id) override {
    std::lock_guard lock(mutex_);
    std::vector<EarningDocument> out;
    StatementScope scope(versions_);
    versions_.bind(1, kind).bind(2, id);
    while (versions_.step()) out.push_back(read_document(versions_));
    return out;
  }

  std::int64_t generation() override {
    std::lock_guard lock(mutex_);
    StatementScope scope(generation_);
    return generation_.step() ? generation_.column_int(0) : 0;
  }

 private:
  std::mutex mutex_;
  Connection db_;
  Statement latest_version_;
  Statement insert_;
  Statement in_force_;
  Statement versions_;
  Statement generation_;
};

}  // namespace

std::unique_ptr<EarningDocuments> open_sqlite_earning_documents(const std::string& path) {
  return std::make_unique<SqliteEarningDocuments>(path);
}

}  // namespace pointsmall::store
