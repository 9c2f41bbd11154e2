#include "store/postgresql/pg_store.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "store/activity_queries.h"
#include "store/ledger_rows.h"
#include "store/migrations.h"
#include "store/postgresql/pg_batch.h"
#include "store/postgresql/pg_db.h"
#include "store/writer_queue.h"

namespace pointsmall::store {

using pg::Connection;
using pg::Params;
using pg::PgError;
using pg::QueuedCommand;
using pg::Result;
using pg::Row;

namespace {

// Held (session-level) while a node migrates, so that two nodes starting together migrate once.
constexpr std::int64_t kMigrationLock = 0x706f696e74736d6c;  // "pointsml"

void migrate(Connection& db) {
  db.exec("SELECT pg_advisory_lock(" + std::to_string(kMigrationLock) + ")");
  struct Unlock {
    Connection& db;
    ~Unlock() {
      try {
        db.exec("SELECT pg_advisory_unlock(" + std::to_string(kMigrationLock) + ")");
      } catch (const PgError&) {  // the session's end releases it anyway
      }
    }
  } unlock{db};
  db.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, "
      "name TEXT NOT NULL)");
  const std::int64_t current =
      db.exec("SELECT coalesce(max(version), 0) FROM schema_migrations").integer(0, 0);
  const auto& all = postgresql_migrations();
  if (!all.empty() && current > all.back().version)
    throw PgError("XX000", "the database's schema is at version " + std::to_string(current) +
                               ", newer than this pointsmall knows (" +
                               std::to_string(all.back().version) + "): upgrade pointsmall");
  for (const Migration& migration : all) {
    if (migration.version <= current) continue;
    db.exec("BEGIN");
    try {
      db.exec(migration.sql);
      db.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
               Params().add(static_cast<std::int64_t>(migration.version)).add(migration.name));
      db.exec("COMMIT");
    } catch (...) {
      db.exec("ROLLBACK");
      throw;
    }
  }
}

// The writer's statements take arrays of a batch's keys (`= ANY($1)`, `unnest`); planned once
// for any array, PostgreSQL may scan a whole table for them, so each is planned for its values.
Connection open_writer_connection(const std::string& url) {
  Connection db = Connection::open(url);
  db.exec("SET plan_cache_mode = force_custom_plan");
  return db;
}

std::string read_setting(Connection& db, const std::string& name) {
  const Result found = db.query("SELECT value FROM settings WHERE name = $1", Params().add(name));
  return found.rows() > 0 ? found.text(0, 0) : std::string();
}

// The program's policy is stored with the ledger so that every node applies the same rules; the
// first node to start on an empty database writes it.
ledger::Policy load_policy(Connection& db, const PostgresOptions& options) {
  const char* kInsert =
      "INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING";
  db.exec("BEGIN");
  db.query(kInsert, Params()
                        .add("expiry_policy")
                        .add(ledger::format_expiry_policy(options.policy_if_new.expiry)));
  db.query(kInsert, Params()
                        .add("shortfall_policy")
                        .add(ledger::shortfall_policy_name(options.policy_if_new.shortfall)));
  db.query(kInsert, Params().add("time_zone").add(options.time_zone_if_new));
  db.exec("COMMIT");
  ledger::Policy policy;
  auto expiry = ledger::parse_expiry_policy(read_setting(db, "expiry_policy"));
  auto shortfall = ledger::parse_shortfall_policy(read_setting(db, "shortfall_policy"));
  auto zone = TimeZone::load(read_setting(db, "time_zone"));
  if (!expiry || !shortfall || !zone)
    throw PgError("XX001", "the stored program settings cannot be read");
  policy.expiry = *expiry;
  policy.shortfall = *shortfall;
  policy.zone = zone;
  return policy;
}

std::size_t index_of(const std::string& account_name) {
  auto account = ledger::account_from_name(account_name);
  if (!account) throw PgError("XX001", "unknown account '" + account_name + "'");
  return static_cast<std::size_t>(*account);
}

