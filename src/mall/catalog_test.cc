// Tests of the mall catalog (mall/catalog.h): item documents, prices after tier discounts,
// visibility and listing filters, the redemption checks against stock and limit counters, giving
// units back, and shipping addresses. Redemptions run one after another with each check's counter
// updates fed back, as the store does.
#include "mall/catalog.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "rules/evaluate.h"

namespace pointsmall::mall {
namespace {

using nlohmann::json;

constexpr MemberId kMember = 42;
constexpr MemberId kOtherMember = 43;

// Tier levels of tiered_program().
constexpr int kBronze = 0;
constexpr int kSilver = 1;
constexpr int kGold = 2;
constexpr int kPlatinum = 3;

std::shared_ptr<const TimeZone> load_zone(const char* name) {
  auto zone = TimeZone::load(name);
  EXPECT_NE(zone, nullptr) << "tzdata is missing " << name;
  return zone ? zone : TimeZone::utc();
}

TimeUs utc(const char* rfc3339) {
  return parse_rfc3339(rfc3339).value();
}

// Bronze 0% off, Silver 10%, Gold 15% with "vip" items, Platinum 25% with "vip" and "black".
rules::Program tiered_program(const char* zone = "UTC") {
  rules::Program program;
  program.zone = load_zone(zone);
  rules::TierProgram tiers;
  tiers.tiers = {
      {.id = "bronze", .name = "Bronze"},
      {.id = "silver", .name = "Silver", .threshold = 100, .redemption_discount_percent = 10},
      {.id = "gold",
       .name = "Gold",
       .threshold = 1000,
       .redemption_discount_percent = 15,
       .exclusive_item_tags = {"vip"}},
      {.id = "platinum",
       .name = "Platinum",
       .threshold = 5000,
       .redemption_discount_percent = 25,
       .exclusive_item_tags = {"vip", "black"}}};
  program.tiers = tiers;
  return program;
}

rules::Program program_in(const char* zone) {
  rules::Program program;
  program.zone = load_zone(zone);
  return program;
}

Item item_of(const std::string& id, Points points_price) {
  Item item;
  item.id = id;
  item.name = id;
  item.kind = ItemKind::service;
  item.points_price = points_price;
  return item;
}

// A valid document that sets every field.
json full_document() {
  return json::parse(R"({
    "id": "mug-2026", "name": "Winter mug", "description": "A mug for tea.",
    "kind": "coupon", "category": "kitchen", "brand": "Acme", "tags": ["winter", "vip"],
    "images": ["https://cdn.example.com/mug.png", "/images/mug-2.png"],
    "points_price": 999, "cash_price": {"amount": 500, "currency": "GBP"}, "stock": 100,
    "limits": {"per_order": 2, "per_member": {"units": 1, "period": "day"},
               "global": {"units": 100, "period": "lifetime"}},
    "window": {"from": "2026-11-01T00:00:00Z", "until": "2027-01-01T00:00:00Z"},
    "eligible_tiers": ["gold", "platinum"], "tier_discount": false,
    "coupon_template": "mug-coupon", "active": false})");
}

// A valid document with only the required fields.
json minimal_document() {
  return {{"id", "mug"}, {"name", "Mug"}, {"kind", "physical"}, {"points_price", 500}};
}

std::string describe(const std::vector<FieldError>& errors) {
  std::string out;
  for (const FieldError& error : errors) out += "\n  " + error.field + ": " + error.message;
  return out;
}

bool has_error(const std::vector<FieldError>& errors, const std::string& field,
               const std::string& words) {
  return std::any_of(errors.begin(), errors.end(), [&](const FieldError& error) {
    return error.field == field && error.message.find(words) != std::string::npos;
  });
}

// Counters as "scope:name" -> value, so a failing comparison prints readably.
std::map<std::string, std::int64_t> named(const Counters& counters) {
  std::map<std::string, std::int64_t> out;
  for (const auto& [key, value] : counters) out[std::to_string(key.scope) + ":" + key.name] = value;
  return out;
}

void apply_updates(Counters& counters, const Counters& updates) {
  for (const auto& [key, value] : updates) counters[key] = value;
}

// Redeems and, when allowed, feeds the updates back into `counters`.
RedemptionCheck redeem(const Item& item, const rules::Program& program, Counters& counters,
                       std::int64_t quantity, TimeUs at_us, MemberId member = kMember,
                       int tier_level = kBronze) {
  RedemptionCheck check =
      check_redemption(item, program, member, tier_level, quantity, counters, at_us);
  if (check.problem.empty()) apply_updates(counters, check.updates);
  return check;
}

// ---- Documents ---------------------------------------------------------------------------------

TEST(CatalogDocument, FullDocumentRoundTripsExactly) {
  std::vector<FieldError> errors;
  const auto item = read_item(full_document(), errors);
  ASSERT_TRUE(item.has_value()) << describe(errors);
  EXPECT_EQ(item->kind, ItemKind::coupon);
  EXPECT_EQ(item->cash_price, (CashPrice{500, "GBP"}));
  EXPECT_EQ(item->limits.per_member, (PeriodLimit{1, rules::Period::day}));
  EXPECT_EQ(item->window.from_us, utc("2026-11-01T00:00:00Z"));
  EXPECT_FALSE(item->active);
  EXPECT_EQ(to_json(*item), full_document());
  const auto again = read_item(to_json(*item), errors);
  ASSERT_TRUE(again.has_value()) << describe(errors);
  EXPECT_EQ(*again, *item);
}

TEST(CatalogDocument, MinimalDocumentTakesTheDefaults) {
  std::vector<FieldError> errors;
  const auto item = read_item(minimal_document(), errors);
  ASSERT_TRUE(item.has_value()) << describe(errors);
  EXPECT_TRUE(item->active);
  EXPECT_TRUE(item->tier_discount);
  EXPECT_FALSE(item->stock.has_value());
  EXPECT_FALSE(item->cash_price.has_value());
  EXPECT_EQ(item->limits, Limits{});
  EXPECT_EQ(item->window, SaleWindow{});
  EXPECT_TRUE(needs_shipping(*item));
  const auto again = read_item(to_json(*item), errors);
  ASSERT_TRUE(again.has_value()) << describe(errors);
  EXPECT_EQ(*again, *item);
}

TEST(CatalogDocument, WindowTimesAreKeptToWholeSecondsWithTheirOffset) {
  json document = minimal_document();
  document["window"] = {{"from", "2026-11-22T08:00:00.750+08:00"}};
  std::vector<FieldError> errors;
  const auto item = read_item(document, errors);
  ASSERT_TRUE(item.has_value()) << describe(errors);
  EXPECT_EQ(item->window.from_us, utc("2026-11-22T00:00:00Z"));
  EXPECT_FALSE(item->window.until_us.has_value());
  EXPECT_EQ(to_json(*item)["window"], (json{{"from", "2026-11-22T00:00:00Z"}}));
}

struct ConstraintCase {
  const char* name;
  std::function<void(json&)> change;
  const char* field;
  const char* words;
};

std::string text_of(std::size_t length, char fill = 'a') {
  return std::string(length, fill);
}

// Cases of the descriptive fields: id, texts, kind, tags, images.
std::vector<ConstraintCase> description_cases() {
  return {
      {"id with capitals", [](json& d) { d["id"] = "Mug 1"; }, "id", "a-z"},
      {"id too long", [](json& d) { d["id"] = text_of(65); }, "id", "1 to 64"},
      {"id missing", [](json& d) { d.erase("id"); }, "id", "is required"},
      {"name missing", [](json& d) { d.erase("name"); }, "name", "is required"},
      {"name too long", [](json& d) { d["name"] = text_of(129); }, "name", "1 to 128"},
      {"name blank", [](json& d) { d["name"] = "   "; }, "name", "blank"},
      {"name with control", [](json& d) { d["name"] = "a\tb"; }, "name", "control"},
      {"description too long", [](json& d) { d["description"] = text_of(4001); }, "description",
       "0 to 4000"},
      {"kind near miss", [](json& d) { d["kind"] = "coupons"; }, "kind", "did you mean \"coupon\""},
      {"kind missing", [](json& d) { d.erase("kind"); }, "kind", "is required"},
      {"category too long", [](json& d) { d["category"] = text_of(65); }, "category", "0 to 64"},
      {"brand too long", [](json& d) { d["brand"] = text_of(65); }, "brand", "0 to 64"},
      {"too many tags", [](json& d) { d["tags"] = std::vector<std::string>(51, "t"); }, "tags",
       "at most 50"},
      {"empty tag",
       [](json& d) {
         d["tags"] = {"ok", ""};
       },
       "tags[1]", "1 to 64"},
      {"long tag", [](json& d) { d["tags"] = {text_of(65)}; }, "tags[0]", "1 to 64"},
      {"tag not a string",
       [](json& d) {
         d["tags"] = {"ok", 3};
       },
       "tags[1]", "must be a string"},
      {"tags not an array", [](json& d) { d["tags"] = "ok"; }, "tags", "array"},
      {"too many images", [](json& d) { d["images"] = std::vector<std::string>(11, "/a.png"); },
       "images", "at most 10"},
      {"image ftp", [](json& d) { d["images"] = {"ftp://example.com/a.png"}; }, "images[0]",
       "https://"},
      {"image other host", [](json& d) { d["images"] = {"//evil.example/a.png"}; }, "images[0]",
       "https://"},
      {"image relative", [](json& d) { d["images"] = {"a.png"}; }, "images[0]", "https://"},
      {"image with space", [](json& d) { d["images"] = {"/a b.png"}; }, "images[0]", "spaces"},
      {"image too long", [](json& d) { d["images"] = {"https://" + text_of(505)}; }, "images[0]",
       "512"},
  };
}

// Cases of prices, stock, limits and the window.
std::vector<ConstraintCase> sale_cases() {
  return {
      {"points price 0", [](json& d) { d["points_price"] = 0; }, "points_price", "between 1"},
      {"points price above 10^9", [](json& d) { d["points_price"] = 1'000'000'001; },
       "points_price", "1000000000"},
      {"points price fraction", [](json& d) { d["points_price"] = 10.5; }, "points_price",
       "integer"},
      {"points price missing", [](json& d) { d.erase("points_price"); }, "points_price",
       "is required"},
      {"cash amount 0",
       [](json& d) {
         d["cash_price"] = {{"amount", 0}, {"currency", "GBP"}};
       },
       "cash_price.amount", "between 1"},
      {"cash currency lower case",
       [](json& d) {
         d["cash_price"] = {{"amount", 1}, {"currency", "gbp"}};
       },
       "cash_price.currency", "ISO 4217"},
      {"stock negative", [](json& d) { d["stock"] = -1; }, "stock", "between 0"},
      {"stock above 10^9", [](json& d) { d["stock"] = 1'000'000'001; }, "stock", "between 0"},
      {"limits not an object", [](json& d) { d["limits"] = 5; }, "limits", "must be an object"},
      {"per order 0",
       [](json& d) {
         d["limits"] = {{"per_order", 0}};
       },
       "limits.per_order", "between 1"},
      {"per order above 10^6",
       [](json& d) {
         d["limits"] = {{"per_order", 1'000'001}};
       },
       "limits.per_order", "1000000"},
      {"per member units 0",
       [](json& d) {
         d["limits"] = {{"per_member", {{"units", 0}, {"period", "day"}}}};
       },
       "limits.per_member.units", "between 1"},
      {"per member period near miss",
       [](json& d) {
         d["limits"] = {{"per_member", {{"units", 1}, {"period", "daily"}}}};
       },
       "limits.per_member.period", "did you mean \"day\""},
      {"global units missing",
       [](json& d) {
         d["limits"] = {{"global", {{"period", "day"}}}};
       },
       "limits.global.units", "is required"},
      {"global unknown field",
       [](json& d) {
         d["limits"] = {{"global", {{"units", 1}, {"period", "day"}, {"member", 1}}}};
       },
       "limits.global.member", "is not a known field"},
      {"limits unknown field",
       [](json& d) {
         d["limits"] = {{"per_ordr", 1}};
       },
       "limits.per_ordr", "did you mean \"per_order\""},
      {"window from not a time",
       [](json& d) {
         d["window"] = {{"from", "tomorrow"}};
       },
       "window.from", "RFC 3339"},
      {"window until not after from",
       [](json& d) {
         d["window"] = {{"from", "2026-11-22T00:00:00Z"}, {"until", "2026-11-22T00:00:00Z"}};
       },
       "window.until", "after window.from"},
  };
}

// Cases of tiers, flags, unknown fields and the fields of one kind.
std::vector<ConstraintCase> tier_and_kind_cases() {
  return {
      {"eligible tier not an id",
       [](json& d) {
         d["eligible_tiers"] = {"gold", "Gold!"};
       },
       "eligible_tiers[1]", "a-z"},
      {"too many eligible tiers",
       [](json& d) { d["eligible_tiers"] = std::vector<std::string>(21, "gold"); },
       "eligible_tiers", "at most 20"},
      {"tier discount not a boolean", [](json& d) { d["tier_discount"] = "yes"; }, "tier_discount",
       "true or false"},
      {"active not a boolean", [](json& d) { d["active"] = 1; }, "active", "true or false"},
      {"unknown field near miss", [](json& d) { d["pointz_price"] = 5; }, "pointz_price",
       "did you mean \"points_price\""},
      {"coupon without template", [](json& d) { d["kind"] = "coupon"; }, "coupon_template",
       "required for items of kind coupon"},
      {"template on a physical item", [](json& d) { d["coupon_template"] = "tea"; },
       "coupon_template", "only for items of kind coupon"},
      {"coupon template not an id",
       [](json& d) {
         d["kind"] = "coupon";
         d["coupon_template"] = "Tea Coupon";
       },
       "coupon_template", "a-z"},
      {"tier upgrade without tier", [](json& d) { d["kind"] = "tier_upgrade"; }, "tier",
       "required for items of kind tier_upgrade"},
      {"tier on a service",
       [](json& d) {
         d["kind"] = "service";
         d["tier"] = "gold";
       },
       "tier", "only for items of kind tier_upgrade"},
  };
}

TEST(CatalogDocument, EveryConstraintIsReportedAtItsFieldPath) {
  std::vector<ConstraintCase> cases = description_cases();
  for (const auto& more : {sale_cases(), tier_and_kind_cases()}) {
    cases.insert(cases.end(), more.begin(), more.end());
  }
  for (const ConstraintCase& test : cases) {
    SCOPED_TRACE(test.name);
    json document = minimal_document();
    test.change(document);
    std::vector<FieldError> errors;
    EXPECT_FALSE(read_item(document, errors).has_value());
    EXPECT_TRUE(has_error(errors, test.field, test.words))
        << "expected " << test.field << ": ..." << test.words << "..., got" << describe(errors);
  }
}

TEST(CatalogDocument, EveryProblemIsReportedAtOnce) {
  json document = minimal_document();
  document["points_price"] = 0;
  document["stock"] = -1;
  document["colour"] = "red";
  std::vector<FieldError> errors;
  EXPECT_FALSE(read_item(document, errors).has_value());
  EXPECT_EQ(errors.size(), 3U) << describe(errors);
}

TEST(CatalogDocument, ADocumentMustBeAnObject) {
  std::vector<FieldError> errors;
  EXPECT_FALSE(read_item(json::array(), errors).has_value());
  EXPECT_TRUE(has_error(errors, "", "must be a JSON object")) << describe(errors);
}

TEST(CatalogDocument, KindDecidesWhetherAnItemIsShipped) {
  for (const ItemKind kind :
       {ItemKind::physical, ItemKind::coupon, ItemKind::service, ItemKind::tier_upgrade}) {
    Item item = item_of("x", 1);
    item.kind = kind;
    EXPECT_EQ(needs_shipping(item), kind == ItemKind::physical) << kind_name(kind);
  }
}

TEST(CatalogCheckItem, TierIdsMustBeTiersOfTheProgram) {
  Item item = item_of("upgrade", 1000);
  item.kind = ItemKind::tier_upgrade;
  item.tier = "diamond";
  item.eligible_tiers = {"gold", "golde"};
  const auto errors = check_item(item, tiered_program());
  EXPECT_EQ(errors.size(), 2U) << describe(errors);
  EXPECT_TRUE(has_error(errors, "eligible_tiers[1]", "did you mean \"gold\"")) << describe(errors);
  EXPECT_TRUE(has_error(errors, "tier", "is not a tier of the program")) << describe(errors);

  item.tier = "platinum";
  item.eligible_tiers = {"gold"};
  EXPECT_TRUE(check_item(item, tiered_program()).empty());
  EXPECT_TRUE(has_error(check_item(item, program_in("UTC")), "tier", "has no tiers"));
}

// ---- Prices ------------------------------------------------------------------------------------

TEST(CatalogPrice, TierDiscountIsRoundedUpSoTheMemberNeverPaysLessThanExact) {
  const rules::Program program = tiered_program();
  EXPECT_EQ(unit_points_price(item_of("x", 999), program, kGold), 850);  // 849.15 exactly
  EXPECT_EQ(unit_points_price(item_of("x", 1000), program, kGold), 850);
  EXPECT_EQ(unit_points_price(item_of("x", 999), program, kSilver), 900);  // 899.1
  EXPECT_EQ(unit_points_price(item_of("x", 999), program, kBronze), 999);
  for (Points price = 1; price <= 2000; ++price) {
    for (const int level : {kSilver, kGold, kPlatinum}) {
      const int discount =
          program.tiers->tiers[static_cast<std::size_t>(level)].redemption_discount_percent;
      const Points paid = unit_points_price(item_of("x", price), program, level);
      ASSERT_GE(paid * 100, price * (100 - discount)) << price << " at " << discount << "%";
      ASSERT_LT((paid - 1) * 100, price * (100 - discount)) << price << " at " << discount << "%";
      ASSERT_GE(paid, 1);
    }
  }
}

TEST(CatalogPrice, DiscountNeverTakesThePriceBelowOnePoint) {
  rules::Program program = tiered_program();
  program.tiers->tiers[kPlatinum].redemption_discount_percent = 100;
  EXPECT_EQ(unit_points_price(item_of("x", 1), program, kPlatinum), 1);
  EXPECT_EQ(unit_points_price(item_of("x", 1), program, kGold), 1);  // 0.85 rounds up to 1
}

TEST(CatalogPrice, NoDiscountWhenTheItemOptsOutOrTheProgramHasNoTiers) {
  Item item = item_of("x", 999);
  item.tier_discount = false;
  EXPECT_EQ(unit_points_price(item, tiered_program(), kPlatinum), 999);
  EXPECT_EQ(unit_points_price(item_of("x", 999), program_in("UTC"), kPlatinum), 999);
}

TEST(CatalogPrice, ALevelOutsideTheTiersCountsAsTheNearestTier) {
  const rules::Program program = tiered_program();
  EXPECT_EQ(unit_points_price(item_of("x", 1000), program, 9), 750);    // platinum
  EXPECT_EQ(unit_points_price(item_of("x", 1000), program, -1), 1000);  // bronze
}

TEST(CatalogPrice, TotalOfAQuantityIsRefusedWhenItWouldOverflow) {
  const rules::Program program = tiered_program();
  const Item item = item_of("x", 1'000'000'000);
  EXPECT_EQ(total_points(item, program, kBronze, 3), 3'000'000'000);
  EXPECT_EQ(total_points(item, program, kBronze, 9'223'372'036), 9'223'372'036'000'000'000);
  EXPECT_EQ(total_points(item, program, kBronze, 9'223'372'037), std::nullopt);
  EXPECT_EQ(total_points(item, program, kBronze, 0), std::nullopt);
  EXPECT_EQ(total_points(item, program, kBronze, -5), std::nullopt);
}

// ---- Visibility and listing --------------------------------------------------------------------

TEST(CatalogVisibility, InactiveItemsAreHiddenFromEveryTier) {
  Item item = item_of("x", 10);
  item.active = false;
  for (const int level : {kBronze, kSilver, kGold, kPlatinum})
    EXPECT_FALSE(visible_to(item, tiered_program(), level)) << level;
  EXPECT_FALSE(visible_to(item, program_in("UTC"), 0));
}

TEST(CatalogVisibility, EligibleTiersDecideWhoSeesTheItem) {
  Item item = item_of("x", 10);
  item.eligible_tiers = {"silver", "platinum"};
  const rules::Program program = tiered_program();
  EXPECT_FALSE(visible_to(item, program, kBronze));
  EXPECT_TRUE(visible_to(item, program, kSilver));
  EXPECT_FALSE(visible_to(item, program, kGold));
  EXPECT_TRUE(visible_to(item, program, kPlatinum));
  EXPECT_TRUE(visible_to(item, program_in("UTC"), 0));  // no tiers, no tier checks
}

TEST(CatalogVisibility, ExclusiveTagsAreOnlyForTheTiersListingThem) {
  const rules::Program program = tiered_program();
  Item vip = item_of("vip", 10);
  vip.tags = {"winter", "vip"};
  Item black = item_of("black", 10);
  black.tags = {"black"};
  Item both = item_of("both", 10);
  both.tags = {"vip", "black"};
  Item plain = item_of("plain", 10);
  plain.tags = {"winter"};
  const std::vector<std::pair<const Item*, std::vector<bool>>> expected = {
      {&vip, {false, false, true, true}},
      {&black, {false, false, false, true}},
      {&both, {false, false, false, true}},
      {&plain, {true, true, true, true}}};
  for (const auto& [item, visible] : expected) {
    for (int level = kBronze; level <= kPlatinum; ++level) {
      EXPECT_EQ(visible_to(*item, program, level), visible[static_cast<std::size_t>(level)])
          << item->id << " at level " << level;
    }
  }
}

std::vector<std::string> listed(const std::vector<Item>& items, const CatalogFilter& filter,
                                const rules::Program& program) {
  std::vector<std::string> ids;
  for (const Item& item : items) {
    if (matches(item, filter, program)) ids.push_back(item.id);
  }
  return ids;
}

std::vector<Item> shelf() {
  Item mug = item_of("mug", 999);
  mug.kind = ItemKind::physical;
  mug.category = "kitchen";
  mug.brand = "Acme";
  mug.description = "Keeps TEA warm";
  Item pan = item_of("pan", 2000);
  pan.kind = ItemKind::physical;
  pan.category = "kitchen";
  pan.tags = {"Cast-Iron"};
  Item lounge = item_of("lounge", 850);
  lounge.category = "travel";
  lounge.tags = {"vip"};
  Item old = item_of("old", 10);
  old.category = "kitchen";
  old.name = "Old teapot";
  old.active = false;
  return {mug, pan, lounge, old};
}

TEST(CatalogFilter, ByCategory) {
  const rules::Program program = tiered_program();
  EXPECT_EQ(listed(shelf(), {.category = "kitchen"}, program),
            (std::vector<std::string>{"mug", "pan"}));
  EXPECT_EQ(listed(shelf(), {.category = "travel"}, program), (std::vector<std::string>{"lounge"}));
  EXPECT_EQ(listed(shelf(), {.category = "Kitchen"}, program), std::vector<std::string>{});
}

TEST(CatalogFilter, ByTextInNameDescriptionBrandOrTagIgnoringCase) {
  const rules::Program program = tiered_program();
  EXPECT_EQ(listed(shelf(), {.text = "tea"}, program), (std::vector<std::string>{"mug"}));
  EXPECT_EQ(listed(shelf(), {.text = "acme"}, program), (std::vector<std::string>{"mug"}));
  EXPECT_EQ(listed(shelf(), {.text = "cast-iron"}, program), (std::vector<std::string>{"pan"}));
  EXPECT_EQ(listed(shelf(), {.text = "LOUNGE"}, program), (std::vector<std::string>{"lounge"}));
  EXPECT_EQ(listed(shelf(), {.text = "travel"}, program), std::vector<std::string>{});
}

TEST(CatalogFilter, ByAffordabilityAfterTheTiersDiscount) {
  const rules::Program program = tiered_program();
  // The mug costs 999, 850 for Gold.
  EXPECT_EQ(listed(shelf(), {.affordable_with = 850}, program),
            (std::vector<std::string>{"lounge"}));
  EXPECT_EQ(listed(shelf(), {.affordable_with = 850, .tier_level = kGold}, program),
            (std::vector<std::string>{"mug", "lounge"}));
  EXPECT_EQ(listed(shelf(), {.affordable_with = 849, .tier_level = kGold}, program),
            (std::vector<std::string>{"lounge"}));  // 723 after 15% off 850
  EXPECT_EQ(listed(shelf(), {.affordable_with = 722, .tier_level = kGold}, program),
            std::vector<std::string>{});
}

TEST(CatalogFilter, ByTierHidesItemsTheTierMayNotSee) {
  const rules::Program program = tiered_program();
  EXPECT_EQ(listed(shelf(), {.tier_level = kSilver}, program),
            (std::vector<std::string>{"mug", "pan"}));
  EXPECT_EQ(listed(shelf(), {.tier_level = kGold}, program),
            (std::vector<std::string>{"mug", "pan", "lounge"}));
  EXPECT_EQ(listed(shelf(), {}, program), (std::vector<std::string>{"mug", "pan", "lounge"}));
}

TEST(CatalogFilter, ByKindAndWithInactiveItemsOnlyWhenAsked) {
  const rules::Program program = tiered_program();
  EXPECT_EQ(listed(shelf(), {.kind = "physical"}, program),
            (std::vector<std::string>{"mug", "pan"}));
  EXPECT_EQ(listed(shelf(), {.text = "teapot"}, program), std::vector<std::string>{});
  EXPECT_EQ(listed(shelf(), {.text = "teapot", .include_inactive = true}, program),
            (std::vector<std::string>{"old"}));
}

// The active items (put in id order, as the catalog keeps them) after order_items.
std::vector<std::string> ordered(CatalogOrder order, std::optional<int> tier_level,
                                 const std::map<std::string, std::int64_t>& taken = {},
                                 std::vector<Item> items = shelf()) {
  const rules::Program program = tiered_program();
  std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) { return a.id < b.id; });
  std::vector<const Item*> pointers;
  for (const Item& item : items)
    if (item.active) pointers.push_back(&item);
  order_items(pointers, order, program, tier_level, [&](const Item& item) {
    const auto found = taken.find(item.id);
    return found == taken.end() ? std::int64_t{0} : found->second;
  });
  std::vector<std::string> ids;
  for (const Item* item : pointers) ids.push_back(item->id);
  return ids;
}

TEST(CatalogOrder, ByPointsEitherWayByNameOrMostRedeemedWithTiesById) {
  using Ids = std::vector<std::string>;
  // lounge 850, mug 999, pan 2000 (list prices).
  EXPECT_EQ(ordered(CatalogOrder::by_id, std::nullopt), (Ids{"lounge", "mug", "pan"}));
  EXPECT_EQ(ordered(CatalogOrder::points_ascending, std::nullopt), (Ids{"lounge", "mug", "pan"}));
  EXPECT_EQ(ordered(CatalogOrder::points_descending, std::nullopt), (Ids{"pan", "mug", "lounge"}));
  EXPECT_EQ(ordered(CatalogOrder::name, std::nullopt)[0], "lounge");
  EXPECT_EQ(ordered(CatalogOrder::popular, std::nullopt, {{"pan", 7}, {"mug", 2}}),
            (Ids{"pan", "mug", "lounge"}));
  EXPECT_EQ(ordered(CatalogOrder::popular, std::nullopt, {{"mug", 3}, {"pan", 3}}),
            (Ids{"mug", "pan", "lounge"}))
      << "a tie keeps the id order";
}

TEST(CatalogOrder, TheMostPopularSoldOutItemComesLast) {
  Item lamp = item_of("lamp", 100);
  lamp.stock = 5;
  Item rug = item_of("rug", 100);
  rug.stock = 50;
  const Item vase = item_of("vase", 100);  // unlimited
  EXPECT_EQ(ordered(CatalogOrder::popular, std::nullopt, {{"lamp", 5}, {"rug", 4}, {"vase", 1}},
                    {lamp, rug, vase}),
            (std::vector<std::string>{"rug", "vase", "lamp"}));
}

TEST(CatalogOrder, AMemberSeesThePricesOfTheirTier) {
  Item lamp = item_of("lamp", 1000);
  lamp.tier_discount = false;
  const Item rug = item_of("rug", 1100);  // 935 for Gold, after 15% off
  EXPECT_EQ(ordered(CatalogOrder::points_ascending, std::nullopt, {}, {lamp, rug}),
            (std::vector<std::string>{"lamp", "rug"}));
  EXPECT_EQ(ordered(CatalogOrder::points_ascending, kGold, {}, {lamp, rug}),
            (std::vector<std::string>{"rug", "lamp"}));
  EXPECT_EQ(ordered(CatalogOrder::points_descending, kGold, {}, {lamp, rug}),
            (std::vector<std::string>{"lamp", "rug"}));
}

TEST(CatalogOrder, NamesAreTheQueryWords) {
  EXPECT_EQ(parse_catalog_order("points"), CatalogOrder::points_ascending);
  EXPECT_EQ(parse_catalog_order("-points"), CatalogOrder::points_descending);
  EXPECT_EQ(parse_catalog_order("popular"), CatalogOrder::popular);
  EXPECT_EQ(parse_catalog_order("name"), CatalogOrder::name);
  EXPECT_EQ(parse_catalog_order("id"), CatalogOrder::by_id);
  EXPECT_EQ(parse_catalog_order("price"), std::nullopt);
  EXPECT_EQ(parse_catalog_order(""), std::nullopt);
}

// ---- Redemption --------------------------------------------------------------------------------

constexpr TimeUs kNoon = 1795348800 * kMicrosPerSecond;  // 2026-11-22T12:00:00Z, a Sunday

TEST(CatalogRedemption, AllowedRedemptionPricesTheOrderAndCountsItsUnits) {
  const rules::Program program = tiered_program();
  Item item = item_of("mug", 999);
  item.cash_price = CashPrice{250, "GBP"};
  item.stock = 10;
  item.limits.per_member = PeriodLimit{5, rules::Period::week};
  item.limits.global = PeriodLimit{100, rules::Period::lifetime};
  const auto keys = redemption_counters(item, kMember, kNoon, program);
  EXPECT_EQ(named(Counters{{keys.at(0), 0}, {keys.at(1), 0}, {keys.at(2), 0}}),
            (std::map<std::string, std::int64_t>{{"0:item:mug:taken", 0},
                                                 {"42:item:mug:member:w2026-11-16", 0},
                                                 {"0:item:mug:global:all", 0}}));

  Counters counters = {{keys.at(0), 4}, {keys.at(1), 1}, {keys.at(2), 7}};
  const RedemptionCheck check = check_redemption(item, program, kMember, kGold, 2, counters, kNoon);
  EXPECT_EQ(check.problem, "") << check.detail;
  EXPECT_EQ(check.unit_points, 850);
  EXPECT_EQ(check.total_points, 1700);
  EXPECT_EQ(check.total_cash_minor, 500);
  EXPECT_EQ(named(check.updates),
            (std::map<std::string, std::int64_t>{{"0:item:mug:taken", 6},
                                                 {"42:item:mug:member:w2026-11-16", 3},
                                                 {"0:item:mug:global:all", 9}}));
}

TEST(CatalogRedemption, ItemsWithoutLimitsStillCountTheUnitsTaken) {
  const Item item = item_of("tea", 10);
  const auto keys = redemption_counters(item, kMember, kNoon, tiered_program());
  ASSERT_EQ(keys.size(), 1U);
  EXPECT_EQ(keys[0], (CounterKey{0, "item:tea:taken"}));
  Counters counters;
  EXPECT_EQ(redeem(item, tiered_program(), counters, 3, kNoon).problem, "");
  EXPECT_EQ(named(counters), (std::map<std::string, std::int64_t>{{"0:item:tea:taken", 3}}));
}

void expect_refused(const RedemptionCheck& check, const std::string& problem,
                    const std::string& detail) {
  EXPECT_EQ(check.problem, problem) << check.detail;
  EXPECT_EQ(check.detail, detail);
  EXPECT_TRUE(check.updates.empty()) << "a refusal changes no counter";
  EXPECT_EQ(check.total_points, 0);
}

TEST(CatalogRedemption, InactiveItemIsUnavailable) {
  Item item = item_of("mug", 10);
  item.active = false;
  Counters counters;
  expect_refused(redeem(item, tiered_program(), counters, 1, kNoon), "item_unavailable",
                 "this item is not available");
}

TEST(CatalogRedemption, ItemTheTierMayNotSeeIsNotEligible) {
  Item item = item_of("mug", 10);
  item.eligible_tiers = {"gold", "platinum"};
  Counters counters;
  expect_refused(redeem(item, tiered_program(), counters, 1, kNoon, kMember, kSilver),
                 "item_not_eligible", "only for members of Gold, Platinum");
  EXPECT_EQ(redeem(item, tiered_program(), counters, 1, kNoon, kMember, kGold).problem, "");

  Item lounge = item_of("lounge", 10);
  lounge.tags = {"vip"};
  expect_refused(redeem(lounge, tiered_program(), counters, 1, kNoon, kMember, kSilver),
                 "item_not_eligible", "\"vip\" items are only for members of Gold, Platinum");
}

TEST(CatalogRedemption, WindowFromIsInclusiveAndUntilExclusive) {
  const rules::Program program = program_in("Asia/Shanghai");
  Item item = item_of("mug", 10);
  item.window.from_us = utc("2026-11-22T00:00:00Z");
  item.window.until_us = utc("2026-11-23T00:00:00Z");
  Counters counters;
  expect_refused(redeem(item, program, counters, 1, *item.window.from_us - 1),
                 "item_not_yet_available", "available from 2026-11-22 08:00 Asia/Shanghai");
  EXPECT_EQ(redeem(item, program, counters, 1, *item.window.from_us).problem, "");
  EXPECT_EQ(redeem(item, program, counters, 1, *item.window.until_us - 1).problem, "");
  expect_refused(redeem(item, program, counters, 1, *item.window.until_us),
                 "item_no_longer_available", "was available until 2026-11-23 08:00 Asia/Shanghai");
}

TEST(CatalogRedemption, QuantityBelowOneIsInvalid) {
  Counters counters;
  expect_refused(redeem(item_of("mug", 10), tiered_program(), counters, 0, kNoon),
                 "invalid_quantity", "quantity must be at least 1, not 0");
  expect_refused(redeem(item_of("mug", 10), tiered_program(), counters, -3, kNoon),
                 "invalid_quantity", "quantity must be at least 1, not -3");
}

TEST(CatalogRedemption, QuantityWhoseTotalWouldOverflowIsRefused) {
  Counters counters;
  expect_refused(
      redeem(item_of("mug", 1'000'000'000), tiered_program(), counters, 10'000'000'000, kNoon),
      "invalid_quantity", "10000000000 units cost more than can be counted");
  Item cash = item_of("cash", 1);
  cash.cash_price = CashPrice{1'000'000'000'000, "GBP"};
  expect_refused(redeem(cash, tiered_program(), counters, 10'000'000, kNoon), "invalid_quantity",
                 "10000000 units cost more than can be counted");
}

TEST(CatalogRedemption, LimitPerOrder) {
  Item item = item_of("mug", 10);
  item.limits.per_order = 2;
  Counters counters;
  expect_refused(redeem(item, tiered_program(), counters, 3, kNoon), "limit_per_order",
                 "at most 2 per order");
  EXPECT_EQ(redeem(item, tiered_program(), counters, 2, kNoon).problem, "");
  EXPECT_EQ(redeem(item, tiered_program(), counters, 2, kNoon).problem, "");  // per order only
}

TEST(CatalogRedemption, OutOfStockSaysHowManyAreLeft) {
  Item item = item_of("mug", 10);
  item.stock = 10;
  Counters counters;
  EXPECT_EQ(redeem(item, tiered_program(), counters, 7, kNoon).problem, "");
  expect_refused(redeem(item, tiered_program(), counters, 4, kNoon, kOtherMember), "out_of_stock",
                 "only 3 left");
  EXPECT_EQ(redeem(item, tiered_program(), counters, 3, kNoon, kOtherMember).problem, "");
  expect_refused(redeem(item, tiered_program(), counters, 1, kNoon), "out_of_stock", "sold out");

  item.stock = 0;
  Counters fresh;
  expect_refused(redeem(item, tiered_program(), fresh, 1, kNoon), "out_of_stock", "sold out");
}

TEST(CatalogRedemption, StockLoweredBelowWhatWasTakenLeavesNone) {
  Item item = item_of("mug", 10);
  item.stock = 5;
  Counters counters = {{{0, "item:mug:taken"}, 8}};
  expect_refused(redeem(item, tiered_program(), counters, 1, kNoon), "out_of_stock", "sold out");
}

TEST(CatalogRedemption, LimitPerMemberSaysTheLimitItsPeriodAndWhatIsLeft) {
  Item item = item_of("mug", 10);
  item.limits.per_member = PeriodLimit{1, rules::Period::day};
  Counters counters;
  EXPECT_EQ(redeem(item, tiered_program(), counters, 1, kNoon).problem, "");
  expect_refused(redeem(item, tiered_program(), counters, 1, kNoon), "limit_per_member",
                 "at most 1 per member per day; you have 0 left");
  EXPECT_EQ(redeem(item, tiered_program(), counters, 1, kNoon, kOtherMember).problem, "");

  item.limits.per_member = PeriodLimit{3, rules::Period::lifetime};
  expect_refused(redeem(item, tiered_program(), counters, 4, kNoon), "limit_per_member",
                 "at most 3 per member; you have 3 left");
  item.limits.per_member = PeriodLimit{3, rules::Period::month};
  expect_refused(redeem(item, tiered_program(), counters, 4, kNoon), "limit_per_member",
                 "at most 3 per member per month; you have 3 left");
}

TEST(CatalogRedemption, LimitGlobalFirstHundredMembers) {
  Item item = item_of("mug", 10);
  item.limits.global = PeriodLimit{100, rules::Period::lifetime};
  Counters counters = {{{0, "item:mug:global:all"}, 99}};
  EXPECT_EQ(redeem(item, tiered_program(), counters, 1, kNoon, 1).problem, "");
  expect_refused(redeem(item, tiered_program(), counters, 1, kNoon, 2), "limit_global",
                 "at most 100 for all members; 0 left");
  item.limits.global = PeriodLimit{100, rules::Period::day};
  Counters today = {{{0, "item:mug:global:d2026-11-22"}, 98}};
  expect_refused(redeem(item, tiered_program(), today, 3, kNoon), "limit_global",
                 "at most 100 for all members per day; 2 left");
}

TEST(CatalogRedemption, ProblemsAreCheckedInTheDocumentedOrder) {
  const rules::Program program = tiered_program();
  Item item = item_of("mug", 10);
  item.active = false;
  item.eligible_tiers = {"gold"};
  item.window.from_us = kNoon + 1;
  item.window.until_us = kNoon + 2;
  item.limits.per_order = 1;
  item.stock = 1;
  item.limits.per_member = PeriodLimit{1, rules::Period::day};
  item.limits.global = PeriodLimit{1, rules::Period::day};
  Counters counters = {{{0, "item:mug:taken"}, 1},
                       {{kMember, "item:mug:member:d2026-11-22"}, 1},
                       {{0, "item:mug:global:d2026-11-22"}, 1}};
  TimeUs at_us = kNoon;
  std::int64_t quantity = 0;
  const auto problem = [&] {
    return check_redemption(item, program, kMember, kSilver, quantity, counters, at_us).problem;
  };
  EXPECT_EQ(problem(), "item_unavailable");
  item.active = true;
  EXPECT_EQ(problem(), "item_not_eligible");
  item.eligible_tiers.clear();
  EXPECT_EQ(problem(), "item_not_yet_available");
  at_us = kNoon + 2;
  EXPECT_EQ(problem(), "item_no_longer_available");
  at_us = kNoon + 1;
  EXPECT_EQ(problem(), "invalid_quantity");
  quantity = 2;
  EXPECT_EQ(problem(), "limit_per_order");
  quantity = 1;
  EXPECT_EQ(problem(), "out_of_stock");
  item.stock = 2;
  EXPECT_EQ(problem(), "limit_per_member");
  item.limits.per_member->units = 2;
  EXPECT_EQ(problem(), "limit_global");
  item.limits.global->units = 2;
  EXPECT_EQ(problem(), "");
}

TEST(CatalogRedemption, PerMemberDayLimitResetsAtTheNextLocalDayInShanghai) {
  const rules::Program program = tiered_program("Asia/Shanghai");
  Item item = item_of("tea", 10);
  item.limits.per_member = PeriodLimit{1, rules::Period::day};
  Counters counters;
  // 23:59:59 on the 22nd in Shanghai (15:59:59 UTC).
  const TimeUs late_us = utc("2026-11-22T15:59:59Z");
  EXPECT_EQ(redeem(item, program, counters, 1, late_us).problem, "");
  EXPECT_EQ(named(counters)["42:item:tea:member:d2026-11-22"], 1);
  // Earlier the same local day (and the same UTC day): refused.
  expect_refused(redeem(item, program, counters, 1, utc("2026-11-22T00:00:00Z")),
                 "limit_per_member", "at most 1 per member per day; you have 0 left");
  // 00:00 on the 23rd in Shanghai, still the 22nd in UTC: a new day.
  const TimeUs midnight_us = utc("2026-11-22T16:00:00Z");
  EXPECT_EQ(redeem(item, program, counters, 1, midnight_us).problem, "");
  EXPECT_EQ(named(counters)["42:item:tea:member:d2026-11-23"], 1);
  expect_refused(redeem(item, program, counters, 1, midnight_us + 1), "limit_per_member",
                 "at most 1 per member per day; you have 0 left");
}

TEST(CatalogRedemption, LimitPeriodsUseTheEarningEnginesPeriodKeys) {
  const rules::Program program = tiered_program("Asia/Shanghai");
  const TimeUs at_us = utc("2026-11-22T16:30:00Z");  // Monday 2026-11-23 00:30 in Shanghai
  EXPECT_EQ(rules::period_key(rules::Period::day, at_us, *program.zone), "d2026-11-23");
  EXPECT_EQ(rules::period_key(rules::Period::week, at_us, *program.zone), "w2026-11-23");
  EXPECT_EQ(rules::period_key(rules::Period::week, kNoon, *program.zone), "w2026-11-16");
  EXPECT_EQ(rules::period_key(rules::Period::month, at_us, *program.zone), "m2026-11");
  EXPECT_EQ(rules::period_key(rules::Period::lifetime, at_us, *program.zone), "all");
  Item item = item_of("tea", 10);
  for (const auto period :
       {rules::Period::day, rules::Period::week, rules::Period::month, rules::Period::lifetime}) {
    item.limits.per_member = PeriodLimit{1, period};
    item.limits.global = PeriodLimit{1, period};
    const std::string key = rules::period_key(period, at_us, *program.zone);
    EXPECT_EQ(redemption_counters(item, kMember, at_us, program),
              (std::vector<CounterKey>{{0, "item:tea:taken"},
                                       {kMember, "item:tea:member:" + key},
                                       {0, "item:tea:global:" + key}}));
  }
}

// ---- Giving back -------------------------------------------------------------------------------

TEST(CatalogGiveBack, ReturnsUnitsToThePeriodOfTheReservation) {
  const rules::Program program = tiered_program("Asia/Shanghai");
  Item item = item_of("tea", 10);
  item.stock = 5;
  item.limits.per_member = PeriodLimit{2, rules::Period::day};
  item.limits.global = PeriodLimit{10, rules::Period::day};
  Counters counters;
  const TimeUs reserved_us = utc("2026-11-22T15:00:00Z");  // 23:00 on the 22nd, local
  ASSERT_EQ(redeem(item, program, counters, 2, reserved_us).problem, "");
  const TimeUs next_day_us = utc("2026-11-22T17:00:00Z");  // 01:00 on the 23rd, local
  ASSERT_EQ(redeem(item, program, counters, 1, next_day_us).problem, "");

  const Counters updates = give_back_updates(item, kMember, 2, reserved_us, program, counters);
  EXPECT_EQ(named(updates),
            (std::map<std::string, std::int64_t>{{"0:item:tea:taken", 1},
                                                 {"42:item:tea:member:d2026-11-22", 0},
                                                 {"0:item:tea:global:d2026-11-22", 0}}));
  apply_updates(counters, updates);
  EXPECT_EQ(named(counters)["42:item:tea:member:d2026-11-23"], 1) << "the next day is untouched";
}

TEST(CatalogGiveBack, ACancelledOrderFreesItsLimitAndStock) {
  const rules::Program program = tiered_program();
  Item item = item_of("tea", 10);
  item.stock = 1;
  item.limits.per_member = PeriodLimit{1, rules::Period::lifetime};
  Counters counters;
  ASSERT_EQ(redeem(item, program, counters, 1, kNoon).problem, "");
  EXPECT_EQ(redeem(item, program, counters, 1, kNoon).problem, "out_of_stock");
  item.stock = 2;
  EXPECT_EQ(redeem(item, program, counters, 1, kNoon).problem, "limit_per_member");
  item.stock = 1;
  apply_updates(counters, give_back_updates(item, kMember, 1, kNoon, program, counters));
  EXPECT_EQ(redeem(item, program, counters, 1, kNoon + 1).problem, "");
}

TEST(CatalogGiveBack, NeverTakesACounterBelowZero) {
  const rules::Program program = tiered_program();
  Item item = item_of("tea", 10);
  item.limits.per_member = PeriodLimit{5, rules::Period::day};
  const Counters current = {{{0, "item:tea:taken"}, 1}};  // the member counter was never written
  const Counters updates = give_back_updates(item, kMember, 3, kNoon, program, current);
  EXPECT_EQ(named(updates), (std::map<std::string, std::int64_t>{{"0:item:tea:taken", 0}}));
  EXPECT_TRUE(give_back_updates(item, kMember, 0, kNoon, program, current).empty());
  EXPECT_TRUE(give_back_updates(item, kMember, 3, kNoon, program, {}).empty());
}

// ---- Shipping addresses ------------------------------------------------------------------------

json full_address() {
  return {{"name", "Ada Lovelace"},
          {"phone", "+44 (20) 7946-0000"},
          {"line1", "12 St James's Sq"},
          {"line2", "Flat 3"},
          {"city", "London"},
          {"region", "Greater London"},
          {"postal_code", "SW1Y 4LB"},
          {"country", "GB"}};
}

TEST(CatalogAddress, ValidAddressesRoundTrip) {
  for (const json& document : {full_address(), json{{"name", "Li Lei"},
                                                    {"line1", "1 Nanjing Rd"},
                                                    {"city", "Shanghai"},
                                                    {"postal_code", "200001"},
                                                    {"country", "CN"}}}) {
    std::vector<FieldError> errors;
    const auto address = read_shipping_address(document, "shipping_address", errors);
    ASSERT_TRUE(address.has_value()) << describe(errors);
    EXPECT_EQ(to_json(*address), document);
    EXPECT_EQ(address_from_json(to_json(*address)), address);
  }
}

std::vector<ConstraintCase> address_constraint_cases() {
  return {
      {"name missing", [](json& d) { d.erase("name"); }, "name", "is required"},
      {"name blank", [](json& d) { d["name"] = " "; }, "name", "blank"},
      {"name too long", [](json& d) { d["name"] = text_of(129); }, "name", "1 to 128"},
      {"line1 missing", [](json& d) { d.erase("line1"); }, "line1", "is required"},
      {"line1 too long", [](json& d) { d["line1"] = text_of(201); }, "line1", "1 to 200"},
      {"line1 with a newline", [](json& d) { d["line1"] = "a\nb"; }, "line1", "control"},
      {"line2 too long", [](json& d) { d["line2"] = text_of(201); }, "line2", "1 to 200"},
      {"city missing", [](json& d) { d.erase("city"); }, "city", "is required"},
      {"city too long", [](json& d) { d["city"] = text_of(101); }, "city", "1 to 100"},
      {"region too long", [](json& d) { d["region"] = text_of(101); }, "region", "1 to 100"},
      {"postal code missing", [](json& d) { d.erase("postal_code"); }, "postal_code",
       "is required"},
      {"postal code too long", [](json& d) { d["postal_code"] = text_of(17); }, "postal_code",
       "1 to 16"},
      {"country missing", [](json& d) { d.erase("country"); }, "country", "is required"},
      {"country lower case", [](json& d) { d["country"] = "gb"; }, "country", "alpha-2"},
      {"country three letters", [](json& d) { d["country"] = "GBR"; }, "country", "2 to 2"},
      {"country with a digit", [](json& d) { d["country"] = "G1"; }, "country", "alpha-2"},
      {"phone too short", [](json& d) { d["phone"] = "123"; }, "phone", "4 to 32"},
      {"phone too long", [](json& d) { d["phone"] = text_of(33, '1'); }, "phone", "4 to 32"},
      {"phone with letters", [](json& d) { d["phone"] = "call 1234"; }, "phone", "digits"},
      {"phone without digits", [](json& d) { d["phone"] = "+-()"; }, "phone", "digits"},
      {"unknown field", [](json& d) { d["postcode"] = "x"; }, "postcode", "is not a known field"},
  };
}

TEST(CatalogAddress, EveryConstraintIsReportedAtItsFieldPath) {
  for (const ConstraintCase& test : address_constraint_cases()) {
    SCOPED_TRACE(test.name);
    json document = full_address();
    test.change(document);
    std::vector<FieldError> errors;
    EXPECT_FALSE(read_shipping_address(document, "shipping_address", errors).has_value());
    const std::string field = std::string("shipping_address.") + test.field;
    EXPECT_TRUE(has_error(errors, field, test.words))
        << "expected " << field << ": ..." << test.words << "..., got" << describe(errors);
    EXPECT_EQ(address_from_json(document), std::nullopt);
  }
}

TEST(CatalogAddress, AnAddressMustBeAnObject) {
  std::vector<FieldError> errors;
  EXPECT_FALSE(read_shipping_address("12 St James's Sq", "shipping_address", errors));
  EXPECT_TRUE(has_error(errors, "shipping_address", "must be an object")) << describe(errors);
}

}  // namespace
}  // namespace pointsmall::mall
