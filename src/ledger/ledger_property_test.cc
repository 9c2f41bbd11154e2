// Property tests of the ledger: random histories of commands, decided by `decide` and applied by
// the in-memory keeper (testing.h), checked against every invariant of model.h after every step.
//
// The suite is deterministic: without RC_PARAMS each property runs a fixed number of cases from a
// fixed seed. A failure prints an RC_PARAMS="reproduce=..." line that replays it; RC_PARAMS
// (e.g. "seed=123 max_success=5000") also explores further.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <map>
#include <numeric>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "ledger/ledger.h"
#include "ledger/testing.h"

namespace pointsmall::ledger {
namespace {

using testing::BookKeeper;
using testing::Result;
using testing::Rows;

constexpr TimeUs kHour = 3600 * kMicrosPerSecond;
constexpr std::uint64_t kSeed = 20240325;

// Runs a rapidcheck property as the current gtest test, with `cases` cases from kSeed unless
// RC_PARAMS says otherwise.
template <typename Testable>
void check_property(Testable&& testable, int cases) {
  using namespace rc::detail;  // NOLINT(google-build-using-namespace): rapidcheck's runner
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  TestMetadata metadata;
  metadata.id = std::string(info->test_suite_name()) + "/" + info->name();
  metadata.description = info->name();
  TestParams params = configuration().testParams;
  if (std::getenv("RC_PARAMS") == nullptr) {
    params.seed = kSeed;
    params.maxSuccess = cases;
  }
  const TestResult result =
      checkProperty(toProperty(std::forward<Testable>(testable)), metadata, params);
  if (!result.is<SuccessResult>()) {
    std::ostringstream message;
    printResultMessage(result, message);
    // rapidcheck prints "Using configuration: seed=..." with its own default seed; this is the
    // one used.
    ADD_FAILURE() << "seed " << params.seed << ", up to " << params.maxSuccess << " cases\n"
                  << message.str();
  }
}

__extension__ using Int128 = __int128;  // products of points and money exceed 64 bits

TimeUs utc(const char* rfc3339) {
  return parse_rfc3339(rfc3339).value();
}

// ---- Random histories --------------------------------------------------------------------------

// One step of a history. The fields are plain numbers so that rapidcheck shrinks them well; `run`
// gives them meaning against the current book.
struct Step {
  int kind = 0;    // which command, see Simulation::run
  int member = 0;  // 0 or 1
  int points = 1;  // 1..399
  int pick = 0;    // chooses among existing orders, holds, transactions and lots
  int hours = 0;   // how far the clock moves before the step
  int flavor = 0;  // 0..7: variations of the command
};

void showValue(const Step& s, std::ostream& os) {
  os << "{kind " << s.kind << ", member " << s.member << ", points " << s.points << ", pick "
     << s.pick << ", hours " << s.hours << ", flavor " << s.flavor << "}";
}

constexpr int kStepKinds = 20;

// rapidcheck scales inRange with its size; fields are drawn at full size so that even short
// histories use every command, and only the history's length grows.
rc::Gen<Step> step_gen() {
  return rc::gen::map(
      rc::gen::resize(rc::kNominalSize,
                      rc::gen::tuple(rc::gen::inRange(0, kStepKinds), rc::gen::inRange(0, 2),
                                     rc::gen::inRange(1, 400), rc::gen::inRange(0, 1000),
                                     rc::gen::element(0, 0, 0, 1, 5, 24, 72, 240, 840),
                                     rc::gen::inRange(0, 8))),
      [](const std::tuple<int, int, int, int, int, int>& t) {
        return Step{std::get<0>(t), std::get<1>(t), std::get<2>(t),
                    std::get<3>(t), std::get<4>(t), std::get<5>(t)};
      });
}

// The program's policy for one history.
struct ProgramSetup {
  int expiry = 0;     // index into kExpiries
  int shortfall = 0;  // 0..2
  bool london = false;
};

constexpr std::array<const char*, 6> kExpiries = {
    "days:30", "end-of-month:0", "end-of-month:1", "end-of-year:0", "rolling:20", "never"};

void showValue(const ProgramSetup& s, std::ostream& os) {
  os << "{expiry " << kExpiries[static_cast<std::size_t>(s.expiry)] << ", shortfall " << s.shortfall
     << (s.london ? ", Europe/London}" : ", UTC}");
}

rc::Gen<ProgramSetup> setup_gen() {
  return rc::gen::map(
      rc::gen::resize(rc::kNominalSize,
                      rc::gen::tuple(rc::gen::inRange(0, static_cast<int>(kExpiries.size())),
                                     rc::gen::inRange(0, 3), rc::gen::arbitrary<bool>())),
      [](const std::tuple<int, int, bool>& t) {
        return ProgramSetup{std::get<0>(t), std::get<1>(t), std::get<2>(t)};
      });
}

Policy policy_of(const ProgramSetup& setup) {
  Policy policy;
  policy.expiry = *parse_expiry_policy(kExpiries[static_cast<std::size_t>(setup.expiry)]);
  policy.shortfall = static_cast<ShortfallPolicy>(setup.shortfall);
  if (setup.london) policy.zone = TimeZone::load("Europe/London");
  return policy;
}

// floor(value * numerator / denominator), as the ledger's pro-rata rule says.
Points pro_rata(Points value, MinorUnits numerator, MinorUnits denominator) {
  return static_cast<Points>(static_cast<Int128>(value) * numerator / denominator);
}

Points sum_of(const std::vector<Entry>& entries) {
  Points sum = 0;
  for (const Entry& entry : entries) sum += entry.amount;
  return sum;
}

// Two members, a clock, and a keeper; runs steps and checks everything after each.
class Simulation {
 public:
  explicit Simulation(const ProgramSetup& setup) : keeper_(policy_of(setup)) {
    for (std::size_t i = 0; i < members_.size(); ++i) {
      const Result opened = execute(Command{"open-" + std::to_string(i), 0, now_, "import", "",
                                            OpenAccount{"member-" + std::to_string(i)}});
      RC_ASSERT(opened.ok());
      members_[i].id = opened.outcome.member_id;
    }
  }

