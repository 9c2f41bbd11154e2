#include "app/demo_program.h"

#include <gtest/gtest.h>

#include <set>

#include "core/clock.h"
#include "core/temp_dir.h"
#include "earning/programs.h"
#include "mall/service/mall_catalog.h"
#include "store/sqlite/sqlite_earning_documents.h"
#include "store/sqlite/sqlite_store.h"

namespace pointsmall::app::demo_data {
namespace {

using nlohmann::json;

constexpr TimeUs kNow = 1'795'435'200'000'000;  // 2026-11-23T12:00:00Z

std::size_t count(const std::string& text, const std::string& part) {
  std::size_t found = 0;
  for (std::size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1))
    ++found;
  return found;
}

TEST(DemoSvg, IsOneSvgWithTheInitialsAndTheEscapedName) {
  const std::string svg = item_svg("tea-set", "Tea & <biscuits> \"for two\"", "kitchen");
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0U) << svg;
  EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
  EXPECT_EQ(count(svg, "<svg"), 1U);
  EXPECT_NE(svg.find(">TB</text>"), std::string::npos) << "initials of Tea and biscuits: " << svg;
  EXPECT_NE(svg.find("Tea &amp; &lt;biscuits&gt; &quot;for two&quot;"), std::string::npos) << svg;
  EXPECT_EQ(svg.find("<biscuits>"), std::string::npos) << "no markup from the name";
}

TEST(DemoSvg, ColoursComeFromTheIdSoEachItemLooksItsOwnAndTheSameEveryTime) {
  EXPECT_EQ(item_svg("mug", "Mug", "kitchen"), item_svg("mug", "Mug", "kitchen"));
  EXPECT_NE(item_svg("mug", "Mug", "kitchen"), item_svg("cup", "Mug", "kitchen"));
  std::set<std::string> backgrounds;
  for (const json& item : items()) {
    const std::string svg = item_svg(item["id"], item["name"], item["category"]);
    const auto at = svg.find("<rect width=\"400\" height=\"400\" fill=\"");
    ASSERT_NE(at, std::string::npos);
    backgrounds.insert(svg.substr(at, 60));
  }
  EXPECT_GT(backgrounds.size(), 40U) << "most items have a colour of their own";
}

TEST(DemoSvg, ALongNameIsCutAtACharacterNotInTheMiddleOfOne) {
  const std::string svg = item_svg("x", "£££££££££££££££££££££££££££££££££££", "gift-cards");
  const auto at = svg.find("font-size=\"24\"");
  ASSERT_NE(at, std::string::npos);
  const std::string label = svg.substr(svg.find('>', at) + 1);
  EXPECT_EQ(label.rfind("£", 0), 0U);
  EXPECT_NE(label.find("…</text>"), std::string::npos) << label;
  // Every byte of the label is part of a whole "£" (C2 A3) or the ellipsis (E2 80 A6).
  const std::string text = label.substr(0, label.find("…</text>"));
  EXPECT_EQ(text.size() % 2, 0U) << text;
  for (std::size_t i = 0; i < text.size(); i += 2) EXPECT_EQ(text.substr(i, 2), "£");
}

TEST(DemoDates, LocalDatesCountFromTodayInTheZone) {
  const auto london = TimeZone::load("Europe/London");
  EXPECT_EQ(local_date(*london, kNow, 0), "2026-11-23");
  EXPECT_EQ(local_date(*london, kNow, -1), "2026-11-22");
  EXPECT_EQ(local_date(*london, kNow, 40), "2027-01-02");
  EXPECT_EQ(local_date(*london, kNow, -365), "2025-11-23");
  // 23:30 UTC in Tokyo is already the next day.
  const auto tokyo = TimeZone::load("Asia/Tokyo");
  EXPECT_EQ(local_date(*tokyo, kNow + 11 * 3'600'000'000LL + 1'800'000'000LL, 0), "2026-11-24");
}

TEST(DemoDates, YesterdayAtNineIsYesterdayWhateverTheTimeNow) {
  const auto london = TimeZone::load("Europe/London");
  const TimeUs yesterday_nine = *parse_rfc3339("2026-11-22T09:00:00Z");
  // Late in the afternoon, 24 hours back plus 9 would land on today; local days do not.
  for (const char* now : {"2026-11-23T00:30:00Z", "2026-11-23T12:00:00Z", "2026-11-23T16:30:00Z",
                          "2026-11-23T23:59:00Z"}) {
    EXPECT_EQ(local_time(*london, *parse_rfc3339(now), -1, 9), yesterday_nine) << now;
  }
  // Across the spring change of clocks (29 March 2026): 9 GMT the day before, 9 BST on the day.
  const TimeUs after_change = *parse_rfc3339("2026-03-30T12:00:00Z");
  EXPECT_EQ(local_time(*london, after_change, -2, 9), *parse_rfc3339("2026-03-28T09:00:00Z"));
  EXPECT_EQ(local_time(*london, after_change, -1, 9), *parse_rfc3339("2026-03-29T08:00:00Z"));
}