ledger::AccountBalances program_balances(Connection& db) {
  ledger::AccountBalances all{};
  const Result balances = db.exec("SELECT account, sum(amount) FROM entries GROUP BY account");
  for (int i = 0; i < balances.rows(); ++i)
    all[index_of(balances.text(i, 0))] = balances.integer(i, 1);
  return all;
}

Record record_at(const Result& r, int i) {
  return Record{r.text(i, 0), r.text(i, 1),    r.integer(i, 2), r.integer(i, 3),
                r.text(i, 4), r.integer(i, 5), r.integer(i, 6), r.text(i, 7)};
}

// A page size as SQL's LIMIT takes it (callers may pass the largest size_t for "all").
std::int64_t sql_limit(std::size_t limit) {
  return static_cast<std::int64_t>(
      std::min<std::size_t>(limit, std::numeric_limits<std::int64_t>::max()));
}

constexpr const char* kRecordColumns =
    "kind, id, seq, member_id, state, created_at_us, updated_at_us, body";

}  // namespace

struct PostgresLedgerStore::Impl {
  PostgresOptions options;
  ledger::Policy policy;
  Connection writer_db;  // the writer thread's, in pipeline mode

  std::unique_ptr<WriterQueue<QueuedCommand>> queue;
  std::thread writer;

  std::mutex readers_mutex;
  std::vector<Connection> idle_readers;  // guarded by readers_mutex
  std::size_t readers_out = 0;           // guarded by readers_mutex
  std::condition_variable reader_ready;

  void writer_loop() {
    std::vector<QueuedCommand> batch;
    while (queue->take(batch)) {
      std::vector<CommandResult> results = commit(batch);
      for (std::size_t i = 0; i < batch.size(); ++i)
        if (batch[i].done) batch[i].done(results[i]);
      queue->settled(batch.size());
      batch.clear();
    }
  }

