// `pointsmall import online-retail FILE --data-dir DIR`: replays the UCI Online Retail data set as
// members, purchases and refunds. Purchases are events evaluated by the earning engine like the
// API's, under the program in force (a new data directory starts with 1 point per whole pound
// spent, available at once, valid 365 days), and are stored for back-tests.
#include <map>
#include <mutex>
#include <ostream>

#include "api/program.h"
#include "app/commands.h"
#include "app/online_retail.h"
#include "app/progress.h"
#include "earning/event_payload.h"
#include "earning/preparers.h"
#include "earning/programs.h"
#include "store/sqlite/sqlite_earning_documents.h"
#include "store/sqlite/sqlite_store.h"

namespace pointsmall::app {
namespace {

constexpr MinorUnits kMinorPerPoint = 100;  // purchases below one pound are not imported
constexpr const char* kCurrency = "GBP";

// Counts results as the writer reports them (the callbacks run on the writer thread).
class Tally {
 public:
  store::LedgerStore::Callback counter(std::int64_t* accepted_points) {
    return [this, accepted_points](const store::CommandResult& result) {
      std::lock_guard lock(mutex_);
      ++settled_;
      if (!result.storage_error.empty()) {
        ++storage_errors_;
        last_storage_error_ = result.storage_error;
      } else if (result.rejection) {
        ++rejected_[std::string(ledger::rejection_name(*result.rejection))];
      } else if (result.refusal) {
        ++rejected_[result.refusal->problem];
      } else if (result.replayed) {
        ++replayed_;
      } else if (accepted_points != nullptr) {
        *accepted_points += result.outcome.points;
      }
    };
  }
  std::int64_t settled() {
    std::lock_guard lock(mutex_);
    return settled_;
  }
  std::int64_t storage_errors() const { return storage_errors_; }
  std::int64_t replayed() const { return replayed_; }
  const std::string& last_storage_error() const { return last_storage_error_; }
  const std::map<std::string, std::int64_t>& rejected() const { return rejected_; }

