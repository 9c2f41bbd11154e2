// Earning engine benchmark: evaluations per second of one purchase on one thread.
//
//   build/rules_bench [--evaluations 200000]
//
// 1. A large program: 200 active purchase rules (per-unit rules with item filters, fixed rules
//    with conditions, multipliers, bonuses; caps, budgets and windows on some; 20 of them in four
//    running campaigns), tiers and referrals, and a purchase of 5 items. Each evaluation is what
//    the store does per event: counters_needed, then evaluate with those counters.
//    Timed as the earn path runs it, and with explain_skipped as a dry run does.
// 2. The default program (one per-unit rule, nothing else) on the same event.
// Prints evaluations per second and microseconds per evaluation for each, and what the large
// program's evaluation comes to (counters named, lines fired and skipped); asserts nothing.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "rules/evaluate.h"

namespace {

using namespace pointsmall;         // NOLINT(google-build-using-namespace): benchmark main file
using namespace pointsmall::rules;  // NOLINT(google-build-using-namespace)
using Clock = std::chrono::steady_clock;

constexpr const char* kCategories[] = {"shoes", "shirts", "bags", "toys", "books", "garden"};
constexpr const char* kBrands[] = {"acme", "globex", "initech", "umbrella", "hooli"};

Rule base_rule(const std::string& id, Effect::Kind kind, Points points) {
  Rule rule;
  rule.id = id;
  rule.name = id;
  rule.event_type = "purchase";
  rule.effect.kind = kind;
  rule.effect.points = points;
  rule.effect.currency = "GBP";
  return rule;
}

// The i-th of 200 rules: a realistic mix of kinds, conditions, filters, caps and windows.
Rule make_rule(int i) {
  const std::string id = "rule-" + std::to_string(i);
  Rule rule;
  switch (i % 10) {
    case 0:
    case 1:
    case 2: {  // per unit on a category or brand
      rule = base_rule(id, Effect::Kind::per_unit, 1 + i % 3);
      rule.effect.per_minor = 100;
      rule.effect.base = static_cast<EarnBase>(i % 3);
      rule.items = ItemFilter{{}, {kCategories[i % 6]}, {}, 1};
      if (i % 2 == 0) rule.items->brands = {kBrands[i % 5]};
      rule.effect.matching_items_only = i % 4 == 0;
      break;
    }
    case 3:
    case 4:
    case 5: {  // fixed with conditions
      rule = base_rule(id, Effect::Kind::fixed, Points{10} * (1 + i % 7));
      rule.conditions.push_back({"amount", Operator::gte, {MinorUnits{1000} * (i % 9)}, {}});
      if (i % 3 == 0) rule.conditions.push_back({"channel", Operator::in, {}, {"app", "web"}});
      if (i % 5 == 0) rule.conditions.push_back({"member.tags", Operator::any_of, {}, {"vip"}});
      if (i % 7 == 0)
        rule.conditions.push_back({"items.category", Operator::any_of, {}, {kCategories[i % 6]}});
      if (i % 11 == 0)
        rule.conditions.push_back({"member.lifetime_spend", Operator::gte, {5000}, {}});
      if (i % 13 == 0) rule.conditions.push_back({"member.first_purchase", Operator::eq, {0}, {}});
      break;
    }
    case 6:
    case 7: {  // multipliers
      rule = base_rule(id, Effect::Kind::multiplier, 0);
      rule.effect.percent = 110 + 10 * (i % 5);
      if (i % 3 == 0) rule.effect.of_rules = {"rule-" + std::to_string(i - 6)};
      if (i % 4 == 0) rule.conditions.push_back({"member.tier", Operator::in, {}, {"gold"}});
      break;
    }
    default: {  // bonuses
      rule = base_rule(id, Effect::Kind::bonus, Points{5} * (1 + i % 4));
      rule.conditions.push_back({"items.quantity", Operator::gte, {1 + i % 4}, {}});
      break;
    }
  }
  rule.priority = i % 5;
  rule.stacks = i % 37 != 0;
  if (i % 4 == 0) rule.caps.per_event = 500;
  if (i % 6 == 0) rule.caps.per_member.push_back(MemberCap{Period::day, 1000, 5});
  if (i % 9 == 0) rule.caps.per_member.push_back(MemberCap{Period::month, 5000, 0});
  if (i % 8 == 0) rule.caps.budget = 1'000'000;
  if (i % 12 == 0) rule.window.weekdays = 0x1F;  // weekdays
  if (i % 15 == 0) {
    rule.window.from_minute = 8 * 60;
    rule.window.until_minute = 22 * 60;
  }
  return rule;
}

Program large_program(TimeUs now_us) {
  Program program;
  program.zone = TimeZone::load("Europe/London");
  if (!program.zone) program.zone = TimeZone::utc();
  for (int i = 0; i < 180; ++i) program.rules.push_back(make_rule(i));
  for (int c = 0; c < 4; ++c) {
    Campaign campaign;
    campaign.id = "campaign-" + std::to_string(c);
    campaign.from_us = now_us - 7 * kMicrosPerDay;
    campaign.until_us = now_us + 7 * kMicrosPerDay;
    campaign.budget = 10'000'000;
    for (int i = 0; i < 5; ++i) {
      Rule rule = make_rule(180 + c * 5 + i);
      rule.campaign_id = campaign.id;
      campaign.rules.push_back(rule);
    }
    program.campaigns.push_back(campaign);
  }
  TierProgram tiers;
  tiers.tiers = {{"bronze", "Bronze", 0},
                 {"silver", "Silver", 1000, 110},
                 {"gold", "Gold", 5000, 125},
                 {"platinum", "Platinum", 20000, 150}};
  program.tiers = tiers;
  program.referral = ReferralProgram{true, 500, 250, 2000, "GBP", 10};
  return program;
}

Event five_item_purchase(TimeUs at_us) {
  Event event;
  event.type = "purchase";
  event.occurred_at_us = at_us;
  event.currency = "GBP";
  event.channel = "app";
  event.store = "london-1";
  event.discount_minor = 1500;
  event.points_discount_minor = 500;
  event.items = {{"SKU-1", "shoes", "acme", 5999, 1},
                 {"SKU-2", "shirts", "globex", 1999, 2},
                 {"SKU-3", "bags", "initech", 8999, 1},
                 {"SKU-4", "books", "hooli", 1299, 3},
                 {"SKU-5", "toys", "umbrella", 2499, 1}};
  MinorUnits total = 0;
  for (const Item& item : event.items) total += item.price_minor * item.quantity;
  event.amount_minor = total - event.discount_minor - event.points_discount_minor;
  return event;
}

// Counters as a member with some history has them: every counter the event needs, non-zero,
// each with a value from its own name (1 to 7), so that a counter has the same value whichever
// other counters counters_needed names.
Counters history(const Program& program, const Event& event, const Member& member) {
  Counters counters;
  for (const CounterKey& key : counters_needed(program, event, member)) {
    std::uint32_t hash = 2166136261U;  // FNV-1a
    for (const char c : key.name) hash = (hash ^ static_cast<unsigned char>(c)) * 16777619U;
    counters[key] = key.name == "tier" ? 1 : 1 + static_cast<std::int64_t>(hash % 7);
  }
  return counters;
}

struct Figure {
  double seconds = 0;
  std::int64_t points = 0;  // summed, so that nothing is optimised away
  std::size_t counters = 0;
};

Figure time_evaluations(const Program& program, const Event& event, const Member& member,
                        std::int64_t evaluations, const EvaluateOptions& options = {}) {
  const Counters counters = history(program, event, member);
  Figure figure;
  const auto start = Clock::now();
  for (std::int64_t i = 0; i < evaluations; ++i) {
    figure.counters += counters_needed(program, event, member).size();
    figure.points += evaluate(program, event, member, counters, options).points;
  }
  figure.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return figure;
}

void print(const char* name, const Figure& figure, std::int64_t evaluations) {
  std::printf("%-44s %9.0f evaluations/s  %7.2f us/evaluation  (%lld points, %zu counters each)\n",
              name, static_cast<double>(evaluations) / figure.seconds,
              figure.seconds * 1e6 / static_cast<double>(evaluations),
              static_cast<long long>(figure.points / evaluations),
              figure.counters / static_cast<std::size_t>(evaluations));
}

}  // namespace

