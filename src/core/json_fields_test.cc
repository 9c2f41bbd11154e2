#include "core/json_fields.h"

#include <gtest/gtest.h>

#include <array>
#include <limits>

#include "core/time_zone.h"

namespace pointsmall {
namespace {

using nlohmann::json;

enum class Colour : std::uint8_t { red, green, blue };
constexpr std::array<std::string_view, 3> kColourNames = {"red", "green", "blue"};

std::string describe(const std::vector<FieldError>& errors) {
  std::string text;
  for (const FieldError& error : errors) text += error.field + ": " + error.message + "; ";
  return text;
}

TEST(JsonFields, EditDistanceCountsSingleCharacterEdits) {
  EXPECT_EQ(edit_distance("", ""), 0U);
  EXPECT_EQ(edit_distance("amount", "amount"), 0U);
  EXPECT_EQ(edit_distance("amout", "amount"), 1U);        // an insertion
  EXPECT_EQ(edit_distance("priorrity", "priority"), 1U);  // a deletion
  EXPECT_EQ(edit_distance("coupom", "coupon"), 1U);       // a substitution
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3U);
  EXPECT_EQ(edit_distance("", "abc"), 3U);
  EXPECT_EQ(edit_distance("abc", ""), 3U);
}

TEST(JsonFields, HintsNameTheNearestKnownNameWithinTwoEdits) {
  const std::vector<std::string_view> known = {"points", "percent", "per"};
  EXPECT_EQ(nearest_name("pionts", known), "points");
  EXPECT_EQ(nearest_name("pre", known), "per");
  EXPECT_EQ(nearest_name("colour", known), "");
  EXPECT_EQ(nearest_name("pts", {"ptsa", "ptsb"}), "ptsa") << "the first of equally near names";
  EXPECT_EQ(with_hint("is not a known field", "pionts", known),
            "is not a known field; did you mean \"points\"? Known: points, percent, per");
  EXPECT_EQ(with_hint("is not a known field", "colour", known),
            "is not a known field Known: points, percent, per");
  EXPECT_EQ(join({}), "");
  EXPECT_EQ(join({"a"}), "a");
}

TEST(JsonFields, EnumNamesAndValues) {
  EXPECT_EQ(name_list(kColourNames), (std::vector<std::string_view>{"red", "green", "blue"}));
  EXPECT_EQ(enum_name(kColourNames, Colour::blue), "blue");
  EXPECT_EQ(enum_name(kColourNames, static_cast<Colour>(7)), "unknown");
  EXPECT_EQ(enum_value<Colour>(kColourNames, "green"), Colour::green);
  EXPECT_EQ(enum_value<Colour>(kColourNames, "purple"), std::nullopt);
}

TEST(JsonFields, TextAndIdProblems) {
  EXPECT_EQ(text_problem("gift", TextRule{}), "");
  EXPECT_EQ(text_problem("", TextRule{}), "must have 1 to 128 characters");
  EXPECT_EQ(text_problem("caf\xC3\xA9", TextRule{.max_length = 4}), "") << "counts code points";
  EXPECT_EQ(text_problem("gifts", TextRule{.max_length = 4}), "must have 1 to 4 characters");
  EXPECT_EQ(text_problem("a\tb", TextRule{}), "must not contain control characters");
  EXPECT_EQ(id_problem("gold-tier_2"), "");
  EXPECT_EQ(id_problem(""), "must have 1 to 64 characters");
  EXPECT_EQ(id_problem(std::string(65, 'a')), "must have 1 to 64 characters");
  EXPECT_EQ(id_problem("Gold"), "must use only a-z, 0-9, _ and -");
}

TEST(JsonFields, Int64OfRefusesWhatDoesNotFit) {
  EXPECT_EQ(int64_of(json(-5)), -5);
  EXPECT_EQ(int64_of(json(std::numeric_limits<std::int64_t>::max())),
            std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(int64_of(json(std::numeric_limits<std::uint64_t>::max())), std::nullopt);
  EXPECT_EQ(int64_of(json(10.0)), std::nullopt);
  EXPECT_EQ(int64_of(json("10")), std::nullopt);
}

TEST(JsonFields, WholeSecondsRoundDown) {
  EXPECT_EQ(whole_seconds(2'500'000), 2'000'000);
  EXPECT_EQ(whole_seconds(2'000'000), 2'000'000);
  EXPECT_EQ(whole_seconds(-1), -1'000'000) << "down, also before 1970";
}

TEST(JsonFields, NestedObjectsBooleansIdsAndCurrenciesNameTheirField) {
  const json document = json::parse(R"({"limits": {"active": "yes", "id": "Gold",
      "currency": "usd", "colour": "blue"}, "list": [], "flag": false})");
  std::vector<FieldError> errors;
  Fields fields(document, "", errors);
  EXPECT_FALSE(fields.object("list", false));
  EXPECT_FALSE(fields.object("missing", false));
  EXPECT_FALSE(fields.object("required", true));
  EXPECT_FALSE(fields.boolean("flag", true));
  EXPECT_TRUE(fields.boolean("missing", true));
  auto limits = fields.object("limits", true);
  ASSERT_TRUE(limits);
  EXPECT_EQ(limits->path(), "limits");
  EXPECT_TRUE(limits->boolean("active", true)) << "the fallback for a non-boolean";
  EXPECT_EQ(limits->id("id", true), std::nullopt);
  EXPECT_EQ(limits->currency("currency", true), std::nullopt);
  EXPECT_EQ(limits->choice<Colour>("colour", true, kColourNames), Colour::blue);
  EXPECT_EQ(describe(errors),
            "list: must be an object, not an array; required: is required; "
            "limits.active: must be true or false, not a string; "
            "limits.id: must use only a-z, 0-9, _ and -; "
            "limits.currency: must be an ISO 4217 code of three upper-case letters; ");
}