// Every document is accepted by the same checks as the API's, and the program and catalog they
// make are what the demo promises.
class DemoDocuments : public ::testing::Test {
 protected:
  void SetUp() override {
    store::SqliteOptions options;
    options.path = dir_.file("pointsmall.db");
    options.policy_if_new.zone = TimeZone::load("Europe/London");
    std::string error;
    ledger_ = store::open_sqlite_store(options, error);
    ASSERT_NE(ledger_, nullptr) << error;
    documents_ = store::open_sqlite_earning_documents(options.path);
    programs_ =
        std::make_unique<earning::EarningPrograms>(*documents_, ledger_->policy().zone, clock_);
    catalog_ = std::make_unique<mall::MallCatalog>(*documents_, *programs_, clock_);
  }

  static std::string errors_of(const std::vector<FieldError>& errors) {
    std::string text;
    for (const FieldError& error : errors) text += error.field + " " + error.message + "; ";
    return text;
  }

  TempDir dir_;
  ManualClock clock_{kNow};
  std::unique_ptr<store::SqliteLedgerStore> ledger_;
  std::unique_ptr<store::EarningDocuments> documents_;
  std::unique_ptr<earning::EarningPrograms> programs_;
  std::unique_ptr<mall::MallCatalog> catalog_;
};

TEST_F(DemoDocuments, AreAcceptedAndNoCampaignRunsToday) {
  using Kind = earning::DocumentKind;
  for (const json& rule : rules()) {
    const auto saved = programs_->save(Kind::rule, "", rule, true, std::nullopt, "test");
    EXPECT_TRUE(saved.errors.empty()) << rule["id"] << ": " << errors_of(saved.errors);
  }
  auto saved = programs_->save(Kind::tiers, "default", tiers(), false, std::nullopt, "test");
  EXPECT_TRUE(saved.errors.empty()) << errors_of(saved.errors);
  saved = programs_->save(Kind::engagement, "default", engagement(), false, std::nullopt, "test");
  EXPECT_TRUE(saved.errors.empty()) << errors_of(saved.errors);
  const auto london = TimeZone::load("Europe/London");
  for (const json& campaign : campaigns(*london, kNow)) {
    saved = programs_->save(Kind::campaign, "", campaign, true, std::nullopt, "test");
    EXPECT_TRUE(saved.errors.empty()) << campaign["id"] << ": " << errors_of(saved.errors);
  }
  const auto program = programs_->current();
  ASSERT_EQ(program->campaigns.size(), 2U);
  int past = 0;
  int future = 0;
  for (const auto& campaign : program->campaigns) {
    EXPECT_FALSE(campaign.from_us <= kNow && kNow < campaign.until_us) << campaign.id;
    past += campaign.until_us <= kNow ? 1 : 0;
    future += campaign.from_us > kNow ? 1 : 0;
  }
  EXPECT_EQ(past, 1);
  EXPECT_EQ(future, 1);
  ASSERT_TRUE(program->tiers.has_value());
  EXPECT_EQ(program->tiers->tiers.size(), 4U);
  EXPECT_EQ(program->tiers->tiers.front().earn_percent, 100) << "the first tier earns the base";
  EXPECT_TRUE(program->checkin.enabled);
}

TEST_F(DemoDocuments, TheCatalogHasSixtyItemsInSeveralCategoriesWithTheirPictures) {
  using Kind = earning::DocumentKind;
  ASSERT_TRUE(
      programs_->save(Kind::tiers, "default", tiers(), false, std::nullopt, "test").errors.empty());
  for (const json& coupon_template : coupon_templates()) {
    const auto saved =
        catalog_->save(mall::CatalogKind::coupon_template, "", coupon_template, true, "test");
    EXPECT_TRUE(saved.errors.empty()) << coupon_template["id"] << ": " << errors_of(saved.errors);
  }
  std::set<std::string> ids;
  std::set<std::string> categories;
  std::set<std::string> kinds;
  int tier_only = 0;
  for (const json& item : items()) {
    const auto saved = catalog_->save(mall::CatalogKind::item, "", item, true, "test");
    EXPECT_TRUE(saved.errors.empty()) << item["id"] << ": " << errors_of(saved.errors);
    const std::string id = item["id"];
    EXPECT_FALSE(id.empty());
    ids.insert(id);
    categories.insert(item["category"].get<std::string>());
    kinds.insert(item["kind"].get<std::string>());
    EXPECT_EQ(item["images"], json::array({"/media/items/" + id + ".svg"}));
    if (item.contains("tags") && item["tags"] == json::array({"platinum-only"})) ++tier_only;
  }
  EXPECT_GE(ids.size(), 55U);
  EXPECT_EQ(ids.size(), items().size()) << "ids are unique";
  EXPECT_GE(categories.size(), 7U);
  EXPECT_EQ(kinds, (std::set<std::string>{"physical", "coupon", "service", "tier_upgrade"}));
  EXPECT_EQ(tier_only, 1);
  EXPECT_EQ(catalog_->current()->items.size(), ids.size());
  EXPECT_NE(catalog_->current()->item(kSellOutItem), nullptr);
}

TEST(DemoPool, CodesAreDistinctAndNumbered) {
  const auto codes = pool_codes(20);
  ASSERT_EQ(codes.size(), 20U);
  EXPECT_EQ(codes.front(), "FREEDEL-0001");
  EXPECT_EQ(codes.back(), "FREEDEL-0020");
  EXPECT_EQ(std::set<std::string>(codes.begin(), codes.end()).size(), 20U);
}

}  // namespace
}  // namespace pointsmall::app::demo_data
