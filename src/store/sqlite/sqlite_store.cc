#include "store/sqlite/sqlite_store.h"

#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "store/migrations.h"
#include "store/sqlite/account_projection.h"
#include "store/sqlite/earning_tables.h"
#include "store/sqlite/ledger_tables.h"
#include "store/sqlite/record_tables.h"
#include "store/sqlite/sqlite_audit.h"
#include "store/sqlite/sqlite_reports.h"
#include "store/sqlite/writer_lock.h"
#include "store/writer_queue.h"

namespace pointsmall::store {

using sqlite::AccountProjection;
using sqlite::Connection;
using sqlite::LedgerTables;
using sqlite::SqliteError;
using sqlite::Statement;
using sqlite::StatementScope;
using sqlite::StoredAccount;

namespace {

// Ids continue from the largest in the database. Gaps (from failed batches) are harmless.
ledger::SequentialIds ids_after_stored(Connection& db) {
  return ledger::SequentialIds(db.query_int("SELECT max(member_id) FROM accounts"),
                               db.query_int("SELECT max(id) FROM transactions"),
                               db.query_int("SELECT max(id) FROM lots"));
}

void configure(Connection& db, const SqliteOptions& options, bool writer) {
  db.exec("PRAGMA foreign_keys = OFF");
  db.exec("PRAGMA temp_store = MEMORY");
  if (writer) {
    db.exec("PRAGMA journal_mode = WAL");
    db.exec(options.synchronous_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
    db.exec("PRAGMA cache_size = -" + std::to_string(options.cache_mib * 1024));
  } else {
    db.exec("PRAGMA cache_size = -65536");
  }
}

void migrate(Connection& db) {
  db.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
      "name TEXT NOT NULL)");
  const std::int64_t current = db.query_int("SELECT max(version) FROM schema_migrations");
  for (const Migration& migration : migrations()) {
    if (migration.version <= current) continue;
    db.exec("BEGIN IMMEDIATE");
    try {
      db.exec(migration.sql);
      Statement record =
          db.prepare("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)");
      record.bind(1, migration.version).bind(2, migration.name).run();
      db.exec("COMMIT");
    } catch (...) {
      db.exec("ROLLBACK");
      throw;
    }
  }
}

std::string read_setting(Connection& db, const std::string& name) {
  Statement s = db.prepare("SELECT value FROM settings WHERE name = $1");
  s.bind(1, name);
  return s.step() ? s.column_text(0) : std::string();
}

void write_setting(Connection& db, const std::string& name, const std::string& value) {
  Statement s = db.prepare(
      "INSERT INTO settings (name, value) VALUES ($1, $2) "
      "ON CONFLICT (name) DO UPDATE SET value = excluded.value");
  s.bind(1, name).bind(2, value).run();
}

// The program's policy is stored with the ledger so that every command sees the same rules.
ledger::Policy load_policy(Connection& db, const SqliteOptions& options) {
  if (read_setting(db, "expiry_policy").empty()) {
    db.exec("BEGIN IMMEDIATE");
    write_setting(db, "expiry_policy", ledger::format_expiry_policy(options.policy_if_new.expiry));
    write_setting(db, "shortfall_policy",
                  std::string(ledger::shortfall_policy_name(options.policy_if_new.shortfall)));
    write_setting(db, "time_zone", options.time_zone_if_new);
    db.exec("COMMIT");
  }
  ledger::Policy policy;
  auto expiry = ledger::parse_expiry_policy(read_setting(db, "expiry_policy"));
  auto shortfall = ledger::parse_shortfall_policy(read_setting(db, "shortfall_policy"));
  auto zone = TimeZone::load(read_setting(db, "time_zone"));
  if (!expiry || !shortfall || !zone)
    throw SqliteError(SQLITE_CORRUPT, "the stored program settings cannot be read");
  policy.expiry = *expiry;
  policy.shortfall = *shortfall;
  policy.zone = zone;
  return policy;
}

}  // namespace

struct SqliteLedgerStore::Impl {
  struct Pending {
    ledger::Command command;
    Callback done;
    bool write_back_barrier = false;
    std::shared_ptr<Preparer> preparer;  // not a command: write the account rows back now
  };

