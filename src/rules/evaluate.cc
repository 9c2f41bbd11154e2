// Evaluating an event against the earning program. rules/README.md states the order of the
// stages, every counter's name and every condition field; this file implements exactly that.
// Pure: the results depend only on the arguments (no I/O, no clock, no mutable globals).
//
// Every earn runs this with hundreds of rules in force, so deciding and explaining are apart:
// whether a rule fires is decided with plain comparisons (`decide`, `rule_holds`, `raw_points`,
// `apply_caps`), and words are made only for lines a caller sees: the rules that fire (their
// detail is stored with the transaction) and, with EvaluateOptions::explain_skipped, the rules
// that do not. The words functions (`append_*`, `why_not`, `effect_why_not`) put into words what
// those functions decided, and never decide anything on their own.
#include "rules/evaluate.h"

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cstring>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/time_zone.h"

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

void append_number(std::string& out, std::int64_t value) {
  std::array<char, 24> digits{};
  const auto end = std::to_chars(digits.data(), digits.data() + digits.size(), value).ptr;
  out.append(digits.data(), end);
}

// Appends the values with `separator` between them, leaving it out while nothing has been
// appended (so leading empty values leave no trace, as they always have).
void append_joined(std::string& out, const std::vector<std::string>& values,
                   std::string_view separator = ", ") {
  const std::size_t start = out.size();
  for (const std::string& value : values) {
    if (out.size() > start) out += separator;
    out += value;
  }
}

void append_joined(std::string& out, const std::vector<std::int64_t>& values) {
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ", ";
    append_number(out, values[i]);
  }
}

// Equality of short texts (ids, categories, field names) without a call to memcmp, which costs
// more than the comparison itself at these lengths.
bool same(std::string_view a, std::string_view b) {
  const std::size_t size = a.size();
  if (size != b.size()) return false;
  if (size < 8) {
    for (std::size_t i = 0; i < size; ++i) {
      if (a[i] != b[i]) return false;
    }
    return true;
  }
  if (size > 16) return std::memcmp(a.data(), b.data(), size) == 0;
  // 8 to 16 bytes: the first 8 and the last 8 (which may overlap).
  auto word = [](const char* bytes) {
    std::uint64_t value = 0;
    std::memcpy(&value, bytes, sizeof value);
    return value;
  };
  return word(a.data()) == word(b.data()) && word(a.data() + size - 8) == word(b.data() + size - 8);
}

// Three-way comparison of texts, as std::string::compare orders them.
int compare(std::string_view a, std::string_view b) {
  const std::size_t common = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < common; ++i) {
    if (a[i] != b[i])
      return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[i]) ? -1 : 1;
  }
  if (a.size() == b.size()) return 0;
  return a.size() < b.size() ? -1 : 1;
}

bool contains(const std::vector<std::string>& values, std::string_view value) {
  return std::any_of(values.begin(), values.end(),
                     [value](const std::string& listed) { return same(listed, value); });
}
bool contains_view(const std::vector<std::string_view>& values, std::string_view value) {
  return std::any_of(values.begin(), values.end(),
                     [value](std::string_view listed) { return same(listed, value); });
}

// ---- Civil calendar ----------------------------------------------------------------------------

// Appends `value` in decimal with at least `width` digits (counter names are built per
// evaluation, so this avoids printf).
void append_padded(std::string& out, std::int64_t value, int width) {
  if (value < 0) out += '-';
  std::uint64_t magnitude = value < 0 ? 0 - static_cast<std::uint64_t>(value) : value;
  std::array<char, 20> digits{};
  int count = 0;
  do {
    digits[static_cast<std::size_t>(count++)] = static_cast<char>('0' + magnitude % 10);
    magnitude /= 10;
  } while (magnitude > 0);
  for (int i = count; i < width; ++i) out += '0';
  while (count > 0) out += digits[static_cast<std::size_t>(--count)];
}

