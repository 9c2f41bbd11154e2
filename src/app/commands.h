// The `pointsmall` subcommands, callable from main() and from tests. Each returns the process
// exit code: 0 on success, 1 when the work found a problem (e.g. check found a difference),
// 2 on bad input (missing or corrupt files, bad arguments).
#pragma once

#include <iosfwd>
#include <memory>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/types.h"
#include "store/earning_documents.h"

namespace pointsmall::app {

inline constexpr int kExitOk = 0;
inline constexpr int kExitProblem = 1;
inline constexpr int kExitBadInput = 2;

struct Console {
  std::ostream& out;
  std::ostream& err;
};

// The ledger file inside a data directory.
std::string database_path(const std::string& data_dir);

struct ImportOptions {
  std::string file;
  std::string data_dir;
  std::string expiry = "days:365";          // used when the data directory is new
  std::string shortfall = "debt";           // likewise
  std::string time_zone = "Europe/London";  // the shop's time zone
  bool quiet = false;                       // no progress bar
  // When not 0: the events move by whole days so that the data set's last day is the day
  // before this time's (online_retail::shift_to_end_yesterday), as if the year ended yesterday.
  TimeUs end_yesterday_of_us = 0;
};
int import_online_retail(const ImportOptions& options, Console console);

struct DemoOptions {
  std::string data_dir;
  // The Online Retail data set. The default path is found from the current directory, else from
  // the repository of the binary (build/pointsmall -> data/online_retail.csv.gz).
  std::string data_file = "data/online_retail.csv.gz";
  bool quiet = false;  // print nothing but errors
};
// `pointsmall demo`: fills a fresh data directory (kExitBadInput when it holds a ledger already)
// with a program, a catalog with pictures (DATA_DIR/media/items), members and a year of history
// from the Online Retail data set ending yesterday by `clock`, check-ins and orders, a demo
// member, operator and API key; writes DATA_DIR/pointsmall.toml and DATA_DIR/demo.json (0600:
// {"member": {id, external_id, login, password}, "operator": {name, password, totp_secret},
// "api_key"}) and prints how to sign in.
int demo(const DemoOptions& options, const Clock& clock, Console console);

// The commands below work on either engine: `where` is a data directory or a PostgreSQL URL
// (app/stores.h).
struct StoreLocation;

int check(const StoreLocation& where, Console console);
// Matures and expires what is due at `at_us` and releases timed-out holds.
int expire(const StoreLocation& where, TimeUs at_us, Console console);
// `member` is the merchant's external id, or "#<member id>".
int balance(const StoreLocation& where, const std::string& member, Console console);
int history(const StoreLocation& where, const std::string& member, std::size_t limit,
            Console console);

// Creates an API key with role merchant, operator, admin or analyst in the data directory
// (creating and migrating the ledger if needed). Prints `created API key "NAME" (role ROLE)` and
// then the key alone on the last line of stdout: the only time it is shown.
int apikey_create(const StoreLocation& where, const std::string& name, const std::string& role,
                  const Clock& clock, Console console);
// Creates a console operator with role operator, admin or analyst. Prints the operator, its TOTP
// secret and the otpauth:// URI to load into an authenticator app (shown this once).
int operator_create(const StoreLocation& where, const std::string& name, const std::string& role,
                    const std::string& password, const Clock& clock, Console console);

struct SimulateOptions {
  std::string data_dir;
  std::string store_url;  // a PostgreSQL database instead of data_dir
  TimeUs from_us = 0;
  TimeUs until_us = 0;
  std::string draft_file;  // JSON changes to the program in force (earning/programs.h); "" none
  bool json = false;       // the whole report as JSON instead of a summary
};
// Back-tests the program (with the draft's changes) over the stored events of [from, until).
int simulate(const SimulateOptions& options, Console console);

struct BackupOptions {
  std::string data_dir;
  std::string to;             // the backup file; never the ledger itself
  bool force = false;         // replace an existing `to`
  int pages_per_step = 1024;  // pages copied between two pauses
};
// `pointsmall backup`: an online copy of the ledger of `data_dir` (a server may be running on
// it) to the file `to`, written to `to`.tmp, fsynced and renamed, then opened and checked as
// `check` does. Prints what it copied. Exit codes: kExitOk when the copy is written and clean;
// kExitBadInput for a missing or unreadable ledger, an existing `to` without `force`, or a `to`
// that cannot be written; kExitProblem when the copy failed midway or its check found
// differences (then the copy stays, as faithful as the ledger it came from).
int backup(const BackupOptions& options, Console console);

struct ServeConfig;
// Serves the HTTP API until SIGINT or SIGTERM, then finishes in-flight requests, makes every
// acknowledged write durable and returns 0. Writes the port listened on to `port_file` when it
// is not empty (for tests and scripts that listen on port 0).
int serve(const ServeConfig& config, const std::string& port_file, Console console);

}  // namespace pointsmall::app

namespace pointsmall::store {
class LedgerStore;
class SqliteLedgerStore;
struct SqliteOptions;
}  // namespace pointsmall::store

namespace pointsmall::app {

// Opens the ledger of a data directory; prints why and returns nullptr when it cannot.
std::unique_ptr<store::SqliteLedgerStore> open_ledger(const std::string& data_dir, bool create,
                                                      store::SqliteOptions options,
                                                      Console console);
// Opens the existing ledger file at `path` (e.g. a backup, outside any data directory); prints
// why and returns nullptr when it cannot.
std::unique_ptr<store::SqliteLedgerStore> open_ledger_file(const std::string& path,
                                                           store::SqliteOptions options,
                                                           Console console);

struct CheckTotals {
  std::int64_t members = 0;
  std::int64_t transactions = 0;
};
// What `check` does, on a ledger already open with its earning and mall documents: re-derives
// every balance, runs the ledger and the mall audits and prints them. Returns kExitOk when every
// invariant holds, kExitProblem (every difference printed) otherwise; fills `totals`.
int check_ledger(store::LedgerStore& ledger, store::EarningDocuments& documents, Console console,
                 CheckTotals& totals);

// 1234567 -> "1,234,567".
std::string with_commas(std::int64_t value);

}  // namespace pointsmall::app