  // Runs the commands in one transaction and returns their results once it committed, or their
  // failure. See pg_store.h for what happens on each kind of failure.
  std::vector<CommandResult> commit(const std::vector<QueuedCommand>& commands) {
    constexpr int kMaxAttempts = 8;
    const auto give_up_at =
        std::chrono::steady_clock::now() + std::chrono::microseconds(options.unavailable_after_us);
    for (int attempt = 1;; ++attempt) {
      try {
        if (!writer_db.healthy()) reconnect_writer();
        return attempt_commit(commands);
      } catch (const PgError& error) {
        writer_db.abandon_pipeline();
        if (error.connection_lost() || !writer_db.healthy()) {
          if (std::chrono::steady_clock::now() < give_up_at) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            continue;
          }
          return failed(commands.size(),
                        std::string("the database is unavailable: ") + error.what());
        }
        // A deadlock, or a key another node inserted first (the next attempt replays it).
        if ((error.transient() || error.unique_violation()) && attempt < kMaxAttempts) continue;
        if (commands.size() > 1) return one_by_one(commands);
        return failed(commands.size(), error.what());
      }
    }
  }

  std::vector<CommandResult> attempt_commit(const std::vector<QueuedCommand>& commands) {
    writer_db.send("BEGIN");
    pg::Batch batch(writer_db, policy);
    batch.prepare_for(commands);
    std::vector<CommandResult> results;
    results.reserve(commands.size());
    for (const QueuedCommand& queued : commands)
      results.push_back(batch.run(queued.command, queued.preparer.get()));
    batch.finish();
    writer_db.send("COMMIT");
    writer_db.sync();
    return results;
  }

  // After a failure that was not transient: each command alone, so that only the failing one
  // fails (the contract's savepoint semantics).
  std::vector<CommandResult> one_by_one(const std::vector<QueuedCommand>& commands) {
    std::vector<CommandResult> results;
    for (const QueuedCommand& queued : commands) {
      std::vector<QueuedCommand> alone;
      alone.push_back(QueuedCommand{queued.command, queued.preparer, nullptr});
      results.push_back(commit(alone).front());
    }
    return results;
  }

  static std::vector<CommandResult> failed(std::size_t count, const std::string& why) {
    std::vector<CommandResult> results(count);
    for (CommandResult& result : results) result.storage_error = why;
    return results;
  }

  void reconnect_writer() {
    writer_db = open_writer_connection(options.url);
    writer_db.enter_pipeline();
  }

  // Runs `fn` on a reader connection; a connection that broke is made again and the read tried
  // once more. Failures are std::runtime_error (PgError).
  template <typename Fn>
  auto with_reader(Fn&& fn) {
    Connection db;
    {
      std::unique_lock lock(readers_mutex);
      reader_ready.wait(lock, [&] {
        return !idle_readers.empty() || readers_out < std::max<std::size_t>(1, options.readers);
      });
      if (!idle_readers.empty()) {
        db = std::move(idle_readers.back());
        idle_readers.pop_back();
      }
      ++readers_out;
    }
    struct GiveBack {
      Impl& impl;
      Connection& db;
      ~GiveBack() {
        std::lock_guard lock(impl.readers_mutex);
        --impl.readers_out;
        if (db.healthy()) impl.idle_readers.push_back(std::move(db));
        impl.reader_ready.notify_one();
      }
    } give_back{*this, db};
    for (int attempt = 1;; ++attempt) {
      try {
        if (!db.healthy()) db = Connection::open(options.url);
        return fn(db);
      } catch (const PgError& error) {
        if (!error.connection_lost() || attempt == 2) throw;
        db = Connection();
      }
    }
  }

  // The same inside one read-only snapshot, for reads of several statements.
  template <typename Fn>
  auto in_snapshot(Fn&& fn) {
    return with_reader([&](Connection& db) {
      db.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
      struct End {
        Connection& db;
        ~End() {
          try {
            db.exec("ROLLBACK");
          } catch (const PgError&) {
          }
        }
      } end{db};
      return fn(db);
    });
  }

  void stop() {
    queue->close();
    if (writer.joinable()) writer.join();
  }
};

std::unique_ptr<PostgresLedgerStore> open_postgres_store(const PostgresOptions& options,
                                                         std::string& error) {
  try {
    auto impl = std::make_unique<PostgresLedgerStore::Impl>();
    impl->options = options;
    impl->writer_db = open_writer_connection(options.url);
    migrate(impl->writer_db);
    impl->policy = load_policy(impl->writer_db, options);
    impl->writer_db.enter_pipeline();
    impl->queue =
        std::make_unique<WriterQueue<QueuedCommand>>(options.max_queue, options.max_batch);
    auto* raw = impl.get();
    impl->writer = std::thread([raw] { raw->writer_loop(); });
    return std::make_unique<PostgresLedgerStore>(std::move(impl));
  } catch (const PgError& e) {
    error = e.what();
    return nullptr;
  }
}

PostgresLedgerStore::PostgresLedgerStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

PostgresLedgerStore::~PostgresLedgerStore() {
  if (impl_) impl_->stop();
}

void PostgresLedgerStore::submit_prepared(ledger::Command command,
                                          std::shared_ptr<Preparer> preparer, Callback done) {
  QueuedCommand queued{std::move(command), std::move(preparer), std::move(done)};
  if (impl_->queue->push(queued)) return;
  CommandResult result;
  result.storage_error = "the store is closed";
  if (queued.done) queued.done(result);
}

void PostgresLedgerStore::flush() {
  impl_->queue->flush();
}

WriterStats PostgresLedgerStore::writer_stats() const {
  return impl_->queue->stats();
}

const ledger::Policy& PostgresLedgerStore::policy() const {
  return impl_->policy;
}

// ---- Reads ----------------------------------------------------------------------------------

