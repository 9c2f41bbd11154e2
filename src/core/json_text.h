// Writing JSON text directly, for the few hot paths where building a JSON tree first costs more
// than the work itself (an earn's explanation of dozens of rules is written on every event).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pointsmall {

// Appends `text` as a JSON string (quotes included), escaped as nlohmann::json::dump escapes it
// ('"', '\\', \b \t \n \f \r, other control characters as \u00xx); other bytes, UTF-8
// included, are copied. So text written here and text dumped from a parse of it are the same.
void append_json_string(std::string& out, std::string_view text);
void append_json_number(std::string& out, std::int64_t value);

// `object_json` (a JSON object's text) with the member "name": raw_json added at its end.
// `raw_json` must be valid JSON text.
std::string with_raw_member(std::string object_json, std::string_view name,
                            std::string_view raw_json);

}  // namespace pointsmall
