// The PostgreSQL engine: several `pointsmall serve` nodes on one database.
//
// Each node has one writer connection that commits the node's commands in batches (group
// commit), and a pool of reader connections. Across nodes, a batch serialises with every other
// batch that touches the same things by PostgreSQL transaction-level advisory locks, taken first
// and in one sorted order: each member, each new member's external id, each counter of another
// scope (an item's stock, a campaign's budget) and each mall record the batch's commands name.
// Idempotency keys are found by their unique index: a key another node inserted first fails the
// batch, which runs again and replays it. It then reads the members' state, decides, and writes, in
// one transaction whose statements are pipelined (libpq pipeline mode): a batch costs a handful of
// round trips, not a few per command. Ids come from sequences, drawn after the locks, so that a
// member's ids ascend in the order its commands were applied on whichever node.
//
// Durability: a command's callback runs after its batch's COMMIT returned (with the server's
// synchronous_commit, on by default). Failures:
//  - a deadlock (e.g. a follow-up command locking a second member out of order) or another
//    transient conflict: the batch is rolled back and run again;
//  - the database unreachable: the batch is rolled back; the writer reconnects and tries again
//    for up to `unavailable_after_us`, then answers storage_error (the API's 503, retryable);
//  - any other failure: the batch is rolled back and its commands are run again one per
//    transaction, so that only the failing command fails (the contract's savepoint semantics).
#pragma once

#include <memory>
#include <string>

#include "store/store.h"

namespace pointsmall::store {

struct PostgresOptions {
  std::string url;  // libpq connection URL or keyword string
  // Commands per transaction. Each holds about one advisory lock per command until it commits:
  // nodes x max_batch must stay well within PostgreSQL's lock table (max_locks_per_transaction x
  // max_connections, 6,400 by default).
  std::size_t max_batch = 512;
  std::size_t max_queue = 65536;  // submit() blocks beyond this many waiting commands
  std::size_t readers = 8;        // reader connections
  // How long the writer keeps trying to reach a database that went away before it fails the
  // batch it holds (later batches try again).
  TimeUs unavailable_after_us = 2'000'000;
  // Used when the database is new; an existing database keeps the policy it was created with.
  ledger::Policy policy_if_new;
  std::string time_zone_if_new = "UTC";
};

class PostgresLedgerStore;

// Connects, applies pending migrations (one node at a time) and reads the program's policy.
// Returns nullptr and sets `error` (which server, and why) on failure.
std::unique_ptr<PostgresLedgerStore> open_postgres_store(const PostgresOptions& options,
                                                         std::string& error);

class PostgresLedgerStore final : public LedgerStore {
 public:
  ~PostgresLedgerStore() override;  // settles every submitted command, then closes

  void submit_prepared(ledger::Command command, std::shared_ptr<Preparer> preparer,
                       Callback done) override;
  void flush() override;
  [[nodiscard]] const ledger::Policy& policy() const override;
  std::optional<ledger::AccountRow> account(MemberId member_id) override;
  std::optional<MemberId> member_by_external_id(const std::string& external_id) override;
  std::vector<ledger::Lot> lots(MemberId member_id) override;
  std::vector<ledger::Transaction> history(MemberId member_id, TransactionId before,
                                           std::size_t limit) override;
  std::optional<ledger::Hold> hold(MemberId member_id, const std::string& hold_ref) override;
  std::vector<MemberId> members_due(TimeUs at_us, MemberId after, std::size_t limit) override;
  std::vector<std::pair<MemberId, std::string>> expired_holds(TimeUs at_us,
                                                              std::size_t limit) override;
  ProgramSummary summary() override;
  std::vector<ActivityBucket> activity(TimeUs from_us) override;
  std::vector<ItemRedemptions> top_items(TimeUs from_us, TimeUs until_us,
                                         std::size_t limit) override;
  [[nodiscard]] WriterStats writer_stats() const override;
  Counters counters(const std::vector<CounterKey>& keys) override;
  std::vector<MemberId> members_with_counter(const std::string& name, std::int64_t at_least,
                                             MemberId after, std::size_t limit) override;
  std::optional<std::string> earning_record(TransactionId transaction_id) override;
  std::vector<TierChangeRow> tier_changes(MemberId member_id, std::size_t limit) override;
  std::vector<StoredEvent> events(TimeUs from_us, TimeUs until_us, TransactionId after,
                                  std::size_t limit) override;
  ledger::Audit audit() override;
  std::optional<Record> record(const RecordKey& key) override;
  std::vector<Record> records(const RecordQuery& query) override;
  std::vector<std::string> insert_new_records(const std::vector<Record>& records) override;

  struct Impl;
  explicit PostgresLedgerStore(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace pointsmall::store
