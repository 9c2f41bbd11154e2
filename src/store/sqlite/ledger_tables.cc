#include "store/sqlite/ledger_tables.h"

#include <algorithm>
#include <set>

namespace pointsmall::store::sqlite {

using namespace ledger;  // NOLINT(google-build-using-namespace): this file is all ledger rows

namespace {

std::string select(const char* columns, const std::string& rest) {
  return std::string("SELECT ") + columns + " " + rest;
}

}  // namespace

LedgerTables::LedgerTables(Connection& c, AccountProjection& accounts)
    : accounts_(accounts),
      find_key_(c.prepare("SELECT request_hash, result FROM transactions "
                          "WHERE idempotency_key = $1")),
      select_account_by_external_id_(
          c.prepare("SELECT member_id FROM accounts WHERE external_id = $1")),
      select_lot_(c.prepare(select(kLotColumns, "FROM lots WHERE id = $1"))),
      select_order_(
          c.prepare(select(kOrderColumns, "FROM orders WHERE member_id = $1 AND order_id = $2"))),
      select_hold_(
          c.prepare(select(kHoldColumns, "FROM holds WHERE member_id = $1 AND hold_ref = $2"))),
      select_transaction_(c.prepare(
          select(kTransactionColumns, "FROM transactions WHERE id = $1 AND member_id = $2"))),
      select_allocations_(c.prepare(select(
          kAllocationColumns, "FROM allocations WHERE transaction_id = $1 ORDER BY lot_id"))),
      insert_transaction_(c.prepare(
          "INSERT INTO transactions (id, member_id, previous_id, kind, at_us, idempotency_key, "
          "request_hash, reference, reason, actor, result) "
          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)")),
      insert_entry_(
          c.prepare("INSERT INTO entries (transaction_id, seq, member_id, account, amount, lot_id) "
                    "VALUES ($1, $2, $3, $4, $5, $6)")),
      insert_entry_pair_(
          c.prepare("INSERT INTO entries (transaction_id, seq, member_id, account, amount, lot_id) "
                    "VALUES ($1, $2, $3, $4, $5, $6), ($7, $8, $9, $10, $11, $12)")),
      insert_lot_(c.prepare(
          "INSERT INTO lots (id, member_id, previous_lot_id, transaction_id, amount, remaining, "
          "state, earned_at_us, matures_at_us, expires_at_us, source, order_id, cost_minor) "
          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)")),
      update_lot_(c.prepare("UPDATE lots SET remaining = $2, state = $3, expires_at_us = $4 "
                            "WHERE id = $1")),
      insert_allocation_(
          c.prepare("INSERT INTO allocations (transaction_id, lot_id, member_id, points, returned) "
                    "VALUES ($1, $2, $3, $4, $5)")),
      update_allocation_(c.prepare("UPDATE allocations SET returned = $3 "
                                   "WHERE transaction_id = $1 AND lot_id = $2")),
      upsert_order_(c.prepare(
          "INSERT INTO orders (member_id, order_id, amount_minor, refunded_minor, points_earned, "
          "points_clawed_back, points_spent, points_returned, lot_id) "
          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (member_id, order_id) DO UPDATE "
          "SET amount_minor = excluded.amount_minor, refunded_minor = excluded.refunded_minor, "
          "points_earned = excluded.points_earned, "
          "points_clawed_back = excluded.points_clawed_back, "
          "points_spent = excluded.points_spent, points_returned = excluded.points_returned, "
          "lot_id = excluded.lot_id")),
      select_order_spends_(c.prepare(
          "SELECT id FROM transactions WHERE member_id = $1 AND kind = 'spend' AND reference = $2 "
          "ORDER BY id")),
      upsert_hold_(c.prepare(
          "INSERT INTO holds (member_id, hold_ref, transaction_id, points, state, expires_at_us) "
          "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (member_id, hold_ref) DO UPDATE "
          "SET state = excluded.state")),
      insert_event_(
          c.prepare("INSERT INTO events (transaction_id, member_id, type, occurred_at_us, payload) "
                    "VALUES ($1, $2, $3, $4, $5)")) {}

std::optional<LedgerTables::KeyRecord> LedgerTables::find_key(const std::string& key) {
  StatementScope scope(find_key_);
  find_key_.bind(1, key);
  if (!find_key_.step()) return std::nullopt;
  return KeyRecord{static_cast<std::uint64_t>(find_key_.column_int(0)), find_key_.column_text(1)};
}

void report_corrupt(const Statement& /*row*/, const std::string& message) {
  throw SqliteError(SQLITE_CORRUPT, message);
}

namespace {

bool has_lot(const MemberBook& book, LotId id) {
  return std::any_of(book.lots.begin(), book.lots.end(), [id](const Lot& l) { return l.id == id; });
}

bool is_live(LotState state) {
  return state == LotState::pending || state == LotState::active || state == LotState::frozen;
}

}  // namespace

void LedgerTables::load_live_lots(LotId last_lot_id, LotId live_from, MemberBook& book) {
  // The chain runs newest to oldest; lots below live_from have no points left that count.
  for (LotId id = last_lot_id; id != 0 && id >= live_from;) {
    StatementScope scope(select_lot_);
    select_lot_.bind(1, id);
    if (!select_lot_.step()) throw SqliteError(SQLITE_CORRUPT, "broken lot chain");
    Lot lot = read_lot(select_lot_);
    id = select_lot_.column_int(12);
    if (is_live(lot.state) && !has_lot(book, lot.id)) book.lots.push_back(std::move(lot));
  }
}

void LedgerTables::load_lot(LotId lot_id, MemberId member_id, MemberBook& book) {
  if (has_lot(book, lot_id)) return;
  StatementScope scope(select_lot_);
  select_lot_.bind(1, lot_id);
  if (!select_lot_.step()) return;
  Lot lot = read_lot(select_lot_);
  if (lot.member_id == member_id) book.lots.push_back(std::move(lot));
}

void LedgerTables::load_allocations_of(TransactionId transaction_id, MemberBook& book) {
  StatementScope scope(select_allocations_);
  select_allocations_.bind(1, transaction_id);
  while (select_allocations_.step())
    book.allocations.push_back(read_allocation(select_allocations_));
}

void LedgerTables::load_order_spend_allocations(MemberId member_id, const std::string& order_id,
                                                MemberBook& book) {
  std::vector<TransactionId> spends;
  {
    StatementScope scope(select_order_spends_);
    select_order_spends_.bind(1, member_id).bind(2, order_id);
    while (select_order_spends_.step()) spends.push_back(select_order_spends_.column_int(0));
  }
  for (TransactionId spend : spends) load_allocations_of(spend, book);  // oldest first
}

void LedgerTables::load_allocated_lots(MemberBook& book) {
  std::set<LotId> wanted;
  for (const Allocation& allocation : book.allocations) wanted.insert(allocation.lot_id);
  for (LotId id : wanted) load_lot(id, book.account->member_id, book);
}

MemberBook LedgerTables::load_book(const Command& command, const Policy& policy) {
  MemberBook book;
  loaded_.reset();
  if (const auto* open = std::get_if<OpenAccount>(&command.body)) {
    StatementScope scope(select_account_by_external_id_);
    select_account_by_external_id_.bind(1, open->external_id);
    book.external_id_taken = select_account_by_external_id_.step();
    return book;
  }
  loaded_ = accounts_.get(command.member_id);
  const auto& stored = loaded_;
  if (!stored) return book;
  book.account = stored->row;
  Needs needs = needs_for(command, book.account, policy);
  const MemberId member = command.member_id;
  if (needs.transaction_id != 0) {
    StatementScope scope(select_transaction_);
    select_transaction_.bind(1, needs.transaction_id).bind(2, member);
    if (select_transaction_.step()) {
      book.target = read_transaction(select_transaction_);
      load_allocations_of(book.target->id, book);
      if (book.target->kind == TransactionKind::spend) needs.order_id = book.target->reference;
      if (book.target->kind == TransactionKind::hold) needs.hold_ref = book.target->reference;
    }
  }
  if (needs.live_lots) {
    load_live_lots(stored->last_lot_id, stored->row.live_lots_from_id, book);
    book.all_live_lots = true;
  }
  if (!needs.order_id.empty()) {
    {
      StatementScope scope(select_order_);
      select_order_.bind(1, member).bind(2, needs.order_id);
      if (select_order_.step()) book.order = read_order(select_order_);
    }
    if (book.order && book.order->lot_id != 0) load_lot(book.order->lot_id, member, book);
    if (needs.order_spend_allocations) load_order_spend_allocations(member, needs.order_id, book);
  }
  if (!needs.hold_ref.empty()) {
    {
      StatementScope scope(select_hold_);
      select_hold_.bind(1, member).bind(2, needs.hold_ref);
      if (select_hold_.step()) book.hold = read_hold(select_hold_);
    }
    if (book.hold && !book.target) load_allocations_of(book.hold->transaction_id, book);
  }
  if (needs.lot_id != 0) load_lot(needs.lot_id, member, book);
  load_allocated_lots(book);
  return book;
}

void LedgerTables::insert_transaction(const Transaction& tx, TransactionId previous_id) {
  Statement& s = insert_transaction_;
  s.bind(1, tx.id).bind(2, tx.member_id).bind(3, previous_id);
  s.bind(4, transaction_kind_name(tx.kind)).bind(5, tx.at_us);
  if (tx.idempotency_key.empty())
    s.bind_null(6);
  else
    s.bind(6, tx.idempotency_key);
  s.bind(7, static_cast<std::int64_t>(tx.request_hash)).bind(8, tx.reference).bind(9, tx.reason);
  s.bind(10, tx.actor).bind(11, tx.result);
  s.run();
  // Two entries (the common case: a grant or a one-lot spend) go in one statement.
  const std::size_t paired = tx.entries.size() == 2 ? 2 : 0;
  Statement& pair = insert_entry_pair_;
  for (std::size_t seq = 0; seq < tx.entries.size(); ++seq) {
    Statement& e = paired ? pair : insert_entry_;
    const int base = paired ? static_cast<int>(seq) * 6 : 0;
    const Entry& entry = tx.entries[seq];
    e.bind(base + 1, tx.id).bind(base + 2, static_cast<std::int64_t>(seq));
    e.bind(base + 3, tx.member_id).bind(base + 4, account_name(entry.account));
    e.bind(base + 5, entry.amount);
    if (entry.lot_id == 0)
      e.bind_null(base + 6);
    else
      e.bind(base + 6, entry.lot_id);
    if (!paired) e.run();
  }
  if (paired) pair.run();
}

void LedgerTables::write_lot(const Lot& lot, bool insert, LotId previous_lot_id) {
  if (!insert) {
    update_lot_.bind(1, lot.id).bind(2, lot.remaining).bind(3, lot_state_name(lot.state));
    update_lot_.bind(4, lot.expires_at_us).run();
    return;
  }
  Statement& s = insert_lot_;
  s.bind(1, lot.id).bind(2, lot.member_id).bind(3, previous_lot_id).bind(4, lot.transaction_id);
  s.bind(5, lot.amount).bind(6, lot.remaining).bind(7, lot_state_name(lot.state));
  s.bind(8, lot.earned_at_us).bind(9, lot.matures_at_us).bind(10, lot.expires_at_us);
  s.bind(11, lot.source).bind(12, lot.order_id).bind(13, lot.cost_minor);
  s.run();
}

void LedgerTables::write_allocation(const Allocation& a, bool insert) {
  if (insert) {
    insert_allocation_.bind(1, a.transaction_id).bind(2, a.lot_id).bind(3, a.member_id);
    insert_allocation_.bind(4, a.points).bind(5, a.returned).run();
  } else {
    update_allocation_.bind(1, a.transaction_id).bind(2, a.lot_id).bind(3, a.returned).run();
  }
}

void LedgerTables::apply(const Effects& effects, const std::optional<ledger::EventRecord>& event) {
  // The row load_book read for this command (apply always follows it, on the same thread).
  StoredAccount account;
  if (!effects.account_inserted) account = *loaded_;
  account.row = effects.account;
  for (const Transaction& tx : effects.transactions) {
    insert_transaction(tx, account.last_transaction_id);
    account.last_transaction_id = tx.id;
  }
  for (const Lot& lot : effects.lots_inserted) {
    write_lot(lot, true, account.last_lot_id);
    account.last_lot_id = lot.id;
  }
  for (const Lot& lot : effects.lots_updated) write_lot(lot, false, 0);
  for (const Allocation& allocation : effects.allocations_inserted)
    write_allocation(allocation, true);
  for (const Allocation& allocation : effects.allocations_updated)
    write_allocation(allocation, false);
  if (const auto& o = effects.order) {
    Statement& s = upsert_order_;
    s.bind(1, o->member_id)
        .bind(2, o->order_id)
        .bind(3, o->amount_minor)
        .bind(4, o->refunded_minor);
    s.bind(5, o->points_earned).bind(6, o->points_clawed_back).bind(7, o->points_spent);
    s.bind(8, o->points_returned).bind(9, o->lot_id).run();
  }
  if (const auto& h = effects.hold) {
    Statement& s = upsert_hold_;
    s.bind(1, h->member_id).bind(2, h->hold_ref).bind(3, h->transaction_id).bind(4, h->points);
    s.bind(5, hold_state_name(h->state)).bind(6, h->expires_at_us).run();
  }
  if (effects.account_inserted)
    accounts_.insert(account);
  else
    accounts_.update(account);
  if (event) {
    insert_event_.bind(1, effects.outcome.transaction_id).bind(2, effects.account.member_id);
    insert_event_.bind(3, event->type).bind(4, event->occurred_at_us).bind(5, event->payload).run();
  }
}

}  // namespace pointsmall::store::sqlite
