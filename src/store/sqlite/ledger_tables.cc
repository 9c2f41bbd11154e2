#include "store/sqlite/ledger_tables.h"

#include <map>
#include <set>

namespace pointsmall::store::sqlite {

using namespace ledger;  // NOLINT(google-build-using-namespace): this file is all ledger rows

const char* const kAccountColumns =
    "member_id, external_id, available, pending, frozen, held, debt, account_frozen, "
    "next_due_us, opened_at_us";
const char* const kLotColumns =
    "id, member_id, transaction_id, amount, remaining, state, earned_at_us, matures_at_us, "
    "expires_at_us, source, order_id, cost_minor";
const char* const kTransactionColumns =
    "id, member_id, kind, at_us, idempotency_key, request_hash, reference, reason, actor, result";
const char* const kHoldColumns =
    "member_id, hold_ref, transaction_id, points, state, expires_at_us";
const char* const kAllocationColumns = "transaction_id, lot_id, member_id, points, returned";
const char* const kOrderColumns =
    "member_id, order_id, amount_minor, refunded_minor, points_earned, points_clawed_back, "
    "points_spent, points_returned";

namespace {

std::string select(const char* columns, const std::string& rest) {
  return std::string("SELECT ") + columns + " " + rest;
}

template <typename Enum>
Enum decode(std::optional<Enum> value, const char* what) {
  if (!value) throw SqliteError(SQLITE_CORRUPT, std::string("unknown ") + what + " in database");
  return *value;
}

}  // namespace

AccountRow read_account(const Statement& row) {
  AccountRow a;
  a.member_id = row.column_int(0);
  a.external_id = row.column_text(1);
  a.available = row.column_int(2);
  a.pending = row.column_int(3);
  a.frozen = row.column_int(4);
  a.held = row.column_int(5);
  a.debt = row.column_int(6);
  a.account_frozen = row.column_int(7) != 0;
  a.next_due_us = row.column_int(8);
  a.opened_at_us = row.column_int(9);
  return a;
}

Lot read_lot(const Statement& row) {
  Lot lot;
  lot.id = row.column_int(0);
  lot.member_id = row.column_int(1);
  lot.transaction_id = row.column_int(2);
  lot.amount = row.column_int(3);
  lot.remaining = row.column_int(4);
  lot.state = decode(lot_state_from_name(row.column_text(5)), "lot state");
  lot.earned_at_us = row.column_int(6);
  lot.matures_at_us = row.column_int(7);
  lot.expires_at_us = row.column_int(8);
  lot.source = row.column_text(9);
  lot.order_id = row.column_text(10);
  lot.cost_minor = row.column_int(11);
  return lot;
}

Transaction read_transaction(const Statement& row) {
  Transaction tx;
  tx.id = row.column_int(0);
  tx.member_id = row.column_int(1);
  tx.kind = decode(transaction_kind_from_name(row.column_text(2)), "transaction kind");
  tx.at_us = row.column_int(3);
  tx.idempotency_key = row.column_text(4);
  tx.request_hash = static_cast<std::uint64_t>(row.column_int(5));
  tx.reference = row.column_text(6);
  tx.reason = row.column_text(7);
  tx.actor = row.column_text(8);
  tx.result = row.column_text(9);
  return tx;
}

Hold read_hold(const Statement& row) {
  Hold hold;
  hold.member_id = row.column_int(0);
  hold.hold_ref = row.column_text(1);
  hold.transaction_id = row.column_int(2);
  hold.points = row.column_int(3);
  hold.state = decode(hold_state_from_name(row.column_text(4)), "hold state");
  hold.expires_at_us = row.column_int(5);
  return hold;
}

Allocation read_allocation(const Statement& row) {
  return Allocation{row.column_int(0), row.column_int(1), row.column_int(2), row.column_int(3),
                    row.column_int(4)};
}

Order read_order(const Statement& row) {
  Order order;
  order.member_id = row.column_int(0);
  order.order_id = row.column_text(1);
  order.amount_minor = row.column_int(2);
  order.refunded_minor = row.column_int(3);
  order.points_earned = row.column_int(4);
  order.points_clawed_back = row.column_int(5);
  order.points_spent = row.column_int(6);
  order.points_returned = row.column_int(7);
  return order;
}

LedgerTables::LedgerTables(Connection& c)
    : find_key_(c.prepare("SELECT request_hash, result FROM transactions "
                          "WHERE idempotency_key = $1")),
      select_account_(c.prepare(select(kAccountColumns, "FROM accounts WHERE member_id = $1"))),
      select_account_by_external_id_(
          c.prepare("SELECT member_id FROM accounts WHERE external_id = $1")),
      select_live_lots_(c.prepare(select(
          kLotColumns,
          "FROM lots WHERE member_id = $1 AND state IN ('pending', 'active', 'frozen')"))),
      select_order_lots_(
          c.prepare(select(kLotColumns, "FROM lots WHERE member_id = $1 AND order_id = $2"))),
      select_lot_(c.prepare(select(kLotColumns, "FROM lots WHERE id = $1 AND member_id = $2"))),
      select_order_(c.prepare(
          select(kOrderColumns, "FROM orders WHERE member_id = $1 AND order_id = $2"))),
      select_hold_(c.prepare(
          select(kHoldColumns, "FROM holds WHERE member_id = $1 AND hold_ref = $2"))),
      select_transaction_(c.prepare(
          select(kTransactionColumns, "FROM transactions WHERE id = $1 AND member_id = $2"))),
      select_allocations_(c.prepare(
          select(kAllocationColumns, "FROM allocations WHERE transaction_id = $1"))),
      select_order_spend_allocations_(c.prepare(
          "SELECT a.transaction_id, a.lot_id, a.member_id, a.points, a.returned "
          "FROM transactions t JOIN allocations a ON a.transaction_id = t.id "
          "WHERE t.member_id = $1 AND t.kind = 'spend' AND t.reference = $2 ORDER BY t.id")),
      insert_account_(c.prepare(
          "INSERT INTO accounts (member_id, external_id, available, pending, frozen, held, debt, "
          "account_frozen, next_due_us, opened_at_us) "
          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")),
      update_account_(c.prepare(
          "UPDATE accounts SET available = $2, pending = $3, frozen = $4, held = $5, debt = $6, "
          "account_frozen = $7 WHERE member_id = $1")),
      // Separate, so that the common update does not rewrite the next_due index entry.
      update_next_due_(c.prepare("UPDATE accounts SET next_due_us = $2 WHERE member_id = $1")),
      insert_transaction_(c.prepare(
          "INSERT INTO transactions (id, member_id, kind, at_us, idempotency_key, request_hash, "
          "reference, reason, actor, result) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")),
      insert_entry_(c.prepare(
          "INSERT INTO entries (transaction_id, seq, member_id, account, amount, lot_id) "
          "VALUES ($1, $2, $3, $4, $5, $6)")),
      insert_lot_(c.prepare(
          "INSERT INTO lots (id, member_id, transaction_id, amount, remaining, state, "
          "earned_at_us, matures_at_us, expires_at_us, source, order_id, cost_minor) "
          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)")),
      update_lot_(c.prepare("UPDATE lots SET remaining = $2, state = $3, expires_at_us = $4 "
                            "WHERE id = $1")),
      insert_allocation_(c.prepare(
          "INSERT INTO allocations (transaction_id, lot_id, member_id, points, returned) "
          "VALUES ($1, $2, $3, $4, $5)")),
      update_allocation_(c.prepare("UPDATE allocations SET returned = $3 "
                                   "WHERE transaction_id = $1 AND lot_id = $2")),
      upsert_order_(c.prepare(
          "INSERT INTO orders (member_id, order_id, amount_minor, refunded_minor, points_earned, "
          "points_clawed_back, points_spent, points_returned) "
          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (member_id, order_id) DO UPDATE "
          "SET amount_minor = excluded.amount_minor, refunded_minor = excluded.refunded_minor, "
          "points_earned = excluded.points_earned, "
          "points_clawed_back = excluded.points_clawed_back, "
          "points_spent = excluded.points_spent, points_returned = excluded.points_returned")),
      upsert_hold_(c.prepare(
          "INSERT INTO holds (member_id, hold_ref, transaction_id, points, state, expires_at_us) "
          "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (member_id, hold_ref) DO UPDATE "
          "SET state = excluded.state")) {}

std::optional<LedgerTables::KeyRecord> LedgerTables::find_key(const std::string& key) {
  StatementScope scope(find_key_);
  find_key_.bind(1, key);
  if (!find_key_.step()) return std::nullopt;
  return KeyRecord{static_cast<std::uint64_t>(find_key_.column_int(0)), find_key_.column_text(1)};
}

void LedgerTables::load_lots_where(Statement& statement, MemberBook& book) {
  StatementScope scope(statement);
  while (statement.step()) {
    Lot lot = read_lot(statement);
    bool seen = false;
    for (const Lot& existing : book.lots) seen = seen || existing.id == lot.id;
    if (!seen) book.lots.push_back(std::move(lot));
  }
}

void LedgerTables::load_allocations_of(TransactionId transaction_id, MemberBook& book) {
  StatementScope scope(select_allocations_);
  select_allocations_.bind(1, transaction_id);
  while (select_allocations_.step()) book.allocations.push_back(read_allocation(select_allocations_));
}

void LedgerTables::load_allocated_lots(MemberBook& book) {
  std::set<LotId> wanted;
  for (const Allocation& allocation : book.allocations) wanted.insert(allocation.lot_id);
  for (const Lot& lot : book.lots) wanted.erase(lot.id);
  for (LotId id : wanted) {
    select_lot_.bind(1, id).bind(2, book.account->member_id);
    load_lots_where(select_lot_, book);
  }
}

MemberBook LedgerTables::load_book(const Command& command, const Policy& policy) {
  MemberBook book;
  if (const auto* open = std::get_if<OpenAccount>(&command.body)) {
    StatementScope scope(select_account_by_external_id_);
    select_account_by_external_id_.bind(1, open->external_id);
    book.external_id_taken = select_account_by_external_id_.step();
    return book;
  }
  {
    StatementScope scope(select_account_);
    select_account_.bind(1, command.member_id);
    if (!select_account_.step()) return book;
    book.account = read_account(select_account_);
  }
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
    select_live_lots_.bind(1, member);
    load_lots_where(select_live_lots_, book);
    book.all_live_lots = true;
  }
  if (!needs.order_id.empty()) {
    {
      StatementScope scope(select_order_);
      select_order_.bind(1, member).bind(2, needs.order_id);
      if (select_order_.step()) book.order = read_order(select_order_);
    }
    select_order_lots_.bind(1, member).bind(2, needs.order_id);
    load_lots_where(select_order_lots_, book);
    if (needs.order_spend_allocations) {
      StatementScope scope(select_order_spend_allocations_);
      select_order_spend_allocations_.bind(1, member).bind(2, needs.order_id);
      while (select_order_spend_allocations_.step())
        book.allocations.push_back(read_allocation(select_order_spend_allocations_));
    }
  }
  if (!needs.hold_ref.empty()) {
    {
      StatementScope scope(select_hold_);
      select_hold_.bind(1, member).bind(2, needs.hold_ref);
      if (select_hold_.step()) book.hold = read_hold(select_hold_);
    }
    if (book.hold && !book.target) load_allocations_of(book.hold->transaction_id, book);
  }
  if (needs.lot_id != 0) {
    select_lot_.bind(1, needs.lot_id).bind(2, member);
    load_lots_where(select_lot_, book);
  }
  load_allocated_lots(book);
  return book;
}

void LedgerTables::insert_transaction(const Transaction& tx) {
  Statement& s = insert_transaction_;
  s.bind(1, tx.id).bind(2, tx.member_id).bind(3, transaction_kind_name(tx.kind)).bind(4, tx.at_us);
  if (tx.idempotency_key.empty()) s.bind_null(5);
  else s.bind(5, tx.idempotency_key);
  s.bind(6, static_cast<std::int64_t>(tx.request_hash)).bind(7, tx.reference).bind(8, tx.reason);
  s.bind(9, tx.actor).bind(10, tx.result);
  s.run();
  std::int64_t seq = 0;
  for (const Entry& entry : tx.entries) {
    Statement& e = insert_entry_;
    e.bind(1, tx.id).bind(2, seq++).bind(3, tx.member_id).bind(4, account_name(entry.account));
    e.bind(5, entry.amount);
    if (entry.lot_id == 0) e.bind_null(6);
    else e.bind(6, entry.lot_id);
    e.run();
  }
}

void LedgerTables::write_lot(const Lot& lot, bool insert) {
  if (!insert) {
    update_lot_.bind(1, lot.id).bind(2, lot.remaining).bind(3, lot_state_name(lot.state));
    update_lot_.bind(4, lot.expires_at_us).run();
    return;
  }
  Statement& s = insert_lot_;
  s.bind(1, lot.id).bind(2, lot.member_id).bind(3, lot.transaction_id).bind(4, lot.amount);
  s.bind(5, lot.remaining).bind(6, lot_state_name(lot.state)).bind(7, lot.earned_at_us);
  s.bind(8, lot.matures_at_us).bind(9, lot.expires_at_us).bind(10, lot.source);
  s.bind(11, lot.order_id).bind(12, lot.cost_minor);
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

void LedgerTables::apply(const Effects& effects) {
  const AccountRow& a = effects.account;
  if (effects.account_inserted) {
    Statement& s = insert_account_;
    s.bind(1, a.member_id).bind(2, a.external_id).bind(3, a.available).bind(4, a.pending);
    s.bind(5, a.frozen).bind(6, a.held).bind(7, a.debt).bind(8, a.account_frozen ? 1 : 0);
    s.bind(9, a.next_due_us).bind(10, a.opened_at_us).run();
  } else {
    Statement& s = update_account_;
    s.bind(1, a.member_id).bind(2, a.available).bind(3, a.pending).bind(4, a.frozen);
    s.bind(5, a.held).bind(6, a.debt).bind(7, a.account_frozen ? 1 : 0).run();
    if (effects.next_due_changed) update_next_due_.bind(1, a.member_id).bind(2, a.next_due_us).run();
  }
  for (const Transaction& tx : effects.transactions) insert_transaction(tx);
  for (const Lot& lot : effects.lots_inserted) write_lot(lot, true);
  for (const Lot& lot : effects.lots_updated) write_lot(lot, false);
  for (const Allocation& allocation : effects.allocations_inserted) write_allocation(allocation, true);
  for (const Allocation& allocation : effects.allocations_updated) write_allocation(allocation, false);
  if (const auto& o = effects.order) {
    Statement& s = upsert_order_;
    s.bind(1, o->member_id).bind(2, o->order_id).bind(3, o->amount_minor).bind(4, o->refunded_minor);
    s.bind(5, o->points_earned).bind(6, o->points_clawed_back).bind(7, o->points_spent);
    s.bind(8, o->points_returned).run();
  }
  if (const auto& h = effects.hold) {
    Statement& s = upsert_hold_;
    s.bind(1, h->member_id).bind(2, h->hold_ref).bind(3, h->transaction_id).bind(4, h->points);
    s.bind(5, hold_state_name(h->state)).bind(6, h->expires_at_us).run();
  }
}

}  // namespace pointsmall::store::sqlite