// "2026-11-22" for a day number.
std::string format_date(std::int64_t day_number) {
  const CivilTime date = civil_from_days(day_number);
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

void append_minute(std::string& out, int minute_of_day) {
  append_padded(out, minute_of_day / 60, 2);
  out += ':';
  append_padded(out, minute_of_day % 60, 2);
}

std::string format_minute(int minute_of_day) {
  std::string out;
  append_minute(out, minute_of_day);
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
    out += kWeekdayNames[static_cast<std::size_t>(first)];
    if (last > first) out.append("-").append(kWeekdayNames[static_cast<std::size_t>(last)]);
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

// Index of a member cap's period (values outside the enum count as lifetime, as their key does).
std::size_t period_index(Period period) {
  return std::min<std::size_t>(static_cast<std::size_t>(period), 3);
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
    const std::size_t index = period_index(period);
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
  // set() for a counter whose value get() just gave as `current`.
  void put(const CounterKey& key, std::int64_t current, std::int64_t value) {
    if (value == current) return;
    auto [it, inserted] = updates.try_emplace(key, value);
    if (!inserted) it->second = value;
  }
  void add(const CounterKey& key, std::int64_t delta) {
    const std::int64_t current = get(key);
    put(key, current, saturate(Int128{current} + delta));
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

// The sum of the member's month counters over `range`. Their names sort by month, so both maps
// are walked from one search each rather than searched for every month.
std::int64_t measure_of(const Counts& counts, MemberId member, MonthRange range) {
  CounterKey key{member, tier_bucket_name(range.first)};
  auto read = counts.read.lower_bound(key);
  auto updated = counts.updates.lower_bound(key);
  Int128 sum = 0;
  for (std::int64_t month = range.first; month <= range.last; ++month) {
    if (month > range.first) key.name = tier_bucket_name(month);
    while (read != counts.read.end() && read->first < key) ++read;
    while (updated != counts.updates.end() && updated->first < key) ++updated;
    if (updated != counts.updates.end() && updated->first == key) {
      sum += updated->second;
    } else if (read != counts.read.end() && read->first == key) {
      sum += read->second;
    }
  }
  return saturate(sum);
}

// ---- Candidate rules ---------------------------------------------------------------------------

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

// An enabled rule of the event's type, standing or of a running campaign.
struct Candidate {
  const Rule* rule = nullptr;
  const Campaign* campaign = nullptr;  // null for a standing rule
  // Evaluation order, packed: stage, priority descending, then campaign (standing first), then
  // the first 8 bytes of the rule id; ties go to the whole id, then to program order (`index`).
  std::uint64_t rank = 0;
  std::uint64_t id_prefix = 0;
  std::uint32_t index = 0;
  Stage stage = Stage::base;
  bool examined = false;  // `holds`, `passes`, `certain` and `raw` are set
  bool holds = false;     // window, conditions and item filter hold whatever the counters say
  bool passes = false;    // ... hold, or may (in counters_needed)
  bool certain = false;   // gives points before caps whatever the counters say
  Points raw = 0;         // points before caps; a multiplier's is set when its stage runs

  [[nodiscard]] std::string_view campaign_id() const {
    return campaign != nullptr ? std::string_view(campaign->id) : std::string_view();
  }
};

using Candidates = std::vector<Candidate>;

// The rule's name in counters and in "not stacked" reasons: its id, or "<campaign id>/<id>".
void append_key(std::string& out, const Candidate& candidate) {
  if (candidate.campaign != nullptr) out.append(candidate.campaign->id).append(1, '/');
  out += candidate.rule->id;
}

// Stage by stage; within a stage by priority descending, then campaign id (standing rules
// first), then rule id, then program order.
bool run_before(const Candidate& a, const Candidate& b) {
  if (a.rank != b.rank) return a.rank < b.rank;
  if (a.id_prefix != b.id_prefix) return a.id_prefix < b.id_prefix;
  if (const int order = compare(a.rule->id, b.rule->id); order != 0) return order < 0;
  return a.index < b.index;
}

// The first 8 bytes of a text as a number that orders as the texts do (when they differ).
std::uint64_t prefix_of(std::string_view text) {
  if (text.size() >= 8 && std::endian::native == std::endian::little) {
    std::uint64_t value = 0;
    std::memcpy(&value, text.data(), sizeof value);
    return __builtin_bswap64(value);
  }
  std::uint64_t prefix = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    prefix <<= 8U;
    if (i < text.size()) prefix |= static_cast<unsigned char>(text[i]);
  }
  return prefix;
}

bool campaign_running(const Campaign& campaign, TimeUs at_us) {
  return campaign.enabled && at_us >= campaign.from_us && at_us < campaign.until_us;
}

// Ranks the running campaigns by id: rank 1 + the number of running campaigns with a smaller id,
// so that comparing ranks compares ids (equal ids rank equal).
std::vector<std::uint32_t> campaign_ranks(const Program& program, TimeUs at_us) {
  std::vector<std::string_view> ids;
  ids.reserve(program.campaigns.size());
  for (const Campaign& campaign : program.campaigns) {
    if (campaign_running(campaign, at_us)) ids.emplace_back(campaign.id);
  }
  std::sort(ids.begin(), ids.end());
  std::vector<std::uint32_t> ranks(program.campaigns.size(), 0);
  for (std::size_t i = 0; i < program.campaigns.size(); ++i) {
    const auto lower = std::lower_bound(ids.begin(), ids.end(), program.campaigns[i].id);
    // An id "" (which documents refuse) sorts with the standing rules, as it compares equal.
    ranks[i] =
        program.campaigns[i].id.empty() ? 0 : static_cast<std::uint32_t>(lower - ids.begin()) + 1;
  }
  return ranks;
}

// Fills a candidate in place (building one aside and copying it in costs a store-forwarding
// stall per rule with GCC).
void fill_candidate(Candidate& candidate, const Rule& rule, const Campaign* campaign,
                    std::uint32_t campaign_rank, std::uint32_t index) {
  candidate.rule = &rule;
  candidate.campaign = campaign;
  candidate.stage = stage_of(rule.effect.kind);
  // Priority descending: flipping the sign bit orders ints as unsigned, the complement reverses.
  const std::uint32_t priority = ~(static_cast<std::uint32_t>(rule.priority) ^ 0x80000000U);
  candidate.rank = std::uint64_t{static_cast<std::uint8_t>(candidate.stage)} << 62U |
                   std::uint64_t{priority} << 30U |
                   std::min<std::uint32_t>(campaign_rank, 0x3FFFFFFFU);
  candidate.id_prefix = prefix_of(rule.id);
  candidate.index = index;
}

// The enabled rules of the event's type, standing or of a running campaign, in program order.
Candidates candidates(const Program& program, const Event& event) {
  std::size_t bound = program.rules.size();
  for (const Campaign& campaign : program.campaigns) bound += campaign.rules.size();
  Candidates out;
  out.reserve(bound);
  auto consider = [&](const Rule& rule, const Campaign* campaign, std::uint32_t rank) {
    if (!rule.enabled || !same(rule.event_type, event.type)) return;
    const auto index = static_cast<std::uint32_t>(out.size());
    fill_candidate(out.emplace_back(), rule, campaign, rank, index);
  };
  for (const Rule& rule : program.rules) consider(rule, nullptr, 0);
  if (program.campaigns.empty()) return out;
  const std::vector<std::uint32_t> ranks = campaign_ranks(program, event.occurred_at_us);
  for (std::size_t i = 0; i < program.campaigns.size(); ++i) {
    const Campaign& campaign = program.campaigns[i];
    if (!campaign_running(campaign, event.occurred_at_us)) continue;
    for (const Rule& rule : campaign.rules) consider(rule, &campaign, ranks[i]);
  }
  return out;
}

// ---- Windows -----------------------------------------------------------------------------------

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
void append_filter_words(std::string& out, const ItemFilter& filter) {
  const std::size_t start = out.size();
  auto part = [&out, start](const char* words, const std::vector<std::string>& values) {
    if (values.empty()) return;
    if (out.size() > start) out += ' ';
    out += words;
    append_joined(out, values);
  };
  part("with sku ", filter.skus);
  part("in category ", filter.categories);
  part("of brand ", filter.brands);
  if (out.size() == start) out += "of any kind";
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

bool items_match(const ItemFilter& filter, std::int64_t matched_quantity) {
  return matched_quantity > 0 && matched_quantity >= filter.min_quantity;
}

// ---- The evaluation's state --------------------------------------------------------------------

struct Context {
  // `counters_known` false: counters_needed deciding before any counter is read; the facts kept
  // in counters are then unknown.
  Context(const Program& program_in, const Event& event_in, const Member& member_in,
          const Counters& counters, bool counters_known_in, bool explain_in)
      : program(program_in),
        event(event_in),
        member(member_in),
        zone(*program_in.zone),
        at(moment_at(*program_in.zone, event_in.occurred_at_us)),
        periods(at),
        counts{counters, out.updates},
        tiers(active_tiers(program_in)),
        counters_known(counters_known_in),
        explain(explain_in) {}
  Context(const Context&) = delete;  // `counts` refers to `out`, `periods` to `at`
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
  bool counters_known;
  unsigned facts_wanted = 0;       // without counters: kFact* bits of the facts conditions asked
  bool explain;                    // EvaluateOptions::explain_skipped
  int tier_before = 0;             // the member's level before this event
  std::int64_t new_streak = -1;    // a check-in's streak; -1 for other events
  std::size_t base_lines = 0;      // fired[0, base_lines) are the base stage's lines
  std::vector<Line> streak_lines;  // given in the bonus stage
  Points referral_points = 0;
  CounterKey scratch;  // reused to look counters up without allocating
  std::int64_t total_quantity = matching_items(nullptr, event.items).quantity;

  // Facts read from counters, each read once: no stage writes them (check-ins are counted
  // before the rules run, purchases, spend and tiers after).
  std::optional<std::int64_t> lifetime_spend;
  std::optional<std::int64_t> streak;
  std::optional<bool> first_purchase;
};

// Facts kept in counters (bits of Context::facts_wanted).
constexpr unsigned kFactLifetimeSpend = 1U << 0;
constexpr unsigned kFactStreak = 1U << 1;
constexpr unsigned kFactFirstPurchase = 1U << 2;
constexpr unsigned kFactTier = 1U << 3;

// Whether a fact kept in counters can be known; when the counters are not known, notes that
// evaluate will read the fact's counters.
bool knows(Context& context, unsigned fact) {
  if (!context.counters_known) context.facts_wanted |= fact;
  return context.counters_known;
}

// The check-in streak: a check-in's new streak; for other events the streak if the last
// check-in was on the event's local day or the day before, else 0.
std::int64_t checkin_streak(const Context& context) {
  if (context.new_streak >= 0) return context.new_streak;
  const std::int64_t last = context.counts.get(context.mine(kCheckinDay));
  if (last == 0 || (last != context.at.day && last != context.at.day - 1)) return 0;
  return context.counts.get(context.mine(kCheckinStreak));
}

// ---- Conditions --------------------------------------------------------------------------------

enum class Field : std::uint8_t {
  amount,
  discount,
  points_discount,
  items_quantity,
  days_since_joining,
  lifetime_spend,
  checkin_streak,
  currency,
  channel,
  store,
  task,
  member_tier,
  member_segment,
  items_sku,
  items_category,
  items_brand,
  member_tags,
  first_purchase,
  birthday_month,
  unknown,
};

enum class FieldType : std::uint8_t { number, text, text_list, boolean, unknown };

struct FieldInfo {
  std::string_view name;
  Field field = Field::unknown;
  FieldType type = FieldType::unknown;
  const char* if_true = "";   // booleans: the fact in words; text lists: "some value listed"
  const char* if_false = "";  // ... and its opposite
};

constexpr std::array<FieldInfo, 19> kFields = {{
    {"amount", Field::amount, FieldType::number},
    {"discount", Field::discount, FieldType::number},
    {"points_discount", Field::points_discount, FieldType::number},
    {"items.quantity", Field::items_quantity, FieldType::number},
    {"member.days_since_joining", Field::days_since_joining, FieldType::number},
    {"member.lifetime_spend", Field::lifetime_spend, FieldType::number},
    {"checkin.streak", Field::checkin_streak, FieldType::number},
    {"currency", Field::currency, FieldType::text},
    {"channel", Field::channel, FieldType::text},
    {"store", Field::store, FieldType::text},
    {"task", Field::task, FieldType::text},
    {"member.tier", Field::member_tier, FieldType::text},
    {"member.segment", Field::member_segment, FieldType::text},
    {"items.sku", Field::items_sku, FieldType::text_list, "an item with sku", "no item with sku"},
    {"items.category", Field::items_category, FieldType::text_list, "an item in category",
     "no item in category"},
    {"items.brand", Field::items_brand, FieldType::text_list, "an item of brand",
     "no item of brand"},
    {"member.tags", Field::member_tags, FieldType::text_list, "member tagged", "member not tagged"},
    {"member.first_purchase", Field::first_purchase, FieldType::boolean,
     "the member's first purchase", "not the member's first purchase"},
    {"member.birthday_month", Field::birthday_month, FieldType::boolean,
     "in the member's birthday month", "not in the member's birthday month"},
}};

constexpr FieldInfo kUnknownField{};

constexpr bool fields_in_enum_order() {
  for (std::size_t i = 0; i < kFields.size(); ++i) {
    if (kFields[i].field != static_cast<Field>(i)) return false;
  }
  return true;
}
static_assert(fields_in_enum_order(), "field_info indexes kFields by Field");

// The field's entry in kFields: chosen by length and a letter, then checked whole (this runs for
// every condition of every rule, twice an earn).
const FieldInfo& field_info(std::string_view name) {
  auto at = [](Field field) -> const FieldInfo& {
    return kFields[static_cast<std::size_t>(field)];
  };
  auto letter = [&name](std::size_t i) { return i < name.size() ? name[i] : '\0'; };
  Field field = Field::unknown;
  switch (name.size()) {
    case 4:
      field = Field::task;
      break;
    case 5:
      field = Field::store;
      break;
    case 6:
      field = Field::amount;
      break;
    case 7:
      field = Field::channel;
      break;
    case 8:
      field = letter(0) == 'd' ? Field::discount : Field::currency;
      break;
    case 9:
      field = Field::items_sku;
      break;
    case 11:
      field = letter(0) == 'i'   ? Field::items_brand
              : letter(8) == 'i' ? Field::member_tier
                                 : Field::member_tags;
      break;
    case 14:
      field = letter(0) == 'c'   ? Field::checkin_streak
              : letter(0) == 'm' ? Field::member_segment
              : letter(6) == 'q' ? Field::items_quantity
                                 : Field::items_category;
      break;
    case 15:
      field = Field::points_discount;
      break;
    case 21:
      field = letter(7) == 'l'   ? Field::lifetime_spend
              : letter(7) == 'f' ? Field::first_purchase
                                 : Field::birthday_month;
      break;
    case 25:
      field = Field::days_since_joining;
      break;
    default:
      return kUnknownField;
  }
  return same(at(field).name, name) ? at(field) : kUnknownField;
}

// Whether the condition carries the value its field's type compares with; one that does not never
// holds.
bool has_value(const Condition& condition, FieldType type) {
  switch (type) {
    case FieldType::number:
      return condition.numbers.size() >= (condition.op == Operator::between ? 2U : 1U);
    case FieldType::boolean:
      return !condition.numbers.empty();
    case FieldType::text:
    case FieldType::text_list:
      return !condition.texts.empty();
    case FieldType::unknown:
      break;
  }
  return false;
}

// The facts a condition compares. std::nullopt: kept in a counter, and counters are not known.
std::optional<std::int64_t> number_fact(Context& context, Field field) {
  const Event& event = context.event;
  switch (field) {
    case Field::amount:
      return event.amount_minor;
    case Field::discount:
      return event.discount_minor;
    case Field::points_discount:
      return event.points_discount_minor;
    case Field::items_quantity:
      return context.total_quantity;
    case Field::days_since_joining: {
      const TimeUs since = event.occurred_at_us - context.member.joined_at_us;
      return std::max<std::int64_t>(0, saturate(floor_div(since, kMicrosPerDay)));
    }
    case Field::lifetime_spend:
      if (event.currency.empty()) return 0;
      if (!knows(context, kFactLifetimeSpend)) return std::nullopt;
      if (!context.lifetime_spend)
        context.lifetime_spend = context.counts.get(context.mine(spent_name(event.currency)));
      return context.lifetime_spend;
    case Field::checkin_streak:
      if (context.new_streak >= 0) return context.new_streak;
      if (!knows(context, kFactStreak)) return std::nullopt;
      if (!context.streak) context.streak = checkin_streak(context);
      return context.streak;
    default:
      return 0;
  }
}

std::optional<std::string_view> text_fact(Context& context, Field field) {
  switch (field) {
    case Field::currency:
      return context.event.currency;
    case Field::channel:
      return context.event.channel;
    case Field::store:
      return context.event.store;
    case Field::task:
      return context.event.task;
    case Field::member_tier:
      if (context.tiers == nullptr) return std::string_view();
      if (!knows(context, kFactTier)) return std::nullopt;
      return context.tiers->tiers[static_cast<std::size_t>(context.tier_before)].id;
    case Field::member_segment:
      return context.member.segment;
    default:
      return std::string_view();
  }
}

std::optional<bool> boolean_fact(Context& context, Field field) {
  if (field == Field::birthday_month)
    return context.member.birthday_month == context.at.local.month;
  if (!knows(context, kFactFirstPurchase)) return std::nullopt;
  if (!context.first_purchase)
    context.first_purchase = context.counts.get(context.mine(kPurchases)) == 0;
  return context.first_purchase;
}

// Whether some value of a text-list field is one of `texts`.
bool some_listed(const Context& context, Field field, const std::vector<std::string>& texts) {
  if (field == Field::member_tags) {
    return std::any_of(context.member.tags.begin(), context.member.tags.end(),
                       [&texts](const std::string& tag) { return contains(texts, tag); });
  }
  std::string Item::*attribute = field == Field::items_sku        ? &Item::sku
                                 : field == Field::items_category ? &Item::category
                                                                  : &Item::brand;
  return std::any_of(context.event.items.begin(), context.event.items.end(),
                     [&](const Item& item) { return contains(texts, item.*attribute); });
}

bool number_holds(const Condition& condition, std::int64_t value) {
  const std::vector<std::int64_t>& n = condition.numbers;
  switch (condition.op) {
    case Operator::eq:
      return value == n[0];
    case Operator::ne:
      return value != n[0];
    case Operator::lt:
      return value < n[0];
    case Operator::lte:
      return value <= n[0];
    case Operator::gt:
      return value > n[0];
    case Operator::gte:
      return value >= n[0];
    case Operator::between:
      return n[0] <= value && value <= n[1];
    case Operator::in:
    case Operator::any_of:
      return std::find(n.begin(), n.end(), value) != n.end();
    case Operator::not_in:
      return std::find(n.begin(), n.end(), value) == n.end();
  }
  return false;
}

bool text_holds(const Condition& condition, std::string_view value) {
  switch (condition.op) {
    case Operator::eq:
      return value == condition.texts[0];
    case Operator::ne:
      return value != condition.texts[0];
    case Operator::in:
    case Operator::any_of:
      return contains(condition.texts, value);
    case Operator::not_in:
      return !contains(condition.texts, value);
    default:
      return false;
  }
}

bool list_holds(Operator op, bool listed) {
  if (op == Operator::in || op == Operator::any_of) return listed;
  return op == Operator::not_in && !listed;
}

bool boolean_holds(const Condition& condition, bool fact) {
  const bool wanted = condition.numbers[0] != 0;
  if (condition.op == Operator::eq) return fact == wanted;
  return condition.op == Operator::ne && fact != wanted;
}

enum class Verdict : std::uint8_t { fails, holds, unknown };

Verdict verdict_of(bool holds) {
  return holds ? Verdict::holds : Verdict::fails;
}

// Whether the condition holds; unknown only when it tests a fact kept in a counter and the
// counters are not known.
Verdict decide(Context& context, const Condition& condition) {
  const FieldInfo& info = field_info(condition.field);
  if (!has_value(condition, info.type)) return Verdict::fails;
  switch (info.type) {
    case FieldType::number: {
      const std::optional<std::int64_t> value = number_fact(context, info.field);
      return value ? verdict_of(number_holds(condition, *value)) : Verdict::unknown;
    }
    case FieldType::text: {
      const std::optional<std::string_view> value = text_fact(context, info.field);
      return value ? verdict_of(text_holds(condition, *value)) : Verdict::unknown;
    }
    case FieldType::text_list:
      return verdict_of(
          list_holds(condition.op, some_listed(context, info.field, condition.texts)));
    case FieldType::boolean: {
      const std::optional<bool> fact = boolean_fact(context, info.field);
      return fact ? verdict_of(boolean_holds(condition, *fact)) : Verdict::unknown;
    }
    case FieldType::unknown:
      break;
  }
  return Verdict::fails;
}

// Whether the rule's window, conditions (all of them, in order) and item filter hold.
Verdict rule_holds(Context& context, const Rule& rule) {
  if (!window_holds(rule.window, context.at)) return Verdict::fails;
  Verdict verdict = Verdict::holds;
  for (const Condition& condition : rule.conditions) {
    const Verdict condition_verdict = decide(context, condition);
    if (condition_verdict == Verdict::fails) return Verdict::fails;
    if (condition_verdict == Verdict::unknown) verdict = Verdict::unknown;
  }
  if (rule.items &&
      !items_match(*rule.items, matching_items(&*rule.items, context.event.items).quantity))
    return Verdict::fails;
  return verdict;
}

// ---- Conditions in words -----------------------------------------------------------------------

const char* operator_name(Operator op) {
  constexpr std::array<const char*, 10> names = {"eq",  "ne",      "lt", "lte",    "gt",
                                                 "gte", "between", "in", "not_in", "any_of"};
  const auto index = static_cast<std::size_t>(op);
  return index < names.size() ? names[index] : "unknown";
}

// " is " / " is not " and so on: the verb of a comparison as it held or failed, with the spaces
// around it; empty when the operator does not apply to numbers and texts.
std::string_view comparison_verb(Operator op, bool holds) {
  using namespace std::string_view_literals;
  switch (op) {
    case Operator::eq:
      return holds ? " is "sv : " is not "sv;
    case Operator::ne:
      return holds ? " is not "sv : " is "sv;
    case Operator::lt:
      return holds ? " is below "sv : " is not below "sv;
    case Operator::lte:
      return holds ? " is at most "sv : " is above "sv;
    case Operator::gt:
      return holds ? " is above "sv : " is not above "sv;
    case Operator::gte:
      return holds ? " is at least "sv : " is below "sv;
    case Operator::between:
      return holds ? " is between "sv : " is not between "sv;
    case Operator::in:
    case Operator::any_of:
      return holds ? " is one of "sv : " is not one of "sv;
    case Operator::not_in:
      return holds ? " is not one of "sv : " is one of "sv;
  }
  return {};
}

bool applies_to(FieldType type, Operator op) {
  switch (type) {
    case FieldType::number:
      return !comparison_verb(op, true).empty();
    case FieldType::text:
      return op == Operator::eq || op == Operator::ne || op == Operator::in ||
             op == Operator::any_of || op == Operator::not_in;
    case FieldType::text_list:
      return op == Operator::in || op == Operator::any_of || op == Operator::not_in;
    case FieldType::boolean:
      return op == Operator::eq || op == Operator::ne;
    case FieldType::unknown:
      break;
  }
  return false;
}

void append_number_words(std::string& out, const Condition& condition, std::int64_t value,
                         bool holds) {
  const std::vector<std::int64_t>& n = condition.numbers;
  out.append(condition.field).append(1, ' ');
  append_number(out, value);
  out += comparison_verb(condition.op, holds);
  if (condition.op == Operator::in || condition.op == Operator::any_of ||
      condition.op == Operator::not_in) {
    append_joined(out, n);
    return;
  }
  append_number(out, n[0]);
  if (condition.op == Operator::between) {
    out += " and ";
    append_number(out, n[1]);
  }
}

void append_text_words(std::string& out, const Condition& condition, std::string_view value,
                       bool holds) {
  out.append(condition.field).append(1, ' ');
  out.append(value.empty() ? std::string_view("(none)") : value);
  out += comparison_verb(condition.op, holds);
  if (condition.op == Operator::eq || condition.op == Operator::ne) {
    out += condition.texts[0];
  } else {
    append_joined(out, condition.texts);
  }
}

// Appends the condition as it held or failed (`holds`, as decide() said), e.g. "amount 6000 is
// at least 5000", "member not tagged vip", "operator lt does not apply to channel". Called only
// in evaluate, where every fact is known.
void append_condition_words(std::string& out, Context& context, const Condition& condition,
                            bool holds) {
  const FieldInfo& info = field_info(condition.field);
  if (info.type == FieldType::unknown) {
    out.append("unknown field ").append(condition.field);
    return;
  }
  if (!has_value(condition, info.type)) {
    out.append("the condition on ").append(condition.field).append(" has no value");
    return;
  }
  if (!applies_to(info.type, condition.op)) {
    out.append("operator ").append(operator_name(condition.op)).append(" does not apply to ");
    out += condition.field;
    return;
  }
  switch (info.type) {
    case FieldType::number:
      return append_number_words(out, condition, number_fact(context, info.field).value_or(0),
                                 holds);
    case FieldType::text:
      return append_text_words(out, condition, text_fact(context, info.field).value_or(""), holds);
    case FieldType::text_list: {
      const bool listed = some_listed(context, info.field, condition.texts);
      out.append(listed ? info.if_true : info.if_false).append(1, ' ');
      return append_joined(out, condition.texts);
    }
    case FieldType::boolean:
      out += boolean_fact(context, info.field).value_or(false) ? info.if_true : info.if_false;
      return;
    case FieldType::unknown:
      break;
  }
}

// The first reason a rule that rule_holds() refused does not fire, in words.
std::string why_not(Context& context, const Rule& rule) {
  if (!window_holds(rule.window, context.at))
    return window_failure(rule.window, context.at, context.zone);
  std::string out;
  for (const Condition& condition : rule.conditions) {
    if (decide(context, condition) == Verdict::holds) continue;
    append_condition_words(out, context, condition, false);
    return out;
  }
  if (!rule.items) return out;
  const std::int64_t matched = matching_items(&*rule.items, context.event.items).quantity;
  if (matched == 0) {
    out += "no item ";
    append_filter_words(out, *rule.items);
  } else if (matched < rule.items->min_quantity) {
    append_number(out, matched);
    out += " items ";
    append_filter_words(out, *rule.items);
    out += ", the rule needs ";
    append_number(out, rule.items->min_quantity);
  }
  return out;
}

// Appends ", when <what held>" for a rule that fires: its time of week (when its window names
// one), its conditions and its item filter.
void append_facts(std::string& out, Context& context, const Rule& rule) {
  const char* separator = ", when ";
  auto next = [&out, &separator] {
    out += separator;
    separator = ", ";
  };
  if (window_restricts_time_of_week(rule.window)) {
    next();
    out.append(kWeekdayNames[static_cast<std::size_t>(context.at.weekday)]).append(1, ' ');
    append_minute(out, context.at.minute);
    out.append(" in ").append(context.zone.name());
  }
  for (const Condition& condition : rule.conditions) {
    next();
    append_condition_words(out, context, condition, true);
  }
  if (rule.items) {
    next();
    append_number(out, matching_items(&*rule.items, context.event.items).quantity);
    out += " items ";
    append_filter_words(out, *rule.items);
  }
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
        used.first_purchase = used.first_purchase || same(condition.field, "member.first_purchase");
        used.lifetime_spend = used.lifetime_spend || same(condition.field, "member.lifetime_spend");
      }
    }
  };
  scan(program.rules);
  for (const Campaign& campaign : program.campaigns) scan(campaign.rules);
  return used;
}

// ---- Effects -----------------------------------------------------------------------------------

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

// The money a per-unit rule counts, minor units: the earn base, or with matching_items_only the
// matching items' share of it.
std::int64_t per_unit_base(const Event& event, const Rule& rule) {
  const Effect& effect = rule.effect;
  Int128 base = event.amount_minor;
  if (effect.base != EarnBase::paid) base += event.points_discount_minor;
  if (effect.base == EarnBase::before_discounts) base += event.discount_minor;
  const std::int64_t base_minor = std::max<std::int64_t>(0, saturate(base));
  if (!effect.matching_items_only || !rule.items) return base_minor;
  const std::int64_t matched = matching_items(&*rule.items, event.items).value;
  const std::int64_t total = matching_items(nullptr, event.items).value;
  return total > 0 ? saturate(Int128{base_minor} * matched / total) : 0;
}

bool counts_currency(const Event& event, const Effect& effect) {
  return event.currency == effect.currency && effect.per_minor > 0;
}

Points per_unit_points(const Event& event, const Rule& rule) {
  const Effect& effect = rule.effect;
  if (!counts_currency(event, effect)) return 0;
  return saturate(Int128{per_unit_base(event, rule) / effect.per_minor} * effect.points);
}

// The base points a multiplier multiplies: the base stage's lines it names (all when none).
Int128 multiplier_base(const Context& context, const Candidate& candidate) {
  const Effect& effect = candidate.rule->effect;
  Int128 base = 0;
  for (std::size_t i = 0; i < context.base_lines; ++i) {
    const Line& line = context.out.fired[i];
    const bool named = contains(effect.of_rules, line.rule) &&
                       (line.campaign.empty() || same(line.campaign, candidate.campaign_id()));
    if (effect.of_rules.empty() || named) base += line.points;
  }
  return base;
}

Points multiplier_extra(std::int64_t base_points, int percent) {
  return saturate(floor_div(Int128{base_points} * (percent - 100), 100));
}

// What the rule gives before caps; a multiplier's needs the base stage's lines.
Points raw_points(const Context& context, const Candidate& candidate) {
  const Rule& rule = *candidate.rule;
  switch (rule.effect.kind) {
    case Effect::Kind::per_unit:
      return per_unit_points(context.event, rule);
    case Effect::Kind::multiplier: {
      const Int128 base = multiplier_base(context, candidate);
      return base <= 0 ? 0 : multiplier_extra(saturate(base), rule.effect.percent);
    }
    case Effect::Kind::fixed:
    case Effect::Kind::bonus:
      break;
  }
  return rule.effect.points;
}

void append_per_unit_base(std::string& out, const Event& event, const Rule& rule) {
  append_number(out, per_unit_base(event, rule));
  out.append(1, ' ').append(rule.effect.currency).append(1, ' ');
  out += earn_base_words(rule.effect.base);
  if (rule.effect.matching_items_only && rule.items) {
    out += " on items ";
    append_filter_words(out, *rule.items);
  }
}

// The effect in words: "10 points per full 100 of 2599 GBP paid", "150% of 100 base points",
// "bonus of 30 points".
void append_effect(std::string& out, const Context& context, const Candidate& candidate) {
  const Effect& effect = candidate.rule->effect;
  switch (effect.kind) {
    case Effect::Kind::per_unit:
      append_number(out, effect.points);
      out += " points per full ";
      append_number(out, effect.per_minor);
      out += " of ";
      return append_per_unit_base(out, context.event, *candidate.rule);
    case Effect::Kind::multiplier:
      append_number(out, effect.percent);
      out += "% of ";
      append_number(out, saturate(multiplier_base(context, candidate)));
      out += " base points";
      if (!effect.of_rules.empty()) {
        out += " of ";
        append_joined(out, effect.of_rules);
      }
      return;
    case Effect::Kind::fixed:
    case Effect::Kind::bonus:
      break;
  }
  if (effect.kind == Effect::Kind::bonus) out += "bonus of ";
  append_number(out, effect.points);
  out += " points";
}

// Why a rule whose window, conditions and item filter hold gives nothing before caps.
std::string effect_why_not(const Context& context, const Candidate& candidate) {
  const Effect& effect = candidate.rule->effect;
  const Event& event = context.event;
  std::string out;
  if (effect.kind == Effect::Kind::per_unit && event.currency != effect.currency) {
    out.append("event in ").append(event.currency.empty() ? "no currency" : event.currency);
    return out.append(", rule counts ").append(effect.currency);
  }
  if (effect.kind == Effect::Kind::per_unit && effect.per_minor <= 0)
    return "per_minor is not positive";
  if (effect.kind == Effect::Kind::per_unit &&
      per_unit_base(event, *candidate.rule) < effect.per_minor) {
    out += "earns nothing: ";
    append_per_unit_base(out, event, *candidate.rule);
    out += " is less than ";
    append_number(out, effect.per_minor);
    return out;
  }
  if (effect.kind == Effect::Kind::multiplier && multiplier_base(context, candidate) <= 0) {
    out += "no base points";
    if (!effect.of_rules.empty()) out += " of ";
    append_joined(out, effect.of_rules);
    return out;
  }
  out += effect.kind == Effect::Kind::multiplier ? "adds nothing: " : "earns nothing: ";
  append_effect(out, context, candidate);
  return out;
}

// ---- Caps --------------------------------------------------------------------------------------

bool cap_limits(const MemberCap& cap) {
  return cap.points > 0 || cap.times > 0;
}

// The periods of the rule's member caps that limit something, as bits of period_index.
unsigned capped_periods(const Caps& caps) {
  unsigned periods = 0;
  for (const MemberCap& cap : caps.per_member) {
    if (cap_limits(cap)) periods |= 1U << period_index(cap.period);
  }
  return periods;
}

constexpr std::array<Period, 4> kPeriods = {Period::day, Period::week, Period::month,
                                            Period::lifetime};

// "rule:<key>:<period>:points" or ":times" of the member, in `key` (its storage reused).
void cap_counter(CounterKey& key, const Candidate& candidate, MemberId member,
                 const std::string& period, std::string_view what) {
  key.scope = member;
  key.name.reserve(8 + candidate.campaign_id().size() + candidate.rule->id.size() + period.size() +
                   what.size());
  key.name.assign("rule:");
  append_key(key.name, candidate);
  key.name.append(1, ':').append(period).append(1, ':').append(what);
}
void rule_budget_counter(CounterKey& key, const Candidate& candidate) {
  key.scope = 0;
  key.name.assign("rule:");
  append_key(key.name, candidate);
  key.name.append(":budget");
}
void campaign_budget_counter(CounterKey& key, const Campaign& campaign) {
  key.scope = 0;
  key.name.assign("campaign:").append(campaign.id).append(":budget");
}

// The counters of a rule's caps but its campaign's budget (which the campaign's other rules
// name too).
void cap_keys(const Candidate& candidate, MemberId member, PeriodKeys& periods,
              std::vector<CounterKey>& keys) {
  const unsigned capped = capped_periods(candidate.rule->caps);
  for (const Period period : kPeriods) {
    if ((capped >> period_index(period) & 1U) == 0) continue;
    cap_counter(keys.emplace_back(), candidate, member, periods(period), "points");
    cap_counter(keys.emplace_back(), candidate, member, periods(period), "times");
  }
  if (candidate.rule->caps.budget > 0) rule_budget_counter(keys.emplace_back(), candidate);
}

// What the caps let a rule give, which cap cut it (the last to cut it, or a `times` cap reached,
// which stops the rule at once), and the counters read, for record_award.
struct Capped {
  enum class Cut : std::uint8_t { none, per_event, times, member_points, budget, campaign_budget };
  Points points = 0;
  Cut cut = Cut::none;
  const MemberCap* cap = nullptr;                     // times, member_points
  std::int64_t times = 0;                             // times: awards given in the period
  Points per_event = 0;                               // per_event: the limit
  std::array<std::optional<Points>, 4> given;         // by period_index
  std::array<std::optional<std::int64_t>, 4> awards;  // by period_index
  std::optional<Points> budget_spent;
  std::optional<Points> campaign_spent;
};

Capped apply_caps(Context& context, const Candidate& candidate, Points raw) {
  const Caps& caps = candidate.rule->caps;
  CounterKey& key = context.scratch;
  Capped capped{raw};
  auto limit = [&capped](Points remaining, Capped::Cut cut, const MemberCap* cap) {
    remaining = std::max<Points>(0, remaining);
    if (remaining >= capped.points) return;
    capped.points = remaining;
    capped.cut = cut;
    capped.cap = cap;
  };
  if (caps.per_event > 0) {
    limit(caps.per_event, Capped::Cut::per_event, nullptr);
    capped.per_event = caps.per_event;
  }
  for (const MemberCap& cap : caps.per_member) {
    const std::string& period = context.periods(cap.period);
    const std::size_t index = period_index(cap.period);
    if (cap.times > 0) {
      cap_counter(key, candidate, context.member.id, period, "times");
      if (!capped.awards[index]) capped.awards[index] = context.counts.get(key);
      const std::int64_t times = *capped.awards[index];
      if (times >= cap.times) {
        capped.points = 0;
        capped.cut = Capped::Cut::times;
        capped.cap = &cap;
        capped.times = times;
        return capped;
      }
    }
    if (cap.points > 0) {
      cap_counter(key, candidate, context.member.id, period, "points");
      if (!capped.given[index]) capped.given[index] = context.counts.get(key);
      limit(saturate(Int128{cap.points} - *capped.given[index]), Capped::Cut::member_points, &cap);
    }
  }
  if (caps.budget > 0) {
    rule_budget_counter(key, candidate);
    capped.budget_spent = context.counts.get(key);
    limit(saturate(Int128{caps.budget} - *capped.budget_spent), Capped::Cut::budget, nullptr);
  }
  if (candidate.campaign != nullptr && candidate.campaign->budget > 0) {
    campaign_budget_counter(key, *candidate.campaign);
    capped.campaign_spent = context.counts.get(key);
    limit(saturate(Int128{candidate.campaign->budget} - *capped.campaign_spent),
          Capped::Cut::campaign_budget, nullptr);
  }
  return capped;
}

// "at most 100 points per event: 100 of 500 awarded", "3 awards this day already".
void append_cut(std::string& out, const Capped& capped, Points raw) {
  switch (capped.cut) {
    case Capped::Cut::none:
      return;
    case Capped::Cut::times:
      append_number(out, capped.times);
      out.append(" awards").append(period_this_words(capped.cap->period)).append(" already");
      return;
    case Capped::Cut::per_event:
      out += "at most ";
      append_number(out, capped.per_event);
      out += " points per event";
      break;
    case Capped::Cut::member_points:
      out += "at most ";
      append_number(out, capped.cap->points);
      out.append(" points ").append(period_per_words(capped.cap->period));
      break;
    case Capped::Cut::budget:
      out += "budget exhausted";
      break;
    case Capped::Cut::campaign_budget:
      out += "campaign budget exhausted";
      break;
  }
  out += ": ";
  append_number(out, capped.points);
  out += " of ";
  append_number(out, raw);
  out += " awarded";
}

// Adds an award to the counters of the rule's caps, with the values apply_caps read.
void record_award(Context& context, const Candidate& candidate, const Capped& capped) {
  CounterKey& key = context.scratch;
  Counts& counts = context.counts;
  const Points awarded = capped.points;
  auto add = [&](const std::optional<std::int64_t>& read, std::int64_t delta) {
    const std::int64_t current = read ? *read : counts.get(key);
    counts.put(key, current, saturate(Int128{current} + delta));
  };
  const unsigned periods = capped_periods(candidate.rule->caps);
  for (const Period period : kPeriods) {
    const std::size_t index = period_index(period);
    if ((periods >> index & 1U) == 0) continue;
    const std::string& period_key = context.periods(period);
    cap_counter(key, candidate, context.member.id, period_key, "points");
    add(capped.given[index], awarded);
    cap_counter(key, candidate, context.member.id, period_key, "times");
    add(capped.awards[index], 1);
  }
  if (candidate.rule->caps.budget > 0) {
    rule_budget_counter(key, candidate);
    add(capped.budget_spent, awarded);
  }
  if (candidate.campaign != nullptr && candidate.campaign->budget > 0) {
    campaign_budget_counter(key, *candidate.campaign);
    add(capped.campaign_spent, awarded);
  }
}

// ---- Stages ------------------------------------------------------------------------------------

// Decides whether the rule's window, conditions and item filter hold and what it gives before
// caps (but for multipliers, whose points depend on the base stage).
void examine(Context& context, Candidate& candidate) {
  const Verdict verdict = rule_holds(context, *candidate.rule);
  candidate.examined = true;
  candidate.holds = verdict == Verdict::holds;
  candidate.passes = verdict != Verdict::fails;
  if (candidate.passes && candidate.stage != Stage::multiplier)
    candidate.raw = raw_points(context, candidate);
  candidate.certain = candidate.holds && candidate.raw > 0;
}

// Whether an examined candidate may give points (a multiplier's are known when its stage runs:
// above 0 only with percent above 100).
bool may_give(const Candidate& candidate) {
  if (candidate.stage == Stage::multiplier)
    return candidate.passes && candidate.rule->effect.percent > 100;
  return candidate.passes && candidate.raw > 0;
}

Line rule_line(const Candidate& candidate, Points points, std::string detail) {
  return Line{candidate.rule->id, std::string(candidate.campaign_id()),
              kind_name(candidate.rule->effect.kind), points, std::move(detail)};
}

void skip(Context& context, const Candidate& candidate, std::string why) {
  context.out.skipped.push_back(rule_line(candidate, 0, std::move(why)));
}

// Adds the line of a rule that fires: its effect, what held, and the cap that cut it.
void add_fired_line(Context& context, const Candidate& candidate, const Capped& capped) {
  Line& line = context.out.fired.emplace_back();
  line.rule = candidate.rule->id;
  line.campaign = candidate.campaign_id();
  line.kind = kind_name(candidate.rule->effect.kind);
  line.points = capped.points;
  std::string& detail = line.detail;
  detail.reserve(96);
  append_effect(detail, context, candidate);
  append_facts(detail, context, *candidate.rule);
  if (capped.cut != Capped::Cut::none) {
    detail += "; ";
    append_cut(detail, capped, candidate.raw);
  }
}

// Runs the rules of one stage in evaluation order; a non-stacking rule that fires stops the
// rules after it in the same stage. Without explain_skipped, `stage` holds only the rules
// rules_that_may_fire kept, already examined; with it, every candidate, examined as reached (so
// that stopped rules read no counters, as counters_needed expects).
void run_stage(Context& context, std::span<Candidate> stage) {
  const Candidate* stopper = nullptr;
  for (Candidate& candidate : stage) {
    if (stopper != nullptr) {
      if (!context.explain) break;
      std::string why = "not stacked: ";
      append_key(why, *stopper);
      skip(context, candidate, std::move(why.append(" fired")));
      continue;
    }
    if (!candidate.examined) examine(context, candidate);  // with explain_skipped
    if (!candidate.passes) {
      skip(context, candidate, why_not(context, *candidate.rule));
      continue;
    }
    if (candidate.stage == Stage::multiplier) candidate.raw = raw_points(context, candidate);
    if (candidate.raw <= 0) {
      if (context.explain) skip(context, candidate, effect_why_not(context, candidate));
      continue;
    }
    if (!candidate.rule->stacks) stopper = &candidate;
    const Capped capped = apply_caps(context, candidate, candidate.raw);
    if (capped.points <= 0) {
      if (!context.explain) continue;
      std::string why;
      append_cut(why, capped, candidate.raw);
      skip(context, candidate, std::move(why));
      continue;
    }
    record_award(context, candidate, capped);
    add_fired_line(context, candidate, capped);
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
  return referral.enabled && same(event.type, "purchase") && event.currency == referral.currency &&
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
    if (context.explain)
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
  if (!same(context.event.type, "purchase")) return;
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
  if (!same(context.event.type, "purchase") || context.event.currency != tiers.currency) return 0;
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

// What a base rule certain to fire and without counter_caps gives.
Points given_in_full(const Candidate& candidate) {
  const Points per_event = candidate.rule->caps.per_event;
  return per_event > 0 ? std::min(candidate.raw, per_event) : candidate.raw;
}

bool counter_caps(const Candidate& candidate) {
  const Caps& caps = candidate.rule->caps;
  return capped_periods(caps) != 0 || caps.budget > 0 ||
         (candidate.campaign != nullptr && candidate.campaign->budget > 0);
}

// The base lines certainly given in full whatever the counters say: the check-in line, and base
// rules certain to fire, without caps read from counters, and not behind a base rule that may
// fire and does not stack. A lower bound of what multipliers multiply.
class CertainBase {
 public:
  CertainBase(const Context& context, const Candidates& may_fire) {
    if (same(context.event.type, "checkin"))
      checkin_ = std::max<Points>(0, context.program.checkin.points);
    const Candidate* may_stop = nullptr;
    for (const Candidate& candidate : may_fire) {
      if (candidate.stage == Stage::base && !candidate.rule->stacks &&
          (may_stop == nullptr || run_before(candidate, *may_stop)))
        may_stop = &candidate;
    }
    total_ = checkin_;
    for (const Candidate& line : may_fire) {
      if (line.stage != Stage::base || !line.certain || counter_caps(line)) continue;
      if (may_stop != nullptr && &line != may_stop && run_before(*may_stop, line)) continue;
      lines_.push_back(&line);
      total_ += given_in_full(line);
    }
  }

  // Whether the multiplier certainly gives points (its conditions must hold whatever the
  // counters say).
  [[nodiscard]] bool gives(const Candidate& multiplier) const {
    const Effect& effect = multiplier.rule->effect;
    Int128 base = total_;
    if (!effect.of_rules.empty()) {
      base = contains(effect.of_rules, "checkin") ? checkin_ : 0;
      for (const Candidate* line : lines_) {
        if (contains(effect.of_rules, line->rule->id) &&
            (line->campaign == nullptr || same(line->campaign_id(), multiplier.campaign_id())))
          base += given_in_full(*line);
      }
    }
    return multiplier.holds && base > 0 && multiplier_extra(saturate(base), effect.percent) > 0;
  }

 private:
  Int128 checkin_ = 0;
  Int128 total_ = 0;
  std::vector<const Candidate*> lines_;
};

// The candidates that may give points, in program order: their window, conditions and item
// filter hold (or may, when counters are not known), they give points before caps (multipliers:
// may), and no rule before them in their stage that does not stack certainly gives points (it
// stops them). Those rules are looked at first, so that the rules they stop are not examined.
Candidates rules_that_may_fire(Context& context) {
  Candidates all = candidates(context.program, context.event);
  std::array<std::optional<Candidate>, 3> stoppers;  // by Stage
  auto consider_stopper = [&stoppers](const Candidate& candidate) {
    auto& stopper = stoppers[static_cast<std::size_t>(candidate.stage)];
    if (candidate.certain && (!stopper || run_before(candidate, *stopper))) stopper = candidate;
  };
  auto stopped = [&stoppers](const Candidate& candidate) {
    const auto& stopper = stoppers[static_cast<std::size_t>(candidate.stage)];
    return stopper && run_before(*stopper, candidate);
  };
  for (Candidate& candidate : all) {
    if (candidate.rule->stacks || candidate.stage == Stage::multiplier) continue;
    examine(context, candidate);
    consider_stopper(candidate);
  }
  std::erase_if(all, [&](Candidate& candidate) {
    if (candidate.stage == Stage::multiplier) return false;  // once the base stage is known
    if (stopped(candidate)) return true;
    if (!candidate.examined) examine(context, candidate);
    return !may_give(candidate);
  });
  {
    const CertainBase base(context, all);  // points into `all`: done before it changes again
    for (Candidate& candidate : all) {
      if (candidate.rule->stacks || candidate.stage != Stage::multiplier) continue;
      examine(context, candidate);
      candidate.certain = base.gives(candidate);
      consider_stopper(candidate);
    }
  }
  std::erase_if(all, [&](Candidate& candidate) {
    if (candidate.stage != Stage::multiplier) return false;
    if (stopped(candidate)) return true;
    if (!candidate.examined) examine(context, candidate);
    return !may_give(candidate);
  });
  return all;
}

// The candidates of an evaluation, stage by stage in evaluation order. With explain_skipped all
// of them, to be examined as their stage reaches them; otherwise only those that may fire.
Candidates evaluation_candidates(Context& context) {
  Candidates out =
      context.explain ? candidates(context.program, context.event) : rules_that_may_fire(context);
  std::sort(out.begin(), out.end(), run_before);
  return out;
}

// The candidates of one stage (`all` sorted by run_before).
std::span<Candidate> stage_range(std::span<Candidate> all, Stage stage) {
  auto first = std::find_if(all.begin(), all.end(),
                            [stage](const Candidate& c) { return c.stage >= stage; });
  auto last =
      std::find_if(first, all.end(), [stage](const Candidate& c) { return c.stage > stage; });
  return {first, last};
}

}  // namespace

std::string period_key(Period period, TimeUs at_us, const TimeZone& zone) {
  return period_key(period, moment_at(zone, at_us));
}

std::vector<CounterKey> counters_needed(const Program& program, const Event& event,
                                        const Member& member) {
  // Each key is named once: rule keys differ by rule, and the shared ones are gathered as flags.
  std::vector<CounterKey> keys;
  const Counters none;
  Context context(program, event, member, none, false, false);
  const bool checkin = same(event.type, "checkin");
  if (checkin && !program.checkin.enabled) return keys;
  const Candidates rules = rules_that_may_fire(context);
  std::size_t capped = 0;
  for (const Candidate& candidate : rules) capped += counter_caps(candidate) ? 1 : 0;
  keys.reserve(9 * capped + (context.tiers != nullptr ? 40 : 0) + 8);
  std::vector<std::string_view> campaigns;  // whose budget is named
  for (const Candidate& candidate : rules) {
    cap_keys(candidate, member.id, context.periods, keys);
    const Campaign* campaign = candidate.campaign;
    if (campaign == nullptr || campaign->budget <= 0 || contains_view(campaigns, campaign->id))
      continue;
    campaigns.emplace_back(campaign->id);
    keys.push_back({0, "campaign:" + campaign->id + ":budget"});
  }
  // The facts conditions asked for while deciding (conditions are read in order up to the first
  // that fails, as evaluate reads them), and those the purchase facts count.
  const unsigned wanted = context.facts_wanted;
  const FactsUsed counted = same(event.type, "purchase") ? facts_used(program) : FactsUsed{};
  if (checkin || (wanted & kFactStreak) != 0) {
    keys.push_back({member.id, kCheckinDay});
    keys.push_back({member.id, kCheckinStreak});
  }
  if (counted.first_purchase || (wanted & kFactFirstPurchase) != 0)
    keys.push_back({member.id, kPurchases});
  if ((counted.lifetime_spend || (wanted & kFactLifetimeSpend) != 0) && !event.currency.empty())
    keys.push_back({member.id, spent_name(event.currency)});
  if (const TierProgram* tiers = context.tiers) {
    keys.push_back({member.id, kTier});
    keys.push_back({member.id, kTierGrace});
    keys.push_back({member.id, kTierSince});
    tier_bucket_keys(member.id, period_containing(*tiers, context.at.month), keys);
  }
  if (referral_qualifies(program.referral, event)) {
    keys.push_back({member.id, kReferralQualified});
    if (member.referrer != 0) keys.push_back({member.id, kReferralRewarded});
    if (member.referrer != 0 && member.referrer != member.id) {
      keys.push_back({member.referrer, kReferralQualified});
      keys.push_back({member.referrer, referral_rewards_name(context.at)});
    }
  }
  return keys;
}

Evaluation evaluate(const Program& program, const Event& event, const Member& member,
                    const Counters& counters, const EvaluateOptions& options) {
  Context context(program, event, member, counters, true, options.explain_skipped);
  if (same(event.type, "checkin")) {
    if (std::optional<Refusal> refusal = check_in(context)) {
      Evaluation refused;
      refused.refusal = std::move(refusal);
      return refused;
    }
  }
  if (context.tiers != nullptr)
    context.tier_before = current_level(context.counts, *context.tiers, member.id);
  Candidates rules = evaluation_candidates(context);
  context.out.fired.reserve(rules.size() + context.streak_lines.size() + 4);
  if (context.explain) context.out.skipped.reserve(rules.size() + 1);
  run_stage(context, stage_range(rules, Stage::base));
  context.base_lines = context.out.fired.size();
  tier_stage(context);
  run_stage(context, stage_range(rules, Stage::multiplier));
  run_stage(context, stage_range(rules, Stage::bonus));
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

std::vector<CounterKey> tier_standing_counters(const Program& program, MemberId member,
                                               TimeUs at_us) {
  std::vector<CounterKey> keys;
  const TierProgram* tiers = active_tiers(program);
  if (tiers == nullptr) return keys;
  keys.push_back({member, kTier});
  const Moment at = moment_at(*program.zone, at_us);
  tier_bucket_keys(member, period_containing(*tiers, at.month), keys);
  return keys;
}

TierStanding tier_standing(const Program& program, MemberId member, const Counters& counters,
                           TimeUs at_us) {
  TierStanding standing;
  const TierProgram* tiers = active_tiers(program);
  if (tiers == nullptr) return standing;
  const Moment at = moment_at(*program.zone, at_us);
  const MonthRange range = period_containing(*tiers, at.month);
  standing.level = static_cast<int>(std::clamp<std::int64_t>(
      counter_value(counters, {member, kTier}), 0, tier_count(*tiers) - 1));
  for (std::int64_t month = range.first; month <= range.last; ++month)
    standing.measure += counter_value(counters, {member, tier_bucket_name(month)});
  standing.first_month = format_month(range.first);
  standing.last_month = format_month(range.last);
  return standing;
}

std::vector<CounterKey> checkin_counters(MemberId member) {
  return {{member, kCheckinDay}, {member, kCheckinStreak}};
}

CheckinStanding checkin_standing(const Program& program, MemberId member, const Counters& counters,
                                 TimeUs at_us) {
  CheckinStanding standing;
  const std::int64_t last = counter_value(counters, {member, kCheckinDay});
  if (last == 0) return standing;
  const Moment at = moment_at(*program.zone, at_us);
  standing.checked_in_today = last == at.day;
  if (last == at.day || last == at.day - 1)
    standing.streak = counter_value(counters, {member, kCheckinStreak});
  standing.last_checkin = format_date(last);
  return standing;
}

}  // namespace pointsmall::rules
