// Bad input, class by class: each is refused with a clear 4xx problem (application/problem+json
// with a stable `type`) and writes nothing: the member's balance and history are the same after.
// The fixture's TearDown checks that the server still answers /healthz afterwards.
#include <gtest/gtest.h>

#include <string>

#include "api_fixture.h"

namespace pointsmall::api_test {
namespace {

class ApiBadInput : public ApiFixture {
 protected:
  void SetUp() override {
    ApiFixture::SetUp();
    if (HasFatalFailure()) return;
    member_ = create_member("victim");
    give_points(member_, 100);
    snapshot();
  }

  // Remembers the member's balance and history, to compare with later.
  void snapshot() {
    balance_before_ = balance(member_);
    history_before_ = transactions(member_);
  }

  // The member's balance and history are as at the last snapshot.
  void expect_unchanged() {
    EXPECT_EQ(balance(member_), balance_before_) << "a refused request changed the balance";
    EXPECT_EQ(transactions(member_), history_before_) << "a refused request wrote history";
  }

  [[nodiscard]] std::string adjustments() const { return member_path(member_) + "/adjustments"; }

  // A request with a raw body (any bytes) and content type, with a fresh Idempotency-Key.
  HttpResponse raw_post(const std::string& role, const std::string& target, std::string body,
                        const std::string& content_type = "application/json") {
    Headers headers = with(as(role), "Idempotency-Key", fresh_key("bad"));
    if (!content_type.empty()) headers.emplace_back("Content-Type", content_type);
    return client_->call("POST", target, std::move(headers), std::move(body));
  }

  [[nodiscard]] json event(json changes) const {
    json body = purchase_body(member_, "order-bad", 5000);
    for (auto& [name, value] : changes.items()) body[name] = value;
    return body;
  }

  // `body` sent as an event is refused as validation_failed naming `field`.
  void expect_event_field_error(const json& body, const std::string& field) {
    const HttpResponse r = keyed(as("merchant"), "POST", "/v1/events", body);
    EXPECT_TRUE(is_problem(r, 422, "validation_failed")) << body;
    const auto fields = error_fields(r);
    EXPECT_NE(std::find(fields.begin(), fields.end(), field), fields.end())
        << "errors should name " << field << ": " << r.body;
  }

  void expect_adjustment_field_error(const json& body, const std::string& field) {
    const HttpResponse r = keyed(as("operator"), "POST", adjustments(), body);
    EXPECT_TRUE(is_problem(r, 422, "validation_failed")) << body;
    const auto fields = error_fields(r);
    EXPECT_NE(std::find(fields.begin(), fields.end(), field), fields.end())
        << "errors should name " << field << ": " << r.body;
  }

