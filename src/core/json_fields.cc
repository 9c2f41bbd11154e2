#include "core/json_fields.h"

#include <algorithm>
#include <limits>
#include <utility>

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
  return "must be one of " + join(allowed);
}

std::optional<std::int64_t> int64_of(const nlohmann::json& value) {
  if (!value.is_number_integer()) return std::nullopt;
  if (value.is_number_unsigned() &&
      value.get<std::uint64_t>() >
          static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    return std::nullopt;
  return value.get<std::int64_t>();
}

std::string text_problem(std::string_view text, TextRule rule) {
  const std::size_t length = code_points(text);
  if (length < rule.min_length || length > rule.max_length) {
    return "must have " + std::to_string(rule.min_length) + " to " +
           std::to_string(rule.max_length) + " characters";
  }
  return has_control_characters(text) ? "must not contain control characters" : "";
}

std::string id_problem(std::string_view text) {
  if (text.empty() || text.size() > kMaxIdLength) return "must have 1 to 64 characters";
  const bool valid = std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
  return valid ? "" : "must use only a-z, 0-9, _ and -";
}

TimeUs whole_seconds(TimeUs at_us) {
  const TimeUs within = ((at_us % kMicrosPerSecond) + kMicrosPerSecond) % kMicrosPerSecond;
  return at_us - within;
}

std::string join(const std::vector<std::string_view>& names) {
  std::string joined;
  for (const std::string_view name : names) {
    if (!joined.empty()) joined += ", ";
    joined += name;
  }
  return joined;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string_view nearest_name(std::string_view name, const std::vector<std::string_view>& known) {
  std::string_view nearest;
  std::size_t nearest_distance = 3;  // hints only for at most two edits
  for (const std::string_view candidate : known) {
    const std::size_t distance = edit_distance(name, candidate);
    if (distance < nearest_distance) {
      nearest = candidate;
      nearest_distance = distance;
    }
  }
  return nearest;
}

std::string with_hint(std::string message, std::string_view name,
                      const std::vector<std::string_view>& known) {
  const std::string_view nearest = nearest_name(name, known);
  if (!nearest.empty()) message += "; did you mean \"" + std::string(nearest) + "\"?";
  return message + " Known: " + join(known);
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

std::optional<Fields> Fields::object(std::string_view name, bool required) {
  const nlohmann::json* value = find(name, required);
  if (value == nullptr) return std::nullopt;
  if (!value->is_object()) {
    error(name, "must be an object, not " + json_type_name(*value));
    return std::nullopt;
  }
  return Fields(*value, path_of(name), errors_);
}

bool Fields::boolean(std::string_view name, bool fallback) {
  const nlohmann::json* value = find(name);
  if (value == nullptr) return fallback;
  if (!value->is_boolean()) {
    error(name, "must be true or false, not " + json_type_name(*value));
    return fallback;
  }
  return value->get<bool>();
}

std::optional<std::string> Fields::text(std::string_view name, TextRule rule) {
  const nlohmann::json* value = find(name, rule.required);
  if (value == nullptr) return std::nullopt;
  if (!value->is_string()) {
    error(name, "must be a string, not " + json_type_name(*value));
    return std::nullopt;
  }
  const auto& text = value->get_ref<const std::string&>();
  std::string problem = text_problem(text, rule);
  if (!problem.empty()) {
    error(name, std::move(problem));
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
  const auto number = int64_of(*value);
  if (!number || *number < min || *number > max) {
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
  auto currency = inner.currency("currency", true);
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

std::optional<TimeUs> Fields::whole_second_time(std::string_view name, bool required) {
  const auto at_us = time(name, required);
  if (!at_us) return std::nullopt;
  return whole_seconds(*at_us);
}

std::optional<std::string> Fields::id(std::string_view name, bool required) {
  auto id = text(name, TextRule{.required = required, .max_length = kMaxIdLength});
  if (!id) return std::nullopt;
  std::string problem = id_problem(*id);
  if (!problem.empty()) {
    error(name, std::move(problem));
    return std::nullopt;
  }
  return id;
}

std::optional<std::string> Fields::currency(std::string_view name, bool required) {
  auto currency = text(name, TextRule{.required = required, .min_length = 3, .max_length = 3});
  if (!currency) return std::nullopt;
  if (!std::all_of(currency->begin(), currency->end(),
                   [](char c) { return c >= 'A' && c <= 'Z'; })) {
    error(name, "must be an ISO 4217 code of three upper-case letters");
    return std::nullopt;
  }
  return currency;
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

std::vector<std::string> Fields::texts(
    std::string_view name, std::size_t max_items,
    const std::function<std::string(std::string_view)>& problem_of) {
  const nlohmann::json* value = find(name);
  if (value == nullptr) return {};
  if (!value->is_array()) {
    error(name, "must be an array of strings, not " + json_type_name(*value));
    return {};
  }
  if (value->size() > max_items) {
    error(name, "must have at most " + std::to_string(max_items) + " elements");
    return {};
  }
  std::vector<std::string> texts;
  for (std::size_t i = 0; i < value->size(); ++i) {
    const nlohmann::json& text = (*value)[i];
    std::string problem = text.is_string() ? problem_of(text.get_ref<const std::string&>())
                                           : "must be a string, not " + json_type_name(text);
    if (!problem.empty()) {
      error(std::string(name) + "[" + std::to_string(i) + "]", std::move(problem));
      continue;
    }
    texts.push_back(text.get<std::string>());
  }
  return texts;
}

void Fields::reject_unknown(const std::vector<std::string_view>& known) {
  reject_unknown(known, [](std::string_view) { return std::string("is not a known field"); });
}

void Fields::reject_unknown(const std::vector<std::string_view>& known,
                            const std::function<std::string(std::string_view)>& message) {
  for (const auto& [key, value] : object_.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) error(key, message(key));
  }
}

}  // namespace pointsmall