std::optional<ledger::AccountRow> PostgresLedgerStore::account(MemberId member_id) {
  return impl_->with_reader([&](Connection& db) -> std::optional<ledger::AccountRow> {
    const Result r =
        db.query(std::string("SELECT ") + kAccountColumns + " FROM accounts WHERE member_id = $1",
                 Params().add(member_id));
    if (r.rows() == 0) return std::nullopt;
    return read_account(Row{r, 0});
  });
}

std::optional<MemberId> PostgresLedgerStore::member_by_external_id(const std::string& external_id) {
  return impl_->with_reader([&](Connection& db) -> std::optional<MemberId> {
    const Result r = db.query("SELECT member_id FROM accounts WHERE external_id = $1",
                              Params().add(external_id));
    if (r.rows() == 0) return std::nullopt;
    return r.integer(0, 0);
  });
}

std::vector<ledger::Lot> PostgresLedgerStore::lots(MemberId member_id) {
  return impl_->with_reader([&](Connection& db) {
    const Result r = db.query(
        std::string("SELECT ") + kLotColumns + " FROM lots WHERE member_id = $1 ORDER BY id",
        Params().add(member_id));
    std::vector<ledger::Lot> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) out.push_back(read_lot(Row{r, i}));
    return out;
  });
}

std::vector<ledger::Transaction> PostgresLedgerStore::history(MemberId member_id,
                                                              TransactionId before,
                                                              std::size_t limit) {
  limit = std::min(limit, kMaxHistoryPage);
  return impl_->in_snapshot([&](Connection& db) {
    // A member's ids ascend in the order its commands were applied (pg_store.h).
    const Result r = db.query(std::string("SELECT ") + kTransactionColumns +
                                  " FROM transactions WHERE member_id = $1 AND ($2 = 0 OR id < $2)"
                                  " ORDER BY id DESC LIMIT $3",
                              Params().add(member_id).add(before).add(sql_limit(limit)));
    std::vector<ledger::Transaction> out;
    std::vector<std::int64_t> ids;
    std::unordered_map<TransactionId, std::size_t> index;
    for (int i = 0; i < r.rows(); ++i) {
      out.push_back(read_transaction(Row{r, i}));
      ids.push_back(out.back().id);
      index[out.back().id] = out.size() - 1;
    }
    if (ids.empty()) return out;
    const Result e = db.query(
        "SELECT transaction_id, account, amount, lot_id FROM entries "
        "WHERE transaction_id = ANY($1::bigint[]) ORDER BY transaction_id, seq",
        Params().add(pg::array_literal(ids)));
    for (int i = 0; i < e.rows(); ++i)
      out[index.at(e.integer(i, 0))].entries.push_back(read_entry(Row{e, i}, 1));
    return out;
  });
}

std::optional<ledger::Hold> PostgresLedgerStore::hold(MemberId member_id,
                                                      const std::string& hold_ref) {
  return impl_->with_reader([&](Connection& db) -> std::optional<ledger::Hold> {
    const Result r = db.query(std::string("SELECT ") + kHoldColumns +
                                  " FROM holds WHERE member_id = $1 AND hold_ref = $2",
                              Params().add(member_id).add(hold_ref));
    if (r.rows() == 0) return std::nullopt;
    return read_hold(Row{r, 0});
  });
}

std::vector<MemberId> PostgresLedgerStore::members_due(TimeUs at_us, MemberId after,
                                                       std::size_t limit) {
  return impl_->with_reader([&](Connection& db) {
    const Result r = db.query(
        "SELECT member_id FROM accounts WHERE next_due_us <= $1 AND member_id > $2 "
        "ORDER BY member_id LIMIT $3",
        Params().add(at_us).add(after).add(sql_limit(limit)));
    std::vector<MemberId> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) out.push_back(r.integer(i, 0));
    return out;
  });
}