  std::int64_t member_ = 0;
  json balance_before_;
  json history_before_;
};

TEST_F(ApiBadInput, MalformedJsonIsRefused) {
  for (const std::string& body :
       {std::string(R"({"type": "purchase", "member_id": )"), std::string("not json at all"),
        std::string(R"({"type": "purchase",})"), std::string("[1, 2, 3]"), std::string("42"),
        std::string(R"({"a": 1} trailing)")}) {
    EXPECT_TRUE(is_problem(raw_post("merchant", "/v1/events", body), 400, "malformed_json"))
        << body;
  }
  EXPECT_TRUE(is_problem(raw_post("operator", adjustments(), R"({"points": 5, "reason": )"), 400,
                         "malformed_json"));
  EXPECT_TRUE(is_problem(raw_post("merchant", "/v1/events", "", ""), 400, "malformed_json"))
      << "an empty body is not a JSON object";
  expect_unchanged();
}

TEST_F(ApiBadInput, WrongTypesAreFieldErrors) {
  expect_event_field_error(event({{"member_id", std::to_string(member_)}}), "member_id");
  expect_event_field_error(event({{"type", 7}}), "type");
  expect_event_field_error(event({{"amount", "50.00 USD"}}), "amount");
  expect_event_field_error(event({{"amount", {{"amount", "5000"}, {"currency", "USD"}}}}),
                           "amount.amount");
  expect_event_field_error(event({{"order_id", json::array({1})}}), "order_id");
  expect_adjustment_field_error({{"points", "10"}, {"reason", "typed"}}, "points");
  expect_adjustment_field_error({{"points", true}, {"reason", "typed"}}, "points");
  expect_adjustment_field_error({{"points", 10}, {"reason", 10}}, "reason");
  EXPECT_TRUE(is_problem(keyed(as("merchant"), "POST", "/v1/members", {{"external_id", 12}}), 422,
                         "validation_failed"));
  expect_unchanged();
}

TEST_F(ApiBadInput, UnknownFieldsAreRefused) {
  expect_event_field_error(event({{"bonus_points", 1000}}), "bonus_points");
  expect_event_field_error(event({{"amount", {{"amount", 5000}, {"currency", "USD"}, {"fx", 2}}}}),
                           "amount.fx");
  expect_adjustment_field_error({{"points", 10}, {"reason", "x"}, {"expires", "never"}}, "expires");
  EXPECT_TRUE(is_problem(call(as("merchant"), "PATCH", member_path(member_),
                              {{"name", "Eve"}, {"balance", 1'000'000}}),
                         422, "validation_failed"));
  EXPECT_EQ(call(as("analyst"), "GET", member_path(member_)).json()["name"], nullptr)
      << "a refused PATCH changes no field, not even the valid ones";
  expect_unchanged();
}

TEST_F(ApiBadInput, NegativeAndHugeAmountsAreRefused) {
  for (const json& amount :
       {json(-100), json(0), json(1'000'000'000'001),
        json(std::numeric_limits<std::int64_t>::max()),
        json(std::numeric_limits<std::uint64_t>::max()), json(1e300), json(50.5)})
    expect_event_field_error(event({{"amount", {{"amount", amount}, {"currency", "USD"}}}}),
                             "amount.amount");
  const HttpResponse beyond_uint64 =
      raw_post("merchant", "/v1/events",
               R"({"type": "purchase", "member_id": )" + std::to_string(member_) +
                   R"(, "order_id": "o", "amount": {"amount": 123456789012345678901234567890, )"
                   R"("currency": "USD"}})");
  EXPECT_TRUE(is_problem(beyond_uint64, 422, "validation_failed")) << "a number past 2^64";
  for (const json& points : {json(1'000'000'001), json(-1'000'000'001), json(0),
                             json(std::numeric_limits<std::int64_t>::min())})
    expect_adjustment_field_error({{"points", points}, {"reason", "huge"}}, "points");
  EXPECT_TRUE(is_problem(
      keyed(as("merchant"), "POST", "/v1/orders/order-bad/refunds",
            {{"member_id", member_}, {"amount", {{"amount", -5000}, {"currency", "USD"}}}}),
      422, "validation_failed"));
  expect_unchanged();
}

TEST_F(ApiBadInput, CurrenciesTheProgramDoesNotAcceptAreRefused) {
  expect_event_field_error(event({{"amount", {{"amount", 5000}, {"currency", "EUR"}}}}),
                           "amount.currency");
  expect_event_field_error(event({{"amount", {{"amount", 5000}, {"currency", "usd"}}}}),
                           "amount.currency");
  expect_event_field_error(event({{"amount", {{"amount", 5000}, {"currency", "DOLLARS"}}}}),
                           "amount.currency");
  ASSERT_EQ(purchase(member_, "order-usd", 1000, "usd-order").status, 201);
  snapshot();
  EXPECT_TRUE(is_problem(
      keyed(as("merchant"), "POST", "/v1/orders/order-usd/refunds",
            {{"member_id", member_}, {"amount", {{"amount", 500}, {"currency", "EUR"}}}}),
      422, "validation_failed"));
  expect_unchanged();
}

TEST_F(ApiBadInput, PointsMustBeIntegers) {
  expect_adjustment_field_error({{"points", 10.0}, {"reason", "float"}}, "points");
  expect_adjustment_field_error({{"points", 10.5}, {"reason", "float"}}, "points");
  expect_adjustment_field_error({{"points", -0.5}, {"reason", "float"}}, "points");
  EXPECT_TRUE(is_problem(raw_post("operator", adjustments(), R"({"points": 1e2, "reason": "e"})"),
                         422, "validation_failed"));
  expect_unchanged();
}

TEST_F(ApiBadInput, PointsChangingCallsNeedAnIdempotencyKey) {
  const json reason = {{"reason", "no key"}};
  EXPECT_TRUE(is_problem(call(as("merchant"), "POST", "/v1/events", event({})), 428,
                         "idempotency_key_missing"));
  EXPECT_TRUE(is_problem(
      call(as("operator"), "POST", adjustments(), {{"points", 10}, {"reason", "no key"}}), 428,
      "idempotency_key_missing"));
  EXPECT_TRUE(is_problem(call(as("operator"), "POST", member_path(member_) + "/freeze", reason),
                         428, "idempotency_key_missing"));
  EXPECT_TRUE(is_problem(call(as("operator"), "POST", member_path(member_) + "/unfreeze", reason),
                         428, "idempotency_key_missing"));
  EXPECT_TRUE(
      is_problem(call(as("merchant"), "POST", "/v1/orders/order-x/refunds",
                      {{"member_id", member_}, {"amount", {{"amount", 100}, {"currency", "USD"}}}}),
                 428, "idempotency_key_missing"));
  EXPECT_TRUE(is_problem(call(with(as("operator"), "Idempotency-Key", std::string(129, 'k')),
                              "POST", adjustments(), {{"points", 10}, {"reason", "long key"}}),
                         422, "validation_failed"))
      << "keys have at most 128 characters";
  EXPECT_TRUE(is_problem(call(with(as("operator"), "Idempotency-Key", "has space"), "POST",
                              adjustments(), {{"points", 10}, {"reason", "space"}}),
                         422, "validation_failed"))
      << "keys are printable ASCII without spaces";
  expect_unchanged();
}

TEST_F(ApiBadInput, AKeyReusedWithAnotherBodyIsAConflict) {
  const Headers headers = with(as("operator"), "Idempotency-Key", "reused");
  const HttpResponse first =
      call(headers, "POST", adjustments(), {{"points", 10}, {"reason", "first"}});
  ASSERT_EQ(first.status, 201) << first.describe();
  snapshot();
  EXPECT_TRUE(
      is_problem(call(headers, "POST", adjustments(), {{"points", 11}, {"reason", "first"}}), 422,
                 "idempotency_conflict"));
  EXPECT_TRUE(is_problem(
      call(with(as("merchant"), "Idempotency-Key", "reused"), "POST", "/v1/events", event({})), 422,
      "idempotency_conflict"))
      << "a key is one request, whatever the route";
  expect_unchanged();
  EXPECT_EQ(available(member_), 110) << "the first request counted once";
}

TEST_F(ApiBadInput, UnknownMembersAre404) {
  const std::string nobody = member_path(999'999);
  EXPECT_TRUE(is_problem(call(as("analyst"), "GET", nobody), 404, "unknown_member"));
  EXPECT_TRUE(is_problem(call(as("analyst"), "GET", nobody + "/balance"), 404, "unknown_member"));
  EXPECT_TRUE(
      is_problem(call(as("analyst"), "GET", nobody + "/transactions"), 404, "unknown_member"));
  EXPECT_TRUE(is_problem(call(as("analyst"), "GET", "/v1/members/abc"), 404, "unknown_member"));
  EXPECT_TRUE(is_problem(call(as("analyst"), "GET", "/v1/members/-1"), 404, "unknown_member"));
  EXPECT_TRUE(is_problem(
      keyed(as("operator"), "POST", nobody + "/adjustments", {{"points", 10}, {"reason", "ghost"}}),
      404, "unknown_member"));
  json ghost = event({});
  ghost["member_id"] = 999'999;
  EXPECT_TRUE(
      is_problem(keyed(as("merchant"), "POST", "/v1/events", ghost), 404, "unknown_member"));
  EXPECT_TRUE(is_problem(call(as("merchant"), "PATCH", nobody, {{"name", "Ghost"}}), 404,
                         "unknown_member"));
  expect_unchanged();
}

TEST_F(ApiBadInput, BodiesOverOneMebibyteAre413) {
  // Valid JSON, so that only its size is wrong: a reason of 1 MiB.
  const std::string body =
      R"({"points": 10, "reason": ")" + std::string(std::size_t{1024} * 1024, 'r') + R"("})";
  HttpConnection connection(server_.port());
  const HttpResponse r = connection.request(
      {"POST", adjustments(),
       with(with(as("operator"), "Idempotency-Key", "big"), "Content-Type", "application/json"),
       body});
  EXPECT_TRUE(is_problem(r, 413, "payload_too_large"));
  expect_unchanged();
}

TEST_F(ApiBadInput, HeadersOverSixteenKibibytesAre431) {
  HttpConnection connection(server_.port());
  const HttpResponse r = connection.request(
      {"GET", member_path(member_) + "/balance",
       with(as("analyst"), "X-Filler", std::string(std::size_t{17} * 1024, 'h')), ""});
  EXPECT_TRUE(is_problem(r, 431, "headers_too_large"));
  expect_unchanged();
}

TEST_F(ApiBadInput, ManySmallHeadersOverSixteenKibibytesAre431) {
  HttpConnection many(server_.port());
  Headers lots = as("operator");
  // 800 small headers of about 30 bytes each: 24 KB in all.
  for (int i = 0; i < 800; ++i) lots.emplace_back("X-Header-" + std::to_string(i), "0123456789ab");
  lots.emplace_back("Idempotency-Key", "many-headers");
  lots.emplace_back("Content-Type", "application/json");
  EXPECT_TRUE(is_problem(
      many.request({"POST", adjustments(), lots, R"({"points": 10, "reason": "many headers"})"}),
      431, "headers_too_large"));
  expect_unchanged();
}

TEST_F(ApiBadInput, BodiesThatAreNotJsonAre415) {
  const std::string body = R"({"points": 10, "reason": "typed"})";
  for (const std::string& type :
       {std::string("text/plain"), std::string("application/x-www-form-urlencoded"),
        std::string("application/jsonx"), std::string("")})
    EXPECT_TRUE(
        is_problem(raw_post("operator", adjustments(), body, type), 415, "unsupported_media_type"))
        << "content type \"" << type << "\"";
  EXPECT_EQ(raw_post("operator", adjustments(), body, "application/json; charset=utf-8").status,
            201)
      << "parameters of application/json are fine";
  snapshot();
  EXPECT_TRUE(is_problem(raw_post("operator", adjustments(), "points=10&reason=form",
                                  "application/x-www-form-urlencoded"),
                         415, "unsupported_media_type"));
  expect_unchanged();
}

TEST_F(ApiBadInput, DeeplyNestedJsonIsRefused) {
  const std::string deep = std::string(1000, '[') + std::string(1000, ']');
  EXPECT_TRUE(is_problem(raw_post("merchant", "/v1/events", deep), 400, "malformed_json"));
  const std::string deep_field =
      R"({"type": "purchase", "items": )" + std::string(1000, '[') + std::string(1000, ']') + "}";
  EXPECT_TRUE(is_problem(raw_post("merchant", "/v1/events", deep_field), 400, "malformed_json"));
  const std::string deep_objects = [] {
    std::string text;
    for (int i = 0; i < 1000; ++i) text += R"({"a":)";
    text += "1";
    for (int i = 0; i < 1000; ++i) text += "}";
    return text;
  }();
  EXPECT_TRUE(is_problem(raw_post("operator", adjustments(), deep_objects), 400, "malformed_json"));
  expect_unchanged();
}

TEST_F(ApiBadInput, InvalidUtf8IsRefused) {
  for (const std::string& reason : {std::string("\xff\xfe"), std::string("caf\xc3"),
                                    std::string("\xc0\xaf"), std::string("\xed\xa0\x80")}) {
    const HttpResponse r =
        raw_post("operator", adjustments(), R"({"points": 10, "reason": ")" + reason + R"("})");
    EXPECT_TRUE(is_problem(r, 400, "malformed_json"));
    EXPECT_TRUE(r.json().is_object()) << "the problem itself is valid JSON";
  }
  EXPECT_TRUE(is_problem(
      raw_post("operator", adjustments(), R"({"points": 10, "reason": "\ud800 lone surrogate"})"),
      400, "malformed_json"));
  EXPECT_TRUE(
      is_problem(raw_post("operator", adjustments(), R"({"points": 10, "reason": "bell\u0007"})"),
                 422, "validation_failed"))
      << "control characters are refused in text";
  expect_unchanged();
}

TEST_F(ApiBadInput, GarbageThatIsNotHttpGets400OrAClosedConnection) {
  for (const std::string& garbage :
       {std::string("HELLO WORLD\r\n\r\n"),
        std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11),
        std::string("GET /healthz HTTP/9.9\r\n\r\n"), std::string("GET\r\n\r\n"),
        std::string("POST /v1/events HTTP/1.1\r\nContent-Length: -5\r\n\r\n"),
        std::string("GET /healthz HTTP/1.1\r\nBad Header Without Colon\r\n\r\n")}) {
    HttpConnection connection(server_.port(), std::chrono::seconds(5));
    ASSERT_TRUE(connection.send_raw(garbage));
    const HttpResponse r = connection.read_response();
    if (r.status != 0) {
      EXPECT_TRUE(is_problem(r, 400, "malformed_request")) << json(garbage).dump();
      EXPECT_TRUE(connection.closed_by_peer()) << "the connection closes after a malformed request";
    } else {
      EXPECT_TRUE(connection.closed_by_peer()) << "neither a response nor a close: " << r.error;
    }
  }
  expect_unchanged();
}

TEST_F(ApiBadInput, RefusalsOfTheLedgerWriteNothing) {
  ASSERT_EQ(purchase(member_, "order-once", 5000, "order-once-1").status, 201);
  snapshot();
  EXPECT_TRUE(
      is_problem(purchase(member_, "order-once", 5000, "order-once-2"), 409, "duplicate_order"))
      << "an order earns once, whatever the key";
  EXPECT_TRUE(is_problem(
      keyed(as("merchant"), "POST", "/v1/orders/order-once/refunds",
            {{"member_id", member_}, {"amount", {{"amount", 5001}, {"currency", "USD"}}}}),
      422, "refund_exceeds_order"));
  EXPECT_TRUE(is_problem(keyed(as("operator"), "POST", adjustments(),
                               {{"points", -151}, {"reason", "more than there is"}}),
                         422, "insufficient_points"));
  EXPECT_TRUE(is_problem(
      keyed(as("merchant"), "POST", "/v1/events",
            {{"type", "checkin"}, {"member_id", member_}, {"occurred_at", "2999-01-01T00:00:00Z"}}),
      422, "validation_failed"))
      << "events cannot happen in the future";
  expect_unchanged();
}

TEST_F(ApiBadInput, BadPagingIsAFieldError) {
  for (const std::string& query :
       {std::string("limit=0"), std::string("limit=101"), std::string("limit=ten"),
        std::string("cursor=abc"), std::string("cursor=-5")})
    EXPECT_TRUE(
        is_problem(call(as("analyst"), "GET", member_path(member_) + "/transactions?" + query), 422,
                   "validation_failed"))
        << query;
}

TEST_F(ApiBadInput, UnknownRoutesAndMethods) {
  EXPECT_TRUE(is_problem(call(as("admin"), "GET", "/v1/nothing-here"), 404, "not_found"));
  EXPECT_TRUE(is_problem(call(as("admin"), "GET", "/v2/members"), 404, "not_found"));
  const HttpResponse wrong_method = call(as("admin"), "DELETE", member_path(member_));
  EXPECT_TRUE(is_problem(wrong_method, 405, "method_not_allowed"));
  EXPECT_NE(wrong_method.header("allow").find("GET"), std::string::npos)
      << wrong_method.header("allow");
  expect_unchanged();
}

}  // namespace
}  // namespace pointsmall::api_test
