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
  return server + (server.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" +
         schema;
}

// `url` with the sessions it opens named `name` (a new name for every node of a test), so that
// terminate_sessions can find them.
inline std::string with_application_name(const std::string& url, const std::string& name) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + "application_name=" + name;
}

// Ends every session named `name` on the server of `url`, as a restart or a network failure
// would, and waits until they are gone; returns how many there were.
inline int terminate_sessions(const std::string& url, const std::string& name) {
  Connection admin = Connection::open(url);
  Params params;
  params.add(name);
  const int ended =
      static_cast<int>(admin
                           .query("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                  "WHERE application_name = $1",
                                  params)
                           .integer(0, 0));
  for (int wait = 0; wait < 500; ++wait) {
    if (admin.query("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", params)
            .integer(0, 0) == 0)
      return ended;
    ::usleep(10'000);
  }
  ADD_FAILURE() << "the sessions named " << name << " did not end";
  return ended;
}

}  // namespace pointsmall::store::pg
