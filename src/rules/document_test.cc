#include "rules/document.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace pointsmall::rules {
namespace {

using nlohmann::json;

TimeUs at(std::string_view rfc3339) {
  const auto parsed = parse_rfc3339(rfc3339);
  EXPECT_TRUE(parsed) << rfc3339;
  return parsed.value_or(0);
}

std::vector<std::string> paths_of(const std::vector<FieldError>& errors) {
  std::vector<std::string> paths;
  paths.reserve(errors.size());
  for (const FieldError& error : errors) paths.push_back(error.field);
  return paths;
}

// The message at `path`, or "" when there is none.
std::string message_at(const std::vector<FieldError>& errors, std::string_view path) {
  for (const FieldError& error : errors) {
    if (error.field == path) return error.message;
  }
  return "";
}

// A valid standing purchase rule: 1 point per 1.00 GBP paid.
json base_rule() {
  return json::parse(R"({"id": "base-rate", "name": "1 point per pound", "event_type": "purchase",
    "effect": {"kind": "per_unit", "points": 1, "per": {"amount": 100, "currency": "GBP"}}})");
}

// The paths of the errors reading `document` as a rule (which must fail).
std::vector<FieldError> rule_errors(const json& document, const TimeZone& zone = *TimeZone::utc()) {
  std::vector<FieldError> errors;
  EXPECT_FALSE(read_rule(document, zone, errors)) << document.dump();
  EXPECT_FALSE(errors.empty());
  return errors;
}

Rule read_valid_rule(const json& document, const TimeZone& zone = *TimeZone::utc()) {
  std::vector<FieldError> errors;
  auto rule = read_rule(document, zone, errors);
  EXPECT_TRUE(errors.empty()) << (errors.empty() ? "" : errors[0].field + ": " + errors[0].message);
  return rule.value_or(Rule{});
}

json with_condition(const json& condition, std::string_view event_type = "purchase") {
  json rule = base_rule();
  rule["event_type"] = event_type;
  if (event_type != "purchase") rule["effect"] = {{"kind", "fixed"}, {"points", 5}};
  rule["conditions"] = json::array({condition});
  return rule;
}

// ---- Valid documents ---------------------------------------------------------------------------

TEST(RuleDocuments, ReadsEveryPartOfARule) {
  const Rule rule = read_valid_rule(json::parse(R"({
    "id": "weekend-shoes", "name": "Shoes at weekends", "event_type": "purchase",
    "conditions": [
      {"field": "amount", "op": "gte", "value": 5000},
      {"field": "amount", "op": "between", "value": [1000, 90000]},
      {"field": "items.category", "op": "any_of", "value": ["shoes", "bags"]},
      {"field": "channel", "op": "in", "value": ["app", "web"]},
      {"field": "store", "op": "ne", "value": "outlet-7"},
      {"field": "member.first_purchase", "op": "eq", "value": true}],
    "items": {"categories": ["shoes"], "min_quantity": 2},
    "window": {"from": "2026-12-24T00:00:00Z", "until": "2026-12-27T00:00:00Z",
               "weekdays": ["sat", "sun"], "hours": {"from": "09:00", "until": "17:30"}},
    "effect": {"kind": "per_unit", "points": 3, "per": {"amount": 250, "currency": "GBP"},
               "base": "before_points", "matching_items_only": true},
    "caps": {"per_event": 500, "per_member": [{"period": "day", "points": 100, "times": 3}],
             "budget": 100000},
    "priority": 10, "stacks": false, "enabled": false})"));
  EXPECT_EQ(rule.id, "weekend-shoes");
  ASSERT_EQ(rule.conditions.size(), 6U);
  EXPECT_EQ(rule.conditions[0].op, Operator::gte);
  EXPECT_EQ(rule.conditions[0].numbers, (std::vector<std::int64_t>{5000}));
  EXPECT_EQ(rule.conditions[1].numbers, (std::vector<std::int64_t>{1000, 90000}));
  EXPECT_EQ(rule.conditions[2].texts, (std::vector<std::string>{"shoes", "bags"}));
  EXPECT_EQ(rule.conditions[3].op, Operator::in);
  EXPECT_EQ(rule.conditions[4].texts, (std::vector<std::string>{"outlet-7"}));
  EXPECT_EQ(rule.conditions[5].numbers, (std::vector<std::int64_t>{1}));
  ASSERT_TRUE(rule.items);
  EXPECT_EQ(rule.items->categories, (std::vector<std::string>{"shoes"}));
  EXPECT_EQ(rule.items->min_quantity, 2);
  EXPECT_EQ(rule.window.from_us, at("2026-12-24T00:00:00Z"));
  EXPECT_EQ(rule.window.until_us, at("2026-12-27T00:00:00Z"));
  EXPECT_EQ(rule.window.weekdays, 0x60);  // Saturday and Sunday
  EXPECT_EQ(rule.window.from_minute, 9 * 60);
  EXPECT_EQ(rule.window.until_minute, 17 * 60 + 30);
  EXPECT_EQ(rule.effect.kind, Effect::Kind::per_unit);
  EXPECT_EQ(rule.effect.points, 3);
  EXPECT_EQ(rule.effect.per_minor, 250);
  EXPECT_EQ(rule.effect.currency, "GBP");
  EXPECT_EQ(rule.effect.base, EarnBase::before_points);
  EXPECT_TRUE(rule.effect.matching_items_only);
  EXPECT_EQ(rule.caps.per_event, 500);
  ASSERT_EQ(rule.caps.per_member.size(), 1U);
  EXPECT_EQ(rule.caps.per_member[0].times, 3);
  EXPECT_EQ(rule.caps.budget, 100000);
  EXPECT_EQ(rule.priority, 10);
  EXPECT_FALSE(rule.stacks);
  EXPECT_FALSE(rule.enabled);
  EXPECT_EQ(rule.campaign_id, "");
}

