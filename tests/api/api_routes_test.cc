// Every route of the API once on its happy path, against the real server: the status and the
// body fields a client relies on, and the effect on balances and histories a member would see.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <sstream>
#include <string>

#include "api_fixture.h"

namespace pointsmall::api_test {
namespace {

using ApiRoutes = ApiFixture;

TEST_F(ApiRoutes, HealthzAndProgramSettings) {
  const HttpResponse health = call({}, "GET", "/healthz");
  EXPECT_EQ(health.status, 200) << health.describe();
  EXPECT_EQ(health.json(), json({{"status", "ok"}}));

  const HttpResponse program = call(as("analyst"), "GET", "/v1/program");
  ASSERT_EQ(program.status, 200) << program.describe();
  const json body = program.json();
  EXPECT_EQ(body["currency"], "USD");
  EXPECT_EQ(body["accepted_currencies"],
            json::array({{{"currency", "USD"}, {"points_per_unit", 1}}}));
  EXPECT_TRUE(body.contains("expiry")) << body;
  EXPECT_TRUE(body.contains("time_zone")) << body;
}

TEST_F(ApiRoutes, MembersAreCreatedReadListedAndPatched) {
  const HttpResponse created = call(as("merchant"), "POST", "/v1/members",
                                    {{"external_id", "shop-1"}, {"email", "ana@example.com"}});
  ASSERT_EQ(created.status, 201) << created.describe();
  const json member = created.json();
  const std::int64_t id = member.value("id", std::int64_t{0});
  ASSERT_GT(id, 0) << member;
  EXPECT_EQ(member["external_id"], "shop-1");
  EXPECT_EQ(member["email"], "ana@example.com");
  EXPECT_TRUE(member["name"].is_null()) << "absent profile fields are null: " << member;
  EXPECT_EQ(member["status"], "active");
  EXPECT_EQ(created.header("location"), member_path(id));

  const HttpResponse got = call(as("analyst"), "GET", member_path(id));
  ASSERT_EQ(got.status, 200) << got.describe();
  EXPECT_EQ(got.json(), member) << "GET returns what POST returned";

  const std::int64_t other = create_member("shop-2");
  const HttpResponse listed = call(as("operator"), "GET", "/v1/members");
  ASSERT_EQ(listed.status, 200) << listed.describe();
  std::set<std::int64_t> ids;
  const json listed_members = listed.json();  // (a range over a temporary's part would dangle)
  for (const json& m : listed_members["data"]) ids.insert(m.value("id", std::int64_t{0}));
  EXPECT_EQ(ids, (std::set<std::int64_t>{id, other}));
  EXPECT_TRUE(listed.json()["next_cursor"].is_null());

  const HttpResponse by_external = call(as("merchant"), "GET", "/v1/members?external_id=shop-2");
  ASSERT_EQ(by_external.status, 200) << by_external.describe();
  ASSERT_EQ(by_external.json()["data"].size(), 1U) << by_external.describe();
  EXPECT_EQ(by_external.json()["data"][0]["id"], other);
  const HttpResponse nobody = call(as("merchant"), "GET", "/v1/members?external_id=shop-404");
  EXPECT_EQ(nobody.json()["data"], json::array()) << nobody.describe();

  const HttpResponse patched =
      call(as("merchant"), "PATCH", member_path(id), {{"name", "Ana"}, {"email", nullptr}});
  ASSERT_EQ(patched.status, 200) << patched.describe();
  EXPECT_EQ(patched.json()["name"], "Ana");
  EXPECT_TRUE(patched.json()["email"].is_null()) << "null clears a field: " << patched.body;
  EXPECT_EQ(call(as("analyst"), "GET", member_path(id)).json()["name"], "Ana");

  EXPECT_TRUE(is_problem(call(as("merchant"), "POST", "/v1/members", {{"external_id", "shop-1"}}),
                         409, "member_exists"));
}

TEST_F(ApiRoutes, MemberCreationWithAKeyReplaysTheSameMember) {
  const Headers headers = with(as("merchant"), "Idempotency-Key", "register-7");
  const HttpResponse first = call(headers, "POST", "/v1/members", {{"external_id", "shop-7"}});
  const HttpResponse second = call(headers, "POST", "/v1/members", {{"external_id", "shop-7"}});
  ASSERT_EQ(first.status, 201) << first.describe();
  EXPECT_EQ(second.status, 201) << second.describe();
  EXPECT_EQ(second.json()["id"], first.json()["id"]);
  EXPECT_EQ(second.header("idempotent-replayed"), "true");
  EXPECT_TRUE(is_problem(call(headers, "POST", "/v1/members", {{"external_id", "shop-8"}}), 422,
                         "idempotency_conflict"));
  const HttpResponse listed = call(as("analyst"), "GET", "/v1/members");
  EXPECT_EQ(listed.json()["data"].size(), 1U) << "one member, however often sent: " << listed.body;
}

TEST_F(ApiRoutes, PurchaseEarnsWholeDollarsAndCheckinIsRecordedWithoutPoints) {
  const std::int64_t member = create_member("buyer");
  const HttpResponse bought = purchase(member, "order-1", 1999, "buy-1");
  ASSERT_EQ(bought.status, 201) << bought.describe();
  const json earned = bought.json();
  EXPECT_EQ(earned["points"], 19) << "19.99 USD earns floor(19.99) points";
  EXPECT_EQ(earned["status"], "available");
  EXPECT_EQ(earned["type"], "purchase");
  EXPECT_EQ(earned["member_id"], member);
  EXPECT_EQ(earned["balance"]["available"], 19);
  EXPECT_GT(earned.value("transaction_id", std::int64_t{0}), 0);

  const HttpResponse small = purchase(member, "order-2", 99, "buy-2");
  ASSERT_EQ(small.status, 201) << small.describe();
  EXPECT_EQ(small.json()["points"], 0) << "under one dollar earns nothing";
  EXPECT_EQ(small.json()["status"], "recorded");
  const HttpResponse small_refund =
      keyed(as("merchant"), "POST", "/v1/orders/order-2/refunds",
            {{"member_id", member}, {"amount", {{"amount", 99}, {"currency", "USD"}}}});
  EXPECT_EQ(small_refund.status, 201)
      << "a purchase that earned nothing is still a known order: " << small_refund.describe();
  EXPECT_EQ(small_refund.json()["points"], 0);

  const HttpResponse checkin =
      keyed(as("merchant"), "POST", "/v1/events", {{"type", "checkin"}, {"member_id", member}});
  ASSERT_EQ(checkin.status, 201) << checkin.describe();
  EXPECT_EQ(checkin.json()["points"], 0);
  EXPECT_EQ(checkin.json()["status"], "recorded");
  EXPECT_EQ(checkin.json()["type"], "checkin");

  EXPECT_EQ(available(member), 19);
  const json history = transactions(member);
  ASSERT_GE(history.size(), 5U) << history;
  EXPECT_EQ(history[0]["kind"], "event") << "newest first: the check-in";
  EXPECT_EQ(history[0]["points"], 0);
  EXPECT_EQ(history[1]["kind"], "refund") << history;
  EXPECT_EQ(history[2]["kind"], "earn") << "the small purchase, recorded: " << history;
  EXPECT_EQ(history[2]["points"], 0);
  EXPECT_EQ(history[3]["kind"], "earn") << history;
  EXPECT_EQ(history[3]["points"], 19);
  EXPECT_EQ(history[3]["reference"], "order-1");
}

TEST_F(ApiRoutes, RefundTakesPointsBack) {
  const std::int64_t member = create_member("refunded");
  ASSERT_EQ(purchase(member, "order-9", 10'000, "buy-9").status, 201);
  const HttpResponse refund =
      keyed(as("merchant"), "POST", "/v1/orders/order-9/refunds",
            {{"member_id", member}, {"amount", {{"amount", 5000}, {"currency", "USD"}}}});
  ASSERT_EQ(refund.status, 201) << refund.describe();
  EXPECT_EQ(refund.json()["points"], -50) << refund.body;
  EXPECT_EQ(refund.json()["order_id"], "order-9");
  EXPECT_EQ(refund.json()["balance"]["available"], 50);
  EXPECT_EQ(available(member), 50);
  const json history = transactions(member);
  ASSERT_FALSE(history.empty());
  EXPECT_EQ(history[0]["kind"], "refund");
  EXPECT_EQ(history[0]["points"], -50);

  EXPECT_TRUE(
      is_problem(keyed(as("merchant"), "POST", "/v1/orders/order-404/refunds",
                       {{"member_id", member}, {"amount", {{"amount", 100}, {"currency", "USD"}}}}),
                 404, "unknown_order"));
  EXPECT_EQ(available(member), 50);
}

TEST_F(ApiRoutes, BalanceShowsAvailableAndExpiringPoints) {
  const std::int64_t member = create_member("saver");
  ASSERT_EQ(purchase(member, "order-1", 4200, "buy-1").status, 201);
  const json b = balance(member);
  EXPECT_EQ(b["member_id"], member);
  EXPECT_EQ(b["available"], 42);
  EXPECT_EQ(b["pending"], 0);
  EXPECT_EQ(b["account_frozen"], false);
  EXPECT_EQ(b["lifetime_earned"], 42);
  ASSERT_EQ(b["expiring"].size(), 1U) << "purchase points expire (days:365 by default): " << b;
  EXPECT_EQ(b["expiring"][0]["points"], 42);
  EXPECT_TRUE(b["expiring"][0]["expires_at"].is_string()) << b;
}

TEST_F(ApiRoutes, TransactionsComeNewestFirstAcrossCursorPages) {
  const std::int64_t member = create_member("history");
  for (int points = 1; points <= 5; ++points) give_points(member, points);
  const json everything = transactions(member, 100);
  const json paged = transactions(member, 2);
  EXPECT_EQ(paged, everything) << "pages of 2 join into the whole history";
  ASSERT_EQ(everything.size(), 6U) << "opening + 5 adjustments: " << everything;
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(everything[i]["kind"], "adjustment");
    EXPECT_EQ(everything[i]["points"], static_cast<int>(5 - i)) << "newest first";
  }
  EXPECT_EQ(everything[5]["kind"], "open_account");
  for (std::size_t i = 1; i < everything.size(); ++i)
    EXPECT_GT(everything[i - 1]["id"].get<std::int64_t>(), everything[i]["id"].get<std::int64_t>());

  const HttpResponse first =
      call(as("analyst"), "GET", member_path(member) + "/transactions?limit=2");
  ASSERT_EQ(first.status, 200);
  EXPECT_EQ(first.json()["data"].size(), 2U);
  EXPECT_TRUE(first.json()["next_cursor"].is_string()) << first.body;
}

TEST_F(ApiRoutes, AdjustmentsAndFreezeUnfreeze) {
  const std::int64_t member = create_member("frozen");
  const HttpResponse plus = keyed(as("operator"), "POST", member_path(member) + "/adjustments",
                                  {{"points", 30}, {"reason", "goodwill"}});
  ASSERT_EQ(plus.status, 201) << plus.describe();
  EXPECT_EQ(plus.json()["points"], 30);
  EXPECT_EQ(plus.json()["balance"]["available"], 30);

  const HttpResponse frozen =
      keyed(as("operator"), "POST", member_path(member) + "/freeze", {{"reason", "fraud check"}});
  ASSERT_EQ(frozen.status, 200) << frozen.describe();
  EXPECT_EQ(frozen.json()["account_frozen"], true);
  EXPECT_EQ(call(as("analyst"), "GET", member_path(member)).json()["status"], "frozen");
  EXPECT_EQ(balance(member)["account_frozen"], true);

  const HttpResponse thawed =
      keyed(as("operator"), "POST", member_path(member) + "/unfreeze", {{"reason", "cleared"}});
  ASSERT_EQ(thawed.status, 200) << thawed.describe();
  EXPECT_EQ(thawed.json()["account_frozen"], false);
  const HttpResponse minus = keyed(as("operator"), "POST", member_path(member) + "/adjustments",
                                   {{"points", -10}, {"reason", "correction"}});
  EXPECT_EQ(minus.status, 201) << minus.describe();
  EXPECT_EQ(available(member), 20);
  EXPECT_TRUE(is_problem(keyed(as("operator"), "POST", member_path(member) + "/adjustments",
                               {{"points", -21}, {"reason", "too much"}}),
                         422, "insufficient_points"));
  EXPECT_EQ(available(member), 20);
}

// The issue asks that a frozen account refuses taking points by adjustment. (ADR 0001 says a
// freeze blocks spending and holds; the ledger's `adjust` does not look at the freeze.)
// A freeze stops the member spending while an operator reviews the account; the operator can
// still correct it (take fraudulent points back, or grant), and it keeps earning.
TEST_F(ApiRoutes, FrozenAccountStillTakesOperatorCorrections) {
  const std::int64_t member = create_member("frozen-adjusted");
  give_points(member, 30);
  ASSERT_EQ(
      keyed(as("operator"), "POST", member_path(member) + "/freeze", {{"reason", "fraud check"}})
          .status,
      200);
  EXPECT_EQ(call(as("operator"), "GET", member_path(member)).json()["status"], "frozen");
  const HttpResponse minus = keyed(as("operator"), "POST", member_path(member) + "/adjustments",
                                   {{"points", -10}, {"reason", "fraudulent check-ins"}});
  EXPECT_EQ(minus.status, 201) << minus.describe();
  const HttpResponse plus = keyed(as("operator"), "POST", member_path(member) + "/adjustments",
                                  {{"points", 5}, {"reason", "goodwill while frozen"}});
  EXPECT_EQ(plus.status, 201) << "a freeze does not block earning: " << plus.describe();
  EXPECT_EQ(available(member), 25);
  ASSERT_EQ(
      keyed(as("operator"), "POST", member_path(member) + "/unfreeze", {{"reason", "review done"}})
          .status,
      200);
  EXPECT_EQ(call(as("operator"), "GET", member_path(member)).json()["status"], "active");
}

TEST_F(ApiRoutes, MemberSessionReadsTheMembersOwnData) {
  const std::int64_t member = create_member("me");
  const std::int64_t other = create_member("not-me");
  give_points(member, 12);
  give_points(other, 99);
  const std::string token = member_token(member);
  ASSERT_FALSE(token.empty());

  const HttpResponse me = call(bearer(token), "GET", "/v1/me");
  ASSERT_EQ(me.status, 200) << me.describe();
  EXPECT_EQ(me.json()["id"], member);
  EXPECT_EQ(me.json()["external_id"], "me");
  const HttpResponse my_balance = call(bearer(token), "GET", "/v1/me/balance");
  ASSERT_EQ(my_balance.status, 200) << my_balance.describe();
  EXPECT_EQ(my_balance.json()["available"], 12);
  const HttpResponse my_history = call(bearer(token), "GET", "/v1/me/transactions");
  ASSERT_EQ(my_history.status, 200) << my_history.describe();
  ASSERT_FALSE(my_history.json()["data"].empty());
  EXPECT_EQ(my_history.json()["data"][0]["points"], 12);

  EXPECT_TRUE(
      is_problem(call(bearer(token), "GET", member_path(other) + "/balance"), 403, "forbidden"))
      << "a member cannot read another member's balance";

  const HttpResponse out = call(bearer(token), "POST", "/v1/auth/member/logout");
  EXPECT_EQ(out.status, 204) << out.describe();
  EXPECT_TRUE(is_problem(call(bearer(token), "GET", "/v1/me"), 401, "unauthenticated"))
      << "a signed-out token is dead";
}

TEST_F(ApiRoutes, MemberCredentialsAllowPasswordLogin) {
  const std::int64_t member = create_member("password-member");
  const HttpResponse set = call(as("merchant"), "PUT", member_path(member) + "/credentials",
                                {{"login", "ana.member"}, {"password", "a long enough secret"}});
  ASSERT_EQ(set.status, 204) << set.describe();

  const HttpResponse login = call({}, "POST", "/v1/auth/member/login",
                                  {{"login", "ana.member"}, {"password", "a long enough secret"}});
  ASSERT_EQ(login.status, 201) << login.describe();
  EXPECT_EQ(login.json()["member_id"], member);
  const std::string token = login.json().value("token", "");
  const HttpResponse me = call(bearer(token), "GET", "/v1/me");
  EXPECT_EQ(me.status, 200) << me.describe();
  EXPECT_EQ(me.json()["id"], member);

  EXPECT_TRUE(is_problem(call({}, "POST", "/v1/auth/member/login",
                              {{"login", "ana.member"}, {"password", "not the secret!"}}),
                         401, "login_failed"));
  EXPECT_TRUE(is_problem(call({}, "POST", "/v1/auth/member/login",
                              {{"login", "nobody"}, {"password", "a long enough secret"}}),
                         401, "login_failed"));
}

// Password guessing: after 5 failures for one login, even the right password is refused for a
// while (429), and other logins are unaffected.
TEST_F(ApiRoutes, RepeatedFailedSignInsAreThrottledPerLogin) {
  const std::int64_t member = create_member("guessed");
  ASSERT_EQ(call(as("merchant"), "PUT", member_path(member) + "/credentials",
                 {{"login", "guessed.member"}, {"password", "a long enough secret"}})
                .status,
            204);
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(is_problem(
        call({}, "POST", "/v1/auth/member/login",
             {{"login", "guessed.member"}, {"password", "guess number " + std::to_string(i)}}),
        401, "login_failed"));
  }
  EXPECT_TRUE(is_problem(call({}, "POST", "/v1/auth/member/login",
                              {{"login", "guessed.member"}, {"password", "a long enough secret"}}),
                         429, "too_many_requests"));
  EXPECT_TRUE(is_problem(call({}, "POST", "/v1/auth/member/login",
                              {{"login", "someone.else"}, {"password", "a long enough secret"}}),
                         401, "login_failed"));
}

TEST_F(ApiRoutes, OperatorConsoleSessionNeedsTotpAndCsrfAndEndsAtLogout) {
  const std::int64_t member = create_member("console-target");
  const std::string secret = totp_secrets_.at("console-operator");

  EXPECT_TRUE(is_problem(
      call(
          {}, "POST", "/v1/auth/operator/login",
          {{"name", "console-operator"}, {"password", kOperatorPassword}, {"totp_code", "000000"}}),
      401, "login_failed"))
      << "a wrong code is refused (1 in a million that it is right)";
  EXPECT_TRUE(is_problem(call({}, "POST", "/v1/auth/operator/login",
                              {{"name", "console-operator"},
                               {"password", "wrong password!"},
                               {"totp_code", totp_now(secret, 0)}}),
                         401, "login_failed"));

  const HttpResponse login = call({}, "POST", "/v1/auth/operator/login",
                                  {{"name", "console-operator"},
                                   {"password", kOperatorPassword},
                                   {"totp_code", totp_now(secret, 0)}});
  ASSERT_EQ(login.status, 200) << login.describe();
  const std::string set_cookie = login.header("set-cookie");
  EXPECT_EQ(set_cookie.rfind("pointsmall_session=", 0), 0U) << set_cookie;
  EXPECT_NE(set_cookie.find("HttpOnly"), std::string::npos) << set_cookie;
  EXPECT_NE(set_cookie.find("SameSite=Strict"), std::string::npos) << set_cookie;
  EXPECT_EQ(login.json()["operator"]["name"], "console-operator");
  EXPECT_EQ(login.json()["operator"]["role"], "operator");
  ConsoleSession session{set_cookie.substr(0, set_cookie.find(';')),
                         login.json().value("csrf_token", "")};
  ASSERT_FALSE(session.csrf_token.empty());

  const HttpResponse current = call(session.headers(false), "GET", "/v1/auth/operator/session");
  ASSERT_EQ(current.status, 200) << current.describe();
  EXPECT_EQ(current.json()["csrf_token"], session.csrf_token);
  EXPECT_EQ(call(session.headers(false), "GET", member_path(member)).status, 200)
      << "reads need no CSRF token";

  const json adjustment = {{"points", 5}, {"reason", "console"}};
  EXPECT_TRUE(is_problem(call(with(session.headers(false), "Idempotency-Key", "console-1"), "POST",
                              member_path(member) + "/adjustments", adjustment),
                         403, "csrf_failed"));
  EXPECT_TRUE(is_problem(call(with(with(session.headers(false), "X-CSRF-Token", "forged"),
                                   "Idempotency-Key", "console-2"),
                              "POST", member_path(member) + "/adjustments", adjustment),
                         403, "csrf_failed"));
  EXPECT_EQ(available(member), 0) << "a refused console call changes nothing";
  const HttpResponse adjusted = call(with(session.headers(), "Idempotency-Key", "console-3"),
                                     "POST", member_path(member) + "/adjustments", adjustment);
  EXPECT_EQ(adjusted.status, 201) << adjusted.describe();
  EXPECT_EQ(available(member), 5);
  const json history = transactions(member);
  ASSERT_FALSE(history.empty());
  EXPECT_EQ(history[0]["actor"], "operator:console-operator") << history[0];

  EXPECT_TRUE(is_problem(call(session.headers(false), "POST", "/v1/auth/operator/logout"), 403,
                         "csrf_failed"))
      << "logout changes state too";
  const HttpResponse logout = call(session.headers(), "POST", "/v1/auth/operator/logout");
  EXPECT_EQ(logout.status, 204) << logout.describe();
  EXPECT_NE(logout.header("set-cookie").find("Max-Age=0"), std::string::npos)
      << logout.header("set-cookie");
  EXPECT_TRUE(is_problem(call(session.headers(false), "GET", "/v1/auth/operator/session"), 401,
                         "unauthenticated"));
  EXPECT_TRUE(
      is_problem(call(session.headers(false), "GET", member_path(member)), 401, "unauthenticated"));
}

TEST_F(ApiRoutes, ApiKeysAreCreatedListedAndRevokedAtOnce) {
  const HttpResponse created =
      call(as("admin"), "POST", "/v1/api-keys", {{"name", "pos-terminal"}, {"role", "merchant"}});
  ASSERT_EQ(created.status, 201) << created.describe();
  const std::string key = created.json().value("key", "");
  const std::int64_t id = created.json().value("id", std::int64_t{0});
  EXPECT_EQ(key.rfind("pm_", 0), 0U) << created.body;
  EXPECT_EQ(created.json()["role"], "merchant");
  EXPECT_TRUE(created.json()["revoked_at"].is_null());
  EXPECT_EQ(call(bearer(key), "GET", "/v1/program").status, 200) << "the new key works";

  const HttpResponse listed = call(as("admin"), "GET", "/v1/api-keys");
  ASSERT_EQ(listed.status, 200) << listed.describe();
  EXPECT_EQ(listed.body.find(key), std::string::npos) << "a listing never shows a key";
  bool found = false;
  const json listed_keys = listed.json();
  for (const json& k : listed_keys["data"]) {
    if (k["name"] != "pos-terminal") continue;
    found = true;
    EXPECT_EQ(k["id"], id);
    EXPECT_FALSE(k.contains("key")) << k;
  }
  EXPECT_TRUE(found) << listed.body;
  EXPECT_TRUE(is_problem(
      call(as("admin"), "POST", "/v1/api-keys", {{"name", "pos-terminal"}, {"role", "merchant"}}),
      409, "name_taken"));

  const HttpResponse revoked = call(as("admin"), "DELETE", "/v1/api-keys/" + std::to_string(id));
  EXPECT_EQ(revoked.status, 204) << revoked.describe();
  EXPECT_TRUE(is_problem(call(bearer(key), "GET", "/v1/program"), 401, "unauthenticated"))
      << "a revoked key is refused at once";
  const json after_revoke = call(as("admin"), "GET", "/v1/api-keys").json();
  for (const json& k : after_revoke["data"]) {
    if (k["name"] == "pos-terminal") {
      EXPECT_TRUE(k["revoked_at"].is_string()) << k;
    }
  }
  EXPECT_TRUE(is_problem(call(as("admin"), "DELETE", "/v1/api-keys/" + std::to_string(id)), 404,
                         "not_found"));
}

TEST_F(ApiRoutes, AKeyMadeOnTheCommandLineWhileServingWorksAtOnce) {
  const std::string key = server_.create_api_key("made-while-serving", "analyst");
  ASSERT_FALSE(key.empty());
  const HttpResponse r = call(bearer(key), "GET", "/v1/program");
  EXPECT_EQ(r.status, 200) << r.describe();
  EXPECT_TRUE(is_problem(call(bearer(key), "POST", "/v1/members", {{"external_id", "x"}}), 403,
                         "forbidden"))
      << "with its role";
}

TEST_F(ApiRoutes, OperatorsAreCreatedListedAndDisabled) {
  const HttpResponse created =
      call(as("admin"), "POST", "/v1/operators",
           {{"name", "night-shift"}, {"role", "operator"}, {"password", "night shift secret"}});
  ASSERT_EQ(created.status, 201) << created.describe();
  const std::int64_t id = created.json().value("id", std::int64_t{0});
  const std::string secret = created.json().value("totp_secret", "");
  EXPECT_EQ(created.json()["disabled"], false);
  EXPECT_EQ(created.json()["totp_uri"].get<std::string>().rfind("otpauth://totp/", 0), 0U);

  const auto session = console_login("night-shift", secret, "night shift secret");
  ASSERT_TRUE(session.has_value()) << "the new operator signs in";
  EXPECT_EQ(call(session->headers(false), "GET", "/v1/auth/operator/session").status, 200);

  const HttpResponse listed = call(as("admin"), "GET", "/v1/operators");
  ASSERT_EQ(listed.status, 200) << listed.describe();
  EXPECT_EQ(listed.body.find(secret), std::string::npos) << "a listing never shows a secret";
  std::set<std::string> names;
  const json listed_operators = listed.json();
  for (const json& o : listed_operators["data"]) names.insert(o.value("name", ""));
  EXPECT_TRUE(names.count("night-shift") == 1 && names.count("console-admin") == 1) << listed.body;

  const HttpResponse disabled =
      call(as("admin"), "POST", "/v1/operators/" + std::to_string(id) + "/disable");
  ASSERT_EQ(disabled.status, 200) << disabled.describe();
  EXPECT_EQ(disabled.json()["disabled"], true);
  EXPECT_TRUE(is_problem(call(session->headers(false), "GET", "/v1/auth/operator/session"), 401,
                         "unauthenticated"))
      << "a disabled operator's session ends at once";
  EXPECT_FALSE(console_login("night-shift", secret, "night shift secret").has_value())
      << "a disabled operator cannot sign in";
}

TEST_F(ApiRoutes, MetricsCountRequestsByRouteAndStatus) {
  for (int i = 0; i < 3; ++i) ASSERT_EQ(call(as("analyst"), "GET", "/v1/program").status, 200);
  ASSERT_EQ(call({}, "GET", "/v1/program").status, 401);
  const HttpResponse metrics = call({}, "GET", "/metrics");
  ASSERT_EQ(metrics.status, 200) << metrics.describe();
  EXPECT_EQ(metrics.header("content-type").rfind("text/plain", 0), 0U);
  EXPECT_NE(metrics.body.find(
                "pointsmall_http_requests_total{route=\"GET /v1/program\",status=\"200\"} 3\n"),
            std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find(
                "pointsmall_http_requests_total{route=\"GET /v1/program\",status=\"401\"} 1\n"),
            std::string::npos)
      << metrics.body;
}

TEST_F(ApiRoutes, IdempotentReplayAnswersTheSameAndCountsOnce) {
  const std::int64_t member = create_member("replayed");
  const HttpResponse first = purchase(member, "order-r", 2500, "replay-key");
  const HttpResponse second = purchase(member, "order-r", 2500, "replay-key");
  ASSERT_EQ(first.status, 201) << first.describe();
  EXPECT_EQ(second.status, first.status);
  EXPECT_EQ(second.body, first.body) << "a replay answers the identical body";
  EXPECT_EQ(second.header("idempotent-replayed"), "true");
  EXPECT_FALSE(first.has_header("idempotent-replayed"));
  EXPECT_EQ(available(member), 25) << "the purchase counts once";

  const Headers keyed_headers = with(as("operator"), "Idempotency-Key", "adjust-once");
  const json body = {{"points", -5}, {"reason", "once"}};
  const HttpResponse a = call(keyed_headers, "POST", member_path(member) + "/adjustments", body);
  const HttpResponse b = call(keyed_headers, "POST", member_path(member) + "/adjustments", body);
  ASSERT_EQ(a.status, 201) << a.describe();
  EXPECT_EQ(b.status, 201);
  EXPECT_EQ(b.body, a.body);
  EXPECT_EQ(b.header("idempotent-replayed"), "true");
  EXPECT_EQ(available(member), 20);

  // A refused request leaves no trace, not even its key: retried after the cause is fixed, it
  // is evaluated afresh (ADR 0001).
  const Headers refused_key = with(as("operator"), "Idempotency-Key", "too-much");
  const json too_much = {{"points", -1000}, {"reason", "too much"}};
  EXPECT_TRUE(is_problem(call(refused_key, "POST", member_path(member) + "/adjustments", too_much),
                         422, "insufficient_points"));
  EXPECT_EQ(available(member), 20);
  give_points(member, 1000);
  const HttpResponse retried =
      call(refused_key, "POST", member_path(member) + "/adjustments", too_much);
  EXPECT_EQ(retried.status, 201) << retried.describe();
  EXPECT_FALSE(retried.has_header("idempotent-replayed"));
  EXPECT_EQ(available(member), 20);
}

TEST_F(ApiRoutes, AccessLogHasAJsonLinePerRequestWithoutSecrets) {
  const std::int64_t member = create_member("logged");
  const std::string token = member_token(member);
  ASSERT_EQ(call(bearer(token), "GET", "/v1/me").status, 200);
  ASSERT_EQ(call(as("analyst"), "GET", member_path(member) + "/balance").status, 200);
  ASSERT_EQ(call({}, "GET", "/v1/program").status, 401);
  ASSERT_EQ(server_.stop(), 0);  // flushes the log

  const std::string log = server_.stdout_text();
  int lines = 0;
  bool saw_template = false;
  std::istringstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    ++lines;
    const json entry = json::parse(line, nullptr, false);
    ASSERT_TRUE(entry.is_object()) << "not a JSON line: " << line;
    EXPECT_TRUE(entry.contains("method") && entry.contains("route") && entry.contains("status"))
        << line;
    saw_template = saw_template || entry.value("route", "") == "/v1/members/{member_id}/balance";
  }
  EXPECT_GE(lines, 5) << log;
  EXPECT_TRUE(saw_template) << "routes are logged as templates:\n" << log;
  for (const auto& [role, key] : keys_) EXPECT_EQ(log.find(key), std::string::npos) << role;
  EXPECT_EQ(log.find(token), std::string::npos) << "a member token was logged";
  EXPECT_EQ(log.find("logged"), std::string::npos) << "an external id (personal data) was logged";
}

}  // namespace
}  // namespace pointsmall::api_test
