// One connection that a store's threads take turns on, made again when it broke: the connection
// of the credential store, the member directory and the earning documents (the ledger store has
// a writer and a pool of readers of its own).
#pragma once

#include <mutex>
#include <string>
#include <utility>

#include "store/postgresql/pg_db.h"

namespace pointsmall::store::pg {

class GuardedConnection {
 public:
  // Connects now. Throws PgError saying which server could not be reached and why.
  explicit GuardedConnection(std::string url) : url_(std::move(url)), db_(Connection::open(url_)) {}

  // Runs fn(Connection&) while holding the connection, and returns what it returns. When the
  // connection turns out broken (PgError::connection_lost(), or found so before the call), it is
  // made again and fn runs once more; a second failure propagates as PgError, a
  // std::runtime_error (the API answers 503).
  //
  // So fn may run twice. It must leave no transaction open when it throws, and be safe to run
  // again after a lost connection: one that failed before its COMMIT changed nothing, but one
  // whose COMMIT (or single autocommitted statement) was cut off may have taken effect.
  template <typename Fn>
  auto with(Fn&& fn) {
    std::lock_guard lock(mutex_);
    if (!db_.healthy()) db_ = Connection::open(url_);
    try {
      return fn(db_);
    } catch (const PgError& error) {
      if (!error.connection_lost() && db_.healthy()) throw;
    }
    db_ = Connection::open(url_);
    return fn(db_);
  }

 private:
  const std::string url_;
  std::mutex mutex_;
  Connection db_;  // guarded by mutex_
};

// Rolls back the transaction left open by a failure, unless the connection is gone (which ends
// the transaction anyway). Never throws: the caller is already handling the first error.
inline void roll_back_quietly(Connection& db) noexcept {
  if (!db.healthy()) return;
  try {
    db.exec("ROLLBACK");
  } catch (const PgError&) {  // the connection broke in between: nothing left to roll back
  }
}

// Throws PgError 42P01 naming `what` when the tables are missing from the schema of `db`'s
// search_path: the database has not been migrated (open the ledger store on it first).
inline void require_tables(Connection& db, const std::string& tables, const std::string& what) {
  try {
    db.exec("SELECT 1 FROM " + tables + " WHERE false");
  } catch (const PgError& error) {
    if (error.sqlstate() != "42P01") throw;
    throw PgError(error.sqlstate(), "the database lacks the tables of " + what + " (" +
                                        error.what() +
                                        "): open the ledger first to apply migrations");
  }
}

}  // namespace pointsmall::store::pg
