#include "mall/catalog.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstddef>
#include <iterator>
#include <limits>
#include <string_view>
#include <tuple>
#include <utility>

#include "core/time_zone.h"
#include "rules/evaluate.h"

namespace pointsmall::mall {
namespace {

using nlohmann::json;
__extension__ using Int128 = __int128;  // products of prices and quantities exceed 64 bits

// Limits of an item document (each list and text has one).
constexpr std::size_t kMaxNameLength = 128;
constexpr std::size_t kMaxDescriptionLength = 4000;
constexpr std::size_t kMaxLabelLength = 64;  // category, brand, tag
constexpr std::size_t kMaxTags = 50;
constexpr std::size_t kMaxImages = 10;
constexpr std::size_t kMaxImageLength = 512;
constexpr std::size_t kMaxEligibleTiers = 20;
constexpr Points kMaxPointsPrice = 1'000'000'000;
constexpr std::int64_t kMaxStock = 1'000'000'000;
constexpr std::int64_t kMaxPerOrder = 1'000'000;
constexpr std::int64_t kMaxPeriodUnits = 1'000'000'000;
constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();

// Limits of a shipping address.
constexpr std::size_t kMaxAddressLine = 200;
constexpr std::size_t kMaxCityLength = 100;
constexpr std::size_t kMaxPostalCodeLength = 16;
constexpr std::size_t kMinPhoneLength = 4;
constexpr std::size_t kMinPhoneDigits = 4;
constexpr std::size_t kMaxPhoneLength = 32;

constexpr std::array<std::string_view, 4> kKindNames = {"physical", "coupon", "service",
                                                        "tier_upgrade"};
constexpr std::array<std::string_view, 4> kPeriodNames = {"day", "week", "month", "lifetime"};

constexpr std::array<std::string_view, 18> kItemFields = {
    "id",           "name",           "description",   "kind",
    "category",     "brand",          "tags",          "images",
    "points_price", "cash_price",     "stock",         "limits",
    "window",       "eligible_tiers", "tier_discount", "coupon_template",
    "tier",         "active"};
constexpr std::array<std::string_view, 8> kAddressFields = {
    "name", "phone", "line1", "line2", "city", "region", "postal_code", "country"};

// ---- Words ---------------------------------------------------------------------------------

bool contains(const std::vector<std::string>& values, std::string_view value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

bool is_blank(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c == ' '; });
}

// ---- Reading -------------------------------------------------------------------------------

// Records an error with a "did you mean" hint for every member of `reader` not in `known`.
void reject_unknown(Fields& reader, const std::vector<std::string_view>& known) {
  reader.reject_unknown(
      known, [&](std::string_view name) { return with_hint("is not a known field", name, known); });
}

// One of `names`, with a "did you mean" hint when it is not.
std::optional<std::size_t> read_choice(Fields& reader, std::string_view name, bool required,
                                       const std::vector<std::string_view>& names) {
  auto text = reader.text(name, TextRule{.required = required, .max_length = 64});
  if (!text) return std::nullopt;
  const auto it = std::find(names.begin(), names.end(), *text);
  if (it == names.end()) {
    reader.error(name, with_hint(one_of_message(names), *text, names));
    return std::nullopt;
  }
  return static_cast<std::size_t>(std::distance(names.begin(), it));
}

// A text of 0..max_length characters; "" when absent or invalid.
std::string read_text(Fields& reader, std::string_view name, std::size_t max_length) {
  return reader.text(name, TextRule{.min_length = 0, .max_length = max_length}).value_or("");
}

// A required text that is not blank; "" when absent or invalid.
std::string read_required_text(Fields& reader, std::string_view name, std::size_t max_length) {
  auto text = reader.text(name, TextRule{.required = true, .max_length = max_length});
  if (!text) return "";
  if (is_blank(*text)) {
    reader.error(name, "must not be blank");
    return "";
  }
  return std::move(*text);
}

// Empty when `url` is an https:// or http:// URL or an absolute path ("/images/a.png"; not
// "//host", which browsers read as another host), without spaces or control characters.
std::string image_problem(std::string_view url) {
  if (url.size() > kMaxImageLength) return "must have at most 512 characters";
  const bool control = std::any_of(url.begin(), url.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte <= 0x20 || byte == 0x7F;
  });
  if (control) return "must not contain spaces or control characters";
  for (const std::string_view prefix : {"https://", "http://"}) {
    if (url.starts_with(prefix) && url.size() > prefix.size()) return "";
  }
  if (url.size() > 1 && url[0] == '/' && url[1] != '/') return "";
  return "must be an https:// or http:// URL or a path starting with /";
}

