// Tests of the earning engine (rules/evaluate.h): what a member earns for an event and why, caps
// and budgets across events, tiers, check-ins and referrals. Events run one after another with
// each evaluation's counter updates fed back, as the store does; every evaluation is also repeated
// with only the counters `counters_needed` names, and must come out the same.
#include "rules/evaluate.h"

#include <date/date.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <ostream>
#include <random>
#include <string>
#include <tuple>
#include <vector>

namespace pointsmall {

void PrintTo(const CounterKey& key, std::ostream* out) {
  *out << key.scope << ":" << key.name;
}

namespace rules {

void PrintTo(const Line& line, std::ostream* out) {
  *out << "{" << line.rule << (line.campaign.empty() ? "" : " in " + line.campaign) << " "
       << line.kind << " " << line.points << " \"" << line.detail << "\"}";
}

namespace {

constexpr MemberId kMember = 42;

std::shared_ptr<const TimeZone> load_zone(const char* name) {
  auto zone = TimeZone::load(name);
  EXPECT_NE(zone, nullptr) << "tzdata is missing " << name;
  return zone ? zone : TimeZone::utc();
}

TimeUs local(const Program& program, const char* civil) {
  return program.zone->to_utc(parse_civil_time(civil).value());
}

TimeUs utc(const char* rfc3339) {
  return parse_rfc3339(rfc3339).value();
}

// Days since 1970-01-01 of the local date of `at_us`.
std::int64_t local_day(const Program& program, TimeUs at_us) {
  const CivilTime t = program.zone->to_local(at_us);
  const date::sys_days day = date::year{t.year} / t.month / t.day;
  return day.time_since_epoch().count();
}

// The engine's month index of a local month: year * 12 + month - 1.
constexpr std::int64_t month_index(std::int64_t year, int month) {
  return year * 12 + month - 1;
}

Program program_in(const char* zone) {
  Program program;
  program.zone = load_zone(zone);
  return program;
}

Rule rule_of(const std::string& id, Effect::Kind kind, Points points,
             const std::string& event_type = "purchase") {
  Rule rule;
  rule.id = id;
  rule.name = id;
  rule.event_type = event_type;
  rule.effect.kind = kind;
  rule.effect.points = points;
  rule.effect.currency = "GBP";
  return rule;
}

// `points` for every full `per_minor` pence paid.
Rule per_unit(const std::string& id, Points points, MinorUnits per_minor) {
  Rule rule = rule_of(id, Effect::Kind::per_unit, points);
  rule.effect.per_minor = per_minor;
  return rule;
}
Rule fixed(const std::string& id, Points points, const std::string& event_type = "purchase") {
  return rule_of(id, Effect::Kind::fixed, points, event_type);
}
Rule bonus(const std::string& id, Points points, const std::string& event_type = "purchase") {
  return rule_of(id, Effect::Kind::bonus, points, event_type);
}
Rule multiplier(const std::string& id, int percent, std::vector<std::string> of_rules = {},
                const std::string& event_type = "purchase") {
  Rule rule = rule_of(id, Effect::Kind::multiplier, 0, event_type);
  rule.effect.percent = percent;
  rule.effect.of_rules = std::move(of_rules);
  return rule;
}

Condition when(const std::string& field, Operator op, std::vector<std::int64_t> numbers) {
  return Condition{field, op, std::move(numbers), {}};
}
Condition when_text(const std::string& field, Operator op, std::vector<std::string> texts) {
  return Condition{field, op, {}, std::move(texts)};
}

Event purchase(MinorUnits amount_minor, TimeUs at_us, const std::string& currency = "GBP") {
  Event event;
  event.type = "purchase";
  event.occurred_at_us = at_us;
  event.amount_minor = amount_minor;
  event.currency = currency;
  return event;
}

Event checkin(TimeUs at_us) {
  Event event;
  event.type = "checkin";
  event.occurred_at_us = at_us;
  return event;
}

Member member_of(MemberId id, MemberId referrer = 0) {
  Member member;
  member.id = id;
  member.joined_at_us = utc("2026-01-01T00:00:00Z");
  member.referrer = referrer;
  return member;
}

Member a_member() {
  return member_of(kMember);
}

// Points of the fired line of `rule`; -1 when it did not fire.
Points points_of(const Evaluation& evaluation, const std::string& rule) {
  for (const Line& line : evaluation.fired) {
    if (line.rule == rule) return line.points;
  }
  return -1;
}

// Why `rule` was skipped; "" when it was not.
std::string skip_reason(const Evaluation& evaluation, const std::string& rule) {
  for (const Line& line : evaluation.skipped) {
    if (line.rule == rule) return line.detail;
  }
  return "";
}

std::string fired_detail(const Evaluation& evaluation, const std::string& rule) {
  for (const Line& line : evaluation.fired) {
    if (line.rule == rule) return line.detail;
  }
  return "";
}

::testing::AssertionResult mentions(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << text << "\" does not mention \"" << part << "\"";
}

// Explanations of the rules that do not fire, as dry runs ask for them.
constexpr EvaluateOptions kExplain{.explain_skipped = true};

void expect_same(const Evaluation& a, const Evaluation& b, bool with_skipped = true) {
  EXPECT_EQ(a.points, b.points);
  EXPECT_EQ(a.fired, b.fired);
  if (with_skipped) {
    EXPECT_EQ(a.skipped, b.skipped);
  }
  EXPECT_EQ(a.updates, b.updates);
  EXPECT_EQ(a.tier_level, b.tier_level);
  EXPECT_EQ(a.validity_days, b.validity_days);
  ASSERT_EQ(a.tier_change.has_value(), b.tier_change.has_value());
  if (a.tier_change) {
    EXPECT_EQ(a.tier_change->from_level, b.tier_change->from_level);
    EXPECT_EQ(a.tier_change->to_level, b.tier_change->to_level);
    EXPECT_EQ(a.tier_change->reason, b.tier_change->reason);
  }
  ASSERT_EQ(a.referrer_award.has_value(), b.referrer_award.has_value());
  if (a.referrer_award) {
    EXPECT_EQ(a.referrer_award->member_id, b.referrer_award->member_id);
    EXPECT_EQ(a.referrer_award->points, b.referrer_award->points);
    EXPECT_EQ(a.referrer_award->reason, b.referrer_award->reason);
  }
  ASSERT_EQ(a.refusal.has_value(), b.refusal.has_value());
  if (a.refusal) {
    EXPECT_EQ(a.refusal->problem, b.refusal->problem);
    EXPECT_EQ(a.refusal->detail, b.refusal->detail);
  }
}

// Evaluates as the store does (with only the counters counters_needed names) and checks that the
// result is the same as with every counter, and that explain_skipped changes nothing but the
// skipped lines (which are left out without it).
Evaluation evaluate_checked(const Program& program, const Event& event, const Member& member,
                            const Counters& counters, const EvaluateOptions& options = {}) {
  Counters loaded;
  for (const CounterKey& key : counters_needed(program, event, member)) {
    auto it = counters.find(key);
    if (it != counters.end()) loaded.insert(*it);
  }
  Evaluation with_all = evaluate(program, event, member, counters, options);
  Evaluation with_loaded = evaluate(program, event, member, loaded, options);
  {
    SCOPED_TRACE("evaluated with only the counters counters_needed names");
    expect_same(with_loaded, with_all);
  }
  const Evaluation other =
      evaluate(program, event, member, loaded, {.explain_skipped = !options.explain_skipped});
  {
    SCOPED_TRACE("evaluated with explain_skipped the other way");
    expect_same(other, with_loaded, false);
    EXPECT_TRUE((options.explain_skipped ? other : with_loaded).skipped.empty());
  }
  return with_loaded;
}

void apply_updates(Counters& counters, const Counters& updates) {
  for (const auto& [key, value] : updates) counters[key] = value;
}

// A program and its counters; events evaluate one after another.
struct Sequence {
  explicit Sequence(Program program_in) : program(std::move(program_in)) {}

  Evaluation operator()(const Event& event, const Member& member = a_member(),
                        const EvaluateOptions& options = {}) {
    Evaluation evaluation = evaluate_checked(program, event, member, counters, options);
    if (!evaluation.refusal) apply_updates(counters, evaluation.updates);
    return evaluation;
  }
  Evaluation review(MemberId member, TimeUs at_us) {
    Counters loaded;
    for (const CounterKey& key : tier_counters_needed(program, member, at_us)) {
      auto it = counters.find(key);
      if (it != counters.end()) loaded.insert(*it);
    }
    Evaluation evaluation = review_tier(program, member, loaded, at_us);
    expect_same(evaluation, review_tier(program, member, counters, at_us));
    apply_updates(counters, evaluation.updates);
    return evaluation;
  }
  [[nodiscard]] std::int64_t counter(MemberId scope, const std::string& name) const {
    return counter_value(counters, {scope, name});
  }

