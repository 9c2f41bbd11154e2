// Evaluating an event against the earning program. rules/README.md states the order of the
// stages, every counter's name and every condition field; this file implements exactly that.
// Pure: the results depend only on the arguments (no I/O, no clock, no mutable globals).
#include "rules/evaluate.h"

#include <algorithm>
#include <array>
#include <iterator>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pointsmall::rules {
namespace {

__extension__ using Int128 = __int128;  // products of money and points exceed 64 bits

constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kInt64Min = std::numeric_limits<std::int64_t>::min();

std::int64_t saturate(Int128 value) {
  if (value > kInt64Max) return kInt64Max;
  if (value < kInt64Min) return kInt64Min;
  return static_cast<std::int64_t>(value);
}

// floor(numerator / denominator) for denominator > 0.
Int128 floor_div(Int128 numerator, Int128 denominator) {
  Int128 quotient = numerator / denominator;
  if (numerator % denominator != 0 && numerator < 0) --quotient;
  return quotient;
}

std::int64_t floor_mod(std::int64_t value, std::int64_t divisor) {
  const std::int64_t rest = value % divisor;
  return rest < 0 ? rest + divisor : rest;
}

std::string join(const std::vector<std::string>& values, const char* separator = ", ") {
  std::string out;
  for (const std::string& value : values) {
    if (!out.empty()) out += separator;
    out += value;
  }
  return out;
}

std::string join_numbers(const std::vector<std::int64_t>& values) {
  std::string out;
  for (std::int64_t value : values) {
    if (!out.empty()) out += ", ";
    out += std::to_string(value);
  }
  return out;
}

bool contains(const std::vector<std::string>& values, const std::string& value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

// ---- Civil calendar ----------------------------------------------------------------------------

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t year, int month, int day) {
  year -= month <= 2 ? 1 : 0;
  const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
  const std::int64_t year_of_era = year - era * 400;
  const std::int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const std::int64_t day_of_era =
      year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

struct Date {
  std::int64_t year = 1970;
  int month = 1;
  int day = 1;
};

Date civil_from_days(std::int64_t days) {
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const std::int64_t day_of_era = days - era * 146097;
  const std::int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const std::int64_t day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const std::int64_t shifted_month = (5 * day_of_year + 2) / 153;
  const int day = static_cast<int>(day_of_year - (153 * shifted_month + 2) / 5 + 1);
  const int month = static_cast<int>(shifted_month < 10 ? shifted_month + 3 : shifted_month - 9);
  return Date{year_of_era + era * 400 + (month <= 2 ? 1 : 0), month, day};
}

// Appends `value` in decimal with at least `width` digits (counter names are built per
// evaluation, so this avoids printf).
void append_padded(std::string& out, std::int64_t value, int width) {
  if (value < 0) out += '-';
  std::uint64_t magnitude = value < 0 ? 0 - static_cast<std::uint64_t>(value) : value;
  char digits[20];
  int count = 0;
  do {
    digits[count++] = static_cast<char>('0' + magnitude % 10);
    magnitude /= 10;
  } while (magnitude > 0);
  for (int i = count; i < width; ++i) out += '0';
  while (count > 0) out += digits[--count];
}

// "2026-11-22" for a day number.
std::string format_date(std::int64_t day_number) {
  const Date date = civil_from_days(day_number);
  std::string out;
  append_padded(out, date.year, 4);
  out += '-';
  append_padded(out, date.month, 2);
  out += '-';
  append_padded(out, date.day, 2);
  return out;
}

// "2026-11" for the month index 2026 * 12 + 10.
std::string format_month(std::int64_t month_index) {
  std::string out;
  append_padded(out, saturate(floor_div(month_index, 12)), 4);
  out += '-';
  append_padded(out, floor_mod(month_index, 12) + 1, 2);
  return out;
}

std::string format_minute(int minute_of_day) {
  std::string out;
  append_padded(out, minute_of_day / 60, 2);
  out += ':';
  append_padded(out, minute_of_day % 60, 2);
  return out;
}

constexpr std::array<const char*, 7> kWeekdayNames = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                                      "Friday", "Saturday", "Sunday"};

// "Saturday-Sunday", "Monday, Wednesday-Friday"; bit 0 is Monday.
std::string weekday_words(std::uint8_t mask) {
  std::string out;
  for (int first = 0; first < 7; ++first) {
    if ((mask >> first & 1) == 0) continue;
    int last = first;
    while (last + 1 < 7 && (mask >> (last + 1) & 1) != 0) ++last;
    if (!out.empty()) out += ", ";
    out += kWeekdayNames[first];
    if (last > first) out += std::string("-") + kWeekdayNames[last];
    first = last;
  }
  return out.empty() ? "no day" : out;
}

// An instant and its civil time in the program's zone.
struct Moment {
  TimeUs at_us = 0;
  CivilTime local;
  std::int64_t day = 0;    // local day number: days since 1970-01-01 of the local date
  std::int64_t month = 0;  // month index: year * 12 + month - 1
  int weekday = 0;         // 0 Monday ... 6 Sunday
  int minute = 0;          // local minute of the day
};

Moment moment_at(const TimeZone& zone, TimeUs at_us) {
  Moment moment;
  moment.at_us = at_us;
  moment.local = zone.to_local(at_us);
  moment.day = days_from_civil(moment.local.year, moment.local.month, moment.local.day);
  moment.month = std::int64_t{moment.local.year} * 12 + moment.local.month - 1;
  moment.weekday = static_cast<int>(floor_mod(moment.day + 3, 7));  // 1970-01-01: a Thursday
  moment.minute = moment.local.hour * 60 + moment.local.minute;
  return moment;
}

std::string format_local(const TimeZone& zone, TimeUs at_us) {
  const Moment moment = moment_at(zone, at_us);
  return format_date(moment.day) + " " + format_minute(moment.minute) + " " + zone.name();
}

// ---- Counter names (rules/README.md lists them) ------------------------------------------------

constexpr const char* kCheckinDay = "checkin.day";
constexpr const char* kCheckinStreak = "checkin.streak";
constexpr const char* kPurchases = "purchases";
constexpr const char* kReferralQualified = "referral.qualified";
constexpr const char* kReferralRewarded = "referral.rewarded";
constexpr const char* kTier = "tier";
constexpr const char* kTierGrace = "tier.grace";
constexpr const char* kTierSince = "tier.since";
constexpr const char* kTierReviewed = "tier.reviewed";

std::string spent_name(const std::string& currency) {
  return "spent:" + currency;
}
std::string tier_bucket_name(std::int64_t month_index) {
  return "tier.m:" + format_month(month_index);
}
std::string referral_rewards_name(const Moment& at) {
  return "referral.rewards:m" + format_month(at.month);
}

// "d2026-11-22", "w2026-11-16" (the local Monday), "m2026-11", "all".
std::string period_key(Period period, const Moment& at) {
  switch (period) {
    case Period::day:
      return "d" + format_date(at.day);
    case Period::week:
      return "w" + format_date(at.day - at.weekday);
    case Period::month:
      return "m" + format_month(at.month);
    case Period::lifetime:
      break;
  }
  return "all";
}

// The period keys of one moment, each made when first needed (most programs have no member caps).
class PeriodKeys {
 public:
  explicit PeriodKeys(const Moment& at) : at_(at) {}
  const std::string& operator()(Period period) {
    const std::size_t index = std::min<std::size_t>(static_cast<std::size_t>(period), 3);
    if (keys_[index].empty()) keys_[index] = period_key(period, at_);
    return keys_[index];
  }

