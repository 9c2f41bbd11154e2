// Numbered SQL migrations, applied in order at start-up (src/store/migrations/NNN_name.sql, and
// postgresql/NNN_name.sql for PostgreSQL: each schema change is written in both dialects).
#pragma once

#include <string_view>
#include <vector>

namespace pointsmall::store {

struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;
};

// Every migration, by ascending version. Generated at build time from the .sql files.
const std::vector<Migration>& migrations();  // SQLite
// The same versions and names in PostgreSQL's dialect (src/store/migrations/postgresql).
const std::vector<Migration>& postgresql_migrations();

}  // namespace pointsmall::store
