// A command's preparation: work that must see the state of the moment a command is applied, done
// by the writer just before the ledger decides. The earning engine uses it to turn an event into
// points against the counters its caps, budgets, streaks and tiers keep, so that two events of
// one member (or two members against one budget) never both see the same remaining cap.
//
// Contract (both engines):
//  1. For a command submitted with a preparer, the writer reads the counters `counters_needed`
//     names (as of every command applied before it), calls `prepare` once, then decides the
//     possibly changed command. `prepare` runs on the writer thread: keep it short, no I/O.
//  2. Idempotency keys compare the command as submitted, before its preparation changed it.
//     A refusal rejects the command like a ledger rejection: nothing is written, not even its
//     key; but a repeated key replays the first outcome as for any command.
//  3. When the ledger accepts the command, the counter updates, the earning record and the tier
//     change are written in the command's own savepoint; when it refuses it, none of them.
//  4. Follow-up commands (plain, without preparer) are applied right after an accepted command in
//     the same batch transaction, so they commit with it. A follow-up the ledger refuses is
//     dropped; a storage failure in one fails the whole batch.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/counters.h"
#include "ledger/ledger.h"

namespace pointsmall::store {

struct Refusal {
  std::string problem;  // a stable name, e.g. "already_checked_in"
  std::string detail;   // for people
};

struct TierChangeRecord {
  int from_level = 0;
  int to_level = 0;
  std::string reason;
};

struct Preparation {
  std::optional<Refusal> refusal;  // set: the command is refused and nothing else applies
  Counters counter_updates;        // new values, written when the command is accepted
  // JSON kept with the command's transaction: how its points were computed. Empty: none.
  std::string earning_record;
  std::optional<TierChangeRecord> tier_change;
  std::vector<ledger::Command> follow_ups;
};

class Preparer {
 public:
  virtual ~Preparer() = default;
  // The counters `prepare` reads.
  virtual std::vector<CounterKey> counters_needed(const ledger::Command& command) = 0;
  // Completes `command` (e.g. sets an Earn's points) from the counters' current values.
  virtual Preparation prepare(ledger::Command& command, const Counters& current) = 0;
};

}  // namespace pointsmall::store
