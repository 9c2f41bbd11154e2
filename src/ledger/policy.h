// The program's ledger policy: when points expire, and who bears a clawback that the member's
// points cannot cover.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/time_zone.h"
#include "core/types.h"

namespace pointsmall::ledger {

struct ExpiryPolicy {
  enum class Kind : std::uint8_t {
    never,
    days_after_earning,  // expires `count` days after it was earned
    end_of_month,        // at the end of the count-th month after the month it was earned
                         // (0: the end of the earning month), in the program's time zone
    end_of_year,         // at the end of the count-th year after the year it was earned
    rolling_days,        // `count` days after the member's latest earn or spend
  };
  Kind kind = Kind::days_after_earning;
  int count = 365;  // 1..36500 for days, 0..1200 for months, 0..100 for years
};

// What a refund claws back beyond the points left in the refunded order's own lots.
enum class ShortfallPolicy : std::uint8_t {
  other_lots_then_debt,    // take from the member's other lots; the rest becomes debt that
                           // later earning repays
  other_lots_then_absorb,  // take from the member's other lots; the merchant absorbs the rest
  absorb,                  // the merchant absorbs all of it
};

struct Policy {
  ExpiryPolicy expiry;
  ShortfallPolicy shortfall = ShortfallPolicy::other_lots_then_debt;
  std::shared_ptr<const TimeZone> zone = TimeZone::utc();  // never null
};

// When points earned at `earned_at_us` expire under `policy` (kTimeNever for Kind::never).
TimeUs expires_at(const ExpiryPolicy& policy, TimeUs earned_at_us, const TimeZone& zone);

// Parses "never", "days:365", "end-of-month:12", "end-of-year:1", "rolling:180".
std::optional<ExpiryPolicy> parse_expiry_policy(std::string_view text);
std::string format_expiry_policy(const ExpiryPolicy& policy);
std::optional<ShortfallPolicy> parse_shortfall_policy(std::string_view text);
std::string_view shortfall_policy_name(ShortfallPolicy policy);

}  // namespace pointsmall::ledger