// ---- Reading an item -----------------------------------------------------------------------

void read_descriptions(Fields& reader, Item& item) {
  item.id = reader.id("id", true).value_or("");
  item.name = read_required_text(reader, "name", kMaxNameLength);
  item.description = read_text(reader, "description", kMaxDescriptionLength);
  item.category = read_text(reader, "category", kMaxLabelLength);
  item.brand = read_text(reader, "brand", kMaxLabelLength);
  item.tags = reader.texts("tags", kMaxTags, [](std::string_view tag) {
    return text_problem(tag, TextRule{.max_length = kMaxLabelLength});
  });
  item.images = reader.texts("images", kMaxImages, image_problem);
}

void read_prices(Fields& reader, Item& item) {
  item.points_price = reader.integer("points_price", true, 1, kMaxPointsPrice).value_or(1);
  if (auto cash = reader.money("cash_price", false, 1))
    item.cash_price = CashPrice{cash->amount, std::move(cash->currency)};
  item.stock = reader.integer("stock", false, 0, kMaxStock);
}

std::optional<PeriodLimit> read_period_limit(Fields& parent, std::string_view name) {
  auto reader = parent.object(name, false);
  if (!reader) return std::nullopt;
  const auto units = reader->integer("units", true, 1, kMaxPeriodUnits);
  const auto period = read_choice(*reader, "period", true, name_list(kPeriodNames));
  reject_unknown(*reader, {"units", "period"});
  if (!units || !period) return std::nullopt;
  return PeriodLimit{*units, static_cast<rules::Period>(*period)};
}

void read_limits(Fields& parent, Item& item) {
  auto reader = parent.object("limits", false);
  if (!reader) return;
  item.limits.per_order = reader->integer("per_order", false, 1, kMaxPerOrder);
  item.limits.per_member = read_period_limit(*reader, "per_member");
  item.limits.global = read_period_limit(*reader, "global");
  reject_unknown(*reader, {"per_order", "per_member", "global"});
}

void read_window(Fields& parent, Item& item) {
  auto reader = parent.object("window", false);
  if (!reader) return;
  item.window.from_us = reader->whole_second_time("from", false);
  item.window.until_us = reader->whole_second_time("until", false);
  if (item.window.from_us && item.window.until_us && *item.window.until_us <= *item.window.from_us)
    reader->error("until", "must be after window.from");
  reject_unknown(*reader, {"from", "until"});
}

// The id field `name` that items of kind `owner` must have and other items must not have.
std::string read_kind_id(Fields& reader, std::string_view name, std::optional<ItemKind> kind,
                         ItemKind owner) {
  const bool present = reader.has(name);
  if (kind && *kind != owner) {
    if (present) reader.error(name, "is only for items of kind " + kind_name(owner));
    return "";
  }
  if (kind && !present) {
    reader.error(name, "is required for items of kind " + kind_name(owner));
    return "";
  }
  return reader.id(name, false).value_or("");
}

void read_tiers(Fields& reader, Item& item, std::optional<ItemKind> kind) {
  item.eligible_tiers = reader.texts("eligible_tiers", kMaxEligibleTiers, id_problem);
  item.tier_discount = reader.boolean("tier_discount", true);
  item.coupon_template = read_kind_id(reader, "coupon_template", kind, ItemKind::coupon);
  item.tier = read_kind_id(reader, "tier", kind, ItemKind::tier_upgrade);
}

// ---- Tiers ---------------------------------------------------------------------------------

// The member's tier (a level outside the list counts as the nearest); nullptr without tiers.
const rules::Tier* tier_at(const rules::Program& program, int level) {
  if (!program.tiers || program.tiers->tiers.empty()) return nullptr;
  const auto& tiers = program.tiers->tiers;
  const auto last = static_cast<int>(tiers.size()) - 1;
  return &tiers[static_cast<std::size_t>(std::clamp(level, 0, last))];
}

