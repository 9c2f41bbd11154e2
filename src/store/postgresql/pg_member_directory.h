// The member directory on the ledger's PostgreSQL database, through a connection of its own.
//
// Referral codes are assigned race-free across nodes: the insert of a member's first code does
// nothing when the member got one meanwhile (on another node), and the code in the table is
// what every node answers.
#pragma once

#include <memory>
#include <string>

#include "store/member_directory.h"

namespace pointsmall::store {

// Opens the directory on a database the ledger store has already created and migrated.
// Throws std::runtime_error (pg::PgError) saying which server and why when it cannot connect or
// the tables are missing.
std::unique_ptr<MemberDirectory> open_postgres_member_directory(const std::string& url);

}  // namespace pointsmall::store