  SqliteOptions options;
  std::optional<WriterLock> writer_lock;  // taken before the first connection, let go last
  ledger::Policy policy;
  Connection writer_db;
  std::unique_ptr<AccountProjection> accounts;
  std::unique_ptr<LedgerTables> tables;
  std::unique_ptr<sqlite::EarningTables> earning;
  std::unique_ptr<sqlite::RecordTables> records;
  ledger::SequentialIds ids;
  std::unique_ptr<Statement> begin, commit, rollback, savepoint, release, rollback_to;

  std::unique_ptr<WriterQueue<Pending>> queue;
  std::thread writer;
  std::mutex mutex;       // of stop() and the checkpointer's state below
  bool stopping = false;  // guarded by mutex

  // Checkpoints copy the write-ahead log into the database file. A thread of their own does them,
  // so that the writer goes on committing meanwhile; the writer only checkpoints itself when the
  // log grows past kWalHardLimitPages (the checkpointer cannot keep up).
  static constexpr int kWalCheckpointPages = 16384;  // 64 MiB of 4 KiB pages
  static constexpr int kWalHardLimitPages = 262144;  // 1 GiB
  Connection checkpoint_db;
  std::thread checkpointer;
  std::condition_variable checkpoint_wanted;
  bool checkpoint_requested = false;  // guarded by mutex

  // Account rows changed by committed batches and not yet written back; readers look here first.
  std::mutex overlay_mutex;
  std::unordered_map<MemberId, StoredAccount> overlay;  // guarded by overlay_mutex

  std::mutex readers_mutex;
  std::vector<std::unique_ptr<Connection>> idle_readers;  // guarded by readers_mutex
  std::condition_variable reader_ready;

  void start() {
    accounts = std::make_unique<AccountProjection>(writer_db);
    accounts->recover();
    tables = std::make_unique<LedgerTables>(writer_db, *accounts);
    earning = std::make_unique<sqlite::EarningTables>(writer_db);
    records = std::make_unique<sqlite::RecordTables>(writer_db);
    ids = ids_after_stored(writer_db);
    begin = std::make_unique<Statement>(writer_db.prepare("BEGIN IMMEDIATE"));
    commit = std::make_unique<Statement>(writer_db.prepare("COMMIT"));
    rollback = std::make_unique<Statement>(writer_db.prepare("ROLLBACK"));
    savepoint = std::make_unique<Statement>(writer_db.prepare("SAVEPOINT command"));
    release = std::make_unique<Statement>(writer_db.prepare("RELEASE command"));
    rollback_to = std::make_unique<Statement>(writer_db.prepare("ROLLBACK TO command"));
    sqlite3_wal_hook(writer_db.handle(), &Impl::on_wal_commit, this);
    writer = std::thread([this] { writer_loop(); });
    checkpointer = std::thread([this] { checkpoint_loop(); });
  }

  // Runs on the writer thread after each commit, with the log's size in pages.
  static int on_wal_commit(void* self, sqlite3* db, const char*, int pages) {
    auto* impl = static_cast<Impl*>(self);
    if (pages >= kWalHardLimitPages) {
      sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    } else if (pages >= kWalCheckpointPages) {
      {
        std::lock_guard lock(impl->mutex);
        impl->checkpoint_requested = true;
      }
      impl->checkpoint_wanted.notify_one();
    }
    return SQLITE_OK;
  }

  void checkpoint_loop() {
    for (;;) {
      {
        std::unique_lock lock(mutex);
        checkpoint_wanted.wait(lock, [&] { return checkpoint_requested || stopping; });
        if (stopping) return;
        checkpoint_requested = false;
      }
      sqlite3_wal_checkpoint_v2(checkpoint_db.handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                nullptr);
    }
  }

  void writer_loop() {
    std::vector<Pending> batch;
    while (queue->take(batch)) {
      run_batch(batch);
      queue->settled(batch.size());
      batch.clear();
    }
    if (queue->abandoned()) return;               // a crash: nothing more is written
    batch.push_back(Pending{{}, nullptr, true});  // write every changed row back before closing
    run_batch(batch);
  }

  void run_batch(std::vector<Pending>& batch) {
    std::vector<CommandResult> results(batch.size());
    bool barrier = false;
    try {
      begin->run();
      for (std::size_t i = 0; i < batch.size(); ++i) {
        if (batch[i].write_back_barrier)
          barrier = true;
        else
          results[i] = run_command(batch[i].command, batch[i].preparer.get());
      }
      if (barrier || accounts->write_back_due()) accounts->write_back();
      commit->run();
      publish(*accounts);
    } catch (const SqliteError& error) {
      try {
        rollback->run();
      } catch (const SqliteError&) {  // already rolled back by SQLite
      }
      accounts->batch_rolled_back();
      ids = ids_after_stored(writer_db);
      for (CommandResult& result : results) {
        result = CommandResult{};
        result.storage_error = error.what();
      }
    }
    for (std::size_t i = 0; i < batch.size(); ++i)
      if (batch[i].done) batch[i].done(results[i]);
  }

