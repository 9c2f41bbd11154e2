// The program's settings the API needs: its currency, the currencies it accepts and how many
// points a purchase earns in each (until the earning engine's rules), and session lifetimes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/types.h"
#include "rules/program.h"

namespace pointsmall::api {

struct AcceptedCurrency {
  std::string currency;  // ISO 4217
  // Points per whole unit (e.g. per US dollar), >= 0: the base rate a new program starts with
  // (its rule "base-rate-usd"); after that the rules decide.
  std::int64_t points_per_unit;
};

struct ProgramSettings {
  std::string name = "pointsmall";
  std::string currency = "USD";  // the program's own currency
  std::vector<AcceptedCurrency> accepted{{"USD", 1}};
  // What 100 points are worth, in minor units of `currency`, for the liability in reports:
  // the value of P points is floor(P * point_value_per_100_points / 100).
  std::int64_t point_value_per_100_points = 100;
  TimeUs return_window_us = 0;  // purchase points stay pending this long (refunds' window)
  TimeUs accepted_lateness_us = 30 * kMicrosPerDay;      // events older than this are refused
  TimeUs member_session_ttl_us = 3'600'000'000;          // 1 hour
  TimeUs operator_session_ttl_us = 8LL * 3'600'000'000;  // 8 hours
  // A points-plus-cash redemption's points are released when payment is not confirmed by then.
  TimeUs redemption_payment_window_us = 30 * 60'000'000LL;  // 30 minutes
  // A reserved redemption is released when the merchant does not confirm it by then; 0: never.
  TimeUs redemption_confirm_window_us = 0;
  bool secure_cookies = false;  // add Secure to the session cookie (set when serving HTTPS)
};

// Digits after the decimal point of a currency (ISO 4217): 0 for JPY, KRW, ..., 3 for BHD, KWD,
// ..., 2 for the rest.
int minor_unit_digits(const std::string& currency);
// 1999 USD minor units -> "19.99 USD".
std::string format_money(MinorUnits amount_minor, const std::string& currency);
const AcceptedCurrency* find_accepted(const ProgramSettings& program, const std::string& currency);
// The rules a new program starts with: a base rate for each accepted currency that earns points.
std::vector<rules::Rule> default_rules(const ProgramSettings& program);

}  // namespace pointsmall::api
