// An event's body as the API receives it and the store keeps it (events.payload), turned into the
// facts the earning engine evaluates. One mapping for live events, dry runs and back-tests.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "rules/evaluate.h"

namespace pointsmall::earning {

// `body` was validated by the API when it was received (api/events.cc); fields it lacks are
// left empty. Never throws.
rules::Event event_from_payload(const std::string& type, TimeUs occurred_at_us,
                                const nlohmann::json& body);

}  // namespace pointsmall::earning
