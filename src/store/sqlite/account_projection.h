// The writer's copy of the accounts table, written back in bulk.
//
// Every command changes its member's account row. Updating that row in place at once would dirty
// one random page of the accounts table per command, which caps a ledger of a million members far
// below its journal's append rate. Instead the writer keeps the rows it changed in memory, readers
// see them through the store's overlay once their batch is committed, and the rows are written
// back inside a batch transaction when enough have changed (and at close). The stored rows are a
// projection: `recover()` re-derives whatever is newer than the last write-back from the journal
// and the lots, so a crash loses nothing.
//
// Invariants:
//  1. A stored row plus the entries of transactions after 'projection_transaction_id' equals the
//     member's true balances.
//  2. Every cached row reflects every command applied so far in the open batch; undo restores the
//     state before a failed command or batch exactly.
#pragma once

#include <optional>
#include <unordered_map>
#include <vector>

#include "ledger/model.h"
#include "store/sqlite/sqlite_db.h"

namespace pointsmall::store::sqlite {

// An accounts row with the anchors of the member's transaction and lot chains.
struct StoredAccount {
  ledger::AccountRow row;
  TransactionId last_transaction_id = 0;
  LotId last_lot_id = 0;
};

StoredAccount read_stored_account(const Statement& row);  // columns: kStoredAccountColumns

class AccountProjection {
 public:
  static constexpr std::size_t kWriteBackAfter = 262144;    // dirty rows
  static constexpr std::size_t kMaxCachedRows = 2'000'000;  // clean rows are dropped beyond

  explicit AccountProjection(Connection& db);

  // Re-derives stored rows from transactions and lots newer than the last write-back, in a
  // transaction of its own. Called once at open, before any command.
  void recover();

  // The member's row as of the last applied command; nullopt when there is no such member.
  std::optional<StoredAccount> get(MemberId member_id);
  // A new account, inserted at once (ids ascend, so this appends).
  void insert(const StoredAccount& account);
  // A changed account, kept in memory until the next write-back.
  void update(const StoredAccount& account);

  void begin_command();
  void rollback_command();  // the command's savepoint was rolled back
  // Writes every dirty row and the watermarks inside the open batch transaction.
  void write_back();
  [[nodiscard]] bool write_back_due() const { return dirty_count_ >= kWriteBackAfter; }
  // The batch committed: returns the rows it changed (for readers) and whether it wrote back.
  std::vector<StoredAccount> batch_committed(bool& wrote_back);
  void batch_rolled_back();

 private:
  struct Cached {
    StoredAccount account;
    bool dirty = false;
    std::uint64_t batch = 0;  // the batch that last changed it
  };
  // A member's state before the open batch or command touched it; `cached` false: not cached.
  struct Before {
    MemberId member_id = 0;
    bool cached = false;
    Cached value;
  };
  void remember(MemberId member_id);
  void restore(const Before& before);
  void put(const StoredAccount& account, bool dirty);
  void write_row(const StoredAccount& account);
  void recount_dirty();

  Connection& db_;
  Statement select_;
  Statement insert_;
  Statement update_;
  Statement write_setting_;
  std::unordered_map<MemberId, Cached> cache_;
  std::size_t dirty_count_ = 0;
  std::uint64_t batch_ = 1;             // the open batch's number
  std::vector<Before> batch_undo_;      // first touch of each member in the open batch
  std::optional<Before> command_undo_;  // a command touches one member
  bool wrote_back_in_batch_ = false;
};

}  // namespace pointsmall::store::sqlite