  void run(const Step& step) {
    now_ += step.hours * kHour;
    Member& m = members_[static_cast<std::size_t>(step.member)];
    const Rows before = keeper_.rows;
    switch (step.kind) {
      case 0:
      case 1:
      case 2:
      case 3:
        return earn(step, m);
      case 4:
      case 5:
      case 6:
        return spend(step, m);
      case 7:
        return place_hold(step, m);
      case 8:
        return capture_or_release(step, m, true);
      case 9:
        return capture_or_release(step, m, false);
      case 10:
      case 11:
        return refund(step, m);
      case 12:
        return cancel(step, m);
      case 13:
        return adjust(step, m);
      case 14: {
        const Result settled = execute(command(m, Settle{}));
        RC_ASSERT(settled.ok());
        return;
      }
      case 15: {
        const bool freeze = step.flavor < 2;  // mostly unfreezes, so that spending goes on
        const Result result = execute(command(
            m, freeze ? CommandBody{FreezeAccount{}} : CommandBody{UnfreezeAccount{}}, "review"));
        RC_ASSERT(result.ok());
        RC_ASSERT(keeper_.rows.accounts.at(m.id).account_frozen == freeze);
        return;
      }
      case 16:
      case 17:
        return freeze_lot(step, m, step.kind == 16);
      case 18:
        return repeat(step);
      default:
        return misuse(step, m, before);
    }
  }

  [[nodiscard]] const BookKeeper& keeper() const { return keeper_; }

 private:
  struct Member {
    MemberId id = 0;
    std::vector<std::string> orders;       // orders that earned points (refundable)
    std::vector<std::string> paid_orders;  // orders only paid with points
    std::vector<std::string> holds;
    std::vector<TransactionId> cancellable;  // spends and holds
    std::vector<TransactionId> others;       // earns and adjustments
  };

  Command command(const Member& m, CommandBody body, std::string reason = "simulated") {
    return Command{"key-" + std::to_string(++keys_),
                   m.id,
                   now_,
                   "simulation",
                   std::move(reason),
                   std::move(body)};
  }

  // Executes and checks what must hold after any command; returns the result.
  Result execute(const Command& command) {
    const Rows before = keeper_.rows;
    const Result result = keeper_.execute(command);
    RC_LOG() << command_name(command.body) << " at " << format_rfc3339_utc(command.at_us) << " -> "
             << (result.ok() ? "ok" : rejection_name(*result.rejection)) << "\n";
    if (!result.ok() || result.replayed) {
      RC_ASSERT(keeper_.rows == before);
      if (!result.ok() && !result.replayed) {
        // The decision itself carries nothing to apply.
        SequentialIds ids;
        const Decision again = decide(keeper_.load(command), command, keeper_.policy(), ids);
        RC_ASSERT(again.rejection == result.rejection);
        RC_ASSERT(again.effects.transactions.empty());
        RC_ASSERT(again.effects.lots_inserted.empty());
        RC_ASSERT(again.effects.lots_updated.empty());
        RC_ASSERT(again.effects.allocations_inserted.empty());
      }
    } else {
      accepted_.emplace_back(command, result.outcome);
      const AccountRow& row = keeper_.rows.accounts.at(result.outcome.member_id);
      RC_ASSERT(result.outcome.available_after == row.available);
      RC_ASSERT(result.outcome.pending_after == row.pending);
      RC_ASSERT(result.outcome.debt_after == row.debt);
      const Transaction& own = keeper_.rows.journal.at(result.outcome.transaction_id);
      RC_ASSERT(own.idempotency_key == command.idempotency_key);
      RC_ASSERT(decode_outcome(own.result) == result.outcome);
    }
    check_history(before);
    check_invariants();
    return result;
  }

