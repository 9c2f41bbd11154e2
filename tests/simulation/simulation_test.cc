// The seed-driven simulation of the ledger: random commands, clock jumps, idempotent retries and
// crashes, run against a store engine and the in-memory reference model side by side. The engines:
// SQLite (the full run) and PostgreSQL (a shorter one).
//
// What it checks:
//  1. Every command gets the same result from the engine as from the model: the same rejection, or
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
//     not applied, and a full audit of the file is clean. PostgreSQL has no crash_for_test: where
//     SQLite crashes with a batch in flight, the node's database connections are killed
//     (pg_terminate_backend) while its writer is inside a transaction, and now and then during
//     ordinary batches too; the store must retry on a new connection and answer every command as
//     the model does (a command whose COMMIT was cut off may come back replayed, with the same
//     outcome: it took effect exactly once). Where SQLite crashes, and after a fifth of the other
//     batches, the PostgreSQL node is restarted (closed and opened again on the same database),
//     and everything compared and audited.
//  5. Reads (account, lots, history, members_due, expired_holds, summary) agree between the two.
//
// Ids: SQLite numbers members, transactions and lots as the model does. PostgreSQL's ids come from
// sequences and have gaps; they are paired with the model's by rank (IdMap below), so that the
// same checks apply to it, in the model's ids.
//
// Determinism: one std::mt19937_64 seeded from the seed drives every choice (another one, seeded
// from it, picks what to spot-check; a third when to kill PostgreSQL's connections or restart it),
// and nothing depends on the total number of steps, so a failure at step N replays with the same
// seed and any POINTSMALL_SIM_STEPS (POINTSMALL_SIM_PG_STEPS for PostgreSQL) >= N:
//   POINTSMALL_SIM_SEED=7 POINTSMALL_SIM_STEPS=60000 build/system_tests --gtest_filter=Simul*
// The commands are the same on both engines for a seed. What depends on thread timing: how much of
// an in-flight batch SQLite acknowledged before a crash (the commands left unanswered are re-sent
// after reopening, in the same order, so the ledger, ids included, comes out the same either way);
// PostgreSQL's batches, and so where its ids have gaps; and which batch a kill cuts off.
//
// Default run: seeds 1..5 (each with a different expiry and shortfall policy and time zone),
// 200,000 steps in all on SQLite; POINTSMALL_SIM_STEPS sets the total. PostgreSQL runs the same
// seeds for a tenth of that, at least 20,000 steps in all (also in the sanitizer build, which sets
// fewer SQLite steps), unless POINTSMALL_SIM_PG_STEPS sets its total.
// With POINTSMALL_SIM_SEED set, the default seeds are skipped and SimulationReplay.* run that seed
// alone, for POINTSMALL_SIM_STEPS steps on SQLite (default 40,000, a default seed's share, so that
// a failure of the default run replays with the seed alone) and POINTSMALL_SIM_PG_STEPS on
// PostgreSQL (default 4,000).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/time_zone.h"
#include "store/memory/memory_store.h"
#include "store/postgresql/pg_db.h"
#include "store/postgresql/pg_store.h"
#include "store/postgresql/testing.h"
#include "store/sqlite/sqlite_store.h"

