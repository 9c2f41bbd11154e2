// Stable names of the ledger's enums (they appear in the database, the API and the CLI), and
// how an entry moves a member's balances.
#include <array>

#include "ledger/ledger.h"
#include "ledger/model.h"

namespace pointsmall::ledger {
namespace {

template <typename Enum, std::size_t N>
std::optional<Enum> from_name(std::string_view name, const std::array<std::string_view, N>& names) {
  for (std::size_t i = 0; i < N; ++i)
    if (names[i] == name) return static_cast<Enum>(i);
  return std::nullopt;
}

template <typename Enum, std::size_t N>
std::string_view name_of(Enum value, const std::array<std::string_view, N>& names) {
  const auto index = static_cast<std::size_t>(value);
  return index < N ? names[index] : std::string_view("unknown");
}

constexpr std::array<std::string_view, 19> kRejectionNames = {
    "invalid_request",     "unknown_member",    "member_exists",        "account_frozen",
    "insufficient_points", "unknown_lot",       "lot_not_freezable",    "lot_not_frozen",
    "hold_exists",         "unknown_hold",      "hold_not_open",        "hold_expired",
    "unknown_order",       "duplicate_order",   "refund_exceeds_order", "unknown_transaction",
    "not_cancellable",     "already_cancelled", "idempotency_conflict"};

constexpr std::array<std::string_view, kAccountCount> kAccountNames = {
    "member_available",    "member_pending", "member_frozen", "member_held",
    "member_debt",         "program_issued", "program_spent", "program_expired",
    "program_clawed_back", "program_revoked"};

constexpr std::array<std::string_view, 5> kLotStateNames = {"pending", "active", "frozen",
                                                            "expired", "reversed"};

constexpr std::array<std::string_view, 16> kTransactionKindNames = {
    "open_account",     "earn",       "spend",        "hold",       "capture", "release",
    "refund",           "cancel",     "adjustment",   "maturation", "expiry",  "freeze_account",
    "unfreeze_account", "freeze_lot", "unfreeze_lot", "event"};

constexpr std::array<std::string_view, 3> kHoldStateNames = {"open", "captured", "released"};

}  // namespace

std::string_view rejection_name(Rejection rejection) {
  return name_of(rejection, kRejectionNames);
}

std::optional<Rejection> rejection_from_name(std::string_view name) {
  return from_name<Rejection>(name, kRejectionNames);
}
std::optional<Account> account_from_name(std::string_view name) {
  return from_name<Account>(name, kAccountNames);
}
std::optional<LotState> lot_state_from_name(std::string_view name) {
  return from_name<LotState>(name, kLotStateNames);
}
std::optional<TransactionKind> transaction_kind_from_name(std::string_view name) {
  return from_name<TransactionKind>(name, kTransactionKindNames);
}
std::optional<HoldState> hold_state_from_name(std::string_view name) {
  return from_name<HoldState>(name, kHoldStateNames);
}

std::string_view account_name(Account account) {
  return name_of(account, kAccountNames);
}
std::string_view lot_state_name(LotState state) {
  return name_of(state, kLotStateNames);
}
std::string_view transaction_kind_name(TransactionKind kind) {
  return name_of(kind, kTransactionKindNames);
}
std::string_view hold_state_name(HoldState state) {
  return name_of(state, kHoldStateNames);
}

bool add_to_row(AccountRow& row, Account account, Points amount) {
  switch (account) {
    case Account::member_available:
      row.available += amount;
      return true;
    case Account::member_pending:
      row.pending += amount;
      return true;
    case Account::member_frozen:
      row.frozen += amount;
      return true;
    case Account::member_held:
      row.held += amount;
      return true;
    case Account::member_debt:
      row.debt -= amount;  // the debt account's balance is minus what is owed
      return true;
    default:
      return false;
  }
}

}  // namespace pointsmall::ledger
