#include "app/commands.h"

#include "app/stores.h"

#include <filesystem>
#include <ostream>

#include "app/progress.h"
#include "core/clock.h"
#include "earning/programs.h"
#include "mall/service/hold_release.h"
#include "mall/service/mall_audit.h"
#include "store/settlement.h"
#include "store/sqlite/sqlite_earning_documents.h"
#include "store/sqlite/sqlite_store.h"

namespace pointsmall::app {
namespace {

// Finds a member by external id, or by "#<id>"; says so when there is none.
std::optional<MemberId> find_member(store::LedgerStore& ledger, const std::string& member,
                                    Console console) {
  std::optional<MemberId> found;
  if (member.size() > 1 && member[0] == '#') {
    try {
      const MemberId id = std::stoll(member.substr(1));
      if (ledger.account(id)) found = id;
    } catch (const std::exception&) {  // not a number: no such member
    }
  } else {
    found = ledger.member_by_external_id(member);
  }
  if (!found) console.err << "error: no member " << member << "\n";
  return found;
}

void print_entries(const ledger::Transaction& tx, std::ostream& out) {
  for (const ledger::Entry& entry : tx.entries) {
    out << "    " << (entry.amount > 0 ? "+" : "") << entry.amount << " "
        << ledger::account_name(entry.account);
    if (entry.lot_id != 0) out << " (lot " << entry.lot_id << ")";
    out << "\n";
  }
}

}  // namespace

std::string database_path(const std::string& data_dir) {
  return (std::filesystem::path(data_dir) / "pointsmall.db").string();
}

std::string with_commas(std::int64_t value) {
  const std::string digits = std::to_string(value < 0 ? -value : value);
  std::string out = value < 0 ? "-" : "";
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

std::unique_ptr<store::SqliteLedgerStore> open_ledger(const std::string& data_dir, bool create,
                                                      store::SqliteOptions options,
                                                      Console console) {
  std::error_code error_code;
  bool new_directory = false;
  if (create) {
    new_directory = !std::filesystem::exists(data_dir, error_code);
    std::filesystem::create_directories(data_dir, error_code);
    if (error_code) {
      console.err << "error: cannot create data directory " << data_dir << ": "
                  << error_code.message() << "\n";
      return nullptr;
    }
  }
  // The ledger holds personal data and TOTP secrets: a new data directory is the owner's alone
  // (SQLite creates the database, its log and shared memory files inside it).
  if (new_directory)
    std::filesystem::permissions(data_dir, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace, error_code);
  options.path = database_path(data_dir);
  options.create_if_missing = create;
  if (!create && !std::filesystem::exists(options.path, error_code)) {
    console.err << "error: no ledger in " << data_dir << " (" << options.path
                << " is missing; run `pointsmall import` first)\n";
    return nullptr;
  }
  std::string error;
  auto ledger = store::open_sqlite_store(options, error);
  if (!ledger) console.err << "error: cannot open the ledger: " << error << "\n";
  return ledger;
}

std::unique_ptr<store::SqliteLedgerStore> open_ledger_file(const std::string& path,
                                                           store::SqliteOptions options,
                                                           Console console) {
  options.path = path;
  options.create_if_missing = false;
  std::string error;
  auto ledger = store::open_sqlite_store(options, error);
  if (!ledger) console.err << "error: cannot open the ledger " << path << ": " << error << "\n";
  return ledger;
}

int check_ledger(store::LedgerStore& ledger, store::EarningDocuments& documents, Console console,
                 CheckTotals& totals) {
  const ledger::Audit audit = ledger.audit();
  const store::ProgramSummary s = ledger.summary();
  totals.members = audit.members_checked();
  totals.transactions = audit.transactions_checked();
  console.out << "checked " << with_commas(audit.members_checked()) << " members, "
              << with_commas(audit.lots_checked()) << " lots, "
              << with_commas(audit.transactions_checked()) << " transactions\n";
  console.out << "issued " << with_commas(s.issued) << " = available " << with_commas(s.available)
              << " + pending " << with_commas(s.pending) << " + frozen " << with_commas(s.frozen)
              << " + held " << with_commas(s.held) << " + spent " << with_commas(s.spent)
              << " + expired " << with_commas(s.expired) << " + clawed back "
              << with_commas(s.clawed_back) << " + revoked " << with_commas(s.revoked) << " - debt "
              << with_commas(s.debt) << "\n";
  SystemClock clock;
  earning::EarningPrograms programs(documents, ledger.policy().zone, clock);
  mall::MallCatalog catalog(documents, programs, clock);
  const mall::MallAudit mall = mall::audit_mall(ledger, *catalog.current());
  console.out << "mall: checked " << with_commas(mall.orders_checked) << " orders, "
              << with_commas(mall.items_checked) << " items, " << with_commas(mall.coupons_checked)
              << " coupons\n";
  if (audit.clean() && mall.findings.empty()) {
    console.out << "ok: every balance re-derives from lots and journal, no item is oversold and "
                   "every order agrees with its hold; all invariants hold\n";
    return kExitOk;
  }
  for (const std::string& finding : audit.findings()) console.out << "DIFF " << finding << "\n";
  for (const std::string& finding : mall.findings) console.out << "DIFF " << finding << "\n";
  console.out << "FAILED: "
              << with_commas(audit.finding_count() +
                             static_cast<std::int64_t>(mall.findings.size()))
              << " differences\n";
  return kExitProblem;
}

int check(const StoreLocation& where, Console console) {
  auto stores = open_stores(where, false, console);
  if (!stores) return kExitBadInput;
  CheckTotals totals;
  return check_ledger(*stores->ledger, *stores->documents, console, totals);
}

int expire(const StoreLocation& where, TimeUs at_us, Console console) {
  auto stores = open_stores(where, false, console);
  if (!stores) return kExitBadInput;
  store::LedgerStore* ledger = stores->ledger.get();
  store::EarningDocuments* documents = stores->documents.get();
  // Timed-out redemptions are cancelled with their holds, as the server's settler does.
  SystemClock clock;
  earning::EarningPrograms programs(*documents, ledger->policy().zone, clock);
  mall::MallCatalog catalog(*documents, programs, clock);
  const store::SettlementRun run =
      store::settle_due(*ledger, at_us, mall::hold_release_preparers(*ledger, catalog, programs));
  const store::ProgramSummary s = ledger->summary();
  console.out << "expiry run at " << format_rfc3339_utc(at_us) << ": "
              << with_commas(run.members_settled) << " members settled, "
              << with_commas(run.holds_released) << " timed-out holds released\n"
              << "points expired in total: " << with_commas(s.expired)
              << ", available now: " << with_commas(s.available) << "\n";
  if (run.failures > 0) {
    console.err << "error: " << run.failures << " commands failed\n";
    return kExitProblem;
  }
  return kExitOk;
}

int balance(const StoreLocation& where, const std::string& member, Console console) {
  auto stores = open_stores(where, false, console);
  store::LedgerStore* ledger = stores ? stores->ledger.get() : nullptr;
  const auto member_id = ledger ? find_member(*ledger, member, console) : std::nullopt;
  if (!member_id) return kExitBadInput;
  const auto a = *ledger->account(*member_id);
  console.out << "member " << a.member_id << " (" << a.external_id << ")"
              << (a.account_frozen ? " FROZEN" : "") << "\n"
              << "  available " << with_commas(a.available) << "\n"
              << "  pending   " << with_commas(a.pending) << "\n"
              << "  frozen    " << with_commas(a.frozen) << "\n"
              << "  held      " << with_commas(a.held) << "\n"
              << "  debt      " << with_commas(a.debt) << "\n";
  console.out << "lots (id, state, remaining/amount, earned, expires, source, order):\n";
  for (const ledger::Lot& lot : ledger->lots(*member_id)) {
    if (lot.state != ledger::LotState::active && lot.state != ledger::LotState::pending &&
        lot.state != ledger::LotState::frozen)
      continue;
    console.out << "  " << lot.id << " " << ledger::lot_state_name(lot.state) << " "
                << lot.remaining << "/" << lot.amount << " " << format_rfc3339_utc(lot.earned_at_us)
                << " "
                << (lot.expires_at_us == kTimeNever ? "never"
                                                    : format_rfc3339_utc(lot.expires_at_us))
                << " " << lot.source << " " << lot.order_id << "\n";
  }
  return kExitOk;
}

int history(const StoreLocation& where, const std::string& member, std::size_t limit,
            Console console) {
  auto stores = open_stores(where, false, console);
  store::LedgerStore* ledger = stores ? stores->ledger.get() : nullptr;
  const auto member_id = ledger ? find_member(*ledger, member, console) : std::nullopt;
  if (!member_id) return kExitBadInput;
  for (const ledger::Transaction& tx : ledger->history(*member_id, 0, limit)) {
    console.out << format_rfc3339_utc(tx.at_us) << "  #" << tx.id << " "
                << ledger::transaction_kind_name(tx.kind);
    if (!tx.reference.empty()) console.out << " " << tx.reference;
    console.out << "  by " << tx.actor << ": " << tx.reason << "\n";
    print_entries(tx, console.out);
  }
  return kExitOk;
}

}  // namespace pointsmall::app