  Program program;
  Counters counters;
};

// ---- Effects -----------------------------------------------------------------------------------

TEST(EarningEffects, PerUnitGivesItsPointsForEveryFullUnitOfMoney) {
  Program program = program_in("Europe/London");
  program.rules = {per_unit("spend", 10, 100)};
  Sequence run(program);
  const Evaluation evaluation = run(purchase(2599, local(program, "2026-11-22 12:00:00")));
  EXPECT_EQ(evaluation.points, 250);
  EXPECT_EQ(points_of(evaluation, "spend"), 250);
  EXPECT_TRUE(
      mentions(fired_detail(evaluation, "spend"), "10 points per full 100 of 2599 GBP paid"));
  EXPECT_EQ(run(purchase(99, local(program, "2026-11-22 12:00:00"))).points, 0);
}

TEST(EarningEffects, PerUnitCountsOnlyEventsInItsCurrency) {
  Program program;
  program.rules = {per_unit("spend", 1, 100)};
  const Evaluation evaluation = evaluate_checked(
      program, purchase(5000, utc("2026-11-22T12:00:00Z"), "EUR"), a_member(), {}, kExplain);
  EXPECT_EQ(evaluation.points, 0);
  EXPECT_EQ(skip_reason(evaluation, "spend"), "event in EUR, rule counts GBP");
}

TEST(EarningEffects, FixedGivesItsPointsWhenItsConditionsHold) {
  Program program;
  Rule big = fixed("big_order", 500);
  big.conditions = {when("amount", Operator::gte, {5000})};
  program.rules = {big};
  const TimeUs at = utc("2026-11-22T12:00:00Z");
  const Evaluation fired = evaluate_checked(program, purchase(6000, at), a_member(), {});
  EXPECT_EQ(fired.points, 500);
  EXPECT_TRUE(mentions(fired_detail(fired, "big_order"), "amount 6000 is at least 5000"));
  const Evaluation not_fired =
      evaluate_checked(program, purchase(3000, at), a_member(), {}, kExplain);
  EXPECT_EQ(not_fired.points, 0);
  EXPECT_EQ(skip_reason(not_fired, "big_order"), "amount 3000 is below 5000");
}

TEST(EarningEffects, MultiplierAddsItsShareOfTheBasePoints) {
  Program program;
  program.rules = {per_unit("spend", 1, 100), multiplier("boost", 150)};
  const Evaluation evaluation =
      evaluate_checked(program, purchase(10000, utc("2026-11-22T12:00:00Z")), a_member(), {});
  EXPECT_EQ(points_of(evaluation, "spend"), 100);
  EXPECT_EQ(points_of(evaluation, "boost"), 50);
  EXPECT_EQ(evaluation.points, 150);
  EXPECT_TRUE(mentions(fired_detail(evaluation, "boost"), "150% of 100 base points"));
}

TEST(EarningEffects, MultiplierOfNamedRulesCountsOnlyTheirPoints) {
  Program program;
  program.rules = {per_unit("spend", 1, 100), fixed("welcome", 40),
                   multiplier("double_spend", 200, {"spend"})};
  const Evaluation evaluation =
      evaluate_checked(program, purchase(10000, utc("2026-11-22T12:00:00Z")), a_member(), {});
  EXPECT_EQ(points_of(evaluation, "double_spend"), 100);
  EXPECT_EQ(evaluation.points, 240);
}

TEST(EarningEffects, BonusIsAddedAfterMultipliersAndNeverMultiplied) {
  Program program;
  program.rules = {per_unit("spend", 1, 100), multiplier("double", 200), bonus("thanks", 30)};
  const Evaluation evaluation =
      evaluate_checked(program, purchase(10000, utc("2026-11-22T12:00:00Z")), a_member(), {});
  EXPECT_EQ(evaluation.points, 100 + 100 + 30);
  ASSERT_EQ(evaluation.fired.size(), 3U);
  EXPECT_EQ(evaluation.fired[2].rule, "thanks");
  EXPECT_EQ(evaluation.fired[2].kind, "bonus");
}

TEST(EarningEffects, RulesOfOtherEventTypesAndDisabledRulesAreNotConsidered) {
  Program program;
  Rule off = fixed("off", 100);
  off.enabled = false;
  program.rules = {fixed("review_reward", 50, "review"), off, fixed("on", 10)};
  const Evaluation evaluation = evaluate_checked(
      program, purchase(100, utc("2026-11-22T12:00:00Z")), a_member(), {}, kExplain);
  EXPECT_EQ(evaluation.points, 10);
  EXPECT_TRUE(evaluation.skipped.empty());
}

// ---- The earn base -----------------------------------------------------------------------------

TEST(EarningBase, PointsAreOnWhatThePaymentWasBeforeOrAfterDiscountsAsTheRuleSays) {
  // List price 100.00; a coupon took 15.00; 5.00 paid with points; 80.00 paid in money.
  Event event = purchase(8000, utc("2026-11-22T12:00:00Z"));
  event.discount_minor = 1500;
  event.points_discount_minor = 500;
  const std::vector<std::pair<EarnBase, Points>> cases = {
      {EarnBase::paid, 80}, {EarnBase::before_points, 85}, {EarnBase::before_discounts, 100}};
  for (const auto& [base, expected] : cases) {
    Program program;
    Rule rule = per_unit("spend", 1, 100);
    rule.effect.base = base;
    program.rules = {rule};
    const Evaluation evaluation = evaluate_checked(program, event, a_member(), {});
    EXPECT_EQ(evaluation.points, expected) << static_cast<int>(base);
  }
}

TEST(EarningBase, CategoryRuleOnMatchingItemsOnlyCountsTheirShareOfWhatWasPaid) {
  Program program;
  Rule shoes = per_unit("shoes", 1, 100);
  shoes.items = ItemFilter{{}, {"shoes"}, {}, 1};
  shoes.effect.matching_items_only = true;
  program.rules = {shoes};
  Event event = purchase(9000, utc("2026-11-22T12:00:00Z"));
  event.discount_minor = 1000;
  event.items = {{"S1", "shoes", "acme", 3000, 2}, {"T1", "shirts", "acme", 4000, 1}};
  // 60% of the list value is shoes: 60% of 90.00 paid is 54.00.
  const Evaluation evaluation = evaluate_checked(program, event, a_member(), {});
  EXPECT_EQ(evaluation.points, 54);
  EXPECT_TRUE(mentions(fired_detail(evaluation, "shoes"), "on items in category shoes"));

  program.rules[0].effect.matching_items_only = false;
  EXPECT_EQ(evaluate_checked(program, event, a_member(), {}).points, 90);

  program.rules[0].items->min_quantity = 3;
  EXPECT_EQ(skip_reason(evaluate_checked(program, event, a_member(), {}, kExplain), "shoes"),
            "2 items in category shoes, the rule needs 3");

  event.items = {{"T1", "shirts", "acme", 4000, 1}};
  EXPECT_EQ(skip_reason(evaluate_checked(program, event, a_member(), {}, kExplain), "shoes"),
            "no item in category shoes");
}

TEST(EarningBase, ItemFilterNeedsEveryListItNames) {
  Program program;
  Rule rule = fixed("acme_shoes", 100);
  rule.items = ItemFilter{{}, {"shoes"}, {"acme"}, 1};
  program.rules = {rule};
  Event event = purchase(9000, utc("2026-11-22T12:00:00Z"));
  event.items = {{"S1", "shoes", "other", 3000, 1}, {"S2", "boots", "acme", 3000, 1}};
  EXPECT_EQ(skip_reason(evaluate_checked(program, event, a_member(), {}, kExplain), "acme_shoes"),
            "no item in category shoes of brand acme");
  event.items.push_back({"S3", "shoes", "acme", 3000, 1});
  EXPECT_EQ(evaluate_checked(program, event, a_member(), {}).points, 100);
}

// ---- Conditions --------------------------------------------------------------------------------

struct FieldCase {
  const char* name;
  Condition condition;
  std::function<void(Event&, Member&, Counters&)> holds;  // makes the condition hold
  std::function<void(Event&, Member&, Counters&)> fails;  // makes it fail
  std::string failure;                                    // the reason given
};

TEST(EarningConditions, EveryFieldDecidesWhetherTheRuleFires) {
  Program program = program_in("Europe/London");
  program.tiers = TierProgram{};
  program.tiers->tiers = {{"bronze", "Bronze"}, {"gold", "Gold", 1000}};
  const TimeUs at = local(program, "2026-11-22 12:00:00");
  const std::int64_t today = local_day(program, at);
  const Item shoe{"SKU-1", "shoes", "acme", 3000, 1};
  const Item gift_card{"GC-1", "gift-cards", "store", 2000, 1};
  auto none = [](Event&, Member&, Counters&) {};
  const std::vector<FieldCase> cases = {
      {"amount", when("amount", Operator::gte, {5000}), none,
       [](Event& e, Member&, Counters&) { e.amount_minor = 4999; }, "amount 4999 is below 5000"},
      {"discount", when("discount", Operator::gt, {0}),
       [](Event& e, Member&, Counters&) { e.discount_minor = 100; }, none,
       "discount 0 is not above 0"},
      {"points_discount", when("points_discount", Operator::eq, {0}), none,
       [](Event& e, Member&, Counters&) { e.points_discount_minor = 300; },
       "points_discount 300 is not 0"},
      {"items.quantity", when("items.quantity", Operator::between, {2, 5}),
       [&](Event& e, Member&, Counters&) {
         e.items = {shoe, shoe, shoe};
       },
       [&](Event& e, Member&, Counters&) {
         e.items = {{"SKU-1", "shoes", "acme", 3000, 6}};
       },
       "items.quantity 6 is not between 2 and 5"},
      {"member.days_since_joining", when("member.days_since_joining", Operator::lt, {30}),
       [&](Event&, Member& m, Counters&) { m.joined_at_us = at - 29 * kMicrosPerDay - 1; },
       [&](Event&, Member& m, Counters&) { m.joined_at_us = at - 30 * kMicrosPerDay; },
       "member.days_since_joining 30 is not below 30"},
      {"member.lifetime_spend", when("member.lifetime_spend", Operator::gte, {10000}),
       [](Event&, Member&, Counters& c) {
         c[{kMember, "spent:GBP"}] = 10000;
       },
       [](Event&, Member&, Counters& c) {
         c[{kMember, "spent:GBP"}] = 9999;
         c[{kMember, "spent:EUR"}] = 50000;
       },
       "member.lifetime_spend 9999 is below 10000"},
      {"checkin.streak", when("checkin.streak", Operator::gte, {3}),
       [&](Event&, Member&, Counters& c) {
         c[{kMember, "checkin.day"}] = today - 1;
         c[{kMember, "checkin.streak"}] = 3;
       },
       [&](Event&, Member&, Counters& c) {
         c[{kMember, "checkin.day"}] = today - 2;  // the streak broke yesterday
         c[{kMember, "checkin.streak"}] = 5;
       },
       "checkin.streak 0 is below 3"},
      {"currency", when_text("currency", Operator::eq, {"GBP"}), none,
       [](Event& e, Member&, Counters&) { e.currency = "EUR"; }, "currency EUR is not GBP"},
      {"channel", when_text("channel", Operator::in, {"app", "web"}),
       [](Event& e, Member&, Counters&) { e.channel = "app"; },
       [](Event& e, Member&, Counters&) { e.channel = "pos"; },
       "channel pos is not one of app, web"},
      {"store", when_text("store", Operator::ne, {"outlet"}),
       [](Event& e, Member&, Counters&) { e.store = "london"; },
       [](Event& e, Member&, Counters&) { e.store = "outlet"; }, "store outlet is outlet"},
      {"task", when_text("task", Operator::eq, {"profile"}),
       [](Event& e, Member&, Counters&) { e.task = "profile"; }, none,
       "task (none) is not profile"},
      {"member.tier", when_text("member.tier", Operator::eq, {"gold"}),
       [](Event&, Member&, Counters& c) {
         c[{kMember, "tier"}] = 1;
       },
       none, "member.tier bronze is not gold"},
      {"member.segment", when_text("member.segment", Operator::not_in, {"churned"}),
       [](Event&, Member& m, Counters&) { m.segment = "new"; },
       [](Event&, Member& m, Counters&) { m.segment = "churned"; },
       "member.segment churned is one of churned"},
      {"items.sku", when_text("items.sku", Operator::any_of, {"SKU-1"}),
       [&](Event& e, Member&, Counters&) {
         e.items = {gift_card, shoe};
       },
       [&](Event& e, Member&, Counters&) { e.items = {gift_card}; }, "no item with sku SKU-1"},
      {"items.category", when_text("items.category", Operator::not_in, {"gift-cards"}),
       [&](Event& e, Member&, Counters&) { e.items = {shoe}; },
       [&](Event& e, Member&, Counters&) {
         e.items = {shoe, gift_card};
       },
       "an item in category gift-cards"},
      {"items.brand", when_text("items.brand", Operator::any_of, {"acme"}),
       [&](Event& e, Member&, Counters&) { e.items = {shoe}; },
       [&](Event& e, Member&, Counters&) { e.items = {gift_card}; }, "no item of brand acme"},
      {"member.tags", when_text("member.tags", Operator::any_of, {"vip"}),
       [](Event&, Member& m, Counters&) {
         m.tags = {"staff", "vip"};
       },
       [](Event&, Member& m, Counters&) { m.tags = {"staff"}; }, "member not tagged vip"},
      {"member.first_purchase", when("member.first_purchase", Operator::eq, {1}), none,
       [](Event&, Member&, Counters& c) {
         c[{kMember, "purchases"}] = 1;
       },
       "not the member's first purchase"},
      {"member.birthday_month", when("member.birthday_month", Operator::eq, {1}),
       [](Event&, Member& m, Counters&) { m.birthday_month = 11; },
       [](Event&, Member& m, Counters&) { m.birthday_month = 12; },
       "not in the member's birthday month"},
  };
  for (const FieldCase& c : cases) {
    SCOPED_TRACE(c.name);
    Rule rule = fixed("r", 100);
    rule.conditions = {c.condition};
    program.rules = {rule};
    for (bool holding : {true, false}) {
      Event event = purchase(5000, at);
      Member member = a_member();
      Counters counters;
      (holding ? c.holds : c.fails)(event, member, counters);
      const Evaluation evaluation = evaluate_checked(program, event, member, counters, kExplain);
      if (holding) {
        EXPECT_EQ(points_of(evaluation, "r"), 100) << skip_reason(evaluation, "r");
      } else {
        EXPECT_EQ(points_of(evaluation, "r"), -1);
        EXPECT_EQ(skip_reason(evaluation, "r"), c.failure);
      }
    }
  }
}

TEST(EarningConditions, EveryOperatorComparesAsNamed) {
  struct Case {
    Operator op;
    std::vector<std::int64_t> numbers;
    bool holds_for_5000;
  };
  const std::vector<Case> cases = {
      {Operator::eq, {5000}, true},
      {Operator::eq, {4000}, false},
      {Operator::ne, {5000}, false},
      {Operator::ne, {4000}, true},
      {Operator::lt, {5000}, false},
      {Operator::lt, {5001}, true},
      {Operator::lte, {5000}, true},
      {Operator::lte, {4999}, false},
      {Operator::gt, {5000}, false},
      {Operator::gt, {4999}, true},
      {Operator::gte, {5000}, true},
      {Operator::gte, {5001}, false},
      {Operator::between, {5000, 6000}, true},
      {Operator::between, {4000, 5000}, true},
      {Operator::between, {5001, 6000}, false},
      {Operator::in, {1, 5000}, true},
      {Operator::in, {1, 2}, false},
      {Operator::not_in, {1, 5000}, false},
      {Operator::not_in, {1, 2}, true},
      {Operator::any_of, {5000}, true},
  };
  for (const Case& c : cases) {
    Program program;
    Rule rule = fixed("r", 1);
    rule.conditions = {when("amount", c.op, c.numbers)};
    program.rules = {rule};
    const Evaluation evaluation =
        evaluate_checked(program, purchase(5000, utc("2026-11-22T12:00:00Z")), a_member(), {});
    EXPECT_EQ(evaluation.points == 1, c.holds_for_5000) << static_cast<int>(c.op);
  }
  Program program;
  Rule rule = fixed("r", 1);
  rule.conditions = {when_text("channel", Operator::lt, {"app"})};
  program.rules = {rule};
  EXPECT_EQ(skip_reason(evaluate_checked(program, purchase(1, 0), a_member(), {}, kExplain), "r"),
            "operator lt does not apply to channel");
}

TEST(EarningConditions, TextListConditionWithoutValuesNeverHolds) {
  // Documents refuse an empty list; a program built otherwise gets what the README promises
  // for a condition without a value (not_in used to hold, any_of to fail with odd words).
  Program program;
  Rule rule = fixed("r", 10);
  rule.conditions = {when_text("member.tags", Operator::not_in, {})};
  program.rules = {rule};
  const Evaluation evaluation = evaluate_checked(
      program, purchase(100, utc("2026-11-22T12:00:00Z")), a_member(), {}, kExplain);
  EXPECT_EQ(evaluation.points, 0);
  EXPECT_EQ(skip_reason(evaluation, "r"), "the condition on member.tags has no value");
}

TEST(EarningConditions, MinimumSpendPerOrderIsNotCumulativeSpend) {
  Program program;
  Rule per_order = fixed("big_order", 100);
  per_order.conditions = {when("amount", Operator::gte, {5000})};
  Rule cumulative = fixed("loyal", 1000);
  cumulative.conditions = {when("member.lifetime_spend", Operator::gte, {10000})};
  program.rules = {per_order, cumulative};
  Sequence run(program);
  const TimeUs at = utc("2026-11-22T12:00:00Z");
  // Four orders of 30.00: none is a 50.00 order; the spend before the fifth passes 100.00.
  for (int i = 0; i < 4; ++i) {
    const Evaluation evaluation = run(purchase(3000, at + i), a_member(), kExplain);
    EXPECT_EQ(evaluation.points, 0) << i;
    EXPECT_EQ(skip_reason(evaluation, "big_order"), "amount 3000 is below 5000");
    EXPECT_EQ(skip_reason(evaluation, "loyal"),
              "member.lifetime_spend " + std::to_string(3000 * i) + " is below 10000");
  }
  EXPECT_EQ(run.counter(kMember, "spent:GBP"), 12000);
  const Evaluation fifth = run(purchase(3000, at + 5));
  EXPECT_EQ(points_of(fifth, "loyal"), 1000);
  EXPECT_EQ(points_of(fifth, "big_order"), -1);
}

TEST(EarningConditions, FirstPurchaseBonusIsGivenOnlyOnce) {
  Program program;
  Rule first = bonus("welcome", 500);
  first.conditions = {when("member.first_purchase", Operator::eq, {1})};
  program.rules = {per_unit("spend", 1, 100), first};
  Sequence run(program);
  const TimeUs at = utc("2026-11-22T12:00:00Z");
  EXPECT_EQ(run(purchase(1000, at)).points, 510);
  EXPECT_EQ(run.counter(kMember, "purchases"), 1);
  const Evaluation second = run(purchase(1000, at + 1), a_member(), kExplain);
  EXPECT_EQ(second.points, 10);
  EXPECT_EQ(skip_reason(second, "welcome"), "not the member's first purchase");
  // Another member's first purchase still earns it.
  EXPECT_EQ(run(purchase(1000, at + 2), member_of(7)).points, 510);
}

// ---- Windows -----------------------------------------------------------------------------------

TEST(EarningWindows, HolidayCampaignDoublesPointsOnTheLocalDay) {
  Program program = program_in("Pacific/Auckland");
  program.rules = {per_unit("spend", 1, 100)};
  Campaign christmas;
  christmas.id = "christmas";
  christmas.from_us = local(program, "2026-12-25 00:00:00");
  christmas.until_us = local(program, "2026-12-26 00:00:00");
  Rule doubled = multiplier("double", 200);
  doubled.campaign_id = "christmas";
  christmas.rules = {doubled};
  program.campaigns = {christmas};
  Sequence run(program);
  // 00:30 on Christmas Day in Auckland is still 24 December in UTC.
  const Evaluation christmas_day = run(purchase(10000, local(program, "2026-12-25 00:30:00")));
  EXPECT_EQ(christmas_day.points, 200);
  ASSERT_EQ(christmas_day.fired.size(), 2U);
  EXPECT_EQ(christmas_day.fired[1].campaign, "christmas");
  EXPECT_EQ(run(purchase(10000, local(program, "2026-12-24 23:30:00"))).points, 100);
  EXPECT_EQ(run(purchase(10000, local(program, "2026-12-25 23:59:59"))).points, 200);
  EXPECT_EQ(run(purchase(10000, local(program, "2026-12-26 00:00:00"))).points, 100);
}

TEST(EarningWindows, WeekendRuleFollowsTheLocalWeekday) {
  Program program = program_in("Europe/London");
  Rule weekend = fixed("weekend", 50);
  weekend.window.weekdays = 0x60;  // Saturday and Sunday
  program.rules = {weekend};
  // Friday 23:30 UTC in summer is Saturday 00:30 in London.
  const Evaluation saturday =
      evaluate_checked(program, purchase(100, utc("2026-07-10T23:30:00Z")), a_member(), {});
  EXPECT_EQ(saturday.points, 50);
  EXPECT_TRUE(mentions(fired_detail(saturday, "weekend"), "Saturday 00:30 in Europe/London"));
  const Evaluation friday = evaluate_checked(program, purchase(100, utc("2026-07-10T22:30:00Z")),
                                             a_member(), {}, kExplain);
  EXPECT_EQ(skip_reason(friday, "weekend"), "not on Saturday-Sunday in Europe/London");
}

TEST(EarningWindows, HourWindowHoldsInLocalTimeOnLondonClockChangeDays) {
  Program program = program_in("Europe/London");
  Rule morning = fixed("morning", 10);
  morning.window.from_minute = 9 * 60;
  morning.window.until_minute = 12 * 60;
  program.rules = {morning};
  auto points_at = [&](const char* instant) {
    return evaluate_checked(program, purchase(100, utc(instant)), a_member(), {}).points;
  };
  // 29 March 2026: clocks go forward at 01:00 UTC; 08:30 UTC is 09:30 BST.
  EXPECT_EQ(points_at("2026-03-29T08:30:00Z"), 10);
  EXPECT_EQ(points_at("2026-03-29T10:59:59Z"), 10);
  EXPECT_EQ(points_at("2026-03-29T11:00:00Z"), 0);
  // 25 October 2026: clocks go back; 08:30 UTC is 08:30 GMT.
  EXPECT_EQ(points_at("2026-10-25T08:30:00Z"), 0);
  EXPECT_EQ(points_at("2026-10-25T09:00:00Z"), 10);
  EXPECT_EQ(skip_reason(evaluate_checked(program, purchase(100, utc("2026-10-25T12:00:00Z")),
                                         a_member(), {}, kExplain),
                        "morning"),
            "not between 09:00 and 12:00 in Europe/London");
}

TEST(EarningWindows, HourWindowHoldsInLocalTimeOnNewYorkClockChangeDays) {
  Program program = program_in("America/New_York");
  Rule night = fixed("night_owl", 10);
  night.window.from_minute = 60;  // 01:00-03:00
  night.window.until_minute = 3 * 60;
  program.rules = {night};
  auto points_at = [&](const char* instant) {
    return evaluate_checked(program, purchase(100, utc(instant)), a_member(), {}).points;
  };
  // 8 March 2026: 02:00 EST becomes 03:00 EDT, so the window lasts one hour.
  EXPECT_EQ(points_at("2026-03-08T06:00:00Z"), 10);  // 01:00 EST
  EXPECT_EQ(points_at("2026-03-08T06:59:59Z"), 10);  // 01:59:59 EST
  EXPECT_EQ(points_at("2026-03-08T07:00:00Z"), 0);   // 03:00 EDT
  // 1 November 2026: 01:00-02:00 happens twice; both count; the window lasts three hours.
  EXPECT_EQ(points_at("2026-11-01T05:30:00Z"), 10);  // 01:30 EDT
  EXPECT_EQ(points_at("2026-11-01T06:30:00Z"), 10);  // 01:30 EST
  EXPECT_EQ(points_at("2026-11-01T07:30:00Z"), 10);  // 02:30 EST
  EXPECT_EQ(points_at("2026-11-01T08:00:00Z"), 0);   // 03:00 EST
}

TEST(EarningWindows, RuleFromAndUntilAreInstants) {
  Program program = program_in("Europe/London");
  Rule launch = fixed("launch", 10);
  launch.window.from_us = local(program, "2026-12-01 00:00:00");
  launch.window.until_us = local(program, "2026-12-08 00:00:00");
  program.rules = {launch};
  auto evaluation_at = [&](const char* civil) {
    return evaluate_checked(program, purchase(100, local(program, civil)), a_member(), {},
                            kExplain);
  };
  EXPECT_EQ(skip_reason(evaluation_at("2026-11-30 23:59:59"), "launch"),
            "starts 2026-12-01 00:00 Europe/London");
  EXPECT_EQ(evaluation_at("2026-12-01 00:00:00").points, 10);
  EXPECT_EQ(skip_reason(evaluation_at("2026-12-08 00:00:00"), "launch"),
            "ended 2026-12-08 00:00 Europe/London");
}

// ---- Stacking ----------------------------------------------------------------------------------

TEST(EarningStacking, MultipliersAddUpAndNeverCompound) {
  Program program;
  program.rules = {per_unit("spend", 1, 100), multiplier("double", 200),
                   multiplier("half_more", 150)};
  const Evaluation evaluation =
      evaluate_checked(program, purchase(10000, utc("2026-11-22T12:00:00Z")), a_member(), {});
  EXPECT_EQ(evaluation.points, 250);  // 2.5x, not 3x
  EXPECT_EQ(points_of(evaluation, "double"), 100);
  EXPECT_EQ(points_of(evaluation, "half_more"), 50);
}

TEST(EarningStacking, NonStackingRuleThatFiresStopsLowerPriorityRulesOfItsStage) {
  Program program;
  Rule vip = fixed("vip_flat", 500);
  vip.priority = 10;
  vip.stacks = false;
  vip.conditions = {when_text("member.tags", Operator::any_of, {"vip"})};
  Rule spend = per_unit("spend", 1, 100);
  spend.priority = 5;
  program.rules = {spend, vip, bonus("thanks", 5)};
  Member vip_member = a_member();
  vip_member.tags = {"vip"};
  const TimeUs at = utc("2026-11-22T12:00:00Z");
  const Evaluation blocked =
      evaluate_checked(program, purchase(10000, at), vip_member, {}, kExplain);
  EXPECT_EQ(points_of(blocked, "vip_flat"), 500);
  EXPECT_EQ(skip_reason(blocked, "spend"), "not stacked: vip_flat fired");
  EXPECT_EQ(points_of(blocked, "thanks"), 5);  // another stage
  EXPECT_EQ(blocked.points, 505);
  const Evaluation open = evaluate_checked(program, purchase(10000, at), a_member(), {});
  EXPECT_EQ(points_of(open, "spend"), 100);
  EXPECT_EQ(open.points, 105);
}

TEST(EarningStacking, RulesApplyByPriorityThenCampaignThenId) {
  Program program;
  Rule low = fixed("a_low", 1);
  low.priority = 1;
  Rule high = fixed("z_high", 2);
  high.priority = 9;
  Campaign campaign;
  campaign.id = "autumn";
  Rule in_campaign = fixed("b", 3);
  in_campaign.priority = 9;
  in_campaign.campaign_id = "autumn";
  campaign.rules = {in_campaign};
  program.rules = {low, fixed("m_mid", 4), high};
  program.campaigns = {campaign};
  const Evaluation evaluation =
      evaluate_checked(program, purchase(100, utc("2026-11-22T12:00:00Z")), a_member(), {});
  std::vector<std::string> order;
  for (const Line& line : evaluation.fired) order.push_back(line.rule);
  EXPECT_EQ(order, (std::vector<std::string>{"z_high", "b", "a_low", "m_mid"}));
}

// ---- Caps --------------------------------------------------------------------------------------

Rule capped_rule(Points points_per_event) {
  return fixed("r", points_per_event);
}

TEST(EarningCaps, PerEventCapLimitsOneEvent) {
  Program program;
  Rule rule = per_unit("spend", 1, 100);
  rule.caps.per_event = 100;
  program.rules = {rule};
  const Evaluation evaluation =
      evaluate_checked(program, purchase(50000, utc("2026-11-22T12:00:00Z")), a_member(), {});
  EXPECT_EQ(evaluation.points, 100);
  EXPECT_TRUE(mentions(fired_detail(evaluation, "spend"),
                       "at most 100 points per event: 100 of 500 awarded"));
}

TEST(EarningCaps, PointsPerMemberPerPeriodStopAtTheCapAndStartAgainNextPeriod) {
  struct Case {
    Period period;
    const char* first;  // local times in London
    const char* same_period;
    const char* next_period;
    const char* counter;
    const char* words;
  };
  const std::vector<Case> cases = {
      {Period::day, "2026-11-22 00:00:00", "2026-11-22 23:59:59", "2026-11-23 00:00:00",
       "rule:r:d2026-11-22:points", "at most 150 points a day"},
      {Period::week, "2026-11-16 00:00:00", "2026-11-22 23:59:59", "2026-11-23 00:00:00",
       "rule:r:w2026-11-16:points", "at most 150 points a week"},
      {Period::month, "2026-11-01 00:00:00", "2026-11-30 23:59:59", "2026-12-01 00:00:00",
       "rule:r:m2026-11:points", "at most 150 points a month"},
      {Period::lifetime, "2026-11-01 00:00:00", "2030-01-01 00:00:00", nullptr, "rule:r:all:points",
       "at most 150 points in total"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.counter);
    Program program = program_in("Europe/London");
    Rule rule = capped_rule(100);
    rule.caps.per_member = {MemberCap{c.period, 150, 0}};
    program.rules = {rule};
    Sequence run(program);
    EXPECT_EQ(run(purchase(1, local(program, c.first))).points, 100);
    const Evaluation cut = run(purchase(1, local(program, c.same_period)));
    EXPECT_EQ(cut.points, 50);
    EXPECT_TRUE(mentions(fired_detail(cut, "r"), std::string(c.words) + ": 50 of 100 awarded"));
    const Evaluation none = run(purchase(1, local(program, c.same_period)), a_member(), kExplain);
    EXPECT_EQ(none.points, 0);
    EXPECT_EQ(skip_reason(none, "r"), std::string(c.words) + ": 0 of 100 awarded");
    EXPECT_EQ(run.counter(kMember, c.counter), 150);
    EXPECT_EQ(run(purchase(1, local(program, c.same_period)), member_of(7)).points, 100);
    if (c.next_period != nullptr) {
      EXPECT_EQ(run(purchase(1, local(program, c.next_period))).points, 100);
    }
  }
}

TEST(EarningCaps, AwardsPerMemberPerPeriodStopAtTheCap) {
  const std::vector<std::tuple<Period, const char*, const char*>> cases = {
      {Period::day, "rule:r:d2026-11-22:times", "3 awards this day already"},
      {Period::week, "rule:r:w2026-11-16:times", "3 awards this week already"},
      {Period::month, "rule:r:m2026-11:times", "3 awards this month already"},
      {Period::lifetime, "rule:r:all:times", "3 awards already"},
  };
  for (const auto& [period, counter, reason] : cases) {
    SCOPED_TRACE(counter);
    Program program = program_in("Europe/London");
    Rule rule = capped_rule(10);
    rule.caps.per_member = {MemberCap{period, 0, 3}};
    program.rules = {rule};
    Sequence run(program);
    const TimeUs at = local(program, "2026-11-22 10:00:00");
    for (int i = 0; i < 3; ++i) EXPECT_EQ(run(purchase(1, at + i)).points, 10);
    const Evaluation fourth = run(purchase(1, at + 3), a_member(), kExplain);
    EXPECT_EQ(fourth.points, 0);
    EXPECT_EQ(skip_reason(fourth, "r"), reason);
    EXPECT_EQ(run.counter(kMember, counter), 3);
    EXPECT_TRUE(fourth.updates.empty());
  }
}

TEST(EarningCaps, RuleBudgetIsProgramWideAndPartlyAwardsTheLastEvent) {
  Program program;
  Rule rule = capped_rule(100);
  rule.caps.budget = 250;
  program.rules = {rule};
  Sequence run(program);
  const TimeUs at = utc("2026-11-22T12:00:00Z");
  EXPECT_EQ(run(purchase(1, at), member_of(1)).points, 100);
  EXPECT_EQ(run(purchase(1, at), member_of(2)).points, 100);
  const Evaluation partial = run(purchase(1, at), member_of(3));
  EXPECT_EQ(partial.points, 50);
  EXPECT_TRUE(mentions(fired_detail(partial, "r"), "budget exhausted: 50 of 100 awarded"));
  const Evaluation none = run(purchase(1, at), member_of(4), kExplain);
  EXPECT_EQ(none.points, 0);
  EXPECT_EQ(skip_reason(none, "r"), "budget exhausted: 0 of 100 awarded");
  EXPECT_EQ(run.counter(0, "rule:r:budget"), 250);
}

TEST(EarningCaps, CampaignBudgetRunsOutMidSequence) {
  Program program = program_in("Europe/London");
  Campaign campaign;
  campaign.id = "xmas";
  campaign.budget = 250;
  Rule gift = fixed("gift", 100);
  gift.campaign_id = "xmas";
  Rule extra = bonus("extra", 60);
  extra.campaign_id = "xmas";
  campaign.rules = {gift, extra};
  program.campaigns = {campaign};
  Sequence run(program);
  const TimeUs at = local(program, "2026-12-20 12:00:00");
  const Evaluation first = run(purchase(1, at), member_of(1));
  EXPECT_EQ(first.points, 160);
  const Evaluation second = run(purchase(1, at + 1), member_of(2), kExplain);
  EXPECT_EQ(points_of(second, "gift"), 90);
  EXPECT_TRUE(
      mentions(fired_detail(second, "gift"), "campaign budget exhausted: 90 of 100 awarded"));
  EXPECT_EQ(skip_reason(second, "extra"), "campaign budget exhausted: 0 of 60 awarded");
  EXPECT_EQ(second.points, 90);
  const Evaluation third = run(purchase(1, at + 2), member_of(3));
  EXPECT_EQ(third.points, 0);
  EXPECT_EQ(run.counter(0, "campaign:xmas:budget"), 250);
  EXPECT_TRUE(third.updates.empty());
}

TEST(EarningCaps, CampaignRulesCountUnderTheirCampaignsName) {
  Program program = program_in("Europe/London");
  Campaign campaign;
  campaign.id = "xmas";
  Rule gift = fixed("gift", 100);
  gift.campaign_id = "xmas";
  gift.caps.per_member = {MemberCap{Period::day, 0, 1}};
  gift.caps.budget = 1000;
  campaign.rules = {gift};
  program.campaigns = {campaign};
  const TimeUs at = local(program, "2026-12-20 12:00:00");
  const Evaluation evaluation = evaluate_checked(program, purchase(1, at), a_member(), {});
  const Counters expected = {{{kMember, "rule:xmas/gift:d2026-12-20:points"}, 100},
                             {{kMember, "rule:xmas/gift:d2026-12-20:times"}, 1},
                             {{0, "rule:xmas/gift:budget"}, 100}};
  EXPECT_EQ(evaluation.updates, expected);
}

// ---- Tiers -------------------------------------------------------------------------------------

TierProgram four_tiers(DowngradePolicy policy) {
  TierProgram tiers;
  tiers.downgrade = policy;
  tiers.tiers = {{"bronze", "Bronze", 0},
                 {"silver", "Silver", 500, 110},
                 {"gold", "Gold", 1000, 125, 730},
                 {"platinum", "Platinum", 2000, 150, 1095}};
  return tiers;
}

TEST(EarningTiers, UpgradeHappensExactlyAtTheThresholdAndNotOnePointBelow) {
  Program program = program_in("Europe/London");
  program.rules = {per_unit("spend", 1, 100)};
  program.tiers = four_tiers(DowngradePolicy::recalculate);
  program.tiers->tiers.resize(3);
  program.tiers->tiers[1].threshold = 1000;
  program.tiers->tiers[2].threshold = 5000;
  Sequence run(program);
  const TimeUs at = local(program, "2026-11-22 12:00:00");
  const Evaluation below = run(purchase(99900, at));
  EXPECT_FALSE(below.tier_change.has_value());
  EXPECT_EQ(below.tier_level, 0);
  EXPECT_EQ(run.counter(kMember, "tier.m:2026-11"), 999);
  const Evaluation at_threshold = run(purchase(100, at + 1));
  ASSERT_TRUE(at_threshold.tier_change.has_value());
  EXPECT_EQ(at_threshold.tier_change->from_level, 0);
  EXPECT_EQ(at_threshold.tier_change->to_level, 1);
  EXPECT_EQ(at_threshold.tier_change->reason,
            "reached 1000 points earned in 2026 (Silver needs 1000)");
  EXPECT_EQ(at_threshold.tier_level, 1);
  EXPECT_EQ(run.counter(kMember, "tier"), 1);
  EXPECT_EQ(run.counter(kMember, "tier.since"), month_index(2026, 11));
  // The upgrading event earned at the old rate; the next earns Silver's 110%.
  EXPECT_EQ(points_of(at_threshold, "tier"), -1);
  EXPECT_EQ(at_threshold.points, 1);
  const Evaluation next = run(purchase(10000, at + 2));
  EXPECT_EQ(points_of(next, "tier"), 10);
  EXPECT_EQ(fired_detail(next, "tier"), "Silver earns 110%");
  EXPECT_EQ(next.points, 110);
}

TEST(EarningTiers, UpgradeSkipsToTheHighestTierReached) {
  Program program;
  program.rules = {per_unit("spend", 1, 100)};
  program.tiers = four_tiers(DowngradePolicy::recalculate);
  Sequence run(program);
  const Evaluation evaluation = run(purchase(250000, utc("2026-11-22T12:00:00Z")));
  ASSERT_TRUE(evaluation.tier_change.has_value());
  EXPECT_EQ(evaluation.tier_change->to_level, 3);
  EXPECT_EQ(evaluation.tier_level, 3);
  EXPECT_EQ(evaluation.validity_days, 1095);
}

TEST(EarningTiers, MoneySpentCountsMoneyPaidNotPointsUsed) {
  Program program;
  program.rules = {per_unit("spend", 1, 100)};
  program.tiers = four_tiers(DowngradePolicy::recalculate);
  program.tiers->measure = TierMeasure::money_spent;
  program.tiers->currency = "GBP";
  program.tiers->tiers[1].threshold = 50000;
  program.tiers->tiers[2].threshold = 100000;
  program.tiers->tiers[3].threshold = 200000;
  Sequence run(program);
  Event event = purchase(40000, utc("2026-11-22T12:00:00Z"));
  event.points_discount_minor = 60000;
  EXPECT_FALSE(run(event).tier_change.has_value());
  EXPECT_EQ(run.counter(kMember, "tier.m:2026-11"), 40000);
  EXPECT_FALSE(run(purchase(1000, utc("2026-11-22T12:00:01Z"), "EUR")).tier_change.has_value());
  const Evaluation upgrade = run(purchase(10000, utc("2026-11-22T12:00:02Z")));
  ASSERT_TRUE(upgrade.tier_change.has_value());
  EXPECT_EQ(upgrade.tier_change->reason,
            "reached 50000 GBP (minor units) spent in 2026 (Silver needs 50000)");
}

TEST(EarningTiers, SpendingPointsNeverDemotes) {
  // The engine never sees balances: the tier depends on points earned in the period only.
  Program program = program_in("Europe/London");
  program.rules = {per_unit("spend", 1, 100)};
  program.tiers = four_tiers(DowngradePolicy::recalculate);
  Sequence run(program);
  EXPECT_EQ(run(purchase(120000, local(program, "2026-03-01 12:00:00"))).tier_level, 2);
  // The member then spends every point in the mall, and pays an order entirely with points.
  Event paid_with_points = purchase(0, local(program, "2026-03-02 12:00:00"));
  paid_with_points.points_discount_minor = 120000;
  const Evaluation spent = run(paid_with_points);
  EXPECT_EQ(spent.points, 0);
  EXPECT_EQ(spent.tier_level, 2);
  for (const CounterKey& key : counters_needed(program, paid_with_points, a_member()))
    EXPECT_EQ(key.name.rfind("tier", 0), 0U) << key.name;  // nothing but tier counters
  const Evaluation review = run.review(kMember, local(program, "2027-01-01 00:00:00"));
  EXPECT_FALSE(review.tier_change.has_value());
  EXPECT_EQ(review.tier_level, 2);
}

TEST(EarningTiers, PeriodEndsAtLocalMidnightOfDecember31FarFromUtc) {
  for (const char* zone : {"Pacific/Auckland", "America/Los_Angeles"}) {
    SCOPED_TRACE(zone);
    Program program = program_in(zone);
    program.rules = {per_unit("spend", 1, 100)};
    program.tiers = four_tiers(DowngradePolicy::recalculate);
    Sequence run(program);
    EXPECT_EQ(run(purchase(90000, local(program, "2026-03-01 12:00:00"))).tier_level, 1);
    run.counters[{kMember, "tier"}] = 2;  // an operator made them Gold in March
    run.counters[{kMember, "tier.since"}] = month_index(2026, 3);
    // 23:30 on New Year's Eve (07:30 on 1 January in UTC for Los Angeles) counts for 2026:
    // 100 points and Gold's 25%, which bring 2026 to 1025.
    const Evaluation late = run(purchase(10000, local(program, "2026-12-31 23:30:00")));
    EXPECT_EQ(late.points, 125);
    EXPECT_EQ(run.counter(kMember, "tier.m:2026-12"), 125);
    EXPECT_EQ(run.counter(kMember, "tier.m:2027-01"), 0);
    EXPECT_EQ(late.tier_level, 2);
    EXPECT_EQ(run.review(kMember, local(program, "2027-01-01 00:00:00")).tier_level, 2);
    EXPECT_EQ(run.counter(kMember, "tier.reviewed"), month_index(2026, 1));
  }
}

TEST(EarningTiers, PointsEarnedAfterLocalMidnightCountForTheNewYear) {
  Program program = program_in("Pacific/Auckland");
  program.rules = {per_unit("spend", 1, 100)};
  program.tiers = four_tiers(DowngradePolicy::recalculate);
  Sequence run(program);
  run.counters[{kMember, "tier"}] = 2;
  run.counters[{kMember, "tier.since"}] = month_index(2026, 1);
  run.counters[{kMember, "tier.m:2026-06"}] = 900;
  // 00:30 on 1 January in Auckland is still 31 December in UTC: it counts for 2027.
  run(purchase(10000, local(program, "2027-01-01 00:30:00")));
  EXPECT_EQ(run.counter(kMember, "tier.m:2027-01"), 125);  // 100 and Gold's 25%
  const Evaluation review = run.review(kMember, local(program, "2027-01-01 01:00:00"));
  ASSERT_TRUE(review.tier_change.has_value());
  EXPECT_EQ(review.tier_change->reason,
            "900 points earned in 2026, below Gold's 1000: recalculated to Silver");
}

TEST(EarningTiers, RollingWindowCountsTheLastMonthsOnly) {
  Program program;
  program.rules = {per_unit("spend", 1, 100)};
  program.tiers = four_tiers(DowngradePolicy::recalculate);
  program.tiers->period = TierPeriod::rolling_months;
  program.tiers->months = 3;
  {
    Sequence run(program);
    run(purchase(60000, utc("2026-08-15T12:00:00Z")));  // 600: Silver, which earns 110%
    const Evaluation october = run(purchase(40000, utc("2026-10-31T12:00:00Z")));
    ASSERT_TRUE(october.tier_change.has_value());
    EXPECT_EQ(october.tier_change->to_level, 2);
    EXPECT_EQ(october.tier_change->reason,
              "reached 1040 points earned in the 3 months 2026-08 to 2026-10 (Gold needs 1000)");
  }
  {
    Sequence run(program);
    run(purchase(60000, utc("2026-07-31T12:00:00Z")));
    const Evaluation october = run(purchase(40000, utc("2026-10-01T12:00:00Z")));
    // July has left the window (August to October holds 400): Silver since July, not Gold.
    EXPECT_FALSE(october.tier_change.has_value());
    EXPECT_EQ(october.tier_level, 1);
  }
}

// A member at `level` since `since_month`, with `measure` earned in 2026.
Sequence member_at(DowngradePolicy policy, int level, std::int64_t measure,
                   std::int64_t since_month = month_index(2025, 6)) {
  Program program = program_in("Europe/London");
  program.tiers = four_tiers(policy);
  Sequence run(program);
  run.counters[{kMember, "tier"}] = level;
  run.counters[{kMember, "tier.since"}] = since_month;
  run.counters[{kMember, "tier.m:2026-06"}] = measure;
  return run;
}

TEST(EarningTiers, RecalculateMovesToTheTierTheMeasureQualifiesFor) {
  Sequence run = member_at(DowngradePolicy::recalculate, 3, 600);
  const Evaluation review = run.review(kMember, local(run.program, "2027-01-02 03:00:00"));
  ASSERT_TRUE(review.tier_change.has_value());
  EXPECT_EQ(review.tier_change->from_level, 3);
  EXPECT_EQ(review.tier_change->to_level, 1);
  EXPECT_EQ(review.tier_change->reason,
            "600 points earned in 2026, below Platinum's 2000: recalculated to Silver");
  EXPECT_EQ(review.tier_level, 1);
  EXPECT_EQ(run.counter(kMember, "tier"), 1);
  EXPECT_EQ(run.counter(kMember, "tier.since"), month_index(2027, 1));
  // Nothing more is due until the next period ends.
  EXPECT_FALSE(
      run.review(kMember, local(run.program, "2027-06-01 00:00:00")).tier_change.has_value());
}

TEST(EarningTiers, DropOneMovesDownOneTierAtMost) {
  Sequence run = member_at(DowngradePolicy::drop_one, 3, 100);
  const Evaluation review = run.review(kMember, local(run.program, "2027-01-01 00:00:00"));
  ASSERT_TRUE(review.tier_change.has_value());
  EXPECT_EQ(review.tier_change->to_level, 2);
  EXPECT_EQ(review.tier_change->reason,
            "100 points earned in 2026, below Platinum's 2000: down one to Gold");
}

TEST(EarningTiers, GraceKeepsTheTierForItsPeriodsThenRecalculates) {
  Sequence run = member_at(DowngradePolicy::grace, 2, 100);
  run.program.tiers->grace_periods = 1;
  const Evaluation first = run.review(kMember, local(run.program, "2027-01-01 00:00:00"));
  EXPECT_FALSE(first.tier_change.has_value());
  EXPECT_EQ(first.tier_level, 2);
  ASSERT_EQ(first.fired.size(), 1U);
  EXPECT_EQ(first.fired[0].detail,
            "100 points earned in 2026, below Gold's 1000: grace period 1 of 1");
  EXPECT_EQ(run.counter(kMember, "tier.grace"), 1);
  // Reviewing again before the next period ends changes nothing (no second grace period used).
  const Evaluation again = run.review(kMember, local(run.program, "2027-03-01 00:00:00"));
  EXPECT_FALSE(again.tier_change.has_value());
  EXPECT_TRUE(again.updates.empty());
  EXPECT_EQ(run.counter(kMember, "tier.grace"), 1);
  const Evaluation second = run.review(kMember, local(run.program, "2028-01-01 00:00:00"));
  ASSERT_TRUE(second.tier_change.has_value());
  EXPECT_EQ(second.tier_change->to_level, 0);
  EXPECT_EQ(second.tier_change->reason,
            "0 points earned in 2027, below Gold's 1000: grace periods used, recalculated to "
            "Bronze");
  EXPECT_EQ(run.counter(kMember, "tier.grace"), 0);
}

TEST(EarningTiers, QualifyingAgainEndsTheGrace) {
  Sequence run = member_at(DowngradePolicy::grace, 2, 100);
  run.counters[{kMember, "tier.grace"}] = 1;
  run.counters[{kMember, "tier.m:2026-06"}] = 1000;
  const Evaluation review = run.review(kMember, local(run.program, "2027-01-01 00:00:00"));
  EXPECT_FALSE(review.tier_change.has_value());
  EXPECT_EQ(run.counter(kMember, "tier.grace"), 0);
  EXPECT_EQ(run.counter(kMember, "tier.reviewed"), month_index(2026, 1));
}

TEST(EarningTiers, MemberUpgradedAfterThePeriodEndedIsNotDemoted) {
  Sequence run = member_at(DowngradePolicy::recalculate, 2, 0, month_index(2027, 1));
  const Evaluation review = run.review(kMember, local(run.program, "2027-01-15 00:00:00"));
  EXPECT_FALSE(review.tier_change.has_value());
  EXPECT_EQ(review.tier_level, 2);
  // The same member upgraded in December 2026 is reviewed on 2026.
  Sequence december = member_at(DowngradePolicy::recalculate, 2, 0, month_index(2026, 12));
  EXPECT_TRUE(december.review(kMember, local(december.program, "2027-01-15 00:00:00"))
                  .tier_change.has_value());
}

TEST(EarningTiers, QuarterAndMonthPeriodsEndAtTheirLocalEnd) {
  Sequence quarter = member_at(DowngradePolicy::recalculate, 2, 0, month_index(2026, 1));
  quarter.program.tiers->period = TierPeriod::calendar_quarter;
  quarter.counters[{kMember, "tier.m:2026-09"}] = 1000;  // Q3
  EXPECT_FALSE(quarter.review(kMember, local(quarter.program, "2026-10-01 00:00:00"))
                   .tier_change.has_value());
  const Evaluation q4 = quarter.review(kMember, local(quarter.program, "2027-01-01 00:00:00"));
  ASSERT_TRUE(q4.tier_change.has_value());
  EXPECT_EQ(q4.tier_change->reason,
            "0 points earned in 2026 Q4, below Gold's 1000: recalculated to Bronze");

  Sequence month = member_at(DowngradePolicy::recalculate, 1, 499, month_index(2026, 1));
  month.program.tiers->period = TierPeriod::calendar_month;
  // 00:30 BST on 1 July is still 30 June in UTC; June has ended in London.
  const Evaluation june = month.review(kMember, local(month.program, "2026-07-01 00:30:00"));
  ASSERT_TRUE(june.tier_change.has_value());
  EXPECT_EQ(june.tier_change->reason,
            "499 points earned in 2026-06, below Silver's 500: recalculated to Bronze");
}

TEST(EarningTiers, OperatorSetsATierWithAReason) {
  Program program = program_in("Europe/London");
  program.tiers = four_tiers(DowngradePolicy::recalculate);
  const TimeUs at = local(program, "2026-11-22 12:00:00");
  const Evaluation set = set_tier(program, kMember, 2, "goodwill", {}, at);
  ASSERT_TRUE(set.tier_change.has_value());
  EXPECT_EQ(set.tier_change->reason, "goodwill");
  EXPECT_EQ(set.tier_level, 2);
  EXPECT_EQ(set.validity_days, 730);
  const Counters expected = {{{kMember, "tier"}, 2},
                             {{kMember, "tier.since"}, month_index(2026, 11)}};
  EXPECT_EQ(set.updates, expected);
  EXPECT_EQ(set_tier(program, kMember, 4, "x", {}, at).refusal->problem, "unknown_tier");
  EXPECT_EQ(set_tier(program, kMember, -1, "x", {}, at).refusal->problem, "unknown_tier");
  EXPECT_EQ(set_tier(program, kMember, 2, "x", set.updates, at).refusal->problem, "tier_unchanged");
  EXPECT_EQ(set_tier(Program{}, kMember, 0, "x", {}, at).refusal->problem, "unknown_tier");
}

TEST(EarningTiers, ReferralPointsDoNotCountTowardsTheTier) {
  Program program;
  program.tiers = four_tiers(DowngradePolicy::recalculate);
  program.referral = ReferralProgram{true, 300, 600, 1000, "GBP", 10};
  Sequence run(program);
  const TimeUs at = utc("2026-11-22T12:00:00Z");
  run(purchase(1000, at), member_of(7));
  const Evaluation friend_purchase = run(purchase(1000, at + 1), member_of(8, 7));
  EXPECT_EQ(friend_purchase.points, 600);
  EXPECT_EQ(run.counter(8, "tier.m:2026-11"), 0);
  EXPECT_EQ(friend_purchase.tier_level, 0);
}

// ---- Check-in ----------------------------------------------------------------------------------

Program checkin_program(const char* zone) {
  Program program = program_in(zone);
  program.checkin.points = 5;
  program.checkin.streak_rewards = {StreakReward{3, 50}};
  return program;
}

TEST(EarningCheckin, SecondCheckinTheSameLocalDayIsRefused) {
  Program program = checkin_program("Europe/London");
  Sequence run(program);
  // 00:30 BST is 23:30 UTC the day before: both are 10 July in London.
  EXPECT_EQ(run(checkin(local(program, "2026-07-10 00:30:00"))).points, 5);
  const Evaluation again = run(checkin(local(program, "2026-07-10 23:30:00")));
  ASSERT_TRUE(again.refusal.has_value());
  EXPECT_EQ(again.refusal->problem, "already_checked_in");
  EXPECT_EQ(again.refusal->detail, "already checked in on 2026-07-10 (Europe/London)");
  EXPECT_EQ(again.points, 0);
  EXPECT_TRUE(again.updates.empty());
  const Evaluation earlier = run(checkin(local(program, "2026-07-09 12:00:00")));
  ASSERT_TRUE(earlier.refusal.has_value());
  EXPECT_EQ(earlier.refusal->detail, "a later check-in exists, on 2026-07-10 (Europe/London)");
}

TEST(EarningCheckin, JustBeforeAndJustAfterLocalMidnightAreConsecutiveDays) {
  Program program = checkin_program("America/New_York");
  Sequence run(program);
  run(checkin(local(program, "2026-07-10 23:59:00")));
  const Evaluation next = run(checkin(local(program, "2026-07-11 00:01:00")));
  EXPECT_FALSE(next.refusal.has_value());
  EXPECT_EQ(run.counter(kMember, "checkin.streak"), 2);
  EXPECT_TRUE(mentions(fired_detail(next, "checkin"), "day 2 of the streak"));
}

TEST(EarningCheckin, MissedDayStartsTheStreakAgain) {
  Program program = checkin_program("Europe/London");
  Sequence run(program);
  run(checkin(local(program, "2026-07-10 09:00:00")));
  run(checkin(local(program, "2026-07-11 09:00:00")));
  EXPECT_EQ(run.counter(kMember, "checkin.streak"), 2);
  const Evaluation after_gap = run(checkin(local(program, "2026-07-13 09:00:00")));
  EXPECT_EQ(run.counter(kMember, "checkin.streak"), 1);
  EXPECT_EQ(after_gap.updates.count({kMember, "checkin.streak"}), 1U);
  // A streak of 1 that starts again at 1 is not an update.
  const Evaluation again = run(checkin(local(program, "2026-07-15 09:00:00")));
  EXPECT_EQ(again.updates.count({kMember, "checkin.streak"}), 0U);
  EXPECT_EQ(again.updates.count({kMember, "checkin.day"}), 1U);
}

TEST(EarningCheckin, StreakRewardIsABonusOnItsDayAndTheCycleStartsAgain) {
  Program program = checkin_program("Europe/London");
  program.checkin.cycle_days = 3;
  program.rules = {multiplier("double_checkin", 200, {}, "checkin")};
  Sequence run(program);
  const TimeUs first = local(program, "2026-07-10 09:00:00");
  std::vector<Points> points;
  points.reserve(7);
  for (int day = 0; day < 7; ++day)
    points.push_back(run(checkin(first + day * kMicrosPerDay)).points);
  // 5 doubled every day; the day-3 reward of 50 is not doubled; day 4 starts again at 1.
  EXPECT_EQ(points, (std::vector<Points>{10, 10, 60, 10, 10, 60, 10}));
  const Evaluation day3 =
      evaluate_checked(program, checkin(first + 9 * kMicrosPerDay), a_member(),
                       {{{kMember, "checkin.day"}, local_day(program, first) + 8},
                        {{kMember, "checkin.streak"}, 2}});
  ASSERT_EQ(day3.fired.size(), 3U);
  EXPECT_EQ(day3.fired[0].rule, "checkin");
  EXPECT_EQ(day3.fired[2].rule, "streak");
  EXPECT_EQ(day3.fired[2].kind, "bonus");
}

TEST(EarningCheckin, StreakContinuesAcrossClockChangeDays) {
  // The days of 29 March (23 hours) and 25 October (25 hours) in London.
  const std::vector<std::vector<const char*>> cases = {
      {"2026-03-28 23:30:00", "2026-03-29 23:30:00", "2026-03-30 00:10:00"},
      {"2026-10-24 23:30:00", "2026-10-25 23:30:00", "2026-10-26 00:10:00"},
  };
  for (const auto& times : cases) {
    SCOPED_TRACE(times[0]);
    Program program = checkin_program("Europe/London");
    Sequence run(program);
    for (const char* time : times) EXPECT_FALSE(run(checkin(local(program, time))).refusal);
    EXPECT_EQ(run.counter(kMember, "checkin.streak"), 3);
  }
}

TEST(EarningCheckin, StreakConditionAndDisabledCheckin) {
  Program program = checkin_program("Europe/London");
  Rule loyal = fixed("third_day", 20, "checkin");
  loyal.conditions = {when("checkin.streak", Operator::gte, {3})};
  program.rules = {loyal};
  Sequence run(program);
  const TimeUs first = local(program, "2026-07-10 09:00:00");
  EXPECT_EQ(skip_reason(run(checkin(first), a_member(), kExplain), "third_day"),
            "checkin.streak 1 is below 3");
  run(checkin(first + kMicrosPerDay));
  EXPECT_EQ(points_of(run(checkin(first + 2 * kMicrosPerDay)), "third_day"), 20);

  program.checkin.enabled = false;
  const Evaluation refused = evaluate_checked(program, checkin(first), a_member(), {});
  ASSERT_TRUE(refused.refusal.has_value());
  EXPECT_EQ(refused.refusal->problem, "checkin_disabled");
}

TEST(EarningCheckin, StreakConditionDoesNotCountCheckinsAfterTheEvent) {
  // A purchase reported late, dated three days before the member's latest check-in: their last
  // check-in was not that day or the day before, so the streak is 0 (it used to count the
  // check-ins made after the purchase).
  Program program = checkin_program("Europe/London");
  Rule streaky = fixed("streaky", 20);
  streaky.conditions = {when("checkin.streak", Operator::gte, {1})};
  program.rules = {streaky};
  Sequence run(program);
  const TimeUs first = local(program, "2026-07-10 09:00:00");
  run(checkin(first));
  run(checkin(first + kMicrosPerDay));
  const Evaluation late = run(purchase(100, first - 2 * kMicrosPerDay), a_member(), kExplain);
  EXPECT_EQ(skip_reason(late, "streaky"), "checkin.streak 0 is below 1");
  EXPECT_EQ(points_of(run(purchase(100, first + kMicrosPerDay + 1)), "streaky"), 20);
  EXPECT_EQ(points_of(run(purchase(100, first + 2 * kMicrosPerDay)), "streaky"), 20);
  EXPECT_EQ(points_of(run(purchase(100, first + 3 * kMicrosPerDay)), "streaky"), -1);
}

// ---- Referral ----------------------------------------------------------------------------------

Program referral_program(int max_per_month = 10) {
  Program program = program_in("Europe/London");
  program.rules = {per_unit("spend", 1, 100)};
  program.referral = ReferralProgram{true, 300, 200, 2000, "GBP", max_per_month};
  return program;
}

TEST(EarningReferral, FriendAndReferrerAreRewardedOnceForTheFirstQualifyingPurchase) {
  Sequence run(referral_program());
  const TimeUs at = local(run.program, "2026-11-22 12:00:00");
  const Member referrer = member_of(7);
  const Member friend_member = member_of(8, 7);
  EXPECT_FALSE(run(purchase(5000, at), referrer).referrer_award.has_value());
  EXPECT_EQ(run.counter(7, "referral.qualified"), 1);
  // Below the minimum: no reward, and the reward is still to come.
  const Evaluation small = run(purchase(1999, at + 1), friend_member);
  EXPECT_FALSE(small.referrer_award.has_value());
  EXPECT_EQ(points_of(small, "referral"), -1);
  const Evaluation first = run(purchase(2000, at + 2), friend_member);
  EXPECT_EQ(points_of(first, "referral"), 200);
  EXPECT_EQ(first.points, 220);
  ASSERT_TRUE(first.referrer_award.has_value());
  EXPECT_EQ(first.referrer_award->member_id, 7);
  EXPECT_EQ(first.referrer_award->points, 300);
  EXPECT_EQ(first.referrer_award->reason, "referral: member 8's first qualifying purchase");
  EXPECT_EQ(run.counter(7, "referral.rewards:m2026-11"), 1);
  const Evaluation second = run(purchase(5000, at + 3), friend_member);
  EXPECT_FALSE(second.referrer_award.has_value());
  EXPECT_EQ(points_of(second, "referral"), -1);
}

TEST(EarningReferral, SelfReferralIsRefused) {
  Sequence run(referral_program());
  const Member self = member_of(7, 7);
  const Evaluation evaluation =
      run(purchase(5000, local(run.program, "2026-11-22 12:00:00")), self, kExplain);
  EXPECT_FALSE(evaluation.referrer_award.has_value());
  EXPECT_EQ(points_of(evaluation, "referral"), -1);
  EXPECT_TRUE(mentions(skip_reason(evaluation, "referral"), "self-referral"));
}

TEST(EarningReferral, RingOfFreshAccountsEarnsNothing) {
  // A referred B, B referred C; nobody had bought anything.
  Sequence run(referral_program());
  const Member a = member_of(1);
  const Member b = member_of(2, 1);
  const Member c = member_of(3, 2);
  const TimeUs at = local(run.program, "2026-11-22 12:00:00");
  const Evaluation c_buys = run(purchase(5000, at), c, kExplain);
  EXPECT_FALSE(c_buys.referrer_award.has_value());
  EXPECT_EQ(skip_reason(c_buys, "referral"),
            "referrer member 2 has no qualifying purchase of their own");
  const Evaluation b_buys = run(purchase(5000, at + 1), b);
  EXPECT_FALSE(b_buys.referrer_award.has_value());
  EXPECT_FALSE(run(purchase(5000, at + 2), a).referrer_award.has_value());
  // Now that everyone has bought, C's later purchase still brings B nothing.
  EXPECT_FALSE(run(purchase(5000, at + 3), c).referrer_award.has_value());
  for (const Evaluation& evaluation : {c_buys, b_buys})
    EXPECT_EQ(points_of(evaluation, "referral"), -1);
}

TEST(EarningReferral, ReferrerIsRewardedAtMostTheMonthlyCap) {
  Sequence run(referral_program(2));
  const TimeUs november = local(run.program, "2026-11-30 23:00:00");
  run(purchase(5000, november - kMicrosPerDay), member_of(7));
  for (MemberId friend_id : {10, 11})
    EXPECT_TRUE(run(purchase(5000, november), member_of(friend_id, 7)).referrer_award.has_value());
  const Evaluation third = run(purchase(5000, november), member_of(12, 7), kExplain);
  EXPECT_FALSE(third.referrer_award.has_value());
  EXPECT_EQ(skip_reason(third, "referral"),
            "referrer member 7 had 2 referral rewards in 2026-11 already");
  // December in London starts a new count.
  EXPECT_TRUE(run(purchase(5000, local(run.program, "2026-12-01 00:30:00")), member_of(13, 7))
                  .referrer_award.has_value());
}

// ---- Explanations and counters -----------------------------------------------------------------

TEST(EarningExplanations, EveryFiredRuleIsNamedWithWhyAndEverySkippedRuleWithWhyNot) {
  Program program = program_in("Europe/London");
  program.tiers = four_tiers(DowngradePolicy::recalculate);
  Rule big = fixed("big_order", 100);
  big.conditions = {when("amount", Operator::gte, {5000})};
  Rule weekend = multiplier("weekend", 200);
  weekend.window.weekdays = 0x60;
  Rule app = bonus("app_bonus", 25);
  app.conditions = {when_text("channel", Operator::eq, {"app"})};
  program.rules = {per_unit("spend", 1, 100), big, weekend, app, fixed("review", 5, "review")};
  Counters counters = {{{kMember, "tier"}, 2}};
  Event event = purchase(6000, local(program, "2026-11-21 12:00:00"));  // a Saturday
  event.channel = "web";
  const Evaluation evaluation = evaluate_checked(program, event, a_member(), counters, kExplain);
  std::vector<std::string> fired;
  for (const Line& line : evaluation.fired) {
    fired.push_back(line.rule);
    EXPECT_FALSE(line.detail.empty()) << line.rule;
    EXPECT_GT(line.points, 0) << line.rule;
  }
  EXPECT_EQ(fired, (std::vector<std::string>{"big_order", "spend", "tier", "weekend"}));
  EXPECT_EQ(evaluation.points, 100 + 60 + 40 + 160);
  EXPECT_EQ(fired_detail(evaluation, "tier"), "Gold earns 125%");
  EXPECT_EQ(fired_detail(evaluation, "big_order"), "100 points, when amount 6000 is at least 5000");
  EXPECT_EQ(fired_detail(evaluation, "weekend"),
            "200% of 160 base points, when Saturday 12:00 in Europe/London");
  ASSERT_EQ(evaluation.skipped.size(), 1U);
  EXPECT_EQ(evaluation.skipped[0].rule, "app_bonus");
  EXPECT_EQ(evaluation.skipped[0].detail, "channel web is not app");
}

TEST(EarningExplanations, SkippedRulesAreExplainedOnlyWhenAsked) {
  Program program = program_in("Europe/London");
  Rule big = fixed("big_order", 100);
  big.conditions = {when("amount", Operator::gte, {5000})};
  Rule weekend = bonus("weekend", 50);
  weekend.window.weekdays = 0x60;
  Rule flat = fixed("flat", 30);
  flat.priority = 5;
  flat.stacks = false;
  Rule capped = bonus("capped", 20);
  capped.caps.per_member = {MemberCap{Period::day, 0, 1}};
  program.rules = {per_unit("spend", 1, 100), big, weekend, flat, capped};
  program.referral = ReferralProgram{true, 300, 200, 1000, "GBP", 10};
  const Member self = member_of(kMember, kMember);
  const Counters counters = {{{kMember, "rule:capped:d2026-11-19:times"}, 1}};
  const Event event = purchase(3000, local(program, "2026-11-19 12:00:00"));  // a Thursday

  const Evaluation quiet = evaluate_checked(program, event, self, counters);
  const Evaluation explained = evaluate_checked(program, event, self, counters, kExplain);
  EXPECT_TRUE(quiet.skipped.empty());
  EXPECT_EQ(quiet.fired, explained.fired);
  EXPECT_EQ(quiet.points, 30);
  EXPECT_EQ(quiet.updates, explained.updates);
  const std::vector<Line> expected = {
      {"big_order", "", "fixed", 0, "not stacked: flat fired"},
      {"spend", "", "per_unit", 0, "not stacked: flat fired"},
      {"capped", "", "bonus", 0, "1 awards this day already"},
      {"weekend", "", "bonus", 0, "not on Saturday-Sunday in Europe/London"},
      {"referral", "", "bonus", 0, "self-referral: member 42 referred itself"},
  };
  EXPECT_EQ(explained.skipped, expected);
}

TEST(EarningCounters, CappedRuleThatCannotFireNeedsNoCounters) {
  Program program = program_in("Europe/London");
  Rule big = fixed("big_order", 100);
  big.conditions = {when("amount", Operator::gte, {5000})};
  big.caps.per_member = {MemberCap{Period::day, 0, 1}};
  big.caps.budget = 10000;
  Rule loyal = fixed("loyal", 100);  // decided by a counter: kept
  loyal.conditions = {when("member.lifetime_spend", Operator::gte, {5000})};
  loyal.caps.budget = 10000;
  Rule shoes = fixed("shoes", 10);
  shoes.items = ItemFilter{{}, {"shoes"}, {}, 1};
  shoes.caps.budget = 10000;
  program.rules = {big, loyal, shoes};
  const Event small = purchase(3000, local(program, "2026-11-19 12:00:00"));
  const std::vector<CounterKey> expected = {{0, "rule:loyal:budget"}, {kMember, "spent:GBP"}};
  std::vector<CounterKey> needed = counters_needed(program, small, a_member());
  std::sort(needed.begin(), needed.end());
  EXPECT_EQ(needed, expected);
  // The same rule when its condition holds.
  Event large = small;
  large.amount_minor = 6000;
  needed = counters_needed(program, large, a_member());
  EXPECT_EQ(std::count(needed.begin(), needed.end(), CounterKey{0, "rule:big_order:budget"}), 1);
  EXPECT_EQ(std::count(needed.begin(), needed.end(),
                       CounterKey{kMember, "rule:big_order:d2026-11-19:times"}),
            1);
  const Counters counters = {{{0, "rule:big_order:budget"}, 9950}, {{kMember, "spent:GBP"}, 9000}};
  EXPECT_EQ(evaluate_checked(program, small, a_member(), counters, kExplain).points, 100);
  EXPECT_EQ(evaluate_checked(program, large, a_member(), counters, kExplain).points, 150);
}

TEST(EarningCounters, RulesStoppedByANonStackingRuleNeedNoCounters) {
  Program program = program_in("Europe/London");
  Rule flat = fixed("flat", 50);
  flat.priority = 9;
  flat.stacks = false;
  Rule spend = per_unit("spend", 1, 100);  // after flat: stopped
  spend.caps.budget = 1000;
  Rule boost = multiplier("boost", 200);  // certain to add points (flat's): stops `half`
  boost.priority = 2;
  boost.stacks = false;
  boost.caps.budget = 1000;
  Rule half = multiplier("half", 150);
  half.caps.budget = 1000;
  program.rules = {flat, spend, boost, half};
  const Event event = purchase(3000, local(program, "2026-11-19 12:00:00"));
  const std::vector<CounterKey> expected = {{0, "rule:boost:budget"}};
  EXPECT_EQ(counters_needed(program, event, a_member()), expected);
  const Evaluation evaluation = evaluate_checked(program, event, a_member(), {}, kExplain);
  EXPECT_EQ(evaluation.points, 100);
  EXPECT_EQ(skip_reason(evaluation, "spend"), "not stacked: flat fired");
  EXPECT_EQ(skip_reason(evaluation, "half"), "not stacked: boost fired");
  // A condition that needs a counter leaves the stopping uncertain: the rules after it are kept.
  program.rules[0].conditions = {when("member.first_purchase", Operator::eq, {0})};
  std::vector<CounterKey> needed = counters_needed(program, event, a_member());
  std::sort(needed.begin(), needed.end());
  const std::vector<CounterKey> all = {{0, "rule:boost:budget"},
                                       {0, "rule:half:budget"},
                                       {0, "rule:spend:budget"},
                                       {kMember, "purchases"}};
  EXPECT_EQ(needed, all);
}

TEST(EarningCounters, DefaultProgramNeedsNoCounters) {
  Program program;
  program.rules = {per_unit("spend", 1, 100)};
  const Event event = purchase(2500, utc("2026-11-22T12:00:00Z"));
  EXPECT_TRUE(counters_needed(program, event, a_member()).empty());
  const Evaluation evaluation = evaluate(program, event, a_member(), {});
  EXPECT_EQ(evaluation.points, 25);
  EXPECT_TRUE(evaluation.updates.empty());
  EXPECT_TRUE(tier_counters_needed(program, kMember, event.occurred_at_us).empty());
}

TEST(EarningCounters, EachFeatureNeedsExactlyItsCounters) {
  Program program = program_in("Europe/London");
  Rule rule = fixed("r", 10);
  rule.caps.per_member = {MemberCap{Period::week, 100, 0}, MemberCap{Period::week, 0, 2}};
  rule.conditions = {when("member.first_purchase", Operator::eq, {1})};
  Rule closed = fixed("closed", 10);
  closed.window.weekdays = 0x01;  // Mondays only: its caps are not read on a Sunday
  closed.caps.budget = 100;
  program.rules = {rule, closed, fixed("review_only", 10, "review")};
  const Event event = purchase(2500, local(program, "2026-11-22 12:00:00"));
  const std::vector<CounterKey> expected = {{kMember, "purchases"},
                                            {kMember, "rule:r:w2026-11-16:points"},
                                            {kMember, "rule:r:w2026-11-16:times"}};
  std::vector<CounterKey> needed = counters_needed(program, event, a_member());
  std::sort(needed.begin(), needed.end());
  EXPECT_EQ(needed, expected);
}

TEST(EarningCounters, TierReviewNeedsThePeriodThatEnded) {
  Program program = program_in("Europe/London");
  program.tiers = four_tiers(DowngradePolicy::recalculate);
  program.tiers->period = TierPeriod::calendar_quarter;
  const std::vector<CounterKey> expected = {
      {kMember, "tier"},           {kMember, "tier.grace"},     {kMember, "tier.m:2026-07"},
      {kMember, "tier.m:2026-08"}, {kMember, "tier.m:2026-09"}, {kMember, "tier.reviewed"},
      {kMember, "tier.since"}};
  EXPECT_EQ(tier_counters_needed(program, kMember, local(program, "2026-10-01 00:00:00")),
            expected);
}

// ---- Property: caps and budgets hold over random event sequences ------------------------------

// The period key of a local date, computed independently of the engine.
std::string period_of(Period period, const TimeZone& zone, TimeUs at_us) {
  const CivilTime t = zone.to_local(at_us);
  const date::sys_days day = date::year{t.year} / t.month / t.day;
  char text[32];
  switch (period) {
    case Period::day:
      std::snprintf(text, sizeof text, "d%04d-%02d-%02d", t.year, t.month, t.day);
      return text;
    case Period::week: {
      const date::year_month_day monday{day - date::days{date::weekday{day}.iso_encoding() - 1}};
      std::snprintf(text, sizeof text, "w%04d-%02u-%02u", int(monday.year()),
                    unsigned(monday.month()), unsigned(monday.day()));
      return text;
    }
    case Period::month:
      std::snprintf(text, sizeof text, "m%04d-%02d", t.year, t.month);
      return text;
    case Period::lifetime:
      break;
  }
  return "all";
}

Rule random_rule(std::mt19937_64& random, const std::string& id) {
  auto pick = [&random](std::int64_t low, std::int64_t high) {
    return std::uniform_int_distribution<std::int64_t>(low, high)(random);
  };
  Rule rule;
  switch (pick(0, 3)) {
    case 0:
      rule = per_unit(id, pick(1, 3), 100);
      break;
    case 1:
      rule = fixed(id, pick(10, 200));
      break;
    case 2:
      rule = multiplier(id, static_cast<int>(pick(110, 300)));
      break;
    default:
      rule = bonus(id, pick(10, 200));
  }
  rule.priority = static_cast<int>(pick(0, 3));
  rule.stacks = pick(0, 4) != 0;
  if (pick(0, 1) == 1) rule.caps.per_event = pick(20, 300);
  for (std::int64_t i = pick(0, 2); i > 0; --i) {
    rule.caps.per_member.push_back(MemberCap{static_cast<Period>(pick(0, 3)),
                                             pick(0, 1) ? pick(50, 800) : 0,
                                             pick(0, 1) ? pick(1, 4) : 0});
  }
  if (pick(0, 2) == 0) rule.caps.budget = pick(200, 4000);
  if (pick(0, 3) == 0) rule.conditions = {when("amount", Operator::gte, {pick(0, 20000)})};
  return rule;
}

TEST(EarningProperty, CapsAndBudgetsAreNeverExceeded) {
  int cuts = 0;
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 random(seed);
    Program program = program_in(seed % 2 ? "Europe/London" : "Pacific/Auckland");
    for (int i = 0; i < 5; ++i)
      program.rules.push_back(random_rule(random, "r" + std::to_string(i)));
    Campaign campaign;
    campaign.id = "c";
    campaign.budget = std::uniform_int_distribution<Points>(300, 3000)(random);
    campaign.from_us = local(program, "2026-11-10 00:00:00");
    campaign.until_us = local(program, "2026-12-10 00:00:00");
    for (int i = 0; i < 3; ++i) {
      campaign.rules.push_back(random_rule(random, "k" + std::to_string(i)));
      campaign.rules.back().campaign_id = "c";
    }
    program.campaigns = {campaign};
    Sequence run(program);
    // Totals by rule key, member, period (e.g. "r1|42|d2026-11-22") and awards, from the lines.
    std::map<std::string, Points> points;
    std::map<std::string, std::int64_t> awards;
    std::map<std::string, Points> budgets;
    const TimeUs start = local(program, "2026-11-01 00:00:00");
    for (int n = 0; n < 400; ++n) {
      const TimeUs at =
          start + std::uniform_int_distribution<TimeUs>(0, 60 * kMicrosPerDay)(random);
      const MemberId member = std::uniform_int_distribution<MemberId>(1, 4)(random);
      const Evaluation evaluation =
          run(purchase(std::uniform_int_distribution<MinorUnits>(0, 30000)(random), at),
              member_of(member));
      for (const Line& line : evaluation.fired) {
        const bool in_campaign = !line.campaign.empty();
        const std::vector<Rule>& rules = in_campaign ? campaign.rules : program.rules;
        const Rule& rule = *std::find_if(rules.begin(), rules.end(),
                                         [&](const Rule& r) { return r.id == line.rule; });
        const std::string key = in_campaign ? "c/" + line.rule : line.rule;
        cuts += line.detail.find(" awarded") != std::string::npos ? 1 : 0;
        if (rule.caps.per_event > 0) {
          EXPECT_LE(line.points, rule.caps.per_event);
        }
        // Each period's totals once, however many caps name it.
        std::vector<std::string> buckets;
        for (const MemberCap& cap : rule.caps.per_member) {
          const std::string bucket =
              key + "|" + std::to_string(member) + "|" + period_of(cap.period, *program.zone, at);
          if (std::find(buckets.begin(), buckets.end(), bucket) != buckets.end()) continue;
          buckets.push_back(bucket);
          points[bucket] += line.points;
          awards[bucket] += 1;
        }
        for (const MemberCap& cap : rule.caps.per_member) {
          const std::string bucket =
              key + "|" + std::to_string(member) + "|" + period_of(cap.period, *program.zone, at);
          if (cap.points > 0) {
            EXPECT_LE(points[bucket], cap.points) << bucket;
          }
          if (cap.times > 0) {
            EXPECT_LE(awards[bucket], cap.times) << bucket;
          }
        }
        budgets[key] += line.points;
        if (rule.caps.budget > 0) {
          EXPECT_LE(budgets[key], rule.caps.budget) << key;
        }
        if (in_campaign) {
          budgets["campaign c"] += line.points;
          EXPECT_LE(budgets["campaign c"], campaign.budget);
        }
      }
    }
  }
  EXPECT_GT(cuts, 20) << "the random programs should run into their caps";
}

}  // namespace
}  // namespace rules
}  // namespace pointsmall