TEST(RuleDocuments, LeftOutSettingsTakeTheirDefaultsAndAreWrittenOut) {
  const Rule rule = read_valid_rule(base_rule());
  EXPECT_EQ(rule.window, TimeWindow{});
  EXPECT_EQ(rule.caps, Caps{});
  EXPECT_EQ(rule.effect.base, EarnBase::paid);
  EXPECT_TRUE(rule.stacks);
  EXPECT_TRUE(rule.enabled);
  EXPECT_FALSE(rule.items);

  const json written = to_json(rule);
  EXPECT_EQ(written["version"], 1);
  EXPECT_EQ(written["priority"], 0);
  EXPECT_EQ(written["stacks"], true);
  EXPECT_EQ(written["enabled"], true);
  EXPECT_EQ(written["effect"]["base"], "paid");
  EXPECT_EQ(written["effect"]["matching_items_only"], false);
  EXPECT_EQ(written["window"]["weekdays"],
            json::parse(R"(["mon","tue","wed","thu","fri","sat","sun"])"));
  EXPECT_EQ(written["window"]["hours"], json::parse(R"({"from":"00:00","until":"24:00"})"));
  EXPECT_FALSE(written["window"].contains("until"));  // no end: nothing to write
  EXPECT_EQ(written["caps"], json::parse(R"({"per_event":0,"per_member":[],"budget":0})"));
  EXPECT_FALSE(written.contains("campaign_id"));
}

TEST(RuleDocuments, EveryRuleShapeRoundTrips) {
  Rule rule;
  rule.id = "all-kinds";
  rule.name = "Every condition type";
  rule.event_type = "purchase";
  rule.conditions = {
      {"amount", Operator::between, {100, 200}, {}},
      {"points_discount", Operator::lt, {-5}, {}},
      {"currency", Operator::eq, {}, {"GBP"}},
      {"member.tier", Operator::not_in, {}, {"gold", "silver"}},
      {"items.brand", Operator::not_in, {}, {"acme"}},
      {"member.tags", Operator::any_of, {}, {"vip", "staff"}},
      {"member.birthday_month", Operator::eq, {0}, {}},
  };
  rule.items = ItemFilter{{"sku-1"}, {}, {"acme", "zen"}, 3};
  rule.window = TimeWindow{at("2026-01-01T10:00:00Z"), at("2026-02-01T00:00:00Z"), 0x1F, 60, 1440};
  rule.effect.kind = Effect::Kind::per_unit;
  rule.effect.points = 7;
  rule.effect.per_minor = 1000;
  rule.effect.currency = "EUR";
  rule.effect.base = EarnBase::before_discounts;
  rule.effect.matching_items_only = true;
  rule.caps = Caps{10, {{Period::week, 0, 2}, {Period::lifetime, 5000, 0}}, 7};
  rule.priority = -1000;
  rule.stacks = false;

  std::vector<FieldError> errors;
  const auto read = read_rule(to_json(rule), *TimeZone::utc(), errors);
  EXPECT_TRUE(errors.empty()) << (errors.empty() ? "" : errors[0].field + ": " + errors[0].message);
  ASSERT_TRUE(read);
  EXPECT_EQ(*read, rule);

  Rule multiplier;
  multiplier.id = "double";
  multiplier.name = "Double";
  multiplier.event_type = "review";
  multiplier.effect.kind = Effect::Kind::multiplier;
  multiplier.effect.percent = 200;
  multiplier.effect.of_rules = {"review-points"};
  const auto read_multiplier = read_rule(to_json(multiplier), *TimeZone::utc(), errors);
  ASSERT_TRUE(read_multiplier);
  EXPECT_EQ(*read_multiplier, multiplier);
}

TEST(RuleDocuments, ACampaignGivesItsIdToItsRulesAndRoundTrips) {
  std::vector<FieldError> errors;
  const auto campaign = read_campaign(json::parse(R"({
    "id": "christmas", "name": "Christmas double points",
    "from": "2026-12-24T00:00:00Z", "until": "2026-12-27T00:00:00Z",
    "budget": 50000, "exclusive": true,
    "rules": [{"id": "double", "name": "Double points", "event_type": "purchase",
               "effect": {"kind": "multiplier", "percent": 200, "of_rules": ["base-rate"]}},
              {"id": "gift", "name": "A gift", "event_type": "purchase",
               "effect": {"kind": "bonus", "points": 50}}]})"),
                                      *TimeZone::utc(), errors);
  ASSERT_TRUE(campaign) << errors[0].field << ": " << errors[0].message;
  EXPECT_EQ(campaign->from_us, at("2026-12-24T00:00:00Z"));
  EXPECT_TRUE(campaign->exclusive);
  EXPECT_TRUE(campaign->enabled);
  ASSERT_EQ(campaign->rules.size(), 2U);
  EXPECT_EQ(campaign->rules[0].campaign_id, "christmas");
  EXPECT_EQ(campaign->rules[1].campaign_id, "christmas");

  const json written = to_json(*campaign);
  EXPECT_FALSE(written["rules"][0].contains("campaign_id"));
  EXPECT_EQ(written["from"], "2026-12-24T00:00:00Z");
  const auto again = read_campaign(written, *TimeZone::utc(), errors);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *campaign);
}