 private:
  const Moment& at_;
  std::array<std::string, 4> keys_;
};

const char* period_per_words(Period period) {
  switch (period) {
    case Period::day:
      return "a day";
    case Period::week:
      return "a week";
    case Period::month:
      return "a month";
    case Period::lifetime:
      break;
  }
  return "in total";
}

const char* period_this_words(Period period) {
  switch (period) {
    case Period::day:
      return " this day";
    case Period::week:
      return " this week";
    case Period::month:
      return " this month";
    case Period::lifetime:
      break;
  }
  return "";
}

// Counters as this evaluation sees them: the values read, with its own updates over them.
struct Counts {
  const Counters& read;
  Counters& updates;

  [[nodiscard]] std::int64_t get(const CounterKey& key) const {
    auto it = updates.find(key);
    return it != updates.end() ? it->second : counter_value(read, key);
  }
  // Records a new value; a counter set to the value it has is left out of the updates.
  void set(const CounterKey& key, std::int64_t value) {
    auto it = updates.find(key);
    if (it != updates.end()) {
      it->second = value;
    } else if (counter_value(read, key) != value) {
      updates.emplace(key, value);
    }
  }
  void add(const CounterKey& key, std::int64_t delta) {
    set(key, saturate(Int128{get(key)} + delta));
  }
};

// ---- Tiers -------------------------------------------------------------------------------------

// The tier program when it has tiers; nullptr otherwise.
const TierProgram* active_tiers(const Program& program) {
  if (!program.tiers || program.tiers->tiers.empty()) return nullptr;
  return &*program.tiers;
}

int tier_count(const TierProgram& tiers) {
  return static_cast<int>(tiers.tiers.size());
}

int current_level(const Counts& counts, const TierProgram& tiers, MemberId member) {
  const std::int64_t level = counts.get({member, kTier});
  return static_cast<int>(std::clamp<std::int64_t>(level, 0, tier_count(tiers) - 1));
}

const std::string& tier_name(const TierProgram& tiers, int level) {
  const Tier& tier = tiers.tiers[static_cast<std::size_t>(level)];
  return tier.name.empty() ? tier.id : tier.name;
}

// The highest level whose threshold the measure reaches (0 when none does).
int qualifying_level(const TierProgram& tiers, std::int64_t measure) {
  int level = 0;
  for (int i = 0; i < tier_count(tiers); ++i) {
    if (tiers.tiers[static_cast<std::size_t>(i)].threshold <= measure) level = i;
  }
  return level;
}

// A tier period as month indexes, both inclusive.
struct MonthRange {
  std::int64_t first = 0;
  std::int64_t last = 0;
};

int rolling_months(const TierProgram& tiers) {
  return std::max(1, tiers.months);
}

MonthRange period_containing(const TierProgram& tiers, std::int64_t month) {
  switch (tiers.period) {
    case TierPeriod::calendar_year:
      return {month - floor_mod(month, 12), month - floor_mod(month, 12) + 11};
    case TierPeriod::calendar_quarter:
      return {month - floor_mod(month, 3), month - floor_mod(month, 3) + 2};
    case TierPeriod::calendar_month:
      return {month, month};
    case TierPeriod::rolling_months:
      break;
  }
  return {month - rolling_months(tiers) + 1, month};
}

// The last period that ended at or before the start of `month`.
MonthRange period_before(const TierProgram& tiers, std::int64_t month) {
  if (tiers.period == TierPeriod::rolling_months) return {month - rolling_months(tiers), month - 1};
  return period_containing(tiers, period_containing(tiers, month).first - 1);
}

std::string period_words(const TierProgram& tiers, MonthRange range) {
  const std::string year = std::to_string(saturate(floor_div(range.first, 12)));
  switch (tiers.period) {
    case TierPeriod::calendar_year:
      return "in " + year;
    case TierPeriod::calendar_quarter:
      return "in " + year + " Q" + std::to_string(floor_mod(range.first, 12) / 3 + 1);
    case TierPeriod::calendar_month:
      return "in " + format_month(range.first);
    case TierPeriod::rolling_months:
      break;
  }
  return "in the " + std::to_string(range.last - range.first + 1) + " months " +
         format_month(range.first) + " to " + format_month(range.last);
}

std::string measure_words(const TierProgram& tiers, std::int64_t measure) {
  if (tiers.measure == TierMeasure::points_earned)
    return std::to_string(measure) + " points earned";
  return std::to_string(measure) + " " + tiers.currency + " (minor units) spent";
}

void tier_bucket_keys(MemberId member, MonthRange range, std::vector<CounterKey>& keys) {
  for (std::int64_t month = range.first; month <= range.last; ++month)
    keys.push_back({member, tier_bucket_name(month)});
}

std::int64_t measure_of(const Counts& counts, MemberId member, MonthRange range) {
  Int128 sum = 0;
  for (std::int64_t month = range.first; month <= range.last; ++month)
    sum += counts.get({member, tier_bucket_name(month)});
  return saturate(sum);
}

// ---- Candidate rules ---------------------------------------------------------------------------

// A rule and the campaign it belongs to (null for a standing rule).
struct RuleRef {
  const Rule* rule = nullptr;
  const Campaign* campaign = nullptr;

