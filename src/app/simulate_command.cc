// `pointsmall simulate --data-dir DIR --from T --until T [--draft FILE] [--json]`: back-tests the
// program in force, or a draft of changes to it, over the stored events of a time range.
#include <chrono>
#include <fstream>
#include <iomanip>
#include <ostream>
#include <sstream>

#include "app/commands.h"
#include "app/stores.h"
#include "earning/backtest.h"
#include "earning/programs.h"

namespace pointsmall::app {
namespace {

void print_table(const std::string& title, const std::map<std::string, Points>& simulated,
                 const std::map<std::string, Points>& actual, std::ostream& out) {
  std::map<std::string, std::pair<Points, Points>> rows;
  for (const auto& [name, points] : simulated) rows[name].first = points;
  for (const auto& [name, points] : actual) rows[name].second = points;
  out << title << " (simulated / actual / difference):\n";
  for (const auto& [name, pair] : rows)
    out << "  " << std::left << std::setw(28) << (name.empty() ? "(none)" : name) << std::right
        << std::setw(14) << with_commas(pair.first) << std::setw(14) << with_commas(pair.second)
        << std::setw(14) << with_commas(pair.first - pair.second) << "\n";
}

}  // namespace

int simulate(const SimulateOptions& options, Console console) {
  // An existing ledger keeps its own policy.
  auto stores = open_stores(StoreLocation{options.data_dir, options.store_url}, false, console);
  if (!stores) return kExitBadInput;
  store::LedgerStore* ledger = stores->ledger.get();
  store::EarningDocuments* documents = stores->documents.get();
  store::MemberDirectory* members = stores->members.get();
  SystemClock clock;
  earning::EarningPrograms programs(*documents, ledger->policy().zone, clock);
  std::optional<rules::Program> program = *programs.current();
  if (!options.draft_file.empty()) {
    std::ifstream file(options.draft_file);
    std::stringstream text;
    text << file.rdbuf();
    const nlohmann::json draft = nlohmann::json::parse(text.str(), nullptr, false);
    if (!file || !draft.is_object()) {
      console.err << "error: " << options.draft_file << " is not a JSON object\n";
      return kExitBadInput;
    }
    std::vector<FieldError> errors;
    program = programs.with_draft(draft, "", errors);
    for (const FieldError& error : errors)
      console.err << "error: " << options.draft_file << ": " << error.field << " " << error.message
                  << "\n";
    if (!program) return kExitBadInput;
  }
  const auto started = std::chrono::steady_clock::now();
  const earning::BackTest result =
      earning::back_test(*ledger, *members, *program, options.from_us, options.until_us);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - started)
                        .count();
  if (options.json) {
    nlohmann::json answer = earning::back_test_json(result);
    answer["duration_ms"] = took;
    console.out << answer.dump(2) << "\n";
    return kExitOk;
  }
  console.out << "back-test " << format_rfc3339_utc(result.from_us) << " to "
              << format_rfc3339_utc(result.until_us) << "\n"
              << "  events     " << with_commas(result.events) << " of "
              << with_commas(result.members) << " members, replayed in " << took << " ms\n"
              << "  simulated  " << with_commas(result.simulated.points) << " points\n"
              << "  actual     " << with_commas(result.actual.points) << " points\n"
              << "  difference " << with_commas(result.simulated.points - result.actual.points)
              << "\n";
  for (const auto& [problem, count] : result.refused)
    console.out << "  refused under the draft (" << problem << "): " << with_commas(count) << "\n";
  if (result.events_without_record > 0)
    console.out << "  events stored before the earning engine: "
                << with_commas(result.events_without_record) << "\n";
  print_table("by rule", result.simulated.by_rule, result.actual.by_rule, console.out);
  print_table("by tier", result.simulated.by_tier, result.actual.by_tier, console.out);
  std::int64_t days_differing = 0;
  for (const auto& [day, points] : result.simulated.by_day)
    if (result.actual.by_day.count(day) == 0 || result.actual.by_day.at(day) != points)
      ++days_differing;
  for (const auto& [day, points] : result.actual.by_day)
    if (result.simulated.by_day.count(day) == 0) ++days_differing;
  console.out << "  days " << with_commas(static_cast<std::int64_t>(result.actual.by_day.size()))
              << ", of which differing " << with_commas(days_differing)
              << " (--json lists every day)\n";
  return kExitOk;
}

}  // namespace pointsmall::app
