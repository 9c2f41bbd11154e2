// The earning program's JSON documents: reading them with every problem named by its field path,
// and writing them back. The shapes are in docs/openapi.yaml and rules/README.md.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/json_fields.h"
#include "rules/program.h"

namespace pointsmall::rules {

// Each reader returns nullopt and appends to `errors` when the document cannot be evaluated
// (unknown field, wrong type, value out of range, unknown condition field or operator). `zone`
// reads window times written without an offset as local times of the program. The id comes
// from the document; `version` and `campaign_id` are the server's and are not read.
std::optional<Rule> read_rule(const nlohmann::json& document, const TimeZone& zone,
                              std::vector<FieldError>& errors);
std::optional<Campaign> read_campaign(const nlohmann::json& document, const TimeZone& zone,
                                      std::vector<FieldError>& errors);
std::optional<TierProgram> read_tiers(const nlohmann::json& document,
                                      std::vector<FieldError>& errors);
// {"checkin": {...}, "referral": {...}}
struct Engagement {
  CheckinProgram checkin;
  ReferralProgram referral;
};
std::optional<Engagement> read_engagement(const nlohmann::json& document,
                                          std::vector<FieldError>& errors);

// Written back in the shape they are read in (times as RFC 3339 UTC), with "version".
nlohmann::json to_json(const Rule& rule);
nlohmann::json to_json(const Campaign& campaign);
nlohmann::json to_json(const TierProgram& tiers);
nlohmann::json to_json(const Engagement& engagement);

// Checks what no single document can: ids unique among standing rules and within each campaign,
// every multiplier's `of_rules` naming a rule it can see (a standing rule, or one of its own
// campaign), and no two exclusive campaigns with overlapping windows. Errors name
// "rules[i]..." or "campaigns[i]..." of `program`.
std::vector<FieldError> check_program(const Program& program);

}  // namespace pointsmall::rules