  [[nodiscard]] std::string_view campaign_id() const {
    return campaign != nullptr ? std::string_view(campaign->id) : std::string_view();
  }
};

struct Candidate : RuleRef {
  std::string key;  // the rule's name in counters: id or "campaign/id"
};

// Evaluation order: priority descending, then campaign id (standing rules first), then rule id.
bool evaluated_before(const RuleRef& a, const RuleRef& b) {
  if (a.rule->priority != b.rule->priority) return a.rule->priority > b.rule->priority;
  if (a.campaign_id() != b.campaign_id()) return a.campaign_id() < b.campaign_id();
  return a.rule->id < b.rule->id;
}

// Enabled rules of the event's type, standing or of a running campaign; `ordered`: in
// evaluation order, else in program order.
std::vector<Candidate> candidates(const Program& program, const Event& event, bool ordered) {
  std::vector<RuleRef> refs;
  auto consider = [&](const Rule& rule, const Campaign* campaign) {
    if (rule.enabled && rule.event_type == event.type) refs.push_back({&rule, campaign});
  };
  for (const Rule& rule : program.rules) consider(rule, nullptr);
  for (const Campaign& campaign : program.campaigns) {
    if (!campaign.enabled || event.occurred_at_us < campaign.from_us ||
        event.occurred_at_us >= campaign.until_us)
      continue;
    for (const Rule& rule : campaign.rules) consider(rule, &campaign);
  }
  if (ordered) std::stable_sort(refs.begin(), refs.end(), evaluated_before);
  std::vector<Candidate> out;
  out.reserve(refs.size());
  for (const RuleRef& ref : refs) {
    out.push_back(
        {ref, ref.campaign != nullptr ? ref.campaign->id + "/" + ref.rule->id : ref.rule->id});
  }
  return out;
}

enum class Stage : std::uint8_t { base, multiplier, bonus };

Stage stage_of(Effect::Kind kind) {
  switch (kind) {
    case Effect::Kind::fixed:
    case Effect::Kind::per_unit:
      return Stage::base;
    case Effect::Kind::multiplier:
      return Stage::multiplier;
    case Effect::Kind::bonus:
      break;
  }
  return Stage::bonus;
}

const char* kind_name(Effect::Kind kind) {
  switch (kind) {
    case Effect::Kind::fixed:
      return "fixed";
    case Effect::Kind::per_unit:
      return "per_unit";
    case Effect::Kind::multiplier:
      return "multiplier";
    case Effect::Kind::bonus:
      break;
  }
  return "bonus";
}

bool window_holds(const TimeWindow& window, const Moment& at) {
  return at.at_us >= window.from_us && at.at_us < window.until_us &&
         (window.weekdays >> at.weekday & 1) != 0 && at.minute >= window.from_minute &&
         at.minute < window.until_minute;
}

// Why the window does not hold at `at` (call only when it does not).
std::string window_failure(const TimeWindow& window, const Moment& at, const TimeZone& zone) {
  if (at.at_us < window.from_us) return "starts " + format_local(zone, window.from_us);
  if (at.at_us >= window.until_us) return "ended " + format_local(zone, window.until_us);
  if ((window.weekdays >> at.weekday & 1) == 0)
    return "not on " + weekday_words(window.weekdays) + " in " + zone.name();
  return "not between " + format_minute(window.from_minute) + " and " +
         format_minute(window.until_minute) + " in " + zone.name();
}

bool window_restricts_time_of_week(const TimeWindow& window) {
  return window.weekdays != 0x7F || window.from_minute > 0 || window.until_minute < 24 * 60;
}

// ---- Item filters ------------------------------------------------------------------------------

bool item_passes(const ItemFilter& filter, const Item& item) {
  return (filter.skus.empty() || contains(filter.skus, item.sku)) &&
         (filter.categories.empty() || contains(filter.categories, item.category)) &&
         (filter.brands.empty() || contains(filter.brands, item.brand));
}

// "in category shoes of brand acme"
std::string filter_words(const ItemFilter& filter) {
  std::vector<std::string> parts;
  if (!filter.skus.empty()) parts.push_back("with sku " + join(filter.skus));
  if (!filter.categories.empty()) parts.push_back("in category " + join(filter.categories));
  if (!filter.brands.empty()) parts.push_back("of brand " + join(filter.brands));
  return parts.empty() ? "of any kind" : join(parts, " ");
}

std::int64_t item_value(const Item& item) {
  return saturate(Int128{std::max<MinorUnits>(0, item.price_minor)} *
                  std::max<std::int64_t>(0, item.quantity));
}

struct ItemTotals {
  std::int64_t quantity = 0;  // units of matching items
  std::int64_t value = 0;     // price * quantity of matching items
};

ItemTotals matching_items(const ItemFilter* filter, const std::vector<Item>& items) {
  Int128 quantity = 0;
  Int128 value = 0;
  for (const Item& item : items) {
    if (filter != nullptr && !item_passes(*filter, item)) continue;
    quantity += std::max<std::int64_t>(0, item.quantity);
    value += item_value(item);
  }
  return {saturate(quantity), saturate(value)};
}

// ---- The evaluation's state --------------------------------------------------------------------

struct Context {
  Context(const Program& program_in, const Event& event_in, const Member& member_in,
          const Counters& counters)
      : program(program_in),
        event(event_in),
        member(member_in),
        zone(*program_in.zone),
        at(moment_at(*program_in.zone, event_in.occurred_at_us)),
        periods(at),
        counts{counters, out.updates},
        tiers(active_tiers(program_in)) {}
  Context(const Context&) = delete;  // `counts` refers to `out`
  Context& operator=(const Context&) = delete;

  [[nodiscard]] CounterKey mine(std::string name) const { return {member.id, std::move(name)}; }

