// The ledger's rows as both engines select them: the column lists, and decoders from a row of
// any engine's result. A row type provides column_int(i), column_text(i) and column_is_null(i);
// a free function report_corrupt(row, message), found beside the row type, throws the engine's
// error for a value the ledger cannot read (the store's contract 5: never made-up data).
#pragma once

#include <string>

#include "ledger/model.h"

namespace pointsmall::store {

inline constexpr const char* kAccountColumns =
    "member_id, external_id, available, pending, frozen, held, debt, account_frozen, "
    "next_due_us, opened_at_us, live_lots_from_id";
// kAccountColumns, then the ends of the member's chains of transactions and lots.
inline constexpr const char* kStoredAccountColumns =
    "member_id, external_id, available, pending, frozen, held, debt, account_frozen, "
    "next_due_us, opened_at_us, live_lots_from_id, last_transaction_id, last_lot_id";
// Column 12 is previous_lot_id, the next lot down the member's chain.
inline constexpr const char* kLotColumns =
    "id, member_id, transaction_id, amount, remaining, state, earned_at_us, matures_at_us, "
    "expires_at_us, source, order_id, cost_minor, previous_lot_id";
// Column 10 is previous_id, the next transaction down the member's chain.
inline constexpr const char* kTransactionColumns =
    "id, member_id, kind, at_us, idempotency_key, request_hash, reference, reason, actor, result, "
    "previous_id";
inline constexpr const char* kHoldColumns =
    "member_id, hold_ref, transaction_id, points, state, expires_at_us";
inline constexpr const char* kAllocationColumns =
    "transaction_id, lot_id, member_id, points, returned";
inline constexpr const char* kOrderColumns =
    "member_id, order_id, amount_minor, refunded_minor, points_earned, points_clawed_back, "
    "points_spent, points_returned, lot_id";

template <typename Row, typename Enum>
Enum decode_name(const Row& row, std::optional<Enum> value, const char* what) {
  if (!value) report_corrupt(row, std::string("unknown ") + what + " in database");
  return *value;
}

template <typename Row>
ledger::AccountRow read_account(const Row& row) {
  ledger::AccountRow a;
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
  a.live_lots_from_id = row.column_int(10);
  return a;
}

template <typename Row>
ledger::Lot read_lot(const Row& row) {
  ledger::Lot lot;
  lot.id = row.column_int(0);
  lot.member_id = row.column_int(1);
  lot.transaction_id = row.column_int(2);
  lot.amount = row.column_int(3);
  lot.remaining = row.column_int(4);
  lot.state = decode_name(row, ledger::lot_state_from_name(row.column_text(5)), "lot state");
  lot.earned_at_us = row.column_int(6);
  lot.matures_at_us = row.column_int(7);
  lot.expires_at_us = row.column_int(8);
  lot.source = row.column_text(9);
  lot.order_id = row.column_text(10);
  lot.cost_minor = row.column_int(11);
  return lot;
}

// Without entries.
template <typename Row>
ledger::Transaction read_transaction(const Row& row) {
  ledger::Transaction tx;
  tx.id = row.column_int(0);
  tx.member_id = row.column_int(1);
  tx.kind =
      decode_name(row, ledger::transaction_kind_from_name(row.column_text(2)), "transaction kind");
  tx.at_us = row.column_int(3);
  tx.idempotency_key = row.column_text(4);
  tx.request_hash = static_cast<std::uint64_t>(row.column_int(5));
  tx.reference = row.column_text(6);
  tx.reason = row.column_text(7);
  tx.actor = row.column_text(8);
  tx.result = row.column_text(9);
  return tx;
}

template <typename Row>
ledger::Hold read_hold(const Row& row) {
  ledger::Hold hold;
  hold.member_id = row.column_int(0);
  hold.hold_ref = row.column_text(1);
  hold.transaction_id = row.column_int(2);
  hold.points = row.column_int(3);
  hold.state = decode_name(row, ledger::hold_state_from_name(row.column_text(4)), "hold state");
  hold.expires_at_us = row.column_int(5);
  return hold;
}

template <typename Row>
ledger::Allocation read_allocation(const Row& row) {
  return ledger::Allocation{row.column_int(0), row.column_int(1), row.column_int(2),
                            row.column_int(3), row.column_int(4)};
}

template <typename Row>
ledger::Order read_order(const Row& row) {
  ledger::Order order;
  order.member_id = row.column_int(0);
  order.order_id = row.column_text(1);
  order.amount_minor = row.column_int(2);
  order.refunded_minor = row.column_int(3);
  order.points_earned = row.column_int(4);
  order.points_clawed_back = row.column_int(5);
  order.points_spent = row.column_int(6);
  order.points_returned = row.column_int(7);
  order.lot_id = row.column_int(8);
  return order;
}

// Transaction entries as the journal keeps them: (account, amount, lot_id) in seq order.
template <typename Row>
ledger::Entry read_entry(const Row& row, int first_column) {
  auto account = ledger::account_from_name(row.column_text(first_column));
  if (!account) report_corrupt(row, "unknown account in database");
  return ledger::Entry{*account, row.column_int(first_column + 1),
                       row.column_int(first_column + 2)};
}

}  // namespace pointsmall::store