  // ---- Commands ----------------------------------------------------------------------------

  void earn(const Step& s, Member& m) {
    Earn earn{s.points, s.flavor == 7 ? "checkin" : "purchase", ""};
    if (s.flavor >= 2 && s.flavor <= 5) {
      earn.order_id = "order-" + std::to_string(++orders_);
      earn.order_amount_minor = s.points * (5 + s.pick % 50);
    }
    if (s.flavor == 5 || s.flavor == 6) earn.matures_at_us = now_ + (1 + s.pick % 10) * 24 * kHour;
    if (s.flavor == 7) earn.expires_at_us = now_ + (1 + s.pick % 200) * kHour;
    earn.cost_minor = s.pick % 3;
    issued_ += s.points;  // before: the invariants are checked inside execute
    const Result result = execute(command(m, earn));
    RC_ASSERT(result.ok());
    RC_ASSERT(result.outcome.points == s.points);
    if (!earn.order_id.empty()) m.orders.push_back(earn.order_id);
    m.others.push_back(result.outcome.transaction_id);
  }

  void spend(const Step& s, Member& m) {
    std::string order_id;
    if (s.flavor < 2 && !m.orders.empty()) order_id = m.orders[pick(s, m.orders.size())];
    if (s.flavor == 2) {
      order_id = "paid-" + std::to_string(++orders_);
      m.paid_orders.push_back(order_id);
    }
    const Points points = affordable(s, m);
    const Bounds bounds = spendable(m.id);
    const bool frozen = keeper_.rows.accounts.at(m.id).account_frozen;
    const Result result = execute(command(m, Spend{points, order_id}));
    check_taking(result, points, bounds, frozen);
    if (result.ok()) {
      RC_ASSERT(result.outcome.points == -points);
      m.cancellable.push_back(result.outcome.transaction_id);
    }
  }

  void place_hold(const Step& s, Member& m) {
    const std::string ref = "hold-" + std::to_string(++holds_);
    const TimeUs expires = s.flavor == 0 ? now_ + 2 * kHour : kTimeNever;
    const Points points = affordable(s, m);
    const Bounds bounds = spendable(m.id);
    const bool frozen = keeper_.rows.accounts.at(m.id).account_frozen;
    const Result result = execute(command(m, PlaceHold{ref, points, expires}));
    check_taking(result, points, bounds, frozen);
    if (!result.ok()) return;
    m.holds.push_back(ref);
    m.cancellable.push_back(result.outcome.transaction_id);
  }

  void capture_or_release(const Step& s, Member& m, bool capture) {
    const bool unknown = m.holds.empty() || s.pick % 10 == 0;
    const std::string ref = unknown ? "no-such-hold" : m.holds[pick(s, m.holds.size())];
    std::optional<Hold> hold;
    if (auto it = keeper_.rows.holds.find({m.id, ref}); it != keeper_.rows.holds.end())
      hold = it->second;
    const Points held_before = keeper_.rows.accounts.at(m.id).held;
    const Result result =
        capture ? execute(command(m, CaptureHold{ref})) : execute(command(m, ReleaseHold{ref}));
    if (!hold) {
      RC_ASSERT(result.rejection == Rejection::unknown_hold);
    } else if (hold->state != HoldState::open) {
      RC_ASSERT(result.rejection == Rejection::hold_not_open);
    } else if (capture && hold->expires_at_us <= now_) {
      RC_ASSERT(result.rejection == Rejection::hold_expired);
    } else {
      RC_ASSERT(result.ok());
      RC_ASSERT(keeper_.rows.accounts.at(m.id).held == held_before - hold->points);
    }
  }