  const Program& program;
  const Event& event;
  const Member& member;
  const TimeZone& zone;
  Moment at;
  PeriodKeys periods;  // of `at`
  Evaluation out;
  Counts counts;
  const TierProgram* tiers;
  int tier_before = 0;             // the member's level before this event
  std::int64_t new_streak = -1;    // a check-in's streak; -1 for other events
  std::size_t base_lines = 0;      // fired[0, base_lines) are the base stage's lines
  std::vector<Line> streak_lines;  // given in the bonus stage
  Points referral_points = 0;
};

std::int64_t lifetime_spend(const Context& context) {
  if (context.event.currency.empty()) return 0;
  return context.counts.get(context.mine(spent_name(context.event.currency)));
}

// The check-in streak: a check-in's new streak; for other events the streak as it stands
// (0 when the last check-in was before yesterday).
std::int64_t checkin_streak(const Context& context) {
  if (context.new_streak >= 0) return context.new_streak;
  const std::int64_t last = context.counts.get(context.mine(kCheckinDay));
  if (last == 0 || last < context.at.day - 1) return 0;
  return context.counts.get(context.mine(kCheckinStreak));
}

std::string member_tier_id(const Context& context) {
  if (context.tiers == nullptr) return "";
  return context.tiers->tiers[static_cast<std::size_t>(context.tier_before)].id;
}

// ---- Conditions --------------------------------------------------------------------------------

// A condition's verdict and the fact in words, as it held or as it failed.
struct Check {
  bool holds = false;
  std::string words;
};

Check verdict(bool holds, const std::string& subject, const char* if_holds, const char* if_fails,
              const std::string& object) {
  return {holds, subject + " " + (holds ? if_holds : if_fails) + " " + object};
}

const char* operator_name(Operator op) {
  constexpr std::array<const char*, 10> names = {"eq",  "ne",      "lt", "lte",    "gt",
                                                 "gte", "between", "in", "not_in", "any_of"};
  const auto index = static_cast<std::size_t>(op);
  return index < names.size() ? names[index] : "unknown";
}

Check unsupported(const Condition& condition) {
  return {false, std::string("operator ") + operator_name(condition.op) + " does not apply to " +
                     condition.field};
}

Check check_number(const Condition& condition, std::int64_t value) {
  const std::vector<std::int64_t>& n = condition.numbers;
  const std::size_t needed = condition.op == Operator::between ? 2 : 1;
  if (n.size() < needed) return {false, "the condition on " + condition.field + " has no value"};
  const std::string subject = condition.field + " " + std::to_string(value);
  const std::string first = std::to_string(n[0]);
  const bool listed = std::find(n.begin(), n.end(), value) != n.end();
  switch (condition.op) {
    case Operator::eq:
      return verdict(value == n[0], subject, "is", "is not", first);
    case Operator::ne:
      return verdict(value != n[0], subject, "is not", "is", first);
    case Operator::lt:
      return verdict(value < n[0], subject, "is below", "is not below", first);
    case Operator::lte:
      return verdict(value <= n[0], subject, "is at most", "is above", first);
    case Operator::gt:
      return verdict(value > n[0], subject, "is above", "is not above", first);
    case Operator::gte:
      return verdict(value >= n[0], subject, "is at least", "is below", first);
    case Operator::between:
      return verdict(n[0] <= value && value <= n[1], subject, "is between", "is not between",
                     first + " and " + std::to_string(n[1]));
    case Operator::in:
    case Operator::any_of:
      return verdict(listed, subject, "is one of", "is not one of", join_numbers(n));
    case Operator::not_in:
      return verdict(!listed, subject, "is not one of", "is one of", join_numbers(n));
  }
  return unsupported(condition);
}

Check check_text(const Condition& condition, const std::string& value) {
  const std::vector<std::string>& texts = condition.texts;
  if (texts.empty()) return {false, "the condition on " + condition.field + " has no value"};
  const std::string subject = condition.field + " " + (value.empty() ? "(none)" : value);
  switch (condition.op) {
    case Operator::eq:
      return verdict(value == texts[0], subject, "is", "is not", texts[0]);
    case Operator::ne:
      return verdict(value != texts[0], subject, "is not", "is", texts[0]);
    case Operator::in:
    case Operator::any_of:
      return verdict(contains(texts, value), subject, "is one of", "is not one of", join(texts));
    case Operator::not_in:
      return verdict(!contains(texts, value), subject, "is not one of", "is one of", join(texts));
    default:
      return unsupported(condition);
  }
}

// A yes/no fact; the words describe the fact as it is.
Check check_boolean(const Condition& condition, bool fact, const char* if_true,
                    const char* if_false) {
  if (condition.numbers.empty())
    return {false, "the condition on " + condition.field + " has no value"};
  const bool wanted = condition.numbers[0] != 0;
  const char* words = fact ? if_true : if_false;
  if (condition.op == Operator::eq) return {fact == wanted, words};
  if (condition.op == Operator::ne) return {fact != wanted, words};
  return unsupported(condition);
}

// A text-list field: `positive` describes "some value is among the condition's texts".
Check check_list(const Condition& condition, bool some_listed, const std::string& positive,
                 const std::string& negative) {
  const std::string values = join(condition.texts);
  switch (condition.op) {
    case Operator::in:
    case Operator::any_of:
      return {some_listed, (some_listed ? positive : negative) + " " + values};
    case Operator::not_in:
      return {!some_listed, (some_listed ? positive : negative) + " " + values};
    default:
      return unsupported(condition);
  }
}

Check check_item_list(const Condition& condition, const std::vector<Item>& items,
                      std::string Item::*attribute, const char* words) {
  bool some_listed = false;
  for (const Item& item : items)
    some_listed = some_listed || contains(condition.texts, item.*attribute);
  return check_list(condition, some_listed, std::string("an item ") + words,
                    std::string("no item ") + words);
}

std::int64_t total_quantity(const std::vector<Item>& items) {
  return matching_items(nullptr, items).quantity;
}

std::int64_t days_since_joining(const Context& context) {
  const TimeUs since = context.event.occurred_at_us - context.member.joined_at_us;
  return std::max<std::int64_t>(0, saturate(floor_div(since, kMicrosPerDay)));
}

Check check_condition(const Context& context, const Condition& condition) {
  const std::string& field = condition.field;
  const Event& event = context.event;
  if (field == "amount") return check_number(condition, event.amount_minor);
  if (field == "discount") return check_number(condition, event.discount_minor);
  if (field == "points_discount") return check_number(condition, event.points_discount_minor);
  if (field == "items.quantity") return check_number(condition, total_quantity(event.items));
  if (field == "member.days_since_joining")
    return check_number(condition, days_since_joining(context));
  if (field == "member.lifetime_spend") return check_number(condition, lifetime_spend(context));
  if (field == "checkin.streak") return check_number(condition, checkin_streak(context));
  if (field == "currency") return check_text(condition, event.currency);
  if (field == "channel") return check_text(condition, event.channel);
  if (field == "store") return check_text(condition, event.store);
  if (field == "task") return check_text(condition, event.task);
  if (field == "member.tier") return check_text(condition, member_tier_id(context));
  if (field == "member.segment") return check_text(condition, context.member.segment);
  if (field == "items.sku") return check_item_list(condition, event.items, &Item::sku, "with sku");
  if (field == "items.category")
    return check_item_list(condition, event.items, &Item::category, "in category");
  if (field == "items.brand")
    return check_item_list(condition, event.items, &Item::brand, "of brand");
  if (field == "member.tags") {
    bool some_listed = false;
    for (const std::string& tag : context.member.tags)
      some_listed = some_listed || contains(condition.texts, tag);
    return check_list(condition, some_listed, "member tagged", "member not tagged");
  }
  if (field == "member.first_purchase")
    return check_boolean(condition, context.counts.get(context.mine(kPurchases)) == 0,
                         "the member's first purchase", "not the member's first purchase");
  if (field == "member.birthday_month")
    return check_boolean(condition, context.member.birthday_month == context.at.local.month,
                         "in the member's birthday month", "not in the member's birthday month");
  return {false, "unknown field " + field};
}

// The counters a condition on `field` reads for this event.
void condition_keys(const std::string& field, const Program& program, const Event& event,
                    const Member& member, std::vector<CounterKey>& keys) {
  if (field == "member.first_purchase") keys.push_back({member.id, kPurchases});
  if (field == "member.lifetime_spend" && !event.currency.empty())
    keys.push_back({member.id, spent_name(event.currency)});
  if (field == "checkin.streak" && event.type != "checkin") {
    keys.push_back({member.id, kCheckinDay});
    keys.push_back({member.id, kCheckinStreak});
  }
  if (field == "member.tier" && active_tiers(program) != nullptr)
    keys.push_back({member.id, kTier});
}

// The purchase facts the program's rules (any of them, enabled or not) have conditions on; the
// engine keeps a fact's counter only when some rule uses it.
struct FactsUsed {
  bool first_purchase = false;
  bool lifetime_spend = false;
};

FactsUsed facts_used(const Program& program) {
  FactsUsed used;
  auto scan = [&used](const std::vector<Rule>& rules) {
    for (const Rule& rule : rules) {
      for (const Condition& condition : rule.conditions) {
        used.first_purchase = used.first_purchase || condition.field == "member.first_purchase";
        used.lifetime_spend = used.lifetime_spend || condition.field == "member.lifetime_spend";
      }
    }
  };
  scan(program.rules);
  for (const Campaign& campaign : program.campaigns) scan(campaign.rules);
  return used;
}

// Empty when the rule's window, conditions and item filter hold; otherwise the first reason it
// does not fire. `facts` receives what held, in words.
std::string why_not(const Context& context, const Rule& rule, std::string& facts) {
  if (!window_holds(rule.window, context.at))
    return window_failure(rule.window, context.at, context.zone);
  auto note = [&facts](const std::string& words) {
    facts += facts.empty() ? "" : ", ";
    facts += words;
  };
  if (window_restricts_time_of_week(rule.window)) {
    note(std::string(kWeekdayNames[static_cast<std::size_t>(context.at.weekday)]) + " " +
         format_minute(context.at.minute) + " in " + context.zone.name());
  }
  for (const Condition& condition : rule.conditions) {
    Check check = check_condition(context, condition);
    if (!check.holds) return check.words;
    note(check.words);
  }
  if (rule.items) {
    const ItemTotals matched = matching_items(&*rule.items, context.event.items);
    const std::string words = filter_words(*rule.items);
    if (matched.quantity == 0) return "no item " + words;
    if (matched.quantity < rule.items->min_quantity) {
      return std::to_string(matched.quantity) + " items " + words + ", the rule needs " +
             std::to_string(rule.items->min_quantity);
    }
    note(std::to_string(matched.quantity) + " items " + words);
  }
  return {};
}

// ---- Effects -----------------------------------------------------------------------------------

// What a rule gives before caps, with the effect in words; `why_not` says why it gives nothing.
struct Raw {
  Points points = 0;
  std::string detail;
  std::string why_not;
};

const char* earn_base_words(EarnBase base) {
  switch (base) {
    case EarnBase::paid:
      return "paid";
    case EarnBase::before_points:
      return "before points";
    case EarnBase::before_discounts:
      break;
  }
  return "before discounts";
}

Raw per_unit_points(const Context& context, const Rule& rule) {
  const Effect& effect = rule.effect;
  const Event& event = context.event;
  if (event.currency != effect.currency) {
    return {0, "",
            "event in " + (event.currency.empty() ? "no currency" : event.currency) +
                ", rule counts " + effect.currency};
  }
  if (effect.per_minor <= 0) return {0, "", "per_minor is not positive"};
  Int128 base = event.amount_minor;
  if (effect.base != EarnBase::paid) base += event.points_discount_minor;
  if (effect.base == EarnBase::before_discounts) base += event.discount_minor;
  std::int64_t base_minor = std::max<std::int64_t>(0, saturate(base));
  std::string base_text =
      std::to_string(base_minor) + " " + effect.currency + " " + earn_base_words(effect.base);
  if (effect.matching_items_only && rule.items) {
    const std::int64_t matched = matching_items(&*rule.items, event.items).value;
    const std::int64_t total = matching_items(nullptr, event.items).value;
    base_minor = total > 0 ? saturate(Int128{base_minor} * matched / total) : 0;
    base_text = std::to_string(base_minor) + " " + effect.currency + " " +
                earn_base_words(effect.base) + " on items " + filter_words(*rule.items);
  }
  const Int128 units = base_minor / effect.per_minor;
  const Points points = saturate(units * effect.points);
  const std::string detail = std::to_string(effect.points) + " points per full " +
                             std::to_string(effect.per_minor) + " of " + base_text;
  if (points > 0) return {points, detail, ""};
  if (units == 0) {
    return {0, detail,
            "earns nothing: " + base_text + " is less than " + std::to_string(effect.per_minor)};
  }
  return {0, detail, "earns nothing: " + detail};
}

Raw multiplier_points(const Context& context, const Candidate& candidate) {
  const Effect& effect = candidate.rule->effect;
  Int128 base = 0;
  for (std::size_t i = 0; i < context.base_lines; ++i) {
    const Line& line = context.out.fired[i];
    const bool named = contains(effect.of_rules, line.rule) &&
                       (line.campaign.empty() || line.campaign == candidate.campaign_id());
    if (effect.of_rules.empty() || named) base += line.points;
  }
  const std::string of_words = effect.of_rules.empty() ? "" : " of " + join(effect.of_rules);
  if (base <= 0) return {0, "", "no base points" + of_words};
  const std::int64_t base_points = saturate(base);
  const Points extra = saturate(floor_div(Int128{base_points} * (effect.percent - 100), 100));
  const std::string detail = std::to_string(effect.percent) + "% of " +
                             std::to_string(base_points) + " base points" + of_words;
  if (extra <= 0) return {0, detail, "adds nothing: " + detail};
  return {extra, detail, ""};
}

Raw raw_points(const Context& context, const Candidate& candidate) {
  const Effect& effect = candidate.rule->effect;
  switch (effect.kind) {
    case Effect::Kind::per_unit:
      return per_unit_points(context, *candidate.rule);
    case Effect::Kind::multiplier:
      return multiplier_points(context, candidate);
    case Effect::Kind::fixed:
    case Effect::Kind::bonus:
      break;
  }
  const std::string detail = (effect.kind == Effect::Kind::bonus ? "bonus of " : "") +
                             std::to_string(effect.points) + " points";
  if (effect.points <= 0) return {0, detail, "earns nothing: " + detail};
  return {effect.points, detail, ""};
}

// ---- Caps --------------------------------------------------------------------------------------

bool cap_limits(const MemberCap& cap) {
  return cap.points > 0 || cap.times > 0;
}

// "rule:<key>:<period>:points" or ":times".
CounterKey cap_counter(const Candidate& candidate, MemberId member, const std::string& period,
                       std::string_view what) {
  std::string name;
  name.reserve(7 + candidate.key.size() + period.size() + what.size());
  name.append("rule:").append(candidate.key).append(1, ':').append(period).append(1, ':');
  name.append(what);
  return {member, std::move(name)};
}
CounterKey rule_budget_counter(const Candidate& candidate) {
  return {0, "rule:" + candidate.key + ":budget"};
}
CounterKey campaign_budget_counter(const Campaign& campaign) {
  return {0, "campaign:" + campaign.id + ":budget"};
}

// The periods of the rule's member caps that limit something, each once.
std::vector<Period> capped_periods(const Caps& caps) {
  std::vector<Period> periods;
  for (const MemberCap& cap : caps.per_member) {
    if (cap_limits(cap) && std::find(periods.begin(), periods.end(), cap.period) == periods.end())
      periods.push_back(cap.period);
  }
  return periods;
}

// The counters of a rule's caps: its own into `keys`, its campaign's budget (which the
// campaign's other rules name too) into `shared`.
void cap_keys(const Candidate& candidate, MemberId member, PeriodKeys& periods,
              std::vector<CounterKey>& keys, std::vector<CounterKey>& shared) {
  for (Period period : capped_periods(candidate.rule->caps)) {
    keys.push_back(cap_counter(candidate, member, periods(period), "points"));
    keys.push_back(cap_counter(candidate, member, periods(period), "times"));
  }
  if (candidate.rule->caps.budget > 0) keys.push_back(rule_budget_counter(candidate));
  if (candidate.campaign != nullptr && candidate.campaign->budget > 0)
    shared.push_back(campaign_budget_counter(*candidate.campaign));
}

struct Capped {
  Points points = 0;
  std::string cut;  // which cap cut it and how much; empty when none did
};

Capped apply_caps(Context& context, const Candidate& candidate, Points raw) {
  const Caps& caps = candidate.rule->caps;
  Points awarded = raw;
  std::string cut_by;
  auto limit = [&](Points remaining, std::string why) {
    remaining = std::max<Points>(0, remaining);
    if (remaining >= awarded) return;
    awarded = remaining;
    cut_by = std::move(why);
  };
  if (caps.per_event > 0)
    limit(caps.per_event, "at most " + std::to_string(caps.per_event) + " points per event");
  for (const MemberCap& cap : caps.per_member) {
    if (cap.times > 0) {
      const std::int64_t times = context.counts.get(
          cap_counter(candidate, context.member.id, context.periods(cap.period), "times"));
      if (times >= cap.times) {
        return {0, std::to_string(times) + " awards" + period_this_words(cap.period) + " already"};
      }
    }
    if (cap.points > 0) {
      const Points given = context.counts.get(
          cap_counter(candidate, context.member.id, context.periods(cap.period), "points"));
      limit(saturate(Int128{cap.points} - given),
            "at most " + std::to_string(cap.points) + " points " + period_per_words(cap.period));
    }
  }
  if (caps.budget > 0) {
    const Points spent = context.counts.get(rule_budget_counter(candidate));
    limit(saturate(Int128{caps.budget} - spent), "budget exhausted");
  }
  if (candidate.campaign != nullptr && candidate.campaign->budget > 0) {
    const Points spent = context.counts.get(campaign_budget_counter(*candidate.campaign));
    limit(saturate(Int128{candidate.campaign->budget} - spent), "campaign budget exhausted");
  }
  if (cut_by.empty()) return {awarded, ""};
  return {awarded,
          cut_by + ": " + std::to_string(awarded) + " of " + std::to_string(raw) + " awarded"};
}

void record_award(Context& context, const Candidate& candidate, Points awarded) {
  for (Period period : capped_periods(candidate.rule->caps)) {
    const std::string& key = context.periods(period);
    context.counts.add(cap_counter(candidate, context.member.id, key, "points"), awarded);
    context.counts.add(cap_counter(candidate, context.member.id, key, "times"), 1);
  }
  if (candidate.rule->caps.budget > 0) context.counts.add(rule_budget_counter(candidate), awarded);
  if (candidate.campaign != nullptr && candidate.campaign->budget > 0)
    context.counts.add(campaign_budget_counter(*candidate.campaign), awarded);
}

// ---- Stages ------------------------------------------------------------------------------------

Line rule_line(const Candidate& candidate, Points points, std::string detail) {
  return Line{candidate.rule->id, std::string(candidate.campaign_id()),
              kind_name(candidate.rule->effect.kind), points, std::move(detail)};
}

// Runs the rules of one stage in evaluation order; a non-stacking rule that fires stops the
// rules after it in the same stage.
void run_stage(Context& context, const std::vector<Candidate>& candidates, Stage stage) {
  std::string blocked_by;
  for (const Candidate& candidate : candidates) {
    const Rule& rule = *candidate.rule;
    if (stage_of(rule.effect.kind) != stage) continue;
    if (!blocked_by.empty()) {
      context.out.skipped.push_back(
          rule_line(candidate, 0, "not stacked: " + blocked_by + " fired"));
      continue;
    }
    std::string facts;
    if (std::string why = why_not(context, rule, facts); !why.empty()) {
      context.out.skipped.push_back(rule_line(candidate, 0, std::move(why)));
      continue;
    }
    Raw raw = raw_points(context, candidate);
    if (raw.points <= 0) {
      context.out.skipped.push_back(rule_line(candidate, 0, std::move(raw.why_not)));
      continue;
    }
    if (!rule.stacks) blocked_by = candidate.key;
    Capped capped = apply_caps(context, candidate, raw.points);
    if (capped.points <= 0) {
      context.out.skipped.push_back(rule_line(candidate, 0, std::move(capped.cut)));
      continue;
    }
    record_award(context, candidate, capped.points);
    std::string detail = std::move(raw.detail);
    if (!facts.empty()) detail += ", when " + facts;
    if (!capped.cut.empty()) detail += "; " + capped.cut;
    context.out.fired.push_back(rule_line(candidate, capped.points, std::move(detail)));
  }
}

void tier_stage(Context& context) {
  if (context.tiers == nullptr) return;
  const Tier& tier = context.tiers->tiers[static_cast<std::size_t>(context.tier_before)];
  if (tier.earn_percent == 100) return;
  Int128 base = 0;
  for (std::size_t i = 0; i < context.base_lines; ++i) base += context.out.fired[i].points;
  const Points extra = saturate(floor_div(Int128{saturate(base)} * (tier.earn_percent - 100), 100));
  if (extra == 0) return;
  context.out.fired.push_back(Line{"tier", "", "tier", extra,
                                   tier_name(*context.tiers, context.tier_before) + " earns " +
                                       std::to_string(tier.earn_percent) + "%"});
}

// A check-in: refused when the member already checked in that local day (or later); otherwise
// the streak moves on and the check-in line joins the base stage.
std::optional<Refusal> check_in(Context& context) {
  const CheckinProgram& checkin = context.program.checkin;
  if (!checkin.enabled) return Refusal{"checkin_disabled", "check-in is not part of the program"};
  const CounterKey day_key = context.mine(kCheckinDay);
  const CounterKey streak_key = context.mine(kCheckinStreak);
  const std::int64_t day = context.at.day;
  const std::int64_t last = context.counts.get(day_key);
  if (last != 0 && day <= last) {
    const std::string when = format_date(last) + " (" + context.zone.name() + ")";
    if (day == last) return Refusal{"already_checked_in", "already checked in on " + when};
    return Refusal{"already_checked_in", "a later check-in exists, on " + when};
  }
  std::int64_t streak = last == day - 1 ? context.counts.get(streak_key) + 1 : 1;
  if (checkin.cycle_days > 0 && streak > checkin.cycle_days) streak = 1;
  context.counts.set(day_key, day);
  context.counts.set(streak_key, streak);
  context.new_streak = streak;
  const std::string when = format_date(day) + " (" + context.zone.name() + ")";
  if (checkin.points > 0) {
    context.out.fired.push_back(
        Line{"checkin", "", "checkin", checkin.points,
             "check-in on " + when + ", day " + std::to_string(streak) + " of the streak"});
  }
  for (const StreakReward& reward : checkin.streak_rewards) {
    if (reward.day != streak || reward.points <= 0) continue;
    context.streak_lines.push_back(
        Line{"streak", "", "bonus", reward.points,
             "day " + std::to_string(streak) + " of the check-in streak, on " + when});
  }
  return std::nullopt;
}

bool referral_qualifies(const ReferralProgram& referral, const Event& event) {
  return referral.enabled && event.type == "purchase" && event.currency == referral.currency &&
         event.amount_minor >= referral.min_purchase_minor;
}

void referral_stage(Context& context) {
  const ReferralProgram& referral = context.program.referral;
  if (!referral_qualifies(referral, context.event)) return;
  const Member& member = context.member;
  const CounterKey qualified = context.mine(kReferralQualified);
  if (context.counts.get(qualified) == 0) context.counts.set(qualified, 1);
  const CounterKey rewarded = context.mine(kReferralRewarded);
  if (member.referrer == 0 || context.counts.get(rewarded) != 0) return;
  context.counts.set(rewarded, 1);
  const std::string referrer = "member " + std::to_string(member.referrer);
  auto skip = [&context](std::string why) {
    context.out.skipped.push_back(Line{"referral", "", "bonus", 0, std::move(why)});
  };
  if (member.referrer == member.id) return skip("self-referral: " + referrer + " referred itself");
  if (context.counts.get({member.referrer, kReferralQualified}) == 0)
    return skip("referrer " + referrer + " has no qualifying purchase of their own");
  const CounterKey monthly{member.referrer, referral_rewards_name(context.at)};
  const std::int64_t given = context.counts.get(monthly);
  if (given >= referral.max_rewards_per_month) {
    return skip("referrer " + referrer + " had " + std::to_string(given) + " referral rewards in " +
                format_month(context.at.month) + " already");
  }
  context.counts.add(monthly, 1);
  if (referral.friend_points > 0) {
    context.referral_points = referral.friend_points;
    context.out.fired.push_back(Line{"referral", "", "bonus", referral.friend_points,
                                     "first qualifying purchase, referred by " + referrer});
  }
  if (referral.referrer_points > 0) {
    context.out.referrer_award =
        Award{member.referrer, referral.referrer_points,
              "referral: member " + std::to_string(member.id) + "'s first qualifying purchase"};
  }
}

void purchase_facts(Context& context) {
  if (context.event.type != "purchase") return;
  const FactsUsed used = facts_used(context.program);
  if (used.first_purchase) context.counts.add(context.mine(kPurchases), 1);
  if (used.lifetime_spend && !context.event.currency.empty()) {
    context.counts.add(context.mine(spent_name(context.event.currency)),
                       std::max<MinorUnits>(0, context.event.amount_minor));
  }
}

std::int64_t tier_contribution(const Context& context, Points earned) {
  const TierProgram& tiers = *context.tiers;
  if (tiers.measure == TierMeasure::points_earned) return std::max<Points>(0, earned);
  if (context.event.type != "purchase" || context.event.currency != tiers.currency) return 0;
  return std::max<MinorUnits>(0, context.event.amount_minor);
}

// Adds the event to the member's tier measure and upgrades at once when a higher threshold is
// reached.
void tier_upgrade(Context& context, Points earned) {
  if (context.tiers == nullptr) return;
  const TierProgram& tiers = *context.tiers;
  const std::int64_t contribution = tier_contribution(context, earned);
  if (contribution > 0)
    context.counts.add(context.mine(tier_bucket_name(context.at.month)), contribution);
  const MonthRange period = period_containing(tiers, context.at.month);
  const std::int64_t measure = measure_of(context.counts, context.member.id, period);
  const int reached = qualifying_level(tiers, measure);
  int level = context.tier_before;
  if (reached > level) {
    context.counts.set(context.mine(kTier), reached);
    context.counts.set(context.mine(kTierGrace), 0);
    context.counts.set(context.mine(kTierSince), context.at.month);
    const Tier& tier = tiers.tiers[static_cast<std::size_t>(reached)];
    context.out.tier_change = TierChange{
        level, reached,
        "reached " + measure_words(tiers, measure) + " " + period_words(tiers, period) + " (" +
            tier_name(tiers, reached) + " needs " + std::to_string(tier.threshold) + ")"};
    level = reached;
  }
  context.out.tier_level = level;
  context.out.validity_days = tiers.tiers[static_cast<std::size_t>(level)].validity_days;
}

Points sum_of_lines(const std::vector<Line>& lines) {
  Int128 sum = 0;
  for (const Line& line : lines) sum += line.points;
  return std::max<Points>(0, saturate(sum));
}

}  // namespace

