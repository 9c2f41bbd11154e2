// The storage interface of the ledger. Engines: SQLite (store/sqlite, the embedded default) and an
// in-memory one for tests (store/memory); PostgreSQL implements it next. All pass the contract
// tests in store/store_contract_test.cc.
//
// Contract:
//  1. Commands are applied one at a time in submission order by a single writer; each runs
//     `ledger::decide` on the member's current state, so no two commands ever act on a stale
//     balance.
//  2. A command's callback runs exactly once, after the command's effects are durable (or after it
//     was rejected and its batch is durable). A storage failure reports `storage_error` and leaves
//     none of the failed commands' effects: a failure while one command is being written undoes
//     that command alone (its savepoint); a failure of the batch itself (e.g. its COMMIT) fails
//     every command of the batch.
//  3. An idempotency key is applied at most once. A repeat with the same request replays the
//     first outcome (`replayed` set); with a different request it is rejected with
//     idempotency_conflict. A rejected command leaves nothing, not even its key.
//  4. Reads see only durable, committed state, each call a consistent snapshot.
//  5. A read of a damaged database throws a std::runtime_error saying what is wrong; it never
//     returns made-up data.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ledger/audit.h"
#include "ledger/ledger.h"
#include "store/preparer.h"

namespace pointsmall::store {

struct CommandResult {
  std::optional<ledger::Rejection> rejection;  // set: the ledger refused the command
  std::optional<Refusal> refusal;              // set: the command's preparer refused it
  std::string storage_error;                   // not empty: the batch failed, nothing was applied
  ledger::Outcome outcome;                     // when accepted
  bool replayed = false;                       // the outcome of an earlier command with this key

  [[nodiscard]] bool ok() const { return !rejection && !refusal && storage_error.empty(); }
};

// Program-wide figures (journal balances of the program accounts, and counts).
struct ProgramSummary {
  std::int64_t members = 0;
  std::int64_t transactions = 0;
  std::int64_t lots = 0;
  Points issued = 0;  // all points ever granted
  Points available = 0;
  Points pending = 0;
  Points frozen = 0;
  Points held = 0;
  Points debt = 0;
  Points spent = 0;
  Points expired = 0;
  Points clawed_back = 0;
  Points revoked = 0;
};
// Fills the point figures of a summary from the journal's balance of every account.
void set_balances(ProgramSummary& summary, const ledger::AccountBalances& balances);

// What the single writer has done, for monitoring.
struct WriterStats {
  // Upper bounds of the batch size histogram's buckets (the last bucket is unbounded).
  static constexpr std::array<std::size_t, 8> kBatchBucketBounds = {1,   4,    16,   64,
                                                                    256, 1024, 4096, 16384};
  std::uint64_t batches = 0;   // commits
  std::uint64_t commands = 0;  // commands in them
  std::array<std::uint64_t, kBatchBucketBounds.size() + 1> batch_size_buckets{};
  std::size_t queue_depth = 0;  // commands waiting now
};

// An event as stored with the transaction it produced (see ledger::EventRecord).
struct StoredEvent {
  TransactionId transaction_id = 0;
  MemberId member_id = 0;
  std::string type;
  TimeUs occurred_at_us = 0;
  TimeUs recorded_at_us = 0;   // the transaction's time
  std::string payload;         // the request body, JSON
  Points points = 0;           // what the transaction gave the member
  std::string earning_record;  // how (JSON), when the earning engine computed it; else empty
};

// A change of a member's tier, with its reason.
struct TierChangeRow {
  MemberId member_id = 0;
  TransactionId transaction_id = 0;
  TimeUs at_us = 0;
  int from_level = 0;
  int to_level = 0;
  std::string reason;
};

// The program's activity in one bucket of kActivityBucketUs (UTC), for reports. A report
// buckets them into local days; 15 minutes divide every time zone's offset, so a bucket never
// straddles a local midnight.
inline constexpr TimeUs kActivityBucketUs = 15 * 60'000'000LL;
struct ActivityBucket {
  TimeUs start_us = 0;  // a multiple of kActivityBucketUs
  // From the journal's entries of the transactions whose time is in the bucket:
  Points issued = 0;              // points granted: minus the entries on program_issued
  Points redeemed = 0;            // the entries on program_spent (spends and captured holds,
                                  // less points given back by cancels and refunds)
  Points expired = 0;             // the entries on program_expired
  Points outstanding_change = 0;  // the entries on member_available, _pending, _frozen, _held
  std::int64_t new_members = 0;   // accounts opened
  std::int64_t checkins = 0;      // stored events of type "checkin" that occurred in it
  std::int64_t redemptions = 0;   // records of kind "redemption" created in it (mall orders)
  friend bool operator==(const ActivityBucket&, const ActivityBucket&) = default;
};

// What members redeemed of one item (records of kind "redemption", store/preparer.h, whose JSON
// body has item_id, item_name, quantity and points: mall/redemption.h).
struct ItemRedemptions {
  std::string item_id;
  std::string name;  // the greatest item_name its orders have (an item renamed keeps one)
  std::int64_t orders = 0;
  std::int64_t units = 0;
  Points points = 0;
  friend bool operator==(const ItemRedemptions&, const ItemRedemptions&) = default;
};

class LedgerStore {
 public:
  using Callback = std::function<void(const CommandResult&)>;
  static constexpr std::size_t kMaxHistoryPage = 1000;