  // Makes a committed batch's account rows visible to readers.
  void publish(AccountProjection& projection) {
    bool wrote_back = false;
    std::vector<StoredAccount> changed = projection.batch_committed(wrote_back);
    std::lock_guard lock(overlay_mutex);
    if (wrote_back) {
      overlay.clear();  // every row is in the database now
      return;
    }
    overlay.reserve(AccountProjection::kWriteBackAfter + options.max_batch);
    for (StoredAccount& account : changed) overlay[account.row.member_id] = std::move(account);
  }

  // The committed row of a member: from the overlay, else from the database.
  std::optional<StoredAccount> committed_account(Connection& db, MemberId member_id) {
    {
      std::lock_guard lock(overlay_mutex);
      if (auto it = overlay.find(member_id); it != overlay.end()) return it->second;
    }
    Statement s = db.prepare(std::string("SELECT ") + kStoredAccountColumns +
                             " FROM accounts WHERE member_id = $1");
    s.bind(1, member_id);
    if (!s.step()) return std::nullopt;
    return sqlite::read_stored_account(s);
  }

  // Returns once every account row changed so far is written back to the accounts table.
  void write_back_now() {
    std::promise<void> done;
    auto written = done.get_future();
    Pending barrier{{}, [&done](const CommandResult&) { done.set_value(); }, true};
    if (!queue->push(barrier)) return;
    written.wait();
  }

  // Decides and applies one command inside its own savepoint, after its preparation (if any)
  // and followed by its follow-ups. The idempotency key is not looked up first: the unique index
  // on it reports a repeated key when the transaction is inserted (or the key is looked up when
  // the decision is a refusal, since a repeat may be refused now), which saves an index probe on
  // every new command.
  CommandResult run_command(const ledger::Command& as_submitted, Preparer* preparer) {
    CommandResult result;
    if (auto invalid = ledger::validate(as_submitted)) {
      result.rejection = invalid;
      return result;
    }
    Preparation preparation;
    std::optional<ledger::Command> prepared;
    if (preparer != nullptr) {
      prepared = as_submitted;
      // A repeat is recognised by the request as submitted, not as prepared.
      prepared->client_request_hash = ledger::request_hash(as_submitted);
      preparation =
          preparer->prepare(*prepared, earning->read(preparer->counters_needed(*prepared)),
                            records->read(preparer->records_needed(*prepared)));
      if (preparation.refusal) {
        if (auto replayed = replay(as_submitted)) return *replayed;
        result.refusal = std::move(preparation.refusal);
        return result;
      }
      if (auto invalid = ledger::validate(*prepared)) {
        result.rejection = invalid;
        return result;
      }
    }
    const ledger::Command& command = prepared ? *prepared : as_submitted;
    const ledger::MemberBook book = tables->load_book(command, policy);
    const ledger::SequentialIds mark = ids;  // a command not applied gives its ids back
    ledger::Decision decision = ledger::decide(book, command, policy, ids);
    if (decision.rejection) {
      ids = mark;
      if (auto replayed = replay(command)) return *replayed;
      result.rejection = decision.rejection;
      return result;
    }
    savepoint->run();
    accounts->begin_command();
    try {
      tables->apply(decision.effects, command.event);
      if (preparer != nullptr) {
        earning->apply(preparation, command.member_id, decision.effects.outcome.transaction_id,
                       command.at_us);
        records->write(preparation.record_writes);
      }
      release->run();
    } catch (const SqliteError& error) {
      if (sqlite3_get_autocommit(writer_db.handle())) throw;  // the batch itself is gone
      rollback_to->run();
      release->run();
      accounts->rollback_command();
      ids = mark;
      if (auto replayed = replay(command)) return *replayed;
      result.storage_error = error.what();
      return result;
    }
    result.outcome = decision.effects.outcome;
    for (const ledger::Command& follow_up : preparation.follow_ups) {
      const CommandResult followed = run_command(follow_up, nullptr);
      // It must commit with the command that caused it, or not at all.
      if (!followed.storage_error.empty())
        throw SqliteError(SQLITE_ERROR, "follow-up command failed: " + followed.storage_error);
    }
    return result;
  }

