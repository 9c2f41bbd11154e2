// Reading JSON documents field by field. Every problem is collected with its field's path, so one
// answer lists all of them; unknown fields are problems too. Used for API request bodies, the
// earning engine's rule documents and the mall's item and coupon template documents.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <iterator>
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
inline constexpr std::size_t kMaxIdLength = 64;  // ids of documents: see id_problem

struct Money {
  MinorUnits amount = 0;
  std::string currency;  // three upper-case letters
};

struct TextRule {
  bool required = false;
  std::size_t min_length = 1;  // in characters (Unicode code points), when present
  std::size_t max_length = 128;
};

// A view of one JSON object of the body. Readers of nested objects share the error list. Every
// reader returns nullopt (or its fallback) when the member is absent or invalid, and records an
// error when it is invalid, or absent and required.
class Fields {
 public:
  Fields(const nlohmann::json& object, std::string path, std::vector<FieldError>& errors);

  // The object read, its path ("" for a document itself) and the error list it shares.
  [[nodiscard]] const nlohmann::json& members() const { return object_; }
  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] std::vector<FieldError>& errors() const { return errors_; }

  [[nodiscard]] bool has(std::string_view name) const;
  // The member `name` as it is; nullptr when absent ("is required" recorded when `required`).
  const nlohmann::json* find(std::string_view name, bool required = false);
  // The nested object `name`, read with the same error list: "must be an object, not ...".
  std::optional<Fields> object(std::string_view name, bool required);
  // true or false; `fallback` when absent or not a boolean ("must be true or false, not ...").
  bool boolean(std::string_view name, bool fallback);
  // Text without control characters; nullopt when absent (an error when required) or invalid.
  std::optional<std::string> text(std::string_view name, TextRule rule);
  std::optional<std::int64_t> integer(std::string_view name, bool required, std::int64_t min,
                                      std::int64_t max);
  // {"amount": n, "currency": "USD"} with min <= n <= 10^12.
  std::optional<Money> money(std::string_view name, bool required, MinorUnits min);
  // An RFC 3339 time.
  std::optional<TimeUs> time(std::string_view name, bool required);
  // An RFC 3339 time rounded down to a whole second (see whole_seconds).
  std::optional<TimeUs> whole_second_time(std::string_view name, bool required);
  // An id (see id_problem).
  std::optional<std::string> id(std::string_view name, bool required);
  // An ISO 4217 code of three upper-case letters ("USD").
  std::optional<std::string> currency(std::string_view name, bool required);
  // One of `allowed`.
  std::optional<std::string> one_of(std::string_view name, bool required,
                                    const std::vector<std::string_view>& allowed);
  // The value of an enum whose names, indexed by value, are `names` (as one_of reads it).
  template <typename Enum, std::size_t N>
  std::optional<Enum> choice(std::string_view name, bool required,
                             const std::array<std::string_view, N>& names);
  // The texts of the optional array `name` (at most `max_items`). An element that is not a
  // string, or for which `problem_of` returns a message, is an error at "name[i]" and left out.
  std::vector<std::string> texts(std::string_view name, std::size_t max_items,
                                 const std::function<std::string(std::string_view)>& problem_of);
  // The objects of an array (at most `max`), each read by `read`.
  template <typename Read>
  void objects(std::string_view name, bool required, std::size_t max, Read&& read);
  // Records an error for every member not in `known`: "is not a known field", or what
  // `message(name)` says.
  void reject_unknown(const std::vector<std::string_view>& known);
  void reject_unknown(const std::vector<std::string_view>& known,
                      const std::function<std::string(std::string_view)>& message);

  void error(std::string_view name, std::string message);
  [[nodiscard]] std::string path_of(std::string_view name) const;

 private:
  const nlohmann::json& object_;
  std::string path_;
  std::vector<FieldError>& errors_;
};

// "A", "B" -> "must be one of A, B".
std::string one_of_message(const std::vector<std::string_view>& allowed);
// "null", "a boolean", "a number", ... for messages.
std::string json_type_name(const nlohmann::json& value);
// The value as a 64-bit integer; nullopt when it is not an integer or does not fit.
std::optional<std::int64_t> int64_of(const nlohmann::json& value);

// Empty when `text` has rule.min_length..rule.max_length characters and no control characters;
// else the error message ("must have 1 to 64 characters"). `rule.required` plays no part.
std::string text_problem(std::string_view text, TextRule rule);
// Empty when `text` is an id: 1..kMaxIdLength bytes, each of a-z, 0-9, _ and -; else the error
// message.
std::string id_problem(std::string_view text);
// `at_us` rounded down to a whole second, as format_rfc3339_utc writes it: documents keep their
// times so, to read back as they were written.
TimeUs whole_seconds(TimeUs at_us);

// ---- Names, and hints for names that are nearly right --------------------------------------

// "a, b, c".
std::string join(const std::vector<std::string_view>& names);
// The number of single-character insertions, deletions and substitutions that turn `a` into `b`.
std::size_t edit_distance(std::string_view a, std::string_view b);
// The name of `known` nearest to `name` if it is within two edits (the first of equally near
// ones); empty when none is.
std::string_view nearest_name(std::string_view name, const std::vector<std::string_view>& known);
// `message` + "; did you mean "<nearest_name>"?" when there is a nearest name, then " Known: "
// and the known names: "is not a known field; did you mean "amount"? Known: amount, discount".
std::string with_hint(std::string message, std::string_view name,
                      const std::vector<std::string_view>& known);

// The names of an enum's values, indexed by the value, as a list (for one_of and messages).
template <std::size_t N>
std::vector<std::string_view> name_list(const std::array<std::string_view, N>& names) {
  return {names.begin(), names.end()};
}

// The name of `value`; "unknown" for a value outside `names`.
template <typename Enum, std::size_t N>
std::string_view enum_name(const std::array<std::string_view, N>& names, Enum value) {
  const auto index = static_cast<std::size_t>(value);
  return index < N ? names[index] : std::string_view("unknown");
}

// The value named `name`; nullopt when no value is.
template <typename Enum, std::size_t N>
std::optional<Enum> enum_value(const std::array<std::string_view, N>& names,
                               std::string_view name) {
  const auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end()) return std::nullopt;
  return static_cast<Enum>(std::distance(names.begin(), it));
}

template <typename Enum, std::size_t N>
std::optional<Enum> Fields::choice(std::string_view name, bool required,
                                   const std::array<std::string_view, N>& names) {
  const auto text = one_of(name, required, name_list(names));
  if (!text) return std::nullopt;
  return enum_value<Enum>(names, *text);
}

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
