// The ledger's tables on SQLite: loading what a decision needs, writing its effects, and decoding
// rows for readers. One instance per connection; statements are prepared once.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ledger/ledger.h"
#include "store/ledger_rows.h"
#include "store/sqlite/account_projection.h"
#include "store/sqlite/sqlite_db.h"

namespace pointsmall::store::sqlite {

// The ledger's rows are decoded by store/ledger_rows.h; a value it cannot read is SQLITE_CORRUPT.
[[noreturn]] void report_corrupt(const Statement& row, const std::string& message);

// The writer's side: the statements a command needs, prepared on the writer's connection.
class LedgerTables {
 public:
  LedgerTables(Connection& connection, AccountProjection& accounts);

  // For a key used before: its request hash and stored result.
  struct KeyRecord {
    std::uint64_t request_hash = 0;
    std::string result;
  };
  std::optional<KeyRecord> find_key(const std::string& key);

  ledger::MemberBook load_book(const ledger::Command& command, const ledger::Policy& policy);
  // Writes the effects of the command whose book was loaded last, and the event it carries.
  void apply(const ledger::Effects& effects, const std::optional<ledger::EventRecord>& event);

 private:
  // Walks the member's lot chain from the newest lot down to live_lots_from_id.
  void load_live_lots(LotId last_lot_id, LotId live_from, ledger::MemberBook& book);
  void load_lot(LotId lot_id, MemberId member_id, ledger::MemberBook& book);
  void load_allocations_of(TransactionId transaction_id, ledger::MemberBook& book);
  void load_order_spend_allocations(MemberId member_id, const std::string& order_id,
                                    ledger::MemberBook& book);
  void load_allocated_lots(ledger::MemberBook& book);
  void insert_transaction(const ledger::Transaction& tx, TransactionId previous_id);
  void write_lot(const ledger::Lot& lot, bool insert, LotId previous_lot_id);
  void write_allocation(const ledger::Allocation& allocation, bool insert);

  AccountProjection& accounts_;
  std::optional<StoredAccount> loaded_;  // the account row of the last loaded book
  Statement find_key_;
  Statement select_account_by_external_id_;
  Statement select_lot_;
  Statement select_order_;
  Statement select_hold_;
  Statement select_transaction_;
  Statement select_allocations_;
  Statement insert_transaction_;
  Statement insert_entry_;
  Statement insert_entry_pair_;
  Statement insert_lot_;
  Statement update_lot_;
  Statement insert_allocation_;
  Statement update_allocation_;
  Statement upsert_order_;
  Statement select_order_spends_;
  Statement upsert_hold_;
  Statement insert_event_;
};

}  // namespace pointsmall::store::sqlite