  // For a key used before: the first outcome, or idempotency_conflict; nullopt for a new key.
  std::optional<CommandResult> replay(const ledger::Command& command) {
    auto seen = tables->find_key(command.idempotency_key);
    if (!seen) return std::nullopt;
    const auto replay = ledger::replay_or_conflict(command, seen->request_hash, seen->result);
    CommandResult result;
    result.rejection = replay.rejection;
    result.outcome = replay.outcome;
    result.replayed = !replay.rejection;
    return result;
  }

  template <typename Fn>
  auto with_reader(Fn&& fn) {
    std::unique_ptr<Connection> reader;
    {
      std::unique_lock lock(readers_mutex);
      reader_ready.wait(lock, [&] { return !idle_readers.empty(); });
      reader = std::move(idle_readers.back());
      idle_readers.pop_back();
    }
    struct Return {
      Impl& impl;
      std::unique_ptr<Connection>& reader;
      ~Return() {
        try {
          reader->exec("COMMIT");
        } catch (const SqliteError&) {
        }
        std::lock_guard lock(impl.readers_mutex);
        impl.idle_readers.push_back(std::move(reader));
        impl.reader_ready.notify_one();
      }
    } give_back{*this, reader};
    reader->exec("BEGIN");  // one snapshot for the whole read
    return fn(*reader);
  }

