// Earning documents on the ledger's SQLite file, through a connection of their own.
#pragma once

#include <memory>
#include <string>

#include "store/earning_documents.h"

namespace pointsmall::store {

// Opens the documents on a database the ledger store has already created and migrated.
// Throws std::runtime_error when the file cannot be opened.
std::unique_ptr<EarningDocuments> open_sqlite_earning_documents(const std::string& path);

}  // namespace pointsmall::store
