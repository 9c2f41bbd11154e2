// For tests: a fresh, empty schema on the private PostgreSQL server the test run started
// (cmake/postgres_fixture.cmake), and the connection URL that works in it.
//
// The server's URL comes from the environment variable POINTSMALL_TEST_POSTGRES when set, else
// from the file the fixture wrote (POINTSMALL_TEST_POSTGRES_URL_FILE, compiled in). Without
// either, the test fails saying how to get a server: PostgreSQL tests are never skipped.
// Schemas are not dropped: the whole server goes when the run's fixture stops it.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <string>

#include "store/postgresql/pg_db.h"

namespace pointsmall::store::pg {

inline std::string test_server_url() {
  if (const char* url = std::getenv("POINTSMALL_TEST_POSTGRES"); url != nullptr && *url != '\0')
    return url;
#ifdef POINTSMALL_TEST_POSTGRES_URL_FILE
  std::ifstream in(POINTSMALL_TEST_POSTGRES_URL_FILE);
  std::string url;
  if (std::getline(in, url) && !url.empty()) return url;
#endif
  ADD_FAILURE() << "no PostgreSQL server for the tests: run them with ctest (which starts one, "
                   "see cmake/postgres_fixture.cmake) or set POINTSMALL_TEST_POSTGRES";
  return "";
}

// The URL of a new schema of its own, e.g. for one store contract test or one server process.
inline std::string fresh_test_schema_url() {
  static std::atomic<int> counter{0};
  const std::string server = test_server_url();
  if (server.empty()) return "";
  const std::string schema =
      "t_" + std::to_string(::getpid()) + "_" + std::to_string(counter.fetch_add(1)) + "_" +
      std::to_string(std::rand() % 1000000);  // NOLINT(cert-msc30-c): a name, not a secret
  try {
    Connection::open(server).exec("CREATE SCHEMA " + schema);
  } catch (const PgError& error) {
    ADD_FAILURE() << "cannot create a test schema: " << error.what();
    return "";
  }
  // libpq passes `options` to the server: every session of this URL works in the schema.
  return server + (server.find('?') == std::string::npos ? "?" : "&") +
         "options=-csearch_path%3D" + schema;
}

}  // namespace pointsmall::store::pg
