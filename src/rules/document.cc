#include "rules/document.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <limits>
#include <string_view>
#include <utility>

namespace pointsmall::rules {
namespace {

using nlohmann::json;

// Limits of a document (each list has one).
constexpr std::size_t kMaxConditions = 32;
constexpr std::size_t kMaxListTexts = 100;
constexpr std::size_t kMaxOfRules = 50;
constexpr std::size_t kMaxCampaignRules = 200;
constexpr std::size_t kMaxTiers = 20;
constexpr std::size_t kMaxStreakRewards = 50;
constexpr std::size_t kMaxItemTextLength = 64;
constexpr std::size_t kMaxConditionTextLength = 128;
constexpr Points kMaxAwardPoints = 1'000'000;  // one effect, check-in, streak or referral award
constexpr std::int64_t kMaxTotal = 1'000'000'000'000;  // caps, budgets, tier thresholds
constexpr MinorUnits kMaxPerAmount = 1'000'000'000;
constexpr std::int64_t kMaxMinQuantity = 100'000;
constexpr std::int64_t kMaxCapTimes = 1'000'000;
constexpr int kMinutesPerDay = 24 * 60;

// ---- Names of enum values, indexed by the value --------------------------------------------

constexpr std::array<std::string_view, 10> kOperatorNames = {
    "eq", "ne", "lt", "lte", "gt", "gte", "between", "in", "not_in", "any_of"};
constexpr std::array<std::string_view, 4> kEffectKindNames = {"fixed", "per_unit", "multiplier",
                                                              "bonus"};
constexpr std::array<std::string_view, 3> kEarnBaseNames = {"paid", "before_points",
                                                            "before_discounts"};
constexpr std::array<std::string_view, 4> kPeriodNames = {"day", "week", "month", "lifetime"};
constexpr std::array<std::string_view, 2> kTierMeasureNames = {"points_earned", "money_spent"};
constexpr std::array<std::string_view, 4> kTierPeriodNames = {"calendar_year", "calendar_quarter",
                                                              "calendar_month", "rolling_months"};
constexpr std::array<std::string_view, 3> kDowngradeNames = {"drop_one", "recalculate", "grace"};
constexpr std::array<std::string_view, 7> kWeekdayNames = {"mon", "tue", "wed", "thu",
                                                           "fri", "sat", "sun"};

std::vector<std::string_view> event_type_names() {
  return {std::begin(kEventTypes), std::end(kEventTypes)};
}

bool contains(const std::vector<std::string_view>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// ---- Condition fields --------------------------------------------------------------------------

enum class FieldType : std::uint8_t { number, text, text_list, boolean };
// Which rules a condition field makes sense for.
enum class Scope : std::uint8_t { any, purchase, task, checkin };

struct ConditionField {
  std::string_view name;
  FieldType type;
  Scope scope;
};

constexpr std::array<ConditionField, 19> kConditionFields = {{
    {"amount", FieldType::number, Scope::purchase},
    {"discount", FieldType::number, Scope::purchase},
    {"points_discount", FieldType::number, Scope::purchase},
    {"items.quantity", FieldType::number, Scope::purchase},
    {"member.days_since_joining", FieldType::number, Scope::any},
    {"member.lifetime_spend", FieldType::number, Scope::any},
    {"checkin.streak", FieldType::number, Scope::checkin},
    {"currency", FieldType::text, Scope::purchase},
    {"channel", FieldType::text, Scope::any},
    {"store", FieldType::text, Scope::any},
    {"task", FieldType::text, Scope::task},
    {"member.tier", FieldType::text, Scope::any},
    {"member.segment", FieldType::text, Scope::any},
    {"items.sku", FieldType::text_list, Scope::purchase},
    {"items.category", FieldType::text_list, Scope::purchase},
    {"items.brand", FieldType::text_list, Scope::purchase},
    {"member.tags", FieldType::text_list, Scope::any},
    {"member.first_purchase", FieldType::boolean, Scope::any},
    {"member.birthday_month", FieldType::boolean, Scope::any},
}};

const ConditionField* find_condition_field(std::string_view name) {
  for (const ConditionField& field : kConditionFields) {
    if (field.name == name) return &field;
  }
  return nullptr;
}

std::vector<std::string_view> condition_field_names() {
  std::vector<std::string_view> names;
  names.reserve(kConditionFields.size());
  for (const ConditionField& field : kConditionFields) names.push_back(field.name);
  return names;
}

std::vector<std::string_view> operators_of(FieldType type) {
  switch (type) {
    case FieldType::number:
      return {"eq", "ne", "lt", "lte", "gt", "gte", "between"};
    case FieldType::text:
      return {"eq", "ne", "in", "not_in"};
    case FieldType::text_list:
      return {"any_of", "not_in"};
    case FieldType::boolean:
      return {"eq"};
  }
  return {};
}

std::string_view type_name(FieldType type) {
  switch (type) {
    case FieldType::number:
      return "number";
    case FieldType::text:
      return "text";
    case FieldType::text_list:
      return "text list";
    case FieldType::boolean:
      return "boolean";
  }
  return "";
}

// Empty when `scope` allows rules of `event_type` (or the event type is not known).
std::string scope_problem(Scope scope, std::string_view event_type) {
  if (event_type.empty()) return "";
  switch (scope) {
    case Scope::any:
      return "";
    case Scope::purchase:
      if (event_type == "purchase") return "";
      return "applies only to purchase rules, not to " + std::string(event_type) + " rules";
    case Scope::task:
      if (event_type == "task" || event_type == "survey") return "";
      return "applies only to task and survey rules, not to " + std::string(event_type) + " rules";
    case Scope::checkin:
      if (event_type == "checkin") return "";
      return "applies only to checkin rules, not to " + std::string(event_type) + " rules";
  }
  return "";
}

// ---- Reading -------------------------------------------------------------------------------

// "is not a known field; did you mean "amount"? Known: a, b, c", or without a near name
// "is not a known field. Known: a, b, c".
std::string unknown_message(std::string_view what, std::string_view name,
                            const std::vector<std::string_view>& known) {
  std::string message = "is not a known " + std::string(what);
  if (nearest_name(name, known).empty()) message += '.';
  return with_hint(std::move(message), name, known);
}

// Records an error with unknown_message for every member of `object` not in `known`.
void reject_unknown(Fields& object, const std::vector<std::string_view>& known) {
  object.reject_unknown(
      known, [&](std::string_view name) { return unknown_message("field", name, known); });
}

// The objects of the array `name` (min..max of them), each read by `read(object)`.
template <typename Read>
void each_object(Fields& parent, std::string_view name, bool required, std::size_t min,
                 std::size_t max, Read&& read) {
  const json* value = parent.find(name, required);
  if (value == nullptr) return;
  if (!value->is_array()) {
    parent.error(name, "must be an array, not " + json_type_name(*value));
    return;
  }
  if (value->size() < min || value->size() > max) {
    parent.error(name,
                 "must have " + std::to_string(min) + " to " + std::to_string(max) + " elements");
    return;
  }
  for (std::size_t i = 0; i < value->size(); ++i) {
    std::string element_path = parent.path_of(name) + "[" + std::to_string(i) + "]";
    const json& element = (*value)[i];
    if (!element.is_object()) {
      parent.errors().push_back(
          {element_path, "must be an object, not " + json_type_name(element)});
      continue;
    }
    Fields object(element, std::move(element_path), parent.errors());
    read(object);
  }
}

struct ListRule {
  std::size_t min_items = 0;
  std::size_t max_items = kMaxListTexts;
  std::size_t max_length = kMaxItemTextLength;
  bool ids = false;  // each text an id ([a-z0-9_-])
};

// `value` as an array of texts; problems are recorded at `path` or "path[i]".
std::optional<std::vector<std::string>> text_array(const json& value, const std::string& path,
                                                   const ListRule& rule,
                                                   std::vector<FieldError>& errors) {
  if (!value.is_array()) {
    errors.push_back({path, "must be an array of strings, not " + json_type_name(value)});
    return std::nullopt;
  }
  if (value.size() < rule.min_items || value.size() > rule.max_items) {
    errors.push_back({path, "must have " + std::to_string(rule.min_items) + " to " +
                                std::to_string(rule.max_items) + " elements"});
    return std::nullopt;
  }
  std::vector<std::string> texts;
  bool valid = true;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const std::string element_path = path + "[" + std::to_string(i) + "]";
    if (!value[i].is_string()) {
      errors.push_back({element_path, "must be a string, not " + json_type_name(value[i])});
      valid = false;
      continue;
    }
    const auto& text = value[i].get_ref<const std::string&>();
    std::string problem =
        rule.ids ? id_problem(text) : text_problem(text, TextRule{.max_length = rule.max_length});
    if (!problem.empty()) {
      errors.push_back({element_path, std::move(problem)});
      valid = false;
      continue;
    }
    texts.push_back(text);
  }
  if (!valid) return std::nullopt;
  return texts;
}

std::vector<std::string> read_texts(Fields& object, std::string_view name, const ListRule& rule) {
  const json* value = object.find(name);
  if (value == nullptr) return {};
  return text_array(*value, object.path_of(name), rule, object.errors())
      .value_or(std::vector<std::string>{});
}

// The version is the server's: accepted (so a document written by to_json reads back) and
// otherwise ignored.
void skip_version(Fields& object) {
  object.integer("version", false, 1, std::numeric_limits<std::int64_t>::max());
}

// A time of a window or campaign. With an offset or Z it is that instant; without one
// ("2026-12-24T09:00:00" or "2026-12-24") it is a local time of the program (in a gap, the
// first instant after it; in an overlap, the earlier instant). Kept to whole seconds.
std::optional<TimeUs> read_time(Fields& object, std::string_view name, bool required,
                                const TimeZone& zone) {
  auto text = object.text(name, TextRule{.required = required, .max_length = 64});
  if (!text) return std::nullopt;
  std::optional<TimeUs> at_us;
  if (text->size() == 10) {
    if (auto civil = parse_civil_time(*text + "T00:00:00")) at_us = zone.to_utc(*civil);
  } else if (text->size() == 19) {
    if (auto civil = parse_civil_time(*text); civil && (*text)[10] == 'T')
      at_us = zone.to_utc(*civil);
  } else if (text->find('T') != std::string::npos) {
    at_us = parse_rfc3339(*text);
  }
  if (!at_us) {
    object.error(name,
                 "must be an RFC 3339 time such as 2026-12-24T00:00:00Z, or a local time of the "
                 "program such as 2026-12-24T00:00:00 or 2026-12-24");
    return std::nullopt;
  }
  return whole_seconds(*at_us);
}

// "HH:MM" -> minutes since midnight; 00:00..24:00.
std::optional<int> minute_of_day(std::string_view text) {
  if (text.size() != 5 || text[2] != ':') return std::nullopt;
  for (const char c : {text[0], text[1], text[3], text[4]}) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  const int hour = (text[0] - '0') * 10 + (text[1] - '0');
  const int minute = (text[3] - '0') * 10 + (text[4] - '0');
  if (minute > 59 || hour > 24 || (hour == 24 && minute != 0)) return std::nullopt;
  return hour * 60 + minute;
}

std::string format_minute_of_day(int minute) {
  const int clamped = std::clamp(minute, 0, kMinutesPerDay);
  const auto digit = [](int value) { return static_cast<char>('0' + value); };
  const int hour = clamped / 60;
  const int minutes = clamped % 60;
  return {digit(hour / 10), digit(hour % 10), ':', digit(minutes / 10), digit(minutes % 10)};
}

// ---- Rules ---------------------------------------------------------------------------------

// [low, high] of a between condition, or one integer.
void read_number_value(Fields& object, const json& value, Operator op, Condition& condition) {
  if (op == Operator::between) {
    if (!value.is_array() || value.size() != 2 || !int64_of(value[0]) || !int64_of(value[1])) {
      object.error("value", "must be an array [low, high] of two integers");
      return;
    }
    const std::int64_t low = *int64_of(value[0]);
    const std::int64_t high = *int64_of(value[1]);
    if (low > high) {
      object.error("value", "low (" + std::to_string(low) + ") must not be above high (" +
                                std::to_string(high) + ")");
      return;
    }
    condition.numbers = {low, high};
    return;
  }
  const auto number = int64_of(value);
  if (!number) {
    object.error("value", "must be an integer, not " + json_type_name(value));
    return;
  }
  condition.numbers = {*number};
}

void read_condition_value(Fields& object, const json& value, FieldType type, Operator op,
                          Condition& condition) {
  const ListRule list{.min_items = 1, .max_length = kMaxConditionTextLength};
  switch (type) {
    case FieldType::number:
      read_number_value(object, value, op, condition);
      return;
    case FieldType::boolean:
      if (!value.is_boolean()) {
        object.error("value", "must be true or false, not " + json_type_name(value));
        return;
      }
      condition.numbers = {value.get<bool>() ? 1 : 0};
      return;
    case FieldType::text:
      if (op == Operator::eq || op == Operator::ne) {
        if (!value.is_string()) {
          object.error("value", "must be a string, not " + json_type_name(value));
          return;
        }
        std::string problem = text_problem(value.get_ref<const std::string&>(),
                                           TextRule{.max_length = list.max_length});
        if (!problem.empty()) return object.error("value", std::move(problem));
        condition.texts = {value.get<std::string>()};
        return;
      }
      [[fallthrough]];
    case FieldType::text_list:
      if (auto texts = text_array(value, object.path_of("value"), list, object.errors()))
        condition.texts = std::move(*texts);
      return;
  }
}

const ConditionField* read_condition_field(Fields& object, std::string_view event_type) {
  auto name = object.text("field", TextRule{.required = true, .max_length = 64});
  if (!name) return nullptr;
  const ConditionField* field = find_condition_field(*name);
  if (field == nullptr) {
    object.error("field", unknown_message("condition field", *name, condition_field_names()));
    return nullptr;
  }
  std::string problem = scope_problem(field->scope, event_type);
  if (!problem.empty()) {
    object.error("field", std::move(problem));
    return nullptr;
  }
  return field;
}

// The operator; nullopt (with an error) when it is not one, or not one `field` allows.
std::optional<Operator> read_operator(Fields& object, const ConditionField* field) {
  const auto op = object.choice<Operator>("op", true, kOperatorNames);
  if (field == nullptr || !op) return op;
  const auto allowed = operators_of(field->type);
  if (contains(allowed, kOperatorNames[static_cast<std::size_t>(*op)])) return op;
  object.error("op", "is not allowed for the " + std::string(type_name(field->type)) + " field " +
                         std::string(field->name) + "; use one of " + join(allowed));
  return std::nullopt;
}

std::optional<Condition> read_condition(Fields& object, std::string_view event_type) {
  const std::size_t before = object.errors().size();
  Condition condition;
  const ConditionField* field = read_condition_field(object, event_type);
  const auto op = read_operator(object, field);
  const json* value = object.find("value");
  if (value == nullptr) {
    object.error("value", "is required");
  } else if (field != nullptr && op) {
    read_condition_value(object, *value, field->type, *op, condition);
  }
  reject_unknown(object, {"field", "op", "value"});
  if (object.errors().size() != before || field == nullptr || !op) return std::nullopt;
  condition.field = std::string(field->name);
  condition.op = *op;
  return condition;
}

std::optional<ItemFilter> read_items(Fields& rule, std::string_view event_type) {
  auto object = rule.object("items", false);
  if (!object) return std::nullopt;
  std::string problem = scope_problem(Scope::purchase, event_type);
  if (!problem.empty()) rule.error("items", std::move(problem));
  ItemFilter items;
  items.skus = read_texts(*object, "skus", ListRule{});
  items.categories = read_texts(*object, "categories", ListRule{});
  items.brands = read_texts(*object, "brands", ListRule{});
  items.min_quantity = object->integer("min_quantity", false, 1, kMaxMinQuantity).value_or(1);
  reject_unknown(*object, {"skus", "categories", "brands", "min_quantity"});
  return items;
}

std::uint8_t read_weekdays(Fields& window) {
  constexpr std::uint8_t kEveryDay = 0x7F;
  const json* value = window.find("weekdays");
  if (value == nullptr) return kEveryDay;
  if (!value->is_array() || value->empty()) {
    window.error("weekdays",
                 "must be a non-empty array of days: " + join(name_list(kWeekdayNames)));
    return kEveryDay;
  }
  std::uint8_t weekdays = 0;
  for (std::size_t i = 0; i < value->size(); ++i) {
    const json& day = (*value)[i];
    const std::string path = window.path_of("weekdays") + "[" + std::to_string(i) + "]";
    const auto it = day.is_string() ? std::find(kWeekdayNames.begin(), kWeekdayNames.end(),
                                                day.get_ref<const std::string&>())
                                    : kWeekdayNames.end();
    if (it == kWeekdayNames.end()) {
      window.errors().push_back({path, one_of_message(name_list(kWeekdayNames))});
      continue;
    }
    const auto bit = static_cast<std::uint8_t>(1U << std::distance(kWeekdayNames.begin(), it));
    if ((weekdays & bit) != 0) window.errors().push_back({path, "repeats " + std::string(*it)});
    weekdays = static_cast<std::uint8_t>(weekdays | bit);
  }
  return weekdays == 0 ? kEveryDay : weekdays;
}

void read_hours(Fields& window_object, TimeWindow& window) {
  auto object = window_object.object("hours", false);
  if (!object) return;
  const auto read = [&](std::string_view name) -> std::optional<int> {
    auto text = object->text(name, TextRule{.required = true, .max_length = 16});
    if (!text) return std::nullopt;
    auto minute = minute_of_day(*text);
    if (!minute) object->error(name, "must be a time of day HH:MM from 00:00 to 24:00");
    return minute;
  };
  const auto from = read("from");
  const auto until = read("until");
  if (from && *from == kMinutesPerDay) {
    object->error("from", "must be before 24:00");
  } else if (from && until && *until <= *from) {
    object->error("until", "must be after from (" + format_minute_of_day(*from) + ")");
  }
  reject_unknown(*object, {"from", "until"});
  if (from) window.from_minute = *from;
  if (until) window.until_minute = *until;
}

TimeWindow read_window(Fields& rule, const TimeZone& zone) {
  TimeWindow window;
  auto object = rule.object("window", false);
  if (!object) return window;
  const auto from = read_time(*object, "from", false, zone);
  const auto until = read_time(*object, "until", false, zone);
  if (from) window.from_us = *from;
  if (until) window.until_us = *until;
  if ((from || until) && window.until_us <= window.from_us)
    object->error("until", "must be after from (" + format_rfc3339_utc(window.from_us) + ")");
  window.weekdays = read_weekdays(*object);
  read_hours(*object, window);
  reject_unknown(*object, {"from", "until", "weekdays", "hours"});
  return window;
}

// The fields an effect of each kind may have (indexed by Effect::Kind).
const std::array<std::vector<std::string_view>, 4>& effect_fields() {
  static const std::array<std::vector<std::string_view>, 4> fields = {{
      {"kind", "points"},
      {"kind", "points", "per", "base", "matching_items_only"},
      {"kind", "percent", "of_rules"},
      {"kind", "points"},
  }};
  return fields;
}

void reject_foreign_effect_fields(Fields& effect, std::optional<Effect::Kind> kind) {
  std::vector<std::string_view> all;
  for (const auto& fields : effect_fields()) {
    for (const std::string_view field : fields)
      if (!contains(all, field)) all.push_back(field);
  }
  for (const auto& member : effect.members().items()) {
    const std::string& name = member.key();
    if (!contains(all, name)) {
      effect.error(name, unknown_message("field", name, all));
    } else if (kind && !contains(effect_fields()[static_cast<std::size_t>(*kind)], name)) {
      effect.error(name, "does not apply to a " + std::string(enum_name(kEffectKindNames, *kind)) +
                             " effect; it has " +
                             join(effect_fields()[static_cast<std::size_t>(*kind)]));
    }
  }
}

void read_per(Fields& effect_object, Effect& effect) {
  auto object = effect_object.object("per", true);
  if (!object) return;
  effect.per_minor = object->integer("amount", true, 1, kMaxPerAmount).value_or(100);
  effect.currency = object->currency("currency", true).value_or("");
  reject_unknown(*object, {"amount", "currency"});
}

void read_per_unit(Fields& object, Effect& effect, std::string_view event_type, bool has_items) {
  std::string problem = scope_problem(Scope::purchase, event_type);
  if (!problem.empty()) object.error("kind", "per_unit " + problem);
  read_per(object, effect);
  effect.base = object.choice<EarnBase>("base", false, kEarnBaseNames).value_or(EarnBase::paid);
  effect.matching_items_only = object.boolean("matching_items_only", false);
  if (effect.matching_items_only && !has_items)
    object.error("matching_items_only", "needs an items filter on the rule");
}

Effect read_effect(Fields& rule, std::string_view event_type, bool has_items) {
  Effect effect;
  auto object = rule.object("effect", true);
  if (!object) return effect;
  const auto kind = object->choice<Effect::Kind>("kind", true, kEffectKindNames);
  reject_foreign_effect_fields(*object, kind);
  if (!kind) return effect;
  effect.kind = *kind;
  if (effect.kind == Effect::Kind::multiplier) {
    effect.percent = static_cast<int>(object->integer("percent", true, 101, 1000).value_or(200));
    effect.of_rules =
        read_texts(*object, "of_rules", ListRule{.max_items = kMaxOfRules, .ids = true});
    return effect;
  }
  effect.points = object->integer("points", true, 1, kMaxAwardPoints).value_or(0);
  if (effect.kind == Effect::Kind::per_unit) read_per_unit(*object, effect, event_type, has_items);
  return effect;
}

Caps read_caps(Fields& rule) {
  Caps caps;
  auto object = rule.object("caps", false);
  if (!object) return caps;
  caps.per_event = object->integer("per_event", false, 0, kMaxTotal).value_or(0);
  std::vector<Period> periods;
  each_object(*object, "per_member", false, 0, kPeriodNames.size(), [&](Fields& cap) {
    MemberCap member_cap;
    const auto period = cap.choice<Period>("period", true, kPeriodNames);
    if (period && std::find(periods.begin(), periods.end(), *period) != periods.end())
      cap.error("period", "repeats " + std::string(enum_name(kPeriodNames, *period)));
    const std::size_t before = cap.errors().size();
    const auto points = cap.integer("points", false, 0, kMaxTotal);
    const auto times = cap.integer("times", false, 0, kMaxCapTimes);
    if (cap.errors().size() == before && points.value_or(0) == 0 && times.value_or(0) == 0)
      cap.errors().push_back({cap.path(), "needs points or times above 0"});
    reject_unknown(cap, {"period", "points", "times"});
    if (!period) return;
    periods.push_back(*period);
    member_cap.period = *period;
    member_cap.points = points.value_or(0);
    member_cap.times = times.value_or(0);
    caps.per_member.push_back(member_cap);
  });
  caps.budget = object->integer("budget", false, 0, kMaxTotal).value_or(0);
  reject_unknown(*object, {"per_event", "per_member", "budget"});
  return caps;
}

std::optional<Rule> read_rule_object(Fields& object, const TimeZone& zone) {
  const std::size_t before = object.errors().size();
  Rule rule;
  auto id = object.id("id", true);
  skip_version(object);
  auto name = object.text("name", TextRule{.required = true});
  auto event_type = object.one_of("event_type", true, event_type_names());
  const std::string_view type = event_type ? std::string_view(*event_type) : std::string_view();
  each_object(object, "conditions", false, 0, kMaxConditions, [&](Fields& condition) {
    if (auto read = read_condition(condition, type)) rule.conditions.push_back(std::move(*read));
  });
  rule.items = read_items(object, type);
  rule.window = read_window(object, zone);
  rule.effect = read_effect(object, type, rule.items.has_value());
  rule.caps = read_caps(object);
  rule.priority = static_cast<int>(object.integer("priority", false, -1000, 1000).value_or(0));
  rule.stacks = object.boolean("stacks", true);
  rule.enabled = object.boolean("enabled", true);
  reject_unknown(object, {"id", "version", "name", "event_type", "conditions", "items", "window",
                          "effect", "caps", "priority", "stacks", "enabled"});
  if (object.errors().size() != before || !id || !name || !event_type) return std::nullopt;
  rule.id = std::move(*id);
  rule.name = std::move(*name);
  rule.event_type = std::move(*event_type);
  return rule;
}

bool is_document(const json& document, std::vector<FieldError>& errors) {
  if (document.is_object()) return true;
  errors.push_back({"", "must be a JSON object, not " + json_type_name(document)});
  return false;
}

// Errors for every element of `rules` (an array in the document) whose "id" repeats an earlier
// one's.
void check_unique_rule_ids(Fields& campaign) {
  const json* rules = campaign.find("rules");
  if (rules == nullptr || !rules->is_array()) return;
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < rules->size(); ++i) {
    const json& rule = (*rules)[i];
    const auto it = rule.is_object() ? rule.find("id") : rule.end();
    if (!rule.is_object() || it == rule.end() || !it->is_string()) {
      ids.emplace_back();
      continue;
    }
    const auto& id = it->get_ref<const std::string&>();
    const auto earlier = std::find(ids.begin(), ids.end(), id);
    if (earlier != ids.end()) {
      campaign.errors().push_back(
          {campaign.path_of("rules") + "[" + std::to_string(i) + "].id",
           "repeats the id of rules[" + std::to_string(earlier - ids.begin()) + "]"});
    }
    ids.push_back(id);
  }
}

// ---- Tiers ---------------------------------------------------------------------------------

struct TierRead {
  Tier tier;
  bool threshold_valid = false;
  bool id_valid = false;
};

TierRead read_tier(Fields& object) {
  TierRead read;
  Tier& tier = read.tier;
  auto id = object.id("id", true);
  read.id_valid = id.has_value();
  tier.id = id.value_or("");
  tier.name = object.text("name", TextRule{.required = true}).value_or("");
  auto threshold = object.integer("threshold", true, 0, kMaxTotal);
  read.threshold_valid = threshold.has_value();
  tier.threshold = threshold.value_or(0);
  tier.earn_percent =
      static_cast<int>(object.integer("earn_percent", false, 100, 1000).value_or(100));
  tier.validity_days =
      static_cast<int>(object.integer("validity_days", false, 0, 36'500).value_or(0));
  tier.redemption_discount_percent =
      static_cast<int>(object.integer("redemption_discount_percent", false, 0, 90).value_or(0));
  tier.exclusive_item_tags = read_texts(object, "exclusive_item_tags", ListRule{});
  reject_unknown(object, {"id", "name", "threshold", "earn_percent", "validity_days",
                          "redemption_discount_percent", "exclusive_item_tags"});
  return read;
}

// The first tier starts at 0, thresholds ascend, ids are unique.
void check_tier_order(const std::vector<TierRead>& tiers, Fields& object) {
  const std::string path = object.path_of("tiers");
  const auto at = [&](std::size_t i, std::string_view field) {
    return path + "[" + std::to_string(i) + "]." + std::string(field);
  };
  std::optional<std::size_t> previous;  // the tier with the highest valid threshold so far
  for (std::size_t i = 0; i < tiers.size(); ++i) {
    const TierRead& read = tiers[i];
    if (read.id_valid) {
      for (std::size_t j = 0; j < i; ++j) {
        if (tiers[j].id_valid && tiers[j].tier.id == read.tier.id) {
          object.errors().push_back(
              {at(i, "id"), "repeats the id of tiers[" + std::to_string(j) + "]"});
          break;
        }
      }
    }
    if (!read.threshold_valid) continue;
    if (i == 0 && read.tier.threshold != 0) {
      object.errors().push_back(
          {at(i, "threshold"), "must be 0: every member starts in the first tier"});
    } else if (previous && read.tier.threshold <= tiers[*previous].tier.threshold) {
      object.errors().push_back(
          {at(i, "threshold"), "must be above the threshold of tiers[" + std::to_string(*previous) +
                                   "] (" + std::to_string(tiers[*previous].tier.threshold) + ")"});
      continue;
    }
    previous = i;
  }
}

// `name` belongs to the document only when `applies`; `what` says when that is.
bool check_applies(Fields& object, std::string_view name, bool applies, std::string_view what) {
  if (applies || object.find(name) == nullptr) return applies;
  object.error(name, "applies only when " + std::string(what));
  return false;
}

void read_tier_policy(Fields& object, TierProgram& tiers) {
  // A setting that depends on another whose value is wrong is only checked for itself.
  const auto measure = object.choice<TierMeasure>("measure", true, kTierMeasureNames);
  tiers.measure = measure.value_or(TierMeasure::points_earned);
  const bool money = measure == TierMeasure::money_spent;
  if (!measure || check_applies(object, "currency", money, "measure is money_spent")) {
    if (money && object.find("currency") == nullptr)
      object.error("currency", "is required when measure is money_spent");
    tiers.currency = object.currency("currency", false).value_or("");
  }
  const auto period = object.choice<TierPeriod>("period", false, kTierPeriodNames);
  tiers.period = period.value_or(TierPeriod::calendar_year);
  const bool period_valid = period || object.find("period") == nullptr;
  if (!period_valid || check_applies(object, "months", tiers.period == TierPeriod::rolling_months,
                                     "period is rolling_months"))
    tiers.months = static_cast<int>(object.integer("months", false, 1, 36).value_or(12));
  const auto downgrade = object.choice<DowngradePolicy>("downgrade", false, kDowngradeNames);
  tiers.downgrade = downgrade.value_or(DowngradePolicy::recalculate);
  const bool downgrade_valid = downgrade || object.find("downgrade") == nullptr;
  if (!downgrade_valid ||
      check_applies(object, "grace_periods", tiers.downgrade == DowngradePolicy::grace,
                    "downgrade is grace"))
    tiers.grace_periods =
        static_cast<int>(object.integer("grace_periods", false, 1, 12).value_or(1));
}

// ---- Engagement ----------------------------------------------------------------------------

CheckinProgram read_checkin(Fields& object) {
  CheckinProgram checkin;
  checkin.enabled = object.boolean("enabled", true);
  checkin.points = object.integer("points", false, 0, kMaxAwardPoints).value_or(0);
  const auto cycle_days = object.integer("cycle_days", false, 0, 366);
  checkin.cycle_days = static_cast<int>(cycle_days.value_or(0));
  each_object(object, "streak_rewards", false, 0, kMaxStreakRewards, [&](Fields& reward) {
    const auto day = reward.integer("day", true, 1, 366);
    const auto points = reward.integer("points", true, 1, kMaxAwardPoints);
    reject_unknown(reward, {"day", "points"});
    if (!day) return;
    const auto repeated = std::find_if(checkin.streak_rewards.begin(), checkin.streak_rewards.end(),
                                       [&](const StreakReward& r) { return r.day == *day; });
    if (repeated != checkin.streak_rewards.end()) {
      reward.error("day", "repeats day " + std::to_string(*day));
    } else if (checkin.cycle_days > 0 && *day > checkin.cycle_days) {
      reward.error("day", "is beyond cycle_days (" + std::to_string(checkin.cycle_days) +
                              "): the streak starts again before it");
    }
    checkin.streak_rewards.push_back({static_cast<int>(*day), points.value_or(0)});
  });
  reject_unknown(object, {"enabled", "points", "streak_rewards", "cycle_days"});
  return checkin;
}

ReferralProgram read_referral(Fields& object) {
  ReferralProgram referral;
  referral.enabled = object.boolean("enabled", false);
  referral.referrer_points =
      object.integer("referrer_points", false, 0, kMaxAwardPoints).value_or(0);
  referral.friend_points = object.integer("friend_points", false, 0, kMaxAwardPoints).value_or(0);
  if (referral.enabled && object.find("min_purchase") == nullptr)
    object.error("min_purchase", "is required when the referral program is enabled");
  if (auto min_purchase = object.money("min_purchase", false, 0)) {
    referral.min_purchase_minor = min_purchase->amount;
    referral.currency = std::move(min_purchase->currency);
  }
  referral.max_rewards_per_month =
      static_cast<int>(object.integer("max_rewards_per_month", false, 1, 1000).value_or(10));
  reject_unknown(object, {"enabled", "referrer_points", "friend_points", "min_purchase",
                          "max_rewards_per_month"});
  return referral;
}

// ---- Writing -------------------------------------------------------------------------------

json condition_json(const Condition& condition) {
  json out = {{"field", condition.field}, {"op", enum_name(kOperatorNames, condition.op)}};
  const ConditionField* field = find_condition_field(condition.field);
  const FieldType type = field != nullptr          ? field->type
                         : condition.texts.empty() ? FieldType::number
                                                   : FieldType::text_list;
  const std::int64_t first = condition.numbers.empty() ? 0 : condition.numbers.front();
  switch (type) {
    case FieldType::number:
      out["value"] = condition.op == Operator::between ? json(condition.numbers) : json(first);
      break;
    case FieldType::boolean:
      out["value"] = first != 0;
      break;
    case FieldType::text:
      if (condition.op == Operator::eq || condition.op == Operator::ne) {
        out["value"] = condition.texts.empty() ? std::string() : condition.texts.front();
        break;
      }
      out["value"] = condition.texts;
      break;
    case FieldType::text_list:
      out["value"] = condition.texts;
      break;
  }
  return out;
}

json window_json(const TimeWindow& window) {
  json weekdays = json::array();
  for (std::size_t day = 0; day < kWeekdayNames.size(); ++day) {
    if ((window.weekdays & (1U << day)) != 0) weekdays.push_back(kWeekdayNames[day]);
  }
  json out = {{"weekdays", weekdays},
              {"hours",
               {{"from", format_minute_of_day(window.from_minute)},
                {"until", format_minute_of_day(window.until_minute)}}}};
  // Unbounded ends are left out: "until" has no time to write for "never".
  if (window.from_us != 0) out["from"] = format_rfc3339_utc(window.from_us);
  if (window.until_us != kTimeNever) out["until"] = format_rfc3339_utc(window.until_us);
  return out;
}

json effect_json(const Effect& effect) {
  json out = {{"kind", enum_name(kEffectKindNames, effect.kind)}};
  switch (effect.kind) {
    case Effect::Kind::fixed:
    case Effect::Kind::bonus:
      out["points"] = effect.points;
      break;
    case Effect::Kind::per_unit:
      out["points"] = effect.points;
      out["per"] = {{"amount", effect.per_minor}, {"currency", effect.currency}};
      out["base"] = enum_name(kEarnBaseNames, effect.base);
      out["matching_items_only"] = effect.matching_items_only;
      break;
    case Effect::Kind::multiplier:
      out["percent"] = effect.percent;
      out["of_rules"] = effect.of_rules;
      break;
  }
  return out;
}

json caps_json(const Caps& caps) {
  json per_member = json::array();
  for (const MemberCap& cap : caps.per_member) {
    per_member.push_back({{"period", enum_name(kPeriodNames, cap.period)},
                          {"points", cap.points},
                          {"times", cap.times}});
  }
  return {{"per_event", caps.per_event}, {"per_member", per_member}, {"budget", caps.budget}};
}

// ---- Checking a whole program --------------------------------------------------------------

void check_unique(const std::vector<std::string>& ids, const std::string& path,
                  std::vector<FieldError>& errors) {
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto first = std::find(ids.begin(), ids.end(), ids[i]);
    if (first - ids.begin() < static_cast<std::ptrdiff_t>(i)) {
      errors.push_back({path + "[" + std::to_string(i) + "].id",
                        "repeats the id of " + path.substr(path.rfind('.') + 1) + "[" +
                            std::to_string(first - ids.begin()) + "]"});
    }
  }
}

std::vector<std::string> rule_ids(const std::vector<Rule>& rules) {
  std::vector<std::string> ids;
  ids.reserve(rules.size());
  for (const Rule& rule : rules) ids.push_back(rule.id);
  return ids;
}

// A multiplier sees the standing rules and, in a campaign, the campaign's own rules.
void check_of_rules(const std::vector<Rule>& rules, const std::string& path,
                    const std::vector<Rule>& standing, const std::vector<Rule>* campaign,
                    std::vector<FieldError>& errors) {
  const auto visible = [&](const std::string& id) {
    const auto named = [&](const Rule& rule) { return rule.id == id; };
    return std::any_of(standing.begin(), standing.end(), named) ||
           (campaign != nullptr && std::any_of(campaign->begin(), campaign->end(), named));
  };
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const Rule& rule = rules[i];
    if (rule.effect.kind != Effect::Kind::multiplier) continue;
    for (std::size_t j = 0; j < rule.effect.of_rules.size(); ++j) {
      const std::string& id = rule.effect.of_rules[j];
      const std::string field =
          path + "[" + std::to_string(i) + "].effect.of_rules[" + std::to_string(j) + "]";
      if (id == rule.id) {
        errors.push_back({field,
                          "names the multiplier itself; name the rules whose points it "
                          "multiplies"});
      } else if (!visible(id)) {
        errors.push_back(
            {field, "names no rule \"" + id + "\" this multiplier can see (" +
                        (campaign != nullptr ? "standing rules and its campaign's rules"
                                             : "standing rules") +
                        ")"});
      }
    }
  }
}

void check_exclusive_campaigns(const std::vector<Campaign>& campaigns,
                               std::vector<FieldError>& errors) {
  for (std::size_t j = 0; j < campaigns.size(); ++j) {
    const Campaign& later = campaigns[j];
    if (!later.enabled || !later.exclusive) continue;
    for (std::size_t i = 0; i < j; ++i) {
      const Campaign& earlier = campaigns[i];
      if (!earlier.enabled || !earlier.exclusive) continue;
      if (later.from_us >= earlier.until_us || earlier.from_us >= later.until_us) continue;
      errors.push_back({"campaigns[" + std::to_string(j) + "].from",
                        "overlaps the exclusive campaign \"" + earlier.id + "\" (campaigns[" +
                            std::to_string(i) + "], " + format_rfc3339_utc(earlier.from_us) +
                            " until " + format_rfc3339_utc(earlier.until_us) +
                            "); exclusive campaigns may not run at the same time"});
      break;
    }
  }
}

}  // namespace