const rules::Tier* find_tier(const rules::Program& program, std::string_view id) {
  if (!program.tiers) return nullptr;
  for (const rules::Tier& tier : program.tiers->tiers) {
    if (tier.id == id) return &tier;
  }
  return nullptr;
}

std::string tier_display_name(const rules::Tier& tier) {
  return tier.name.empty() ? tier.id : tier.name;
}

// "Gold, Platinum" for tier ids (an id the program lacks stands for itself).
std::string tier_names(const rules::Program& program, const std::vector<std::string>& ids) {
  std::string names;
  for (const std::string& id : ids) {
    if (!names.empty()) names += ", ";
    const rules::Tier* tier = find_tier(program, id);
    names += tier == nullptr ? id : tier_display_name(*tier);
  }
  return names;
}

// The ids of the tiers that list `tag` as exclusive.
std::vector<std::string> tiers_owning(const rules::Program& program, const std::string& tag) {
  std::vector<std::string> owners;
  if (!program.tiers) return owners;
  for (const rules::Tier& tier : program.tiers->tiers) {
    if (contains(tier.exclusive_item_tags, tag)) owners.push_back(tier.id);
  }
  return owners;
}

// Empty when a member of `level` may see the item as far as tiers go; else why not, in words.
std::string tier_refusal(const Item& item, const rules::Program& program, int level) {
  const rules::Tier* tier = tier_at(program, level);
  if (tier == nullptr) return "";
  if (!item.eligible_tiers.empty() && !contains(item.eligible_tiers, tier->id))
    return "only for members of " + tier_names(program, item.eligible_tiers);
  for (const std::string& tag : item.tags) {
    if (contains(tier->exclusive_item_tags, tag)) continue;
    const std::vector<std::string> owners = tiers_owning(program, tag);
    if (!owners.empty())
      return "\"" + tag + "\" items are only for members of " + tier_names(program, owners);
  }
  return "";
}

// ---- Redemption ----------------------------------------------------------------------------

struct Refusal {
  std::string problem;
  std::string detail;
};

// The counters of one redemption of `item` (see catalog.h for the names).
struct ItemCounters {
  CounterKey taken;
  std::optional<CounterKey> member;
  std::optional<CounterKey> global;
};

ItemCounters item_counters(const Item& item, MemberId member, TimeUs at_us,
                           const rules::Program& program) {
  const std::string prefix = "item:" + item.id + ":";
  ItemCounters counters{.taken = {0, prefix + "taken"}};
  if (item.limits.per_member) {
    counters.member = CounterKey{
        member, prefix + "member:" +
                    rules::period_key(item.limits.per_member->period, at_us, *program.zone)};
  }
  if (item.limits.global) {
    counters.global = CounterKey{
        0,
        prefix + "global:" + rules::period_key(item.limits.global->period, at_us, *program.zone)};
  }
  return counters;
}

std::string two_digits(int value) {
  return {static_cast<char>('0' + value / 10 % 10), static_cast<char>('0' + value % 10)};
}

// "2026-11-22 10:00 Asia/Shanghai": the local time of an instant, for details.
std::string format_local_minute(const TimeZone& zone, TimeUs at_us) {
  const CivilTime local = zone.to_local(at_us);
  return format_local_date(zone, at_us) + " " + two_digits(local.hour) + ":" +
         two_digits(local.minute) + " " + zone.name();
}

// "" for lifetime, else " per day" and so on.
std::string per_period_words(rules::Period period) {
  switch (period) {
    case rules::Period::day:
      return " per day";
    case rules::Period::week:
      return " per week";
    case rules::Period::month:
      return " per month";
    case rules::Period::lifetime:
      break;
  }
  return "";
}

std::optional<Refusal> availability_refusal(const Item& item, const rules::Program& program,
                                            int tier_level, TimeUs at_us) {
  if (!item.active) return Refusal{kItemUnavailable, "this item is not available"};
  std::string tier_detail = tier_refusal(item, program, tier_level);
  if (!tier_detail.empty()) return Refusal{kItemNotEligible, std::move(tier_detail)};
  if (item.window.from_us && at_us < *item.window.from_us) {
    return Refusal{kItemNotYetAvailable,
                   "available from " + format_local_minute(*program.zone, *item.window.from_us)};
  }
  if (item.window.until_us && at_us >= *item.window.until_us) {
    return Refusal{
        kItemNoLongerAvailable,
        "was available until " + format_local_minute(*program.zone, *item.window.until_us)};
  }
  return std::nullopt;
}

