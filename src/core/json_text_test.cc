#include "core/json_text.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace pointsmall {
namespace {

TEST(JsonText, StringsAreEscapedSoThatAParserReadsThemBack) {
  const std::string text = "quote \" backslash \\ tab \t newline \n bell \x07 caf\xC3\xA9";
  std::string out;
  append_json_string(out, text);
  EXPECT_EQ(nlohmann::json::parse(out).get<std::string>(), text);
  EXPECT_EQ(nlohmann::json(text).dump(), out) << "written as nlohmann writes it";
}

TEST(JsonText, NumbersAndRawMembers) {
  std::string number;
  append_json_number(number, -9223372036854775807LL - 1);
  EXPECT_EQ(number, "-9223372036854775808");
  EXPECT_EQ(with_raw_member("{}", "a", "[1,2]"), R"({"a":[1,2]})");
  EXPECT_EQ(nlohmann::json::parse(with_raw_member(R"({"x":1})", "b\"", R"({"c":true})")),
            nlohmann::json::parse(R"({"x":1,"b\"":{"c":true}})"));
}

}  // namespace
}  // namespace pointsmall
