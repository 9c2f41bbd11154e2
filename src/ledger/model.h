// The ledger's data: accounts, lots, journal transactions, holds, allocations and orders.
//
// Points are never a balance that code reads, changes and writes back. They live in lots (one
// grant each) and move only by journal transactions whose entries sum to zero (double entry).
// The balances in AccountRow are a projection of lots and journal, kept for speed and always
// re-derivable (see audit.h).
//
// Invariants (checked by audit.h, the tests, the simulation and `pointsmall check`):
//  1. Each transaction's entries sum to zero; all accounts together sum to zero.
//  2. available == sum of `remaining` over the member's active lots, and is never negative; pending
//     and frozen likewise over pending and frozen lots; held == points of the member's open holds.
//     Debt is its own account: AccountRow::debt == -(sum of the member_debt entries) >= 0.
//  3. For every lot 0 <= remaining <= amount; a lot expires at most once.
//  4. issued == available + pending + frozen + held + spent + expired + clawed back + revoked -
//  debt.
//  5. One effect per idempotency key.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/types.h"

namespace pointsmall::ledger {

inline constexpr LotId kNoLiveLot = INT64_MAX;

// The accounts of the double-entry journal. The first five belong to a member; the others to the
// program as a whole. A grant moves points from program_issued to a member; a spend from the member
// to program_spent; and so on.
enum class Account : std::uint8_t {
  member_available,     // spendable now
  member_pending,       // earned, waiting for the return window to close
  member_frozen,        // set aside by an operator (fraud review)
  member_held,          // reserved for a redemption, not yet captured
  member_debt,          // negative balance: points clawed back after they were spent
  program_issued,       // every grant comes from here (its balance is minus all points ever issued)
  program_spent,        // redeemed points
  program_expired,      // expired points
  program_clawed_back,  // points taken back because an order was refunded
  program_revoked,      // points removed by an operator's negative adjustment
};
inline constexpr std::size_t kAccountCount = 10;
inline constexpr std::size_t kMemberAccountCount = 5;
std::string_view account_name(Account account);
std::optional<Account> account_from_name(std::string_view name);
// Balances of all accounts, indexed by Account.
using AccountBalances = std::array<Points, kAccountCount>;

enum class LotState : std::uint8_t {
  pending,   // not spendable until matures_at
  active,    // spendable until expires_at
  frozen,    // set aside by an operator
  expired,   // its remaining points expired (once, at expires_at)
  reversed,  // emptied by a refund clawback
};
std::string_view lot_state_name(LotState state);
std::optional<LotState> lot_state_from_name(std::string_view name);

// One grant of points.
struct Lot {
  LotId id = 0;
  MemberId member_id = 0;
  TransactionId transaction_id = 0;  // the transaction that granted it
  Points amount = 0;                 // as granted; never changes
  Points remaining = 0;              // not yet spent, expired or clawed back
  LotState state = LotState::active;
  TimeUs earned_at_us = 0;
  TimeUs matures_at_us = 0;  // pending until then
  TimeUs expires_at_us = kTimeNever;
  std::string source;         // what earned it: "purchase", "adjustment", "checkin", ...
  std::string order_id;       // the order a refund of which claws it back; may be empty
  MinorUnits cost_minor = 0;  // the merchant's money cost of the grant, 0 when unknown
  friend bool operator==(const Lot&, const Lot&) = default;
};

enum class TransactionKind : std::uint8_t {
  open_account,
  earn,
  spend,
  hold,
  capture,
  release,
  refund,
  cancel,
  adjustment,
  maturation,
  expiry,
  freeze_account,
  unfreeze_account,
  freeze_lot,
  unfreeze_lot,
  event,  // an event recorded without points (its rules award nothing yet)
};
std::string_view transaction_kind_name(TransactionKind kind);
std::optional<TransactionKind> transaction_kind_from_name(std::string_view name);

struct Entry {
  Account account = Account::member_available;
  Points amount = 0;  // positive adds to the account, negative takes from it
  LotId lot_id = 0;   // the lot whose points moved; 0 for none
  friend bool operator==(const Entry&, const Entry&) = default;
};

// One journal transaction. Every transaction says why: its kind, the command's reason and actor,
// and the order, hold or transaction it concerns.
struct Transaction {
  TransactionId id = 0;
  MemberId member_id = 0;
  TransactionKind kind = TransactionKind::earn;
  TimeUs at_us = 0;
  std::string idempotency_key;  // empty for housekeeping (maturation, expiry) done on the way
  std::uint64_t request_hash = 0;
  std::string reference;  // order id, hold reference or cancelled transaction id
  std::string reason;     // why, in words: the event, the rule, the operator's reason
  std::string actor;      // who: "import", "api-key:shop", "operator:alice", "system"
  std::vector<Entry> entries;
  std::string result;  // the encoded Outcome, replayed for a repeated idempotency key
  friend bool operator==(const Transaction&, const Transaction&) = default;
};

enum class HoldState : std::uint8_t { open, captured, released };
std::string_view hold_state_name(HoldState state);
std::optional<HoldState> hold_state_from_name(std::string_view name);

// Points reserved for a redemption: held, then captured on fulfilment or released on cancel.
struct Hold {
  MemberId member_id = 0;
  std::string hold_ref;  // the caller's reference, unique per member (e.g. a redemption id)
  TransactionId transaction_id = 0;  // the hold transaction; its allocations name the lots
  Points points = 0;
  HoldState state = HoldState::open;
  TimeUs expires_at_us = kTimeNever;  // released by `expire` after this time if still open
  friend bool operator==(const Hold&, const Hold&) = default;
};

// Points that a spend, hold or negative adjustment took from one lot. A cancel or refund gives
// them back to the same lot and counts them in `returned`.
struct Allocation {
  TransactionId transaction_id = 0;
  LotId lot_id = 0;
  MemberId member_id = 0;
  Points points = 0;
  Points returned = 0;  // 0 <= returned <= points
  friend bool operator==(const Allocation&, const Allocation&) = default;
};

// What the ledger knows of a shop order: what it earned, what paid for it in points and what of it
// was refunded. Refunds claw back pro rata: after refunding R of amount A, the order has given back
// floor(points_earned * R / A) earned points and returned floor(points_spent * R / A) spent ones.
struct Order {
  MemberId member_id = 0;
  std::string order_id;
  MinorUnits amount_minor = 0;  // 0 until the purchase is reported
  MinorUnits refunded_minor = 0;
  Points points_earned = 0;
  Points points_clawed_back = 0;  // includes any part absorbed by the merchant
  Points points_spent = 0;        // points used to pay for the order
  Points points_returned = 0;
  LotId lot_id = 0;  // the lot the purchase granted; 0 before the purchase
  friend bool operator==(const Order&, const Order&) = default;
};

// The stored projection of a member's points, plus the account's own state.
struct AccountRow {
  MemberId member_id = 0;
  std::string external_id;  // the merchant's id for the member; unique
  Points available = 0;
  Points pending = 0;
  Points frozen = 0;
  Points held = 0;
  Points debt = 0;  // owed points, >= 0
  bool account_frozen = false;
  // The earliest time at which a lot of this member matures or expires (kTimeNever for none):
  // the minimum over pending lots' matures_at and over active lots with points left of their
  // expires_at. Exact, so that it can be re-derived from the lots; lets an operation skip loading
  // lots when nothing is due.
  TimeUs next_due_us = kTimeNever;
  // Every pending, active or frozen lot of the member with points left has an id at least this
  // (kNoLiveLot: none has). Exact like next_due_us; lets a store skip the member's dead lots.
  LotId live_lots_from_id = kNoLiveLot;
  TimeUs opened_at_us = 0;
  friend bool operator==(const AccountRow&, const AccountRow&) = default;
};

// Adds an entry's amount to the member's balance it names. Returns false, changing nothing, for a
// program account (it has no row).
bool add_to_row(AccountRow& row, Account account, Points amount);

}  // namespace pointsmall::ledger
