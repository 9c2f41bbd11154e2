// One batch of commands on the PostgreSQL writer connection: locks, reads, decisions, writes.
//
// A Batch lives for one transaction. It takes the advisory locks of everything its commands
// touch (pg_store.h), reads the idempotency keys, accounts and live lots it needs with one
// statement each, then applies its commands in order exactly as the SQLite writer does, sending
// their writes down the pipeline without waiting. What earlier commands of the batch changed is
// kept in memory (accounts, live lots, keys) or read back from the database, which sees the
// pipelined writes, so each command decides on the member's current state.
//
// Every database failure is thrown as pg::PgError; the caller rolls the transaction back.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "ledger/ledger.h"
#include "store/postgresql/pg_db.h"
#include "store/preparer.h"
#include "store/store.h"

namespace pointsmall::store::pg {

// A command as queued for the writer.
struct QueuedCommand {
  ledger::Command command;
  std::shared_ptr<Preparer> preparer;
  LedgerStore::Callback done;
};

// Ids drawn from the database's sequences after the batch's locks are held, handed out in order.
class SequenceIds final : public ledger::IdSource {
 public:
  explicit SequenceIds(Connection& db) : db_(db) {}
  // Draws fresh ids of every kind (previously drawn, unused ones are dropped).
  void draw(std::size_t members, std::size_t transactions, std::size_t lots);
  MemberId next_member_id() override { return take(members_); }
  TransactionId next_transaction_id() override { return take(transactions_); }
  LotId next_lot_id() override { return take(lots_); }

  struct Mark {
    std::size_t members, transactions, lots;
  };
  [[nodiscard]] Mark mark() const { return {members_.next, transactions_.next, lots_.next}; }
  // Hands the ids given out since `mark` to the next command (one that was not applied).
  void restore(const Mark& mark);

 private:
  struct Pool {
    std::vector<std::int64_t> ids;
    std::size_t next = 0;
  };
  std::int64_t take(Pool& pool);

  Connection& db_;
  Pool members_, transactions_, lots_;
};

class Batch {
 public:
  Batch(Connection& db, const ledger::Policy& policy);

  // Locks and reads what the commands need. Call once, inside the transaction.
  void prepare_for(const std::vector<QueuedCommand>& commands);
  // Decides and applies one command (and its follow-ups); never reports storage_error (a
  // database failure throws).
  CommandResult run(const ledger::Command& as_submitted, Preparer* preparer);
  // Sends the account rows the batch changed. Call before COMMIT.
  void finish();

 private:
  struct Account {
    ledger::AccountRow row;
    TransactionId last_transaction_id = 0;
    LotId last_lot_id = 0;
  };
  struct KeyRecord {
    std::uint64_t request_hash = 0;
    std::string result;
  };

  void lock(std::vector<std::int64_t> keys);
  void lock_member(MemberId member_id);  // a member the batch did not lock at its start
  void read_keys(const std::vector<std::string>& keys);
  void read_accounts(const std::vector<MemberId>& members);
  void read_live_lots(const std::vector<MemberId>& members);
  void read_orders(const std::vector<std::pair<MemberId, std::string>>& orders);
  Account* account(MemberId member_id);  // nullptr: no such member
  std::optional<CommandResult> replay(const ledger::Command& command);

  ledger::MemberBook load_book(const ledger::Command& command);
  void load_lot(LotId lot_id, MemberId member_id, ledger::MemberBook& book);
  void load_allocations(const std::string& where_sql, const Params& params,
                        ledger::MemberBook& book);
  void apply(const ledger::Command& command, const ledger::Effects& effects);
  void apply_preparation(const Preparation& preparation, const ledger::Command& command,
                         TransactionId transaction_id);
  void send_transaction(const ledger::Transaction& tx, TransactionId previous_id);
  void send_lot(const ledger::Lot& lot, bool insert, LotId previous_lot_id);
  void send_account(const Account& account, bool insert);
  // Statements go through these, which first send the rows buffered so far.
  void send(const Sql& sql, const Params& params);
  Result fetch(const Sql& sql, const Params& params);
  void flush_rows();

  Connection& db_;
  const ledger::Policy& policy_;
  SequenceIds ids_;
  std::set<MemberId> locked_members_;
  std::map<MemberId, std::optional<Account>> accounts_;  // read, or changed, by this batch
  std::set<MemberId> changed_accounts_;                  // to write back in finish()
  // Orders read, or changed, by this batch (nullopt: none with that id); written in finish().
  std::map<std::pair<MemberId, std::string>, std::optional<ledger::Order>> orders_;
  std::set<std::pair<MemberId, std::string>> changed_orders_;
  // Live lots (pending, active, frozen) of members, kept current through the batch.
  std::unordered_map<MemberId, std::vector<ledger::Lot>> live_lots_;
  std::unordered_map<std::string, std::optional<KeyRecord>> keys_;  // read or written
  // Appended rows, sent as one statement per table before anything else is sent (or at finish).
  RowBuffer transactions_, entries_, lots_, events_, earnings_;
};

}  // namespace pointsmall::store::pg
