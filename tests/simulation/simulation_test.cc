// The seed-driven simulation of the ledger: random commands, clock jumps, idempotent retries and
// crashes, run against the SQLite store and the in-memory reference model side by side.
//
// What it checks:
//  1. Every command gets the same result from SQLite as from the model: the same rejection, or
//     the same outcome (ids, points, balances after), replayed or not.
//  2. After every command, on the model: the touched member's balances re-derive from its lots,
//     holds and journal, and its next_due_us and live_lots_from_id from its lots
//     (MemoryLedgerStore::audit_member); program-wide, issued == available +
//     pending + frozen + held + spent + expired + clawed back + revoked - debt, and issued never
//     shrinks; the outcome's balances are the account's; what the command promises (an earn's
//     points, a full refund giving back the whole order, ...) holds.
//  3. Idempotency: a repeated key replays the first outcome exactly; a changed request under an
//     old key is idempotency_conflict; no key is ever accepted twice. Requests made to be refused
//     (invalid, for an unknown member, for a taken external id) are refused as such.
//  4. Crashes: the SQLite store is crashed (crash_for_test) between batches, or with a batch still
//     in flight; after reopening, every acknowledged command is there, unacknowledged ones were
//     not applied, and a full audit of the file is clean.
//  5. Reads (account, lots, history, members_due, expired_holds, summary) agree between the two.
//
// Determinism: one std::mt19937_64 seeded from the seed drives every choice (another one, seeded
// from it, picks what to spot-check), and nothing depends on the total number of steps, so a
// failure at step N replays with the same seed and any POINTSMALL_SIM_STEPS >= N:
//   POINTSMALL_SIM_SEED=7 POINTSMALL_SIM_STEPS=60000 build/system_tests --gtest_filter=Simul*
// One thing only depends on thread timing: how much of an in-flight batch SQLite acknowledged
// before a crash. The commands left unanswered are re-sent after reopening, in the same order, so
// the ledger (ids included) comes out the same either way.
//
// Default run: seeds 1..5 (each with a different expiry and shortfall policy and time zone),
// 200,000 steps in all; POINTSMALL_SIM_STEPS sets the total. With POINTSMALL_SIM_SEED set, the
// default seeds are skipped and SimulationReplay.SeedFromTheEnvironment runs that seed alone, for
// POINTSMALL_SIM_STEPS steps (default 40,000, a default seed's share, so that a failure of the
// default run replays with the seed alone).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/time_zone.h"
#include "store/memory/memory_store.h"
#include "store/sqlite/sqlite_store.h"

namespace pointsmall::simulation {
namespace {

using ledger::Command;
using ledger::Rejection;
using store::CommandResult;

constexpr std::int64_t kDefaultTotalSteps = 200'000;
constexpr std::uint64_t kDefaultSeeds[] = {1, 2, 3, 4, 5};
constexpr TimeUs kMinute = 60 * kMicrosPerSecond;
constexpr TimeUs kHour = 60 * kMinute;
constexpr TimeUs kEpoch = 1'704'067'200 * kMicrosPerSecond;  // 2024-01-01T00:00:00Z
constexpr std::size_t kRecentCommands = 4096;                // what retries pick from
constexpr std::size_t kSweepLimit = 25;    // members settled / holds released per sweep
constexpr std::size_t kSubmitChunk = 256;  // commands handed to SQLite at once

// ---- Settings from the environment --------------------------------------------------------------

struct Settings {
  std::optional<std::uint64_t> chosen_seed;  // POINTSMALL_SIM_SEED: run only this one
  std::int64_t steps_per_seed = 0;
};

std::optional<std::int64_t> env_number(const char* name) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return std::nullopt;
  char* end = nullptr;
  const long long value = std::strtoll(text, &end, 10);
  if (*end != '\0' || value < 0) {
    std::fprintf(stderr, "%s must be a non-negative integer, not '%s'\n", name, text);
    std::exit(2);
  }
  return value;
}

const Settings& settings() {
  static const Settings settings = [] {
    Settings s;
    const auto seed = env_number("POINTSMALL_SIM_SEED");
    const auto steps = env_number("POINTSMALL_SIM_STEPS");
    const auto default_seed_count = static_cast<std::int64_t>(std::size(kDefaultSeeds));
    if (seed) {
      s.chosen_seed = static_cast<std::uint64_t>(*seed);
      s.steps_per_seed = steps.value_or(kDefaultTotalSteps / default_seed_count);
    } else {
      s.steps_per_seed = steps.value_or(kDefaultTotalSteps) / default_seed_count;
    }
    return s;
  }();
  return settings;
}

// ---- Randomness that does not depend on the standard library's distributions --------------------

class Random {
 public:
  explicit Random(std::uint64_t seed) : engine_(seed) {}
  std::uint64_t next() { return engine_(); }
  // Uniform in [low, high]; the bias of the modulo is irrelevant here.
  std::int64_t between(std::int64_t low, std::int64_t high) {
    const auto span = static_cast<std::uint64_t>(high - low) + 1;
    return low + static_cast<std::int64_t>(engine_() % span);
  }
  // True with probability parts / 1000.
  bool per_mille(std::int64_t parts) { return between(0, 999) < parts; }
  std::size_t index(std::size_t size) {
    return static_cast<std::size_t>(between(0, static_cast<std::int64_t>(size) - 1));
  }
  // Mostly small, sometimes large: 1..high with a log-uniform spread.
  std::int64_t spread(std::int64_t high) {
    std::int64_t top = 10;
    while (top < high && per_mille(500)) top *= 10;
    return between(1, std::min(top, high));
  }
  template <typename T>
  const T& pick(const std::vector<T>& items) {
    return items[index(items.size())];
  }

