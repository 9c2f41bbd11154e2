// Re-derivation of balances and the check of the ledger's invariants (model.h), as pure checks
// over totals that a store computes from its rows. `pointsmall check` and the tests use it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ledger/model.h"

namespace pointsmall::ledger {

// One member's stored row beside what its lots, holds and journal entries say.
struct MemberTotals {
  AccountRow row;
  AccountBalances journal{};  // sum of the member's entries per account
  Points active_lots = 0;     // sum of remaining over active lots
  Points pending_lots = 0;
  Points frozen_lots = 0;
  Points open_holds = 0;             // sum of points of open holds
  Points open_hold_allocations = 0;  // points taken for open holds, less what was given back
  // When the engine derives them: next_due_us and live_lots_from_id as the lots say they are.
  std::optional<TimeUs> next_due_us;
  std::optional<LotId> live_lots_from_id;
};

// The smallest figures a check has seen of a lot.
struct LotFacts {
  Lot lot;
  std::int64_t expiry_entries = 0;  // expiry-transaction entries naming this lot
};

class Audit {
 public:
  static constexpr std::size_t kMaxFindings = 1000;  // further findings are only counted

  void check_member(const MemberTotals& totals);
  // Figures an engine derived from lots, holds and journal, by member.
  using DerivedTotals = std::unordered_map<MemberId, MemberTotals>;
  // Checks one stored account row against its derived figures and takes them out of `derived`
  // (a member without lots derives next_due_us = never and no live lot).
  void check_member_row(const AccountRow& row, DerivedTotals& derived);
  // After every row: derived figures left over belong to members without an account row.
  void check_members_without_row(DerivedTotals& derived);
  void check_transaction_sum(TransactionId id, Points sum);
  void check_lot(const LotFacts& facts);
  void check_allocation(const Allocation& allocation);
  void check_order(const Order& order);
  // `all` sums every entry of the journal per account; `expired_lot_remaining` sums remaining over
  // expired lots.
  void check_program(const AccountBalances& all, Points expired_lot_remaining);
  void check_duplicate_key(const std::string& key, std::int64_t uses);
  // Entries whose transaction is missing from the journal.
  void report_orphan_entries(TransactionId id, std::int64_t count);

  [[nodiscard]] bool clean() const { return finding_count_ == 0; }
  [[nodiscard]] std::int64_t finding_count() const { return finding_count_; }
  [[nodiscard]] const std::vector<std::string>& findings() const { return findings_; }
  [[nodiscard]] std::int64_t members_checked() const { return members_; }
  [[nodiscard]] std::int64_t lots_checked() const { return lots_; }
  [[nodiscard]] std::int64_t transactions_checked() const { return transactions_; }
  [[nodiscard]] const AccountBalances& program_balances() const { return program_; }

 private:
  void report(std::string finding);

  std::vector<std::string> findings_;
  std::int64_t finding_count_ = 0;
  std::int64_t members_ = 0;
  std::int64_t lots_ = 0;
  std::int64_t transactions_ = 0;
  AccountBalances program_{};
};

}  // namespace pointsmall::ledger