std::vector<std::pair<MemberId, std::string>> PostgresLedgerStore::expired_holds(
    TimeUs at_us, std::size_t limit) {
  return impl_->with_reader([&](Connection& db) {
    const Result r = db.query(
        "SELECT member_id, hold_ref FROM holds WHERE state = 'open' AND expires_at_us <= $1 "
        "ORDER BY expires_at_us LIMIT $2",
        Params().add(at_us).add(sql_limit(limit)));
    std::vector<std::pair<MemberId, std::string>> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.integer(i, 0), r.text(i, 1));
    return out;
  });
}

ProgramSummary PostgresLedgerStore::summary() {
  return impl_->in_snapshot([&](Connection& db) {
    ProgramSummary s;
    const Result counts = db.exec(
        "SELECT (SELECT count(*) FROM accounts), (SELECT count(*) FROM transactions), "
        "(SELECT count(*) FROM lots)");
    s.members = counts.integer(0, 0);
    s.transactions = counts.integer(0, 1);
    s.lots = counts.integer(0, 2);
    set_balances(s, program_balances(db));
    return s;
  });
}

ledger::Audit PostgresLedgerStore::audit() {
  return impl_->in_snapshot([&](Connection& db) {
    ledger::Audit audit;
    // The journal: every transaction sums to zero, no entry without its transaction, no key twice.
    Result r = db.exec(
        "SELECT t.id, coalesce(sum(e.amount), 0) FROM transactions t "
        "LEFT JOIN entries e ON e.transaction_id = t.id GROUP BY t.id");
    for (int i = 0; i < r.rows(); ++i)
      audit.check_transaction_sum(r.integer(i, 0), r.integer(i, 1));
    r = db.exec(
        "SELECT e.transaction_id, count(*) FROM entries e "
        "LEFT JOIN transactions t ON t.id = e.transaction_id WHERE t.id IS NULL "
        "GROUP BY e.transaction_id");
    for (int i = 0; i < r.rows(); ++i)
      audit.report_orphan_entries(r.integer(i, 0), r.integer(i, 1));
    r = db.exec(
        "SELECT idempotency_key, count(*) FROM transactions WHERE idempotency_key IS NOT NULL "
        "GROUP BY idempotency_key HAVING count(*) > 1");
    for (int i = 0; i < r.rows(); ++i) audit.check_duplicate_key(r.text(i, 0), r.integer(i, 1));
    // Members: every stored figure against what the journal, lots and holds derive.
    std::unordered_map<MemberId, ledger::MemberTotals> totals;
    r = db.exec(
        "SELECT member_id, account, sum(amount) FROM entries "
        "WHERE account LIKE 'member%' GROUP BY member_id, account");
    for (int i = 0; i < r.rows(); ++i)
      totals[r.integer(i, 0)].journal[index_of(r.text(i, 1))] = r.integer(i, 2);
    r = db.exec(
        "SELECT member_id, state, sum(remaining) FROM lots "
        "WHERE state IN ('active', 'pending', 'frozen') GROUP BY member_id, state");
    for (int i = 0; i < r.rows(); ++i) {
      ledger::MemberTotals& t = totals[r.integer(i, 0)];
      const std::string state = r.text(i, 1);
      (state == "active"    ? t.active_lots
       : state == "pending" ? t.pending_lots
                            : t.frozen_lots) = r.integer(i, 2);
    }
    r = db.exec(
        "SELECT member_id, "
        "min(CASE WHEN state = 'pending' THEN matures_at_us "
        "WHEN state = 'active' AND remaining > 0 THEN expires_at_us END), "
        "min(CASE WHEN state IN ('pending', 'active', 'frozen') AND remaining > 0 THEN id END) "
        "FROM lots GROUP BY member_id");
    for (int i = 0; i < r.rows(); ++i) {
      ledger::MemberTotals& t = totals[r.integer(i, 0)];
      t.next_due_us = r.null(i, 1) ? kTimeNever : r.integer(i, 1);
      t.live_lots_from_id = r.null(i, 2) ? ledger::kNoLiveLot : r.integer(i, 2);
    }
    r = db.exec("SELECT member_id, sum(points) FROM holds WHERE state = 'open' GROUP BY member_id");
    for (int i = 0; i < r.rows(); ++i) totals[r.integer(i, 0)].open_holds = r.integer(i, 1);
    r = db.exec(
        "SELECT h.member_id, sum(a.points - a.returned) FROM holds h "
        "JOIN allocations a ON a.transaction_id = h.transaction_id "
        "WHERE h.state = 'open' GROUP BY h.member_id");
    for (int i = 0; i < r.rows(); ++i)
      totals[r.integer(i, 0)].open_hold_allocations = r.integer(i, 1);
    r = db.exec(std::string("SELECT ") + kAccountColumns + " FROM accounts");
    for (int i = 0; i < r.rows(); ++i) audit.check_member_row(read_account(Row{r, i}), totals);
    audit.check_members_without_row(totals);
    // Lots, with how many expiry entries each has.
    std::unordered_map<LotId, std::int64_t> expiries;
    r = db.exec(
        "SELECT e.lot_id, count(*) FROM entries e JOIN transactions t ON t.id = e.transaction_id "
        "WHERE t.kind = 'expiry' AND e.account = 'program_expired' GROUP BY e.lot_id");
    for (int i = 0; i < r.rows(); ++i) expiries[r.integer(i, 0)] = r.integer(i, 1);
    r = db.exec(std::string("SELECT ") + kLotColumns + " FROM lots");
    for (int i = 0; i < r.rows(); ++i) {
      ledger::LotFacts facts{read_lot(Row{r, i}), 0};
      if (auto it = expiries.find(facts.lot.id); it != expiries.end())
        facts.expiry_entries = it->second;
      audit.check_lot(facts);
    }
    r = db.exec(std::string("SELECT ") + kAllocationColumns + " FROM allocations");
    for (int i = 0; i < r.rows(); ++i) audit.check_allocation(read_allocation(Row{r, i}));
    r = db.exec(std::string("SELECT ") + kOrderColumns + " FROM orders");
    for (int i = 0; i < r.rows(); ++i) audit.check_order(read_order(Row{r, i}));
    r = db.exec("SELECT coalesce(sum(remaining), 0) FROM lots WHERE state = 'expired'");
    audit.check_program(program_balances(db), r.integer(0, 0));
    return audit;
  });
}