 private:
  std::mt19937_64 engine_;
};

// ---- Descriptions for failure messages ----------------------------------------------------------

std::string time_text(TimeUs at_us) {
  if (at_us == kTimeNever) return "never";
  return format_rfc3339_utc(at_us) + "+" + std::to_string(at_us % kMicrosPerSecond) + "us";
}

std::string describe(const Command& c) {
  std::ostringstream out;
  out << ledger::command_name(c.body) << " key='" << c.idempotency_key << "' member=" << c.member_id
      << " at=" << time_text(c.at_us) << " actor='" << c.actor << "' reason='" << c.reason << "'";
  std::visit(
      [&out](const auto& b) {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, ledger::OpenAccount>) {
          out << " external_id='" << b.external_id << "'";
        } else if constexpr (std::is_same_v<T, ledger::Earn>) {
          out << " points=" << b.points << " source='" << b.source << "' order='" << b.order_id
              << "' amount=" << b.order_amount_minor << " cost=" << b.cost_minor
              << " matures=" << time_text(b.matures_at_us)
              << " expires=" << (b.expires_at_us == 0 ? "policy" : time_text(b.expires_at_us));
        } else if constexpr (std::is_same_v<T, ledger::Spend>) {
          out << " points=" << b.points << " order='" << b.order_id << "'";
        } else if constexpr (std::is_same_v<T, ledger::PlaceHold>) {
          out << " hold='" << b.hold_ref << "' points=" << b.points
              << " expires=" << time_text(b.expires_at_us);
        } else if constexpr (std::is_same_v<T, ledger::CaptureHold> ||
                             std::is_same_v<T, ledger::ReleaseHold>) {
          out << " hold='" << b.hold_ref << "'";
        } else if constexpr (std::is_same_v<T, ledger::Refund>) {
          out << " order='" << b.order_id << "' amount=" << b.amount_minor;
        } else if constexpr (std::is_same_v<T, ledger::CancelTransaction>) {
          out << " transaction=" << b.transaction_id;
        } else if constexpr (std::is_same_v<T, ledger::Adjust>) {
          out << " points=" << b.points;
        } else if constexpr (std::is_same_v<T, ledger::FreezeLot> ||
                             std::is_same_v<T, ledger::UnfreezeLot>) {
          out << " lot=" << b.lot_id;
        }
      },
      c.body);
  return out.str();
}

std::string describe(const CommandResult& r) {
  if (!r.storage_error.empty()) return "storage error: " + r.storage_error;
  if (r.rejection) return "rejected: " + std::string(ledger::rejection_name(*r.rejection));
  return std::string(r.replayed ? "replayed: " : "accepted: ") + ledger::encode_outcome(r.outcome);
}

std::string describe(const std::optional<ledger::AccountRow>& row) {
  if (!row) return "no account";
  std::ostringstream out;
  out << "member=" << row->member_id << " external_id='" << row->external_id
      << "' available=" << row->available << " pending=" << row->pending
      << " frozen=" << row->frozen << " held=" << row->held << " debt=" << row->debt
      << " account_frozen=" << row->account_frozen << " next_due=" << time_text(row->next_due_us)
      << " opened=" << time_text(row->opened_at_us);
  return out.str();
}

std::string describe(const ledger::Lot& lot) {
  std::ostringstream out;
  out << "lot " << lot.id << " member=" << lot.member_id << " tx=" << lot.transaction_id
      << " amount=" << lot.amount << " remaining=" << lot.remaining
      << " state=" << ledger::lot_state_name(lot.state) << " earned=" << time_text(lot.earned_at_us)
      << " matures=" << time_text(lot.matures_at_us) << " expires=" << time_text(lot.expires_at_us)
      << " source='" << lot.source << "' order='" << lot.order_id << "' cost=" << lot.cost_minor;
  return out.str();
}

// The first difference between two lists of lots, for a failure message.
std::string difference(const std::vector<ledger::Lot>& a, const std::vector<ledger::Lot>& b) {
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    if (!(a[i] == b[i])) return "\nSQLite: " + describe(a[i]) + "\nmodel:  " + describe(b[i]);
  return "\nSQLite has " + std::to_string(a.size()) + " lots, the model " +
         std::to_string(b.size());
}

bool same_result(const CommandResult& a, const CommandResult& b) {
  return a.rejection == b.rejection && a.storage_error == b.storage_error &&
         a.replayed == b.replayed && (a.rejection || a.outcome == b.outcome);
}

std::string describe(const store::ProgramSummary& s) {
  std::ostringstream out;
  out << "members=" << s.members << " transactions=" << s.transactions << " lots=" << s.lots
      << " issued=" << s.issued << " available=" << s.available << " pending=" << s.pending
      << " frozen=" << s.frozen << " held=" << s.held << " debt=" << s.debt << " spent=" << s.spent
      << " expired=" << s.expired << " clawed_back=" << s.clawed_back << " revoked=" << s.revoked;
  return out.str();
}

// ---- The program's policy, by seed --------------------------------------------------------------

ledger::Policy policy_for(std::uint64_t seed, Random& random) {
  using Kind = ledger::ExpiryPolicy::Kind;
  ledger::Policy policy;
  switch (seed % 5) {
    case 0:
      policy.expiry = {Kind::end_of_year, static_cast<int>(random.between(0, 1))};
      break;
    case 1:
      policy.expiry = {Kind::days_after_earning, static_cast<int>(random.between(30, 400))};
      break;
    case 2:
      policy.expiry = {Kind::end_of_month, static_cast<int>(random.between(0, 12))};
      break;
    case 3:
      policy.expiry = {Kind::rolling_days, static_cast<int>(random.between(30, 365))};
      break;
    default:
      policy.expiry = {Kind::never, 0};
      break;
  }
  switch (seed % 3) {
    case 0:
      policy.shortfall = ledger::ShortfallPolicy::other_lots_then_absorb;
      break;
    case 1:
      policy.shortfall = ledger::ShortfallPolicy::other_lots_then_debt;
      break;
    default:
      policy.shortfall = ledger::ShortfallPolicy::absorb;
      break;
  }
  static const char* const kZones[] = {
      "UTC",          "Europe/London",  "America/New_York", "Australia/Sydney",
      "Asia/Kolkata", "Pacific/Chatham"};
  policy.zone = TimeZone::load(kZones[seed % std::size(kZones)]);
  return policy;
}

std::string describe(const ledger::Policy& policy) {
  return ledger::format_expiry_policy(policy.expiry) + " " +
         std::string(ledger::shortfall_policy_name(policy.shortfall)) + " " + policy.zone->name();
}

// ---- The simulation -----------------------------------------------------------------------------

struct SimulationFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// What the generator remembers of a member.
struct MemberInfo {
  MemberId id = 0;
  std::string external_id;
  std::vector<std::string> earned_orders;  // orders whose purchase earned points
  std::vector<std::string> spend_orders;   // orders paid with points that earned nothing yet
  std::vector<std::string> hold_refs;      // every hold reference sent
  std::vector<TransactionId> cancellable;  // accepted spends and holds
  std::vector<TransactionId> others;       // some other accepted transactions
};

struct Sent {
  Command command;
  CommandResult result;
};

// A command sent to SQLite, and the model's answer to compare with SQLite's.
struct InFlight {
  std::int64_t step = 0;
  Command command;
  CommandResult expected;
  std::optional<CommandResult> actual;  // written by SQLite's callback
};

struct Counters {
  std::map<std::string, std::int64_t> accepted;  // by command name
  std::map<std::string, std::int64_t> rejected;  // by rejection name
  std::int64_t replayed = 0;
  std::int64_t crashes = 0;
  std::int64_t crashes_in_flight = 0;
  std::int64_t unacknowledged = 0;  // commands dropped by in-flight crashes, then re-sent
  std::int64_t audits = 0;
  std::int64_t sweeps = 0;
};