  void refund(const Step& s, Member& m) {
    if (m.orders.empty() || s.pick % 10 == 0) {
      const std::string order_id = !m.paid_orders.empty() && s.flavor % 2 == 0
                                       ? m.paid_orders[pick(s, m.paid_orders.size())]
                                       : "no-such-order";
      const Result result = execute(command(m, Refund{order_id, s.points}));
      RC_ASSERT(result.rejection == Rejection::unknown_order);
      return;
    }
    const std::string order_id = m.orders[pick(s, m.orders.size())];
    const Order order = keeper_.rows.orders.at({m.id, order_id});
    const MinorUnits left = order.amount_minor - order.refunded_minor;
    Points unreturned = 0;  // of the spends that paid for the order
    for (const auto& [key, allocation] : keeper_.rows.allocations) {
      const Transaction& tx = keeper_.rows.journal.at(allocation.transaction_id);
      if (tx.kind == TransactionKind::spend && tx.reference == order_id)
        unreturned += allocation.points - allocation.returned;
    }
    MinorUnits amount = s.flavor < 3 ? left : 1 + s.pick % std::max<MinorUnits>(left, 1);
    if (s.flavor == 7 || left == 0) amount = left + 1 + s.pick % 5;
    const Result result = execute(command(m, Refund{order_id, amount}));
    if (amount > left) {
      RC_ASSERT(result.rejection == Rejection::refund_exceeds_order);
      return;
    }
    RC_ASSERT(result.ok());
    const Order& after = keeper_.rows.orders.at({m.id, order_id});
    RC_ASSERT(after.refunded_minor == order.refunded_minor + amount);
    // What the member is charged plus what the merchant absorbs is exactly this refund's share.
    RC_ASSERT(-result.outcome.points + result.outcome.absorbed ==
              after.points_clawed_back - order.points_clawed_back);
    // Points that paid for the order come back pro rata, less what came back before (by refunds
    // or a cancel), as far as the spends still hold them.
    const Points share = pro_rata(order.points_spent, after.refunded_minor, order.amount_minor);
    RC_ASSERT(result.outcome.points_returned ==
              std::min(std::max<Points>(0, share - order.points_returned), unreturned));
    // Debt or absorption only once the member's own spendable and pending points are gone.
    const AccountRow& row = keeper_.rows.accounts.at(m.id);
    const ShortfallPolicy shortfall = keeper_.policy().shortfall;
    if (result.outcome.debt_added > 0) {
      RC_ASSERT(shortfall == ShortfallPolicy::other_lots_then_debt);
      RC_ASSERT(row.available == 0 && row.pending == 0);
    }
    if (result.outcome.absorbed > 0) {
      RC_ASSERT(shortfall != ShortfallPolicy::other_lots_then_debt);
      if (shortfall == ShortfallPolicy::other_lots_then_absorb)
        RC_ASSERT(row.available == 0 && row.pending == 0);
    }
  }

  void cancel(const Step& s, Member& m) {
    const Member& other = members_[m.id == members_[0].id ? 1 : 0];
    TransactionId target = 0;
    Rejection expected = Rejection::unknown_transaction;
    bool any = false;  // the outcome depends on the transaction's story; only the invariants judge
    if (s.flavor == 0 && !other.cancellable.empty()) {
      target = other.cancellable[pick(s, other.cancellable.size())];
    } else if (s.flavor == 1 && !m.others.empty()) {
      target = m.others[pick(s, m.others.size())];
      expected = Rejection::not_cancellable;
    } else if (!m.cancellable.empty()) {
      target = m.cancellable[pick(s, m.cancellable.size())];
      any = true;
    } else {
      target = 1'000'000;
    }
    const Result result = execute(command(m, CancelTransaction{target}));
    if (!any) {
      RC_ASSERT(result.rejection == expected);
      return;
    }
    if (!result.ok()) {
      RC_ASSERT(result.rejection == Rejection::already_cancelled);
      return;
    }
    // Every allocation of the cancelled transaction is now fully returned.
    for (const auto& [key, allocation] : keeper_.rows.allocations)
      if (allocation.transaction_id == target) RC_ASSERT(allocation.returned == allocation.points);
  }

  void adjust(const Step& s, Member& m) {
    const Points points = s.flavor % 2 == 0 ? -s.points : s.points;
    const Bounds bounds = spendable(m.id);
    if (points > 0) issued_ += points;
    const Result result = execute(command(m, Adjust{points}, "operator correction"));
    if (points > 0) {
      RC_ASSERT(result.ok());
      m.others.push_back(result.outcome.transaction_id);
      return;
    }
    check_taking(result, -points, bounds, false);
    if (result.ok()) m.others.push_back(result.outcome.transaction_id);
  }