TEST(RuleDocuments, TiersRoundTrip) {
  std::vector<FieldError> errors;
  const auto tiers = read_tiers(json::parse(R"({
    "measure": "money_spent", "currency": "GBP", "period": "rolling_months", "months": 6,
    "downgrade": "grace", "grace_periods": 2,
    "tiers": [{"id": "member", "name": "Member", "threshold": 0},
              {"id": "gold", "name": "Gold", "threshold": 50000, "earn_percent": 150,
               "validity_days": 730, "redemption_discount_percent": 10,
               "exclusive_item_tags": ["gold-only"]}]})"),
                                errors);
  ASSERT_TRUE(tiers) << errors[0].field << ": " << errors[0].message;
  EXPECT_EQ(tiers->measure, TierMeasure::money_spent);
  EXPECT_EQ(tiers->currency, "GBP");
  EXPECT_EQ(tiers->months, 6);
  EXPECT_EQ(tiers->downgrade, DowngradePolicy::grace);
  EXPECT_EQ(tiers->grace_periods, 2);
  ASSERT_EQ(tiers->tiers.size(), 2U);
  EXPECT_EQ(tiers->tiers[0].earn_percent, 100);
  EXPECT_EQ(tiers->tiers[1].earn_percent, 150);
  EXPECT_EQ(tiers->tiers[1].exclusive_item_tags, (std::vector<std::string>{"gold-only"}));

  const json written = to_json(*tiers);
  EXPECT_EQ(written["tiers"][0]["validity_days"], 0);  // defaults written out
  const auto again = read_tiers(written, errors);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *tiers);

  TierProgram points;  // points_earned, calendar_year, recalculate: no currency, months, grace
  points.tiers = {Tier{"member", "Member", 0}, Tier{"silver", "Silver", 1000, 110}};
  const json points_json = to_json(points);
  EXPECT_FALSE(points_json.contains("currency"));
  EXPECT_FALSE(points_json.contains("months"));
  EXPECT_FALSE(points_json.contains("grace_periods"));
  const auto points_again = read_tiers(points_json, errors);
  ASSERT_TRUE(points_again);
  EXPECT_EQ(*points_again, points);
  EXPECT_TRUE(errors.empty());
}

TEST(RuleDocuments, EngagementRoundTripsAndDefaultsToProgramDefaults) {
  std::vector<FieldError> errors;
  const auto empty = read_engagement(json::object(), errors);
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->checkin, CheckinProgram{});
  EXPECT_EQ(empty->referral, ReferralProgram{});

  const auto engagement = read_engagement(json::parse(R"({
    "checkin": {"points": 5, "streak_rewards": [{"day": 7, "points": 50}, {"day": 3, "points": 10}],
                "cycle_days": 7},
    "referral": {"enabled": true, "referrer_points": 500, "friend_points": 200,
                 "min_purchase": {"amount": 2000, "currency": "GBP"},
                 "max_rewards_per_month": 5}})"),
                                          errors);
  ASSERT_TRUE(engagement) << errors[0].field << ": " << errors[0].message;
  EXPECT_TRUE(engagement->checkin.enabled);
  EXPECT_EQ(engagement->checkin.points, 5);
  ASSERT_EQ(engagement->checkin.streak_rewards.size(), 2U);
  EXPECT_EQ(engagement->checkin.streak_rewards[0], (StreakReward{7, 50}));
  EXPECT_EQ(engagement->checkin.cycle_days, 7);
  EXPECT_TRUE(engagement->referral.enabled);
  EXPECT_EQ(engagement->referral.min_purchase_minor, 2000);
  EXPECT_EQ(engagement->referral.currency, "GBP");
  EXPECT_EQ(engagement->referral.max_rewards_per_month, 5);

  const auto again = read_engagement(to_json(*engagement), errors);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->checkin, engagement->checkin);
  EXPECT_EQ(again->referral, engagement->referral);
  EXPECT_TRUE(errors.empty());
}

// ---- Errors name their field -------------------------------------------------------------------

TEST(RuleDocuments, UnknownFieldsAreNamedWithAHint) {
  json rule = base_rule();
  rule["priorty"] = 5;
  rule["effect"]["colour"] = "red";
  const auto errors = rule_errors(rule);
  EXPECT_EQ(paths_of(errors), (std::vector<std::string>{"effect.colour", "priorty"}));
  EXPECT_NE(message_at(errors, "priorty").find("did you mean \"priority\"?"), std::string::npos)
      << message_at(errors, "priorty");
}

