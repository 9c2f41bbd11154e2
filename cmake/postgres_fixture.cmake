# A private PostgreSQL server for the tests that need one, started and stopped by ctest itself
# through scripts/postgres.sh: plain `ctest`, `ctest -R one_test` and `ctest -j N` start it before
# the first test that needs it and stop it after the last one, also when tests fail. Only
# -FA/-FS/-FC (or -E postgres_, which excludes the fixture's tests themselves) leave it out.
# Include after enable_testing(). It provides:
#   POINTSMALL_TEST_POSTGRES_URL_FILE  the file holding the server's URL while the tests run,
#                                      postgresql://pointsmall@127.0.0.1:PORT/pointsmall
#   pointsmall_needs_postgres(TEST...) makes tests made with add_test() require the server
# Tests found by gtest_discover_tests() require it through its PROPERTIES:
#   gtest_discover_tests(unit_tests PROPERTIES FIXTURES_REQUIRED postgres)
# To start the server only for the tests of a binary that need it, discover the binary twice with
# filters that split its tests between the two calls (gtest filter syntax, case-sensitive):
#   gtest_discover_tests(unit_tests TEST_FILTER "*Postgres*" PROPERTIES FIXTURES_REQUIRED postgres)
#   gtest_discover_tests(unit_tests TEST_FILTER "-*Postgres*")

cmake_path(SET POINTSMALL_POSTGRES_SCRIPT NORMALIZE
           "${CMAKE_CURRENT_LIST_DIR}/../scripts/postgres.sh")
set(POINTSMALL_TEST_POSTGRES_DIR ${CMAKE_BINARY_DIR}/postgres)
set(POINTSMALL_TEST_POSTGRES_URL_FILE ${POINTSMALL_TEST_POSTGRES_DIR}/url)

# start also stops and removes a server an interrupted earlier run left in the folder.
add_test(NAME postgres_start
         COMMAND bash ${POINTSMALL_POSTGRES_SCRIPT} start ${POINTSMALL_TEST_POSTGRES_DIR})
add_test(NAME postgres_stop
         COMMAND bash ${POINTSMALL_POSTGRES_SCRIPT} stop ${POINTSMALL_TEST_POSTGRES_DIR})
# Starting waits up to 60 s for the server, stopping a stale one up to 120 s.
set_tests_properties(postgres_start PROPERTIES FIXTURES_SETUP postgres TIMEOUT 240)
set_tests_properties(postgres_stop PROPERTIES FIXTURES_CLEANUP postgres TIMEOUT 180)

# Every named test (made with add_test) runs only while the server runs; other fixtures the
# tests require are kept.
function(pointsmall_needs_postgres)
  set_property(TEST ${ARGN} APPEND PROPERTY FIXTURES_REQUIRED postgres)
endfunction()