class Simulation {
 public:
  Simulation(std::uint64_t seed, std::int64_t steps, std::filesystem::path dir)
      : seed_(seed),
        steps_(steps),
        dir_(std::move(dir)),
        random_(seed),
        checks_(seed ^ 0x9e3779b97f4a7c15ULL),
        policy_(policy_for(seed, random_)) {}

  void run();
  [[nodiscard]] std::string summary_line(double seconds) const;

 private:
  // Generation.
  Command next_command();
  Command open_account();
  Command earn(std::size_t who);
  Command spend(std::size_t who);
  Command place_hold(std::size_t who);
  Command settle_hold(std::size_t who, bool capture);
  Command cancel(std::size_t who);
  Command refund(std::size_t who);
  Command adjust(std::size_t who);
  Command freeze_account(std::size_t who);
  Command freeze_lot(std::size_t who, bool freeze);
  Command invalid_command();
  Command invalid_request();
  Command retry(bool change_request);
  Command make(MemberId member, ledger::CommandBody body, std::string reason = "simulated");
  std::size_t pick_member();
  // A member for which `wanted` holds if one turns up in a few tries, else any member.
  template <typename Wanted>
  std::size_t pick_member(Wanted wanted);
  Points some_points(Points available);
  void advance_clock();
  std::vector<Command> sweep();

  // Running and checking.
  void run_batch(std::int64_t size);
  void run_batch_with_crash(std::int64_t size);
  CommandResult execute_on_model(std::int64_t step, const Command& command);
  void submit_to_sqlite(std::int64_t step, const Command& command, const CommandResult& expected);
  void submit_chunk();
  void settle_in_flight();
  void observe(std::int64_t step, const Command& command, const CommandResult& result);
  void check_member(std::int64_t step, const Command& command, const CommandResult& result);
  void check_program(std::int64_t step, const Command& command);
  void spot_check();
  void compare_member(MemberId member, const std::string& when);
  void compare_everything(bool histories, const std::string& when);
  void check_audits(const std::string& when);
  void crash_and_reopen();
  void open_sqlite();
  [[noreturn]] void fail(std::int64_t step, const Command* command, const std::string& what) const;

  const std::uint64_t seed_;
  const std::int64_t steps_;
  const std::filesystem::path dir_;
  Random random_;  // every choice of the run
  Random checks_;  // what to spot-check; apart, so that checking more changes no command
  const ledger::Policy policy_;

  std::unique_ptr<store::MemoryLedgerStore> model_;
  std::unique_ptr<store::SqliteLedgerStore> sqlite_;
  std::deque<InFlight> in_flight_;  // a deque: callbacks hold pointers to its elements
  std::size_t submitted_ = 0;       // how many of in_flight_ went to SQLite

  std::int64_t step_ = 0;
  TimeUs now_ = kEpoch;
  std::size_t target_members_ = 0;
  std::int64_t next_external_ = 0;
  std::int64_t next_reference_ = 0;
  std::vector<MemberInfo> members_;
  std::unordered_map<MemberId, std::size_t> position_;  // member id -> index in members_
  std::vector<Sent> recent_;                            // ring of the last kRecentCommands
  std::size_t recent_next_ = 0;
  struct Accepted {
    std::uint64_t request_hash = 0;
    ledger::Outcome outcome;
  };
  std::unordered_map<std::string, Accepted> accepted_;  // every key accepted so far
  // Requests generated to be refused whatever the state (invalid, unknown member, taken external
  // id), by key; a retry of the same request must be refused the same way.
  struct MustReject {
    std::uint64_t request_hash = 0;
    Rejection rejection = Rejection::invalid_request;
  };
  std::unordered_map<std::string, MustReject> must_reject_;
  void expect_rejection(const Command& command, Rejection rejection) {
    must_reject_[command.idempotency_key] = MustReject{ledger::request_hash(command), rejection};
  }
  Points issued_ = 0;
  Counters counters_;
};

void Simulation::fail(std::int64_t step, const Command* command, const std::string& what) const {
  std::ostringstream out;
  out << "simulation failed: seed " << seed_ << ", step " << step << " of " << steps_ << ", policy "
      << describe(policy_) << "\n";
  if (command != nullptr) out << "command: " << describe(*command) << "\n";
  out << what << "\n";
  out << "replay: POINTSMALL_SIM_SEED=" << seed_
      << " POINTSMALL_SIM_STEPS=" << std::max(step, std::int64_t{1})
      << " system_tests --gtest_filter='Simulation*'\n";
  out << "the database is kept in " << dir_.string();
  throw SimulationFailure(out.str());
}

void Simulation::open_sqlite() {
  store::SqliteOptions options;
  options.path = (dir_ / "ledger.db").string();
  options.policy_if_new = policy_;
  options.time_zone_if_new = policy_.zone->name();
  options.readers = 2;
  std::string error;
  sqlite_ = store::open_sqlite_store(options, error);
  if (!sqlite_) fail(step_, nullptr, "cannot open the SQLite store: " + error);
  if (describe(sqlite_->policy()) != describe(policy_))
    fail(step_, nullptr, "the SQLite store has policy " + describe(sqlite_->policy()));
}

void Simulation::run() {
  if (policy_.zone == nullptr) fail(0, nullptr, "time zone missing (is tzdata installed?)");
  model_ = std::make_unique<store::MemoryLedgerStore>(policy_);
  open_sqlite();
  target_members_ = static_cast<std::size_t>(random_.between(200, 500));
  while (step_ < steps_) {
    const std::int64_t draw = random_.per_mille(300)   ? random_.between(1, 50)
                              : random_.per_mille(100) ? random_.between(1, 5)
                                                       : random_.between(200, 2000);
    const std::int64_t size = std::min(draw, steps_ - step_);
    const std::int64_t crash = random_.between(0, 999);
    if (crash < 70 && !members_.empty()) {
      run_batch_with_crash(size);
    } else {
      run_batch(size);
      if (crash < 140) crash_and_reopen();
    }
    spot_check();
  }
  compare_everything(true, "at the end");
  check_audits("at the end");
}

// One batch: each command runs on the model at once (so the next one is generated from the
// current state) and is queued to SQLite; SQLite's answers are compared once the batch is flushed.
void Simulation::run_batch(std::int64_t size) {
  std::vector<Command> commands = sweep();
  for (const Command& command : commands)  // housekeeping: not counted as steps
    submit_to_sqlite(step_, command, execute_on_model(step_, command));
  for (std::int64_t i = 0; i < size; ++i) {
    ++step_;
    advance_clock();
    const Command command = next_command();
    const CommandResult expected = execute_on_model(step_, command);
    submit_to_sqlite(step_, command, expected);
  }
  settle_in_flight();
}

CommandResult Simulation::execute_on_model(std::int64_t step, const Command& command) {
  CommandResult result = model_->execute(command);
  observe(step, command, result);
  check_member(step, command, result);
  check_program(step, command);
  return result;
}