TEST(RuleDocuments, UnknownConditionFieldHintsTheKnownFields) {
  const auto errors =
      rule_errors(with_condition({{"field", "amout"}, {"op", "gte"}, {"value", 1}}));
  EXPECT_EQ(paths_of(errors), (std::vector<std::string>{"conditions[0].field"}));
  const std::string message = message_at(errors, "conditions[0].field");
  EXPECT_NE(message.find("did you mean \"amount\"?"), std::string::npos) << message;
  EXPECT_NE(message.find("member.lifetime_spend"), std::string::npos) << message;
}

TEST(RuleDocuments, ConditionValuesOfTheWrongTypeAreRefused) {
  const std::vector<json> conditions = {
      {{"field", "amount"}, {"op", "gte"}, {"value", "5000"}},
      {{"field", "amount"}, {"op", "gte"}, {"value", 50.5}},
      {{"field", "member.first_purchase"}, {"op", "eq"}, {"value", 1}},
      {{"field", "channel"}, {"op", "eq"}, {"value", json::array({"app"})}},
      {{"field", "channel"}, {"op", "in"}, {"value", "app"}},
      {{"field", "items.sku"}, {"op", "any_of"}, {"value", json::array()}},
      {{"field", "amount"}, {"op", "between"}, {"value", json::array({1})}},
  };
  for (const json& condition : conditions) {
    EXPECT_EQ(paths_of(rule_errors(with_condition(condition))),
              (std::vector<std::string>{"conditions[0].value"}))
        << condition.dump();
  }
  const auto missing = rule_errors(with_condition({{"field", "amount"}, {"op", "gte"}}));
  EXPECT_EQ(paths_of(missing), (std::vector<std::string>{"conditions[0].value"}));
}

TEST(RuleDocuments, OperatorsNotAllowedForTheFieldTypeAreRefused) {
  const std::vector<json> conditions = {
      {{"field", "items.category"}, {"op", "eq"}, {"value", "shoes"}},
      {{"field", "amount"}, {"op", "any_of"}, {"value", json::array({"1"})}},
      {{"field", "member.first_purchase"}, {"op", "ne"}, {"value", true}},
      {{"field", "channel"}, {"op", "gt"}, {"value", "app"}},
      {{"field", "amount"}, {"op", "greater"}, {"value", 1}},
  };
  for (const json& condition : conditions) {
    EXPECT_EQ(paths_of(rule_errors(with_condition(condition))),
              (std::vector<std::string>{"conditions[0].op"}))
        << condition.dump();
  }
  const auto errors =
      rule_errors(with_condition({{"field", "items.category"}, {"op", "eq"}, {"value", "shoes"}}));
  EXPECT_NE(message_at(errors, "conditions[0].op").find("any_of, not_in"), std::string::npos)
      << message_at(errors, "conditions[0].op");
}

TEST(RuleDocuments, BetweenNeedsLowNotAboveHigh) {
  const auto errors = rule_errors(
      with_condition({{"field", "amount"}, {"op", "between"}, {"value", {5000, 1000}}}));
  EXPECT_EQ(paths_of(errors), (std::vector<std::string>{"conditions[0].value"}));
  const Rule equal = read_valid_rule(
      with_condition({{"field", "amount"}, {"op", "between"}, {"value", {1000, 1000}}}));
  EXPECT_EQ(equal.conditions[0].numbers, (std::vector<std::int64_t>{1000, 1000}));
}

TEST(RuleDocuments, FieldsThatOnlyMakeSenseForSomeEventsAreRefusedElsewhere) {
  EXPECT_EQ(paths_of(rule_errors(
                with_condition({{"field", "amount"}, {"op", "gte"}, {"value", 1}}, "checkin"))),
            (std::vector<std::string>{"conditions[0].field"}));
  EXPECT_EQ(paths_of(rule_errors(with_condition(
                {{"field", "items.category"}, {"op", "any_of"}, {"value", json::array({"x"})}},
                "review"))),
            (std::vector<std::string>{"conditions[0].field"}));
  EXPECT_EQ(paths_of(rule_errors(
                with_condition({{"field", "task"}, {"op", "eq"}, {"value", "survey-1"}}))),
            (std::vector<std::string>{"conditions[0].field"}));
  EXPECT_EQ(paths_of(rule_errors(
                with_condition({{"field", "checkin.streak"}, {"op", "gte"}, {"value", 7}}))),
            (std::vector<std::string>{"conditions[0].field"}));
  read_valid_rule(with_condition({{"field", "task"}, {"op", "eq"}, {"value", "s1"}}, "survey"));
  read_valid_rule(
      with_condition({{"field", "checkin.streak"}, {"op", "gte"}, {"value", 7}}, "checkin"));

  json review = base_rule();  // per_unit
  review["event_type"] = "review";
  EXPECT_EQ(paths_of(rule_errors(review)), (std::vector<std::string>{"effect.kind"}));

  json share = with_condition({{"field", "channel"}, {"op", "eq"}, {"value", "app"}}, "share");
  share["items"] = {{"categories", json::array({"shoes"})}};
  EXPECT_EQ(paths_of(rule_errors(share)), (std::vector<std::string>{"items"}));

  json matching = base_rule();
  matching["effect"]["matching_items_only"] = true;
  EXPECT_EQ(paths_of(rule_errors(matching)),
            (std::vector<std::string>{"effect.matching_items_only"}));
}

