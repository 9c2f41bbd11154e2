#include "app/stores.h"

#include <filesystem>
#include <ostream>

#include "auth/pg_credential_store.h"
#include "auth/sqlite_credential_store.h"
#include "store/migrations.h"
#include "store/postgresql/pg_db.h"
#include "store/postgresql/pg_earning_documents.h"
#include "store/postgresql/pg_member_directory.h"
#include "store/postgresql/pg_store.h"
#include "store/sqlite/sqlite_earning_documents.h"
#include "store/sqlite/sqlite_member_directory.h"
#include "store/sqlite/sqlite_store.h"

namespace pointsmall::app {

std::string StoreLocation::describe() const {
  return is_postgres() ? store::pg::redact(url) : data_dir;
}

std::optional<std::string> store_url_problem(const std::string& url) {
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) return std::nullopt;
  return "the store URL must start with postgresql:// (e.g. "
         "postgresql://user:password@host:5432/database)";
}

namespace {

std::optional<Stores> open_sqlite_stores(const StoreLocation& where, bool create,
                                         const StoreSettings& settings, Console console) {
  store::SqliteOptions options;
  if (settings.max_batch > 0) options.max_batch = settings.max_batch;
  options.policy_if_new = settings.policy_if_new;
  options.time_zone_if_new = settings.time_zone_if_new;
  Stores stores;
  stores.ledger = open_ledger(where.data_dir, create, options, console);
  if (!stores.ledger) return std::nullopt;
  const std::string path = database_path(where.data_dir);
  std::string error;
  stores.credentials = auth::open_sqlite_credential_store(path, error);
  if (!stores.credentials) {
    console.err << "error: cannot open credentials: " << error << "\n";
    return std::nullopt;
  }
  stores.members = store::open_sqlite_member_directory(path);
  stores.documents = store::open_sqlite_earning_documents(path);
  return stores;
}

std::optional<Stores> open_postgres_stores(const StoreLocation& where,
                                           const StoreSettings& settings, Console console) {
  if (auto problem = store_url_problem(where.url)) {
    console.err << "error: " << *problem << "\n";
    return std::nullopt;
  }
  store::PostgresOptions options;
  options.url = where.url;
  if (settings.max_batch > 0) options.max_batch = settings.max_batch;
  if (settings.readers > 0) options.readers = settings.readers;
  options.policy_if_new = settings.policy_if_new;
  options.time_zone_if_new = settings.time_zone_if_new;
  Stores stores;
  std::string error;
  stores.ledger = store::open_postgres_store(options, error);
  if (!stores.ledger) {
    console.err << "error: cannot open the ledger: " << error << "\n";
    return std::nullopt;
  }
  stores.credentials = auth::open_postgres_credential_store(where.url, error);
  if (!stores.credentials) {
    console.err << "error: cannot open credentials: " << error << "\n";
    return std::nullopt;
  }
  try {
    stores.members = store::open_postgres_member_directory(where.url);
    stores.documents = store::open_postgres_earning_documents(where.url);
  } catch (const std::exception& failure) {
    console.err << "error: " << failure.what() << "\n";
    return std::nullopt;
  }
  return stores;
}

}  // namespace

std::optional<Stores> open_stores(const StoreLocation& where, bool create,
                                  const StoreSettings& settings, Console console) {
  // A database is made by its administrator; `create` only sets up an empty one.
  return where.is_postgres() ? open_postgres_stores(where, settings, console)
                             : open_sqlite_stores(where, create, settings, console);
}

std::optional<Stores> open_stores(const StoreLocation& where, bool create, Console console) {
  static const StoreSettings defaults;
  return open_stores(where, create, defaults, console);
}

std::unique_ptr<auth::CredentialStore> open_credential_store(const StoreLocation& where,
                                                             Console console) {
  if (!where.is_postgres()) {
    const std::string path = database_path(where.data_dir);
    std::error_code missing;
    bool migrated = false;
    if (std::filesystem::exists(path, missing)) {
      try {
        migrated = store::sqlite_schema_version(path) == store::migrations().back().version;
      } catch (const std::exception&) {
        migrated = false;  // open_stores below says what is wrong with the file
      }
    }
    if (migrated) {
      std::string error;
      auto credentials = auth::open_sqlite_credential_store(path, error);
      if (!credentials) console.err << "error: cannot open credentials: " << error << "\n";
      return credentials;
    }
  }
  auto stores = open_stores(where, /*create=*/true, console);
  if (!stores) return nullptr;
  return std::move(stores->credentials);
}

}  // namespace pointsmall::app
