#include "ledger/ledger.h"

#include <algorithm>
#include <deque>
#include <set>

namespace pointsmall::ledger {
namespace {

// Each command kind's implementation lives below; this class is their shared workspace: a copy of
// the member's book that the command changes, and the record of those changes as Effects.
class Work {
 public:
  Work(const MemberBook& book, const Command& command, const Policy& policy, IdSource& ids)
      : command_(command), policy_(policy), ids_(ids), book_(book) {
    if (book.account) account_ = *book.account;
    for (const Lot& lot : book.lots) lots_.push_back(WorkLot{lot, false, false});
    std::sort(lots_.begin(), lots_.end(),
              [](const WorkLot& a, const WorkLot& b) { return a.lot.id < b.lot.id; });
    for (const Allocation& allocation : book.allocations) allocations_.push_back(allocation);
  }

  [[nodiscard]] TimeUs now() const { return command_.at_us; }
  [[nodiscard]] const Command& command() const { return command_; }
  [[nodiscard]] const Policy& policy() const { return policy_; }
  [[nodiscard]] const MemberBook& book() const { return book_; }
  AccountRow& account() { return account_; }
  IdSource& ids() { return ids_; }

  // Starts a journal transaction and returns its index in the effects.
  std::size_t begin(TransactionKind kind, std::string reference, std::string reason,
                    bool is_command_transaction) {
    Transaction tx;
    tx.id = ids_.next_transaction_id();
    tx.member_id = account_.member_id;
    tx.kind = kind;
    tx.at_us = command_.at_us;
    tx.reference = std::move(reference);
    tx.reason = std::move(reason);
    tx.actor = is_command_transaction ? command_.actor : "system";
    if (is_command_transaction) {
      tx.idempotency_key = command_.idempotency_key;
      tx.request_hash = request_hash(command_);
      command_transaction_ = effects_.transactions.size();
    }
    effects_.transactions.push_back(std::move(tx));
    return effects_.transactions.size() - 1;
  }
  [[nodiscard]] TransactionId transaction_id(std::size_t tx) const {
    return effects_.transactions[tx].id;
  }

  // Records one entry and keeps the account row's projection in step with it.
  void post(std::size_t tx, Account account, Points amount, LotId lot_id = 0) {
    if (amount == 0) return;
    effects_.transactions[tx].entries.push_back(Entry{account, amount, lot_id});
    add_to_row(account_, account, amount);  // program accounts have no row
  }

  Lot* find_lot(LotId id) {
    WorkLot* entry = find_entry(id);
    return entry == nullptr ? nullptr : &entry->lot;
  }
  // New lots get ids above every loaded one (IdSource hands them out ascending), so lots_ stays
  // sorted by id.
  Lot& add_lot(Lot lot) {
    lot.id = ids_.next_lot_id();
    lots_.push_back(WorkLot{std::move(lot), true, false});
    return lots_.back().lot;
  }
  void touch(const Lot& lot) { find_entry(lot.id)->touched = true; }

  // Lots in the given state, in spending order: soonest expiry first, then oldest.
  std::vector<Lot*> lots_in_state(LotState state) {
    std::vector<Lot*> out;
    for (WorkLot& entry : lots_)
      if (entry.lot.state == state && entry.lot.remaining > 0) out.push_back(&entry.lot);
    std::sort(out.begin(), out.end(), [](const Lot* a, const Lot* b) {
      if (a->expires_at_us != b->expires_at_us) return a->expires_at_us < b->expires_at_us;
      if (a->earned_at_us != b->earned_at_us) return a->earned_at_us < b->earned_at_us;
      return a->id < b->id;
    });
    return out;
  }
  std::vector<Lot*> lots_of_order(const std::string& order_id) {
    std::vector<Lot*> out;
    for (WorkLot& entry : lots_)
      if (!order_id.empty() && entry.lot.order_id == order_id) out.push_back(&entry.lot);
    return out;
  }

  std::vector<Allocation>& allocations() { return allocations_; }
  void add_allocation(Allocation allocation) {
    new_allocations_.push_back(allocations_.size());
    allocations_.push_back(allocation);
  }
  void touch_allocation(std::size_t index) { touched_allocations_.insert(index); }

