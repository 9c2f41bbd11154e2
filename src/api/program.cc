#include "api/program.h"

#include "earning/programs.h"

#include <algorithm>
#include <array>
#include <string_view>

namespace pointsmall::api {

int minor_unit_digits(const std::string& currency) {
  static constexpr std::array<std::string_view, 17> kNoMinor = {
      "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG",
      "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"};
  static constexpr std::array<std::string_view, 7> kThreeMinor = {"BHD", "IQD", "JOD", "KWD",
                                                                  "LYD", "OMR", "TND"};
  if (std::find(kNoMinor.begin(), kNoMinor.end(), currency) != kNoMinor.end()) return 0;
  if (std::find(kThreeMinor.begin(), kThreeMinor.end(), currency) != kThreeMinor.end()) return 3;
  return 2;
}

std::string format_money(MinorUnits amount_minor, const std::string& currency) {
  const int digits = minor_unit_digits(currency);
  std::string text = std::to_string(amount_minor < 0 ? -amount_minor : amount_minor);
  if (digits > 0) {
    if (text.size() <= static_cast<std::size_t>(digits))
      text.insert(0, static_cast<std::size_t>(digits) + 1 - text.size(), '0');
    text.insert(text.size() - static_cast<std::size_t>(digits), ".");
  }
  return (amount_minor < 0 ? "-" : "") + text + " " + currency;
}

const AcceptedCurrency* find_accepted(const ProgramSettings& program, const std::string& currency) {
  for (const AcceptedCurrency& accepted : program.accepted)
    if (accepted.currency == currency) return &accepted;
  return nullptr;
}

std::vector<rules::Rule> default_rules(const ProgramSettings& program) {
  std::vector<rules::Rule> rules;
  for (const AcceptedCurrency& accepted : program.accepted)
    if (accepted.points_per_unit > 0)
      rules.push_back(earning::base_rate_rule(
          accepted.currency, minor_unit_digits(accepted.currency), accepted.points_per_unit));
  return rules;
}

}  // namespace pointsmall::api
