#include "store/memory/memory_store.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <tuple>

namespace pointsmall::store {

using ledger::Account;
using ledger::AccountRow;
using ledger::Allocation;
using ledger::Lot;
using ledger::LotState;
using ledger::Transaction;

namespace {

constexpr std::int64_t kNoId = INT64_MIN;

void insert_sorted(std::vector<std::int64_t>& ids, std::int64_t id) {
  ids.insert(std::upper_bound(ids.begin(), ids.end(), id), id);
}

bool is_live(LotState state) {
  return state == LotState::pending || state == LotState::active || state == LotState::frozen;
}

bool is_member_account(Account account) {
  return static_cast<std::size_t>(account) < ledger::kMemberAccountCount;
}

// When the lot is next due (matures or expires), kTimeNever for none.
TimeUs due_at(const Lot& lot) {
  if (lot.state == LotState::pending) return lot.matures_at_us;
  if (lot.state == LotState::active && lot.remaining > 0) return lot.expires_at_us;
  return kTimeNever;
}

// Derives AccountRow::next_due_us and live_lots_from_id from the member's lots, as model.h
// defines them.
void add_lot_to_floors(const Lot& lot, ledger::MemberTotals& t) {
  if (!t.next_due_us) t.next_due_us = kTimeNever;
  if (!t.live_lots_from_id) t.live_lots_from_id = ledger::kNoLiveLot;
  t.next_due_us = std::min(*t.next_due_us, due_at(lot));
  if (is_live(lot.state) && lot.remaining > 0)
    t.live_lots_from_id = std::min(*t.live_lots_from_id, lot.id);
}

Points entry_sum(const Transaction& tx) {
  Points sum = 0;
  for (const ledger::Entry& entry : tx.entries) sum += entry.amount;
  return sum;
}

}  // namespace

MemoryLedgerStore::MemoryLedgerStore(ledger::Policy policy) : policy_(std::move(policy)) {}

void MemoryLedgerStore::submit_prepared(ledger::Command command, std::shared_ptr<Preparer> preparer,
                                        Callback done) {
  CommandResult result;
  {
    std::lock_guard lock(mutex_);
    result = run(command, preparer.get());
  }
  if (done) done(result);
}

CommandResult MemoryLedgerStore::run(ledger::Command command, Preparer* preparer) {
  CommandResult result;
  if (auto invalid = ledger::validate(command)) {
    result.rejection = invalid;
    return result;
  }
  if (auto key = keys_.find(command.idempotency_key); key != keys_.end()) {
    const Transaction& first = transactions_.at(key->second);
    const ledger::Replay replay =
        ledger::replay_or_conflict(command, first.request_hash, first.result);
    result.rejection = replay.rejection;
    result.outcome = replay.outcome;
    result.replayed = !replay.rejection;
    return result;
  }
  Preparation preparation;
  if (preparer != nullptr) {
    // A repeat is recognised by the request as submitted, not as prepared.
    command.client_request_hash = ledger::request_hash(command);
    Counters current;
    for (const CounterKey& key : preparer->counters_needed(command))
      current[key] = counter_value(counters_, key);
    Records records;
    for (const RecordKey& key : preparer->records_needed(command))
      if (auto it = records_.find(key); it != records_.end()) records.emplace(key, it->second);
    preparation = preparer->prepare(command, current, records);
    if (preparation.refusal) {
      result.refusal = std::move(preparation.refusal);
      return result;
    }
    if (auto invalid = ledger::validate(command)) {
      result.rejection = invalid;
      return result;
    }
  }
  const ledger::MemberBook book = load_book(command);
  const ledger::SequentialIds before = ids_;  // a command that is not applied gives its ids back
  ledger::Decision decision = ledger::decide(book, command, policy_, ids_);
  if (decision.rejection) {
    ids_ = before;
    result.rejection = decision.rejection;
    return result;
  }
  if (std::string error = check_effects(decision.effects); !error.empty()) {
    ids_ = before;
    result.storage_error = std::move(error);
    return result;
  }
  apply(decision.effects);
  result.outcome = decision.effects.outcome;
  const TransactionId transaction_id = result.outcome.transaction_id;
  if (command.event)
    events_.push_back(StoredEvent{
        transaction_id, command.member_id, command.event->type, command.event->occurred_at_us,
        command.at_us, command.event->payload, result.outcome.points, preparation.earning_record});
  for (const auto& [key, value] : preparation.counter_updates) counters_[key] = value;
  if (!preparation.earning_record.empty())
    earning_records_[transaction_id] = preparation.earning_record;
  if (const auto& change = preparation.tier_change)
    tier_changes_.push_back(TierChangeRow{command.member_id, transaction_id, command.at_us,
                                          change->from_level, change->to_level, change->reason});
  for (const Record& record : preparation.record_writes) write_record(record);
  for (ledger::Command& follow_up : preparation.follow_ups) run(std::move(follow_up), nullptr);
  return result;
}

bool MemoryLedgerStore::write_record(Record record) {
  const RecordKey key{record.kind, record.id};
  auto it = records_.find(key);
  if (it == records_.end()) {
    record.seq = ++last_record_seq_;
    records_.emplace(key, std::move(record));
    return true;
  }
  record.seq = it->second.seq;
  record.created_at_us = it->second.created_at_us;
  it->second = std::move(record);
  return false;
}

std::optional<Record> MemoryLedgerStore::record(const RecordKey& key) {
  std::lock_guard lock(mutex_);
  auto it = records_.find(key);
  if (it == records_.end()) return std::nullopt;
  return it->second;
}

std::vector<Record> MemoryLedgerStore::records(const RecordQuery& query) {
  std::lock_guard lock(mutex_);
  std::vector<Record> out;
  for (const auto& [key, record] : records_) {
    if (record.kind != query.kind) continue;
    if (query.member_id != 0 && record.member_id != query.member_id) continue;
    if (!query.state.empty() && record.state != query.state) continue;
    if (query.before_seq != 0 && record.seq >= query.before_seq) continue;
    out.push_back(record);
  }
  std::sort(out.begin(), out.end(), [](const Record& a, const Record& b) { return a.seq > b.seq; });
  if (out.size() > std::min(query.limit, kMaxRecordPage))
    out.resize(std::min(query.limit, kMaxRecordPage));
  return out;
}

std::vector<std::string> MemoryLedgerStore::insert_new_records(const std::vector<Record>& records) {
  std::lock_guard lock(mutex_);
  std::vector<std::string> existing;
  for (const Record& record : records) {
    if (records_.contains(RecordKey{record.kind, record.id}))
      existing.push_back(record.id);
    else
      write_record(record);
  }
  return existing;
}

Counters MemoryLedgerStore::counters(const std::vector<CounterKey>& keys) {
  std::lock_guard lock(mutex_);
  Counters out;
  for (const CounterKey& key : keys) out[key] = counter_value(counters_, key);
  return out;
}

std::vector<MemberId> MemoryLedgerStore::members_with_counter(const std::string& name,
                                                              std::int64_t at_least, MemberId after,
                                                              std::size_t limit) {
  std::lock_guard lock(mutex_);
  std::vector<MemberId> out;
  for (const auto& [key, value] : counters_)
    if (key.name == name && value >= at_least && key.scope > after && out.size() < limit)
      out.push_back(key.scope);
  return out;
}

std::optional<std::string> MemoryLedgerStore::earning_record(TransactionId transaction_id) {
  std::lock_guard lock(mutex_);
  auto it = earning_records_.find(transaction_id);
  if (it == earning_records_.end()) return std::nullopt;
  return it->second;
}

std::vector<TierChangeRow> MemoryLedgerStore::tier_changes(MemberId member_id, std::size_t limit) {
  std::lock_guard lock(mutex_);
  std::vector<TierChangeRow> out;
  for (auto it = tier_changes_.rbegin(); it != tier_changes_.rend(); ++it)
    if (it->member_id == member_id && out.size() < std::min(limit, kMaxHistoryPage))
      out.push_back(*it);
  return out;
}

std::vector<StoredEvent> MemoryLedgerStore::events(TimeUs from_us, TimeUs until_us,
                                                   TransactionId after, std::size_t limit) {
  std::lock_guard lock(mutex_);
  std::vector<StoredEvent> out;
  for (const StoredEvent& event : events_)
    if (event.transaction_id > after && event.occurred_at_us >= from_us &&
        event.occurred_at_us < until_us && out.size() < std::min(limit, kMaxEventPage))
      out.push_back(event);
  return out;
}

ledger::MemberBook MemoryLedgerStore::load_book(const ledger::Command& command) const {
  ledger::MemberBook book;
  if (const auto* open = std::get_if<ledger::OpenAccount>(&command.body)) {
    book.external_id_taken = external_ids_.count(open->external_id) > 0;
    return book;
  }
  const auto account = accounts_.find(command.member_id);
  if (account == accounts_.end()) return book;
  book.account = account->second;
  const ledger::Needs needs = ledger::needs_for(command, book.account, policy_);
  const MemberId member = command.member_id;
  const MemberRows& rows = member_rows_.at(member);

  std::map<LotId, Lot> lots;  // unique by id
  std::map<std::pair<TransactionId, LotId>, Allocation> allocations;
  auto add_lot = [&](LotId id) {
    const auto lot = lots_.find(id);
    if (lot != lots_.end() && lot->second.member_id == member) lots.emplace(id, lot->second);
  };
  auto add_allocations_of = [&](TransactionId tx) {
    for (auto it = allocations_.lower_bound({tx, kNoId});
         it != allocations_.end() && it->first.first == tx; ++it)
      allocations.emplace(it->first, it->second);
  };
  auto load_order = [&](const std::string& order_id) {
    if (auto order = orders_.find({member, order_id}); order != orders_.end())
      book.order = order->second;
  };
  auto load_hold = [&](const std::string& hold_ref) {
    if (auto hold = holds_.find({member, hold_ref}); hold != holds_.end()) {
      book.hold = hold->second;
      add_allocations_of(hold->second.transaction_id);
    }
  };

  if (needs.transaction_id != 0) {
    const auto target = transactions_.find(needs.transaction_id);
    if (target != transactions_.end() && target->second.member_id == member) {
      book.target = target->second;
      add_allocations_of(target->first);
      // What the transaction concerns: a spend's order, a redemption's hold.
      if (target->second.kind == ledger::TransactionKind::spend &&
          !target->second.reference.empty())
        load_order(target->second.reference);
      if (target->second.kind == ledger::TransactionKind::hold) load_hold(target->second.reference);
    }
  }
  if (needs.live_lots) {
    // Every pending, active and frozen lot, as Needs says, even those with no points left that
    // SQLite skips (below live_lots_from_id): no decision may depend on them, and the simulation
    // checks that none does.
    for (const Lot* lot : rows.lots)
      if (is_live(lot->state)) lots.emplace(lot->id, *lot);
    book.all_live_lots = true;
  }
  if (!needs.order_id.empty()) {
    load_order(needs.order_id);
    for (const Lot* lot : rows.lots)
      if (lot->order_id == needs.order_id) lots.emplace(lot->id, *lot);
    if (needs.order_spend_allocations) {
      for (TransactionId id : rows.transactions) {
        const Transaction& tx = transactions_.at(id);
        if (tx.kind == ledger::TransactionKind::spend && tx.reference == needs.order_id)
          add_allocations_of(id);
      }
    }
  }
  if (!needs.hold_ref.empty()) load_hold(needs.hold_ref);
  if (needs.lot_id != 0) add_lot(needs.lot_id);
  for (const auto& [key, allocation] : allocations) add_lot(allocation.lot_id);

  for (auto& [id, lot] : lots) book.lots.push_back(std::move(lot));
  for (auto& [key, allocation] : allocations) book.allocations.push_back(allocation);
  return book;
}

std::string MemoryLedgerStore::check_effects(const ledger::Effects& effects) const {
  const AccountRow& row = effects.account;
  if (effects.account_inserted) {
    if (accounts_.count(row.member_id))
      return "member id " + std::to_string(row.member_id) + " is taken";
    if (external_ids_.count(row.external_id))
      return "external id '" + row.external_id + "' is taken";
  } else if (!accounts_.count(row.member_id)) {
    return "update of member " + std::to_string(row.member_id) + ", which has no account";
  }
  std::vector<TransactionId> new_transactions;
  std::vector<std::string> new_keys;
  for (const Transaction& tx : effects.transactions) {
    if (const Points sum = entry_sum(tx); sum != 0)
      return "the entries of transaction " + std::to_string(tx.id) + " sum to " +
             std::to_string(sum);
    if (transactions_.count(tx.id) || std::find(new_transactions.begin(), new_transactions.end(),
                                                tx.id) != new_transactions.end())
      return "transaction id " + std::to_string(tx.id) + " is taken";
    new_transactions.push_back(tx.id);
    if (tx.idempotency_key.empty()) continue;
    if (keys_.count(tx.idempotency_key) ||
        std::find(new_keys.begin(), new_keys.end(), tx.idempotency_key) != new_keys.end())
      return "idempotency key '" + tx.idempotency_key + "' is taken";
    new_keys.push_back(tx.idempotency_key);
  }
  std::vector<LotId> new_lots;
  for (const Lot& lot : effects.lots_inserted) {
    if (lots_.count(lot.id) ||
        std::find(new_lots.begin(), new_lots.end(), lot.id) != new_lots.end())
      return "lot id " + std::to_string(lot.id) + " is taken";
    new_lots.push_back(lot.id);
  }
  for (const Lot& lot : effects.lots_updated)
    if (!lots_.count(lot.id))
      return "update of lot " + std::to_string(lot.id) + ", which does not exist";
  std::vector<std::pair<TransactionId, LotId>> new_allocations;
  for (const Allocation& a : effects.allocations_inserted) {
    const std::pair key{a.transaction_id, a.lot_id};
    if (allocations_.count(key) ||
        std::find(new_allocations.begin(), new_allocations.end(), key) != new_allocations.end())
      return "allocation of transaction " + std::to_string(a.transaction_id) + " to lot " +
             std::to_string(a.lot_id) + " exists";
    new_allocations.push_back(key);
  }
  for (const Allocation& a : effects.allocations_updated)
    if (!allocations_.count({a.transaction_id, a.lot_id}))
      return "update of allocation of transaction " + std::to_string(a.transaction_id) +
             " to lot " + std::to_string(a.lot_id) + ", which does not exist";
  return {};
}

void MemoryLedgerStore::apply(const ledger::Effects& effects) {
  const AccountRow& row = effects.account;
  if (effects.account_inserted) {
    external_ids_.emplace(row.external_id, row.member_id);
    member_rows_.try_emplace(row.member_id);
  }
  accounts_[row.member_id] = row;
  for (const Transaction& tx : effects.transactions) {
    MemberRows& rows = member_rows_[tx.member_id];
    for (const ledger::Entry& entry : tx.entries) {
      const auto index = static_cast<std::size_t>(entry.account);
      program_[index] += entry.amount;
      if (is_member_account(entry.account)) rows.journal[index] += entry.amount;
      if (tx.kind == ledger::TransactionKind::expiry && entry.account == Account::program_expired)
        ++expiry_entries_[entry.lot_id];
    }
    if (!tx.idempotency_key.empty()) keys_.emplace(tx.idempotency_key, tx.id);
    insert_sorted(rows.transactions, tx.id);
    transactions_.emplace(tx.id, tx);
  }
  for (const Lot& lot : effects.lots_inserted) {
    std::vector<const Lot*>& member_lots = member_rows_[lot.member_id].lots;
    const Lot* stored = &lots_.emplace(lot.id, lot).first->second;
    member_lots.insert(std::upper_bound(member_lots.begin(), member_lots.end(), stored,
                                        [](const Lot* a, const Lot* b) { return a->id < b->id; }),
                       stored);
  }
  for (const Lot& lot : effects.lots_updated) lots_[lot.id] = lot;
  for (const Allocation& a : effects.allocations_inserted) {
    const auto [stored, inserted] = allocations_.emplace(std::pair{a.transaction_id, a.lot_id}, a);
    member_rows_[a.member_id].allocations.push_back(&stored->second);
  }
  for (const Allocation& a : effects.allocations_updated)
    allocations_[{a.transaction_id, a.lot_id}] = a;
  if (const auto& order = effects.order) orders_[{order->member_id, order->order_id}] = *order;
  if (const auto& hold = effects.hold) holds_[{hold->member_id, hold->hold_ref}] = *hold;
}

std::optional<ledger::AccountRow> MemoryLedgerStore::account(MemberId member_id) {
  std::lock_guard lock(mutex_);
  const auto it = accounts_.find(member_id);
  if (it == accounts_.end()) return std::nullopt;
  return it->second;
}

std::optional<MemberId> MemoryLedgerStore::member_by_external_id(const std::string& external_id) {
  std::lock_guard lock(mutex_);
  const auto it = external_ids_.find(external_id);
  if (it == external_ids_.end()) return std::nullopt;
  return it->second;
}

std::vector<ledger::Lot> MemoryLedgerStore::lots(MemberId member_id) {
  std::lock_guard lock(mutex_);
  std::vector<Lot> out;
  const auto rows = member_rows_.find(member_id);
  if (rows == member_rows_.end()) return out;
  for (const Lot* lot : rows->second.lots) out.push_back(*lot);
  return out;
}

std::vector<ledger::Transaction> MemoryLedgerStore::history(MemberId member_id,
                                                            TransactionId before,
                                                            std::size_t limit) {
  std::lock_guard lock(mutex_);
  limit = std::min(limit, kMaxHistoryPage);
  std::vector<Transaction> out;
  const auto rows = member_rows_.find(member_id);
  if (rows == member_rows_.end()) return out;
  const std::vector<TransactionId>& ids = rows->second.transactions;
  auto it = before > 0 ? std::lower_bound(ids.begin(), ids.end(), before) : ids.end();
  while (it != ids.begin() && out.size() < limit) out.push_back(transactions_.at(*--it));
  return out;
}

std::vector<MemberId> MemoryLedgerStore::members_due(TimeUs at_us, MemberId after,
                                                     std::size_t limit) {
  std::lock_guard lock(mutex_);
  std::vector<MemberId> out;
  for (auto it = accounts_.upper_bound(after); it != accounts_.end() && out.size() < limit; ++it)
    if (it->second.next_due_us <= at_us) out.push_back(it->first);
  return out;
}

std::vector<std::pair<MemberId, std::string>> MemoryLedgerStore::expired_holds(TimeUs at_us,
                                                                               std::size_t limit) {
  std::lock_guard lock(mutex_);
  std::vector<const ledger::Hold*> due;
  for (const auto& [key, hold] : holds_)
    if (hold.state == ledger::HoldState::open && hold.expires_at_us <= at_us) due.push_back(&hold);
  std::sort(due.begin(), due.end(), [](const ledger::Hold* a, const ledger::Hold* b) {
    return std::tie(a->expires_at_us, a->member_id, a->hold_ref) <
           std::tie(b->expires_at_us, b->member_id, b->hold_ref);
  });
  std::vector<std::pair<MemberId, std::string>> out;
  for (std::size_t i = 0; i < due.size() && i < limit; ++i)
    out.emplace_back(due[i]->member_id, due[i]->hold_ref);
  return out;
}

ProgramSummary MemoryLedgerStore::summary() {
  std::lock_guard lock(mutex_);
  ProgramSummary s;
  s.members = static_cast<std::int64_t>(accounts_.size());
  s.transactions = static_cast<std::int64_t>(transactions_.size());
  s.lots = static_cast<std::int64_t>(lots_.size());
  set_balances(s, program_);
  return s;
}

std::vector<ActivityBucket> MemoryLedgerStore::activity(TimeUs from_us) {
  std::lock_guard lock(mutex_);
  std::map<TimeUs, ActivityBucket> buckets;  // by start
  auto at = [&](TimeUs time_us) -> ActivityBucket* {
    if (time_us < from_us || time_us < 0) return nullptr;
    const TimeUs start_us = time_us / kActivityBucketUs * kActivityBucketUs;
    ActivityBucket& bucket = buckets[start_us];
    bucket.start_us = start_us;
    return &bucket;
  };
  for (const auto& [id, tx] : transactions_) {
    if (tx.entries.empty()) continue;
    ActivityBucket* bucket = at(tx.at_us);
    if (bucket == nullptr) continue;
    for (const ledger::Entry& entry : tx.entries) {
      switch (entry.account) {
        case ledger::Account::program_issued:
          bucket->issued -= entry.amount;
          break;
        case ledger::Account::program_spent:
          bucket->redeemed += entry.amount;
          break;
        case ledger::Account::program_expired:
          bucket->expired += entry.amount;
          break;
        case ledger::Account::member_available:
        case ledger::Account::member_pending:
        case ledger::Account::member_frozen:
        case ledger::Account::member_held:
          bucket->outstanding_change += entry.amount;
          break;
        default:
          break;
      }
    }
  }
  for (const auto& [member_id, account] : accounts_)
    if (ActivityBucket* bucket = at(account.opened_at_us)) ++bucket->new_members;
  for (const StoredEvent& event : events_)
    if (event.type == "checkin")
      if (ActivityBucket* bucket = at(event.occurred_at_us)) ++bucket->checkins;
  for (const auto& [key, record] : records_)
    if (record.kind == "redemption")
      if (ActivityBucket* bucket = at(record.created_at_us)) ++bucket->redemptions;
  std::vector<ActivityBucket> out;
  out.reserve(buckets.size());
  for (const auto& [start_us, bucket] : buckets) out.push_back(bucket);
  return out;
}

std::vector<ItemRedemptions> MemoryLedgerStore::top_items(TimeUs from_us, TimeUs until_us,
                                                          std::size_t limit) {
  std::lock_guard lock(mutex_);
  std::map<std::string, ItemRedemptions> items;
  for (const auto& [key, record] : records_) {
    if (record.kind != "redemption" || record.created_at_us < from_us ||
        record.created_at_us >= until_us || record.state == "cancelled" || record.state == "failed")
      continue;
    const auto body = nlohmann::json::parse(record.body, nullptr, false);
    if (!body.is_object()) throw std::runtime_error("unreadable redemption " + record.id);
    const std::string item_id = body.value("item_id", "");
    ItemRedemptions& item = items[item_id];
    item.item_id = item_id;
    item.name = std::max(item.name, body.value("item_name", std::string()));
    ++item.orders;
    item.units += body.value("quantity", std::int64_t{0});
    item.points += body.value("points", std::int64_t{0});
  }
  std::vector<ItemRedemptions> out;
  out.reserve(items.size());
  for (auto& [id, item] : items) out.push_back(std::move(item));
  std::stable_sort(out.begin(), out.end(), [](const ItemRedemptions& a, const ItemRedemptions& b) {
    return a.units > b.units;
  });
  out.resize(std::min({out.size(), limit, kMaxTopItems}));
  return out;
}

ledger::Audit MemoryLedgerStore::audit() {
  std::lock_guard lock(mutex_);
  ledger::Audit audit;
  // The journal, re-summed from the entries (not from program_).
  ledger::AccountBalances all{};
  std::unordered_map<MemberId, ledger::MemberTotals> totals;
  std::unordered_map<LotId, std::int64_t> expiry_entries;
  std::map<std::string, std::int64_t> key_uses;
  for (const auto& [id, tx] : transactions_) {
    audit.check_transaction_sum(id, entry_sum(tx));
    if (!tx.idempotency_key.empty()) ++key_uses[tx.idempotency_key];
    for (const ledger::Entry& entry : tx.entries) {
      const auto index = static_cast<std::size_t>(entry.account);
      all[index] += entry.amount;
      if (is_member_account(entry.account)) totals[tx.member_id].journal[index] += entry.amount;
      if (tx.kind == ledger::TransactionKind::expiry && entry.account == Account::program_expired)
        ++expiry_entries[entry.lot_id];
    }
  }
  for (const auto& [key, uses] : key_uses)
    if (uses > 1) audit.check_duplicate_key(key, uses);

  Points expired_lot_remaining = 0;
  for (const auto& [id, lot] : lots_) {
    ledger::MemberTotals& t = totals[lot.member_id];
    add_lot_to_floors(lot, t);
    switch (lot.state) {
      case LotState::active:
        t.active_lots += lot.remaining;
        break;
      case LotState::pending:
        t.pending_lots += lot.remaining;
        break;
      case LotState::frozen:
        t.frozen_lots += lot.remaining;
        break;
      case LotState::expired:
        expired_lot_remaining += lot.remaining;
        break;
      case LotState::reversed:
        break;
    }
    const auto expiries = expiry_entries.find(id);
    audit.check_lot(ledger::LotFacts{lot, expiries == expiry_entries.end() ? 0 : expiries->second});
  }
  for (const auto& [key, hold] : holds_) {
    if (hold.state != ledger::HoldState::open) continue;
    ledger::MemberTotals& t = totals[hold.member_id];
    t.open_holds += hold.points;
    for (auto it = allocations_.lower_bound({hold.transaction_id, kNoId});
         it != allocations_.end() && it->first.first == hold.transaction_id; ++it)
      t.open_hold_allocations += it->second.points - it->second.returned;
  }
  for (const auto& [member_id, row] : accounts_) audit.check_member_row(row, totals);
  audit.check_members_without_row(totals);
  for (const auto& [key, allocation] : allocations_) audit.check_allocation(allocation);
  for (const auto& [key, order] : orders_) audit.check_order(order);
  audit.check_program(all, expired_lot_remaining);
  return audit;
}

std::optional<ledger::Hold> MemoryLedgerStore::hold(MemberId member_id,
                                                    const std::string& hold_ref) {
  std::lock_guard lock(mutex_);
  auto it = holds_.find({member_id, hold_ref});
  if (it == holds_.end()) return std::nullopt;
  return it->second;
}

std::vector<ledger::Hold> MemoryLedgerStore::holds(MemberId member_id) {
  std::lock_guard lock(mutex_);
  std::vector<ledger::Hold> out;
  for (auto it = holds_.lower_bound({member_id, std::string()});
       it != holds_.end() && it->first.first == member_id; ++it)
    out.push_back(it->second);
  return out;
}

std::optional<ledger::Order> MemoryLedgerStore::order(MemberId member_id,
                                                      const std::string& order_id) {
  std::lock_guard lock(mutex_);
  const auto it = orders_.find({member_id, order_id});
  if (it == orders_.end()) return std::nullopt;
  return it->second;
}

ledger::Audit MemoryLedgerStore::audit_member(MemberId member_id) {
  std::lock_guard lock(mutex_);
  ledger::Audit audit;
  audit_member_rows(member_id, audit);
  return audit;
}

ledger::MemberTotals MemoryLedgerStore::member_totals(MemberId member_id) const {
  ledger::MemberTotals t;
  if (auto row = accounts_.find(member_id); row != accounts_.end())
    t.row = row->second;
  else
    t.row.member_id = member_id;
  t.next_due_us = kTimeNever;
  t.live_lots_from_id = ledger::kNoLiveLot;
  const auto rows = member_rows_.find(member_id);
  if (rows == member_rows_.end()) return t;
  t.journal = rows->second.journal;
  for (const Lot* stored : rows->second.lots) {
    const Lot& lot = *stored;
    add_lot_to_floors(lot, t);
    if (lot.state == LotState::active) t.active_lots += lot.remaining;
    if (lot.state == LotState::pending) t.pending_lots += lot.remaining;
    if (lot.state == LotState::frozen) t.frozen_lots += lot.remaining;
  }
  for (auto it = holds_.lower_bound({member_id, std::string()});
       it != holds_.end() && it->first.first == member_id; ++it) {
    const ledger::Hold& hold = it->second;
    if (hold.state != ledger::HoldState::open) continue;
    t.open_holds += hold.points;
    for (auto a = allocations_.lower_bound({hold.transaction_id, kNoId});
         a != allocations_.end() && a->first.first == hold.transaction_id; ++a)
      t.open_hold_allocations += a->second.points - a->second.returned;
  }
  return t;
}

void MemoryLedgerStore::audit_member_rows(MemberId member_id, ledger::Audit& audit) const {
  audit.check_member(member_totals(member_id));
  const auto rows = member_rows_.find(member_id);
  if (rows == member_rows_.end()) return;
  for (const Allocation* allocation : rows->second.allocations) audit.check_allocation(*allocation);
  for (const Lot* lot : rows->second.lots) {
    const auto expiries = expiry_entries_.find(lot->id);
    audit.check_lot(
        ledger::LotFacts{*lot, expiries == expiry_entries_.end() ? 0 : expiries->second});
  }
  for (auto it = orders_.lower_bound({member_id, std::string()});
       it != orders_.end() && it->first.first == member_id; ++it)
    audit.check_order(it->second);
}

void MemoryLedgerStore::restart() {
  std::lock_guard lock(mutex_);
  ids_ = ledger::SequentialIds(accounts_.empty() ? 0 : accounts_.rbegin()->first,
                               transactions_.empty() ? 0 : transactions_.rbegin()->first,
                               lots_.empty() ? 0 : lots_.rbegin()->first);
}

}  // namespace pointsmall::store