  Effects& effects() { return effects_; }

  // Completes the effects: the final account row, changed rows, and the outcome (encoded into the
  // command's own transaction for replay).
  Effects finish(Outcome outcome) {
    update_next_due();
    update_live_lots_from();
    for (const WorkLot& entry : lots_) {
      if (entry.is_new)
        effects_.lots_inserted.push_back(entry.lot);
      else if (entry.touched)
        effects_.lots_updated.push_back(entry.lot);
    }
    std::set<std::size_t> inserted(new_allocations_.begin(), new_allocations_.end());
    for (std::size_t index : inserted) effects_.allocations_inserted.push_back(allocations_[index]);
    for (std::size_t index : touched_allocations_)
      if (!inserted.count(index)) effects_.allocations_updated.push_back(allocations_[index]);
    effects_.account = account_;
    outcome.member_id = account_.member_id;
    outcome.transaction_id = effects_.transactions[command_transaction_].id;
    outcome.available_after = account_.available;
    outcome.pending_after = account_.pending;
    outcome.debt_after = account_.debt;
    effects_.transactions[command_transaction_].result = encode_outcome(outcome);
    effects_.outcome = outcome;
    return std::move(effects_);
  }

 private:
  struct WorkLot {
    Lot lot;
    bool is_new = false;   // created by this command
    bool touched = false;  // changed by this command
  };

  WorkLot* find_entry(LotId id) {
    auto it = std::lower_bound(lots_.begin(), lots_.end(), id,
                               [](const WorkLot& entry, LotId key) { return entry.lot.id < key; });
    return it == lots_.end() || it->lot.id != id ? nullptr : &*it;
  }
  // The lots whose changes the account's derived fields must follow: all of them when every live
  // lot is loaded, else those this command created or changed.
  template <typename Fn>
  void for_lots_that_count(Fn&& fn) const {
    for (const WorkLot& entry : lots_)
      if (book_.all_live_lots || entry.is_new || entry.touched) fn(entry.lot);
  }

  // next_due_us is always exact: recomputed from every live lot when they are all loaded, and
  // otherwise brought forward by the lots this command created or gave points back to. A command
  // that could make a lot stop being due (spend, expiry, freeze, clawback) loads every live lot
  // (see needs_for), so no other change can leave it too early.
  void update_next_due() {
    TimeUs next = book_.all_live_lots ? kTimeNever : account_.next_due_us;
    for_lots_that_count([&next](const Lot& lot) {
      if (lot.state == LotState::pending) next = std::min(next, lot.matures_at_us);
      if (lot.state == LotState::active && lot.remaining > 0)
        next = std::min(next, lot.expires_at_us);
    });
    account_.next_due_us = next;
  }

  // live_lots_from_id is kept exact the same way.
  void update_live_lots_from() {
    LotId from = book_.all_live_lots ? kNoLiveLot : account_.live_lots_from_id;
    for_lots_that_count([&from](const Lot& lot) {
      const bool live = lot.state == LotState::pending || lot.state == LotState::active ||
                        lot.state == LotState::frozen;
      if (live && lot.remaining > 0) from = std::min(from, lot.id);
    });
    account_.live_lots_from_id = from;
  }

