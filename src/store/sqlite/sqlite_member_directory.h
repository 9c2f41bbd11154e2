// The member directory on the ledger's SQLite file, through a connection of its own.
#pragma once

#include <memory>
#include <string>

#include "store/member_directory.h"

namespace pointsmall::store {

// Opens the directory on a database the ledger store has already created and migrated.
// Throws std::runtime_error when the file cannot be opened.
std::unique_ptr<MemberDirectory> open_sqlite_member_directory(const std::string& path);

}  // namespace pointsmall::store
