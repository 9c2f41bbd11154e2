#include "ledger/policy.h"

#include <charconv>

namespace pointsmall::ledger {
namespace {

// The first instant of the local month `months_ahead` months after (year, month).
TimeUs start_of_month_after(int year, int month, int months_ahead, const TimeZone& zone) {
  const int index = year * 12 + (month - 1) + months_ahead;
  return zone.to_utc(CivilTime{index / 12, index % 12 + 1, 1, 0, 0, 0});
}

}  // namespace

TimeUs expires_at(const ExpiryPolicy& policy, TimeUs earned_at_us, const TimeZone& zone) {
  switch (policy.kind) {
    case ExpiryPolicy::Kind::never:
      return kTimeNever;
    case ExpiryPolicy::Kind::days_after_earning:
    case ExpiryPolicy::Kind::rolling_days:
      return earned_at_us + policy.count * kMicrosPerDay;
    case ExpiryPolicy::Kind::end_of_month: {
      const CivilTime local = zone.to_local(earned_at_us);
      return start_of_month_after(local.year, local.month, policy.count + 1, zone);
    }
    case ExpiryPolicy::Kind::end_of_year: {
      const CivilTime local = zone.to_local(earned_at_us);
      return zone.to_utc(CivilTime{local.year + policy.count + 1, 1, 1, 0, 0, 0});
    }
  }
  return kTimeNever;
}

std::optional<ExpiryPolicy> parse_expiry_policy(std::string_view text) {
  if (text == "never") return ExpiryPolicy{ExpiryPolicy::Kind::never, 0};
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const std::string_view name = text.substr(0, colon);
  const std::string_view number = text.substr(colon + 1);
  int count = 0;
  auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), count);
  if (error != std::errc() || end != number.data() + number.size()) return std::nullopt;
  if (name == "days" && count >= 1 && count <= 36500)
    return ExpiryPolicy{ExpiryPolicy::Kind::days_after_earning, count};
  if (name == "rolling" && count >= 1 && count <= 36500)
    return ExpiryPolicy{ExpiryPolicy::Kind::rolling_days, count};
  if (name == "end-of-month" && count >= 0 && count <= 1200)
    return ExpiryPolicy{ExpiryPolicy::Kind::end_of_month, count};
  if (name == "end-of-year" && count >= 0 && count <= 100)
    return ExpiryPolicy{ExpiryPolicy::Kind::end_of_year, count};
  return std::nullopt;
}

std::string format_expiry_policy(const ExpiryPolicy& policy) {
  switch (policy.kind) {
    case ExpiryPolicy::Kind::never:
      return "never";
    case ExpiryPolicy::Kind::days_after_earning:
      return "days:" + std::to_string(policy.count);
    case ExpiryPolicy::Kind::rolling_days:
      return "rolling:" + std::to_string(policy.count);
    case ExpiryPolicy::Kind::end_of_month:
      return "end-of-month:" + std::to_string(policy.count);
    case ExpiryPolicy::Kind::end_of_year:
      return "end-of-year:" + std::to_string(policy.count);
  }
  return "never";
}

std::optional<ShortfallPolicy> parse_shortfall_policy(std::string_view text) {
  if (text == "debt") return ShortfallPolicy::other_lots_then_debt;
  if (text == "absorb-after-lots") return ShortfallPolicy::other_lots_then_absorb;
  if (text == "absorb") return ShortfallPolicy::absorb;
  return std::nullopt;
}

std::string_view shortfall_policy_name(ShortfallPolicy policy) {
  switch (policy) {
    case ShortfallPolicy::other_lots_then_debt:
      return "debt";
    case ShortfallPolicy::other_lots_then_absorb:
      return "absorb-after-lots";
    case ShortfallPolicy::absorb:
      return "absorb";
  }
  return "debt";
}

}  // namespace pointsmall::ledger