// Commands reach SQLite in chunks: one at a time, the writer would commit (and fsync) each
// alone while the model works on the next.
void Simulation::submit_to_sqlite(std::int64_t step, const Command& command,
                                  const CommandResult& expected) {
  InFlight& slot = in_flight_.emplace_back();
  slot.step = step;
  slot.command = command;
  slot.expected = expected;
  if (in_flight_.size() - submitted_ >= kSubmitChunk) submit_chunk();
}

void Simulation::submit_chunk() {
  for (; submitted_ < in_flight_.size(); ++submitted_) {
    InFlight* target = &in_flight_[submitted_];
    sqlite_->submit(target->command,
                    [target](const CommandResult& result) { target->actual = result; });
  }
}

// Waits for SQLite and compares its answers with the model's.
void Simulation::settle_in_flight() {
  submit_chunk();
  sqlite_->flush();
  for (const InFlight& sent : in_flight_) {
    if (!sent.actual) fail(sent.step, &sent.command, "SQLite never answered");
    if (!same_result(*sent.actual, sent.expected))
      fail(sent.step, &sent.command,
           "SQLite: " + describe(*sent.actual) + "\nmodel:  " + describe(sent.expected));
  }
  in_flight_.clear();
  submitted_ = 0;
}

// A batch with a crash in the middle of it: the commands are generated from the model's state
// before the batch and queued to SQLite, which is crashed while the last part is still queued or
// being committed. What SQLite acknowledged runs on the model; the rest is re-sent to both after
// reopening, as a client would.
void Simulation::run_batch_with_crash(std::int64_t size) {
  settle_in_flight();
  std::vector<Command> commands;
  std::vector<std::int64_t> steps;
  for (std::int64_t i = 0; i < size; ++i) {
    ++step_;
    advance_clock();
    commands.push_back(next_command());
    steps.push_back(step_);
  }
  std::vector<std::optional<CommandResult>> answers(commands.size());
  const auto settled = static_cast<std::size_t>(random_.between(0, size));
  for (std::size_t i = 0; i < commands.size(); ++i) {
    if (i == settled) sqlite_->flush();  // the first part is surely acknowledged
    auto* answer = &answers[i];
    sqlite_->submit(commands[i], [answer](const CommandResult& r) { *answer = r; });
  }
  sqlite_->crash_for_test();
  ++counters_.crashes;
  ++counters_.crashes_in_flight;
  std::size_t acknowledged = 0;
  while (acknowledged < answers.size() && answers[acknowledged]) ++acknowledged;
  for (std::size_t i = acknowledged; i < answers.size(); ++i)
    if (answers[i]) fail(steps[i], &commands[i], "acknowledged after an unacknowledged command");
  for (std::size_t i = 0; i < acknowledged; ++i) {
    const CommandResult expected = execute_on_model(steps[i], commands[i]);
    if (!same_result(*answers[i], expected))
      fail(steps[i], &commands[i],
           "SQLite: " + describe(*answers[i]) + "\nmodel:  " + describe(expected));
  }
  sqlite_.reset();
  open_sqlite();
  model_->restart();
  if (acknowledged < settled) fail(steps[acknowledged], &commands[acknowledged], "never answered");
  counters_.unacknowledged += static_cast<std::int64_t>(commands.size() - acknowledged);
  compare_everything(false, "after a crash with " + std::to_string(acknowledged) + " of " +
                                std::to_string(commands.size()) + " commands acknowledged");
  check_audits("after a crash");
  for (std::size_t i = acknowledged; i < commands.size(); ++i)
    submit_to_sqlite(steps[i], commands[i], execute_on_model(steps[i], commands[i]));
  settle_in_flight();
}

// A crash between batches: everything was acknowledged, so everything must be there.
void Simulation::crash_and_reopen() {
  settle_in_flight();
  sqlite_->crash_for_test();
  sqlite_.reset();
  open_sqlite();
  model_->restart();
  ++counters_.crashes;
  compare_everything(false, "after a crash between batches");
  check_audits("after a crash between batches");
}

void Simulation::check_audits(const std::string& when) {
  ++counters_.audits;
  const ledger::Audit audit = sqlite_->audit();
  if (!audit.clean()) {
    std::string findings;
    for (const std::string& finding : audit.findings()) findings += "\n  " + finding;
    fail(step_, nullptr,
         "SQLite audit " + when + ": " + std::to_string(audit.finding_count()) + " findings" +
             findings);
  }
  const ledger::Audit model_audit = model_->audit();
  if (!model_audit.clean())
    fail(step_, nullptr, "model audit " + when + ": " + model_audit.findings().front());
  if (audit.members_checked() != model_audit.members_checked() ||
      audit.lots_checked() != model_audit.lots_checked() ||
      audit.transactions_checked() != model_audit.transactions_checked() ||
      audit.program_balances() != model_audit.program_balances())
    fail(step_, nullptr, "SQLite and model audits " + when + " counted different rows");
}

// ---- What the generator sees and remembers ------------------------------------------------------

void Simulation::observe(std::int64_t step, const Command& command, const CommandResult& result) {
  if (!result.storage_error.empty())
    fail(step, &command, "the model reported a storage error: " + result.storage_error);
  // Idempotency, judged against what this simulation saw accepted (not the model's own table).
  const bool valid = !ledger::validate(command);
  const auto first = accepted_.find(command.idempotency_key);
  if (valid && first != accepted_.end()) {
    if (first->second.request_hash == ledger::request_hash(command)) {
      if (!result.replayed || result.outcome != first->second.outcome)
        fail(step, &command,
             "a repeated key must replay " + ledger::encode_outcome(first->second.outcome) +
                 ", got " + describe(result));
    } else if (result.rejection != Rejection::idempotency_conflict) {
      fail(step, &command,
           "a changed request under a used key must conflict, got " + describe(result));
    }
  } else if (result.replayed || result.rejection == Rejection::idempotency_conflict) {
    fail(step, &command, "a new key must not replay or conflict, got " + describe(result));
  }
  if (const auto must = must_reject_.find(command.idempotency_key);
      must != must_reject_.end() && must->second.request_hash == ledger::request_hash(command) &&
      result.rejection != must->second.rejection)
    fail(step, &command,
         "must be refused as " + std::string(ledger::rejection_name(must->second.rejection)) +
             ", got " + describe(result));

  if (result.rejection) {
    ++counters_.rejected[std::string(ledger::rejection_name(*result.rejection))];
  } else if (result.replayed) {
    ++counters_.replayed;
  } else {
    ++counters_.accepted[std::string(ledger::command_name(command.body))];
    accepted_.emplace(command.idempotency_key,
                      Accepted{ledger::request_hash(command), result.outcome});
  }
  Sent sent{command, result};
  if (recent_.size() < kRecentCommands) {
    recent_.push_back(std::move(sent));
  } else {
    recent_[recent_next_] = std::move(sent);
    recent_next_ = (recent_next_ + 1) % kRecentCommands;
  }
  if (!result.ok() || result.replayed) return;

  const ledger::Outcome& outcome = result.outcome;
  if (const auto* open = std::get_if<ledger::OpenAccount>(&command.body)) {
    position_[outcome.member_id] = members_.size();
    members_.push_back(MemberInfo{outcome.member_id, open->external_id, {}, {}, {}, {}, {}});
    return;
  }
  MemberInfo& member = members_[position_.at(command.member_id)];
  std::visit(
      [&](const auto& body) {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, ledger::Earn>) {
          if (!body.order_id.empty()) {
            member.earned_orders.push_back(body.order_id);
            std::erase(member.spend_orders, body.order_id);
          }
          if (member.others.size() < 64) member.others.push_back(outcome.transaction_id);
        } else if constexpr (std::is_same_v<T, ledger::Spend>) {
          member.cancellable.push_back(outcome.transaction_id);
          const auto& earned = member.earned_orders;
          if (!body.order_id.empty() &&
              std::find(earned.begin(), earned.end(), body.order_id) == earned.end() &&
              std::find(member.spend_orders.begin(), member.spend_orders.end(), body.order_id) ==
                  member.spend_orders.end())
            member.spend_orders.push_back(body.order_id);
        } else if constexpr (std::is_same_v<T, ledger::PlaceHold>) {
          member.cancellable.push_back(outcome.transaction_id);
        } else if constexpr (std::is_same_v<T, ledger::Refund> ||
                             std::is_same_v<T, ledger::Adjust>) {
          if (member.others.size() < 64) member.others.push_back(outcome.transaction_id);
        }
      },
      command.body);
}