Counters PostgresLedgerStore::counters(const std::vector<CounterKey>& keys) {
  return impl_->with_reader([&](Connection& db) {
    Counters out;
    std::vector<std::int64_t> scopes;
    std::vector<std::string> names;
    for (const CounterKey& key : keys) {
      out[key] = 0;
      scopes.push_back(key.scope);
      names.push_back(key.name);
    }
    if (keys.empty()) return out;
    const Result r = db.query(
        "SELECT c.scope, c.name, c.value FROM counters c JOIN "
        "unnest($1::bigint[], $2::text[]) AS k(scope, name) "
        "ON c.scope = k.scope AND c.name = k.name",
        Params().add(pg::array_literal(scopes)).add(pg::array_literal(names)));
    for (int i = 0; i < r.rows(); ++i)
      out[CounterKey{r.integer(i, 0), r.text(i, 1)}] = r.integer(i, 2);
    return out;
  });
}

std::vector<MemberId> PostgresLedgerStore::members_with_counter(const std::string& name,
                                                                std::int64_t at_least,
                                                                MemberId after, std::size_t limit) {
  return impl_->with_reader([&](Connection& db) {
    const Result r = db.query(
        "SELECT scope FROM counters WHERE name = $1 AND value >= $2 AND scope > $3 "
        "ORDER BY scope LIMIT $4",
        Params().add(name).add(at_least).add(after).add(sql_limit(limit)));
    std::vector<MemberId> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) out.push_back(r.integer(i, 0));
    return out;
  });
}

