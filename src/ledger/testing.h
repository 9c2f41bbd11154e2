// Test-only: an in-memory book keeper for tests of the pure ledger.
//
// It keeps the rows a store keeps (accounts, journal, lots, holds, allocations, orders), loads a
// MemberBook for a command the way the SQLite store does (store/sqlite/ledger_tables.cc: only what
// needs_for asks for, plus the allocated lots), applies Effects the way the store writes them
// (lot updates change remaining, state and expires_at only; hold upserts change the state only),
// and answers a repeated idempotency key with replay_or_conflict. It audits its rows with
// ledger/audit.h the way `pointsmall check` does.
//
// Contract: a rejected or replayed command leaves the rows exactly as they were. Effects that a
// real store would refuse (a duplicate id or key, an update of a row that does not exist) throw
// std::logic_error, so a test fails loudly instead of drifting.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "ledger/audit.h"
#include "ledger/ledger.h"

namespace pointsmall::ledger::testing {

// Everything the keeper stores; comparable, so that a test can assert "nothing changed".
struct Rows {
  std::map<MemberId, AccountRow> accounts;
  std::map<TransactionId, Transaction> journal;
  std::map<LotId, Lot> lots;
  std::map<std::pair<MemberId, std::string>, Hold> holds;
  std::map<std::pair<TransactionId, LotId>, Allocation> allocations;
  std::map<std::pair<MemberId, std::string>, Order> orders;
  friend bool operator==(const Rows&, const Rows&) = default;
};

// What the caller of a store sees.
struct Result {
  std::optional<Rejection> rejection;
  Outcome outcome;
  bool replayed = false;
  [[nodiscard]] bool ok() const { return !rejection; }
};

inline Points balance_of(const AccountBalances& balances, Account account) {
  return balances[static_cast<std::size_t>(account)];
}

class BookKeeper {
 public:
  explicit BookKeeper(Policy policy = {}) : policy_(std::move(policy)) {}

  [[nodiscard]] const Policy& policy() const { return policy_; }
  Rows rows;

  // Runs one command as a store does: a known key is replayed or refused, anything else is
  // decided against the loaded book and, when accepted, applied.
  Result execute(const Command& command) {
    for (const auto& [id, tx] : rows.journal) {
      if (tx.idempotency_key.empty() || tx.idempotency_key != command.idempotency_key) continue;
      const Replay replay = replay_or_conflict(command, tx.request_hash, tx.result);
      return Result{replay.rejection, replay.outcome, true};
    }
    const Decision decision = decide(load(command), command, policy_, ids_);
    if (decision.rejection) return Result{decision.rejection, {}, false};
    apply(decision.effects);
    return Result{std::nullopt, decision.effects.outcome, false};
  }

  // The member's book for `command`, as the SQLite store loads it.
  [[nodiscard]] MemberBook load(const Command& command) const {
    MemberBook book;
    if (const auto* open = std::get_if<OpenAccount>(&command.body)) {
      for (const auto& [id, row] : rows.accounts)
        book.external_id_taken = book.external_id_taken || row.external_id == open->external_id;
      return book;
    }
    const MemberId member = command.member_id;
    const auto account = rows.accounts.find(member);
    if (account == rows.accounts.end()) return book;
    book.account = account->second;
    Needs needs = needs_for(command, book.account, policy_);
    if (needs.transaction_id != 0) {
      const auto target = rows.journal.find(needs.transaction_id);
      if (target != rows.journal.end() && target->second.member_id == member) {
        book.target = target->second;
        add_allocations_of(book.target->id, book);
        if (book.target->kind == TransactionKind::spend) needs.order_id = book.target->reference;
        if (book.target->kind == TransactionKind::hold) needs.hold_ref = book.target->reference;
      }
    }
    if (needs.live_lots) {
      for (const auto& [id, lot] : rows.lots)
        if (lot.member_id == member && lot.state != LotState::expired &&
            lot.state != LotState::reversed)
          add_lot(lot, book);
      book.all_live_lots = true;
    }
    if (!needs.order_id.empty()) {
      if (auto order = rows.orders.find({member, needs.order_id}); order != rows.orders.end())
        book.order = order->second;
      for (const auto& [id, lot] : rows.lots)
        if (lot.member_id == member && lot.order_id == needs.order_id) add_lot(lot, book);
      if (needs.order_spend_allocations) {
        for (const auto& [id, tx] : rows.journal)
          if (tx.member_id == member && tx.kind == TransactionKind::spend &&
              tx.reference == needs.order_id)
            add_allocations_of(tx.id, book);
      }
    }
    if (!needs.hold_ref.empty()) {
      if (auto hold = rows.holds.find({member, needs.hold_ref}); hold != rows.holds.end())
        book.hold = hold->second;
      if (book.hold && !book.target) add_allocations_of(book.hold->transaction_id, book);
    }
    if (needs.lot_id != 0) {
      if (auto lot = rows.lots.find(needs.lot_id);
          lot != rows.lots.end() && lot->second.member_id == member)
        add_lot(lot->second, book);
    }
    for (const Allocation& allocation : book.allocations)
      if (auto lot = rows.lots.find(allocation.lot_id); lot != rows.lots.end())
        add_lot(lot->second, book);
    return book;
  }

