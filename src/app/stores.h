// Where the program's data lives, and opening it: the embedded SQLite ledger of a data directory
// (the default), or a PostgreSQL database that several `pointsmall serve` nodes share. Every
// command that reads or writes the ledger opens it here, so both engines serve every command.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "app/commands.h"
#include "auth/credential_store.h"
#include "ledger/policy.h"
#include "store/earning_documents.h"
#include "store/member_directory.h"
#include "store/store.h"

namespace pointsmall::app {

struct StoreLocation {
  std::string data_dir = "data/ledger";  // the embedded store's directory
  std::string url;  // postgresql://... or postgres://...; when set, data_dir is not used
  [[nodiscard]] bool is_postgres() const { return !url.empty(); }
  // For messages: the directory, or the URL without its password.
  [[nodiscard]] std::string describe() const;
};

// An error message when `url` is not a PostgreSQL connection URL, else nullopt.
std::optional<std::string> store_url_problem(const std::string& url);

struct StoreSettings {
  std::size_t max_batch = 0;  // commands per commit; 0: the engine's default
  std::size_t readers = 0;    // PostgreSQL reader connections per process; 0: the default
  // Used when the store is new; an existing store keeps the policy it was created with.
  ledger::Policy policy_if_new;
  std::string time_zone_if_new = "UTC";
};

struct Stores {
  std::unique_ptr<store::LedgerStore> ledger;
  std::unique_ptr<store::MemberDirectory> members;
  std::unique_ptr<store::EarningDocuments> documents;
  std::unique_ptr<auth::CredentialStore> credentials;
};

// Opens the ledger (with `create`, a new data directory or an empty database is set up; the
// migrations are applied either way) and the stores kept beside it. On failure says what went
// wrong on console.err and returns nullopt.
std::optional<Stores> open_stores(const StoreLocation& where, bool create,
                                  const StoreSettings& settings, Console console);
// The same with the default settings (what a store that exists already keeps anyway).
std::optional<Stores> open_stores(const StoreLocation& where, bool create, Console console);

// Opens the credentials (API keys, operators) of `where` alone, so that `apikey create` and
// `operator create` work beside a running server: an embedded ledger that is migrated already
// is not opened (its server holds it); a new or older one is created or migrated first through
// open_stores. On failure says why on console.err and returns nullptr.
std::unique_ptr<auth::CredentialStore> open_credential_store(const StoreLocation& where,
                                                             Console console);

}  // namespace pointsmall::app