  void freeze_lot(const Step& s, Member& m, bool freeze) {
    std::vector<LotId> candidates;
    for (const auto& [id, lot] : keeper_.rows.lots)
      if (lot.member_id == m.id || s.pick % 6 == 0) candidates.push_back(id);
    if (!freeze && s.flavor < 5) {  // mostly a lot that is frozen
      std::erase_if(candidates,
                    [&](LotId id) { return keeper_.rows.lots.at(id).state != LotState::frozen; });
    }
    const LotId lot_id = candidates.empty() ? 1'000'000 : candidates[pick(s, candidates.size())];
    std::optional<Lot> lot;
    if (auto it = keeper_.rows.lots.find(lot_id); it != keeper_.rows.lots.end()) lot = it->second;
    const Result result = execute(
        command(m, freeze ? CommandBody{FreezeLot{lot_id}} : CommandBody{UnfreezeLot{lot_id}},
                "fraud review"));
    if (!lot || lot->member_id != m.id) {
      RC_ASSERT(result.rejection == Rejection::unknown_lot);
    } else if (!freeze) {
      RC_ASSERT(result.ok() == (lot->state == LotState::frozen));
      if (!result.ok()) RC_ASSERT(result.rejection == Rejection::lot_not_frozen);
    } else if (lot->state != LotState::active && lot->state != LotState::pending) {
      RC_ASSERT(result.rejection == Rejection::lot_not_freezable);
    } else if (!result.ok()) {
      // A live lot is refused only when it expired on the way.
      RC_ASSERT(result.rejection == Rejection::lot_not_freezable);
      RC_ASSERT(lot->expires_at_us <= now_);
    }
  }

  // The same key again, later: the first outcome, and nothing changes.
  void repeat(const Step& s) {
    if (accepted_.empty()) return;
    const auto [first, outcome] = accepted_[pick(s, accepted_.size())];
    Command again = first;
    again.at_us = now_;
    const Result result = execute(again);
    RC_ASSERT(result.replayed);
    RC_ASSERT(result.ok());
    RC_ASSERT(result.outcome == outcome);
  }

  // A key reused for another request, or a malformed command: refused, nothing changes.
  void misuse(const Step& s, Member& m, const Rows& before) {
    if (s.flavor < 4 && !accepted_.empty()) {
      Command other = accepted_[pick(s, accepted_.size())].first;
      other.reason += " (changed)";
      const Result result = execute(other);
      RC_ASSERT(result.rejection == Rejection::idempotency_conflict);
    } else {
      const CommandBody body = s.flavor == 4   ? CommandBody{Spend{0, ""}}
                               : s.flavor == 5 ? CommandBody{Earn{-s.points, "purchase", ""}}
                               : s.flavor == 6 ? CommandBody{Adjust{s.points}}
                                               : CommandBody{PlaceHold{"", s.points}};
      const Result result = execute(command(m, body, s.flavor == 6 ? "" : "simulated"));
      RC_ASSERT(result.rejection == Rejection::invalid_request);
    }
    RC_ASSERT(keeper_.rows == before);
  }

  // Mostly an amount the member can afford (as the row says, before any expiry on the way), at
  // times the step's own, which may be too much.
  Points affordable(const Step& s, const Member& m) const {
    const Points available = keeper_.rows.accounts.at(m.id).available;
    if (s.flavor >= 6 || available == 0) return s.points;
    return 1 + (s.points - 1) % available;
  }

  // ---- Oracles -----------------------------------------------------------------------------

  // What a member can spend now, bounded from the rows before the command: `low` counts active
  // lots that have not expired; `high` adds pending lots that have matured (debt may eat them).
  struct Bounds {
    Points low = 0;
    Points high = 0;
  };
  Bounds spendable(MemberId member) const {
    Bounds bounds;
    for (const auto& [id, lot] : keeper_.rows.lots) {
      if (lot.member_id != member || lot.expires_at_us <= now_) continue;
      if (lot.state == LotState::active) bounds.low += lot.remaining;
      if (lot.state == LotState::pending && lot.matures_at_us <= now_) bounds.high += lot.remaining;
    }
    bounds.high += bounds.low;
    return bounds;
  }

  // A spend, hold or negative adjustment is refused exactly when it should be.
  static void check_taking(const Result& result, Points points, const Bounds& bounds, bool frozen) {
    if (frozen) {
      RC_ASSERT(result.rejection == Rejection::account_frozen);
      return;
    }
    if (points <= bounds.low) RC_ASSERT(result.ok());
    if (points > bounds.high) RC_ASSERT(result.rejection == Rejection::insufficient_points);
    if (!result.ok()) RC_ASSERT(result.rejection == Rejection::insufficient_points);
  }