  // Writes accepted effects as the SQLite store does.
  void apply(const Effects& effects) {
    const AccountRow& a = effects.account;
    if (effects.account_inserted) {
      if (rows.accounts.count(a.member_id)) fail("account inserted twice");
      for (const auto& [id, row] : rows.accounts)
        if (row.external_id == a.external_id) fail("external id taken");
      rows.accounts[a.member_id] = a;
    } else {
      auto it = rows.accounts.find(a.member_id);
      if (it == rows.accounts.end()) fail("update of a missing account");
      AccountRow& row = it->second;
      row.available = a.available, row.pending = a.pending, row.frozen = a.frozen;
      row.held = a.held, row.debt = a.debt, row.account_frozen = a.account_frozen;
      row.next_due_us = a.next_due_us;
    }
    for (const Transaction& tx : effects.transactions) {
      if (rows.journal.count(tx.id)) fail("transaction id used twice");
      for (const auto& [id, other] : rows.journal)
        if (!tx.idempotency_key.empty() && other.idempotency_key == tx.idempotency_key)
          fail("idempotency key used twice");
      rows.journal[tx.id] = tx;
    }
    for (const Lot& lot : effects.lots_inserted) {
      if (rows.lots.count(lot.id)) fail("lot inserted twice");
      rows.lots[lot.id] = lot;
    }
    for (const Lot& lot : effects.lots_updated) {
      auto it = rows.lots.find(lot.id);
      if (it == rows.lots.end()) fail("update of a missing lot");
      it->second.remaining = lot.remaining;
      it->second.state = lot.state;
      it->second.expires_at_us = lot.expires_at_us;
    }
    for (const Allocation& allocation : effects.allocations_inserted) {
      if (!rows.allocations.emplace(key_of(allocation), allocation).second)
        fail("allocation inserted twice");
    }
    for (const Allocation& allocation : effects.allocations_updated) {
      auto it = rows.allocations.find(key_of(allocation));
      if (it == rows.allocations.end()) fail("update of a missing allocation");
      it->second.returned = allocation.returned;
    }
    if (const auto& order = effects.order)
      rows.orders[{order->member_id, order->order_id}] = *order;
    if (const auto& hold = effects.hold) {
      auto [it, inserted] = rows.holds.try_emplace({hold->member_id, hold->hold_ref}, *hold);
      if (!inserted) it->second.state = hold->state;
    }
  }

  // The member's lots in id order.
  [[nodiscard]] std::vector<Lot> lots_of(MemberId member) const {
    std::vector<Lot> out;
    for (const auto& [id, lot] : rows.lots)
      if (lot.member_id == member) out.push_back(lot);
    return out;
  }
  // The sum of every journal entry per account, for one member (0: everyone).
  [[nodiscard]] AccountBalances balances(MemberId member = 0) const {
    AccountBalances sums{};
    for (const auto& [id, tx] : rows.journal)
      if (member == 0 || tx.member_id == member)
        for (const Entry& entry : tx.entries)
          sums[static_cast<std::size_t>(entry.account)] += entry.amount;
    return sums;
  }

  // Every check of audit.h over the keeper's rows, fed as `pointsmall check` feeds it.
  [[nodiscard]] Audit audit() const {
    Audit audit;
    std::map<LotId, std::int64_t> expiry_entries;
    AccountBalances all{};
    for (const auto& [id, tx] : rows.journal) {
      Points sum = 0;
      for (const Entry& entry : tx.entries) {
        sum += entry.amount;
        all[static_cast<std::size_t>(entry.account)] += entry.amount;
        if (tx.kind == TransactionKind::expiry && entry.account == Account::program_expired)
          ++expiry_entries[entry.lot_id];
      }
      audit.check_transaction_sum(id, sum);
    }
    std::map<MemberId, MemberTotals> totals;
    for (const auto& [id, row] : rows.accounts) totals[id].row = row;
    for (const auto& [id, tx] : rows.journal)
      for (const Entry& entry : tx.entries)
        if (static_cast<std::size_t>(entry.account) < kMemberAccountCount)
          totals[tx.member_id].journal[static_cast<std::size_t>(entry.account)] += entry.amount;
    Points expired_remaining = 0;
    for (const auto& [id, lot] : rows.lots) {
      MemberTotals& t = totals[lot.member_id];
      if (lot.state == LotState::active) t.active_lots += lot.remaining;
      if (lot.state == LotState::pending) t.pending_lots += lot.remaining;
      if (lot.state == LotState::frozen) t.frozen_lots += lot.remaining;
      if (lot.state == LotState::expired) expired_remaining += lot.remaining;
      const auto count = expiry_entries.find(id);
      audit.check_lot(LotFacts{lot, count == expiry_entries.end() ? 0 : count->second});
    }
    for (const auto& [key, hold] : rows.holds) {
      if (hold.state != HoldState::open) continue;
      totals[hold.member_id].open_holds += hold.points;
      for (const auto& [akey, allocation] : rows.allocations)
        if (allocation.transaction_id == hold.transaction_id)
          totals[hold.member_id].open_hold_allocations += allocation.points - allocation.returned;
    }
    for (auto& [id, t] : totals) {
      t.row.member_id = id;  // a member with rows but no account is checked against zeros
      audit.check_member(t);
    }
    for (const auto& [key, allocation] : rows.allocations) audit.check_allocation(allocation);
    for (const auto& [key, order] : rows.orders) audit.check_order(order);
    audit.check_program(all, expired_remaining);
    return audit;
  }

 private:
  [[noreturn]] static void fail(const std::string& what) {
    throw std::logic_error("a store would refuse these effects: " + what);
  }
  static std::pair<TransactionId, LotId> key_of(const Allocation& allocation) {
    return {allocation.transaction_id, allocation.lot_id};
  }
  static void add_lot(const Lot& lot, MemberBook& book) {
    for (const Lot& existing : book.lots)
      if (existing.id == lot.id) return;
    book.lots.push_back(lot);
  }
  void add_allocations_of(TransactionId transaction_id, MemberBook& book) const {
    for (const auto& [key, allocation] : rows.allocations)
      if (allocation.transaction_id == transaction_id) book.allocations.push_back(allocation);
  }

  Policy policy_;
  SequentialIds ids_;
};

}  // namespace pointsmall::ledger::testing