TEST(RuleDocuments, EffectFieldsOfAnotherKindAreRefused) {
  json fixed = base_rule();
  fixed["effect"] = {{"kind", "fixed"}, {"points", 10}, {"percent", 200}};
  auto errors = rule_errors(fixed);
  EXPECT_EQ(paths_of(errors), (std::vector<std::string>{"effect.percent"}));
  EXPECT_NE(message_at(errors, "effect.percent").find("fixed"), std::string::npos);

  json multiplier = base_rule();
  multiplier["effect"] = {{"kind", "multiplier"}, {"percent", 200}, {"points", 10}};
  EXPECT_EQ(paths_of(rule_errors(multiplier)), (std::vector<std::string>{"effect.points"}));

  json low_percent = base_rule();
  low_percent["effect"] = {{"kind", "multiplier"}, {"percent", 100}};
  EXPECT_EQ(paths_of(rule_errors(low_percent)), (std::vector<std::string>{"effect.percent"}));

  json no_per = base_rule();
  no_per["effect"].erase("per");
  EXPECT_EQ(paths_of(rule_errors(no_per)), (std::vector<std::string>{"effect.per"}));

  json bad_per = base_rule();
  bad_per["effect"]["per"] = {{"amount", 0}, {"currency", "gbp"}};
  bad_per["effect"]["points"] = 0;
  bad_per["effect"]["base"] = "list";
  EXPECT_EQ(paths_of(rule_errors(bad_per)),
            (std::vector<std::string>{"effect.points", "effect.per.amount", "effect.per.currency",
                                      "effect.base"}));

  json bad_kind = base_rule();
  bad_kind["effect"]["kind"] = "double";
  EXPECT_EQ(paths_of(rule_errors(bad_kind)), (std::vector<std::string>{"effect.kind"}));
}

TEST(RuleDocuments, WeekdaysMustNameRealDays) {
  json empty = base_rule();
  empty["window"] = {{"weekdays", json::array()}};
  EXPECT_EQ(paths_of(rule_errors(empty)), (std::vector<std::string>{"window.weekdays"}));

  json unknown = base_rule();
  unknown["window"] = {{"weekdays", {"sat", "sunday"}}};
  EXPECT_EQ(paths_of(rule_errors(unknown)), (std::vector<std::string>{"window.weekdays[1]"}));

  json repeated = base_rule();
  repeated["window"] = {{"weekdays", {"mon", "fri", "mon"}}};
  EXPECT_EQ(paths_of(rule_errors(repeated)), (std::vector<std::string>{"window.weekdays[2]"}));

  json weekdays = base_rule();
  weekdays["window"] = {{"weekdays", {"fri", "mon"}}};
  EXPECT_EQ(read_valid_rule(weekdays).window.weekdays, 0x11);  // Monday and Friday
}

TEST(RuleDocuments, HoursMustBeHhMmWithFromBeforeUntil) {
  const auto hours_errors = [](json hours) {
    json rule = base_rule();
    rule["window"] = {{"hours", std::move(hours)}};
    return paths_of(rule_errors(rule));
  };
  EXPECT_EQ(hours_errors({{"from", "9:00"}, {"until", "17:00"}}),
            (std::vector<std::string>{"window.hours.from"}));
  EXPECT_EQ(hours_errors({{"from", "09:00"}, {"until", "17:60"}}),
            (std::vector<std::string>{"window.hours.until"}));
  EXPECT_EQ(hours_errors({{"from", "09:00"}, {"until", "24:30"}}),
            (std::vector<std::string>{"window.hours.until"}));
  EXPECT_EQ(hours_errors({{"from", "17:00"}, {"until", "09:00"}}),
            (std::vector<std::string>{"window.hours.until"}));
  EXPECT_EQ(hours_errors({{"from", "24:00"}, {"until", "24:00"}}),
            (std::vector<std::string>{"window.hours.from"}));
  EXPECT_EQ(hours_errors({{"from", "09:00"}}), (std::vector<std::string>{"window.hours.until"}));

  json evening = base_rule();
  evening["window"] = {{"hours", {{"from", "18:00"}, {"until", "24:00"}}}};
  const Rule rule = read_valid_rule(evening);
  EXPECT_EQ(rule.window.from_minute, 18 * 60);
  EXPECT_EQ(rule.window.until_minute, 24 * 60);
  EXPECT_EQ(to_json(rule)["window"]["hours"]["until"], "24:00");
}