  // What may change between two books: lots keep what they were granted with; an expired lot
  // stays expired; a hold never reopens; an allocation never takes back what it returned.
  void check_history(const Rows& before) const {
    const Rows& after = keeper_.rows;
    for (const auto& [id, old] : before.lots) {
      const Lot& now = after.lots.at(id);
      RC_ASSERT(now.amount == old.amount);
      RC_ASSERT(now.member_id == old.member_id);
      RC_ASSERT(now.transaction_id == old.transaction_id);
      RC_ASSERT(now.earned_at_us == old.earned_at_us);
      RC_ASSERT(now.matures_at_us == old.matures_at_us);
      RC_ASSERT(now.source == old.source);
      RC_ASSERT(now.order_id == old.order_id);
      if (old.state == LotState::expired) RC_ASSERT(now.state == LotState::expired);
    }
    for (const auto& [key, old] : before.holds)
      if (old.state != HoldState::open)
        RC_ASSERT(after.holds.at(key).state == old.state ||
                  after.holds.at(key).state == HoldState::released);
    for (const auto& [key, old] : before.allocations)
      RC_ASSERT(after.allocations.at(key).returned >= old.returned);
    for (const auto& [id, tx] : before.journal) RC_ASSERT(after.journal.at(id) == tx);
  }

  // Every invariant of model.h, re-derived here from the rows, independently of audit.cc; and
  // audit.cc must agree that the book is clean.
  void check_invariants() const {
    const Rows& rows = keeper_.rows;
    std::map<MemberId, AccountBalances> journal;
    AccountBalances all{};
    std::map<LotId, int> expiries;
    for (const auto& [id, tx] : rows.journal) {
      RC_ASSERT(sum_of(tx.entries) == 0);  // 1. each transaction sums to zero
      for (const Entry& entry : tx.entries) {
        journal[tx.member_id][static_cast<std::size_t>(entry.account)] += entry.amount;
        all[static_cast<std::size_t>(entry.account)] += entry.amount;
        if (tx.kind == TransactionKind::expiry && entry.account == Account::program_expired)
          ++expiries[entry.lot_id];
      }
    }
    RC_ASSERT(std::accumulate(all.begin(), all.end(), Points{0}) == 0);  // 1. all accounts
    for (const auto& [lot_id, count] : expiries) RC_ASSERT(count == 1);  // 3. expires once

    Points members_total = 0;
    for (const auto& [member, row] : rows.accounts) {
      Points active = 0, pending = 0, frozen = 0, held = 0, taken_for_holds = 0;
      TimeUs next_due = kTimeNever;
      for (const auto& [id, lot] : rows.lots) {
        if (lot.member_id != member) continue;
        RC_ASSERT(0 <= lot.remaining && lot.remaining <= lot.amount);  // 3.
        if (lot.state == LotState::active) active += lot.remaining;
        if (lot.state == LotState::pending) pending += lot.remaining;
        if (lot.state == LotState::frozen) frozen += lot.remaining;
        if (lot.state == LotState::pending) next_due = std::min(next_due, lot.matures_at_us);
        if (lot.state == LotState::active && lot.remaining > 0)
          next_due = std::min(next_due, lot.expires_at_us);
      }
      for (const auto& [key, hold] : rows.holds) {
        if (hold.member_id != member || hold.state != HoldState::open) continue;
        held += hold.points;
        for (const auto& [akey, allocation] : rows.allocations)
          if (allocation.transaction_id == hold.transaction_id)
            taken_for_holds += allocation.points - allocation.returned;
      }
      const AccountBalances& mine = journal[member];
      auto in = [&](Account account) { return mine[static_cast<std::size_t>(account)]; };
      // 2. the row is a projection of lots, holds and journal.
      RC_ASSERT(row.available == active);
      RC_ASSERT(row.available == in(Account::member_available));
      RC_ASSERT(row.pending == pending);
      RC_ASSERT(row.pending == in(Account::member_pending));
      RC_ASSERT(row.frozen == frozen);
      RC_ASSERT(row.frozen == in(Account::member_frozen));
      RC_ASSERT(row.held == held);
      RC_ASSERT(row.held == taken_for_holds);
      RC_ASSERT(row.held == in(Account::member_held));
      RC_ASSERT(row.debt == -in(Account::member_debt));
      RC_ASSERT(row.available >= 0);
      RC_ASSERT(row.debt >= 0);
      // The expiry run finds members by next_due_us, and `check` re-derives it: exact.
      RC_ASSERT(row.next_due_us == next_due);
      members_total += row.available + row.pending + row.frozen + row.held - row.debt;
    }
    auto program = [&](Account account) { return all[static_cast<std::size_t>(account)]; };
    // 4. issued == available + pending + frozen + held + spent + expired + clawed back + revoked -
    // debt
    RC_ASSERT(-program(Account::program_issued) == issued_);
    RC_ASSERT(issued_ ==
              members_total + program(Account::program_spent) + program(Account::program_expired) +
                  program(Account::program_clawed_back) + program(Account::program_revoked));
    Points expired_remaining = 0;
    for (const auto& [id, lot] : rows.lots)
      if (lot.state == LotState::expired) expired_remaining += lot.remaining;
    RC_ASSERT(program(Account::program_expired) == expired_remaining);

    for (const auto& [key, allocation] : rows.allocations)
      RC_ASSERT(0 < allocation.points && 0 <= allocation.returned &&
                allocation.returned <= allocation.points);
    for (const auto& [key, order] : rows.orders) {
      RC_ASSERT(0 <= order.refunded_minor && order.refunded_minor <= order.amount_minor);
      RC_ASSERT(0 <= order.points_returned && order.points_returned <= order.points_spent);
      if (order.amount_minor == 0) continue;
      // Claw back is exactly pro rata to what was refunded, rounded down, at every moment.
      RC_ASSERT(order.points_clawed_back ==
                pro_rata(order.points_earned, order.refunded_minor, order.amount_minor));
    }
    const Audit audit = keeper_.audit();
    if (!audit.clean()) RC_LOG() << ::testing::PrintToString(audit.findings()) << "\n";
    RC_ASSERT(audit.clean());
  }