std::optional<Rule> read_rule(const json& document, const TimeZone& zone,
                              std::vector<FieldError>& errors) {
  if (!is_document(document, errors)) return std::nullopt;
  Fields object(document, "", errors);
  return read_rule_object(object, zone);
}

std::optional<Campaign> read_campaign(const json& document, const TimeZone& zone,
                                      std::vector<FieldError>& errors) {
  if (!is_document(document, errors)) return std::nullopt;
  const std::size_t before = errors.size();
  Fields object(document, "", errors);
  Campaign campaign;
  auto id = object.id("id", true);
  skip_version(object);
  auto name = object.text("name", TextRule{.required = true});
  const auto from = read_time(object, "from", true, zone);
  const auto until = read_time(object, "until", true, zone);
  if (from && until && *until <= *from)
    object.error("until", "must be after from (" + format_rfc3339_utc(*from) + ")");
  campaign.budget = object.integer("budget", false, 0, kMaxTotal).value_or(0);
  campaign.exclusive = object.boolean("exclusive", false);
  campaign.enabled = object.boolean("enabled", true);
  each_object(object, "rules", true, 1, kMaxCampaignRules, [&](Fields& rule) {
    if (auto read = read_rule_object(rule, zone)) campaign.rules.push_back(std::move(*read));
  });
  check_unique_rule_ids(object);
  reject_unknown(object, {"id", "version", "name", "from", "until", "budget", "exclusive",
                          "enabled", "rules"});
  if (errors.size() != before || !id || !name || !from || !until) return std::nullopt;
  campaign.id = std::move(*id);
  campaign.name = std::move(*name);
  campaign.from_us = *from;
  campaign.until_us = *until;
  for (Rule& rule : campaign.rules) rule.campaign_id = campaign.id;
  return campaign;
}

