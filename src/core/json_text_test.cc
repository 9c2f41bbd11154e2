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

TEST(JsonText, PlainTextIsWellFormedUtf8WithoutControlCharacters) {
  EXPECT_TRUE(is_plain_text("survey-1"));
  EXPECT_TRUE(is_plain_text("caf\xC3\xA9 \xE4\xB8\xAD\xE6\x96\x87 \xF0\x9F\x8E\x81"));
  EXPECT_TRUE(is_plain_text(""));
  EXPECT_FALSE(is_plain_text("tab\there"));
  EXPECT_FALSE(is_plain_text("del\x7F"));
  EXPECT_FALSE(is_plain_text("\xC2\x85"));  // U+0085, a C1 control
  EXPECT_FALSE(
      is_plain_text("surv\xFF\xFE"
                    "ey"));                         // not UTF-8
  EXPECT_FALSE(is_plain_text("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(is_plain_text("\xE0\x80\xAF"));      // overlong
  EXPECT_FALSE(is_plain_text("\xED\xA0\x80"));      // a surrogate
  EXPECT_FALSE(is_plain_text("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(is_plain_text("\xE4\xB8"));          // cut short
}

}  // namespace
}  // namespace pointsmall