int main(int argc, char** argv) {
  std::int64_t evaluations = 200'000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--evaluations") {
      evaluations = std::max<std::int64_t>(1, std::stoll(argv[i + 1]));
    } else {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      return 2;
    }
  }
  const TimeUs now_us = parse_rfc3339("2026-11-19T13:30:00Z").value();  // a Thursday afternoon
  Member member;
  member.id = 42;
  member.joined_at_us = now_us - 400 * kMicrosPerDay;
  member.tags = {"vip"};
  member.referrer = 7;
  const Event event = five_item_purchase(now_us);

  const Program program = large_program(now_us);
  std::printf("%lld evaluations on one thread, each counters_needed + evaluate\n",
              static_cast<long long>(evaluations));
  print("200 purchase rules, 4 campaigns, tiers, 5 items",
        time_evaluations(program, event, member, evaluations), evaluations);
  print("  the same with explain_skipped (dry run)",
        time_evaluations(program, event, member, evaluations, {.explain_skipped = true}),
        evaluations);
  const Evaluation explained =
      evaluate(program, event, member, history(program, event, member), {.explain_skipped = true});
  std::printf("  counters_needed names %zu counters; %zu lines fire, %zu rules skipped\n",
              counters_needed(program, event, member).size(), explained.fired.size(),
              explained.skipped.size());

  Program default_program;
  Rule rule = base_rule("points", Effect::Kind::per_unit, 1);
  default_program.rules = {rule};
  print("default program (one per-unit rule)",
        time_evaluations(default_program, event, member, evaluations), evaluations);
  return 0;
}
