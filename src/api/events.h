// Recording events through the earning engine, shared by POST /v1/events and the routes that
// record an event of their own (check-ins, task completions).
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "api/call.h"
#include "api/json_input.h"
#include "rules/evaluate.h"

namespace pointsmall::api {

struct EventInput {
  std::string type;
  MemberId member_id = 0;
  std::string order_id;  // purchases
  Money amount;          // purchases
  TimeUs occurred_at_us = 0;
  nlohmann::json body;  // the event as the engine reads it (api/events.cc's fields)
};

// Validates an event body (the fields of POST /v1/events); answers the problem and returns
// nullopt when it is not valid, or older than the program's accepted lateness.
std::optional<EventInput> read_event(const CallPtr& call, const nlohmann::json& body);

// Adds to the 201 answer of an event: the answer so far, the evaluation, and whether it is a
// replay (whose evaluation is not the one that counted).
using EventAnswer =
    std::function<void(nlohmann::json& body, const rules::Evaluation& evaluation, bool replayed)>;

// Records the event with the ledger under `key`, its points decided by the earning engine inside
// the writer; `payload` is what the store keeps as the event. Answers 201 with the points and
// their explanation, or the problem.
void record_event(const CallPtr& call, const EventInput& input, std::string key,
                  std::string payload, const EventAnswer& answer);

}  // namespace pointsmall::api
