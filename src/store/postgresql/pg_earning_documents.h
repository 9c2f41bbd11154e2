// Earning documents on the ledger's PostgreSQL database, through a connection of their own.
//
// Several nodes save concurrently. A save is one transaction that first takes a
// transaction-level advisory lock on (kind, id), so that reading the latest version, checking
// `expected_version` and adding the next version happen as one step across nodes: versions stay
// dense and of two saves expecting the same version one wins, the other is `stale`.
#pragma once

#include <memory>
#include <string>

#include "store/earning_documents.h"

namespace pointsmall::store {

// Opens the documents on a database the ledger store has already created and migrated.
// Throws std::runtime_error (pg::PgError) saying which server and why when it cannot connect or
// the tables are missing.
std::unique_ptr<EarningDocuments> open_postgres_earning_documents(const std::string& url);

}  // namespace pointsmall::store
