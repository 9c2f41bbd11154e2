// The in-memory engine: the ledger kept in ordinary maps, for tests and as the reference model
// that the simulation (tests/simulation) compares the SQLite engine against.
//
// It implements the contract of store.h with the simplest machinery that can: one mutex, and each
// command run to the end inside submit(), whose callback runs on the caller's thread before
// submit() returns. "Durable" means "in the maps"; nothing survives the object.
//
// It is written apart from the SQLite engine on purpose: it loads a MemberBook from its maps by
// reading ledger::Needs itself, so that a mistake in either engine's loading shows up as a
// difference between the two.
//
// Invariants of the maps (kept by apply(), which refuses effects that would break them):
//  1. Every id is unique: member, external id, transaction, lot, idempotency key, (transaction,
//     lot) of an allocation, (member, hold_ref) of a hold, (member, order_id) of an order.
//  2. Effects only update rows that exist; a command's effects are applied all or nothing.
//  3. Every transaction's entries sum to zero (the journal never holds an unbalanced one).
//  4. program_ is the sum of every entry of the journal per account; MemberRows::journal the sum
//     of the member's entries per member account; expiry_entries_ the count of expiry entries per
//     lot. audit() re-derives all of them from the rows; audit_member() trusts them.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "store/store.h"

namespace pointsmall::store {

class MemoryLedgerStore final : public LedgerStore {
 public:
  explicit MemoryLedgerStore(ledger::Policy policy = {});

  // Runs the command now and calls `done` before returning.
  void submit_prepared(ledger::Command command, std::shared_ptr<Preparer> preparer,
                       Callback done) override;
  void flush() override {}  // every command is settled when submit() returns

  [[nodiscard]] const ledger::Policy& policy() const override { return policy_; }
  std::optional<ledger::AccountRow> account(MemberId member_id) override;
  std::optional<MemberId> member_by_external_id(const std::string& external_id) override;
  std::vector<ledger::Lot> lots(MemberId member_id) override;
  std::vector<ledger::Transaction> history(MemberId member_id, TransactionId before,
                                           std::size_t limit) override;
  std::optional<ledger::Hold> hold(MemberId member_id, const std::string& hold_ref) override;
  std::vector<MemberId> members_due(TimeUs at_us, MemberId after, std::size_t limit) override;
  // Ordered by expiry time, then member, then hold_ref.
  std::vector<std::pair<MemberId, std::string>> expired_holds(TimeUs at_us,
                                                              std::size_t limit) override;
  ProgramSummary summary() override;
  std::vector<ActivityBucket> activity(TimeUs from_us) override;
  std::vector<ItemRedemptions> top_items(TimeUs from_us, TimeUs until_us,
                                         std::size_t limit) override;
  ledger::Audit audit() override;
  Counters counters(const std::vector<CounterKey>& keys) override;
  std::vector<MemberId> members_with_counter(const std::string& name, std::int64_t at_least,
                                             MemberId after, std::size_t limit) override;
  std::optional<std::string> earning_record(TransactionId transaction_id) override;
  std::vector<TierChangeRow> tier_changes(MemberId member_id, std::size_t limit) override;
  std::vector<StoredEvent> events(TimeUs from_us, TimeUs until_us, TransactionId after,
                                  std::size_t limit) override;
  std::optional<Record> record(const RecordKey& key) override;
  std::vector<Record> records(const RecordQuery& query) override;
  std::vector<std::string> insert_new_records(const std::vector<Record>& records) override;

  // ---- For tests: what the storage interface does not show ----------------------------------

  // Every hold of the member, by hold_ref.
  std::vector<ledger::Hold> holds(MemberId member_id);
  std::optional<ledger::Order> order(MemberId member_id, const std::string& order_id);
  // ledger::Audit over one member only: its row against its lots, holds and journal, its lots,
  // its allocations and its orders. Cost is linear in the member's lots, allocations, holds and
  // orders (the journal's sums are kept as entries arrive), so a simulation can afford it after
  // every command.
  ledger::Audit audit_member(MemberId member_id);
  // Does what reopening a persistent engine does to the id counters: the next ids continue from
  // the largest stored ones. (Commands that are not applied give their ids back, so this only
  // matters after a storage error.) The simulation calls it whenever it reopens the SQLite store.
  void restart();

 private:
  // What belongs to one member: ids of its transactions, ascending, and its lots (by ascending
  // id) and allocations as pointers into the maps below, whose nodes never move.
  struct MemberRows {
    std::vector<TransactionId> transactions;
    std::vector<const ledger::Lot*> lots;
    std::vector<const ledger::Allocation*> allocations;
    ledger::AccountBalances journal{};  // sum of the member's entries per account
  };

  using MemberKey = std::pair<MemberId, std::string>;

  // Prepares (with `preparer`, may be null), decides and applies one command, then its
  // follow-ups.
  CommandResult run(ledger::Command command, Preparer* preparer);      // requires mutex_
  ledger::MemberBook load_book(const ledger::Command& command) const;  // requires mutex_
  // Checks that `effects` keep the invariants above; empty when they do, else what is wrong.
  std::string check_effects(const ledger::Effects& effects) const;  // requires mutex_
  void apply(const ledger::Effects& effects);  // requires mutex_; after check_effects
  ledger::MemberTotals member_totals(MemberId member_id) const;            // requires mutex_
  void audit_member_rows(MemberId member_id, ledger::Audit& audit) const;  // requires mutex_
  // Inserts or replaces (keeping seq and created_at_us); true when it was new. Requires mutex_.
  bool write_record(Record record);

  const ledger::Policy policy_;

  mutable std::mutex mutex_;
  ledger::SequentialIds ids_;                                                  // guarded by mutex_
  std::map<MemberId, ledger::AccountRow> accounts_;                            // guarded by mutex_
  std::unordered_map<std::string, MemberId> external_ids_;                     // guarded by mutex_
  std::map<TransactionId, ledger::Transaction> transactions_;                  // guarded by mutex_
  std::unordered_map<std::string, TransactionId> keys_;                        // guarded by mutex_
  std::map<LotId, ledger::Lot> lots_;                                          // guarded by mutex_
  std::map<std::pair<TransactionId, LotId>, ledger::Allocation> allocations_;  // guarded by mutex_
  std::map<MemberKey, ledger::Hold> holds_;                                    // guarded by mutex_
  std::map<MemberKey, ledger::Order> orders_;                                  // guarded by mutex_
  std::unordered_map<MemberId, MemberRows> member_rows_;                       // guarded by mutex_
  std::unordered_map<LotId, std::int64_t> expiry_entries_;                     // guarded by mutex_
  ledger::AccountBalances program_{};                                          // guarded by mutex_
  Counters counters_;                                                          // guarded by mutex_
  std::vector<StoredEvent> events_;                                            // guarded by mutex_
  std::unordered_map<TransactionId, std::string> earning_records_;             // guarded by mutex_
  std::vector<TierChangeRow> tier_changes_;                                    // guarded by mutex_
  std::map<RecordKey, Record> records_;                                        // guarded by mutex_
  std::int64_t last_record_seq_ = 0;                                           // guarded by mutex_
};

}  // namespace pointsmall::store
