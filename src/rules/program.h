// The earning program as the merchant defines it: rules, campaigns, tiers, check-in and referral
// settings. Plain values, read from and written to JSON documents by rules/document.h and
// evaluated by rules/evaluate.h. Money is in minor units of its currency; times are UTC
// microseconds; days, weeks, months and hours are civil ones in the program's time zone.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/time_zone.h"
#include "core/types.h"

namespace pointsmall::rules {

// Event types the engine knows. Rules name one of them.
inline constexpr const char* kEventTypes[] = {
    "purchase", "checkin",           "share", "review", "referral",
    "register", "profile_completed", "task",  "survey"};

// ---- Rules ------------------------------------------------------------------------------------

enum class Operator : std::uint8_t { eq, ne, lt, lte, gt, gte, between, in, not_in, any_of };

// A test of one fact of the event or the member, e.g. {"field": "amount", "op": "gte",
// "value": 5000}. The fields, their types and the operators each allows are listed in
// rules/README.md; a document naming anything else is refused when saved.
struct Condition {
  std::string field;
  Operator op = Operator::eq;
  std::vector<std::int64_t> numbers;  // number and boolean fields (booleans as 0/1); between: 2
  std::vector<std::string> texts;     // text and text-list fields
  friend bool operator==(const Condition&, const Condition&) = default;
};

// Which of an order's items a rule is about. An item matches when it passes every list that is
// not empty; the rule fires only when at least `min_quantity` units (summed) match.
struct ItemFilter {
  std::vector<std::string> skus;
  std::vector<std::string> categories;
  std::vector<std::string> brands;
  std::int64_t min_quantity = 1;
  friend bool operator==(const ItemFilter&, const ItemFilter&) = default;
};

// When a rule may fire, judged at the event's occurrence time.
struct TimeWindow {
  TimeUs from_us = 0;            // inclusive
  TimeUs until_us = kTimeNever;  // exclusive
  std::uint8_t weekdays = 0x7F;  // bit 0 Monday ... bit 6 Sunday, local
  int from_minute = 0;           // local time of day, [from_minute, until_minute)
  int until_minute = 24 * 60;
  friend bool operator==(const TimeWindow&, const TimeWindow&) = default;
};

// What the points of a per-unit rule are computed on. `amount` in an event is what the customer
// paid in money; `discount` is what promotions and coupons took off; `points_discount` is the
// money value of points used.
enum class EarnBase : std::uint8_t {
  paid,              // amount
  before_points,     // amount + points_discount (after promotions, before points)
  before_discounts,  // amount + points_discount + discount (the list price)
};

struct Effect {
  enum class Kind : std::uint8_t {
    fixed,       // `points`; counts as base points (multipliers apply)
    per_unit,    // `points` per `per_minor` of the earn base, rounded down; base points
    multiplier,  // adds (percent - 100)% of the base points of `of_rules` (all when empty)
    bonus,       // `points` added after multipliers, never multiplied
  };
  Kind kind = Kind::fixed;
  Points points = 0;
  MinorUnits per_minor = 100;  // per_unit: this much money earns `points`
  std::string currency;        // per_unit: only events in this currency
  EarnBase base = EarnBase::paid;
  bool matching_items_only = false;  // per_unit: the base is the matching items' pro-rata share
  int percent = 100;                 // multiplier: 200 doubles, 150 adds half
  std::vector<std::string> of_rules;
  friend bool operator==(const Effect&, const Effect&) = default;
};

enum class Period : std::uint8_t { day, week, month, lifetime };  // week: Monday to Sunday

// A cap per member: at most `points` points (0: no limit) and at most `times` awards (0: no
// limit) from this rule per period.
struct MemberCap {
  Period period = Period::day;
  Points points = 0;
  std::int64_t times = 0;
  friend bool operator==(const MemberCap&, const MemberCap&) = default;
};

struct Caps {
  Points per_event = 0;  // 0: no limit
  std::vector<MemberCap> per_member;
  Points budget = 0;  // program-wide over the rule's life, all versions together; 0: no limit
  friend bool operator==(const Caps&, const Caps&) = default;
};

struct Rule {
  std::string id;  // [a-z0-9_-], 1..64; stays the same across versions
  std::int64_t version = 1;
  std::string name;
  std::string event_type;             // one of kEventTypes
  std::vector<Condition> conditions;  // all must hold
  std::optional<ItemFilter> items;
  TimeWindow window;
  Effect effect;
  Caps caps;
  int priority = 0;    // higher is evaluated first
  bool stacks = true;  // false: when it fires, lower-priority rules of the same kind don't
  bool enabled = true;
  std::string campaign_id;  // set on the rules of a campaign
  friend bool operator==(const Rule&, const Rule&) = default;
};

// ---- Campaigns --------------------------------------------------------------------------------

// A set of rules active in a time window, with a budget over all of them.
struct Campaign {
  std::string id;  // [a-z0-9_-], 1..64
  std::int64_t version = 1;
  std::string name;
  TimeUs from_us = 0;
  TimeUs until_us = kTimeNever;
  Points budget = 0;       // 0: no limit; awarding stops (partly awarding the last) when spent
  bool exclusive = false;  // its window may not overlap another exclusive campaign's
  bool enabled = true;
  std::vector<Rule> rules;  // each with campaign_id == id, ids unique within the campaign
  friend bool operator==(const Campaign&, const Campaign&) = default;
};

// ---- Tiers ------------------------------------------------------------------------------------

// What qualifies a member for a tier. Never the spendable balance: spending points does not
// demote anyone.
enum class TierMeasure : std::uint8_t {
  points_earned,  // points from events (not adjustments, not referral rewards)
  money_spent,    // purchase amounts in `currency`, minus nothing (refunds are not counted back)
};
enum class TierPeriod : std::uint8_t {
  calendar_year,
  calendar_quarter,
  calendar_month,
  rolling_months,  // the current calendar month and the `months - 1` before it
};
// What happens at a period end to a member whose measure is below their tier's threshold.
enum class DowngradePolicy : std::uint8_t {
  drop_one,     // down one tier (at most)
  recalculate,  // to the highest tier the measure qualifies for
  grace,        // keep the tier for `grace_periods` period ends, then recalculate
};

struct Tier {
  std::string id;  // [a-z0-9_-], 1..64
  std::string name;
  std::int64_t threshold = 0;           // measure needed; the first tier's is 0, then ascending
  int earn_percent = 100;               // 125: the member earns 25% more base points
  int validity_days = 0;                // points earned in this tier expire after this many days;
                                        // 0: the program's expiry policy
  int redemption_discount_percent = 0;  // off mall points prices (the mall applies it)
  std::vector<std::string> exclusive_item_tags;  // mall items with these tags are theirs only
  friend bool operator==(const Tier&, const Tier&) = default;
};

struct TierProgram {
  TierMeasure measure = TierMeasure::points_earned;
  std::string currency;  // money_spent: purchases in this currency count
  TierPeriod period = TierPeriod::calendar_year;
  int months = 12;  // rolling_months: 1..36
  DowngradePolicy downgrade = DowngradePolicy::recalculate;
  int grace_periods = 1;    // grace: 1..12
  std::vector<Tier> tiers;  // ascending; tiers[0] (threshold 0) is where every member starts
  friend bool operator==(const TierProgram&, const TierProgram&) = default;
};

// ---- Engagement -------------------------------------------------------------------------------

struct StreakReward {
  int day = 7;  // the streak's day on which it is given (1..366)
  Points points = 0;
  friend bool operator==(const StreakReward&, const StreakReward&) = default;
};
// One check-in per calendar day in the program's time zone. The streak counts consecutive days;
// a missed day starts it again at 1. With `cycle_days` > 0 it starts again after that many days.
struct CheckinProgram {
  bool enabled = true;
  Points points = 0;  // every check-in
  std::vector<StreakReward> streak_rewards;
  int cycle_days = 0;
  friend bool operator==(const CheckinProgram&, const CheckinProgram&) = default;
};

// A friend who joined with a member's referral code brings both a reward after the friend's
// first qualifying purchase. Nobody refers themselves; a referrer is rewarded at most
// `max_rewards_per_month` times a calendar month, and only after a qualifying purchase of
// their own (so a ring of fresh accounts earns nothing).
struct ReferralProgram {
  bool enabled = false;
  Points referrer_points = 0;
  Points friend_points = 0;
  MinorUnits min_purchase_minor = 0;  // in `currency`
  std::string currency;
  int max_rewards_per_month = 10;
  friend bool operator==(const ReferralProgram&, const ReferralProgram&) = default;
};

// ---- The whole program ------------------------------------------------------------------------

struct Program {
  std::vector<Rule> rules;  // standing rules (campaign rules live in their campaign)
  std::vector<Campaign> campaigns;
  std::optional<TierProgram> tiers;
  CheckinProgram checkin;
  ReferralProgram referral;
  std::shared_ptr<const TimeZone> zone = TimeZone::utc();  // never null
};

}  // namespace pointsmall::rules