  static std::size_t pick(const Step& s, std::size_t size) {
    return static_cast<std::size_t>(s.pick) % size;
  }

  BookKeeper keeper_;
  TimeUs now_ = utc("2024-03-25T12:00:00Z");  // the week of the spring clock change
  std::array<Member, 2> members_;
  std::vector<std::pair<Command, Outcome>> accepted_;
  Points issued_ = 0;
  int keys_ = 0;
  int orders_ = 0;
  int holds_ = 0;
};

TEST(LedgerProperty, EveryInvariantHoldsAfterEveryStepOfARandomHistory) {
  check_property(
      [] {
        const ProgramSetup setup = *setup_gen();
        const auto steps = *rc::gen::scale(3.0, rc::gen::container<std::vector<Step>>(step_gen()));
        Simulation simulation(setup);
        for (const Step& step : steps) simulation.run(step);
      },
      300);
}

// ---- Focused properties ------------------------------------------------------------------------

struct Grant {
  int points = 1;
  int expires_in_days = 1;
};

rc::Gen<std::vector<Grant>> grants_gen() {
  return rc::gen::nonEmpty(rc::gen::container<std::vector<Grant>>(
      rc::gen::map(rc::gen::tuple(rc::gen::inRange(1, 1000), rc::gen::inRange(1, 400)),
                   [](const std::tuple<int, int>& t) {
                     return Grant{std::get<0>(t), std::get<1>(t)};
                   })));
}

void showValue(const Grant& g, std::ostream& os) {
  os << "{" << g.points << " points, " << g.expires_in_days << " days}";
}

// A member with the given grants, all at one moment.
struct Granted {
  BookKeeper keeper;
  MemberId member = 0;
  TimeUs now = utc("2024-06-01T08:00:00Z");
  int keys = 0;
  Points total = 0;

