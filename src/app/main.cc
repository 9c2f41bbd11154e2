// The `pointsmall` command line.
#include <CLI/CLI.hpp>
#include <iostream>

#include "app/commands.h"
#include "core/time_zone.h"

int main(int argc, char** argv) {
  using namespace pointsmall;  // NOLINT(google-build-using-namespace): main only
  CLI::App cli{"pointsmall: a loyalty points ledger with a points mall"};
  cli.require_subcommand(1);
  app::Console console{std::cout, std::cerr};
  std::string data_dir = "data/ledger";

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

  auto* check = cli.add_subcommand(
      "check", "Re-derive every balance from lots and journal and verify all invariants");
  check->add_option("--data-dir", data_dir, "Ledger directory")->required();

  auto* expire = cli.add_subcommand("expire", "Mature and expire points due up to a time");
  std::string at = "now";
  expire->add_option("--data-dir", data_dir, "Ledger directory")->required();
  expire->add_option("--at", at, "RFC 3339 time or YYYY-MM-DD (default: now)");

  std::string member;
  std::size_t limit = 50;
  auto* balance = cli.add_subcommand("balance", "Show a member's balances and lots");
  balance->add_option("--data-dir", data_dir, "Ledger directory")->required();
  balance->add_option("MEMBER", member, "External id, or #member-id")->required();
  auto* history = cli.add_subcommand("history", "Show a member's transactions, newest first");
  history->add_option("--data-dir", data_dir, "Ledger directory")->required();
  history->add_option("MEMBER", member, "External id, or #member-id")->required();
  history->add_option("--limit", limit, "At most this many transactions")
      ->check(CLI::Range(1, 1000));

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return cli.exit(error) == 0 ? 0 : app::kExitBadInput;
  }
  try {
    if (*retail) return app::import_online_retail(import_options, console);
    if (*check) return app::check(data_dir, console);
    if (*expire) {
      SystemClock clock;
      const auto at_us = at == "now" ? std::optional<TimeUs>(clock.now_us()) : parse_rfc3339(at);
      if (!at_us) {
        std::cerr << "error: --at " << at << " is not an RFC 3339 time or a date\n";
        return app::kExitBadInput;
      }
      return app::expire(data_dir, *at_us, console);
    }
    if (*balance) return app::balance(data_dir, member, console);
    if (*history) return app::history(data_dir, member, limit, console);
  } catch (const std::exception& error) {  // a ledger file that cannot be read
    std::cerr << "error: " << error.what() << "\n";
    return app::kExitBadInput;
  }
  return app::kExitBadInput;
}