TEST(RuleDocuments, LocalWindowTimesAreInstantsOfTheProgramZoneAcrossDst) {
  const auto london = TimeZone::load("Europe/London");
  ASSERT_NE(london, nullptr);
  const auto window_from = [&](std::string_view from) {
    json rule = base_rule();
    rule["window"] = {{"from", from}};
    return read_valid_rule(rule, *london).window.from_us;
  };
  // Clocks go forward on 2026-03-29 at 01:00 GMT: 01:00..02:00 local does not exist, and a time
  // in the gap is the first instant after it.
  EXPECT_EQ(window_from("2026-03-29T00:30:00"), at("2026-03-29T00:30:00Z"));
  EXPECT_EQ(window_from("2026-03-29T01:30:00"), at("2026-03-29T01:00:00Z"));
  EXPECT_EQ(window_from("2026-03-29T02:30:00"), at("2026-03-29T01:30:00Z"));
  // Clocks go back on 2026-10-25 at 01:00 GMT: 01:30 local happens twice; the earlier counts.
  EXPECT_EQ(window_from("2026-10-25T01:30:00"), at("2026-10-25T00:30:00Z"));
  EXPECT_EQ(window_from("2026-10-25T02:30:00"), at("2026-10-25T02:30:00Z"));
  // A date is local midnight (BST in July).
  EXPECT_EQ(window_from("2026-07-01"), at("2026-06-30T23:00:00Z"));
  // With an offset or Z the zone does not matter.
  EXPECT_EQ(window_from("2026-07-01T00:00:00Z"), at("2026-07-01T00:00:00Z"));
  EXPECT_EQ(window_from("2026-07-01T00:00:00+02:00"), at("2026-06-30T22:00:00Z"));
  // The same local text in UTC is another instant.
  json utc = base_rule();
  utc["window"] = {{"from", "2026-07-01"}};
  EXPECT_EQ(read_valid_rule(utc).window.from_us, at("2026-07-01T00:00:00Z"));
}

TEST(RuleDocuments, WindowTimesMustBeTimesWithUntilAfterFrom) {
  json malformed = base_rule();
  malformed["window"] = {{"from", "24/12/2026"}, {"until", "2026-02-30"}};
  EXPECT_EQ(paths_of(rule_errors(malformed)),
            (std::vector<std::string>{"window.from", "window.until"}));

  json backwards = base_rule();
  backwards["window"] = {{"from", "2026-12-27"}, {"until", "2026-12-24"}};
  EXPECT_EQ(paths_of(rule_errors(backwards)), (std::vector<std::string>{"window.until"}));

  json empty = base_rule();
  empty["window"] = {{"from", "2026-12-24T00:00:00Z"}, {"until", "2026-12-24T00:00:00Z"}};
  EXPECT_EQ(paths_of(rule_errors(empty)), (std::vector<std::string>{"window.until"}));
}

TEST(RuleDocuments, CapsNeedALimitAndEachPeriodOnce) {
  json rule = base_rule();
  rule["caps"] = json::parse(R"({"per_event": -1, "budget": 5, "per_member": [
      {"period": "day", "points": 0, "times": 0},
      {"period": "week", "points": 100},
      {"period": "week", "times": 2},
      {"period": "year", "points": 1}]})");
  EXPECT_EQ(paths_of(rule_errors(rule)),
            (std::vector<std::string>{"caps.per_event", "caps.per_member[0]",
                                      "caps.per_member[2].period", "caps.per_member[3].period"}));
}

TEST(RuleDocuments, IdsAndNamesAreChecked) {
  json rule = base_rule();
  rule["id"] = "Double Weekend";
  rule["name"] = "";
  rule["event_type"] = "purchases";
  EXPECT_EQ(paths_of(rule_errors(rule)), (std::vector<std::string>{"id", "name", "event_type"}));
  json missing = json::object();
  EXPECT_EQ(paths_of(rule_errors(missing)),
            (std::vector<std::string>{"id", "name", "event_type", "effect"}));
  EXPECT_EQ(paths_of(rule_errors(json::array())), (std::vector<std::string>{""}));
}

TEST(RuleDocuments, CampaignErrorsNameTheCampaignAndItsRules) {
  std::vector<FieldError> errors;
  EXPECT_FALSE(read_campaign(json::parse(R"({
    "id": "sale", "name": "Sale", "from": "2026-12-27", "until": "2026-12-24",
    "rules": [{"id": "gift", "name": "Gift", "event_type": "purchase",
               "effect": {"kind": "bonus", "points": 0}},
              {"id": "gift", "name": "Gift again", "event_type": "purchase",
               "effect": {"kind": "bonus", "points": 5}}]})"),
                             *TimeZone::utc(), errors));
  EXPECT_EQ(paths_of(errors),
            (std::vector<std::string>{"until", "rules[0].effect.points", "rules[1].id"}));

  errors.clear();
  EXPECT_FALSE(read_campaign(json::parse(R"({"id": "sale", "name": "Sale", "rules": []})"),
                             *TimeZone::utc(), errors));
  EXPECT_EQ(paths_of(errors), (std::vector<std::string>{"from", "until", "rules"}));
}

TEST(RuleDocuments, TiersMustStartAtZeroAndAscend) {
  const auto tier_errors = [](std::string_view text) {
    std::vector<FieldError> errors;
    EXPECT_FALSE(read_tiers(json::parse(text), errors)) << text;
    return paths_of(errors);
  };
  EXPECT_EQ(tier_errors(R"({"measure": "points_earned", "tiers": [
      {"id": "member", "name": "Member", "threshold": 100}]})"),
            (std::vector<std::string>{"tiers[0].threshold"}));
  EXPECT_EQ(tier_errors(R"({"measure": "points_earned", "tiers": [
      {"id": "member", "name": "Member", "threshold": 0},
      {"id": "gold", "name": "Gold", "threshold": 5000},
      {"id": "silver", "name": "Silver", "threshold": 1000},
      {"id": "platinum", "name": "Platinum", "threshold": 5000}]})"),
            (std::vector<std::string>{"tiers[2].threshold", "tiers[3].threshold"}));
  EXPECT_EQ(tier_errors(R"({"measure": "points_earned", "tiers": [
      {"id": "member", "name": "Member", "threshold": 0},
      {"id": "member", "name": "Member again", "threshold": 10, "earn_percent": 99}]})"),
            (std::vector<std::string>{"tiers[1].earn_percent", "tiers[1].id"}));
  EXPECT_EQ(tier_errors(R"({"measure": "points_earned", "tiers": []})"),
            (std::vector<std::string>{"tiers"}));
}