std::optional<TierProgram> read_tiers(const json& document, std::vector<FieldError>& errors) {
  if (!is_document(document, errors)) return std::nullopt;
  const std::size_t before = errors.size();
  Fields object(document, "", errors);
  TierProgram tiers;
  read_tier_policy(object, tiers);
  std::vector<TierRead> read;
  each_object(object, "tiers", true, 1, kMaxTiers,
              [&](Fields& tier) { read.push_back(read_tier(tier)); });
  check_tier_order(read, object);
  reject_unknown(
      object, {"measure", "currency", "period", "months", "downgrade", "grace_periods", "tiers"});
  if (errors.size() != before) return std::nullopt;
  for (TierRead& tier : read) tiers.tiers.push_back(std::move(tier.tier));
  return tiers;
}

std::optional<Engagement> read_engagement(const json& document, std::vector<FieldError>& errors) {
  if (!is_document(document, errors)) return std::nullopt;
  const std::size_t before = errors.size();
  Fields object(document, "", errors);
  Engagement engagement;
  if (auto checkin = object.object("checkin", false)) engagement.checkin = read_checkin(*checkin);
  if (auto referral = object.object("referral", false))
    engagement.referral = read_referral(*referral);
  reject_unknown(object, {"checkin", "referral"});
  if (errors.size() != before) return std::nullopt;
  return engagement;
}

