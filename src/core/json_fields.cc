#include "core/json_fields.h"

#include <algorithm>

#include "core/time_zone.h"

namespace pointsmall {
namespace {

constexpr MinorUnits kMaxMoney = 1'000'000'000'000;

std::size_t code_points(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

bool has_control_characters(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7F;
  });
}

}  // namespace

std::string json_type_name(const nlohmann::json& value) {
  if (value.is_null()) return "null";
  if (value.is_boolean()) return "a boolean";
  if (value.is_number()) return "a number";
  if (value.is_string()) return "a string";
  if (value.is_array()) return "an array";
  return "an object";
}

std::string one_of_message(const std::vector<std::string_view>& allowed) {
  std::string message = "must be one of ";
  for (std::size_t i = 0; i < allowed.size(); ++i) {
    if (i > 0) message += ", ";
    message += allowed[i];
  }
  return message;
}

Fields::Fields(const nlohmann::json& object, std::string path, std::vector<FieldError>& errors)
    : object_(object), path_(std::move(path)), errors_(errors) {}

std::string Fields::path_of(std::string_view name) const {
  return path_.empty() ? std::string(name) : path_ + "." + std::string(name);
}

void Fields::error(std::string_view name, std::string message) {
  errors_.push_back({path_of(name), std::move(message)});
}

bool Fields::has(std::string_view name) const {
  return object_.find(name) != object_.end();
}

const nlohmann::json* Fields::find(std::string_view name, bool required) {
  const auto it = object_.find(name);
  if (it == object_.end()) {
    if (required) error(name, "is required");
    return nullptr;
  }
  return &*it;
}

std::optional<std::string> Fields::text(std::string_view name, TextRule rule) {
  const nlohmann::json* value = find(name, rule.required);
  if (value == nullptr) return std::nullopt;
  if (!value->is_string()) {
    error(name, "must be a string, not " + json_type_name(*value));
    return std::nullopt;
  }
  const auto& text = value->get_ref<const std::string&>();
  const std::size_t length = code_points(text);
  if (length < rule.min_length || length > rule.max_length) {
    error(name, "must have " + std::to_string(rule.min_length) + " to " +
                    std::to_string(rule.max_length) + " characters");
    return std::nullopt;
  }
  if (has_control_characters(text)) {
    error(name, "must not contain control characters");
    return std::nullopt;
  }
  return text;
}

std::optional<std::int64_t> Fields::integer(std::string_view name, bool required, std::int64_t min,
                                            std::int64_t max) {
  const nlohmann::json* value = find(name, required);
  if (value == nullptr) return std::nullopt;
  // Floats such as 10.0 are refused as well: points and money are integers.
  if (!value->is_number_integer()) {
    error(name, "must be an integer, not " + json_type_name(*value));
    return std::nullopt;
  }
  if (value->is_number_unsigned() &&
      value->get<std::uint64_t>() > static_cast<std::uint64_t>(max)) {
    error(name, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return std::nullopt;
  }
  const auto number = value->get<std::int64_t>();
  if (number < min || number > max) {
    error(name, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return std::nullopt;
  }
  return number;
}

std::optional<Money> Fields::money(std::string_view name, bool required, MinorUnits min) {
  const nlohmann::json* value = find(name, required);
  if (value == nullptr) return std::nullopt;
  if (!value->is_object()) {
    error(name, "must be an object {\"amount\", \"currency\"}");
    return std::nullopt;
  }
  Fields inner(*value, path_of(name), errors_);
  const std::size_t before = errors_.size();
  const auto amount = inner.integer("amount", true, min, kMaxMoney);
  auto currency =
      inner.text("currency", TextRule{.required = true, .min_length = 3, .max_length = 3});
  if (currency && !std::all_of(currency->begin(), currency->end(),
                               [](char c) { return c >= 'A' && c <= 'Z'; })) {
    inner.error("currency", "must be an ISO 4217 code of three upper-case letters");
    currency.reset();
  }
  inner.reject_unknown({"amount", "currency"});
  if (errors_.size() != before || !amount || !currency) return std::nullopt;
  return Money{*amount, std::move(*currency)};
}

std::optional<TimeUs> Fields::time(std::string_view name, bool required) {
  auto text = this->text(name, TextRule{.required = required, .min_length = 1, .max_length = 64});
  if (!text) return std::nullopt;
  auto at_us = parse_rfc3339(*text);
  if (!at_us || text->find('T') == std::string::npos) {
    error(name, "must be an RFC 3339 time such as 2026-11-22T10:15:00Z");
    return std::nullopt;
  }
  return at_us;
}

std::optional<std::string> Fields::one_of(std::string_view name, bool required,
                                          const std::vector<std::string_view>& allowed) {
  auto text = this->text(name, TextRule{.required = required, .min_length = 1, .max_length = 64});
  if (!text) return std::nullopt;
  if (std::find(allowed.begin(), allowed.end(), *text) == allowed.end()) {
    error(name, one_of_message(allowed));
    return std::nullopt;
  }
  return text;
}

void Fields::reject_unknown(const std::vector<std::string_view>& known) {
  for (const auto& [key, value] : object_.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end())
      error(key, "is not a known field");
  }
}

}  // namespace pointsmall
