// `pointsmall check` on SQLite: re-derives every balance from the rows and runs ledger::Audit.
#pragma once

#include "ledger/audit.h"
#include "store/sqlite/sqlite_db.h"
#include "store/store.h"

namespace pointsmall::store::sqlite {

// Reads the whole ledger (inside the caller's read transaction) and checks every invariant.
ledger::Audit audit_database(Connection& db);
// Program-wide balances from the journal, and row counts.
ProgramSummary summarize(Connection& db);

}  // namespace pointsmall::store::sqlite
