// The ledger's decisions: pure functions from a member's state, a command, the program's policy
// and the time to the effects the store must apply, or a named rejection.
//
// Nothing here does I/O, reads a clock or takes a lock. The store loads a MemberBook (what
// `needs_for` asks for), calls `decide`, and writes the returned Effects in one savepoint.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ledger/model.h"
#include "ledger/policy.h"

namespace pointsmall::ledger {

// Every way the ledger refuses a command. The names are stable: the API returns them as the
// problem type.
enum class Rejection : std::uint8_t {
  invalid_request,  // a field is out of range (non-positive points, empty key, ...)
  unknown_member,
  member_exists,  // open_account for an external id that already has an account
  account_frozen,
  insufficient_points,
  unknown_lot,
  lot_not_freezable,  // only pending and active lots can be frozen
  lot_not_frozen,
  hold_exists,
  unknown_hold,
  hold_not_open,
  hold_expired,
  unknown_order,
  duplicate_order,  // a second purchase event for an order that already earned points
  refund_exceeds_order,
  unknown_transaction,
  not_cancellable,  // only spends and holds can be cancelled
  already_cancelled,
  idempotency_conflict,  // the key was used before with a different request
};
std::string_view rejection_name(Rejection rejection);
// Inverse of rejection_name; nullopt for an unknown name.
std::optional<Rejection> rejection_from_name(std::string_view name);

// ---- Commands ---------------------------------------------------------------------------------

struct OpenAccount {
  std::string external_id;  // the merchant's member id; 1..128 characters
};
struct Earn {
  Points points = 0;                  // > 0, or 0 for an order that earns nothing (recorded only)
  std::string source;                 // "purchase", "checkin", ...; 1..64 characters
  std::string order_id;               // for purchases: the order a refund claws back from
  MinorUnits order_amount_minor = 0;  // the order's amount, > 0 when order_id is set
  MinorUnits cost_minor = 0;          // the merchant's cost of these points, >= 0
  TimeUs matures_at_us = 0;           // pending until then; <= now means available at once
  TimeUs expires_at_us = 0;           // 0: from the program's expiry policy
};
struct Spend {
  Points points = 0;     // > 0
  std::string order_id;  // set when the points pay for a shop order; its refund returns them
};
struct PlaceHold {
  std::string hold_ref;  // 1..128 characters, unique per member
  Points points = 0;     // > 0
  TimeUs expires_at_us = kTimeNever;
};
struct CaptureHold {
  std::string hold_ref;
};
struct ReleaseHold {
  std::string hold_ref;
};
struct Refund {
  std::string order_id;
  MinorUnits amount_minor = 0;  // > 0; all refunds of an order together <= its amount
};
// Undoes a spend, or a redemption's hold (open or captured): points go back to the same lots.
struct CancelTransaction {
  TransactionId transaction_id = 0;
};
struct Adjust {
  Points points = 0;  // != 0; positive grants a lot, negative takes like a spend
};
// Matures and expires what is due up to the command's time (timed-out holds are released by
// ReleaseHold commands of the expiry run, see `pointsmall expire`).
struct Settle {};
struct FreezeAccount {};
struct UnfreezeAccount {};
struct FreezeLot {
  LotId lot_id = 0;
};
struct UnfreezeLot {
  LotId lot_id = 0;
};
// Records an event that earns nothing (yet): a transaction without entries, so the event has an
// idempotency key, a place in the member's history and a reason.
struct RecordEvent {
  std::string type;  // "checkin", "share", ...; 1..64 characters
};

using CommandBody = std::variant<OpenAccount, Earn, Spend, PlaceHold, CaptureHold, ReleaseHold,
                                 Refund, CancelTransaction, Adjust, Settle, FreezeAccount,
                                 UnfreezeAccount, FreezeLot, UnfreezeLot, RecordEvent>;

// An event as the API received it. The store keeps it with the command's own transaction, in the
// same savepoint, so that the earning engine can replay what members did.
struct EventRecord {
  std::string type;           // "purchase", "checkin", ...; 1..64 characters
  TimeUs occurred_at_us = 0;  // when it happened, as the merchant says
  std::string payload;        // the request body (JSON); at most 64 KiB
  friend bool operator==(const EventRecord&, const EventRecord&) = default;
};

struct Command {
  std::string idempotency_key;  // 1..128 characters; the same key replays the first result
  MemberId member_id = 0;       // 0 only for OpenAccount
  TimeUs at_us = 0;             // when it happens; the ledger's only notion of time
  std::string actor;            // who asks: "import", "api-key:shop", "operator:alice"
  std::string reason;           // why, in words; required for Adjust and the freezes
  CommandBody body;
  std::optional<EventRecord> event;  // kept with the transaction when the command is accepted
  // A digest of the request as the client sent it (e.g. the HTTP body). When not 0 it stands for
  // the command in idempotency checks, so that a retry matches even though values the server
  // derived from its clock (maturity, occurrence time) differ.
  std::uint64_t client_request_hash = 0;
};

std::string_view command_name(const CommandBody& body);
// A digest of everything in the command but its time, so that a retry sent later still matches;
// the client's digest instead when the command carries one.
std::uint64_t request_hash(const Command& command);
// Checks field ranges and lengths; nullopt when the command is well formed.
std::optional<Rejection> validate(const Command& command);

// ---- What a decision needs and returns --------------------------------------------------------

// Which parts of a member's state the store must load for a command (the account row always).
struct Needs {
  bool live_lots = false;  // every pending, active and frozen lot of the member
  std::string order_id;    // that order and all of its lots
  std::string hold_ref;    // that hold, its allocations and their lots
  // That transaction, its allocations and their lots, and what it refers to: for a spend its
  // order (by the transaction's reference), for a hold the hold.
  TransactionId transaction_id = 0;
  bool order_spend_allocations = false;  // allocations of spends that paid for order_id (+ lots)
  LotId lot_id = 0;                      // that lot
};
// `account` is the member's current row (nullopt for OpenAccount).
Needs needs_for(const Command& command, const std::optional<AccountRow>& account,
                const Policy& policy);

// A member's state as loaded by the store for one command.
struct MemberBook {
  std::optional<AccountRow> account;  // nullopt: no such member
  std::vector<Lot> lots;              // unique by id; what Needs asked for (and possibly more)
  bool all_live_lots = false;         // lots holds every pending, active and frozen lot
  std::optional<Order> order;
  std::optional<Hold> hold;
  std::optional<Transaction> target;  // the transaction a CancelTransaction names
  std::vector<Allocation> allocations;
  bool external_id_taken = false;  // for OpenAccount: another member has that external id
};

// Fresh identifiers for what a decision creates. The store hands them out, each kind ascending
// (a new lot id is above every existing one); gaps are allowed.
class IdSource {
 public:
  virtual ~IdSource() = default;
  virtual MemberId next_member_id() = 0;
  virtual TransactionId next_transaction_id() = 0;
  virtual LotId next_lot_id() = 0;
};

// Ids 1, 2, 3, ... of each kind, continuing after the given last ones. A copy is a mark to go back
// to: assigning it back gives the ids handed out since to the next command.
class SequentialIds final : public IdSource {
 public:
  SequentialIds() = default;
  SequentialIds(MemberId last_member, TransactionId last_transaction, LotId last_lot)
      : member_(last_member), transaction_(last_transaction), lot_(last_lot) {}
  MemberId next_member_id() override { return ++member_; }
  TransactionId next_transaction_id() override { return ++transaction_; }
  LotId next_lot_id() override { return ++lot_; }