// ---- Invariants after every command -------------------------------------------------------------

void Simulation::check_member(std::int64_t step, const Command& command,
                              const CommandResult& result) {
  const MemberId member = std::holds_alternative<ledger::OpenAccount>(command.body)
                              ? result.outcome.member_id
                              : command.member_id;
  if (member <= 0) return;
  const ledger::Audit audit = model_->audit_member(member);
  if (!audit.clean()) fail(step, &command, "member invariants: " + audit.findings().front());
  const auto row = model_->account(member);
  if (!row) return;
  if (row->available < 0 || row->pending < 0 || row->frozen < 0 || row->held < 0 || row->debt < 0)
    fail(step, &command, "a balance of member " + std::to_string(member) + " is negative");
  if (!result.ok() || result.replayed) return;

  // What the outcome says is what the account shows.
  const ledger::Outcome& outcome = result.outcome;
  if (outcome.member_id != member || outcome.available_after != row->available ||
      outcome.pending_after != row->pending || outcome.debt_after != row->debt)
    fail(step, &command,
         "the outcome " + ledger::encode_outcome(outcome) +
             " disagrees with the account: available " + std::to_string(row->available) +
             ", pending " + std::to_string(row->pending) + ", debt " + std::to_string(row->debt));
  // What each command promises.
  std::visit(
      [&](const auto& body) {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, ledger::Earn>) {
          const bool pending = body.matures_at_us > command.at_us;
          if (outcome.points != body.points || outcome.pending != pending)
            fail(step, &command,
                 "an earn must grant its points: " + ledger::encode_outcome(outcome));
        } else if constexpr (std::is_same_v<T, ledger::Spend> ||
                             std::is_same_v<T, ledger::PlaceHold>) {
          if (outcome.points != -body.points)
            fail(step, &command,
                 "a spend must take its points: " + ledger::encode_outcome(outcome));
        } else if constexpr (std::is_same_v<T, ledger::Adjust>) {
          if (outcome.points != body.points)
            fail(step, &command, "an adjustment must move its points");
        } else if constexpr (std::is_same_v<T, ledger::FreezeAccount> ||
                             std::is_same_v<T, ledger::UnfreezeAccount>) {
          if (row->account_frozen != std::is_same_v<T, ledger::FreezeAccount>)
            fail(step, &command, "the account's frozen flag did not follow");
        } else if constexpr (std::is_same_v<T, ledger::Refund>) {
          // Buy, earn, refund must net zero: a whole refund gives back all the order earned and
          // returns all the points that paid for it.
          const auto order = model_->order(member, body.order_id);
          if (!order) fail(step, &command, "a refunded order vanished");
          if (order->refunded_minor == order->amount_minor &&
              (order->points_clawed_back != order->points_earned ||
               order->points_returned != order->points_spent))
            fail(step, &command,
                 "a whole refund must undo the order: earned " +
                     std::to_string(order->points_earned) + ", clawed back " +
                     std::to_string(order->points_clawed_back) + ", spent " +
                     std::to_string(order->points_spent) + ", returned " +
                     std::to_string(order->points_returned));
          if (-outcome.points + outcome.absorbed > order->points_earned)
            fail(step, &command, "a refund clawed back more than the order earned");
        } else if constexpr (std::is_same_v<T, ledger::CaptureHold> ||
                             std::is_same_v<T, ledger::ReleaseHold>) {
          const auto holds = model_->holds(member);
          const auto hold = std::find_if(holds.begin(), holds.end(), [&](const ledger::Hold& h) {
            return h.hold_ref == body.hold_ref;
          });
          const auto state = std::is_same_v<T, ledger::CaptureHold> ? ledger::HoldState::captured
                                                                    : ledger::HoldState::released;
          if (hold == holds.end() || hold->state != state)
            fail(step, &command, "the hold is not " + std::string(ledger::hold_state_name(state)));
        }
      },
      command.body);
}

void Simulation::check_program(std::int64_t step, const Command& command) {
  const store::ProgramSummary s = model_->summary();
  if (s.issued != s.available + s.pending + s.frozen + s.held + s.spent + s.expired +
                      s.clawed_back + s.revoked - s.debt)
    fail(step, &command, "issued points do not add up: " + describe(s));
  if (s.issued < issued_) fail(step, &command, "issued points went down: " + describe(s));
  if (s.available < 0 || s.pending < 0 || s.frozen < 0 || s.held < 0 || s.debt < 0 || s.spent < 0 ||
      s.expired < 0 || s.clawed_back < 0 || s.revoked < 0)
    fail(step, &command, "a program balance is negative: " + describe(s));
  issued_ = s.issued;
}

// Between batches SQLite and the model must agree on what a reader sees.
void Simulation::spot_check() {
  if (members_.empty()) return;
  for (int i = 0; i < 3; ++i) compare_member(checks_.pick(members_).id, "between batches");
  const MemberInfo& member = checks_.pick(members_);
  const auto page = static_cast<std::size_t>(checks_.between(1, 50));
  if (sqlite_->history(member.id, 0, page) != model_->history(member.id, 0, page))
    fail(step_, nullptr, "the newest history of member " + std::to_string(member.id) + " differs");
  if (sqlite_->member_by_external_id(member.external_id) != member.id)
    fail(step_, nullptr, "external id " + member.external_id + " does not find its member");
}