  const Command& command_;
  const Policy& policy_;
  IdSource& ids_;
  const MemberBook& book_;
  AccountRow account_;
  std::deque<WorkLot> lots_;  // sorted by id; a deque, so that Lot pointers survive add_lot
  std::vector<Allocation> allocations_;
  std::vector<std::size_t> new_allocations_;
  std::set<std::size_t> touched_allocations_;
  Effects effects_;
  std::size_t command_transaction_ = 0;
};

Account account_of(LotState state) {
  switch (state) {
    case LotState::pending:
      return Account::member_pending;
    case LotState::active:
      return Account::member_available;
    case LotState::frozen:
      return Account::member_frozen;
    case LotState::expired:
      return Account::program_expired;
    case LotState::reversed:
      return Account::member_available;
  }
  return Account::member_available;
}

__extension__ using Int128 = __int128;  // products of points and money exceed 64 bits

// floor(value * numerator / denominator) without overflow; all >= 0, denominator > 0.
Points pro_rata(Points value, MinorUnits numerator, MinorUnits denominator) {
  return static_cast<Points>(static_cast<Int128>(value) * numerator / denominator);
}

// Moves a lot's points into the available balance, first paying back any debt with them.
// `from` is where the points are now (program_issued for a new grant, member_pending when a lot
// matures). Returns the points that went to the debt.
Points make_available(Work& work, std::size_t tx, Lot& lot, Account from) {
  const Points amount = lot.remaining;
  const Points repaid = std::min(work.account().debt, amount);
  work.post(tx, from, -amount, lot.id);
  work.post(tx, Account::member_debt, repaid, lot.id);
  work.post(tx, Account::member_available, amount - repaid, lot.id);
  lot.remaining -= repaid;
  lot.state = LotState::active;
  work.touch(lot);
  return repaid;
}

// Matures pending lots and expires active ones that are due, each as its own transaction, so
// that no decision ever counts points that are no longer there.
void settle(Work& work) {
  if (!work.book().all_live_lots) return;
  std::optional<std::size_t> maturation;
  for (Lot* lot : work.lots_in_state(LotState::pending)) {
    if (lot->matures_at_us > work.now()) continue;
    if (!maturation)
      maturation = work.begin(TransactionKind::maturation, "", "return window closed", false);
    make_available(work, *maturation, *lot, Account::member_pending);
  }
  std::optional<std::size_t> expiry;
  for (Lot* lot : work.lots_in_state(LotState::active)) {
    if (lot->expires_at_us > work.now()) continue;
    if (!expiry) expiry = work.begin(TransactionKind::expiry, "", "validity ended", false);
    work.post(*expiry, Account::member_available, -lot->remaining, lot->id);
    work.post(*expiry, Account::program_expired, lot->remaining, lot->id);
    lot->state = LotState::expired;
    work.touch(*lot);
  }
}

// Under a rolling policy every earn and spend renews the validity of all live lots: the policy
// is "`count` days after the member's latest earn or spend", so points still in their return
// window or frozen for review must not keep the shorter validity of their own earn.
void renew_rolling_validity(Work& work) {
  const ExpiryPolicy& expiry = work.policy().expiry;
  if (expiry.kind != ExpiryPolicy::Kind::rolling_days) return;
  const TimeUs until = work.now() + expiry.count * kMicrosPerDay;
  for (LotState state : {LotState::pending, LotState::active, LotState::frozen}) {
    for (Lot* lot : work.lots_in_state(state)) {
      if (lot->expires_at_us >= until) continue;
      lot->expires_at_us = until;
      work.touch(*lot);
    }
  }
}

// Takes `points` from the member's active lots in spending order into `sink`, recording an
// allocation per lot. The caller has checked that enough is available.
void take_from_active_lots(Work& work, std::size_t tx, Points points, Account sink) {
  Points total = 0;
  for (Lot* lot : work.lots_in_state(LotState::active)) {
    if (total == points) break;
    const Points taken = std::min(points - total, lot->remaining);
    lot->remaining -= taken;
    work.touch(*lot);
    work.post(tx, Account::member_available, -taken, lot->id);
    work.add_allocation(Allocation{work.transaction_id(tx), lot->id, lot->member_id, taken, 0});
    total += taken;
  }
  work.post(tx, sink, total);
}

// Gives points of allocations back to the lots they came from, taking them from `source`
// (member_held, program_spent or program_revoked). Gives back at most `limit` points over the
// allocations of `transaction_id`; returns how many it gave back.
Points give_back(Work& work, std::size_t tx, TransactionId transaction_id, Account source,
                 Points limit) {
  Points given = 0;
  auto& allocations = work.allocations();
  for (std::size_t i = 0; i < allocations.size() && given < limit; ++i) {
    Allocation& allocation = allocations[i];
    if (allocation.transaction_id != transaction_id) continue;
    const Points amount = std::min(allocation.points - allocation.returned, limit - given);
    if (amount <= 0) continue;
    Lot* lot = work.find_lot(allocation.lot_id);
    if (lot == nullptr) continue;  // the store loads every allocated lot; see Needs
    if (lot->state == LotState::reversed) lot->state = LotState::active;
    lot->remaining += amount;
    work.touch(*lot);
    work.post(tx, source, -amount, lot->id);
    work.post(tx, account_of(lot->state), amount, lot->id);
    allocation.returned += amount;
    work.touch_allocation(i);
    given += amount;
  }
  return given;
}

Points unreturned(Work& work, TransactionId transaction_id) {
  Points total = 0;
  for (const Allocation& allocation : work.allocations())
    if (allocation.transaction_id == transaction_id)
      total += allocation.points - allocation.returned;
  return total;
}

// ---- One function per command ------------------------------------------------------------------

using Result = std::variant<Rejection, Outcome>;

Result open_account(Work& work, const OpenAccount& open) {
  if (work.book().external_id_taken) return Rejection::member_exists;
  AccountRow& row = work.account();
  row = AccountRow{};
  row.member_id = work.ids().next_member_id();
  row.external_id = open.external_id;
  row.opened_at_us = work.now();
  work.effects().account_inserted = row;
  work.begin(TransactionKind::open_account, open.external_id, work.command().reason, true);
  return Outcome{};
}

Result earn(Work& work, const Earn& earn) {
  std::optional<Order> order;
  if (!earn.order_id.empty()) {
    order = work.book().order.value_or(Order{work.account().member_id, earn.order_id});
    if (order->amount_minor > 0) return Rejection::duplicate_order;
    order->amount_minor = earn.order_amount_minor;
    order->points_earned = earn.points;
    work.effects().order = order;
  }
  renew_rolling_validity(work);
  const std::size_t tx =
      work.begin(TransactionKind::earn, earn.order_id, work.command().reason, true);
  if (earn.points == 0) return Outcome{};  // an order that earned nothing: recorded, no lot
  Lot lot;
  lot.member_id = work.account().member_id;
  lot.transaction_id = work.transaction_id(tx);
  lot.amount = lot.remaining = earn.points;
  lot.earned_at_us = work.now();
  lot.matures_at_us = std::max(earn.matures_at_us, work.now());
  lot.expires_at_us = earn.expires_at_us != 0
                          ? earn.expires_at_us
                          : expires_at(work.policy().expiry, work.now(), *work.policy().zone);
  lot.source = earn.source;
  lot.order_id = earn.order_id;
  lot.cost_minor = earn.cost_minor;
  Outcome outcome;
  outcome.points = earn.points;
  Lot& added = work.add_lot(std::move(lot));
  if (work.effects().order) work.effects().order->lot_id = added.id;
  if (added.matures_at_us > work.now()) {
    added.state = LotState::pending;
    work.post(tx, Account::program_issued, -earn.points, added.id);
    work.post(tx, Account::member_pending, earn.points, added.id);
    outcome.pending = true;
  } else {
    outcome.debt_repaid = make_available(work, tx, added, Account::program_issued);
  }
  return outcome;
}

Result spend(Work& work, const Spend& spend) {
  if (work.account().account_frozen) return Rejection::account_frozen;
  if (work.account().available < spend.points) return Rejection::insufficient_points;
  if (!spend.order_id.empty()) {
    Order order = work.book().order.value_or(Order{work.account().member_id, spend.order_id});
    order.points_spent += spend.points;
    work.effects().order = order;
  }
  const std::size_t tx =
      work.begin(TransactionKind::spend, spend.order_id, work.command().reason, true);
  take_from_active_lots(work, tx, spend.points, Account::program_spent);
  renew_rolling_validity(work);
  return Outcome{.points = -spend.points};
}

Result place_hold(Work& work, const PlaceHold& hold) {
  if (work.book().hold) return Rejection::hold_exists;
  if (work.account().account_frozen) return Rejection::account_frozen;
  if (work.account().available < hold.points) return Rejection::insufficient_points;
  const std::size_t tx =
      work.begin(TransactionKind::hold, hold.hold_ref, work.command().reason, true);
  take_from_active_lots(work, tx, hold.points, Account::member_held);
  work.effects().hold =
      Hold{work.account().member_id, hold.hold_ref,     work.transaction_id(tx), hold.points,
           HoldState::open,          hold.expires_at_us};
  return Outcome{.points = -hold.points};
}

std::optional<Rejection> check_open_hold(Work& work) {
  const auto& hold = work.book().hold;
  if (!hold) return Rejection::unknown_hold;
  if (hold->state != HoldState::open) return Rejection::hold_not_open;
  return std::nullopt;
}

Result capture_hold(Work& work, const CaptureHold& capture) {
  if (auto rejection = check_open_hold(work)) return *rejection;
  Hold hold = *work.book().hold;
  if (hold.expires_at_us <= work.now()) return Rejection::hold_expired;
  const std::size_t tx =
      work.begin(TransactionKind::capture, capture.hold_ref, work.command().reason, true);
  work.post(tx, Account::member_held, -hold.points);
  work.post(tx, Account::program_spent, hold.points);
  hold.state = HoldState::captured;
  work.effects().hold = hold;
  return Outcome{.points = 0};
}

Result release_hold(Work& work, const ReleaseHold& release) {
  if (auto rejection = check_open_hold(work)) return *rejection;
  Hold hold = *work.book().hold;
  const std::size_t tx =
      work.begin(TransactionKind::release, release.hold_ref, work.command().reason, true);
  const Points given = give_back(work, tx, hold.transaction_id, Account::member_held, hold.points);
  hold.state = HoldState::released;
  work.effects().hold = hold;
  return Outcome{.points = given};
}

Result cancel(Work& work, const CancelTransaction&) {
  const auto& target = work.book().target;
  if (!target || target->member_id != work.account().member_id)
    return Rejection::unknown_transaction;
  const std::string reference = std::to_string(target->id);
  if (target->kind == TransactionKind::hold) {
    if (!work.book().hold) return Rejection::unknown_hold;
    Hold hold = *work.book().hold;
    if (hold.state == HoldState::released) return Rejection::already_cancelled;
    const Account source =
        hold.state == HoldState::open ? Account::member_held : Account::program_spent;
    const std::size_t tx =
        work.begin(TransactionKind::cancel, reference, work.command().reason, true);
    const Points given = give_back(work, tx, hold.transaction_id, source, hold.points);
    hold.state = HoldState::released;
    work.effects().hold = hold;
    return Outcome{.points = given};
  }
  if (target->kind != TransactionKind::spend) return Rejection::not_cancellable;
  const Points left = unreturned(work, target->id);
  if (left == 0) return Rejection::already_cancelled;
  const std::size_t tx =
      work.begin(TransactionKind::cancel, reference, work.command().reason, true);
  const Points given = give_back(work, tx, target->id, Account::program_spent, left);
  if (!target->reference.empty() && work.book().order) {
    // The order's later refunds must not return these points a second time.
    Order order = *work.book().order;
    order.points_returned += given;
    work.effects().order = order;
  }
  return Outcome{.points = given};
}

// Claws `points` back for a refund: from the order's own lots first (in whatever state), then by
// the shortfall policy. Returns the points charged to the member (lots + debt) and fills
// `outcome` with the debt added and the part absorbed.
Points claw_back(Work& work, std::size_t tx, const std::string& order_id, Points points,
                 Outcome& outcome) {
  Points left = points;
  auto take = [&](Lot& lot) {
    const Points taken = std::min(left, lot.remaining);
    if (taken <= 0) return;
    work.post(tx, account_of(lot.state), -taken, lot.id);
    work.post(tx, Account::program_clawed_back, taken, lot.id);
    lot.remaining -= taken;
    if (lot.remaining == 0 && lot.state != LotState::expired) lot.state = LotState::reversed;
    work.touch(lot);
    left -= taken;
  };
  for (Lot* lot : work.lots_of_order(order_id)) take(*lot);
  const ShortfallPolicy policy = work.policy().shortfall;
  if (policy != ShortfallPolicy::absorb) {
    for (Lot* lot : work.lots_in_state(LotState::active)) take(*lot);
    for (Lot* lot : work.lots_in_state(LotState::pending)) take(*lot);
  }
  if (left > 0 && policy == ShortfallPolicy::other_lots_then_debt) {
    work.post(tx, Account::member_debt, -left);
    work.post(tx, Account::program_clawed_back, left);
    outcome.debt_added = left;
    left = 0;
  }
  outcome.absorbed = left;
  return points - left;
}

Result refund(Work& work, const Refund& refund) {
  if (!work.book().order || work.book().order->amount_minor <= 0) return Rejection::unknown_order;
  Order order = *work.book().order;
  if (refund.amount_minor > order.amount_minor - order.refunded_minor)
    return Rejection::refund_exceeds_order;
  order.refunded_minor += refund.amount_minor;
  const Points claw = pro_rata(order.points_earned, order.refunded_minor, order.amount_minor) -
                      order.points_clawed_back;
  const Points to_return =
      std::max<Points>(0, pro_rata(order.points_spent, order.refunded_minor, order.amount_minor) -
                              order.points_returned);
  const std::size_t tx =
      work.begin(TransactionKind::refund, refund.order_id, work.command().reason, true);
  Outcome outcome;
  // Points that paid for the order go back first, to the lots they came from.
  Points returned = 0;
  std::set<TransactionId> spends;
  for (const Allocation& allocation : work.allocations()) spends.insert(allocation.transaction_id);
  for (TransactionId spend : spends)
    returned += give_back(work, tx, spend, Account::program_spent, to_return - returned);
  order.points_returned += returned;
  outcome.points_returned = returned;
  outcome.points = -claw_back(work, tx, refund.order_id, claw, outcome);
  order.points_clawed_back += claw;
  work.effects().order = order;
  return outcome;
}

Result adjust(Work& work, const Adjust& adjust) {
  if (adjust.points < 0 && work.account().available < -adjust.points)
    return Rejection::insufficient_points;
  const std::size_t tx = work.begin(TransactionKind::adjustment, "", work.command().reason, true);
  if (adjust.points < 0) {
    take_from_active_lots(work, tx, -adjust.points, Account::program_revoked);
    return Outcome{.points = adjust.points};
  }
  Lot lot;
  lot.member_id = work.account().member_id;
  lot.transaction_id = work.transaction_id(tx);
  lot.amount = lot.remaining = adjust.points;
  lot.earned_at_us = lot.matures_at_us = work.now();
  lot.expires_at_us = expires_at(work.policy().expiry, work.now(), *work.policy().zone);
  lot.source = "adjustment";
  Lot& added = work.add_lot(std::move(lot));
  Outcome outcome{.points = adjust.points};
  outcome.debt_repaid = make_available(work, tx, added, Account::program_issued);
  return outcome;
}

Result settle_command(Work& work) {
  work.begin(TransactionKind::expiry, "", work.command().reason, true);
  return Outcome{};
}

Result set_account_frozen(Work& work, bool frozen) {
  work.account().account_frozen = frozen;
  work.begin(frozen ? TransactionKind::freeze_account : TransactionKind::unfreeze_account, "",
             work.command().reason, true);
  return Outcome{};
}

Result freeze_lot(Work& work, LotId lot_id) {
  Lot* lot = work.find_lot(lot_id);
  if (lot == nullptr || lot->member_id != work.account().member_id) return Rejection::unknown_lot;
  if (lot->state != LotState::active && lot->state != LotState::pending)
    return Rejection::lot_not_freezable;
  const std::size_t tx =
      work.begin(TransactionKind::freeze_lot, std::to_string(lot_id), work.command().reason, true);
  work.post(tx, account_of(lot->state), -lot->remaining, lot->id);
  work.post(tx, Account::member_frozen, lot->remaining, lot->id);
  lot->state = LotState::frozen;
  work.touch(*lot);
  return Outcome{.points = 0};
}

Result unfreeze_lot(Work& work, LotId lot_id) {
  Lot* lot = work.find_lot(lot_id);
  if (lot == nullptr || lot->member_id != work.account().member_id) return Rejection::unknown_lot;
  if (lot->state != LotState::frozen) return Rejection::lot_not_frozen;
  const std::size_t tx = work.begin(TransactionKind::unfreeze_lot, std::to_string(lot_id),
                                    work.command().reason, true);
  // Back to pending if its return window is still open; due maturation or expiry happens in the
  // settle that follows.
  lot->state = lot->matures_at_us > work.now() ? LotState::pending : LotState::active;
  work.post(tx, Account::member_frozen, -lot->remaining, lot->id);
  work.post(tx, account_of(lot->state), lot->remaining, lot->id);
  work.touch(*lot);
  return Outcome{.points = 0};
}

Result record_event(Work& work, const RecordEvent& event) {
  const std::string reason =
      work.command().reason.empty() ? event.type + " recorded" : work.command().reason;
  work.begin(TransactionKind::event, event.type, reason, true);
  return Outcome{};
}

Result run(Work& work, const CommandBody& body) {
  struct Visitor {
    Work& work;
    Result operator()(const OpenAccount& c) { return open_account(work, c); }
    Result operator()(const Earn& c) { return earn(work, c); }
    Result operator()(const Spend& c) { return spend(work, c); }
    Result operator()(const PlaceHold& c) { return place_hold(work, c); }
    Result operator()(const CaptureHold& c) { return capture_hold(work, c); }
    Result operator()(const ReleaseHold& c) { return release_hold(work, c); }
    Result operator()(const Refund& c) { return refund(work, c); }
    Result operator()(const CancelTransaction& c) { return cancel(work, c); }
    Result operator()(const Adjust& c) { return adjust(work, c); }
    Result operator()(const Settle&) { return settle_command(work); }
    Result operator()(const FreezeAccount&) { return set_account_frozen(work, true); }
    Result operator()(const UnfreezeAccount&) { return set_account_frozen(work, false); }
    Result operator()(const FreezeLot& c) { return freeze_lot(work, c.lot_id); }
    Result operator()(const UnfreezeLot& c) { return unfreeze_lot(work, c.lot_id); }
    Result operator()(const RecordEvent& c) { return record_event(work, c); }
  };
  return std::visit(Visitor{work}, body);
}

}  // namespace

Needs needs_for(const Command& command, const std::optional<AccountRow>& account,
                const Policy& policy) {
  Needs needs;
  const bool due = account && account->next_due_us <= command.at_us;
  const bool rolling = policy.expiry.kind == ExpiryPolicy::Kind::rolling_days;
  std::visit(
      [&](const auto& body) {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, Earn>) {
          needs.order_id = body.order_id;
          needs.live_lots = rolling;
        } else if constexpr (std::is_same_v<T, Spend>) {
          needs.order_id = body.order_id;
          needs.live_lots = true;
        } else if constexpr (std::is_same_v<T, PlaceHold> || std::is_same_v<T, CaptureHold> ||
                             std::is_same_v<T, ReleaseHold>) {
          needs.hold_ref = body.hold_ref;
          needs.live_lots = std::is_same_v<T, PlaceHold>;
        } else if constexpr (std::is_same_v<T, Refund>) {
          needs.order_id = body.order_id;
          needs.order_spend_allocations = true;
          needs.live_lots = true;
        } else if constexpr (std::is_same_v<T, CancelTransaction>) {
          needs.transaction_id = body.transaction_id;
        } else if constexpr (std::is_same_v<T, Adjust> || std::is_same_v<T, Settle>) {
          needs.live_lots = true;
        } else if constexpr (std::is_same_v<T, FreezeLot> || std::is_same_v<T, UnfreezeLot>) {
          needs.lot_id = body.lot_id;
          needs.live_lots = true;  // the lot's state changes which lot is due next
        }
      },
      command.body);
  if (due) needs.live_lots = true;
  return needs;
}

Decision decide(const MemberBook& book, const Command& command, const Policy& policy,
                IdSource& ids) {
  Decision decision;
  if (auto invalid = validate(command)) {
    decision.rejection = invalid;
    return decision;
  }
  const bool opening = std::holds_alternative<OpenAccount>(command.body);
  if (!opening && !book.account) {
    decision.rejection = Rejection::unknown_member;
    return decision;
  }
  Work work(book, command, policy, ids);
  if (!opening) settle(work);
  Result result = run(work, command.body);
  if (auto* rejection = std::get_if<Rejection>(&result)) {
    decision.rejection = *rejection;
    return decision;
  }
  if (std::holds_alternative<UnfreezeLot>(command.body)) settle(work);
  decision.effects = work.finish(std::get<Outcome>(result));
  return decision;
}

}  // namespace pointsmall::ledger