TEST(RuleDocuments, TierSettingsBelongToTheirChoices) {
  const auto tier_errors = [](std::string_view settings) {
    std::vector<FieldError> errors;
    json document = json::parse(settings);
    document["tiers"] = json::parse(R"([{"id": "member", "name": "Member", "threshold": 0}])");
    EXPECT_FALSE(read_tiers(document, errors)) << settings;
    return errors;
  };
  const auto missing = tier_errors(R"({"measure": "money_spent"})");
  EXPECT_EQ(paths_of(missing), (std::vector<std::string>{"currency"}));
  EXPECT_NE(message_at(missing, "currency").find("money_spent"), std::string::npos);
  EXPECT_EQ(paths_of(tier_errors(R"({"measure": "points_earned", "currency": "GBP"})")),
            (std::vector<std::string>{"currency"}));
  EXPECT_EQ(paths_of(tier_errors(R"({"measure": "points_earned", "months": 6})")),
            (std::vector<std::string>{"months"}));
  EXPECT_EQ(paths_of(tier_errors(
                R"({"measure": "points_earned", "downgrade": "drop_one", "grace_periods": 2})")),
            (std::vector<std::string>{"grace_periods"}));
  EXPECT_EQ(paths_of(tier_errors(R"({"measure": "points_earned", "period": "rolling_months",
                                     "months": 37})")),
            (std::vector<std::string>{"months"}));
  EXPECT_EQ(paths_of(tier_errors(R"({"measure": "visits"})")),
            (std::vector<std::string>{"measure"}));
}

TEST(RuleDocuments, StreakRewardsMustFallWithinTheCycle) {
  std::vector<FieldError> errors;
  EXPECT_FALSE(read_engagement(json::parse(R"({"checkin": {"points": 5, "cycle_days": 7,
      "streak_rewards": [{"day": 7, "points": 50}, {"day": 8, "points": 80},
                         {"day": 7, "points": 60}]}})"),
                               errors));
  EXPECT_EQ(paths_of(errors), (std::vector<std::string>{"checkin.streak_rewards[1].day",
                                                        "checkin.streak_rewards[2].day"}));
  EXPECT_NE(message_at(errors, "checkin.streak_rewards[1].day").find("cycle_days (7)"),
            std::string::npos);

  errors.clear();
  EXPECT_TRUE(read_engagement(json::parse(R"({"checkin": {"cycle_days": 0,
      "streak_rewards": [{"day": 100, "points": 500}]}})"),
                              errors));
  EXPECT_TRUE(errors.empty());
}

TEST(RuleDocuments, AnEnabledReferralProgramNeedsAMinimumPurchase) {
  std::vector<FieldError> errors;
  EXPECT_FALSE(read_engagement(
      json::parse(R"({"referral": {"enabled": true, "referrer_points": 500, "bonus": 1}})"),
      errors));
  EXPECT_EQ(paths_of(errors),
            (std::vector<std::string>{"referral.min_purchase", "referral.bonus"}));

  errors.clear();
  EXPECT_FALSE(read_engagement(json::parse(R"({"referral": {"max_rewards_per_month": 0},
      "checkin": {"enabled": "yes"}, "streaks": {}})"),
                               errors));
  EXPECT_EQ(paths_of(errors), (std::vector<std::string>{
                                  "checkin.enabled", "referral.max_rewards_per_month", "streaks"}));
}

// ---- The whole program -------------------------------------------------------------------------

Rule fixed_rule(std::string id, std::string event_type = "purchase") {
  Rule rule;
  rule.id = std::move(id);
  rule.name = rule.id;
  rule.event_type = std::move(event_type);
  rule.effect.points = 10;
  return rule;
}

Rule multiplier_of(std::string id, std::vector<std::string> of_rules) {
  Rule rule = fixed_rule(std::move(id));
  rule.effect.kind = Effect::Kind::multiplier;
  rule.effect.percent = 200;
  rule.effect.of_rules = std::move(of_rules);
  return rule;
}

Campaign campaign(std::string id, std::string_view from, std::string_view until, bool exclusive) {
  Campaign result;
  result.id = std::move(id);
  result.name = result.id;
  result.from_us = at(from);
  result.until_us = at(until);
  result.exclusive = exclusive;
  result.rules = {fixed_rule("gift")};
  for (Rule& rule : result.rules) rule.campaign_id = result.id;
  return result;
}

