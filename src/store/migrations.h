// Numbered SQL migrations, applied in order at start-up (src/store/migrations/NNN_name.sql).
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
const std::vector<Migration>& migrations();

}  // namespace pointsmall::store