std::optional<std::string> PostgresLedgerStore::earning_record(TransactionId transaction_id) {
  return impl_->with_reader([&](Connection& db) -> std::optional<std::string> {
    const Result r = db.query("SELECT record FROM earnings WHERE transaction_id = $1",
                              Params().add(transaction_id));
    if (r.rows() == 0) return std::nullopt;
    return r.text(0, 0);
  });
}

std::vector<TierChangeRow> PostgresLedgerStore::tier_changes(MemberId member_id,
                                                             std::size_t limit) {
  limit = std::min(limit, kMaxHistoryPage);
  return impl_->with_reader([&](Connection& db) {
    const Result r = db.query(
        "SELECT transaction_id, at_us, from_level, to_level, reason FROM tier_changes "
        "WHERE member_id = $1 ORDER BY id DESC LIMIT $2",
        Params().add(member_id).add(sql_limit(limit)));
    std::vector<TierChangeRow> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i)
      out.push_back(TierChangeRow{member_id, r.integer(i, 0), r.integer(i, 1),
                                  static_cast<int>(r.integer(i, 2)),
                                  static_cast<int>(r.integer(i, 3)), r.text(i, 4)});
    return out;
  });
}

std::vector<StoredEvent> PostgresLedgerStore::events(TimeUs from_us, TimeUs until_us,
                                                     TransactionId after, std::size_t limit) {
  limit = std::min(limit, kMaxEventPage);
  return impl_->with_reader([&](Connection& db) {
    const Result r = db.query(
        "SELECT e.transaction_id, e.member_id, e.type, e.occurred_at_us, t.at_us, e.payload, "
        "t.result, coalesce(r.record, '') FROM events e "
        "JOIN transactions t ON t.id = e.transaction_id "
        "LEFT JOIN earnings r ON r.transaction_id = e.transaction_id "
        "WHERE e.transaction_id > $1 AND e.occurred_at_us >= $2 AND e.occurred_at_us < $3 "
        "ORDER BY e.transaction_id LIMIT $4",
        Params().add(after).add(from_us).add(until_us).add(sql_limit(limit)));
    std::vector<StoredEvent> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
      StoredEvent event{r.integer(i, 0), r.integer(i, 1), r.text(i, 2),
                        r.integer(i, 3), r.integer(i, 4), r.text(i, 5)};
      auto outcome = ledger::decode_outcome(r.text(i, 6));
      if (!outcome) throw PgError("XX001", "unreadable transaction result");
      event.points = outcome->points;
      event.earning_record = r.text(i, 7);
      out.push_back(std::move(event));
    }
    return out;
  });
}

std::vector<ActivityBucket> PostgresLedgerStore::activity(TimeUs from_us) {
  from_us = std::max<TimeUs>(from_us, 0);
  return impl_->in_snapshot([&](Connection& db) {
    std::map<std::int64_t, ActivityBucket> buckets;  // by number: time / kActivityBucketUs
    const Params params = Params().add(from_us).add(kActivityBucketUs);
    Result r = db.query(kActivityJournalSql, params);
    for (int i = 0; i < r.rows(); ++i) {
      ActivityBucket& bucket = buckets[r.integer(i, 0)];
      bucket.issued = r.integer(i, 1);
      bucket.redeemed = r.integer(i, 2);
      bucket.expired = r.integer(i, 3);
      bucket.outstanding_change = r.integer(i, 4);
    }
    for (const ActivityCountQuery& count : kActivityCountQueries) {
      r = db.query(count.sql, params);
      for (int i = 0; i < r.rows(); ++i) buckets[r.integer(i, 0)].*count.figure = r.integer(i, 1);
    }
    return ordered_buckets(buckets);
  });
}

