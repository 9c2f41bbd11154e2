// Back-tests: the stored events of a time range replayed against a (draft) earning program,
// against what was actually issued for them.
//
// The replay starts every member with empty counters at the range's start (no caps used, base
// tier, no streak), evaluates the events in the order they were applied, and uses members'
// profiles as they are now. Referrer rewards count where they were earned (the friend's event).
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "rules/program.h"
#include "store/member_directory.h"
#include "store/store.h"

namespace pointsmall::earning {

struct BackTestTotals {
  Points points = 0;
  std::map<std::string, Points> by_rule;  // rule id (or "checkin", "tier", ...)
  std::map<std::string, Points> by_tier;  // the member's tier id at the event ("" without tiers)
  std::map<std::string, Points> by_day;   // YYYY-MM-DD in the program's time zone
};

struct BackTest {
  TimeUs from_us = 0;
  TimeUs until_us = 0;
  std::int64_t events = 0;
  std::int64_t members = 0;
  BackTestTotals simulated;
  BackTestTotals actual;
  std::map<std::string, std::int64_t> refused;  // by problem: events the draft would refuse
  // Events stored without an earning record (before the engine): their points count in
  // actual.points and by_day, under the rule "(not recorded)".
  std::int64_t events_without_record = 0;
};

inline constexpr std::int64_t kMaxBackTestEvents = 5'000'000;

// The range holds more than kMaxBackTestEvents events.
class BackTestTooLarge : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws BackTestTooLarge, or std::runtime_error when a store fails.
BackTest back_test(store::LedgerStore& ledger, store::MemberDirectory& members,
                   const rules::Program& draft, TimeUs from_us, TimeUs until_us);

nlohmann::json back_test_json(const BackTest& result);

}  // namespace pointsmall::earning