std::vector<CounterKey> counters_needed(const Program& program, const Event& event,
                                        const Member& member) {
  // Keys only one rule names go straight into `keys`; those several may name (facts, tier,
  // referral, campaign budgets) into `shared`, which is made unique at the end.
  std::vector<CounterKey> keys;
  std::vector<CounterKey> shared;
  const Moment at = moment_at(*program.zone, event.occurred_at_us);
  PeriodKeys periods(at);
  if (event.type == "checkin") {
    if (!program.checkin.enabled) return keys;
    shared.push_back({member.id, kCheckinDay});
    shared.push_back({member.id, kCheckinStreak});
  }
  for (const Candidate& candidate : candidates(program, event, false)) {
    if (!window_holds(candidate.rule->window, at)) continue;
    for (const Condition& condition : candidate.rule->conditions)
      condition_keys(condition.field, program, event, member, shared);
    cap_keys(candidate, member.id, periods, keys, shared);
  }
  if (const TierProgram* tiers = active_tiers(program)) {
    shared.push_back({member.id, kTier});
    shared.push_back({member.id, kTierGrace});
    shared.push_back({member.id, kTierSince});
    tier_bucket_keys(member.id, period_containing(*tiers, at.month), shared);
  }
  if (referral_qualifies(program.referral, event)) {
    shared.push_back({member.id, kReferralQualified});
    if (member.referrer != 0) shared.push_back({member.id, kReferralRewarded});
    if (member.referrer != 0 && member.referrer != member.id) {
      shared.push_back({member.referrer, kReferralQualified});
      shared.push_back({member.referrer, referral_rewards_name(at)});
    }
  }
  if (event.type == "purchase") {
    const FactsUsed used = facts_used(program);
    if (used.first_purchase) shared.push_back({member.id, kPurchases});
    if (used.lifetime_spend && !event.currency.empty())
      shared.push_back({member.id, spent_name(event.currency)});
  }
  std::sort(shared.begin(), shared.end());
  shared.erase(std::unique(shared.begin(), shared.end()), shared.end());
  keys.insert(keys.end(), std::make_move_iterator(shared.begin()),
              std::make_move_iterator(shared.end()));
  return keys;
}