json to_json(const Rule& rule) {
  json conditions = json::array();
  for (const Condition& condition : rule.conditions)
    conditions.push_back(condition_json(condition));
  json out = {{"id", rule.id},
              {"version", rule.version},
              {"name", rule.name},
              {"event_type", rule.event_type},
              {"conditions", conditions},
              {"window", window_json(rule.window)},
              {"effect", effect_json(rule.effect)},
              {"caps", caps_json(rule.caps)},
              {"priority", rule.priority},
              {"stacks", rule.stacks},
              {"enabled", rule.enabled}};
  if (rule.items) {
    out["items"] = {{"skus", rule.items->skus},
                    {"categories", rule.items->categories},
                    {"brands", rule.items->brands},
                    {"min_quantity", rule.items->min_quantity}};
  }
  return out;
}

json to_json(const Campaign& campaign) {
  json rules = json::array();
  for (const Rule& rule : campaign.rules) rules.push_back(to_json(rule));
  json out = {{"id", campaign.id},
              {"version", campaign.version},
              {"name", campaign.name},
              {"budget", campaign.budget},
              {"exclusive", campaign.exclusive},
              {"enabled", campaign.enabled},
              {"rules", rules}};
  out["from"] = format_rfc3339_utc(campaign.from_us);
  if (campaign.until_us != kTimeNever) out["until"] = format_rfc3339_utc(campaign.until_us);
  return out;
}

