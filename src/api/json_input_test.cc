#include "api/json_input.h"

#include <gtest/gtest.h>

namespace pointsmall::api {
namespace {

nlohmann::json object(std::string_view text) {
  auto parsed = parse_object(text);
  EXPECT_TRUE(std::holds_alternative<nlohmann::json>(parsed)) << text;
  return std::get<nlohmann::json>(parsed);
}

std::string problem_type(std::string_view text) {
  auto parsed = parse_object(text);
  if (auto* failed = std::get_if<Problem>(&parsed)) return std::string(failed->type);
  return "ok";
}

TEST(ParseObject, RefusesWhatIsNotAJsonObject) {
  EXPECT_EQ(problem_type("{\"a\":1}"), "ok");
  EXPECT_EQ(problem_type(""), "malformed_json");
  EXPECT_EQ(problem_type("{\"a\":"), "malformed_json");
  EXPECT_EQ(problem_type("[1,2]"), "malformed_json");
  EXPECT_EQ(problem_type("\"text\""), "malformed_json");
  EXPECT_EQ(problem_type("{\"a\":\"\xff\"}"), "malformed_json");  // not UTF-8
}

TEST(ParseObject, RefusesDeepNestingBeforeParsing) {
  std::string deep(100'000, '[');
  EXPECT_EQ(problem_type("{\"a\":" + deep + "}"), "malformed_json");
  std::string ok = "{\"a\":" + std::string(30, '[') + std::string(30, ']') + "}";
  EXPECT_EQ(problem_type(ok), "ok");
  // Brackets inside strings do not count.
  EXPECT_EQ(problem_type("{\"a\":\"" + std::string(100, '[') + "\"}"), "ok");
}

TEST(Fields, CollectsEveryProblemWithItsPath) {
  const auto body = object(
      R"({"points":1.5,"name":7,"amount":{"amount":-1,"currency":"usd"},"extra":true,
          "items":[{"sku":"a","quantity":0},3]})");
  std::vector<FieldError> errors;
  Fields fields(body, "", errors);
  EXPECT_FALSE(fields.integer("points", true, 1, 100));
  EXPECT_FALSE(fields.text("name", TextRule{.required = true}));
  EXPECT_FALSE(fields.money("amount", true, 1));
  EXPECT_FALSE(fields.text("missing", TextRule{.required = true}));
  fields.objects("items", false, 10, [](Fields& item) {
    item.text("sku", TextRule{.required = true});
    item.integer("quantity", true, 1, 10);
  });
  fields.reject_unknown({"points", "name", "amount", "items", "missing"});
  std::vector<std::string> paths;
  for (const FieldError& e : errors) paths.push_back(e.field);
  EXPECT_EQ(paths, (std::vector<std::string>{"points", "name", "amount.amount", "amount.currency",
                                             "missing", "items[0].quantity", "items[1]", "extra"}));
}

TEST(Fields, ReadsValidValues) {
  const auto body = object(
      R"({"n":42,"t":"héllo","m":{"amount":1999,"currency":"USD"},"at":"2026-01-02T03:04:05Z"})");
  std::vector<FieldError> errors;
  Fields fields(body, "", errors);
  EXPECT_EQ(fields.integer("n", true, 0, 100), 42);
  EXPECT_EQ(fields.text("t", TextRule{.max_length = 5}), "héllo");  // 5 characters, 6 bytes
  auto money = fields.money("m", true, 1);
  ASSERT_TRUE(money);
  EXPECT_EQ(money->amount, 1999);
  EXPECT_EQ(money->currency, "USD");
  EXPECT_TRUE(fields.time("at", true));
  EXPECT_TRUE(errors.empty());
}

TEST(Fields, RefusesHugeAndUnsignedOverflowingIntegers) {
  const auto body = object(R"({"a":18446744073709551615,"b":-9223372036854775808})");
  std::vector<FieldError> errors;
  Fields fields(body, "", errors);
  EXPECT_FALSE(fields.integer("a", true, 0, 1'000'000));
  EXPECT_FALSE(fields.integer("b", true, 0, 1'000'000));
  EXPECT_EQ(errors.size(), 2U);
}

TEST(Fields, RefusesControlCharactersAndBadTimes) {
  const auto body = object(R"({"t":"a\u0000b","at":"yesterday","d":"2026-01-02"})");
  std::vector<FieldError> errors;
  Fields fields(body, "", errors);
  EXPECT_FALSE(fields.text("t", TextRule{}));
  EXPECT_FALSE(fields.time("at", true));
  EXPECT_FALSE(fields.time("d", true));  // a date is not a time
  EXPECT_EQ(errors.size(), 3U);
}

TEST(Problems, EveryRejectionHasAClientErrorStatusAndItsStableName) {
  for (int i = 0; i <= static_cast<int>(ledger::Rejection::idempotency_conflict); ++i) {
    const auto rejection = static_cast<ledger::Rejection>(i);
    const Problem p = problem(rejection);
    EXPECT_EQ(p.type, ledger::rejection_name(rejection));
    EXPECT_GE(p.status, 400U);
    EXPECT_LT(p.status, 500U);
  }
  EXPECT_EQ(problem(ApiError::storage_unavailable).status, 503U);
  EXPECT_EQ(problem(ledger::Rejection::insufficient_points).status, 422U);
}

TEST(Problems, TypesAreUnique) {
  auto types = problem_types();
  std::set<std::string_view> seen;
  for (const ProblemType& t : types) EXPECT_TRUE(seen.insert(t.type).second) << t.type;
}

TEST(Problems, ResponseIsProblemJson) {
  const http::Response response = to_response(
      problem(ApiError::validation_failed, "1 field", {{"amount", "must be positive"}}));
  EXPECT_EQ(response.status, 422U);
  EXPECT_EQ(response.content_type, "application/problem+json");
  const auto body = nlohmann::json::parse(response.body);
  EXPECT_EQ(body["type"], "validation_failed");
  EXPECT_EQ(body["errors"][0]["field"], "amount");
}

}  // namespace
}  // namespace pointsmall::api