Evaluation evaluate(const Program& program, const Event& event, const Member& member,
                    const Counters& counters) {
  Context context(program, event, member, counters);
  if (event.type == "checkin") {
    if (std::optional<Refusal> refusal = check_in(context)) {
      Evaluation refused;
      refused.refusal = std::move(refusal);
      return refused;
    }
  }
  if (context.tiers != nullptr)
    context.tier_before = current_level(context.counts, *context.tiers, member.id);
  const std::vector<Candidate> rules = candidates(program, event, true);
  context.out.fired.reserve(rules.size() + 4);
  context.out.skipped.reserve(rules.size());
  run_stage(context, rules, Stage::base);
  context.base_lines = context.out.fired.size();
  tier_stage(context);
  run_stage(context, rules, Stage::multiplier);
  run_stage(context, rules, Stage::bonus);
  for (Line& line : context.streak_lines) context.out.fired.push_back(std::move(line));
  referral_stage(context);
  purchase_facts(context);
  context.out.points = sum_of_lines(context.out.fired);
  tier_upgrade(context, context.out.points - context.referral_points);
  return std::move(context.out);
}

std::vector<CounterKey> tier_counters_needed(const Program& program, MemberId member,
                                             TimeUs at_us) {
  std::vector<CounterKey> keys;
  const TierProgram* tiers = active_tiers(program);
  if (tiers == nullptr) return keys;
  keys.push_back({member, kTier});
  keys.push_back({member, kTierGrace});
  keys.push_back({member, kTierSince});
  keys.push_back({member, kTierReviewed});
  const Moment at = moment_at(*program.zone, at_us);
  tier_bucket_keys(member, period_before(*tiers, at.month), keys);
  std::sort(keys.begin(), keys.end());
  return keys;
}