std::optional<Refusal> quantity_refusal(const Item& item, Points unit_points,
                                        std::int64_t quantity) {
  if (quantity < 1)
    return Refusal{kInvalidQuantity,
                   "quantity must be at least 1, not " + std::to_string(quantity)};
  const MinorUnits cash_minor = item.cash_price ? item.cash_price->amount_minor : 0;
  if (Int128{unit_points} * quantity > kInt64Max || Int128{cash_minor} * quantity > kInt64Max) {
    return Refusal{kInvalidQuantity,
                   std::to_string(quantity) + " units cost more than can be counted"};
  }
  if (item.limits.per_order && quantity > *item.limits.per_order) {
    return Refusal{kLimitPerOrder,
                   "at most " + std::to_string(*item.limits.per_order) + " per order"};
  }
  return std::nullopt;
}

// Units left of `limit` after `used` (never below 0).
std::int64_t units_left(std::int64_t limit, std::int64_t used) {
  return used >= limit ? 0 : static_cast<std::int64_t>(Int128{limit} - used);
}

bool exceeds(std::int64_t used, std::int64_t quantity, std::int64_t limit) {
  return Int128{used} + quantity > limit;
}

std::optional<Refusal> counter_refusal(const Item& item, const ItemCounters& keys,
                                       std::int64_t quantity, const Counters& current) {
  const std::int64_t taken = counter_value(current, keys.taken);
  if (item.stock && exceeds(taken, quantity, *item.stock)) {
    const std::int64_t left = units_left(*item.stock, taken);
    return Refusal{kOutOfStock, left == 0 ? "sold out" : "only " + std::to_string(left) + " left"};
  }
  if (keys.member) {
    const PeriodLimit& limit = *item.limits.per_member;
    const std::int64_t used = counter_value(current, *keys.member);
    if (exceeds(used, quantity, limit.units)) {
      return Refusal{kLimitPerMember, "at most " + std::to_string(limit.units) + " per member" +
                                          per_period_words(limit.period) + "; you have " +
                                          std::to_string(units_left(limit.units, used)) + " left"};
    }
  }
  if (keys.global) {
    const PeriodLimit& limit = *item.limits.global;
    const std::int64_t used = counter_value(current, *keys.global);
    if (exceeds(used, quantity, limit.units)) {
      return Refusal{kLimitGlobal, "at most " + std::to_string(limit.units) + " for all members" +
                                       per_period_words(limit.period) + "; " +
                                       std::to_string(units_left(limit.units, used)) + " left"};
    }
  }
  return std::nullopt;
}

std::int64_t saturating_add(std::int64_t value, std::int64_t delta) {
  return static_cast<std::int64_t>(std::min<Int128>(Int128{value} + delta, kInt64Max));
}

// Puts `key` at current - quantity (not below 0) into `updates` when that changes it.
void give_back(const CounterKey& key, std::int64_t quantity, const Counters& current,
               Counters& updates) {
  const std::int64_t value = counter_value(current, key);
  const std::int64_t after = value > quantity ? value - quantity : 0;
  if (after != value) updates[key] = after;
}

// ---- Listing -------------------------------------------------------------------------------

