// The `pointsmall` command line.
#include <CLI/CLI.hpp>
#include <iostream>

#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "api/api.h"
#include "app/commands.h"
#include "app/serve_config.h"
#include "app/stores.h"
#include "core/time_zone.h"

extern char** environ;  // NOLINT(readability-redundant-declaration): POSIX, for POINTSMALL_*

namespace {

std::map<std::string, std::string> environment() {
  std::map<std::string, std::string> out;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string text(*entry);
    const auto equals = text.find('=');
    if (equals != std::string::npos && text.rfind("POINTSMALL_", 0) == 0)
      out[text.substr(0, equals)] = text.substr(equals + 1);
  }
  return out;
}

// The first line of standard input; typed without echo on a terminal.
std::string read_password() {
  std::string password;
  termios saved{};
  const bool terminal = isatty(STDIN_FILENO) != 0 && tcgetattr(STDIN_FILENO, &saved) == 0;
  if (terminal) {
    std::cerr << "password (10 characters or more): ";
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::getline(std::cin, password);
  if (terminal) {
    tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    std::cerr << "\n";
  }
  return password;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace pointsmall;  // NOLINT(google-build-using-namespace): main only
  CLI::App cli{"pointsmall: a loyalty points ledger with a points mall"};
  cli.require_subcommand(1);
  app::Console console{std::cout, std::cerr};
  // Where the ledger is, for the commands that take --data-dir or --store (app/stores.h).
  std::string data_dir;
  std::string store_url;
  auto add_store_options = [&](CLI::App* command) {
    command->add_option("--data-dir", data_dir, "Ledger directory (the embedded store)");
    command->add_option("--store", store_url, "A PostgreSQL database (postgresql://...)");
  };

  auto* import = cli.add_subcommand("import", "Import a data set into the ledger");
  import->require_subcommand(1);
  auto* retail =
      import->add_subcommand("online-retail",
                             "Replay the UCI Online Retail data set (gzipped CSV) as members, "
                             "purchases and cancellations");
  app::ImportOptions import_options;
  retail->add_option("FILE", import_options.file, "online_retail.csv.gz")->required();
  retail->add_option("--data-dir", import_options.data_dir, "Ledger directory")->required();
  retail
      ->add_option("--expiry", import_options.expiry,
                   "Expiry of a new ledger: never | days:N | end-of-month:N | end-of-year:N | "
                   "rolling:N")
      ->capture_default_str();
  retail
      ->add_option("--shortfall", import_options.shortfall,
                   "Clawback a member cannot cover: debt | absorb-after-lots | absorb")
      ->capture_default_str();
  retail->add_option("--time-zone", import_options.time_zone, "The shop's time zone")
      ->capture_default_str();
  retail->add_flag("--quiet", import_options.quiet, "No progress bar");

  auto* demo = cli.add_subcommand(
      "demo",
      "Fill a fresh data directory with a lively demo program (members and a year of history "
      "from the Online Retail data set, a catalog, a demo member and operator)");
  app::DemoOptions demo_options;
  demo->add_option("--data-dir", demo_options.data_dir, "A new ledger directory")->required();
  demo->add_option("--data", demo_options.data_file, "The Online Retail data set (gzipped CSV)")
      ->capture_default_str();
  demo->add_flag("--quiet", demo_options.quiet, "Print nothing but errors");

  auto* check = cli.add_subcommand(
      "check", "Re-derive every balance from lots and journal and verify all invariants");
  add_store_options(check);

  auto* backup = cli.add_subcommand(
      "backup",
      "Copy the ledger to a file while the server keeps serving (SQLite's online backup), then "
      "check the copy as `check` does");
  app::BackupOptions backup_options;
  backup->add_option("--data-dir", backup_options.data_dir, "Ledger directory")->required();
  backup->add_option("--to", backup_options.to, "The backup file to write (not in use)")
      ->required();
  backup->add_flag("--force", backup_options.force, "Replace the backup file if it exists");
  backup
      ->add_option(
          "--pages-per-step", backup_options.pages_per_step,
          "Pages copied per step; a short pause between steps leaves the disk to the server")
      ->check(CLI::Range(1, 1'000'000))
      ->capture_default_str();
  backup->footer(
      "The copy is written to FILE.tmp, fsynced, then renamed to FILE, so FILE is always whole.\n"
      "To restore: stop `pointsmall serve` and wait for it to end; move pointsmall.db and any\n"
      "pointsmall.db-wal and pointsmall.db-shm out of the data directory (together: a log must\n"
      "never meet another database); copy FILE in as pointsmall.db, owner-only\n"
      "(install -m 600 FILE DIR/pointsmall.db); run `pointsmall check --data-dir DIR`; start the\n"
      "server. See docs/operations.md.\n");

  auto* expire = cli.add_subcommand("expire", "Mature and expire points due up to a time");
  std::string at = "now";
  add_store_options(expire);
  expire->add_option("--at", at, "RFC 3339 time or YYYY-MM-DD (default: now)");

  std::string member;
  std::size_t limit = 50;
  auto* balance = cli.add_subcommand("balance", "Show a member's balances and lots");
  add_store_options(balance);
  balance->add_option("MEMBER", member, "External id, or #member-id")->required();
  auto* history = cli.add_subcommand("history", "Show a member's transactions, newest first");
  add_store_options(history);
  history->add_option("MEMBER", member, "External id, or #member-id")->required();
  history->add_option("--limit", limit, "At most this many transactions")
      ->check(CLI::Range(1, 1000));

  auto* simulate = cli.add_subcommand(
      "simulate", "Back-test the earning program, or a draft of changes, over stored events");
  app::SimulateOptions simulate_options;
  std::string simulate_from;
  std::string simulate_until;
  add_store_options(simulate);
  simulate->add_option("--from", simulate_from, "Start (RFC 3339 or YYYY-MM-DD)")->required();
  simulate->add_option("--until", simulate_until, "End, exclusive (RFC 3339 or YYYY-MM-DD)")
      ->required();
  simulate->add_option("--draft", simulate_options.draft_file,
                       "JSON file of changes to the program (see docs/earning.md)");
  simulate->add_flag("--json", simulate_options.json, "Print the whole report as JSON");

  auto* serve = cli.add_subcommand(
      "serve", "Serve the HTTP API (config file, then POINTSMALL_* variables, then flags)");
  std::string config_file;
  std::string listen;
  std::string serve_data_dir;
  std::string port_file;
  serve->add_option("--config", config_file, "TOML configuration file");
  serve->add_option("--data-dir", serve_data_dir, "Ledger directory (default data/ledger)");
  std::string serve_store_url;
  serve->add_option("--store", serve_store_url,
                    "A PostgreSQL database (postgresql://...) instead of the ledger directory");
  serve->add_option("--listen", listen, "HOST:PORT to listen on (default 127.0.0.1:8080)");
  serve->add_option("--port-file", port_file, "Write the port listened on to this file");
  std::string web_dir;
  serve->add_option("--web-dir", web_dir,
                    "Serve the built front end from this directory (web/dist) beside the API");

  cli.add_subcommand("routes",
                     "Print the API's routes and the roles that may call them (JSON lines)");

  auto* apikey = cli.add_subcommand("apikey", "Manage API keys");
  apikey->require_subcommand(1);
  auto* apikey_create = apikey->add_subcommand("create", "Create an API key; prints it last");
  std::string name;
  std::string role;
  add_store_options(apikey_create);
  apikey_create->add_option("--name", name, "A name for the key, e.g. the shop's backend")
      ->required();
  apikey_create->add_option("--role", role, "merchant | operator | admin | analyst")->required();

  auto* operator_cmd = cli.add_subcommand("operator", "Manage console operators");
  operator_cmd->require_subcommand(1);
  auto* operator_create =
      operator_cmd->add_subcommand("create", "Create an operator; prints the TOTP secret");
  std::string password;
  add_store_options(operator_create);
  operator_create->add_option("--name", name, "Sign-in name")->required();
  operator_create->add_option("--role", role, "operator | admin | analyst")->required();
  operator_create->add_option(
      "--password", password,
      "Password, 10 characters or more (better kept out of the command line: without this "
      "option it comes from POINTSMALL_PASSWORD, else the first line of standard input)");

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return cli.exit(error) == 0 ? 0 : app::kExitBadInput;
  }
  // Exactly one of --data-dir and --store, for the commands that take them.
  auto location = [&]() -> std::optional<app::StoreLocation> {
    if (data_dir.empty() == store_url.empty()) {
      std::cerr << "error: give the ledger's --data-dir, or --store with a PostgreSQL URL "
                   "(one of them)\n";
      return std::nullopt;
    }
    if (!store_url.empty()) {
      if (auto problem = app::store_url_problem(store_url)) {
        std::cerr << "error: --store: " << *problem << "\n";
        return std::nullopt;
      }
    }
    return app::StoreLocation{data_dir, store_url};
  };
  try {
    if (*serve) {
      app::ServeConfig config;
      if (!config_file.empty()) {
        std::ifstream in(config_file);
        if (!in) {
          std::cerr << "error: cannot read config file " << config_file << "\n";
          return app::kExitBadInput;
        }
        std::stringstream text;
        text << in.rdbuf();
        if (auto error = app::apply_toml(config, text.str(), config_file)) {
          std::cerr << "error: " << *error << "\n";
          return app::kExitBadInput;
        }
      }
      if (auto error = app::apply_environment(config, environment())) {
        std::cerr << "error: " << *error << "\n";
        return app::kExitBadInput;
      }
      if (!serve_data_dir.empty()) config.data_dir = serve_data_dir;
      if (!serve_store_url.empty()) config.store_url = serve_store_url;
      if (!web_dir.empty()) config.web_dir = web_dir;
      if (!listen.empty()) {
        if (auto error = app::apply_listen(config, listen)) {
          std::cerr << "error: " << *error << "\n";
          return app::kExitBadInput;
        }
      }
      return app::serve(config, port_file, console);
    }
    if (cli.got_subcommand("routes")) {
      std::cout << api::route_table_json_lines();
      return app::kExitOk;
    }
    if (*apikey_create) {
      SystemClock clock;
      const auto where = location();
      if (!where) return app::kExitBadInput;
      return app::apikey_create(*where, name, role, clock, console);
    }
    if (*operator_create) {
      SystemClock clock;
      if (password.empty()) {
        const char* from_environment = std::getenv("POINTSMALL_PASSWORD");
        if (from_environment != nullptr) {
          password = from_environment;
        } else {
          password = read_password();
        }
      }
      const auto where = location();
      if (!where) return app::kExitBadInput;
      return app::operator_create(*where, name, role, password, clock, console);
    }
    if (*retail) return app::import_online_retail(import_options, console);
    if (*demo) {
      // Like serve's, the time comes from POINTSMALL_TEST_CLOCK_FILE when the tests set it.
      SystemClock system_clock;
      std::optional<FileClock> test_clock;
      if (const char* clock_file = std::getenv("POINTSMALL_TEST_CLOCK_FILE"))
        test_clock.emplace(clock_file);
      const Clock& clock = test_clock ? static_cast<const Clock&>(*test_clock) : system_clock;
      return app::demo(demo_options, clock, console);
    }
    if (*check || *expire || *balance || *history || *simulate) {
      if (!location()) return app::kExitBadInput;
    }
    if (*check) return app::check(*location(), console);
    if (*backup) return app::backup(backup_options, console);
    if (*expire) {
      SystemClock clock;
      const auto at_us = at == "now" ? std::optional<TimeUs>(clock.now_us()) : parse_rfc3339(at);
      if (!at_us) {
        std::cerr << "error: --at " << at << " is not an RFC 3339 time or a date\n";
        return app::kExitBadInput;
      }
      return app::expire(*location(), *at_us, console);
    }
    if (*simulate) {
      const auto from_us = parse_rfc3339(simulate_from);
      const auto until_us = parse_rfc3339(simulate_until);
      if (!from_us || !until_us || *until_us <= *from_us) {
        std::cerr << "error: --from and --until must be RFC 3339 times or dates, from first\n";
        return app::kExitBadInput;
      }
      simulate_options.from_us = *from_us;
      simulate_options.until_us = *until_us;
      simulate_options.data_dir = data_dir;
      simulate_options.store_url = store_url;
      return app::simulate(simulate_options, console);
    }
    if (*balance) return app::balance(*location(), member, console);
    if (*history) return app::history(*location(), member, limit, console);
  } catch (const std::exception& error) {  // a ledger file that cannot be read
    std::cerr << "error: " << error.what() << "\n";
    return app::kExitBadInput;
  }
  return app::kExitBadInput;
}
