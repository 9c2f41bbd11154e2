// The embedded SQLite engine: one database file in write-ahead-log mode, one writer thread that
// commits commands in batches (group commit), and reader connections of their own.
//
// Durability: with synchronous=FULL (the default) a command's callback runs only after the
// COMMIT of its batch has been fsynced. Each command runs inside its own SAVEPOINT, so a command
// that fails while writing is undone alone and its neighbours in the batch still commit.
//
// One store per database file at a time, across processes: opening takes "<file>.lock" (see
// writer_lock.h), and a second open fails with a message naming the process that holds it.
#pragma once

#include <memory>
#include <string>

#include "store/store.h"

namespace pointsmall::store {

struct SqliteOptions {
  std::string path;               // the database file
  bool create_if_missing = true;  // false: a missing file is an error
  // Take "<path>.lock" (writer_lock.h). false only for a file no other process opens, such as a
  // backup copy being checked, so that no lock file is left beside it.
  bool writer_lock = true;
  bool synchronous_full = true;   // false: synchronous=NORMAL (may lose the last batches on
                                  // power loss, never corrupts); for benchmarks' reference only
  std::size_t max_batch = 8192;   // commands per commit
  std::size_t max_queue = 65536;  // submit() blocks beyond this many waiting commands
  std::size_t readers = 4;        // reader connections
  std::int64_t cache_mib = 512;   // page cache of the writer connection
  // Used when the database is new; an existing database keeps the policy it was created with.
  ledger::Policy policy_if_new;
  std::string time_zone_if_new = "UTC";
};

class SqliteLedgerStore;

// Opens or creates the store and applies pending migrations. Returns nullptr and sets `error`
// (e.g. "not a database", "cannot open ...", "the ledger is open in another process ...") on
// failure.
std::unique_ptr<SqliteLedgerStore> open_sqlite_store(const SqliteOptions& options,
                                                     std::string& error);

// The newest migration the database file at `path` has; -1 when it has none (not a ledger).
// Throws SqliteError when the file cannot be opened.
std::int64_t sqlite_schema_version(const std::string& path);

class SqliteLedgerStore final : public LedgerStore {
 public:
  ~SqliteLedgerStore() override;  // settles every submitted command, then closes

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

  // Stops as a crash would right after the last committed batch: commands still queued are
  // dropped without an answer, and the write-ahead log is left for recovery at the next open.
  // For crash tests only.
  void crash_for_test();

  struct Impl;
  explicit SqliteLedgerStore(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace pointsmall::store