void Simulation::compare_member(MemberId member, const std::string& when) {
  const auto a = sqlite_->account(member);
  const auto b = model_->account(member);
  if (a != b)
    fail(step_, nullptr,
         "account " + std::to_string(member) + " differs " + when + "\nSQLite: " + describe(a) +
             "\nmodel:  " + describe(b));
  const auto lots_a = sqlite_->lots(member);
  const auto lots_b = model_->lots(member);
  if (lots_a != lots_b)
    fail(step_, nullptr,
         "lots of member " + std::to_string(member) + " differ " + when +
             difference(lots_a, lots_b));
}

void Simulation::compare_everything(bool histories, const std::string& when) {
  const store::ProgramSummary a = sqlite_->summary();
  const store::ProgramSummary b = model_->summary();
  if (describe(a) != describe(b))
    fail(step_, nullptr,
         "summary " + when + ":\nSQLite: " + describe(a) + "\nmodel:  " + describe(b));
  for (const MemberInfo& member : members_) {
    compare_member(member.id, when);
    if (!histories) continue;
    TransactionId before = 0;
    for (;;) {  // page through the whole history, newest first
      const auto page = sqlite_->history(member.id, before, store::LedgerStore::kMaxHistoryPage);
      if (page != model_->history(member.id, before, store::LedgerStore::kMaxHistoryPage))
        fail(step_, nullptr, "history of member " + std::to_string(member.id) + " differs " + when);
      if (page.size() < store::LedgerStore::kMaxHistoryPage) break;
      before = page.back().id;
    }
  }
  for (TimeUs at_us : {now_, now_ + 30 * kMicrosPerDay, now_ + 400 * kMicrosPerDay}) {
    if (sqlite_->members_due(at_us, 0, 1'000'000) != model_->members_due(at_us, 0, 1'000'000))
      fail(step_, nullptr, "members due differ " + when);
    if (sqlite_->expired_holds(at_us, 1'000'000) != model_->expired_holds(at_us, 1'000'000))
      fail(step_, nullptr, "expired holds differ " + when);
  }
}

// ---- Generating commands ------------------------------------------------------------------------

// Time moves forward: mostly by seconds, sometimes by days, now and then by months.
void Simulation::advance_clock() {
  const std::int64_t draw = random_.between(0, 9999);
  if (draw < 1) {
    now_ += random_.between(1, 9) * 30 * kMicrosPerDay + random_.between(0, kMicrosPerDay);
  } else if (draw < 11) {
    now_ += random_.between(kHour, 10 * kMicrosPerDay);
  } else {
    now_ += random_.between(0, 2 * kMinute);
  }
}

Command Simulation::make(MemberId member, ledger::CommandBody body, std::string reason) {
  Command command;
  command.idempotency_key = "k" + std::to_string(seed_) + "-" + std::to_string(step_);
  command.member_id = member;
  command.at_us = now_;
  command.actor = "api-key:shop";
  command.reason = std::move(reason);
  command.body = std::move(body);
  return command;
}

// A few members are busy; most are not.
std::size_t Simulation::pick_member() {
  const std::size_t hot = std::max<std::size_t>(1, members_.size() / 20);
  return random_.per_mille(300) ? random_.index(hot) : random_.index(members_.size());
}

template <typename Wanted>
std::size_t Simulation::pick_member(Wanted wanted) {
  std::size_t who = pick_member();
  for (int tries = 0; tries < 8 && !wanted(members_[who]); ++tries) who = pick_member();
  return who;
}

Points Simulation::some_points(Points available) {
  if (random_.per_mille(700) && available > 0) return random_.between(1, available);
  return random_.spread(2 * available + 100);
}

std::vector<Command> Simulation::sweep() {
  // What the housekeeping jobs do: settle members with lots due, release holds that timed out.
  std::vector<Command> commands;
  const auto due_sqlite = sqlite_->members_due(now_, 0, kSweepLimit);
  const auto due_model = model_->members_due(now_, 0, kSweepLimit);
  if (due_sqlite != due_model) fail(step_, nullptr, "members due differ before a sweep");
  const auto holds_sqlite = sqlite_->expired_holds(now_, kSweepLimit);
  const auto holds_model = model_->expired_holds(now_, kSweepLimit);
  if (holds_sqlite != holds_model) fail(step_, nullptr, "expired holds differ before a sweep");
  if (!random_.per_mille(500)) return commands;
  ++counters_.sweeps;
  std::int64_t n = 0;
  for (MemberId member : due_model) {
    Command command = make(member, ledger::Settle{}, "scheduled settlement");
    command.idempotency_key += "-settle-" + std::to_string(n++);
    command.actor = "system";
    commands.push_back(std::move(command));
  }
  for (const auto& [member, hold_ref] : holds_model) {
    Command command = make(member, ledger::ReleaseHold{hold_ref}, "hold timed out");
    command.idempotency_key += "-release-" + std::to_string(n++);
    command.actor = "system";
    commands.push_back(std::move(command));
  }
  return commands;
}

Command Simulation::next_command() {
  if (members_.empty() || (members_.size() < target_members_ && random_.per_mille(150)))
    return open_account();
  enum Kind : std::uint8_t {
    kOpen,
    kEarn,
    kSpend,
    kHold,
    kCapture,
    kRelease,
    kCancel,
    kRefund,
    kAdjust,
    kSettle,
    kFreezeAccount,
    kFreezeLot,
    kUnfreezeLot,
    kInvalid,
    kUnknownMember,
    kRetry,
    kConflict,
    kKinds
  };
  static constexpr std::int64_t kWeights[kKinds] = {3,  300, 140, 60, 30, 20, 40, 60, 30,
                                                    20, 8,   15,  15, 5,  3,  50, 20};
  std::int64_t total = 0;
  for (std::int64_t weight : kWeights) total += weight;
  std::int64_t draw = random_.between(0, total - 1);
  std::size_t kind = 0;
  while (draw >= kWeights[kind]) draw -= kWeights[kind++];
  if ((kind == kRetry || kind == kConflict) && recent_.empty()) kind = kEarn;
  auto has_points = [this](const MemberInfo& m) {
    const auto row = model_->account(m.id);
    return row && row->available > 0 && !row->account_frozen;
  };
  auto has_holds = [](const MemberInfo& m) { return !m.hold_refs.empty(); };
  auto has_cancellable = [](const MemberInfo& m) { return !m.cancellable.empty(); };
  auto has_orders = [](const MemberInfo& m) { return !m.earned_orders.empty(); };

  switch (kind) {
    case kOpen:
      return open_account();
    case kEarn:
      return earn(pick_member());
    case kSpend:
      return spend(pick_member(has_points));
    case kHold:
      return place_hold(pick_member(has_points));
    case kCapture:
      return settle_hold(pick_member(has_holds), true);
    case kRelease:
      return settle_hold(pick_member(has_holds), false);
    case kCancel:
      return cancel(pick_member(has_cancellable));
    case kRefund:
      return refund(pick_member(has_orders));
    case kAdjust:
      return adjust(pick_member());
    case kSettle:
      return make(members_[pick_member()].id, ledger::Settle{}, "settle");
    case kFreezeAccount:
      return freeze_account(pick_member());
    case kFreezeLot:
      return freeze_lot(pick_member(), true);
    case kUnfreezeLot:
      return freeze_lot(pick_member(), false);
    case kInvalid:
      return invalid_command();
    case kUnknownMember: {
      const MemberId unknown = 1'000'000'000 + random_.between(0, 1000);
      Command command = make(unknown, ledger::Earn{10, "checkin", "", 0, 0, 0, 0});
      expect_rejection(command, Rejection::unknown_member);
      return command;
    }
    case kRetry:
      return retry(false);
    default:
      return retry(true);
  }
}