  virtual ~LedgerStore() = default;

  static constexpr std::size_t kMaxEventPage = 10000;

  // Queues a command; `done` runs on the writer thread (keep it short) once the command is
  // settled as described above. Blocks while the queue is full.
  void submit(ledger::Command command, Callback done) {
    submit_prepared(std::move(command), nullptr, std::move(done));
  }
  // The same, with a preparer that completes the command inside the writer (store/preparer.h).
  virtual void submit_prepared(ledger::Command command, std::shared_ptr<Preparer> preparer,
                               Callback done) = 0;
  // Submits and waits for the result.
  CommandResult execute(ledger::Command command);
  // Returns once every command submitted before the call is settled.
  virtual void flush() = 0;

  [[nodiscard]] virtual const ledger::Policy& policy() const = 0;
  virtual std::optional<ledger::AccountRow> account(MemberId member_id) = 0;
  virtual std::optional<MemberId> member_by_external_id(const std::string& external_id) = 0;
  // Every lot of the member, oldest first.
  virtual std::vector<ledger::Lot> lots(MemberId member_id) = 0;
  // The member's transactions, newest first, with ids below `before` (0: from the newest);
  // at most `limit` (<= kMaxHistoryPage).
  virtual std::vector<ledger::Transaction> history(MemberId member_id, TransactionId before,
                                                   std::size_t limit) = 0;
  // The member's hold with that reference, or nullopt.
  virtual std::optional<ledger::Hold> hold(MemberId member_id, const std::string& hold_ref) = 0;
  // Members with something due (a lot to mature or expire) at or before `at_us`, ids above
  // `after`, ascending, at most `limit`.
  virtual std::vector<MemberId> members_due(TimeUs at_us, MemberId after, std::size_t limit) = 0;
  // Open holds that timed out at or before `at_us`: (member, hold_ref), at most `limit`.
  virtual std::vector<std::pair<MemberId, std::string>> expired_holds(TimeUs at_us,
                                                                      std::size_t limit) = 0;
  virtual ProgramSummary summary() = 0;
  // The non-empty activity buckets starting at or after `from_us` (a multiple of
  // kActivityBucketUs), ascending, up to the latest recorded; one consistent snapshot.
  virtual std::vector<ActivityBucket> activity(TimeUs from_us) = 0;
  static constexpr std::size_t kMaxTopItems = 100;
  // Items of the redemption orders created in [from_us, until_us) that were not cancelled or
  // failed, by units descending, then item_id; at most `limit` (<= kMaxTopItems).
  virtual std::vector<ItemRedemptions> top_items(TimeUs from_us, TimeUs until_us,
                                                 std::size_t limit) = 0;

  // ---- What the earning engine keeps beside the ledger --------------------------------------
  // The committed values of these counters (absent ones are 0).
  virtual Counters counters(const std::vector<CounterKey>& keys) = 0;
  // Members whose counter `name` is at least `at_least`, ids above `after`, ascending, at most
  // `limit`. Only the counter "tier" is indexed; other names scan.
  virtual std::vector<MemberId> members_with_counter(const std::string& name, std::int64_t at_least,
                                                     MemberId after, std::size_t limit) = 0;
  // How the transaction's points were computed (JSON), or nullopt.
  virtual std::optional<std::string> earning_record(TransactionId transaction_id) = 0;
  // The member's tier changes, newest first, at most `limit` (<= kMaxHistoryPage).
  virtual std::vector<TierChangeRow> tier_changes(MemberId member_id, std::size_t limit) = 0;
  // Stored events that occurred in [from_us, until_us), in the order they were applied
  // (ascending transaction id), transaction ids above `after`, at most `limit` (<= kMaxEventPage).
  virtual std::vector<StoredEvent> events(TimeUs from_us, TimeUs until_us, TransactionId after,
                                          std::size_t limit) = 0;
  // ---- Records kept beside the ledger (store/preparer.h) -------------------------------------
  static constexpr std::size_t kMaxRecordPage = 1000;
  struct RecordQuery {
    std::string kind;
    MemberId member_id = 0;       // 0: anyone's
    std::string state;            // empty: any
    std::int64_t before_seq = 0;  // 0: from the newest
    std::size_t limit = 50;       // <= kMaxRecordPage
  };
  virtual std::optional<Record> record(const RecordKey& key) = 0;
  // The query's records, newest (highest seq) first.
  virtual std::vector<Record> records(const RecordQuery& query) = 0;
  // Adds records outside any command (a coupon pool's codes), all or none, in one transaction
  // that waits for the writer's batch; a record whose key exists already is left as it is and its
  // id returned. Their seq is set by the store. Throws std::runtime_error on a storage failure.
  virtual std::vector<std::string> insert_new_records(const std::vector<Record>& records) = 0;

  // Zeros for an engine without a writer queue.
  [[nodiscard]] virtual WriterStats writer_stats() const { return {}; }
  // Re-derives every balance from lots, holds and journal and checks every invariant.
  virtual ledger::Audit audit() = 0;
};

}  // namespace pointsmall::store
