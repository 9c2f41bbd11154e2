// Reading JSON documents field by field. Every problem is collected with its field's path, so one
// answer lists all of them; unknown fields are problems too. Used for API request bodies and for
// the earning engine's rule documents.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/types.h"

namespace pointsmall {

struct FieldError {
  // The dotted path into the document, e.g. "items[2].price.amount", or a query name.
  std::string field;
  std::string message;
};

inline constexpr std::size_t kMaxJsonDepth = 32;

struct Money {
  MinorUnits amount = 0;
  std::string currency;  // three upper-case letters
};

struct TextRule {
  bool required = false;
  std::size_t min_length = 1;  // in characters (Unicode code points), when present
  std::size_t max_length = 128;
};

// A view of one JSON object of the body. Readers of nested objects share the error list.
class Fields {
 public:
  Fields(const nlohmann::json& object, std::string path, std::vector<FieldError>& errors);

  [[nodiscard]] bool has(std::string_view name) const;
  // Text without control characters; nullopt when absent (an error when required) or invalid.
  std::optional<std::string> text(std::string_view name, TextRule rule);
  std::optional<std::int64_t> integer(std::string_view name, bool required, std::int64_t min,
                                      std::int64_t max);
  // {"amount": n, "currency": "USD"} with min <= n <= 10^12.
  std::optional<Money> money(std::string_view name, bool required, MinorUnits min);
  // An RFC 3339 time.
  std::optional<TimeUs> time(std::string_view name, bool required);
  // One of `allowed`.
  std::optional<std::string> one_of(std::string_view name, bool required,
                                    const std::vector<std::string_view>& allowed);
  // The objects of an array (at most `max`), each read by `read`.
  template <typename Read>
  void objects(std::string_view name, bool required, std::size_t max, Read&& read);
  // Records an error for every member not in `known`.
  void reject_unknown(const std::vector<std::string_view>& known);

  void error(std::string_view name, std::string message);
  [[nodiscard]] std::string path_of(std::string_view name) const;

 private:
  const nlohmann::json* find(std::string_view name, bool required);

  const nlohmann::json& object_;
  std::string path_;
  std::vector<FieldError>& errors_;
};

// "A", "B" -> "must be one of A, B".
std::string one_of_message(const std::vector<std::string_view>& allowed);
// "null", "a boolean", "a number", ... for messages.
std::string json_type_name(const nlohmann::json& value);

template <typename Read>
void Fields::objects(std::string_view name, bool required, std::size_t max, Read&& read) {
  const nlohmann::json* value = find(name, required);
  if (value == nullptr) return;
  if (!value->is_array()) {
    error(name, "must be an array");
    return;
  }
  if (value->size() > max) {
    error(name, "must have at most " + std::to_string(max) + " elements");
    return;
  }
  for (std::size_t i = 0; i < value->size(); ++i) {
    const std::string element_path = path_of(name) + "[" + std::to_string(i) + "]";
    if (!(*value)[i].is_object()) {
      errors_.push_back({element_path, "must be an object"});
      continue;
    }
    Fields element((*value)[i], element_path, errors_);
    read(element);
  }
}

}  // namespace pointsmall
