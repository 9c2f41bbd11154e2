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

// True when `text` is well-formed UTF-8 (no overlong forms, surrogates or code points above
// U+10FFFF) without control characters: text that can be shown and written as JSON as it is.
bool is_plain_text(std::string_view text);

// `object_json` (a JSON object's text) with the member "name": raw_json added at its end.
// `raw_json` must be valid JSON text.
std::string with_raw_member(std::string object_json, std::string_view name,
                            std::string_view raw_json);

}  // namespace pointsmall