Command Simulation::open_account() {
  if (!members_.empty() && random_.per_mille(50)) {
    Command command = make(0, ledger::OpenAccount{random_.pick(members_).external_id}, "sign-up");
    expect_rejection(command, Rejection::member_exists);
    return command;
  }
  return make(0, ledger::OpenAccount{"customer-" + std::to_string(next_external_++)}, "sign-up");
}

Command Simulation::earn(std::size_t who) {
  MemberInfo& member = members_[who];
  static const std::vector<std::string> kSources = {"purchase", "checkin", "review", "referral",
                                                    "share"};
  ledger::Earn body;
  body.points = random_.spread(5000);
  body.source = random_.pick(kSources);
  if (body.source == "purchase" && random_.per_mille(800)) {
    if (!member.earned_orders.empty() && random_.per_mille(30)) {
      body.order_id = random_.pick(member.earned_orders);  // duplicate_order
    } else if (!member.spend_orders.empty() && random_.per_mille(300)) {
      body.order_id = random_.pick(member.spend_orders);  // paid partly with points
    } else {
      body.order_id = "order-" + std::to_string(next_reference_++);
    }
    body.order_amount_minor = random_.between(100, 200'000);
    body.cost_minor = body.points * random_.between(0, 5);
  }
  if (random_.per_mille(300))
    body.matures_at_us = now_ + random_.between(kHour, 30 * kMicrosPerDay);
  if (random_.per_mille(100))
    body.expires_at_us = now_ + random_.between(kHour, 90 * kMicrosPerDay);
  return make(member.id, body, body.source);
}

Command Simulation::spend(std::size_t who) {
  MemberInfo& member = members_[who];
  const auto row = model_->account(member.id);
  ledger::Spend body;
  body.points = some_points(row ? row->available : 0);
  if (random_.per_mille(300)) {
    if (!member.earned_orders.empty() && random_.per_mille(300)) {
      body.order_id = random_.pick(member.earned_orders);
    } else {
      body.order_id = "order-" + std::to_string(next_reference_++);
    }
  }
  return make(member.id, body, "redemption");
}

Command Simulation::place_hold(std::size_t who) {
  MemberInfo& member = members_[who];
  const auto row = model_->account(member.id);
  ledger::PlaceHold body;
  if (!member.hold_refs.empty() && random_.per_mille(30)) {
    body.hold_ref = random_.pick(member.hold_refs);  // hold_exists
  } else {
    body.hold_ref = "redemption-" + std::to_string(next_reference_++);
    member.hold_refs.push_back(body.hold_ref);
  }
  body.points = some_points(row ? row->available : 0);
  const std::int64_t expiry = random_.between(0, 9);
  body.expires_at_us = expiry < 3   ? kTimeNever
                       : expiry < 8 ? now_ + random_.between(10 * kMinute, 3 * kMicrosPerDay)
                                    : now_ + random_.between(1, 30) * kMicrosPerDay;
  return make(member.id, body, "reserve for redemption");
}

Command Simulation::settle_hold(std::size_t who, bool capture) {
  MemberInfo& member = members_[who];
  std::string ref;
  if (member.hold_refs.empty() || random_.per_mille(30)) {
    ref = "no-such-hold";
  } else if (random_.per_mille(700)) {  // mostly one of the newest
    const std::size_t newest = std::min<std::size_t>(member.hold_refs.size(), 4);
    ref = member.hold_refs[member.hold_refs.size() - 1 - random_.index(newest)];
  } else {
    ref = random_.pick(member.hold_refs);
  }
  if (capture) return make(member.id, ledger::CaptureHold{ref}, "redemption fulfilled");
  return make(member.id, ledger::ReleaseHold{ref}, "redemption cancelled");
}

Command Simulation::cancel(std::size_t who) {
  MemberInfo& member = members_[who];
  TransactionId id =
      1 + random_.between(0, std::max<std::int64_t>(1, model_->summary().transactions));
  const std::int64_t choice = random_.between(0, 99);
  if (choice < 85 && !member.cancellable.empty()) {
    id = random_.pick(member.cancellable);
  } else if (choice < 95 && !member.others.empty()) {
    id = random_.pick(member.others);  // not_cancellable
  }
  return make(member.id, ledger::CancelTransaction{id}, "customer cancelled");
}

Command Simulation::refund(std::size_t who) {
  MemberInfo& member = members_[who];
  ledger::Refund body;
  const std::int64_t choice = random_.between(0, 99);
  if (member.earned_orders.empty() || choice < 4) {
    body.order_id = member.spend_orders.empty() || random_.per_mille(500)
                        ? "no-such-order"
                        : random_.pick(member.spend_orders);  // unknown_order
    body.amount_minor = random_.between(1, 1000);
    return make(member.id, body, "refund");
  }
  body.order_id = random_.pick(member.earned_orders);
  const auto order = model_->order(member.id, body.order_id);
  const MinorUnits left = order ? order->amount_minor - order->refunded_minor : 1000;
  if (choice < 12 || left <= 0) {
    body.amount_minor = std::max<MinorUnits>(left, 0) + random_.between(1, 500);  // too much
  } else if (choice < 50) {
    body.amount_minor = left;  // the rest of the order
  } else {
    body.amount_minor = random_.between(1, left);
  }
  return make(member.id, body, "refund");
}

Command Simulation::adjust(std::size_t who) {
  MemberInfo& member = members_[who];
  const auto row = model_->account(member.id);
  Command command = random_.per_mille(650)
                        ? make(member.id, ledger::Adjust{random_.spread(1000)}, "goodwill")
                        : make(member.id, ledger::Adjust{-some_points(row ? row->available : 0)},
                               "correction of a mistaken grant");
  command.actor = "operator:alice";
  return command;
}

Command Simulation::freeze_account(std::size_t who) {
  MemberInfo& member = members_[who];
  // Mostly thaw a frozen account (most likely one of the members the generator froze before).
  for (int tries = 0; tries < 8; ++tries) {
    const MemberInfo& other = random_.pick(members_);
    const auto row = model_->account(other.id);
    if (row && row->account_frozen) {
      Command command = make(other.id, ledger::UnfreezeAccount{}, "review passed");
      command.actor = "operator:bob";
      return command;
    }
  }
  Command command = random_.per_mille(800)
                        ? make(member.id, ledger::FreezeAccount{}, "fraud review")
                        : make(member.id, ledger::UnfreezeAccount{}, "no review");
  command.actor = "operator:bob";
  return command;
}

Command Simulation::freeze_lot(std::size_t who, bool freeze) {
  MemberInfo& member = members_[who];
  const auto lots = model_->lots(member.id);
  LotId id = 1 + random_.between(0, std::max<std::int64_t>(1, model_->summary().lots));
  if (!lots.empty() && random_.per_mille(950)) {
    id = random_.pick(lots).id;
    if (!freeze) {  // prefer a frozen one
      std::vector<LotId> frozen;
      for (const ledger::Lot& lot : lots)
        if (lot.state == ledger::LotState::frozen) frozen.push_back(lot.id);
      if (!frozen.empty() && random_.per_mille(900)) id = random_.pick(frozen);
    }
  }
  Command command = freeze ? make(member.id, ledger::FreezeLot{id}, "suspicious grant")
                           : make(member.id, ledger::UnfreezeLot{id}, "grant verified");
  command.actor = "operator:carol";
  return command;
}

// Requests the ledger must refuse as invalid_request, whatever the state.
Command Simulation::invalid_command() {
  Command command = invalid_request();
  expect_rejection(command, Rejection::invalid_request);
  return command;
}

Command Simulation::invalid_request() {
  const MemberId member = members_[pick_member()].id;
  switch (random_.between(0, 6)) {
    case 0: {
      Command command = make(member, ledger::Earn{10, "checkin", "", 0, 0, 0, 0});
      command.idempotency_key.clear();
      return command;
    }
    case 1:
      return make(member, ledger::Spend{0, ""});
    case 2:
      return make(member, ledger::Earn{-5, "checkin", "", 0, 0, 0, 0});
    case 3:
      return make(member, ledger::Earn{5, "purchase", "order-x", 0, 0, 0, 0});
    case 4:
      return make(member, ledger::Adjust{0}, "nothing");
    case 5:
      return make(member, ledger::FreezeAccount{}, "");
    default:
      return make(0, ledger::Spend{5, ""});
  }
}

// The same key again: as it was (a retry), or with a changed request (a client bug).
Command Simulation::retry(bool change_request) {
  const Sent* sent = &random_.pick(recent_);
  if (change_request) {  // look for an accepted one to change
    for (int tries = 0; tries < 8 && !(sent->result.ok() && !sent->result.replayed); ++tries)
      sent = &random_.pick(recent_);
  }
  Command command = sent->command;
  const bool accepted = accepted_.count(command.idempotency_key) > 0;
  // A retry carries its first time or a later one; the key decides, not the time. A command that
  // was refused runs again now.
  if (!accepted || random_.per_mille(500)) command.at_us = now_;
  if (change_request) {
    if (std::holds_alternative<ledger::OpenAccount>(command.body) || random_.per_mille(600)) {
      command.reason += " (edited)";
    } else {
      command.member_id = members_[pick_member()].id;
      if (command.member_id == sent->command.member_id) command.actor += " (edited)";
    }
  }
  return command;
}

std::string Simulation::summary_line(double seconds) const {
  std::ostringstream out;
  std::int64_t accepted = 0, rejected = 0;
  for (const auto& [name, count] : counters_.accepted) accepted += count;
  for (const auto& [name, count] : counters_.rejected) rejected += count;
  out << "simulation seed=" << seed_ << " steps=" << steps_ << " policy=" << describe(policy_)
      << " members=" << members_.size() << " days=" << (now_ - kEpoch) / kMicrosPerDay
      << " accepted=" << accepted << " {";
  const char* separator = "";
  for (const auto& [name, count] : counters_.accepted) {
    out << separator << name << ":" << count;
    separator = " ";
  }
  out << "} replayed=" << counters_.replayed << " rejected=" << rejected << " {";
  separator = "";
  for (const auto& [name, count] : counters_.rejected) {
    out << separator << name << ":" << count;
    separator = " ";
  }
  out << "} sweeps=" << counters_.sweeps << " crashes=" << counters_.crashes << " (in flight "
      << counters_.crashes_in_flight << ", unacknowledged re-sent " << counters_.unacknowledged
      << ") audits=" << counters_.audits << " seconds=" << seconds;
  return out.str();
}

// ---- The tests ----------------------------------------------------------------------------------

// Runs one seed in a fresh directory (kept when the run fails) and prints its summary line.
void run_seed(std::uint64_t seed) {
  std::string pattern = (std::filesystem::temp_directory_path() /
                         ("pointsmall-sim-" + std::to_string(seed) + "-XXXXXX"))
                            .string();
  ASSERT_NE(mkdtemp(pattern.data()), nullptr);
  const std::filesystem::path dir = pattern;
  const auto start = std::chrono::steady_clock::now();  // for the report only
  Simulation simulation(seed, settings().steps_per_seed, dir);
  bool passed = false;
  try {
    simulation.run();
    passed = true;
  } catch (const SimulationFailure& failure) {
    ADD_FAILURE() << failure.what();
  } catch (const std::exception& error) {
    ADD_FAILURE() << "seed " << seed << ": unexpected exception: " << error.what();
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%s\n", simulation.summary_line(seconds).c_str());
  std::fflush(stdout);
  if (passed) std::filesystem::remove_all(dir);
}

// The default seeds. Their names do not depend on the environment, so that ctest (which lists
// the tests when building) finds them whatever POINTSMALL_SIM_SEED says when it runs.
class SimulationTest : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(SimulationTest, SqliteAgreesWithTheModel) {
  if (settings().chosen_seed) GTEST_SKIP() << "POINTSMALL_SIM_SEED is set: only that seed runs";
  run_seed(GetParam());
}

INSTANTIATE_TEST_SUITE_P(Simulation, SimulationTest, ::testing::ValuesIn(kDefaultSeeds),
                         [](const ::testing::TestParamInfo<std::uint64_t>& seed_info) {
                           return "seed_" + std::to_string(seed_info.param);
                         });

// The seed that POINTSMALL_SIM_SEED names, e.g. to replay a failure.
TEST(SimulationReplay, SeedFromTheEnvironment) {
  if (!settings().chosen_seed) GTEST_SKIP() << "set POINTSMALL_SIM_SEED to run one seed";
  run_seed(*settings().chosen_seed);
}

}  // namespace
}  // namespace pointsmall::simulation