 private:
  MemberId member_ = 0;
  TransactionId transaction_ = 0;
  LotId lot_ = 0;
};

// What the caller sees of an accepted command. Replayed as is for a repeated idempotency key.
struct Outcome {
  TransactionId transaction_id = 0;  // the command's own transaction
  MemberId member_id = 0;
  // The headline change for the member: points earned (+), spent or held (-), clawed back (-),
  // returned (+), adjusted (+/-); 0 for the freezes.
  Points points = 0;
  Points points_returned = 0;  // refunds: points that had paid for the order, given back
  Points debt_added = 0;       // clawback the member could not cover, now owed
  Points absorbed = 0;         // clawback the merchant absorbed by policy
  Points debt_repaid = 0;      // earn: points that went to pay back debt
  bool pending = false;        // earn: the points wait for matures_at
  Points available_after = 0;
  Points pending_after = 0;
  Points debt_after = 0;
  friend bool operator==(const Outcome&, const Outcome&) = default;
};
std::string encode_outcome(const Outcome& outcome);
std::optional<Outcome> decode_outcome(std::string_view text);

// Everything a decision changes. Transactions are in the order they happened: housekeeping done
// on the way (maturation, expiry) before the command's own transaction, except that unfreezing a
// lot that is due matures or expires it right after.
struct Effects {
  std::optional<AccountRow> account_inserted;
  AccountRow account;  // the row after the command
  std::vector<Transaction> transactions;
  std::vector<Lot> lots_inserted;
  std::vector<Lot> lots_updated;  // whole rows, each id once
  std::vector<Allocation> allocations_inserted;
  std::vector<Allocation> allocations_updated;
  std::optional<Order> order;  // insert or replace
  std::optional<Hold> hold;    // insert or replace
  Outcome outcome;
};

struct Decision {
  std::optional<Rejection> rejection;  // set: nothing changes
  Effects effects;
};

// Decides a command against the member's book. Does not check idempotency: the store looks the key
// up first and replays or rejects (see replay_or_conflict).
Decision decide(const MemberBook& book, const Command& command, const Policy& policy,
                IdSource& ids);

// For a key seen before: the stored outcome when the request matches, else idempotency_conflict.
struct Replay {
  std::optional<Rejection> rejection;
  Outcome outcome;
};
Replay replay_or_conflict(const Command& command, std::uint64_t stored_request_hash,
                          std::string_view stored_result);

}  // namespace pointsmall::ledger
