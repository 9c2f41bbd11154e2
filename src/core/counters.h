// Counters: named integers the store keeps beside the ledger, per member or program-wide, and
// changes in the same savepoint as the command they belong to. The earning engine keeps in them
// what its caps, budgets, streaks and tiers must remember (see rules/README.md for the names).
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <string>

#include "core/types.h"

namespace pointsmall {

struct CounterKey {
  MemberId scope = 0;  // the member's id; 0 for program-wide counters
  std::string name;    // 1..200 characters
  // clang-tidy 14 reports modernize-use-nullptr on a defaulted <=> (llvm-project#53961).
  friend auto operator<=>(const CounterKey&,
                          const CounterKey&) = default;  // NOLINT(modernize-use-nullptr)
  friend bool operator==(const CounterKey&, const CounterKey&) = default;
};

// Values by key; a counter never written reads as 0.
using Counters = std::map<CounterKey, std::int64_t>;

inline std::int64_t counter_value(const Counters& counters, const CounterKey& key) {
  auto it = counters.find(key);
  return it == counters.end() ? 0 : it->second;
}

}  // namespace pointsmall
