#include "store/sqlite/sqlite_audit.h"

#include <unordered_map>

#include "store/sqlite/ledger_tables.h"

namespace pointsmall::store::sqlite {
namespace {

std::size_t index_of(const std::string& account_name) {
  auto account = ledger::account_from_name(account_name);
  if (!account) throw SqliteError(SQLITE_CORRUPT, "unknown account '" + account_name + "'");
  return static_cast<std::size_t>(*account);
}

// Derived figures of every member, keyed by member id.
std::unordered_map<MemberId, ledger::MemberTotals> derive_member_totals(Connection& db) {
  std::unordered_map<MemberId, ledger::MemberTotals> totals;
  Statement journal = db.prepare(
      "SELECT member_id, account, sum(amount) FROM entries "
      "WHERE account LIKE 'member%' GROUP BY member_id, account");
  while (journal.step())
    totals[journal.column_int(0)].journal[index_of(journal.column_text(1))] = journal.column_int(2);
  Statement lots = db.prepare(
      "SELECT member_id, state, sum(remaining) FROM lots "
      "WHERE state IN ('active', 'pending', 'frozen') GROUP BY member_id, state");
  while (lots.step()) {
    ledger::MemberTotals& t = totals[lots.column_int(0)];
    const std::string state = lots.column_text(1);
    (state == "active"    ? t.active_lots
     : state == "pending" ? t.pending_lots
                          : t.frozen_lots) = lots.column_int(2);
  }
  Statement due = db.prepare(
      "SELECT member_id, "
      "min(CASE WHEN state = 'pending' THEN matures_at_us "
      "WHEN state = 'active' AND remaining > 0 THEN expires_at_us END), "
      "min(CASE WHEN state IN ('pending', 'active', 'frozen') AND remaining > 0 THEN id END) "
      "FROM lots GROUP BY member_id");
  while (due.step()) {
    ledger::MemberTotals& t = totals[due.column_int(0)];
    t.next_due_us = due.column_is_null(1) ? kTimeNever : due.column_int(1);
    t.live_lots_from_id = due.column_is_null(2) ? ledger::kNoLiveLot : due.column_int(2);
  }
  Statement holds = db.prepare(
      "SELECT member_id, sum(points) FROM holds WHERE state = 'open' GROUP BY member_id");
  while (holds.step()) totals[holds.column_int(0)].open_holds = holds.column_int(1);
  Statement taken = db.prepare(
      "SELECT h.member_id, sum(a.points - a.returned) FROM holds h "
      "JOIN allocations a ON a.transaction_id = h.transaction_id "
      "WHERE h.state = 'open' GROUP BY h.member_id");
  while (taken.step()) totals[taken.column_int(0)].open_hold_allocations = taken.column_int(1);
  return totals;
}

void audit_members(Connection& db, ledger::Audit& audit) {
  auto totals = derive_member_totals(db);
  Statement accounts = db.prepare(std::string("SELECT ") + kAccountColumns + " FROM accounts");
  while (accounts.step()) audit.check_member_row(read_account(accounts), totals);
  audit.check_members_without_row(totals);
}

void audit_lots(Connection& db, ledger::Audit& audit) {
  std::unordered_map<LotId, std::int64_t> expiries;
  Statement counts = db.prepare(
      "SELECT e.lot_id, count(*) FROM entries e JOIN transactions t ON t.id = e.transaction_id "
      "WHERE t.kind = 'expiry' AND e.account = 'program_expired' GROUP BY e.lot_id");
  while (counts.step()) expiries[counts.column_int(0)] = counts.column_int(1);
  Statement lots = db.prepare(std::string("SELECT ") + kLotColumns + " FROM lots");
  while (lots.step()) {
    ledger::LotFacts facts{read_lot(lots), 0};
    if (auto it = expiries.find(facts.lot.id); it != expiries.end())
      facts.expiry_entries = it->second;
    audit.check_lot(facts);
  }
}

void audit_journal(Connection& db, ledger::Audit& audit) {
  Statement sums = db.prepare(
      "SELECT t.id, coalesce(sum(e.amount), 0) FROM transactions t "
      "LEFT JOIN entries e ON e.transaction_id = t.id GROUP BY t.id");
  while (sums.step()) audit.check_transaction_sum(sums.column_int(0), sums.column_int(1));
  Statement orphans = db.prepare(
      "SELECT e.transaction_id, count(*) FROM entries e "
      "LEFT JOIN transactions t ON t.id = e.transaction_id WHERE t.id IS NULL "
      "GROUP BY e.transaction_id");
  while (orphans.step()) audit.report_orphan_entries(orphans.column_int(0), orphans.column_int(1));
  Statement keys = db.prepare(
      "SELECT idempotency_key, count(*) FROM transactions WHERE idempotency_key IS NOT NULL "
      "GROUP BY idempotency_key HAVING count(*) > 1");
  while (keys.step()) audit.check_duplicate_key(keys.column_text(0), keys.column_int(1));
}

}  // namespace

ledger::Audit audit_database(Connection& db) {
  ledger::Audit audit;
  audit_journal(db, audit);
  audit_members(db, audit);
  audit_lots(db, audit);
  Statement allocations =
      db.prepare(std::string("SELECT ") + kAllocationColumns + " FROM allocations");
  while (allocations.step()) audit.check_allocation(read_allocation(allocations));
  Statement orders = db.prepare(std::string("SELECT ") + kOrderColumns + " FROM orders");
  while (orders.step()) audit.check_order(read_order(orders));
  ledger::AccountBalances all{};
  Statement balances = db.prepare("SELECT account, sum(amount) FROM entries GROUP BY account");
  while (balances.step()) all[index_of(balances.column_text(0))] = balances.column_int(1);
  audit.check_program(all, db.query_int("SELECT sum(remaining) FROM lots WHERE state = 'expired'"));
  return audit;
}

ProgramSummary summarize(Connection& db) {
  ledger::AccountBalances all{};
  Statement balances = db.prepare("SELECT account, sum(amount) FROM entries GROUP BY account");
  while (balances.step()) all[index_of(balances.column_text(0))] = balances.column_int(1);
  ProgramSummary s;
  s.members = db.query_int("SELECT count(*) FROM accounts");
  s.transactions = db.query_int("SELECT count(*) FROM transactions");
  s.lots = db.query_int("SELECT count(*) FROM lots");
  set_balances(s, all);
  return s;
}

}  // namespace pointsmall::store::sqlite