  explicit Granted(const std::vector<Grant>& grants, Policy policy = {})
      : keeper(std::move(policy)) {
    member = run(OpenAccount{"m"}, 0).outcome.member_id;
    for (const Grant& g : grants) {
      RC_ASSERT(
          run(Earn{g.points, "purchase", "", 0, 0, 0, now + g.expires_in_days * kMicrosPerDay})
              .ok());
      total += g.points;
    }
  }
  Result run(CommandBody body, MemberId who = -1) {
    return keeper.execute(Command{"k" + std::to_string(++keys), who < 0 ? member : who, now, "a",
                                  "r", std::move(body)});
  }
  std::map<LotId, Points> remaining() const {
    std::map<LotId, Points> out;
    for (const auto& [id, lot] : keeper.rows.lots) out[id] = lot.remaining;
    return out;
  }
};

TEST(LedgerProperty, SpendingTakesSoonestExpiryFirstAndCancelPutsEveryPointBack) {
  check_property(
      [] {
        const auto grants = *grants_gen();
        Granted g(grants);
        const Points points = *rc::gen::inRange<Points>(1, g.total + 1);
        const auto lots_before = g.remaining();
        const Result spent = g.run(Spend{points, ""});
        RC_ASSERT(spent.ok());
        // The lots it took from are a prefix of the spending order, the last one possibly partly.
        std::vector<Lot> order;
        for (const auto& [id, lot] : g.keeper.rows.lots) order.push_back(lot);
        std::stable_sort(order.begin(), order.end(), [](const Lot& a, const Lot& b) {
          return a.expires_at_us != b.expires_at_us ? a.expires_at_us < b.expires_at_us
                                                    : a.id < b.id;
        });
        Points left = points;
        for (const Lot& lot : order) {
          const Points expected_taken = std::min(left, lot.amount);
          RC_ASSERT(lot.amount - lot.remaining == expected_taken);
          left -= expected_taken;
        }
        const Result cancelled = g.run(CancelTransaction{spent.outcome.transaction_id});
        RC_ASSERT(cancelled.ok());
        RC_ASSERT(cancelled.outcome.points == points);
        RC_ASSERT(g.remaining() == lots_before);
        RC_ASSERT(g.keeper.rows.accounts.at(g.member).available == g.total);
        RC_ASSERT(g.keeper.audit().clean());
      },
      300);
}

TEST(LedgerProperty, AReleasedOrCancelledRedemptionPutsEveryPointBack) {
  check_property(
      [] {
        const auto grants = *grants_gen();
        Granted g(grants);
        const Points points = *rc::gen::inRange<Points>(1, g.total + 1);
        const int ending = *rc::gen::inRange(0, 3);  // release, cancel open, cancel captured
        const auto lots_before = g.remaining();
        const Result held = g.run(PlaceHold{"redemption", points});
        RC_ASSERT(held.ok());
        RC_ASSERT(g.keeper.rows.accounts.at(g.member).held == points);
        if (ending == 0) {
          RC_ASSERT(g.run(ReleaseHold{"redemption"}).ok());
        } else {
          if (ending == 2) RC_ASSERT(g.run(CaptureHold{"redemption"}).ok());
          RC_ASSERT(g.run(CancelTransaction{held.outcome.transaction_id}).ok());
        }
        RC_ASSERT(g.remaining() == lots_before);
        const AccountRow& row = g.keeper.rows.accounts.at(g.member);
        RC_ASSERT(row.available == g.total);
        RC_ASSERT(row.held == 0);
        RC_ASSERT(testing::balance_of(g.keeper.balances(), Account::program_spent) == 0);
        RC_ASSERT(g.keeper.audit().clean());
      },
      300);
}

// Buy, earn, refund in random pieces, repeat: every piece claws back its pro-rata share rounded
// down, the pieces add up to exactly what the order earned, and the member ends at zero.
TEST(LedgerProperty, RefundsInAnyPiecesClawBackExactlyWhatTheOrderEarned) {
  check_property(
      [] {
        const auto shortfall = static_cast<ShortfallPolicy>(*rc::gen::inRange(0, 3));
        Policy policy;
        policy.shortfall = shortfall;
        Granted g({}, policy);
        const int orders = *rc::gen::inRange(1, 6);
        Points issued = 0;
        for (int i = 0; i < orders; ++i) {
          const Points points = *rc::gen::inRange<Points>(1, 100'000);
          const MinorUnits amount = *rc::gen::inRange<MinorUnits>(1, 1'000'000);
          const bool pending = *rc::gen::arbitrary<bool>();
          const std::string order_id = "order-" + std::to_string(i);
          RC_ASSERT(g.run(Earn{points, "purchase", order_id, amount, 0,
                               pending ? g.now + kMicrosPerDay : 0, 0})
                        .ok());
          issued += points;
          MinorUnits refunded = 0;
          Points clawed = 0;
          while (refunded < amount) {
            const MinorUnits piece = *rc::gen::inRange<MinorUnits>(1, amount - refunded + 1);
            const Result result = g.run(Refund{order_id, piece});
            RC_ASSERT(result.ok());
            refunded += piece;
            clawed += -result.outcome.points + result.outcome.absorbed;
            RC_ASSERT(clawed == pro_rata(points, refunded, amount));  // never more than the share
          }
          RC_ASSERT(clawed == points);
          RC_ASSERT(g.run(Refund{order_id, 1}).rejection == Rejection::refund_exceeds_order);
        }
        const AccountRow& row = g.keeper.rows.accounts.at(g.member);
        RC_ASSERT(row.available == 0);
        RC_ASSERT(row.pending == 0);
        RC_ASSERT(row.debt == 0);
        const AccountBalances all = g.keeper.balances();
        RC_ASSERT(-testing::balance_of(all, Account::program_issued) == issued);
        RC_ASSERT(testing::balance_of(all, Account::program_clawed_back) == issued);
        RC_ASSERT(g.keeper.audit().clean());
      },
      300);
}

}  // namespace
}  // namespace pointsmall::ledger