TEST(JsonFields, TextListsKeepGoodElementsAndNameBadOnes) {
  const json document = json::parse(R"({"owner": {"tags": ["new", 5, "Sale", "hot"],
      "one": "new", "many": ["a", "b", "c"]}})");
  std::vector<FieldError> errors;
  Fields fields(document, "", errors);
  auto owner = fields.object("owner", true);
  ASSERT_TRUE(owner);
  const auto lower_case = [](std::string_view text) -> std::string {
    return text == "Sale" ? "must be lower case" : "";
  };
  EXPECT_EQ(owner->texts("tags", 10, lower_case), (std::vector<std::string>{"new", "hot"}));
  EXPECT_TRUE(owner->texts("missing", 10, lower_case).empty());
  EXPECT_TRUE(owner->texts("one", 10, lower_case).empty());
  EXPECT_TRUE(owner->texts("many", 2, lower_case).empty());
  EXPECT_EQ(describe(errors),
            "owner.tags[1]: must be a string, not a number; owner.tags[2]: must be lower case; "
            "owner.one: must be an array of strings, not a string; "
            "owner.many: must have at most 2 elements; ");
}

TEST(JsonFields, UnknownFieldsAreWordedByTheCaller) {
  const json document = json::parse(R"({"pionts": 1, "points": 2})");
  std::vector<FieldError> errors;
  Fields fields(document, "effect", errors);
  fields.reject_unknown({"points"});
  const std::vector<std::string_view> known = {"points", "per"};
  fields.reject_unknown(
      known, [&](std::string_view name) { return with_hint("is not a known field", name, known); });
  EXPECT_EQ(describe(errors),
            "effect.pionts: is not a known field; "
            "effect.pionts: is not a known field; did you mean \"points\"? Known: points, per; ");
}

TEST(JsonFields, WholeSecondTimes) {
  const json document = json::parse(R"({"from": "2026-11-22T10:15:00.750Z"})");
  std::vector<FieldError> errors;
  Fields fields(document, "", errors);
  EXPECT_EQ(fields.whole_second_time("from", true), parse_rfc3339("2026-11-22T10:15:00Z"));
  EXPECT_EQ(fields.whole_second_time("until", false), std::nullopt);
  EXPECT_TRUE(errors.empty()) << describe(errors);
}

}  // namespace
}  // namespace pointsmall
