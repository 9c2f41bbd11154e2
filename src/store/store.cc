#include "store/store.h"

#include <future>

namespace pointsmall::store {

CommandResult LedgerStore::execute(ledger::Command command) {
  std::promise<CommandResult> promise;
  auto result = promise.get_future();
  submit(std::move(command), [&promise](const CommandResult& r) { promise.set_value(r); });
  return result.get();
}

}  // namespace pointsmall::store