json to_json(const TierProgram& tiers) {
  json list = json::array();
  for (const Tier& tier : tiers.tiers) {
    list.push_back({{"id", tier.id},
                    {"name", tier.name},
                    {"threshold", tier.threshold},
                    {"earn_percent", tier.earn_percent},
                    {"validity_days", tier.validity_days},
                    {"redemption_discount_percent", tier.redemption_discount_percent},
                    {"exclusive_item_tags", tier.exclusive_item_tags}});
  }
  json out = {{"measure", enum_name(kTierMeasureNames, tiers.measure)},
              {"period", enum_name(kTierPeriodNames, tiers.period)},
              {"downgrade", enum_name(kDowngradeNames, tiers.downgrade)},
              {"tiers", list}};
  if (tiers.measure == TierMeasure::money_spent) out["currency"] = tiers.currency;
  if (tiers.period == TierPeriod::rolling_months) out["months"] = tiers.months;
  if (tiers.downgrade == DowngradePolicy::grace) out["grace_periods"] = tiers.grace_periods;
  return out;
}

json to_json(const Engagement& engagement) {
  const CheckinProgram& checkin = engagement.checkin;
  json rewards = json::array();
  for (const StreakReward& reward : checkin.streak_rewards)
    rewards.push_back({{"day", reward.day}, {"points", reward.points}});
  const ReferralProgram& referral = engagement.referral;
  json referral_json = {{"enabled", referral.enabled},
                        {"referrer_points", referral.referrer_points},
                        {"friend_points", referral.friend_points},
                        {"max_rewards_per_month", referral.max_rewards_per_month}};
  if (!referral.currency.empty()) {
    referral_json["min_purchase"] = {{"amount", referral.min_purchase_minor},
                                     {"currency", referral.currency}};
  }
  return {{"checkin",
           {{"enabled", checkin.enabled},
            {"points", checkin.points},
            {"streak_rewards", rewards},
            {"cycle_days", checkin.cycle_days}}},
          {"referral", referral_json}};
}

std::vector<FieldError> check_program(const Program& program) {
  std::vector<FieldError> errors;
  check_unique(rule_ids(program.rules), "rules", errors);
  std::vector<std::string> campaign_ids;
  for (std::size_t c = 0; c < program.campaigns.size(); ++c) {
    const Campaign& campaign = program.campaigns[c];
    campaign_ids.push_back(campaign.id);
    check_unique(rule_ids(campaign.rules), "campaigns[" + std::to_string(c) + "].rules", errors);
  }
  check_unique(campaign_ids, "campaigns", errors);
  check_of_rules(program.rules, "rules", program.rules, nullptr, errors);
  for (std::size_t c = 0; c < program.campaigns.size(); ++c) {
    const Campaign& campaign = program.campaigns[c];
    check_of_rules(campaign.rules, "campaigns[" + std::to_string(c) + "].rules", program.rules,
                   &campaign.rules, errors);
  }
  check_exclusive_campaigns(program.campaigns, errors);
  return errors;
}

}  // namespace pointsmall::rules