char lower(char c) {
  return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

// True when `needle` occurs in `text`, ignoring ASCII case.
bool contains_folded(std::string_view text, std::string_view needle) {
  const auto it = std::search(text.begin(), text.end(), needle.begin(), needle.end(),
                              [](char a, char b) { return lower(a) == lower(b); });
  return it != text.end();
}

bool text_matches(const Item& item, std::string_view text) {
  if (contains_folded(item.name, text) || contains_folded(item.description, text) ||
      contains_folded(item.brand, text))
    return true;
  return std::any_of(item.tags.begin(), item.tags.end(),
                     [&](const std::string& tag) { return contains_folded(tag, text); });
}

// ---- Shipping ------------------------------------------------------------------------------

// Optional: 4..32 of digits, spaces, + - ( ), at least 4 of them digits; "" when absent or invalid.
std::string read_phone(Fields& reader) {
  auto phone =
      reader.text("phone", TextRule{.min_length = kMinPhoneLength, .max_length = kMaxPhoneLength});
  if (!phone) return "";
  const bool allowed = std::all_of(phone->begin(), phone->end(), [](char c) {
    return (c >= '0' && c <= '9') || c == ' ' || c == '+' || c == '-' || c == '(' || c == ')';
  });
  const auto digits = static_cast<std::size_t>(
      std::count_if(phone->begin(), phone->end(), [](char c) { return c >= '0' && c <= '9'; }));
  if (!allowed || digits < kMinPhoneDigits) {
    reader.error("phone",
                 "must be 4 to 32 characters of digits, spaces, +, -, ( and ), at least 4 of them "
                 "digits");
    return "";
  }
  return std::move(*phone);
}

// Required: an ISO 3166-1 alpha-2 code ("GB"); "" when absent or invalid.
std::string read_country(Fields& reader) {
  auto country =
      reader.text("country", TextRule{.required = true, .min_length = 2, .max_length = 2});
  if (!country) return "";
  if (!std::all_of(country->begin(), country->end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
    reader.error("country", "must be an ISO 3166-1 alpha-2 code of two upper-case letters");
    return "";
  }
  return std::move(*country);
}

}  // namespace

std::string kind_name(ItemKind kind) {
  return std::string(enum_name(kKindNames, kind));
}

bool needs_shipping(const Item& item) {
  return item.kind == ItemKind::physical;
}

// ---- Items -------------------------------------------------------------------------------------

std::optional<Item> read_item(const nlohmann::json& document, std::vector<FieldError>& errors) {
  if (!document.is_object()) {
    errors.push_back({"", "must be a JSON object, not " + json_type_name(document)});
    return std::nullopt;
  }
  const std::size_t before = errors.size();
  Fields reader(document, "", errors);
  Item item;
  const auto kind = read_choice(reader, "kind", true, name_list(kKindNames));
  if (kind) item.kind = static_cast<ItemKind>(*kind);
  const std::optional<ItemKind> known_kind =
      kind ? std::optional<ItemKind>(item.kind) : std::nullopt;
  read_descriptions(reader, item);
  read_prices(reader, item);
  read_limits(reader, item);
  read_window(reader, item);
  read_tiers(reader, item, known_kind);
  item.active = reader.boolean("active", true);
  reject_unknown(reader, name_list(kItemFields));
  if (errors.size() != before) return std::nullopt;
  return item;
}

namespace {

json limit_json(const PeriodLimit& limit) {
  const auto index = std::min<std::size_t>(static_cast<std::size_t>(limit.period), 3);
  return {{"units", limit.units}, {"period", kPeriodNames[index]}};
}

json limits_json(const Limits& limits) {
  json out = json::object();
  if (limits.per_order) out["per_order"] = *limits.per_order;
  if (limits.per_member) out["per_member"] = limit_json(*limits.per_member);
  if (limits.global) out["global"] = limit_json(*limits.global);
  return out;
}

json window_json(const SaleWindow& window) {
  json out = json::object();
  if (window.from_us) out["from"] = format_rfc3339_utc(*window.from_us);
  if (window.until_us) out["until"] = format_rfc3339_utc(*window.until_us);
  return out;
}

}  // namespace

nlohmann::json to_json(const Item& item) {
  json document = {{"id", item.id},
                   {"name", item.name},
                   {"description", item.description},
                   {"kind", kind_name(item.kind)},
                   {"category", item.category},
                   {"brand", item.brand},
                   {"tags", item.tags},
                   {"images", item.images},
                   {"points_price", item.points_price},
                   {"eligible_tiers", item.eligible_tiers},
                   {"tier_discount", item.tier_discount},
                   {"active", item.active}};
  if (item.cash_price) {
    document["cash_price"] = {{"amount", item.cash_price->amount_minor},
                              {"currency", item.cash_price->currency}};
  }
  if (item.stock) document["stock"] = *item.stock;
  if (json limits = limits_json(item.limits); !limits.empty()) document["limits"] = limits;
  if (json window = window_json(item.window); !window.empty()) document["window"] = window;
  if (!item.coupon_template.empty()) document["coupon_template"] = item.coupon_template;
  if (!item.tier.empty()) document["tier"] = item.tier;
  return document;
}

std::vector<FieldError> check_item(const Item& item, const rules::Program& program) {
  std::vector<std::string_view> known;
  if (program.tiers) {
    for (const rules::Tier& tier : program.tiers->tiers) known.push_back(tier.id);
  }
  const auto problem = [&](const std::string& id) -> std::string {
    if (find_tier(program, id) != nullptr) return "";
    if (known.empty()) return "is not a tier: the program has no tiers";
    return with_hint("is not a tier of the program", id, known);
  };
  std::vector<FieldError> errors;
  for (std::size_t i = 0; i < item.eligible_tiers.size(); ++i) {
    std::string message = problem(item.eligible_tiers[i]);
    if (!message.empty())
      errors.push_back({"eligible_tiers[" + std::to_string(i) + "]", std::move(message)});
  }
  if (!item.tier.empty()) {
    std::string message = problem(item.tier);
    if (!message.empty()) errors.push_back({"tier", std::move(message)});
  }
  return errors;
}

// ---- Prices ------------------------------------------------------------------------------------

Points unit_points_price(const Item& item, const rules::Program& program, int tier_level) {
  const Points price = std::max<Points>(1, item.points_price);
  const rules::Tier* tier = tier_at(program, tier_level);
  if (!item.tier_discount || tier == nullptr) return price;
  const int discount_percent = std::clamp(tier->redemption_discount_percent, 0, 100);
  // Rounded up: the member never pays less than the exact discounted price.
  const Int128 discounted = (Int128{price} * (100 - discount_percent) + 99) / 100;
  return std::max<Points>(1, static_cast<Points>(discounted));
}

std::optional<Points> total_points(const Item& item, const rules::Program& program, int tier_level,
                                   std::int64_t quantity) {
  if (quantity < 1) return std::nullopt;
  const Int128 total = Int128{unit_points_price(item, program, tier_level)} * quantity;
  if (total > kInt64Max) return std::nullopt;
  return static_cast<Points>(total);
}

// ---- Visibility and listing --------------------------------------------------------------------

bool visible_to(const Item& item, const rules::Program& program, int tier_level) {
  return item.active && tier_refusal(item, program, tier_level).empty();
}

bool matches(const Item& item, const CatalogFilter& filter, const rules::Program& program) {
  if (!filter.include_inactive && !item.active) return false;
  if (!filter.category.empty() && item.category != filter.category) return false;
  if (filter.kind && kind_name(item.kind) != *filter.kind) return false;
  if (filter.tier_level && !tier_refusal(item, program, *filter.tier_level).empty()) return false;
  if (filter.affordable_with) {
    const Points price = filter.tier_level ? unit_points_price(item, program, *filter.tier_level)
                                           : std::max<Points>(1, item.points_price);
    if (price > *filter.affordable_with) return false;
  }
  return filter.text.empty() || text_matches(item, filter.text);
}

std::optional<CatalogOrder> parse_catalog_order(std::string_view text) {
  if (text == "id") return CatalogOrder::by_id;
  if (text == "name") return CatalogOrder::name;
  if (text == "points") return CatalogOrder::points_ascending;
  if (text == "-points") return CatalogOrder::points_descending;
  if (text == "popular") return CatalogOrder::popular;
  return std::nullopt;
}

void order_items(std::vector<const Item*>& items, CatalogOrder order, const rules::Program& program,
                 std::optional<int> tier_level,
                 const std::function<std::int64_t(const Item&)>& taken) {
  if (order == CatalogOrder::by_id) return;
  if (order == CatalogOrder::name) {
    std::stable_sort(items.begin(), items.end(),
                     [](const Item* a, const Item* b) { return a->name < b->name; });
    return;
  }
  // One key per item, computed once: a price at the tier, or (sold out last, since a member
  // cannot have those) the units gone out.
  struct Keyed {
    bool sold_out = false;
    std::int64_t key = 0;
    const Item* item = nullptr;
  };
  std::vector<Keyed> keyed;
  keyed.reserve(items.size());
  for (const Item* item : items) {
    Keyed entry{false, 0, item};
    if (order == CatalogOrder::popular) {
      const std::int64_t gone = taken(*item);
      entry.sold_out = item->stock && gone >= *item->stock;
      entry.key = -gone;
    } else {
      entry.key = tier_level ? unit_points_price(*item, program, *tier_level) : item->points_price;
      if (order == CatalogOrder::points_descending) entry.key = -entry.key;
    }
    keyed.push_back(entry);
  }
  std::stable_sort(keyed.begin(), keyed.end(), [](const Keyed& a, const Keyed& b) {
    return std::tie(a.sold_out, a.key) < std::tie(b.sold_out, b.key);
  });
  for (std::size_t i = 0; i < items.size(); ++i) items[i] = keyed[i].item;
}

// ---- Redemption --------------------------------------------------------------------------------

std::vector<CounterKey> redemption_counters(const Item& item, MemberId member, TimeUs at_us,
                                            const rules::Program& program) {
  ItemCounters keys = item_counters(item, member, at_us, program);
  std::vector<CounterKey> out{std::move(keys.taken)};
  if (keys.member) out.push_back(std::move(*keys.member));
  if (keys.global) out.push_back(std::move(*keys.global));
  return out;
}

RedemptionCheck check_redemption(const Item& item, const rules::Program& program, MemberId member,
                                 int tier_level, std::int64_t quantity, const Counters& current,
                                 TimeUs at_us) {
  RedemptionCheck check;
  check.unit_points = unit_points_price(item, program, tier_level);
  const ItemCounters keys = item_counters(item, member, at_us, program);
  std::optional<Refusal> refusal = availability_refusal(item, program, tier_level, at_us);
  if (!refusal) refusal = quantity_refusal(item, check.unit_points, quantity);
  if (!refusal) refusal = counter_refusal(item, keys, quantity, current);
  if (refusal) {
    check.problem = std::move(refusal->problem);
    check.detail = std::move(refusal->detail);
    return check;
  }
  check.total_points = check.unit_points * quantity;  // quantity_refusal ruled out overflow
  check.total_cash_minor = item.cash_price ? item.cash_price->amount_minor * quantity : 0;
  check.updates[keys.taken] = saturating_add(counter_value(current, keys.taken), quantity);
  if (keys.member) {
    check.updates[*keys.member] = saturating_add(counter_value(current, *keys.member), quantity);
  }
  if (keys.global) {
    check.updates[*keys.global] = saturating_add(counter_value(current, *keys.global), quantity);
  }
  return check;
}

Counters give_back_updates(const Item& item, MemberId member, std::int64_t quantity,
                           TimeUs reserved_at_us, const rules::Program& program,
                           const Counters& current) {
  Counters updates;
  if (quantity < 1) return updates;
  const ItemCounters keys = item_counters(item, member, reserved_at_us, program);
  give_back(keys.taken, quantity, current, updates);
  if (keys.member) give_back(*keys.member, quantity, current, updates);
  if (keys.global) give_back(*keys.global, quantity, current, updates);
  return updates;
}

// ---- Shipping ----------------------------------------------------------------------------------

std::optional<ShippingAddress> read_shipping_address(const nlohmann::json& value, std::string path,
                                                     std::vector<FieldError>& errors) {
  if (!value.is_object()) {
    errors.push_back({std::move(path), "must be an object, not " + json_type_name(value)});
    return std::nullopt;
  }
  const std::size_t before = errors.size();
  Fields reader(value, std::move(path), errors);
  ShippingAddress address;
  address.name = read_required_text(reader, "name", kMaxNameLength);
  address.phone = read_phone(reader);
  address.line1 = read_required_text(reader, "line1", kMaxAddressLine);
  address.line2 = reader.text("line2", TextRule{.max_length = kMaxAddressLine}).value_or("");
  address.city = read_required_text(reader, "city", kMaxCityLength);
  address.region = reader.text("region", TextRule{.max_length = kMaxCityLength}).value_or("");
  address.postal_code = read_required_text(reader, "postal_code", kMaxPostalCodeLength);
  address.country = read_country(reader);
  reject_unknown(reader, name_list(kAddressFields));
  if (errors.size() != before) return std::nullopt;
  return address;
}

nlohmann::json to_json(const ShippingAddress& address) {
  json out = {{"name", address.name},
              {"line1", address.line1},
              {"city", address.city},
              {"postal_code", address.postal_code},
              {"country", address.country}};
  if (!address.phone.empty()) out["phone"] = address.phone;
  if (!address.line2.empty()) out["line2"] = address.line2;
  if (!address.region.empty()) out["region"] = address.region;
  return out;
}

std::optional<ShippingAddress> address_from_json(const nlohmann::json& value) {
  std::vector<FieldError> ignored;
  return read_shipping_address(value, "", ignored);
}

}  // namespace pointsmall::mall
