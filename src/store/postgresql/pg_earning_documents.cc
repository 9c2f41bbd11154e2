#include "store/postgresql/pg_earning_documents.h"

#include "store/postgresql/pg_db.h"
#include "store/postgresql/pg_guarded_connection.h"

namespace pointsmall::store {
namespace {

using pg::Connection;
using pg::Params;
using pg::PgError;
using pg::Result;
using pg::Sql;

constexpr const char* kSelect =
    "SELECT kind, id, version, document, retired, created_at_us, created_by "
    "FROM earning_documents ";

// The advisory locks of documents are in the two-key space (the ledger's are single bigint
// keys), under a class of their own: "docs". hashtext runs on the server, so every node
// computes the same key; two ids that collide merely wait for each other.
constexpr Sql kLock{"earning_documents_lock",
                    "SELECT pg_advisory_xact_lock(1685021555, hashtext($1 || '/' || $2))"};
constexpr Sql kLatestVersion{
    "earning_documents_latest",
    "SELECT coalesce(max(version), 0) FROM earning_documents WHERE kind = $1 AND id = $2"};
constexpr Sql kInsert{
    "earning_documents_insert",
    "INSERT INTO earning_documents (kind, id, version, document, retired, created_at_us, "
    "created_by) VALUES ($1, $2, $3, $4, $5, $6, $7)"};
constexpr const char* kInForceWhere =
    "d WHERE kind = $1 AND retired = 0 AND version = (SELECT max(version) FROM earning_documents "
    "WHERE kind = d.kind AND id = d.id) ORDER BY id";
constexpr const char* kVersionsWhere = "WHERE kind = $1 AND id = $2 ORDER BY version DESC";
// Rows are never changed or removed (contract 1), so every committed save adds one to the count,
// and only once it is committed (a sequence's value would move before the commit, and a value
// built in between would be taken for the new one). The cost grows with the versions of every
// document, the mall's items too (measured: 25 to 70 ms for 100,000 versions of 1 KB), paid at
// most once a second by each value built from the documents (DocumentsFreshness).
constexpr Sql kGeneration{"earning_documents_generation", "SELECT count(*) FROM earning_documents"};

std::vector<EarningDocument> read_documents(const Result& r) {
  std::vector<EarningDocument> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i)
    out.push_back(EarningDocument{r.text(i, 0), r.text(i, 1), r.integer(i, 2), r.text(i, 3),
                                  r.integer(i, 4) != 0, r.integer(i, 5), r.text(i, 6)});
  return out;
}

// Commits the transaction of a save. A connection lost while committing leaves it unknown
// whether the save was made: that is reported as such, not tried again (which could add a second
// version, or answer `stale` to a save that was made).
void commit_save(Connection& db) {
  try {
    db.exec("COMMIT");
  } catch (const PgError& error) {
    if (!error.connection_lost()) throw;
    throw std::runtime_error(
        std::string("the database went away while a document was saved; whether it was "
                    "saved is unknown (look at its versions): ") +
        error.what());
  }
}

class PostgresEarningDocuments final : public EarningDocuments {
 public:
  explicit PostgresEarningDocuments(const std::string& url) : db_(url) {
    db_.with([](Connection& db) {
      pg::require_tables(db, "earning_documents", "the earning documents");
    });
  }

  Saved save(const std::string& kind, const std::string& id, const std::string& document,
             bool retire, const std::string& actor, TimeUs now_us,
             std::optional<std::int64_t> expected_version) override {
    return db_.with([&](Connection& db) {
      db.exec("BEGIN");
      std::int64_t latest = 0;
      try {
        db.run(kLock, Params().add(kind).add(id));
        latest = db.run(kLatestVersion, Params().add(kind).add(id)).integer(0, 0);
        if (expected_version && *expected_version != latest) {
          db.exec("ROLLBACK");
          return Saved{true, latest};
        }
        db.run(kInsert, Params()
                            .add(kind)
                            .add(id)
                            .add(latest + 1)
                            .add(document)
                            .add(std::int64_t{retire ? 1 : 0})
                            .add(now_us)
                            .add(actor));
      } catch (const PgError&) {
        pg::roll_back_quietly(db);
        throw;
      }
      commit_save(db);
      return Saved{false, latest + 1};
    });
  }

  std::vector<EarningDocument> in_force(const std::string& kind) override {
    return db_.with([&](Connection& db) {
      return read_documents(db.query(std::string(kSelect) + kInForceWhere, Params().add(kind)));
    });
  }

  std::vector<EarningDocument> versions(const std::string& kind, const std::string& id) override {
    return db_.with([&](Connection& db) {
      return read_documents(
          db.query(std::string(kSelect) + kVersionsWhere, Params().add(kind).add(id)));
    });
  }

  std::int64_t generation() override {
    return db_.with([](Connection& db) { return db.run(kGeneration).integer(0, 0); });
  }

 private:
  pg::GuardedConnection db_;
};

}  // namespace

std::unique_ptr<EarningDocuments> open_postgres_earning_documents(const std::string& url) {
  return std::make_unique<PostgresEarningDocuments>(url);
}

}  // namespace pointsmall::store
