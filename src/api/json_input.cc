#include "api/json_input.h"

#include <algorithm>

namespace pointsmall::api {
namespace {

// Deepest nesting of arrays and objects, stopping early past `limit`. nlohmann's parser recurses,
// so a body of a million '[' would overflow the stack: this runs first.
std::size_t nesting_depth(std::string_view body, std::size_t limit) {
  std::size_t depth = 0;
  std::size_t deepest = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : body) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > limit) return deepest;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

}  // namespace

std::variant<nlohmann::json, Problem> parse_object(std::string_view body) {
  if (nesting_depth(body, kMaxJsonDepth) > kMaxJsonDepth)
    return problem(ApiError::malformed_json,
                   "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  nlohmann::json parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded())
    return problem(ApiError::malformed_json, "the body is not valid JSON (UTF-8)");
  if (!parsed.is_object())
    return problem(ApiError::malformed_json, "the body must be a JSON object");
  return parsed;
}

}  // namespace pointsmall::api