  void stop(bool crash) {
    {
      std::lock_guard lock(mutex);
      if (stopping) return;
      stopping = true;
    }
    if (crash)
      queue->abandon();
    else
      queue->close();
    checkpoint_wanted.notify_all();
    if (writer.joinable()) writer.join();
    if (checkpointer.joinable()) checkpointer.join();
    checkpoint_db = Connection();
    tables.reset();
    earning.reset();
    records.reset();
    accounts.reset();
    begin.reset(), commit.reset(), rollback.reset();
    savepoint.reset(), release.reset(), rollback_to.reset();
    if (crash) writer_db.abandon();
    writer_lock.reset();
  }
};

std::int64_t sqlite_schema_version(const std::string& path) {
  Connection db(path, /*create=*/false, /*read_only=*/false);
  return db.query_int(
      "SELECT CASE WHEN EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'schema_migrations') "
      "THEN (SELECT max(version) FROM schema_migrations) ELSE -1 END",
      -1);
}

std::unique_ptr<SqliteLedgerStore> open_sqlite_store(const SqliteOptions& options,
                                                     std::string& error) {
  static const int configured = [] {
    // No global memory statistics: they take a process-wide mutex on every allocation.
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  }();
  (void)configured;
  try {
    auto impl = std::make_unique<SqliteLedgerStore::Impl>();
    impl->options = options;
    if (options.writer_lock &&
        (options.create_if_missing || ::access(options.path.c_str(), F_OK) == 0)) {
      impl->writer_lock = WriterLock::acquire(options.path, error);
      if (!impl->writer_lock) return nullptr;
    }
    impl->writer_db = Connection(options.path, options.create_if_missing, false);
    configure(impl->writer_db, options, true);
    migrate(impl->writer_db);
    impl->policy = load_policy(impl->writer_db, options);
    impl->checkpoint_db = Connection(options.path, false, false);
    impl->checkpoint_db.query_int("SELECT count(*) FROM sqlite_master");  // attaches to the WAL
    for (std::size_t i = 0; i < std::max<std::size_t>(1, options.readers); ++i) {
      auto reader = std::make_unique<Connection>(options.path, false, true);
      configure(*reader, options, false);
      impl->idle_readers.push_back(std::move(reader));
    }
    impl->queue = std::make_unique<WriterQueue<SqliteLedgerStore::Impl::Pending>>(
        options.max_queue, options.max_batch);
    impl->start();
    return std::make_unique<SqliteLedgerStore>(std::move(impl));
  } catch (const SqliteError& e) {
    error = options.path + ": " + e.what();
    return nullptr;
  }
}

SqliteLedgerStore::SqliteLedgerStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

SqliteLedgerStore::~SqliteLedgerStore() {
  if (impl_) impl_->stop(false);
}

void SqliteLedgerStore::crash_for_test() {
  impl_->stop(true);
}

void SqliteLedgerStore::submit_prepared(ledger::Command command, std::shared_ptr<Preparer> preparer,
                                        Callback done) {
  Impl::Pending pending{std::move(command), std::move(done), false, std::move(preparer)};
  if (impl_->queue->push(pending)) return;
  CommandResult result;
  result.storage_error = "the store is closed";
  if (pending.done) pending.done(result);
}

void SqliteLedgerStore::flush() {
  impl_->queue->flush();
}

WriterStats SqliteLedgerStore::writer_stats() const {
  return impl_->queue->stats();
}

const ledger::Policy& SqliteLedgerStore::policy() const {
  return impl_->policy;
}

std::optional<ledger::AccountRow> SqliteLedgerStore::account(MemberId member_id) {
  return impl_->with_reader([&](Connection& db) -> std::optional<ledger::AccountRow> {
    auto stored = impl_->committed_account(db, member_id);
    if (!stored) return std::nullopt;
    return stored->row;
  });
}

std::optional<MemberId> SqliteLedgerStore::member_by_external_id(const std::string& external_id) {
  return impl_->with_reader([&](Connection& db) -> std::optional<MemberId> {
    Statement s = db.prepare("SELECT member_id FROM accounts WHERE external_id = $1");
    s.bind(1, external_id);
    if (!s.step()) return std::nullopt;
    return s.column_int(0);
  });
}

std::optional<ledger::Hold> SqliteLedgerStore::hold(MemberId member_id,
                                                    const std::string& hold_ref) {
  return impl_->with_reader([&](Connection& db) -> std::optional<ledger::Hold> {
    Statement s = db.prepare(std::string("SELECT ") + kHoldColumns +
                             " FROM holds WHERE member_id = $1 AND hold_ref = $2");
    s.bind(1, member_id).bind(2, hold_ref);
    if (!s.step()) return std::nullopt;
    return read_hold(s);
  });
}

std::vector<ledger::Lot> SqliteLedgerStore::lots(MemberId member_id) {
  return impl_->with_reader([&](Connection& db) {
    std::vector<ledger::Lot> out;
    auto stored = impl_->committed_account(db, member_id);
    if (!stored) return out;
    Statement s = db.prepare(std::string("SELECT ") + kLotColumns + " FROM lots WHERE id = $1");
    for (LotId id = stored->last_lot_id; id != 0;) {
      StatementScope scope(s);
      s.bind(1, id);
      if (!s.step()) throw SqliteError(SQLITE_CORRUPT, "broken lot chain");
      out.push_back(read_lot(s));
      id = s.column_int(12);
    }
    std::reverse(out.begin(), out.end());
    return out;
  });
}

std::vector<ledger::Transaction> SqliteLedgerStore::history(MemberId member_id,
                                                            TransactionId before,
                                                            std::size_t limit) {
  limit = std::min(limit, kMaxHistoryPage);
  return impl_->with_reader([&](Connection& db) {
    std::vector<ledger::Transaction> out;
    Statement s = db.prepare(std::string("SELECT ") + kTransactionColumns +
                             " FROM transactions WHERE id = $1 AND member_id = $2");
    TransactionId next = 0;
    if (before > 0) {
      StatementScope scope(s);
      s.bind(1, before).bind(2, member_id);
      if (s.step()) next = s.column_int(10);
    } else if (auto stored = impl_->committed_account(db, member_id)) {
      next = stored->last_transaction_id;
    }
    while (next != 0 && out.size() < limit) {
      StatementScope scope(s);
      s.bind(1, next).bind(2, member_id);
      if (!s.step()) throw SqliteError(SQLITE_CORRUPT, "broken journal chain");
      out.push_back(read_transaction(s));
      next = s.column_int(10);
    }
    Statement e = db.prepare(
        "SELECT account, amount, lot_id FROM entries "
        "WHERE transaction_id = $1 ORDER BY seq");
    for (ledger::Transaction& tx : out) {
      e.bind(1, tx.id);
      StatementScope scope(e);
      while (e.step()) tx.entries.push_back(read_entry(e, 0));
    }
    return out;
  });
}

std::vector<MemberId> SqliteLedgerStore::members_due(TimeUs at_us, MemberId after,
                                                     std::size_t limit) {
  impl_->write_back_now();  // next_due_us is read from the accounts table
  return impl_->with_reader([&](Connection& db) {
    Statement s = db.prepare(
        "SELECT member_id FROM accounts WHERE next_due_us <= $1 "
        "AND member_id > $2 ORDER BY member_id LIMIT $3");
    s.bind(1, at_us).bind(2, after).bind(3, static_cast<std::int64_t>(limit));
    std::vector<MemberId> out;
    while (s.step()) out.push_back(s.column_int(0));
    return out;
  });
}

std::vector<std::pair<MemberId, std::string>> SqliteLedgerStore::expired_holds(TimeUs at_us,
                                                                               std::size_t limit) {
  return impl_->with_reader([&](Connection& db) {
    Statement s = db.prepare(
        "SELECT member_id, hold_ref FROM holds WHERE state = 'open' "
        "AND expires_at_us <= $1 ORDER BY expires_at_us LIMIT $2");
    s.bind(1, at_us).bind(2, static_cast<std::int64_t>(limit));
    std::vector<std::pair<MemberId, std::string>> out;
    while (s.step()) out.emplace_back(s.column_int(0), s.column_text(1));
    return out;
  });
}

ProgramSummary SqliteLedgerStore::summary() {
  return impl_->with_reader([&](Connection& db) { return sqlite::summarize(db); });
}

std::vector<ActivityBucket> SqliteLedgerStore::activity(TimeUs from_us) {
  return impl_->with_reader([&](Connection& db) { return sqlite::read_activity(db, from_us); });
}

std::vector<ItemRedemptions> SqliteLedgerStore::top_items(TimeUs from_us, TimeUs until_us,
                                                          std::size_t limit) {
  return impl_->with_reader(
      [&](Connection& db) { return sqlite::read_top_items(db, from_us, until_us, limit); });
}

ledger::Audit SqliteLedgerStore::audit() {
  impl_->write_back_now();  // the audit compares the stored rows
  return impl_->with_reader([&](Connection& db) { return sqlite::audit_database(db); });
}

Counters SqliteLedgerStore::counters(const std::vector<CounterKey>& keys) {
  return impl_->with_reader([&](Connection& db) { return sqlite::read_counters(db, keys); });
}

std::vector<MemberId> SqliteLedgerStore::members_with_counter(const std::string& name,
                                                              std::int64_t at_least, MemberId after,
                                                              std::size_t limit) {
  return impl_->with_reader([&](Connection& db) {
    return sqlite::members_with_counter(db, name, at_least, after, limit);
  });
}

std::optional<std::string> SqliteLedgerStore::earning_record(TransactionId transaction_id) {
  return impl_->with_reader(
      [&](Connection& db) { return sqlite::read_earning_record(db, transaction_id); });
}

std::vector<TierChangeRow> SqliteLedgerStore::tier_changes(MemberId member_id, std::size_t limit) {
  limit = std::min(limit, kMaxHistoryPage);
  return impl_->with_reader(
      [&](Connection& db) { return sqlite::read_tier_changes(db, member_id, limit); });
}

std::vector<StoredEvent> SqliteLedgerStore::events(TimeUs from_us, TimeUs until_us,
                                                   TransactionId after, std::size_t limit) {
  limit = std::min(limit, kMaxEventPage);
  return impl_->with_reader(
      [&](Connection& db) { return sqlite::read_events(db, from_us, until_us, after, limit); });
}

std::optional<Record> SqliteLedgerStore::record(const RecordKey& key) {
  return impl_->with_reader([&](Connection& db) { return sqlite::read_record(db, key); });
}

std::vector<Record> SqliteLedgerStore::records(const RecordQuery& query) {
  return impl_->with_reader([&](Connection& db) { return sqlite::read_records(db, query); });
}

std::vector<std::string> SqliteLedgerStore::insert_new_records(const std::vector<Record>& records) {
  try {
    // A connection of its own: the writer's belongs to the writer thread. SQLite lets one
    // transaction write at a time, so this one waits for the writer's batch (busy timeout).
    Connection db(impl_->options.path, false, false);
    configure(db, impl_->options, false);
    db.exec("BEGIN IMMEDIATE");
    try {
      auto existing = sqlite::insert_new_records(db, records);
      db.exec("COMMIT");
      return existing;
    } catch (...) {
      db.exec("ROLLBACK");
      throw;
    }
  } catch (const SqliteError& e) {
    throw std::runtime_error(std::string("records not inserted: ") + e.what());
  }
}

}  // namespace pointsmall::store