namespace pointsmall::simulation {
namespace {

using ledger::Command;
using ledger::Rejection;
using store::CommandResult;

constexpr std::int64_t kDefaultTotalSteps = 200'000;
// PostgreSQL runs a tenth of SQLite's steps, and never fewer than a tenth of the default: its time
// goes to round trips and commits, which a sanitizer build (fewer SQLite steps) does not slow.
constexpr std::int64_t kPostgresShare = 10;
constexpr std::uint64_t kDefaultSeeds[] = {1, 2, 3, 4, 5};
constexpr TimeUs kMinute = 60 * kMicrosPerSecond;
constexpr TimeUs kHour = 60 * kMinute;
constexpr TimeUs kEpoch = 1'704'067'200 * kMicrosPerSecond;  // 2024-01-01T00:00:00Z
constexpr std::size_t kRecentCommands = 4096;                // what retries pick from
constexpr std::size_t kSweepLimit = 25;    // members settled / holds released per sweep
constexpr std::size_t kSubmitChunk = 256;  // commands handed to the engine at once
// PostgreSQL: chance (per mille) that the node's connections are killed while a chunk is in flight.
constexpr std::int64_t kKillPerMille = 100;
// PostgreSQL: chance (per mille) of a restart after a batch that SQLite does not crash after, so
// that the short run restarts the node a few times.
constexpr std::int64_t kRestartPerMille = 200;

// ---- Settings from the environment --------------------------------------------------------------

struct Settings {
  std::optional<std::uint64_t> chosen_seed;  // POINTSMALL_SIM_SEED: run only this one
  std::int64_t steps_per_seed = 0;           // on SQLite
  std::int64_t postgres_steps_per_seed = 0;  // on PostgreSQL
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
    const auto postgres_steps = env_number("POINTSMALL_SIM_PG_STEPS");
    const auto default_seed_count = static_cast<std::int64_t>(std::size(kDefaultSeeds));
    if (seed) {
      s.chosen_seed = static_cast<std::uint64_t>(*seed);
      s.steps_per_seed = steps.value_or(kDefaultTotalSteps / default_seed_count);
      s.postgres_steps_per_seed =
          postgres_steps.value_or(kDefaultTotalSteps / kPostgresShare / default_seed_count);
    } else {
      const std::int64_t total = steps.value_or(kDefaultTotalSteps);
      s.steps_per_seed = total / default_seed_count;
      s.postgres_steps_per_seed =
          postgres_steps.value_or(std::max(total, kDefaultTotalSteps) / kPostgresShare) /
          default_seed_count;
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
      << " live_lots_from=" << row->live_lots_from_id << " opened=" << time_text(row->opened_at_us);
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

// The first difference between the engine's and the model's lots, for a failure message.
std::string difference(const std::string& engine, const std::vector<ledger::Lot>& a,
                       const std::vector<ledger::Lot>& b) {
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    if (!(a[i] == b[i]))
      return "\n" + engine + ": " + describe(a[i]) + "\nmodel:  " + describe(b[i]);
  return "\n" + engine + " has " + std::to_string(a.size()) + " lots, the model " +
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

// ---- Ids ----------------------------------------------------------------------------------------

// SQLite gives members, transactions and lots the model's ids: 1, 2, 3, ... in the order they are
// made (a command that is not applied gives its ids back). PostgreSQL draws them from sequences,
// a block per batch, so its ids have gaps, but they too ascend in the order things are made
// (pg_store.h). IdMap pairs the two by rank: the k-th member the engine made is the model's member
// k. The simulation compares everything in the model's ids and sends commands in the engine's, so
// that things made in another order show up as different contents, and things made that the model
// did not make (or not made) as a different count.
enum class IdKind : std::uint8_t { member, transaction, lot };
constexpr std::array<IdKind, 3> kIdKinds = {IdKind::member, IdKind::transaction, IdKind::lot};
std::size_t at(IdKind kind) {
  return static_cast<std::size_t>(kind);
}
using IdCounts = std::array<std::int64_t, kIdKinds.size()>;  // how many things of each kind exist

IdCounts id_counts(const store::ProgramSummary& summary) {
  return {summary.members, summary.transactions, summary.lots};
}

const char* id_kind_name(IdKind kind) {
  static const char* const kNames[] = {"members", "transactions", "lots"};
  return kNames[at(kind)];
}

class IdMap {
 public:
  explicit IdMap(bool same_ids) : same_ids_(same_ids) {}
  [[nodiscard]] bool same_ids() const { return same_ids_; }
  // The model's ids 1..paired(kind) have their engine's ids.
  [[nodiscard]] std::int64_t paired(IdKind kind) const {
    return static_cast<std::int64_t>(engine_ids_[at(kind)].size());
  }
  [[nodiscard]] std::int64_t last_engine_id(IdKind kind) const {
    return engine_ids_[at(kind)].empty() ? 0 : engine_ids_[at(kind)].back();
  }
  // Pairs the engine's next id of the kind (above every paired one) with the model's next one.
  void pair(IdKind kind, std::int64_t engine_id) { engine_ids_[at(kind)].push_back(engine_id); }

  // Whether every id the command names is paired, or surely names nothing (above `model`, the
  // model's counts).
  [[nodiscard]] bool knows(const Command& command, const IdCounts& model) const {
    auto known = [&](IdKind kind, std::int64_t id) {
      return same_ids_ || id <= paired(kind) || id > model[at(kind)];
    };
    if (!known(IdKind::member, command.member_id)) return false;
    if (const auto* cancel = std::get_if<ledger::CancelTransaction>(&command.body))
      return known(IdKind::transaction, cancel->transaction_id);
    if (const auto* freeze = std::get_if<ledger::FreezeLot>(&command.body))
      return known(IdKind::lot, freeze->lot_id);
    if (const auto* unfreeze = std::get_if<ledger::UnfreezeLot>(&command.body))
      return known(IdKind::lot, unfreeze->lot_id);
    return true;
  }

  // The command in the engine's ids. A model id not paired names nothing yet: it becomes an id the
  // engine never makes.
  Command to_engine(const Command& model_command) {
    if (same_ids_) return model_command;
    Command command = model_command;
    command.member_id = to_engine(IdKind::member, command.member_id);
    if (auto* cancel = std::get_if<ledger::CancelTransaction>(&command.body))
      cancel->transaction_id = to_engine(IdKind::transaction, cancel->transaction_id);
    if (auto* freeze = std::get_if<ledger::FreezeLot>(&command.body))
      freeze->lot_id = to_engine(IdKind::lot, freeze->lot_id);
    if (auto* unfreeze = std::get_if<ledger::UnfreezeLot>(&command.body))
      unfreeze->lot_id = to_engine(IdKind::lot, unfreeze->lot_id);
    // The engine stores the hash of the request in its ids (Transaction::request_hash).
    request_hashes_[ledger::request_hash(command)] = ledger::request_hash(model_command);
    return command;
  }
  [[nodiscard]] std::int64_t to_engine(IdKind kind, std::int64_t model_id) const {
    if (same_ids_ || model_id <= 0) return model_id;
    if (model_id <= paired(kind))
      return engine_ids_[at(kind)][static_cast<std::size_t>(model_id - 1)];
    return kNothing + model_id;
  }

  // An engine's id in the model's; one that pairs with nothing becomes minus itself, which is no
  // model id, so that it shows in the difference it makes.
  [[nodiscard]] std::int64_t to_model(IdKind kind, std::int64_t engine_id) const {
    if (same_ids_ || engine_id <= 0) return engine_id;
    if (engine_id >= kNothing) return engine_id - kNothing;
    const auto& ids = engine_ids_[at(kind)];
    const auto it = std::lower_bound(ids.begin(), ids.end(), engine_id);
    if (it == ids.end() || *it != engine_id) return -engine_id;
    return (it - ids.begin()) + 1;
  }
  [[nodiscard]] ledger::Outcome to_model(ledger::Outcome outcome) const {
    outcome.transaction_id = to_model(IdKind::transaction, outcome.transaction_id);
    outcome.member_id = to_model(IdKind::member, outcome.member_id);
    return outcome;
  }
  [[nodiscard]] CommandResult to_model(CommandResult result) const {
    if (same_ids_) return result;
    result.outcome = to_model(result.outcome);
    return result;
  }
  [[nodiscard]] std::optional<ledger::AccountRow> to_model(
      std::optional<ledger::AccountRow> row) const {
    if (same_ids_ || !row) return row;
    row->member_id = to_model(IdKind::member, row->member_id);
    if (row->live_lots_from_id != ledger::kNoLiveLot)
      row->live_lots_from_id = to_model(IdKind::lot, row->live_lots_from_id);
    return row;
  }
  [[nodiscard]] std::vector<ledger::Lot> to_model(std::vector<ledger::Lot> lots) const {
    if (same_ids_) return lots;
    for (ledger::Lot& lot : lots) {
      lot.id = to_model(IdKind::lot, lot.id);
      lot.member_id = to_model(IdKind::member, lot.member_id);
      lot.transaction_id = to_model(IdKind::transaction, lot.transaction_id);
    }
    return lots;
  }
  [[nodiscard]] std::vector<ledger::Transaction> to_model(
      std::vector<ledger::Transaction> transactions) const {
    if (same_ids_) return transactions;
    for (ledger::Transaction& tx : transactions) translate(tx);
    return transactions;
  }
  [[nodiscard]] std::vector<MemberId> members_to_model(std::vector<MemberId> members) const {
    for (MemberId& member : members) member = to_model(IdKind::member, member);
    return members;
  }
  [[nodiscard]] std::vector<std::pair<MemberId, std::string>> holds_to_model(
      std::vector<std::pair<MemberId, std::string>> holds) const {
    for (auto& hold : holds) hold.first = to_model(IdKind::member, hold.first);
    return holds;
  }

 private:
  // Far above any id the engine's sequences reach in a simulation.
  static constexpr std::int64_t kNothing = std::int64_t{1} << 48;

  void translate(ledger::Transaction& tx) const {
    tx.id = to_model(IdKind::transaction, tx.id);
    tx.member_id = to_model(IdKind::member, tx.member_id);
    if (const auto it = request_hashes_.find(tx.request_hash); it != request_hashes_.end())
      tx.request_hash = it->second;
    // A cancellation names the transaction it cancels, a lot's freeze the lot (ledger.cc).
    const bool names_transaction = tx.kind == ledger::TransactionKind::cancel;
    const bool names_lot = tx.kind == ledger::TransactionKind::freeze_lot ||
                           tx.kind == ledger::TransactionKind::unfreeze_lot;
    if (names_transaction || names_lot)
      tx.reference = std::to_string(
          to_model(names_lot ? IdKind::lot : IdKind::transaction, std::stoll(tx.reference)));
    for (ledger::Entry& entry : tx.entries)
      if (entry.lot_id != 0) entry.lot_id = to_model(IdKind::lot, entry.lot_id);
    if (auto outcome = ledger::decode_outcome(tx.result))
      tx.result = ledger::encode_outcome(to_model(*outcome));
  }

  bool same_ids_;
  // [at(kind)][k]: the engine's id of the model's k + 1.
  std::array<std::vector<std::int64_t>, kIdKinds.size()> engine_ids_;
  std::unordered_map<std::uint64_t, std::uint64_t> request_hashes_;  // engine's -> model's
};

// ---- The engines under test ---------------------------------------------------------------------

// What the simulation needs of an engine beyond the storage interface: its ledger, what a crash
// is for it, and its ids.
class Engine {
 public:
  virtual ~Engine() = default;
  [[nodiscard]] virtual std::string name() const = 0;
  // Opens the engine's ledger (the same one each time), made with `policy` when new. Returns
  // nullptr and sets `error` on failure.
  virtual std::unique_ptr<store::LedgerStore> open(const ledger::Policy& policy,
                                                   std::string& error) = 0;
  // The node goes away, commands possibly in flight. No callback runs after it returns; the caller
  // then destroys the store and opens it again.
  virtual void crash(store::LedgerStore& store) = 0;
  // Whether kill_connections() does anything.
  [[nodiscard]] virtual bool has_connections() const { return false; }
  // Kills the node's database connections as soon as its writer is inside a transaction. Returns
  // false, killing nothing, once `all_answered` says that nothing is in flight.
  virtual bool kill_connections(const std::function<bool()>& /*all_answered*/) { return false; }
  // Whether the engine's ids are the model's; else IdMap pairs them, by ids_after().
  [[nodiscard]] virtual bool same_ids_as_model() const { return true; }
  // The engine's ids of the kind above `after`, ascending.
  virtual std::vector<std::int64_t> ids_after(IdKind /*kind*/, std::int64_t /*after*/) {
    return {};
  }
  // Where the ledger is, and how to replay a failure at `step`, for the failure message.
  [[nodiscard]] virtual std::string where() const = 0;
  [[nodiscard]] virtual std::string replay(std::uint64_t seed, std::int64_t step) const = 0;
};

// The embedded store on a file of its own. A crash is crash_for_test(): the writer stops where it
// is, and commands it did not commit stay unanswered.
class SqliteEngine final : public Engine {
 public:
  explicit SqliteEngine(std::filesystem::path dir) : dir_(std::move(dir)) {}
  [[nodiscard]] std::string name() const override { return "SQLite"; }
  std::unique_ptr<store::LedgerStore> open(const ledger::Policy& policy,
                                           std::string& error) override {
    store::SqliteOptions options;
    options.path = (dir_ / "ledger.db").string();
    options.policy_if_new = policy;
    options.time_zone_if_new = policy.zone->name();
    options.readers = 2;
    return store::open_sqlite_store(options, error);
  }
  void crash(store::LedgerStore& store) override {
    dynamic_cast<store::SqliteLedgerStore&>(store).crash_for_test();
  }
  [[nodiscard]] std::string where() const override {
    return "the database is kept in " + dir_.string();
  }
  [[nodiscard]] std::string replay(std::uint64_t seed, std::int64_t step) const override {
    return "POINTSMALL_SIM_SEED=" + std::to_string(seed) +
           " POINTSMALL_SIM_STEPS=" + std::to_string(std::max(step, std::int64_t{1})) +
           " system_tests --gtest_filter='SimulationReplay.SeedFromTheEnvironment'";
  }

 private:
  std::filesystem::path dir_;
};

// A node on a fresh schema of the test run's PostgreSQL server. Its sessions carry an application
// name of their own, by which an observer connection finds them in pg_stat_activity to kill them
// and reads the ids the node made. A crash cannot stop the node's writer midway (its destructor
// settles every command): it settles, and the caller restarts the node.
class PostgresEngine final : public Engine {
 public:
  // Throws std::runtime_error when there is no server.
  PostgresEngine() {
    static std::atomic<int> engines{0};
    const std::string schema_url = store::pg::fresh_test_schema_url();
    if (schema_url.empty()) throw std::runtime_error("no PostgreSQL server for the simulation");
    application_ = "pointsmall-sim-" + std::to_string(::getpid()) + "-" + std::to_string(engines++);
    url_ = store::pg::with_application_name(schema_url, application_);
    observer_ = store::pg::Connection::open(
        store::pg::with_application_name(schema_url, application_ + "-observer"));
  }
  [[nodiscard]] std::string name() const override { return "PostgreSQL"; }
  std::unique_ptr<store::LedgerStore> open(const ledger::Policy& policy,
                                           std::string& error) override {
    store::PostgresOptions options;
    options.url = url_;
    options.policy_if_new = policy;
    options.time_zone_if_new = policy.zone->name();
    options.readers = 2;
    return store::open_postgres_store(options, error);
  }
  void crash(store::LedgerStore& store) override { store.flush(); }
  [[nodiscard]] bool has_connections() const override { return true; }
  bool kill_connections(const std::function<bool()>& all_answered) override {
    const auto give_up_at = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    const store::pg::Params application = store::pg::Params().add(application_);
    while (std::chrono::steady_clock::now() < give_up_at) {
      const bool nothing_in_flight = all_answered();  // before looking: a miss is a real one
      // Only the writer can be busy: the readers serve the simulation's thread, which is here.
      const store::pg::Result writer = observer_.query(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
          "WHERE application_name = $1 AND state <> 'idle'",
          application);
      if (writer.rows() > 0) {
        // The idle readers go too, as when the server restarts.
        observer_.query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
            application);
        return true;
      }
      if (nothing_in_flight) return false;
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    return false;
  }
  [[nodiscard]] bool same_ids_as_model() const override { return false; }
  std::vector<std::int64_t> ids_after(IdKind kind, std::int64_t after) override {
    static const char* const kQueries[] = {
        "SELECT member_id FROM accounts WHERE member_id > $1 ORDER BY member_id",
        "SELECT id FROM transactions WHERE id > $1 ORDER BY id",
        "SELECT id FROM lots WHERE id > $1 ORDER BY id"};
    const store::pg::Result found =
        observer_.query(kQueries[at(kind)], store::pg::Params().add(after));
    std::vector<std::int64_t> ids;
    for (int i = 0; i < found.rows(); ++i) ids.push_back(found.integer(i, 0));
    return ids;
  }
  [[nodiscard]] std::string where() const override {
    return "the ledger is in " + store::pg::redact(url_) + " (until the test server stops)";
  }
  [[nodiscard]] std::string replay(std::uint64_t seed, std::int64_t step) const override {
    return "POINTSMALL_TEST_POSTGRES=<server url> POINTSMALL_SIM_SEED=" + std::to_string(seed) +
           " POINTSMALL_SIM_PG_STEPS=" + std::to_string(std::max(step, std::int64_t{1})) +
           " system_tests --gtest_filter='SimulationReplay.PostgresSeedFromTheEnvironment'";
  }

 private:
  std::string application_;
  std::string url_;
  store::pg::Connection observer_;
};

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

// A command sent to the engine, and the model's answer to compare with the engine's.
struct InFlight {
  std::int64_t step = 0;
  Command command;         // in the model's ids
  Command engine_command;  // in the engine's
  CommandResult expected;
  IdCounts model_counts{};  // the model's after the command (for an engine with ids of its own)
  std::optional<CommandResult> actual;  // written by the engine's callback
  // Connection kills started before the command was submitted, and before it was answered.
  std::int64_t kills_before = 0;
  std::int64_t kills_by_answer = 0;
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
  // PostgreSQL: connections killed inside a transaction, kills that found nothing in flight,
  // commands cut off at COMMIT that came back replayed, and waits for ids of commands in flight.
  std::int64_t kills = 0;
  std::int64_t kills_missed = 0;
  std::int64_t replayed_after_kill = 0;
  std::int64_t id_waits = 0;
};

class Simulation {
 public:
  Simulation(Engine& engine, std::uint64_t seed, std::int64_t steps)
      : engine_(engine),
        seed_(seed),
        steps_(steps),
        random_(seed),
        checks_(seed ^ 0x9e3779b97f4a7c15ULL),
        faults_(seed ^ 0x7f4a7c159e3779b9ULL),
        policy_(policy_for(seed, random_)),
        ids_(engine.same_ids_as_model()) {}

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
  void submit_to_engine(std::int64_t step, const Command& command, const CommandResult& expected);
  void submit(InFlight& sent);
  void submit_chunk();
  void settle_in_flight();
  void kill_connections();
  std::string pair_ids(const IdCounts& model);
  void check_answer(const InFlight& sent);
  void observe(std::int64_t step, const Command& command, const CommandResult& result);
  void check_member(std::int64_t step, const Command& command, const CommandResult& result);
  void check_program(std::int64_t step, const Command& command);
  void spot_check();
  void compare_member(MemberId member, const std::string& when);
  void compare_everything(bool histories, const std::string& when);
  void check_audits(const std::string& when);
  void crash_and_reopen();
  void open_store();
  [[noreturn]] void fail(std::int64_t step, const Command* command, const std::string& what) const;

  Engine& engine_;
  const std::uint64_t seed_;
  const std::int64_t steps_;
  Random random_;  // every choice of the run
  Random checks_;  // what to spot-check; apart, so that checking more changes no command
  Random faults_;  // when to kill PostgreSQL's connections or restart it; apart, likewise
  const ledger::Policy policy_;

  std::unique_ptr<store::MemoryLedgerStore> model_;
  IdMap ids_;
  std::deque<InFlight> in_flight_;              // a deque: callbacks hold pointers to its elements
  std::deque<InFlight> crashing_;               // the batch of run_batch_with_crash(), likewise
  std::size_t submitted_ = 0;                   // how many of in_flight_ went to the engine
  std::int64_t sent_ = 0;                       // commands submitted to the engine in all
  std::atomic<std::int64_t> answered_{0};       // of them, answered (on the writer's thread)
  std::atomic<std::int64_t> kills_started_{0};  // connection kills started

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
  // The engine's store. Declared last, so destroyed first: after a failure its destructor settles
  // the commands still queued, whose callbacks write into in_flight_ or crashing_.
  std::unique_ptr<store::LedgerStore> store_;
};

void Simulation::fail(std::int64_t step, const Command* command, const std::string& what) const {
  std::ostringstream out;
  out << "simulation failed on " << engine_.name() << ": seed " << seed_ << ", step " << step
      << " of " << steps_ << ", policy " << describe(policy_) << "\n";
  if (command != nullptr) out << "command: " << describe(*command) << "\n";
  out << what << "\n";
  out << "replay: " << engine_.replay(seed_, step) << "\n";
  out << engine_.where();
  throw SimulationFailure(out.str());
}

void Simulation::open_store() {
  std::string error;
  store_ = engine_.open(policy_, error);
  if (!store_) fail(step_, nullptr, "cannot open the " + engine_.name() + " store: " + error);
  if (describe(store_->policy()) != describe(policy_))
    fail(step_, nullptr,
         "the " + engine_.name() + " store has policy " + describe(store_->policy()));
}

void Simulation::run() {
  if (policy_.zone == nullptr) fail(0, nullptr, "time zone missing (is tzdata installed?)");
  model_ = std::make_unique<store::MemoryLedgerStore>(policy_);
  open_store();
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
      if (crash < 140 || (engine_.has_connections() && faults_.per_mille(kRestartPerMille)))
        crash_and_reopen();
    }
    spot_check();
  }
  compare_everything(true, "at the end");
  check_audits("at the end");
}

// One batch: each command runs on the model at once (so the next one is generated from the
// current state) and is queued to the engine; its answers are compared once the batch is flushed.
void Simulation::run_batch(std::int64_t size) {
  std::vector<Command> commands = sweep();
  for (const Command& command : commands)  // housekeeping: not counted as steps
    submit_to_engine(step_, command, execute_on_model(step_, command));
  for (std::int64_t i = 0; i < size; ++i) {
    ++step_;
    advance_clock();
    const Command command = next_command();
    const CommandResult expected = execute_on_model(step_, command);
    submit_to_engine(step_, command, expected);
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

// Commands reach the engine in chunks: one at a time, the writer would commit (and fsync) each
// alone while the model works on the next. A command naming something that a command still in
// flight made waits for the engine's id of it (PostgreSQL's ids are not the model's).
void Simulation::submit_to_engine(std::int64_t step, const Command& command,
                                  const CommandResult& expected) {
  IdCounts model_counts{};
  if (!ids_.same_ids()) {
    model_counts = id_counts(model_->summary());
    if (!ids_.knows(command, model_counts)) {
      ++counters_.id_waits;
      settle_in_flight();
    }
  }
  InFlight& slot = in_flight_.emplace_back();
  slot.step = step;
  slot.command = command;
  slot.engine_command = ids_.to_engine(command);
  slot.expected = expected;
  slot.model_counts = model_counts;
  if (in_flight_.size() - submitted_ >= kSubmitChunk) submit_chunk();
}

void Simulation::submit(InFlight& sent) {
  sent.kills_before = kills_started_.load();
  ++sent_;
  InFlight* target = &sent;
  store_->submit(sent.engine_command, [this, target](const CommandResult& result) {
    target->actual = result;
    target->kills_by_answer = kills_started_.load();
    answered_.fetch_add(1);
  });
}

void Simulation::submit_chunk() {
  const std::size_t first = submitted_;
  for (; submitted_ < in_flight_.size(); ++submitted_) submit(in_flight_[submitted_]);
  // PostgreSQL: now and then the database connection dies while the chunk is being committed.
  if (submitted_ > first && engine_.has_connections() && faults_.per_mille(kKillPerMille))
    kill_connections();
}

void Simulation::kill_connections() {
  kills_started_.fetch_add(1);
  const bool killed = engine_.kill_connections([this] { return answered_.load() == sent_; });
  ++(killed ? counters_.kills : counters_.kills_missed);
}

// Waits for the engine and compares its answers with the model's.
void Simulation::settle_in_flight() {
  submit_chunk();
  store_->flush();
  std::string count_error;
  if (!in_flight_.empty()) count_error = pair_ids(in_flight_.back().model_counts);
  for (const InFlight& sent : in_flight_) check_answer(sent);
  if (!count_error.empty()) fail(in_flight_.back().step, nullptr, count_error);
  in_flight_.clear();
  submitted_ = 0;
}

// Pairs the ids the engine made since the last call with the model's (IdMap), the model having
// made `model` in all by the last command the engine answered. Returns what differs in number.
std::string Simulation::pair_ids(const IdCounts& model) {
  if (ids_.same_ids()) return "";
  std::string error;
  for (const IdKind kind : kIdKinds) {
    const std::int64_t before = ids_.paired(kind);
    for (std::int64_t id : engine_.ids_after(kind, ids_.last_engine_id(kind))) ids_.pair(kind, id);
    const std::int64_t made = ids_.paired(kind) - before;
    if (made != model[at(kind)] - before && error.empty())
      error = engine_.name() + " made " + std::to_string(made) + " " + id_kind_name(kind) +
              " where the model made " + std::to_string(model[at(kind)] - before);
  }
  return error;
}

void Simulation::check_answer(const InFlight& sent) {
  if (!sent.actual) fail(sent.step, &sent.command, engine_.name() + " never answered");
  const CommandResult actual = ids_.to_model(*sent.actual);
  if (same_result(actual, sent.expected)) return;
  // A batch whose connection died during its COMMIT may have committed: the writer runs it again
  // on a new connection, and its commands find their keys and replay their own outcomes.
  const bool cut_off = sent.kills_by_answer > sent.kills_before;
  if (cut_off && actual.replayed && !sent.expected.replayed && actual.ok() && sent.expected.ok() &&
      actual.outcome == sent.expected.outcome) {
    ++counters_.replayed_after_kill;
    return;
  }
  fail(sent.step, &sent.command,
       engine_.name() + ": " + describe(actual) + "\nmodel:  " + describe(sent.expected));
}

// A batch with a crash in the middle of it: the commands are generated from the model's state
// before the batch and queued to the engine, which crashes while the last part is still queued or
// being committed (PostgreSQL: its connections are killed then; it answers everything, and is
// restarted). What the engine acknowledged runs on the model; the rest is re-sent to both after
// reopening, as a client would.
void Simulation::run_batch_with_crash(std::int64_t size) {
  settle_in_flight();
  std::deque<InFlight>& batch = crashing_;
  batch.clear();
  for (std::int64_t i = 0; i < size; ++i) {
    ++step_;
    advance_clock();
    InFlight& sent = batch.emplace_back();
    sent.command = next_command();
    sent.step = step_;
    sent.engine_command = ids_.to_engine(sent.command);
  }
  const auto settled = static_cast<std::size_t>(random_.between(0, size));
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (i == settled) store_->flush();  // the first part is surely acknowledged
    submit(batch[i]);
  }
  if (engine_.has_connections()) kill_connections();
  engine_.crash(*store_);
  ++counters_.crashes;
  ++counters_.crashes_in_flight;
  std::size_t acknowledged = 0;
  while (acknowledged < batch.size() && batch[acknowledged].actual) ++acknowledged;
  for (std::size_t i = acknowledged; i < batch.size(); ++i)
    if (batch[i].actual)
      fail(batch[i].step, &batch[i].command, "acknowledged after an unacknowledged command");
  for (std::size_t i = 0; i < acknowledged; ++i)
    batch[i].expected = execute_on_model(batch[i].step, batch[i].command);
  const std::string count_error = pair_ids(id_counts(model_->summary()));
  for (std::size_t i = 0; i < acknowledged; ++i) check_answer(batch[i]);
  if (!count_error.empty()) fail(step_, nullptr, count_error + " before a crash");
  store_.reset();
  open_store();
  model_->restart();
  if (acknowledged < settled)
    fail(batch[acknowledged].step, &batch[acknowledged].command, "never answered");
  counters_.unacknowledged += static_cast<std::int64_t>(batch.size() - acknowledged);
  compare_everything(false, "after a crash with " + std::to_string(acknowledged) + " of " +
                                std::to_string(batch.size()) + " commands acknowledged");
  check_audits("after a crash");
  for (std::size_t i = acknowledged; i < batch.size(); ++i)
    submit_to_engine(batch[i].step, batch[i].command,
                     execute_on_model(batch[i].step, batch[i].command));
  settle_in_flight();
}

// A crash between batches: everything was acknowledged, so everything must be there.
void Simulation::crash_and_reopen() {
  settle_in_flight();
  engine_.crash(*store_);
  store_.reset();
  open_store();
  model_->restart();
  ++counters_.crashes;
  compare_everything(false, "after a crash between batches");
  check_audits("after a crash between batches");
}

void Simulation::check_audits(const std::string& when) {
  ++counters_.audits;
  const ledger::Audit audit = store_->audit();
  if (!audit.clean()) {
    std::string findings;
    for (const std::string& finding : audit.findings()) findings += "\n  " + finding;
    fail(step_, nullptr,
         engine_.name() + " audit " + when + ": " + std::to_string(audit.finding_count()) +
             " findings" + findings);
  }
  const ledger::Audit model_audit = model_->audit();
  if (!model_audit.clean())
    fail(step_, nullptr, "model audit " + when + ": " + model_audit.findings().front());
  if (audit.members_checked() != model_audit.members_checked() ||
      audit.lots_checked() != model_audit.lots_checked() ||
      audit.transactions_checked() != model_audit.transactions_checked() ||
      audit.program_balances() != model_audit.program_balances())
    fail(step_, nullptr, engine_.name() + " and model audits " + when + " counted different rows");
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

// Between batches the engine and the model must agree on what a reader sees (in the model's ids).
void Simulation::spot_check() {
  if (members_.empty()) return;
  for (int i = 0; i < 3; ++i) compare_member(checks_.pick(members_).id, "between batches");
  const MemberInfo& member = checks_.pick(members_);
  const MemberId engine_member = ids_.to_engine(IdKind::member, member.id);
  const auto page = static_cast<std::size_t>(checks_.between(1, 50));
  if (ids_.to_model(store_->history(engine_member, 0, page)) != model_->history(member.id, 0, page))
    fail(step_, nullptr, "the newest history of member " + std::to_string(member.id) + " differs");
  const auto found = store_->member_by_external_id(member.external_id);
  if (!found || ids_.to_model(IdKind::member, *found) != member.id)
    fail(step_, nullptr, "external id " + member.external_id + " does not find its member");
}

void Simulation::compare_member(MemberId member, const std::string& when) {
  const MemberId engine_member = ids_.to_engine(IdKind::member, member);
  const auto a = ids_.to_model(store_->account(engine_member));
  const auto b = model_->account(member);
  if (a != b)
    fail(step_, nullptr,
         "account " + std::to_string(member) + " differs " + when + "\n" + engine_.name() + ": " +
             describe(a) + "\nmodel:  " + describe(b));
  const auto lots_a = ids_.to_model(store_->lots(engine_member));
  const auto lots_b = model_->lots(member);
  if (lots_a != lots_b)
    fail(step_, nullptr,
         "lots of member " + std::to_string(member) + " differ " + when +
             difference(engine_.name(), lots_a, lots_b));
}

void Simulation::compare_everything(bool histories, const std::string& when) {
  const store::ProgramSummary a = store_->summary();
  const store::ProgramSummary b = model_->summary();
  if (describe(a) != describe(b))
    fail(step_, nullptr,
         "summary " + when + ":\n" + engine_.name() + ": " + describe(a) +
             "\nmodel:  " + describe(b));
  constexpr std::size_t kPage = store::LedgerStore::kMaxHistoryPage;
  for (const MemberInfo& member : members_) {
    compare_member(member.id, when);
    if (!histories) continue;
    const MemberId engine_member = ids_.to_engine(IdKind::member, member.id);
    TransactionId engine_before = 0;
    TransactionId before = 0;
    for (;;) {  // page through the whole history, newest first
      const auto engine_page = store_->history(engine_member, engine_before, kPage);
      const auto page = ids_.to_model(engine_page);
      if (page != model_->history(member.id, before, kPage))
        fail(step_, nullptr, "history of member " + std::to_string(member.id) + " differs " + when);
      if (page.size() < kPage) break;
      engine_before = engine_page.back().id;
      before = page.back().id;
    }
  }
  for (TimeUs at_us : {now_, now_ + 30 * kMicrosPerDay, now_ + 400 * kMicrosPerDay}) {
    if (ids_.members_to_model(store_->members_due(at_us, 0, 1'000'000)) !=
        model_->members_due(at_us, 0, 1'000'000))
      fail(step_, nullptr, "members due differ " + when);
    if (ids_.holds_to_model(store_->expired_holds(at_us, 1'000'000)) !=
        model_->expired_holds(at_us, 1'000'000))
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
  const auto due_engine = ids_.members_to_model(store_->members_due(now_, 0, kSweepLimit));
  const auto due_model = model_->members_due(now_, 0, kSweepLimit);
  if (due_engine != due_model) fail(step_, nullptr, "members due differ before a sweep");
  const auto holds_engine = ids_.holds_to_model(store_->expired_holds(now_, kSweepLimit));
  const auto holds_model = model_->expired_holds(now_, kSweepLimit);
  if (holds_engine != holds_model) fail(step_, nullptr, "expired holds differ before a sweep");
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
  out << "simulation engine=" << engine_.name() << " seed=" << seed_ << " steps=" << steps_
      << " policy=" << describe(policy_) << " members=" << members_.size()
      << " days=" << (now_ - kEpoch) / kMicrosPerDay << " accepted=" << accepted << " {";
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
  out << "} sweeps=" << counters_.sweeps << (engine_.has_connections() ? " restarts=" : " crashes=")
      << counters_.crashes << " (in flight " << counters_.crashes_in_flight
      << ", unacknowledged re-sent " << counters_.unacknowledged << ")";
  if (engine_.has_connections())
    out << " connections_killed=" << counters_.kills << " (found nothing in flight "
        << counters_.kills_missed << ", replayed after a kill " << counters_.replayed_after_kill
        << ") waits_for_ids=" << counters_.id_waits;
  out << " audits=" << counters_.audits << " seconds=" << seconds;
  return out.str();
}

// ---- The tests ----------------------------------------------------------------------------------

// Runs one seed on the engine and prints its summary line. Returns whether it passed.
bool run_simulation(Engine& engine, std::uint64_t seed, std::int64_t steps) {
  const auto start = std::chrono::steady_clock::now();  // for the report only
  Simulation simulation(engine, seed, steps);
  bool passed = false;
  try {
    simulation.run();
    passed = true;
  } catch (const SimulationFailure& failure) {
    ADD_FAILURE() << failure.what();
  } catch (const std::exception& error) {
    ADD_FAILURE() << "seed " << seed << " on " << engine.name()
                  << ": unexpected exception: " << error.what();
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%s\n", simulation.summary_line(seconds).c_str());
  std::fflush(stdout);
  return passed;
}

// SQLite in a fresh directory, kept when the run fails.
void run_seed(std::uint64_t seed) {
  std::string pattern = (std::filesystem::temp_directory_path() /
                         ("pointsmall-sim-" + std::to_string(seed) + "-XXXXXX"))
                            .string();
  ASSERT_NE(mkdtemp(pattern.data()), nullptr);
  const std::filesystem::path dir = pattern;
  SqliteEngine engine(dir);
  if (run_simulation(engine, seed, settings().steps_per_seed)) std::filesystem::remove_all(dir);
}

// PostgreSQL on a fresh schema of the test server.
void run_postgres_seed(std::uint64_t seed) {
  std::unique_ptr<PostgresEngine> engine;
  try {
    engine = std::make_unique<PostgresEngine>();
  } catch (const std::exception& error) {
    FAIL() << "cannot start the PostgreSQL simulation: " << error.what();
  }
  run_simulation(*engine, seed, settings().postgres_steps_per_seed);
}

// The default seeds. Their names do not depend on the environment, so that ctest (which lists
// the tests when building) finds them whatever POINTSMALL_SIM_SEED says when it runs.
class SimulationTest : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(SimulationTest, SqliteAgreesWithTheModel) {
  if (settings().chosen_seed) GTEST_SKIP() << "POINTSMALL_SIM_SEED is set: only that seed runs";
  run_seed(GetParam());
}

TEST_P(SimulationTest, PostgresAgreesWithTheModel) {
  if (settings().chosen_seed) GTEST_SKIP() << "POINTSMALL_SIM_SEED is set: only that seed runs";
  run_postgres_seed(GetParam());
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

TEST(SimulationReplay, PostgresSeedFromTheEnvironment) {
  if (!settings().chosen_seed) GTEST_SKIP() << "set POINTSMALL_SIM_SEED to run one seed";
  run_postgres_seed(*settings().chosen_seed);
}

}  // namespace
}  // namespace pointsmall::simulation
