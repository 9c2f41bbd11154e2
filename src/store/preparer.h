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
//  4. Records (rows the mall keeps beside the ledger: redemption orders, coupons) named by
//     `records_needed` are read like counters, as of every command applied before; the records
//     in `record_writes` replace (or create) theirs in the command's savepoint when the command is
//     accepted, keeping each existing record's `seq`.
//  5. Follow-up commands (plain, without preparer) are applied right after an accepted command in
//     the same batch transaction, so they commit with it. A follow-up the ledger refuses is
//     dropped; a storage failure in one fails the whole batch.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/counters.h"
#include "ledger/ledger.h"

namespace pointsmall::store {

struct RecordKey {
  std::string kind;  // "redemption", "coupon"; 1..32 characters
  std::string id;    // 1..128 characters, unique within its kind
  // clang-tidy 14 reports modernize-use-nullptr on a defaulted <=> (llvm-project#53961).
  friend auto operator<=>(const RecordKey&,
                          const RecordKey&) = default;  // NOLINT(modernize-use-nullptr)
  friend bool operator==(const RecordKey&, const RecordKey&) = default;
};

// A row kept beside the ledger, its body a JSON document its owner defines.
struct Record {
  std::string kind;
  std::string id;
  std::int64_t seq = 0;    // set by the store when first written, ascending; lists go by it
  MemberId member_id = 0;  // whose it is; 0: nobody's (yet)
  std::string state;       // 1..32 characters; lists can filter by it
  TimeUs created_at_us = 0;
  TimeUs updated_at_us = 0;
  std::string body;  // JSON
  friend bool operator==(const Record&, const Record&) = default;
};
// The records read for a preparation, by key; a record that does not exist is absent.
using Records = std::map<RecordKey, Record>;

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
  std::vector<Record> record_writes;  // whole records, written when the command is accepted
  std::vector<ledger::Command> follow_ups;
};

class Preparer {
 public:
  virtual ~Preparer() = default;
  // The counters `prepare` reads.
  virtual std::vector<CounterKey> counters_needed(const ledger::Command& command) = 0;
  // The records `prepare` reads (none unless overridden).
  virtual std::vector<RecordKey> records_needed(const ledger::Command& /*command*/) { return {}; }
  // Completes `command` (e.g. sets an Earn's points) from the current values of the counters and
  // records it named.
  virtual Preparation prepare(ledger::Command& command, const Counters& current,
                              const Records& records) = 0;
};

}  // namespace pointsmall::store
