#include "store/sqlite/account_projection.h"

#include <algorithm>

#include "store/ledger_rows.h"
#include "store/sqlite/ledger_tables.h"

namespace pointsmall::store::sqlite {

StoredAccount read_stored_account(const Statement& row) {
  StoredAccount account;
  account.row = read_account(row);
  account.last_transaction_id = row.column_int(11);
  account.last_lot_id = row.column_int(12);
  return account;
}

namespace {

constexpr const char* kTransactionWatermark = "projection_transaction_id";
constexpr const char* kLotWatermark = "projection_lot_id";

std::int64_t read_watermark(Connection& db, const char* name) {
  Statement s = db.prepare("SELECT value FROM settings WHERE name = $1");
  s.bind(1, std::string_view(name));
  return s.step() ? std::stoll(s.column_text(0)) : 0;
}

// The exact next_due_us and live_lots_from_id of a member, from all of its lots.
void derive_from_lots(Statement& select_lot, LotId last_lot_id, ledger::AccountRow& row) {
  row.next_due_us = kTimeNever;
  row.live_lots_from_id = ledger::kNoLiveLot;
  for (LotId id = last_lot_id; id != 0;) {
    StatementScope scope(select_lot);
    select_lot.bind(1, id);
    if (!select_lot.step()) throw SqliteError(SQLITE_CORRUPT, "broken lot chain");
    const auto state = ledger::lot_state_from_name(select_lot.column_text(1));
    const Points remaining = select_lot.column_int(4);
    if (state == ledger::LotState::pending)
      row.next_due_us = std::min(row.next_due_us, select_lot.column_int(2));
    if (state == ledger::LotState::active && remaining > 0)
      row.next_due_us = std::min(row.next_due_us, select_lot.column_int(3));
    const bool live = state == ledger::LotState::pending || state == ledger::LotState::active ||
                      state == ledger::LotState::frozen;
    if (live && remaining > 0) row.live_lots_from_id = id;  // the walk goes to older lots
    id = select_lot.column_int(0);
  }
}

}  // namespace

AccountProjection::AccountProjection(Connection& db)
    : db_(db),
      select_(db.prepare(std::string("SELECT ") + kStoredAccountColumns +
                         " FROM accounts WHERE member_id = $1")),
      insert_(db.prepare(
          "INSERT INTO accounts (member_id, external_id, available, pending, frozen, held, debt, "
          "account_frozen, next_due_us, opened_at_us, last_transaction_id, last_lot_id, "
          "live_lots_from_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)")),
      update_(db.prepare(
          "UPDATE accounts SET available = $2, pending = $3, frozen = $4, held = $5, debt = $6, "
          "account_frozen = $7, next_due_us = $8, last_transaction_id = $9, last_lot_id = $10, "
          "live_lots_from_id = $11 WHERE member_id = $1")),
      write_setting_(db.prepare("INSERT INTO settings (name, value) VALUES ($1, $2) "
                                "ON CONFLICT (name) DO UPDATE SET value = excluded.value")) {}

std::optional<StoredAccount> AccountProjection::get(MemberId member_id) {
  if (auto it = cache_.find(member_id); it != cache_.end()) return it->second.account;
  StatementScope scope(select_);
  select_.bind(1, member_id);
  if (!select_.step()) return std::nullopt;
  StoredAccount account = read_stored_account(select_);
  cache_.emplace(member_id, Cached{account, false});
  return account;
}

void AccountProjection::remember(MemberId member_id) {
  Before before{member_id, false, {}};
  auto it = cache_.find(member_id);
  if (it != cache_.end()) before = Before{member_id, true, it->second};
  if (it == cache_.end() || it->second.batch != batch_) batch_undo_.push_back(before);
  command_undo_ = std::move(before);
}

void AccountProjection::restore(const Before& before) {
  if (before.cached)
    cache_[before.member_id] = before.value;
  else
    cache_.erase(before.member_id);
}

void AccountProjection::put(const StoredAccount& account, bool dirty) {
  remember(account.row.member_id);
  Cached& cached = cache_[account.row.member_id];
  if (dirty && !cached.dirty) ++dirty_count_;
  if (!dirty && cached.dirty) --dirty_count_;
  cached = Cached{account, dirty, batch_};
}

void AccountProjection::insert(const StoredAccount& account) {
  const ledger::AccountRow& a = account.row;
  Statement& s = insert_;
  s.bind(1, a.member_id).bind(2, a.external_id).bind(3, a.available).bind(4, a.pending);
  s.bind(5, a.frozen).bind(6, a.held).bind(7, a.debt).bind(8, a.account_frozen ? 1 : 0);
  s.bind(9, a.next_due_us).bind(10, a.opened_at_us).bind(11, account.last_transaction_id);
  s.bind(12, account.last_lot_id).bind(13, a.live_lots_from_id).run();
  put(account, false);
}

void AccountProjection::update(const StoredAccount& account) {
  put(account, true);
}

void AccountProjection::begin_command() {
  command_undo_.reset();
}

void AccountProjection::rollback_command() {
  if (command_undo_) restore(*command_undo_);
  command_undo_.reset();
  recount_dirty();
}

void AccountProjection::write_row(const StoredAccount& account) {
  const ledger::AccountRow& a = account.row;
  Statement& s = update_;
  s.bind(1, a.member_id).bind(2, a.available).bind(3, a.pending).bind(4, a.frozen);
  s.bind(5, a.held).bind(6, a.debt).bind(7, a.account_frozen ? 1 : 0).bind(8, a.next_due_us);
  s.bind(9, account.last_transaction_id).bind(10, account.last_lot_id);
  s.bind(11, a.live_lots_from_id).run();
}

void AccountProjection::write_back() {
  std::vector<const StoredAccount*> dirty;
  dirty.reserve(dirty_count_);
  for (auto& [id, cached] : cache_)
    if (cached.dirty) dirty.push_back(&cached.account);
  // In key order, so that the pages of the accounts table are visited once each, in sequence.
  std::sort(dirty.begin(), dirty.end(), [](const StoredAccount* a, const StoredAccount* b) {
    return a->row.member_id < b->row.member_id;
  });
  for (const StoredAccount* account : dirty) write_row(*account);
  const std::string through_tx = std::to_string(db_.query_int("SELECT max(id) FROM transactions"));
  const std::string through_lot = std::to_string(db_.query_int("SELECT max(id) FROM lots"));
  write_setting_.bind(1, std::string_view(kTransactionWatermark)).bind(2, through_tx).run();
  write_setting_.bind(1, std::string_view(kLotWatermark)).bind(2, through_lot).run();
  wrote_back_in_batch_ = true;
}

std::vector<StoredAccount> AccountProjection::batch_committed(bool& wrote_back) {
  wrote_back = wrote_back_in_batch_;
  std::vector<StoredAccount> changed;
  if (wrote_back_in_batch_) {
    if (cache_.size() > kMaxCachedRows) cache_.clear();
    for (auto& [id, cached] : cache_) cached.dirty = false;
    dirty_count_ = 0;
  } else {
    changed.reserve(batch_undo_.size());
    for (const Before& before : batch_undo_)
      if (auto it = cache_.find(before.member_id); it != cache_.end())
        changed.push_back(it->second.account);
  }
  batch_undo_.clear();
  command_undo_.reset();
  wrote_back_in_batch_ = false;
  ++batch_;
  return changed;
}

void AccountProjection::batch_rolled_back() {
  for (auto it = batch_undo_.rbegin(); it != batch_undo_.rend(); ++it) restore(*it);
  batch_undo_.clear();
  command_undo_.reset();
  wrote_back_in_batch_ = false;
  ++batch_;
  recount_dirty();
}

void AccountProjection::recount_dirty() {
  dirty_count_ = static_cast<std::size_t>(
      std::count_if(cache_.begin(), cache_.end(), [](const auto& e) { return e.second.dirty; }));
}

void AccountProjection::recover() {
  const std::int64_t through_tx = read_watermark(db_, kTransactionWatermark);
  const std::int64_t through_lot = read_watermark(db_, kLotWatermark);
  if (db_.query_int("SELECT max(id) FROM transactions") <= through_tx &&
      db_.query_int("SELECT max(id) FROM lots") <= through_lot)
    return;
  db_.exec("BEGIN IMMEDIATE");
  try {
    std::unordered_map<MemberId, StoredAccount> rows;
    auto row = [&](MemberId member_id) -> StoredAccount& {
      if (auto it = rows.find(member_id); it != rows.end()) return it->second;
      StatementScope scope(select_);
      select_.bind(1, member_id);
      if (!select_.step()) throw SqliteError(SQLITE_CORRUPT, "journal names a missing account");
      return rows.emplace(member_id, read_stored_account(select_)).first->second;
    };
    Statement transactions =
        db_.prepare("SELECT id, member_id, kind FROM transactions WHERE id > $1 ORDER BY id");
    transactions.bind(1, through_tx);
    while (transactions.step()) {
      StoredAccount& account = row(transactions.column_int(1));
      account.last_transaction_id = transactions.column_int(0);
      const std::string kind = transactions.column_text(2);
      if (kind == "freeze_account") account.row.account_frozen = true;
      if (kind == "unfreeze_account") account.row.account_frozen = false;
    }
    Statement entries = db_.prepare(
        "SELECT member_id, account, sum(amount) FROM entries WHERE transaction_id > $1 "
        "AND account LIKE 'member%' GROUP BY member_id, account");
    entries.bind(1, through_tx);
    while (entries.step()) {
      ledger::AccountRow& a = row(entries.column_int(0)).row;
      const auto account = ledger::account_from_name(entries.column_text(1));
      const Points amount = entries.column_int(2);
      if (!account || !ledger::add_to_row(a, *account, amount))
        throw SqliteError(SQLITE_CORRUPT, "unknown member account in the journal");
    }
    Statement lots =
        db_.prepare("SELECT member_id, max(id) FROM lots WHERE id > $1 GROUP BY member_id");
    lots.bind(1, through_lot);
    while (lots.step()) {
      StoredAccount& account = row(lots.column_int(0));
      account.last_lot_id = std::max(account.last_lot_id, lots.column_int(1));
    }
    Statement select_lot = db_.prepare(
        "SELECT previous_lot_id, state, matures_at_us, expires_at_us, remaining FROM lots "
        "WHERE id = $1");
    for (auto& [id, account] : rows) {
      derive_from_lots(select_lot, account.last_lot_id, account.row);
      write_row(account);
    }
    cache_.clear();
    dirty_count_ = 0;
    write_back();  // records the watermarks (no row is dirty in the cache)
    wrote_back_in_batch_ = false;
    db_.exec("COMMIT");
  } catch (...) {
    db_.exec("ROLLBACK");
    throw;
  }
}

}  // namespace pointsmall::store::sqlite
