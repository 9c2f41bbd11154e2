#include "store/store.h"

#include <future>

namespace pointsmall::store {

void set_balances(ProgramSummary& s, const ledger::AccountBalances& balances) {
  auto at = [&](ledger::Account account) { return balances[static_cast<std::size_t>(account)]; };
  s.issued = -at(ledger::Account::program_issued);
  s.available = at(ledger::Account::member_available);
  s.pending = at(ledger::Account::member_pending);
  s.frozen = at(ledger::Account::member_frozen);
  s.held = at(ledger::Account::member_held);
  s.debt = -at(ledger::Account::member_debt);
  s.spent = at(ledger::Account::program_spent);
  s.expired = at(ledger::Account::program_expired);
  s.clawed_back = at(ledger::Account::program_clawed_back);
  s.revoked = at(ledger::Account::program_revoked);
}

CommandResult LedgerStore::execute(ledger::Command command) {
  std::promise<CommandResult> promise;
  auto result = promise.get_future();
  submit(std::move(command), [&promise](const CommandResult& r) { promise.set_value(r); });
  return result.get();
}

}  // namespace pointsmall::store
