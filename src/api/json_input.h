// Reading JSON request bodies: the body must be one JSON object, nested at most kMaxJsonDepth
// deep; its fields are then read with Fields (core/json_fields.h).
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>
#include <variant>

#include "api/problem.h"
#include "core/json_fields.h"

namespace pointsmall::api {

// Parses a body that must be a JSON object; a problem when it is not JSON, too deep, or not an
// object. Never throws.
std::variant<nlohmann::json, Problem> parse_object(std::string_view body);

}  // namespace pointsmall::api