TEST(RuleDocuments, OverlappingExclusiveCampaignsAreRefused) {
  Program program;
  program.campaigns = {
      campaign("black-friday", "2026-11-27T00:00:00Z", "2026-11-30T00:00:00Z", true),
      campaign("cyber-monday", "2026-11-29T00:00:00Z", "2026-12-01T00:00:00Z", true)};
  auto errors = check_program(program);
  ASSERT_EQ(paths_of(errors), (std::vector<std::string>{"campaigns[1].from"}));
  EXPECT_NE(errors[0].message.find("black-friday"), std::string::npos) << errors[0].message;

  program.campaigns[1].exclusive = false;  // a non-exclusive campaign may overlap
  EXPECT_TRUE(check_program(program).empty());
  program.campaigns[1].exclusive = true;
  program.campaigns[1].enabled = false;  // so may a disabled one
  EXPECT_TRUE(check_program(program).empty());
  program.campaigns[1].enabled = true;
  program.campaigns[1].from_us = at("2026-11-30T00:00:00Z");  // windows touch, do not overlap
  EXPECT_TRUE(check_program(program).empty());
}

TEST(RuleDocuments, MultipliersMustNameRulesTheyCanSee) {
  Program program;
  program.rules = {fixed_rule("base-rate"), multiplier_of("double", {"base-rate", "base-rat"})};
  program.campaigns = {campaign("xmas", "2026-12-24T00:00:00Z", "2026-12-27T00:00:00Z", false)};
  auto errors = check_program(program);
  ASSERT_EQ(paths_of(errors), (std::vector<std::string>{"rules[1].effect.of_rules[1]"}));
  EXPECT_NE(errors[0].message.find("base-rat"), std::string::npos);

  // A campaign's multiplier sees standing rules and its own; a standing one not campaign rules.
  program.rules[1].effect.of_rules = {"gift"};
  Rule campaign_multiplier = multiplier_of("triple", {"base-rate", "gift"});
  campaign_multiplier.campaign_id = "xmas";
  program.campaigns[0].rules.push_back(campaign_multiplier);
  EXPECT_EQ(paths_of(check_program(program)),
            (std::vector<std::string>{"rules[1].effect.of_rules[0]"}));

  program.rules[1].effect.of_rules = {"double"};
  program.campaigns[0].rules[1].effect.of_rules = {"missing"};
  EXPECT_EQ(paths_of(check_program(program)),
            (std::vector<std::string>{"rules[1].effect.of_rules[0]",
                                      "campaigns[0].rules[1].effect.of_rules[0]"}));
}

TEST(RuleDocuments, RuleIdsAreUniqueAmongStandingRulesAndWithinACampaign) {
  Program program;
  program.rules = {fixed_rule("a"), fixed_rule("b"), fixed_rule("a")};
  program.campaigns = {campaign("one", "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z", false),
                       campaign("two", "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z", false)};
  program.campaigns[1].rules.push_back(fixed_rule("gift"));
  EXPECT_EQ(paths_of(check_program(program)),
            (std::vector<std::string>{"rules[2].id", "campaigns[1].rules[1].id"}));
  program.campaigns[1].id = "one";
  program.rules.pop_back();
  program.campaigns[1].rules.pop_back();
  EXPECT_EQ(paths_of(check_program(program)), (std::vector<std::string>{"campaigns[1].id"}));
}

// ---- The merchant documentation ----------------------------------------------------------------

// Every ```json example in docs/earning.md is a document the server accepts, and its rules and
// campaigns make a consistent program together (the holiday multiplier names the base rate).
TEST(RuleDocuments, EveryExampleInTheMerchantGuideReads) {
  std::ifstream file(std::string(POINTSMALL_SOURCE_DIR) + "/docs/earning.md");
  ASSERT_TRUE(file) << "docs/earning.md";
  std::stringstream text;
  text << file.rdbuf();
  const std::string guide = text.str();
  const auto london = TimeZone::load("Europe/London");
  ASSERT_NE(london, nullptr);
  int examples = 0;
  Program program;
  for (std::size_t start = guide.find("```json\n"); start != std::string::npos;
       start = guide.find("```json\n", start)) {
    start += 8;
    const std::size_t end = guide.find("```", start);
    ASSERT_NE(end, std::string::npos);
    const json document = json::parse(guide.substr(start, end - start));
    std::vector<FieldError> errors;
    bool read = false;
    if (document.contains("event_type")) {
      auto rule = read_rule(document, *london, errors);
      read = rule.has_value();
      if (rule) program.rules.push_back(std::move(*rule));
    } else if (document.contains("rules")) {
      auto campaign = read_campaign(document, *london, errors);
      read = campaign.has_value();
      if (campaign) program.campaigns.push_back(std::move(*campaign));
    } else if (document.contains("tiers")) {
      read = read_tiers(document, errors).has_value();
    } else {
      read = read_engagement(document, errors).has_value();
    }
    EXPECT_TRUE(read) << document.dump() << "\n"
                      << (errors.empty() ? "" : errors[0].field + ": " + errors[0].message);
    ++examples;
    start = end + 3;
  }
  EXPECT_GE(examples, 10);
  const auto errors = check_program(program);
  EXPECT_TRUE(errors.empty()) << errors[0].field << ": " << errors[0].message;
}

}  // namespace
}  // namespace pointsmall::rules