 private:
  std::mutex mutex_;
  std::int64_t settled_ = 0;
  std::int64_t storage_errors_ = 0;
  std::int64_t replayed_ = 0;
  std::string last_storage_error_;
  std::map<std::string, std::int64_t> rejected_;
};

struct Totals {
  std::int64_t purchases = 0, refunds = 0, purchases_without_points = 0;
  std::int64_t points_issued = 0, points_clawed_back = 0;
};

// Opens an account per customer and returns their member ids.
std::map<std::string, MemberId> open_accounts(store::LedgerStore& ledger,
                                              const online_retail::Plan& plan, Tally& tally) {
  std::map<std::string, MemberId> members;
  std::mutex mutex;
  for (const online_retail::Event& event : plan.events) {
    if (event.kind != online_retail::Event::Kind::purchase) continue;
    const std::string& customer = event.purchase.customer_id;
    if (members.count(customer)) continue;
    members[customer] = 0;
    ledger::Command command{"member:" + customer,
                            0,
                            event.purchase.at_us,
                            "import",
                            "customer in the Online Retail data set",
                            ledger::OpenAccount{customer}};
    auto count = tally.counter(nullptr);
    ledger.submit(std::move(command), [&, customer, count](const store::CommandResult& r) {
      count(r);
      std::lock_guard lock(mutex);
      if (r.ok()) members[customer] = r.outcome.member_id;
    });
  }
  ledger.flush();
  for (auto& [customer, id] : members)  // an account opened by an earlier import of this file
    if (id == 0) id = ledger.member_by_external_id(customer).value_or(0);
  return members;
}

// The purchase as an event of the API would be: its body is what the store keeps for back-tests.
nlohmann::json purchase_payload(const online_retail::Purchase& p, MemberId member) {
  return {{"type", "purchase"},
          {"member_id", member},
          {"order_id", p.order_id},
          {"amount", {{"amount", p.amount_minor}, {"currency", kCurrency}}},
          {"occurred_at", format_rfc3339_utc(p.at_us)}};
}

ledger::Command purchase_command(const online_retail::Purchase& p, MemberId member,
                                 const nlohmann::json& payload) {
  ledger::Earn earn;  // its points come from the earning engine
  earn.source = "purchase";
  earn.order_id = p.order_id;
  earn.order_amount_minor = p.amount_minor;
  ledger::Command command{
      "purchase:" + p.order_id,
      member,
      p.at_us,
      "import",
      "purchase " + p.order_id + " of " + api::format_money(p.amount_minor, kCurrency),
      earn};
  command.event = ledger::EventRecord{"purchase", p.at_us, payload.dump()};
  return command;
}

ledger::Command refund_command(const online_retail::Refund& r, MemberId member) {
  return ledger::Command{"refund:" + r.cancellation_id + ":" + r.order_id,
                         member,
                         r.at_us,
                         "import",
                         "cancellation " + r.cancellation_id + " of order " + r.order_id,
                         ledger::Refund{r.order_id, r.amount_minor}};
}

void replay_events(store::LedgerStore& ledger, earning::EarningPrograms& programs,
                   const online_retail::Plan& plan, const std::map<std::string, MemberId>& members,
                   Tally& tally, Totals& totals, bool quiet) {
  const auto program = programs.current();
  std::optional<Progress> progress;
  if (!quiet) progress.emplace("replaying events", static_cast<std::int64_t>(plan.events.size()));
  std::int64_t submitted = 0;
  for (const online_retail::Event& event : plan.events) {
    ++submitted;
    if (event.kind == online_retail::Event::Kind::purchase) {
      ++totals.purchases;
      if (event.purchase.amount_minor < kMinorPerPoint) {
        ++totals.purchases_without_points;
        continue;
      }
      const MemberId member = members.at(event.purchase.customer_id);
      const nlohmann::json payload = purchase_payload(event.purchase, member);
      rules::Member facts;
      facts.id = member;
      auto preparer = std::make_shared<earning::EventPreparer>(
          program, earning::event_from_payload("purchase", event.purchase.at_us, payload), facts);
      ledger.submit_prepared(purchase_command(event.purchase, member, payload), preparer,
                             tally.counter(&totals.points_issued));
    } else {
      ++totals.refunds;
      auto it = members.find(event.refund.customer_id);
      const MemberId member = it == members.end() ? 0 : it->second;
      ledger.submit(refund_command(event.refund, member),
                    tally.counter(&totals.points_clawed_back));
    }
    if (progress && submitted % 4096 == 0) progress->update(submitted);
  }
  ledger.flush();
}

void print_summary(const online_retail::Plan& plan, const Totals& totals, const Tally& tally,
                   std::size_t members, std::ostream& out) {
  out << "import summary\n"
      << "  rows read            " << with_commas(plan.rows_read) << "\n"
      << "  members              " << with_commas(static_cast<std::int64_t>(members)) << "\n"
      << "  events               " << with_commas(totals.purchases + totals.refunds) << " ("
      << with_commas(totals.purchases) << " purchases, " << with_commas(totals.refunds)
      << " refunds)\n"
      << "  points issued        " << with_commas(totals.points_issued) << "\n"
      << "  points clawed back   " << with_commas(-totals.points_clawed_back) << "\n";
  if (totals.purchases_without_points > 0)
    out << "  purchases under 1 GBP (no points) " << with_commas(totals.purchases_without_points)
        << "\n";
  std::int64_t skipped = 0;
  for (const auto& [reason, count] : plan.skipped_rows) skipped += count;
  out << "  rows skipped         " << with_commas(skipped) << "\n";
  for (const auto& [reason, count] : plan.skipped_rows)
    out << "    " << reason << ": " << with_commas(count) << "\n";
  if (tally.replayed() > 0)
    out << "  already in the ledger (idempotent replays, not counted again) "
        << with_commas(tally.replayed()) << "\n";
  for (const auto& [reason, count] : tally.rejected())
    out << "  events refused by the ledger (" << reason << "): " << with_commas(count) << "\n";
}

}  // namespace

int import_online_retail(const ImportOptions& options, Console console) {
  const auto zone = TimeZone::load(options.time_zone);
  if (!zone) {
    console.err << "error: unknown time zone " << options.time_zone << "\n";
    return kExitBadInput;
  }
  store::SqliteOptions store_options;
  auto expiry = ledger::parse_expiry_policy(options.expiry);
  auto shortfall = ledger::parse_shortfall_policy(options.shortfall);
  if (!expiry || !shortfall) {
    console.err << "error: bad --expiry or --shortfall (see --help)\n";
    return kExitBadInput;
  }
  store_options.policy_if_new.expiry = *expiry;
  store_options.policy_if_new.shortfall = *shortfall;
  store_options.policy_if_new.zone = zone;
  store_options.time_zone_if_new = options.time_zone;

  online_retail::Plan plan;
  online_retail::ReadError read_error;
  {
    std::optional<Progress> progress;
    constexpr std::int64_t kSteps = 1000;
    if (!options.quiet) progress.emplace("reading " + options.file, kSteps);
    auto report = [&](std::int64_t done, std::int64_t total) {
      if (progress && total > 0) progress->update(done * kSteps / total);
    };
    if (!online_retail::read_plan(options.file, *zone, plan, read_error, report)) {
      if (progress) progress->finish();
      console.err << "error: " << read_error.message << "\n";
      return kExitBadInput;
    }
  }
  if (options.end_yesterday_of_us != 0) {
    const std::int64_t days =
        online_retail::shift_to_end_yesterday(plan, options.end_yesterday_of_us, *zone);
    console.out << "events moved " << days << " days, so that the data set's last day is "
                << "yesterday\n";
  }
  auto ledger = open_ledger(options.data_dir, true, store_options, console);
  if (!ledger) return kExitBadInput;
  Tally tally;
  Totals totals;
  auto documents = store::open_sqlite_earning_documents(database_path(options.data_dir));
  SystemClock clock;
  earning::EarningPrograms programs(*documents, ledger->policy().zone, clock);
  programs.seed_if_empty({earning::base_rate_rule(kCurrency, 2, 1)});
  const auto members = open_accounts(*ledger, plan, tally);
  replay_events(*ledger, programs, plan, members, tally, totals, options.quiet);
  print_summary(plan, totals, tally, members.size(), console.out);
  if (tally.storage_errors() > 0) {
    console.err << "error: " << tally.storage_errors()
                << " commands were not stored: " << tally.last_storage_error() << "\n";
    return kExitProblem;
  }
  return kExitOk;
}

}  // namespace pointsmall::app
