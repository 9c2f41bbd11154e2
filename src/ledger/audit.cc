#include "ledger/audit.h"

namespace pointsmall::ledger {
namespace {

std::string member_label(MemberId id) {
  return "member " + std::to_string(id) + ": ";
}

std::string differs(std::string_view what, Points stored, Points derived) {
  return std::string(what) + " is " + std::to_string(stored) + " but re-derives to " +
         std::to_string(derived);
}

Points at(const AccountBalances& balances, Account account) {
  return balances[static_cast<std::size_t>(account)];
}

}  // namespace

void Audit::report(std::string finding) {
  ++finding_count_;
  if (findings_.size() < kMaxFindings) findings_.push_back(std::move(finding));
}

void Audit::check_member(const MemberTotals& t) {
  ++members_;
  const AccountRow& row = t.row;
  const std::string who = member_label(row.member_id);
  auto compare = [&](std::string_view what, Points stored, Points from_journal, Points from_lots) {
    if (stored != from_journal)
      report(who + differs(std::string(what) + " (journal)", stored, from_journal));
    if (stored != from_lots)
      report(who + differs(std::string(what) + " (lots)", stored, from_lots));
  };
  compare("available", row.available, at(t.journal, Account::member_available), t.active_lots);
  compare("pending", row.pending, at(t.journal, Account::member_pending), t.pending_lots);
  compare("frozen", row.frozen, at(t.journal, Account::member_frozen), t.frozen_lots);
  compare("held", row.held, at(t.journal, Account::member_held), t.open_holds);
  if (t.open_holds != t.open_hold_allocations)
    report(who + differs("open holds' points", t.open_holds, t.open_hold_allocations));
  if (row.debt != -at(t.journal, Account::member_debt))
    report(who + differs("debt (journal)", row.debt, -at(t.journal, Account::member_debt)));
  if (t.next_due_us && *t.next_due_us != row.next_due_us)
    report(who + differs("next_due_us", row.next_due_us, *t.next_due_us));
  if (t.live_lots_from_id && *t.live_lots_from_id != row.live_lots_from_id)
    report(who + differs("live_lots_from_id", row.live_lots_from_id, *t.live_lots_from_id));
  if (row.available < 0) report(who + "available balance is negative");
  if (row.pending < 0 || row.frozen < 0 || row.held < 0) report(who + "a balance is negative");
  if (row.debt < 0) report(who + "debt is negative");
}

void Audit::check_member_row(const AccountRow& row, DerivedTotals& derived) {
  MemberTotals t;
  if (auto it = derived.find(row.member_id); it != derived.end()) {
    t = std::move(it->second);
    derived.erase(it);
  }
  if (!t.next_due_us) t.next_due_us = kTimeNever;
  if (!t.live_lots_from_id) t.live_lots_from_id = kNoLiveLot;
  t.row = row;
  check_member(t);
}

void Audit::check_members_without_row(DerivedTotals& derived) {
  for (auto& [member_id, t] : derived) {
    t.row = AccountRow{};
    t.row.member_id = member_id;
    check_member(t);
  }
  derived.clear();
}

void Audit::check_transaction_sum(TransactionId id, Points sum) {
  ++transactions_;
  if (sum != 0)
    report("transaction " + std::to_string(id) + ": entries sum to " + std::to_string(sum) +
           ", not 0");
}

void Audit::check_lot(const LotFacts& facts) {
  ++lots_;
  const Lot& lot = facts.lot;
  const std::string which = "lot " + std::to_string(lot.id) + ": ";
  if (lot.remaining < 0 || lot.remaining > lot.amount)
    report(which + "remaining " + std::to_string(lot.remaining) + " outside 0.." +
           std::to_string(lot.amount));
  if (facts.expiry_entries > 1)
    report(which + "expired " + std::to_string(facts.expiry_entries) + " times");
  if (facts.expiry_entries == 1 && lot.state != LotState::expired &&
      lot.state != LotState::reversed)
    report(which + "has an expiry entry but is " + std::string(lot_state_name(lot.state)));
}

void Audit::check_allocation(const Allocation& a) {
  if (a.points <= 0 || a.returned < 0 || a.returned > a.points)
    report("allocation of transaction " + std::to_string(a.transaction_id) + " to lot " +
           std::to_string(a.lot_id) + ": returned " + std::to_string(a.returned) + " of " +
           std::to_string(a.points));
}

void Audit::check_order(const Order& o) {
  const std::string which =
      "order " + o.order_id + " of member " + std::to_string(o.member_id) + ": ";
  if (o.refunded_minor < 0 || o.refunded_minor > o.amount_minor)
    report(which + "refunded " + std::to_string(o.refunded_minor) + " of " +
           std::to_string(o.amount_minor));
  if (o.points_clawed_back < 0 || o.points_clawed_back > o.points_earned)
    report(which + "clawed back " + std::to_string(o.points_clawed_back) + " of " +
           std::to_string(o.points_earned) + " earned");
  if (o.points_returned < 0 || o.points_returned > o.points_spent)
    report(which + "returned " + std::to_string(o.points_returned) + " of " +
           std::to_string(o.points_spent) + " spent");
}

void Audit::check_program(const AccountBalances& all, Points expired_lot_remaining) {
  program_ = all;
  Points total = 0;
  for (Points balance : all) total += balance;
  if (total != 0) report("program: all accounts sum to " + std::to_string(total) + ", not 0");
  if (at(all, Account::program_expired) != expired_lot_remaining)
    report("program: " +
           differs("expired", at(all, Account::program_expired), expired_lot_remaining));
  for (Account account : {Account::program_spent, Account::program_expired,
                          Account::program_clawed_back, Account::program_revoked})
    if (at(all, account) < 0)
      report("program: " + std::string(account_name(account)) + " is negative");
  if (at(all, Account::program_issued) > 0) report("program: more points returned than issued");
}

void Audit::check_duplicate_key(const std::string& key, std::int64_t uses) {
  report("idempotency key '" + key + "' has " + std::to_string(uses) + " transactions");
}

void Audit::report_orphan_entries(TransactionId id, std::int64_t count) {
  report(std::to_string(count) + " entries name transaction " + std::to_string(id) +
         ", which is not in the journal");
}

}  // namespace pointsmall::ledger