Evaluation review_tier(const Program& program, MemberId member, const Counters& counters,
                       TimeUs at_us) {
  Evaluation out;
  const TierProgram* tiers = active_tiers(program);
  if (tiers == nullptr) return out;
  Counts counts{counters, out.updates};
  const Moment at = moment_at(*program.zone, at_us);
  const MonthRange period = period_before(*tiers, at.month);
  const int level = current_level(counts, *tiers, member);
  out.tier_level = level;
  out.validity_days = tiers->tiers[static_cast<std::size_t>(level)].validity_days;
  const CounterKey reviewed{member, kTierReviewed};
  if (counts.get(reviewed) >= period.first) return out;
  counts.set(reviewed, period.first);
  if (level == 0 || counts.get({member, kTierSince}) > period.last) return out;
  const std::int64_t measure = measure_of(counts, member, period);
  const Tier& tier = tiers->tiers[static_cast<std::size_t>(level)];
  const std::string facts = measure_words(*tiers, measure) + " " + period_words(*tiers, period);
  const CounterKey grace{member, kTierGrace};
  if (measure >= tier.threshold) {
    counts.set(grace, 0);
    out.fired.push_back(Line{"tier", "", "tier", 0,
                             facts + ", " + tier_name(*tiers, level) + " needs " +
                                 std::to_string(tier.threshold) + ": kept"});
    return out;
  }
  const std::string below =
      facts + ", below " + tier_name(*tiers, level) + "'s " + std::to_string(tier.threshold);
  int to = qualifying_level(*tiers, measure);
  std::string how = "recalculated to ";
  if (tiers->downgrade == DowngradePolicy::drop_one) {
    to = std::max(level - 1, to);
    how = "down one to ";
  } else if (tiers->downgrade == DowngradePolicy::grace) {
    const std::int64_t used = counts.get(grace);
    if (used < tiers->grace_periods) {
      counts.set(grace, used + 1);
      out.fired.push_back(Line{"tier", "", "tier", 0,
                               below + ": grace period " + std::to_string(used + 1) + " of " +
                                   std::to_string(tiers->grace_periods)});
      return out;
    }
    how = "grace periods used, recalculated to ";
  }
  if (to >= level) return out;  // thresholds out of order: nothing lower qualifies less
  counts.set({member, kTier}, to);
  counts.set(grace, 0);
  counts.set({member, kTierSince}, at.month);
  out.tier_change = TierChange{level, to, below + ": " + how + tier_name(*tiers, to)};
  out.tier_level = to;
  out.validity_days = tiers->tiers[static_cast<std::size_t>(to)].validity_days;
  return out;
}

Evaluation set_tier(const Program& program, MemberId member, int level, const std::string& reason,
                    const Counters& counters, TimeUs at_us) {
  Evaluation out;
  const TierProgram* tiers = active_tiers(program);
  const int count = tiers != nullptr ? tier_count(*tiers) : 0;
  if (level < 0 || level >= count) {
    out.refusal =
        Refusal{"unknown_tier", "level " + std::to_string(level) + " is not one of the program's " +
                                    std::to_string(count) + " tiers"};
    return out;
  }
  Counts counts{counters, out.updates};
  const int from = current_level(counts, *tiers, member);
  if (from == level) {
    out.refusal =
        Refusal{"tier_unchanged", "the member is in " + tier_name(*tiers, level) + " already"};
    return out;
  }
  counts.set({member, kTier}, level);
  counts.set({member, kTierGrace}, 0);
  counts.set({member, kTierSince}, moment_at(*program.zone, at_us).month);
  out.tier_change = TierChange{from, level, reason};
  out.tier_level = level;
  out.validity_days = tiers->tiers[static_cast<std::size_t>(level)].validity_days;
  return out;
}

}  // namespace pointsmall::rules
