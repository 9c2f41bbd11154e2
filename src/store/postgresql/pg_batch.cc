#include "store/postgresql/pg_batch.h"

#include <algorithm>
#include <sstream>

#include "store/ledger_rows.h"

namespace pointsmall::store::pg {

using namespace ledger;  // NOLINT(google-build-using-namespace): this file is all ledger rows

namespace {

std::string select(const char* columns, const std::string& rest) {
  return std::string("SELECT ") + columns + " " + rest;
}

// The advisory lock of something that is not a member: a 64-bit FNV-1a digest of its kind and
// name with the sign bit set, so that it never equals a member's lock (the member's id).
std::int64_t lock_key(std::string_view kind, std::string_view name) {
  std::uint64_t hash = 14695981039346656037ULL;
  auto mix = [&](std::string_view text) {
    for (const char c : text) {
      hash ^= static_cast<unsigned char>(c);
      hash *= 1099511628211ULL;
    }
  };
  mix(kind);
  mix(std::string_view("\0", 1));
  mix(name);
  return static_cast<std::int64_t>(hash | (1ULL << 63));
}

bool is_live(LotState state) {
  return state == LotState::pending || state == LotState::active || state == LotState::frozen;
}

bool has_lot(const MemberBook& book, LotId id) {
  return std::any_of(book.lots.begin(), book.lots.end(), [id](const Lot& l) { return l.id == id; });
}

// Parses "1,2,3" (string_agg of ids); empty for NULL.
std::vector<std::int64_t> id_list(const Result& result, int column) {
  std::vector<std::int64_t> out;
  if (result.null(0, column)) return out;
  std::istringstream in(result.text(0, column));
  std::string part;
  while (std::getline(in, part, ',')) out.push_back(std::stoll(part));
  return out;
}

const Sql kDrawIds{
    "draw_ids",
    "SELECT (SELECT string_agg(nextval('member_ids')::text, ',') FROM generate_series(1, $1)), "
    "(SELECT string_agg(nextval('transaction_ids')::text, ',') FROM generate_series(1, $2)), "
    "(SELECT string_agg(nextval('lot_ids')::text, ',') FROM generate_series(1, $3))"};
// unnest keeps the sorted order of the array, so every batch locks in the same order.
const Sql kLock{"lock", "SELECT count(pg_advisory_xact_lock(k)) FROM unnest($1::bigint[]) AS k"};
const Sql kReadKeys{"read_keys",
                    "SELECT idempotency_key, request_hash, result FROM transactions "
                    "WHERE idempotency_key = ANY($1::text[])"};
const std::string kAccountsSql = std::string("SELECT ") + kStoredAccountColumns +
                                 " FROM accounts WHERE member_id = ANY($1::bigint[])";
const Sql kReadAccounts{"read_accounts", kAccountsSql.c_str()};
// Each member's live lots from its live_lots_from_id as the batch has it ($2): the stored account
// row is only written back by Batch::finish(), so inside the batch it may be stale (e.g. after a
// command gave points back to a lot below it).
const std::string kLiveLotsSql =
    std::string("SELECT ") +
    "l.id, l.member_id, l.transaction_id, l.amount, l.remaining, l.state, l.earned_at_us, "
    "l.matures_at_us, l.expires_at_us, l.source, l.order_id, l.cost_minor, l.previous_lot_id "
    "FROM lots l JOIN unnest($1::bigint[], $2::bigint[]) AS m(member_id, live_from) "
    "ON l.member_id = m.member_id WHERE l.id >= m.live_from "
    "AND l.state IN ('pending', 'active', 'frozen') ORDER BY l.id DESC";
const Sql kReadLiveLots{"read_live_lots", kLiveLotsSql.c_str()};
const Sql kExternalIdTaken{"external_id_taken", "SELECT 1 FROM accounts WHERE external_id = $1"};
const std::string kLotSql = select(kLotColumns, "FROM lots WHERE id = $1");
const Sql kReadLot{"read_lot", kLotSql.c_str()};
const std::string kHoldSql =
    select(kHoldColumns, "FROM holds WHERE member_id = $1 AND hold_ref = $2");
const Sql kReadHold{"read_hold", kHoldSql.c_str()};
const std::string kTransactionSql =
    select(kTransactionColumns, "FROM transactions WHERE id = $1 AND member_id = $2");
const Sql kReadTransaction{"read_transaction", kTransactionSql.c_str()};
const Sql kAllocationsOf{"allocations_of",
                         "SELECT transaction_id, lot_id, member_id, points, returned "
                         "FROM allocations WHERE transaction_id = $1 ORDER BY lot_id"};
// Spends that paid for an order, oldest first, then each spend's allocations by lot.
const Sql kOrderSpendAllocations{
    "order_spend_allocations",
    "SELECT a.transaction_id, a.lot_id, a.member_id, a.points, a.returned "
    "FROM transactions t JOIN allocations a ON a.transaction_id = t.id "
    "WHERE t.member_id = $1 AND t.kind = 'spend' AND t.reference = $2 ORDER BY t.id, a.lot_id"};
const Sql kReadCounters{"read_counters",
                        "SELECT c.scope, c.name, c.value FROM counters c JOIN "
                        "unnest($1::bigint[], $2::text[]) AS k(scope, name) "
                        "ON c.scope = k.scope AND c.name = k.name"};
const Sql kReadRecords{"read_records",
                       "SELECT r.kind, r.id, r.seq, r.member_id, r.state, r.created_at_us, "
                       "r.updated_at_us, r.body FROM records r JOIN "
                       "unnest($1::text[], $2::text[]) AS k(kind, id) "
                       "ON r.kind = k.kind AND r.id = k.id"};

// The batch's rows of the tables every earn appends to, one statement per table (RowBuffer).
const Sql kBulkTransactions{
    "bulk_transactions",
    "INSERT INTO transactions (id, member_id, previous_id, kind, at_us, idempotency_key, "
    "request_hash, reference, reason, actor, result) SELECT * FROM unnest($1::bigint[], "
    "$2::bigint[], $3::bigint[], $4::text[], $5::bigint[], $6::text[], $7::bigint[], $8::text[], "
    "$9::text[], $10::text[], $11::text[])"};
const Sql kBulkEntries{"bulk_entries",
                       "INSERT INTO entries (transaction_id, seq, member_id, account, amount, "
                       "lot_id) SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], "
                       "$4::text[], $5::bigint[], $6::bigint[])"};
const Sql kBulkLots{
    "bulk_lots",
    "INSERT INTO lots (id, member_id, previous_lot_id, transaction_id, amount, remaining, state, "
    "earned_at_us, matures_at_us, expires_at_us, source, order_id, cost_minor) SELECT * FROM "
    "unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], "
    "$7::text[], $8::bigint[], $9::bigint[], $10::bigint[], $11::text[], $12::text[], "
    "$13::bigint[])"};
const Sql kBulkEvents{"bulk_events",
                      "INSERT INTO events (transaction_id, member_id, type, occurred_at_us, "
                      "payload) SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], "
                      "$4::bigint[], $5::text[])"};
const Sql kBulkEarnings{"bulk_earnings",
                        "INSERT INTO earnings (transaction_id, member_id, record) SELECT * FROM "
                        "unnest($1::bigint[], $2::bigint[], $3::text[])"};

const Sql kUpdateLot{"update_lot",
                     "UPDATE lots SET remaining = $2, state = $3, expires_at_us = $4 "
                     "WHERE id = $1"};
const Sql kInsertAllocation{"insert_allocation",
                            "INSERT INTO allocations (transaction_id, lot_id, member_id, points, "
                            "returned) VALUES ($1, $2, $3, $4, $5)"};
const Sql kUpdateAllocation{"update_allocation",
                            "UPDATE allocations SET returned = $3 "
                            "WHERE transaction_id = $1 AND lot_id = $2"};
// The orders a batch read, for every command naming one (purchases, refunds, spends).
const std::string kOrdersSql =
    "SELECT o.member_id, o.order_id, o.amount_minor, o.refunded_minor, o.points_earned, "
    "o.points_clawed_back, o.points_spent, o.points_returned, o.lot_id FROM orders o "
    "JOIN unnest($1::bigint[], $2::text[]) AS k(member_id, order_id) "
    "ON o.member_id = k.member_id AND o.order_id = k.order_id";
const Sql kReadOrders{"read_orders", kOrdersSql.c_str()};
// Each order the batch changed, once (finish()).
const Sql kUpsertOrders{
    "upsert_orders",
    "INSERT INTO orders (member_id, order_id, amount_minor, refunded_minor, points_earned, "
    "points_clawed_back, points_spent, points_returned, lot_id) "
    "SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], "
    "$6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[]) "
    "ON CONFLICT (member_id, order_id) DO UPDATE "
    "SET amount_minor = excluded.amount_minor, refunded_minor = excluded.refunded_minor, "
    "points_earned = excluded.points_earned, points_clawed_back = excluded.points_clawed_back, "
    "points_spent = excluded.points_spent, points_returned = excluded.points_returned, "
    "lot_id = excluded.lot_id"};
const Sql kUpsertHold{
    "upsert_hold",
    "INSERT INTO holds (member_id, hold_ref, transaction_id, points, state, expires_at_us) "
    "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (member_id, hold_ref) DO UPDATE "
    "SET state = excluded.state"};
const Sql kInsertAccount{
    "insert_account",
    "INSERT INTO accounts (member_id, external_id, available, pending, frozen, held, debt, "
    "account_frozen, next_due_us, opened_at_us, live_lots_from_id, last_transaction_id, "
    "last_lot_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"};
const Sql kUpdateAccount{
    "update_account",
    "UPDATE accounts SET available = $3, pending = $4, frozen = $5, held = $6, debt = $7, "
    "account_frozen = $8, next_due_us = $9, opened_at_us = $10, live_lots_from_id = $11, "
    "last_transaction_id = $12, last_lot_id = $13 WHERE member_id = $1 AND external_id = $2"};
const Sql kUpsertCounter{"upsert_counter",
                         "INSERT INTO counters (scope, name, value) VALUES ($1, $2, $3) "
                         "ON CONFLICT (scope, name) DO UPDATE SET value = excluded.value"};
const Sql kInsertTierChange{"insert_tier_change",
                            "INSERT INTO tier_changes (member_id, transaction_id, at_us, "
                            "from_level, to_level, reason) VALUES ($1, $2, $3, $4, $5, $6)"};
const Sql kUpsertRecord{
    "upsert_record",
    "INSERT INTO records (kind, id, member_id, state, created_at_us, updated_at_us, body) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (kind, id) DO UPDATE SET "
    "member_id = excluded.member_id, state = excluded.state, "
    "updated_at_us = excluded.updated_at_us, body = excluded.body"};

}  // namespace

// ---- Ids ------------------------------------------------------------------------------------

void SequenceIds::draw(std::size_t members, std::size_t transactions, std::size_t lots) {
  const Result drawn = db_.fetch(kDrawIds, Params()
                                               .add(static_cast<std::int64_t>(members))
                                               .add(static_cast<std::int64_t>(transactions))
                                               .add(static_cast<std::int64_t>(lots)));
  members_ = Pool{id_list(drawn, 0), 0};
  transactions_ = Pool{id_list(drawn, 1), 0};
  lots_ = Pool{id_list(drawn, 2), 0};
}

std::int64_t SequenceIds::take(Pool& pool) {
  if (pool.next == pool.ids.size()) {
    // More than the batch expected (e.g. many expiries on the way): draw more of this kind.
    // Later ids are above earlier ones, since the sequence only grows.
    constexpr std::int64_t kMore = 64;
    const bool member = &pool == &members_;
    const bool transaction = &pool == &transactions_;
    const Result drawn = db_.fetch(kDrawIds, Params()
                                                 .add(member ? kMore : 0)
                                                 .add(transaction ? kMore : 0)
                                                 .add(!member && !transaction ? kMore : 0));
    const auto more = id_list(drawn, member ? 0 : transaction ? 1 : 2);
    pool.ids.insert(pool.ids.end(), more.begin(), more.end());
  }
  return pool.ids[pool.next++];
}

void SequenceIds::restore(const Mark& mark) {
  members_.next = mark.members;
  transactions_.next = mark.transactions;
  lots_.next = mark.lots;
}

// ---- Locks and reads at the start ----------------------------------------------------------

Batch::Batch(Connection& db, const Policy& policy)
    : db_(db),
      policy_(policy),
      ids_(db),
      transactions_(kBulkTransactions),
      entries_(kBulkEntries),
      lots_(kBulkLots),
      events_(kBulkEvents),
      earnings_(kBulkEarnings) {}

void Batch::flush_rows() {
  for (RowBuffer* rows : {&transactions_, &entries_, &lots_, &events_, &earnings_})
    rows->flush(db_);
}

void Batch::send(const Sql& sql, const Params& params) {
  flush_rows();  // an update or a read may concern a row still in a buffer
  db_.send(sql, params);
}

Result Batch::fetch(const Sql& sql, const Params& params) {
  flush_rows();
  return db_.fetch(sql, params);
}

void Batch::lock(std::vector<std::int64_t> keys) {
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  if (!keys.empty()) fetch(kLock, Params().add(array_literal(keys)));
}

void Batch::prepare_for(const std::vector<QueuedCommand>& commands) {
  std::vector<std::int64_t> locks;
  std::vector<std::string> keys;
  std::vector<MemberId> members;
  std::size_t opens = 0;
  for (const QueuedCommand& queued : commands) {
    const Command& command = queued.command;
    if (const auto* open = std::get_if<OpenAccount>(&command.body)) {
      locks.push_back(lock_key("external_id", open->external_id));
      ++opens;
    } else if (command.member_id > 0) {
      locks.push_back(command.member_id);
      members.push_back(command.member_id);
      locked_members_.insert(command.member_id);
    }
    // Keys take no lock of their own: a member's commands are serialised by the member's lock,
    // and a key another node uses for another member at the same moment is found by the
    // unique index (the batch is then run again and replays or refuses it).
    if (!command.idempotency_key.empty()) keys.push_back(command.idempotency_key);
    if (!queued.preparer) continue;
    for (const CounterKey& counter : queued.preparer->counters_needed(command))
      if (counter.scope != command.member_id)
        locks.push_back(lock_key("counter", std::to_string(counter.scope) + ":" + counter.name));
    for (const RecordKey& record : queued.preparer->records_needed(command))
      locks.push_back(lock_key("record", record.kind + ":" + record.id));
  }
  lock(std::move(locks));
  read_keys(keys);
  std::sort(members.begin(), members.end());
  members.erase(std::unique(members.begin(), members.end()), members.end());
  read_accounts(members);
  std::vector<MemberId> needing_lots;
  for (const QueuedCommand& queued : commands) {
    const Command& command = queued.command;
    auto it = accounts_.find(command.member_id);
    if (it == accounts_.end() || !it->second) continue;
    if (needs_for(command, it->second->row, policy_).live_lots)
      needing_lots.push_back(command.member_id);
  }
  std::sort(needing_lots.begin(), needing_lots.end());
  needing_lots.erase(std::unique(needing_lots.begin(), needing_lots.end()), needing_lots.end());
  read_live_lots(needing_lots);
  std::vector<std::pair<MemberId, std::string>> orders;
  for (const QueuedCommand& queued : commands) {
    const Command& command = queued.command;
    auto it = accounts_.find(command.member_id);
    if (it == accounts_.end() || !it->second) continue;
    std::string order_id = needs_for(command, it->second->row, policy_).order_id;
    if (!order_id.empty()) orders.emplace_back(command.member_id, std::move(order_id));
  }
  read_orders(orders);
  // Each command makes one transaction, and may mature or expire lots on the way.
  ids_.draw(opens, commands.size() * 2 + 8, commands.size() + 8);
}

void Batch::lock_member(MemberId member_id) {
  if (member_id <= 0 || locked_members_.contains(member_id)) return;
  lock({member_id});
  locked_members_.insert(member_id);
  // Ids drawn before this lock may be below ids another node has given this member since.
  ids_.draw(0, 8, 4);
}

void Batch::read_keys(const std::vector<std::string>& keys) {
  if (keys.empty()) return;
  for (const std::string& key : keys) keys_.emplace(key, std::nullopt);
  const Result found = fetch(kReadKeys, Params().add(array_literal(keys)));
  for (int i = 0; i < found.rows(); ++i)
    keys_[found.text(i, 0)] =
        KeyRecord{static_cast<std::uint64_t>(found.integer(i, 1)), found.text(i, 2)};
}

void Batch::read_accounts(const std::vector<MemberId>& members) {
  if (members.empty()) return;
  for (MemberId member : members) accounts_.emplace(member, std::nullopt);
  const Result found = fetch(kReadAccounts, Params().add(array_literal(members)));
  for (int i = 0; i < found.rows(); ++i) {
    const Row row{found, i};
    Account account{read_account(row), row.column_int(11), row.column_int(12)};
    accounts_[account.row.member_id] = std::move(account);
  }
}

void Batch::read_live_lots(const std::vector<MemberId>& members) {
  std::vector<MemberId> with_account;
  std::vector<LotId> live_from;
  for (MemberId member : members) {
    live_lots_.emplace(member, std::vector<Lot>{});
    const auto it = accounts_.find(member);
    if (it == accounts_.end() || !it->second) continue;
    with_account.push_back(member);
    live_from.push_back(it->second->row.live_lots_from_id);
  }
  if (with_account.empty()) return;
  const Result found =
      fetch(kReadLiveLots, Params().add(array_literal(with_account)).add(array_literal(live_from)));
  for (int i = 0; i < found.rows(); ++i) {
    Lot lot = read_lot(Row{found, i});
    live_lots_[lot.member_id].push_back(std::move(lot));
  }
}

void Batch::read_orders(const std::vector<std::pair<MemberId, std::string>>& orders) {
  if (orders.empty()) return;
  std::vector<std::int64_t> members;
  std::vector<std::string> ids;
  for (const auto& [member, order_id] : orders) {
    orders_.emplace(std::make_pair(member, order_id), std::nullopt);
    members.push_back(member);
    ids.push_back(order_id);
  }
  const Result found =
      fetch(kReadOrders, Params().add(array_literal(members)).add(array_literal(ids)));
  for (int i = 0; i < found.rows(); ++i) {
    Order order = read_order(Row{found, i});
    orders_[{order.member_id, order.order_id}] = std::move(order);
  }
}

Batch::Account* Batch::account(MemberId member_id) {
  auto it = accounts_.find(member_id);
  if (it == accounts_.end()) {
    read_accounts({member_id});
    it = accounts_.find(member_id);
  }
  return it->second ? &*it->second : nullptr;
}

// ---- Commands -------------------------------------------------------------------------------

std::optional<CommandResult> Batch::replay(const Command& command) {
  if (command.idempotency_key.empty()) return std::nullopt;
  auto it = keys_.find(command.idempotency_key);
  if (it == keys_.end()) {  // a follow-up's key: not read at the start
    read_keys({command.idempotency_key});
    it = keys_.find(command.idempotency_key);
  }
  if (!it->second) return std::nullopt;
  const auto replay = replay_or_conflict(command, it->second->request_hash, it->second->result);
  CommandResult result;
  result.rejection = replay.rejection;
  result.outcome = replay.outcome;
  result.replayed = !replay.rejection;
  return result;
}

CommandResult Batch::run(const Command& as_submitted, Preparer* preparer) {
  CommandResult result;
  if (auto invalid = validate(as_submitted)) {
    result.rejection = invalid;
    return result;
  }
  // A repeated key replays before anything is prepared or decided (the SQLite engine finds the
  // repeat when it inserts; the outcome is the same).
  if (auto replayed = replay(as_submitted)) return *replayed;
  lock_member(as_submitted.member_id);
  Preparation preparation;
  std::optional<Command> prepared;
  if (preparer != nullptr) {
    prepared = as_submitted;
    prepared->client_request_hash = request_hash(as_submitted);
    Counters counters;
    const std::vector<CounterKey> counter_keys = preparer->counters_needed(*prepared);
    if (!counter_keys.empty()) {
      std::vector<std::int64_t> scopes;
      std::vector<std::string> names;
      for (const CounterKey& key : counter_keys) {
        counters[key] = 0;
        scopes.push_back(key.scope);
        names.push_back(key.name);
      }
      const Result found =
          fetch(kReadCounters, Params().add(array_literal(scopes)).add(array_literal(names)));
      for (int i = 0; i < found.rows(); ++i)
        counters[CounterKey{found.integer(i, 0), found.text(i, 1)}] = found.integer(i, 2);
    }
    Records records;
    const std::vector<RecordKey> record_keys = preparer->records_needed(*prepared);
    if (!record_keys.empty()) {
      std::vector<std::string> kinds;
      std::vector<std::string> ids;
      for (const RecordKey& key : record_keys) {
        kinds.push_back(key.kind);
        ids.push_back(key.id);
      }
      const Result found =
          fetch(kReadRecords, Params().add(array_literal(kinds)).add(array_literal(ids)));
      for (int i = 0; i < found.rows(); ++i) {
        Record r{found.text(i, 0), found.text(i, 1),    found.integer(i, 2), found.integer(i, 3),
                 found.text(i, 4), found.integer(i, 5), found.integer(i, 6), found.text(i, 7)};
        records.emplace(RecordKey{r.kind, r.id}, std::move(r));
      }
    }
    preparation = preparer->prepare(*prepared, counters, records);
    if (preparation.refusal) {
      result.refusal = std::move(preparation.refusal);
      return result;
    }
    if (auto invalid = validate(*prepared)) {
      result.rejection = invalid;
      return result;
    }
  }
  const Command& command = prepared ? *prepared : as_submitted;
  const MemberBook book = load_book(command);
  const SequenceIds::Mark mark = ids_.mark();
  Decision decision = decide(book, command, policy_, ids_);
  if (decision.rejection) {
    ids_.restore(mark);
    result.rejection = decision.rejection;
    return result;
  }
  apply(command, decision.effects);
  if (preparer != nullptr)
    apply_preparation(preparation, command, decision.effects.outcome.transaction_id);
  result.outcome = decision.effects.outcome;
  for (const Command& follow_up : preparation.follow_ups) run(follow_up, nullptr);
  return result;
}

MemberBook Batch::load_book(const Command& command) {
  MemberBook book;
  if (const auto* open = std::get_if<OpenAccount>(&command.body)) {
    book.external_id_taken = fetch(kExternalIdTaken, Params().add(open->external_id)).rows() > 0;
    return book;
  }
  Account* stored = account(command.member_id);
  if (stored == nullptr) return book;
  book.account = stored->row;
  Needs needs = needs_for(command, book.account, policy_);
  const MemberId member = command.member_id;
  if (needs.transaction_id != 0) {
    const Result found = fetch(kReadTransaction, Params().add(needs.transaction_id).add(member));
    if (found.rows() > 0) {
      book.target = read_transaction(Row{found, 0});
      load_allocations("", Params().add(book.target->id), book);
      if (book.target->kind == TransactionKind::spend) needs.order_id = book.target->reference;
      if (book.target->kind == TransactionKind::hold) needs.hold_ref = book.target->reference;
    }
  }
  if (needs.live_lots) {
    auto it = live_lots_.find(member);
    if (it == live_lots_.end()) {
      read_live_lots({member});
      it = live_lots_.find(member);
    }
    for (const Lot& lot : it->second)
      if (!has_lot(book, lot.id)) book.lots.push_back(lot);
    book.all_live_lots = true;
  }
  if (!needs.order_id.empty()) {
    auto known = orders_.find({member, needs.order_id});
    if (known == orders_.end()) {
      read_orders({{member, needs.order_id}});
      known = orders_.find({member, needs.order_id});
    }
    book.order = known->second;
    if (book.order && book.order->lot_id != 0) load_lot(book.order->lot_id, member, book);
    if (needs.order_spend_allocations)
      load_allocations("order", Params().add(member).add(needs.order_id), book);
  }
  if (!needs.hold_ref.empty()) {
    const Result found = fetch(kReadHold, Params().add(member).add(needs.hold_ref));
    if (found.rows() > 0) book.hold = read_hold(Row{found, 0});
    if (book.hold && !book.target)
      load_allocations("", Params().add(book.hold->transaction_id), book);
  }
  if (needs.lot_id != 0) load_lot(needs.lot_id, member, book);
  std::set<LotId> allocated;
  for (const Allocation& allocation : book.allocations) allocated.insert(allocation.lot_id);
  for (LotId id : allocated) load_lot(id, member, book);
  return book;
}

void Batch::load_lot(LotId lot_id, MemberId member_id, MemberBook& book) {
  if (has_lot(book, lot_id)) return;
  const Result found = fetch(kReadLot, Params().add(lot_id));
  if (found.rows() == 0) return;
  Lot lot = read_lot(Row{found, 0});
  if (lot.member_id == member_id) book.lots.push_back(std::move(lot));
}

void Batch::load_allocations(const std::string& which, const Params& params, MemberBook& book) {
  const Result found = fetch(which == "order" ? kOrderSpendAllocations : kAllocationsOf, params);
  for (int i = 0; i < found.rows(); ++i) book.allocations.push_back(read_allocation(Row{found, i}));
}

// ---- Writes ---------------------------------------------------------------------------------

void Batch::send_transaction(const Transaction& tx, TransactionId previous_id) {
  transactions_.add(Params()
                        .add(tx.id)
                        .add(tx.member_id)
                        .add(previous_id)
                        .add(transaction_kind_name(tx.kind))
                        .add(tx.at_us)
                        .add_or_null(tx.idempotency_key)
                        .add(static_cast<std::int64_t>(tx.request_hash))
                        .add(tx.reference)
                        .add(tx.reason)
                        .add(tx.actor)
                        .add(tx.result));
  for (std::size_t seq = 0; seq < tx.entries.size(); ++seq) {
    const Entry& entry = tx.entries[seq];
    Params row;
    row.add(tx.id).add(static_cast<std::int64_t>(seq)).add(tx.member_id);
    row.add(account_name(entry.account)).add(entry.amount);
    if (entry.lot_id == 0)
      row.add_null();
    else
      row.add(entry.lot_id);
    entries_.add(std::move(row));
  }
}

void Batch::send_lot(const Lot& lot, bool insert, LotId previous_lot_id) {
  if (!insert) {
    send(kUpdateLot, Params()
                         .add(lot.id)
                         .add(lot.remaining)
                         .add(lot_state_name(lot.state))
                         .add(lot.expires_at_us));
    return;
  }
  lots_.add(Params()
                .add(lot.id)
                .add(lot.member_id)
                .add(previous_lot_id)
                .add(lot.transaction_id)
                .add(lot.amount)
                .add(lot.remaining)
                .add(lot_state_name(lot.state))
                .add(lot.earned_at_us)
                .add(lot.matures_at_us)
                .add(lot.expires_at_us)
                .add(lot.source)
                .add(lot.order_id)
                .add(lot.cost_minor));
}

void Batch::send_account(const Account& account, bool insert) {
  const AccountRow& row = account.row;
  send(insert ? kInsertAccount : kUpdateAccount,
       Params()
           .add(row.member_id)
           .add(row.external_id)
           .add(row.available)
           .add(row.pending)
           .add(row.frozen)
           .add(row.held)
           .add(row.debt)
           .add(static_cast<std::int64_t>(row.account_frozen ? 1 : 0))
           .add(row.next_due_us)
           .add(row.opened_at_us)
           .add(row.live_lots_from_id)
           .add(account.last_transaction_id)
           .add(account.last_lot_id));
}

void Batch::apply(const Command& command, const Effects& effects) {
  Account account;
  if (!effects.account_inserted) account = *accounts_.at(effects.account.member_id);
  account.row = effects.account;
  for (const Transaction& tx : effects.transactions) {
    send_transaction(tx, account.last_transaction_id);
    account.last_transaction_id = tx.id;
    if (!tx.idempotency_key.empty())
      keys_[tx.idempotency_key] = KeyRecord{tx.request_hash, tx.result};
  }
  auto live = live_lots_.find(account.row.member_id);
  if (effects.account_inserted)
    live = live_lots_.emplace(account.row.member_id, std::vector<Lot>{}).first;
  for (const Lot& lot : effects.lots_inserted) {
    send_lot(lot, true, account.last_lot_id);
    account.last_lot_id = lot.id;
    if (live != live_lots_.end() && is_live(lot.state))
      live->second.insert(live->second.begin(), lot);
  }
  for (const Lot& lot : effects.lots_updated) {
    send_lot(lot, false, 0);
    if (live == live_lots_.end()) continue;
    auto& lots = live->second;
    auto it = std::find_if(lots.begin(), lots.end(), [&](const Lot& l) { return l.id == lot.id; });
    if (it != lots.end()) {
      if (is_live(lot.state))
        *it = lot;
      else
        lots.erase(it);
    } else if (is_live(lot.state)) {
      lots.push_back(lot);
    }
  }
  for (const Allocation& a : effects.allocations_inserted)
    send(kInsertAllocation, Params()
                                .add(a.transaction_id)
                                .add(a.lot_id)
                                .add(a.member_id)
                                .add(a.points)
                                .add(a.returned));
  for (const Allocation& a : effects.allocations_updated)
    send(kUpdateAllocation, Params().add(a.transaction_id).add(a.lot_id).add(a.returned));
  if (const auto& o = effects.order) {
    orders_[{o->member_id, o->order_id}] = *o;
    changed_orders_.insert({o->member_id, o->order_id});
  }
  if (const auto& h = effects.hold)
    send(kUpsertHold, Params()
                          .add(h->member_id)
                          .add(h->hold_ref)
                          .add(h->transaction_id)
                          .add(h->points)
                          .add(hold_state_name(h->state))
                          .add(h->expires_at_us));
  const MemberId member = account.row.member_id;
  if (effects.account_inserted) {
    // Inserted at once, so that a later open of the same external id in the batch sees it.
    send_account(account, true);
    locked_members_.insert(member);  // nobody else can know the new id before the commit
  } else {
    changed_accounts_.insert(member);
  }
  accounts_[member] = std::move(account);
  if (const auto& event = command.event)
    events_.add(Params()
                    .add(effects.outcome.transaction_id)
                    .add(member)
                    .add(event->type)
                    .add(event->occurred_at_us)
                    .add(event->payload));
}

void Batch::apply_preparation(const Preparation& preparation, const Command& command,
                              TransactionId transaction_id) {
  for (const auto& [key, value] : preparation.counter_updates)
    send(kUpsertCounter, Params().add(key.scope).add(key.name).add(value));
  if (!preparation.earning_record.empty())
    earnings_.add(
        Params().add(transaction_id).add(command.member_id).add(preparation.earning_record));
  if (const auto& change = preparation.tier_change)
    send(kInsertTierChange, Params()
                                .add(command.member_id)
                                .add(transaction_id)
                                .add(command.at_us)
                                .add(static_cast<std::int64_t>(change->from_level))
                                .add(static_cast<std::int64_t>(change->to_level))
                                .add(change->reason));
  for (const Record& r : preparation.record_writes)
    send(kUpsertRecord, Params()
                            .add(r.kind)
                            .add(r.id)
                            .add(r.member_id)
                            .add(r.state)
                            .add(r.created_at_us)
                            .add(r.updated_at_us)
                            .add(r.body));
}

void Batch::finish() {
  flush_rows();
  RowBuffer orders(kUpsertOrders);
  for (const auto& key : changed_orders_) {
    const Order& o = *orders_.at(key);
    orders.add(Params()
                   .add(o.member_id)
                   .add(o.order_id)
                   .add(o.amount_minor)
                   .add(o.refunded_minor)
                   .add(o.points_earned)
                   .add(o.points_clawed_back)
                   .add(o.points_spent)
                   .add(o.points_returned)
                   .add(o.lot_id));
  }
  orders.flush(db_);
  for (MemberId member : changed_accounts_) send_account(*accounts_.at(member), false);
}

}  // namespace pointsmall::store::pg