std::vector<ItemRedemptions> PostgresLedgerStore::top_items(TimeUs from_us, TimeUs until_us,
                                                            std::size_t limit) {
  limit = std::min(limit, kMaxTopItems);
  return impl_->with_reader([&](Connection& db) {
    const Result r = db.query(
        "SELECT o.item, max(o.name), count(*), sum(o.units) AS units, sum(o.points) FROM ("
        "SELECT body::jsonb ->> 'item_id' AS item, body::jsonb ->> 'item_name' AS name, "
        "(body::jsonb ->> 'quantity')::bigint AS units, (body::jsonb ->> 'points')::bigint "
        "AS points FROM records WHERE kind = 'redemption' AND created_at_us >= $1 "
        "AND created_at_us < $2 AND state NOT IN ('cancelled', 'failed')) o "
        "GROUP BY o.item ORDER BY units DESC, o.item COLLATE \"C\" LIMIT $3",
        Params().add(from_us).add(until_us).add(sql_limit(limit)));
    std::vector<ItemRedemptions> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i)
      out.push_back(ItemRedemptions{r.text(i, 0), r.text(i, 1), r.integer(i, 2), r.integer(i, 3),
                                    r.integer(i, 4)});
    return out;
  });
}

std::optional<Record> PostgresLedgerStore::record(const RecordKey& key) {
  return impl_->with_reader([&](Connection& db) -> std::optional<Record> {
    const Result r = db.query(
        std::string("SELECT ") + kRecordColumns + " FROM records WHERE kind = $1 AND id = $2",
        Params().add(key.kind).add(key.id));
    if (r.rows() == 0) return std::nullopt;
    return record_at(r, 0);
  });
}

std::vector<Record> PostgresLedgerStore::records(const RecordQuery& query) {
  return impl_->with_reader([&](Connection& db) {
    Params params;
    params.add(query.kind);
    std::string sql = std::string("SELECT ") + kRecordColumns + " FROM records WHERE kind = $1";
    if (query.member_id != 0) {
      params.add(query.member_id);
      sql += " AND member_id = $" + std::to_string(params.size());
    }
    if (!query.state.empty()) {
      params.add(query.state);
      sql += " AND state = $" + std::to_string(params.size());
    }
    if (query.before_seq != 0) {
      params.add(query.before_seq);
      sql += " AND seq < $" + std::to_string(params.size());
    }
    params.add(static_cast<std::int64_t>(std::min(query.limit, kMaxRecordPage)));
    sql += " ORDER BY seq DESC LIMIT $" + std::to_string(params.size());
    const Result r = db.query(sql, params);
    std::vector<Record> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) out.push_back(record_at(r, i));
    return out;
  });
}

std::vector<std::string> PostgresLedgerStore::insert_new_records(
    const std::vector<Record>& records) {
  if (records.empty()) return {};
  return impl_->with_reader([&](Connection& db) {
    std::vector<std::string> kinds, ids, states, bodies;
    std::vector<std::int64_t> members, created, updated;
    for (const Record& r : records) {
      kinds.push_back(r.kind);
      ids.push_back(r.id);
      members.push_back(r.member_id);
      states.push_back(r.state);
      created.push_back(r.created_at_us);
      updated.push_back(r.updated_at_us);
      bodies.push_back(r.body);
    }
    // One statement: all or none. Rows whose key exists are left as they are.
    const Result inserted = db.query(
        "INSERT INTO records (kind, id, member_id, state, created_at_us, updated_at_us, body) "
        "SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::bigint[], "
        "$6::bigint[], $7::text[]) ON CONFLICT (kind, id) DO NOTHING RETURNING id",
        Params()
            .add(pg::array_literal(kinds))
            .add(pg::array_literal(ids))
            .add(pg::array_literal(members))
            .add(pg::array_literal(states))
            .add(pg::array_literal(created))
            .add(pg::array_literal(updated))
            .add(pg::array_literal(bodies)));
    std::set<std::string> fresh;
    for (int i = 0; i < inserted.rows(); ++i) fresh.insert(inserted.text(i, 0));
    std::vector<std::string> existing;
    for (const Record& r : records)
      if (!fresh.contains(r.id)) existing.push_back(r.id);
    return existing;
  });
}

}  // namespace pointsmall::store
