// The earning engine over the real API: rules, campaigns, tiers, check-ins, referrals, tasks, dry
// runs and back-tests, as a merchant, an operator and a member would use them.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "api_fixture.h"

namespace pointsmall::api_test {
namespace {

class ApiEarning : public ApiFixture {
 protected:
  // Saves a document as the operator; returns the answer.
  HttpResponse post(const std::string& path, const json& document) {
    return call(as("operator"), "POST", path, document);
  }
  HttpResponse put(const std::string& path, const json& document) {
    return call(as("operator"), "PUT", path, document);
  }
  // A purchase with items, as the merchant; returns the answer.
  HttpResponse buy(std::int64_t member, const std::string& order, std::int64_t amount_minor,
                   json items = json::array()) {
    json body = purchase_body(member, order, amount_minor);
    if (!items.empty()) body["items"] = std::move(items);
    return keyed(as("merchant"), "POST", "/v1/events", body);
  }
  static std::int64_t points_of(const HttpResponse& r) {
    return r.json().value("points", std::int64_t{-1});
  }
  // The rule ids of an answer's explanation.
  static std::vector<std::string> fired(const HttpResponse& r) {
    std::vector<std::string> ids;
    const json body = r.json();  // (a range over a temporary's part would dangle)
    for (const json& line : body["explanation"]) ids.push_back(line.value("rule", ""));
    return ids;
  }
};

json category_rule() {
  return {{"id", "shoe-week"},
          {"name", "Triple points on shoes"},
          {"event_type", "purchase"},
          {"items", {{"categories", {"shoes"}}}},
          {"effect",
           {{"kind", "per_unit"},
            {"points", 2},
            {"per", {{"amount", 100}, {"currency", "USD"}}},
            {"matching_items_only", true}}}};
}

json shoe(std::int64_t price_minor) {
  return {{"sku", "run-1"},
          {"category", "shoes"},
          {"price", {{"amount", price_minor}, {"currency", "USD"}}},
          {"quantity", 1}};
}

TEST_F(ApiEarning, TheDefaultProgramExplainsEveryPoint) {
  const std::int64_t member = create_member("m1");
  const HttpResponse r = buy(member, "o-1", 4999);
  ASSERT_EQ(r.status, 201) << r.describe();
  EXPECT_EQ(points_of(r), 49);
  ASSERT_EQ(fired(r), std::vector<std::string>{"base-rate-usd"}) << r.describe();
  EXPECT_FALSE(r.json()["explanation"][0].value("detail", "").empty()) << r.describe();
  const HttpResponse rules = call(as("analyst"), "GET", "/v1/rules");
  ASSERT_EQ(rules.status, 200) << rules.describe();
  ASSERT_EQ(rules.json()["data"].size(), 1U) << rules.describe();
  EXPECT_EQ(rules.json()["data"][0]["id"], "base-rate-usd");
  // The journal line says why too.
  const json history = transactions(member);
  EXPECT_NE(history[0].value("explanation", "").find("base-rate-usd"), std::string::npos)
      << history[0];
}

TEST_F(ApiEarning, ARuleSavedOverTheApiChangesEarningFromThenOnOnly) {
  const std::int64_t member = create_member("m1");
  const HttpResponse before = buy(member, "o-1", 10000, json::array({shoe(10000)}));
  ASSERT_EQ(points_of(before), 100) << before.describe();

  const HttpResponse created = post("/v1/rules", category_rule());
  ASSERT_EQ(created.status, 201) << created.describe();
  EXPECT_EQ(created.json()["version"], 1);
  const HttpResponse after = buy(member, "o-2", 10000,
                                 json::array({shoe(6000),
                                              {{"sku", "sock"},
                                               {"price", {{"amount", 4000}, {"currency", "USD"}}},
                                               {"quantity", 1}}}));
  ASSERT_EQ(after.status, 201) << after.describe();
  EXPECT_EQ(points_of(after), 100 + 120) << "2 per dollar on the 60 dollars of shoes";
  EXPECT_EQ(fired(after), (std::vector<std::string>{"base-rate-usd", "shoe-week"}));

  json changed = category_rule();
  changed["effect"]["points"] = 4;
  changed["version"] = 1;
  const HttpResponse replaced = put("/v1/rules/shoe-week", changed);
  ASSERT_EQ(replaced.status, 200) << replaced.describe();
  EXPECT_EQ(replaced.json()["version"], 2);
  changed["version"] = 1;  // a stale edit by a second operator
  EXPECT_TRUE(is_problem(put("/v1/rules/shoe-week", changed), 409, "version_conflict"));

  ASSERT_EQ(call(as("operator"), "DELETE", "/v1/rules/shoe-week").status, 204);
  EXPECT_TRUE(is_problem(call(as("operator"), "GET", "/v1/rules/shoe-week"), 404, "not_found"));
  const HttpResponse versions = call(as("analyst"), "GET", "/v1/rules/shoe-week/versions");
  ASSERT_EQ(versions.status, 200) << versions.describe();
  ASSERT_EQ(versions.json()["data"].size(), 3U);
  EXPECT_EQ(versions.json()["data"][0]["retired"], true);

  // Points already issued never move with a rule change.
  const json history = transactions(member);
  std::vector<std::int64_t> points;
  for (const json& t : history) points.push_back(t.value("points", std::int64_t{0}));
  EXPECT_EQ(points, (std::vector<std::int64_t>{220, 100, 0})) << "and the registration";
}

TEST_F(ApiEarning, ARuleThatCannotBeEvaluatedIsRefusedWithTheFieldNamed) {
  json bad = category_rule();
  bad["conditions"] = json::array({{{"field", "amout"}, {"op", "gte"}, {"value", 100}}});
  const HttpResponse r = post("/v1/rules", bad);
  ASSERT_TRUE(is_problem(r, 422, "validation_failed")) << r.describe();
  EXPECT_EQ(error_fields(r), std::vector<std::string>{"conditions[0].field"});
  bad["conditions"] = json::array({{{"field", "amount"}, {"op", "gte"}, {"value", "lots"}}});
  EXPECT_EQ(error_fields(post("/v1/rules", bad)), std::vector<std::string>{"conditions[0].value"});
  EXPECT_EQ(call(as("analyst"), "GET", "/v1/rules").json()["data"].size(), 1U)
      << "nothing was saved";
  ASSERT_EQ(post("/v1/rules", category_rule()).status, 201);
  EXPECT_TRUE(is_problem(post("/v1/rules", category_rule()), 409, "already_exists"));
  EXPECT_TRUE(
      is_problem(call(as("analyst"), "POST", "/v1/rules", category_rule()), 403, "forbidden"))
      << "analysts read the program but do not change it";
}

TEST_F(ApiEarning, ADryRunExplainsWithoutWriting) {
  const std::int64_t member = create_member("m1");
  ASSERT_EQ(post("/v1/rules", category_rule()).status, 201);
  json body = purchase_body(member, "o-1", 5000);
  body["items"] = json::array({shoe(5000)});
  const HttpResponse r = call(as("merchant"), "POST", "/v1/events?dry_run=true", body);
  ASSERT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.json()["dry_run"], true);
  EXPECT_EQ(points_of(r), 50 + 100);
  EXPECT_EQ(available(member), 0);
  EXPECT_EQ(transactions(member).size(), 1U) << "only the registration";
  body["items"] = json::array();
  const HttpResponse plain = call(as("merchant"), "POST", "/v1/events?dry_run=true", body);
  ASSERT_EQ(plain.status, 200) << plain.describe();
  ASSERT_EQ(plain.json()["skipped"].size(), 1U) << plain.describe();
  EXPECT_EQ(plain.json()["skipped"][0]["rule"], "shoe-week");
}

TEST_F(ApiEarning, AnEventOlderThanTheAcceptedLatenessIsRefused) {
  const std::int64_t member = create_member("m1");
  json body = purchase_body(member, "o-1", 5000);
  body["occurred_at"] = "2020-01-01T00:00:00Z";
  const HttpResponse r = keyed(as("merchant"), "POST", "/v1/events", body);
  EXPECT_TRUE(is_problem(r, 422, "event_too_late")) << r.describe();
  EXPECT_NE(r.json().value("detail", "").find("30 days"), std::string::npos) << r.describe();
  EXPECT_EQ(transactions(member).size(), 1U) << "only the registration";
}

TEST_F(ApiEarning, CheckInOncePerDayWithAStreak) {
  ASSERT_EQ(put("/v1/engagement",
                {{"checkin", {{"points", 5}, {"streak_rewards", {{{"day", 1}, {"points", 20}}}}}}})
                .status,
            200);
  const std::int64_t member = create_member("m1");
  const std::string key = fresh_key();
  const std::string path = member_path(member) + "/checkins";
  const HttpResponse first = call(with(as("merchant"), "Idempotency-Key", key), "POST", path);
  ASSERT_EQ(first.status, 201) << first.describe();
  EXPECT_EQ(points_of(first), 25) << "5 for the check-in and 20 for day 1 of the streak";
  EXPECT_EQ(first.json()["streak"], 1);
  const HttpResponse again =
      call(with(as("merchant"), "Idempotency-Key", fresh_key()), "POST", path);
  EXPECT_TRUE(is_problem(again, 409, "already_checked_in")) << again.describe();
  const HttpResponse retry = call(with(as("merchant"), "Idempotency-Key", key), "POST", path);
  EXPECT_EQ(retry.status, 201) << "a retry of the first check-in replays it: " << retry.describe();
  EXPECT_EQ(retry.header("idempotent-replayed"), "true");
  EXPECT_EQ(available(member), 25);

  const std::int64_t other = create_member("m2");
  const Headers member_headers = bearer(member_token(other));
  const HttpResponse mine =
      call(with(member_headers, "Idempotency-Key", fresh_key()), "POST", "/v1/me/checkins");
  ASSERT_EQ(mine.status, 201) << mine.describe();
  const HttpResponse status = call(member_headers, "GET", "/v1/me/checkins");
  ASSERT_EQ(status.status, 200) << status.describe();
  EXPECT_EQ(status.json()["checked_in_today"], true);
  EXPECT_EQ(status.json()["streak"], 1);
}

// "Launch bonus": 10 extra points on every purchase, running from 2020 to 2100.
json launch_campaign() {
  return {{"id", "launch"},
          {"name", "Launch bonus"},
          {"from", "2020-01-01T00:00:00Z"},
          {"until", "2100-01-01T00:00:00Z"},
          {"rules",
           {{{"id", "bonus"},
             {"name", "10 extra"},
             {"event_type", "purchase"},
             {"effect", {{"kind", "bonus"}, {"points", 10}}}}}}};
}

TEST_F(ApiEarning, ACampaignBudgetStopsAwardingWhenSpent) {
  json campaign = launch_campaign();
  campaign["budget"] = 15;
  ASSERT_EQ(post("/v1/campaigns", campaign).status, 201);
  const std::int64_t member = create_member("m1");
  EXPECT_EQ(points_of(buy(member, "o-1", 100)), 1 + 10);
  EXPECT_EQ(points_of(buy(member, "o-2", 100)), 1 + 5) << "5 left of the budget";
  EXPECT_EQ(points_of(buy(member, "o-3", 100)), 1);
}

// The member's history names what paid, as the operator named it: the mall shows "Launch
// bonus" and "10 extra", not ids. A rule retired since keeps its id and loses its name.
TEST_F(ApiEarning, HistoryLinesNameTheRulesAndCampaignsThatPaid) {
  ASSERT_EQ(post("/v1/campaigns", launch_campaign()).status, 201);
  const std::int64_t member = create_member("m1");
  ASSERT_EQ(points_of(buy(member, "o-1", 500)), 5 + 10);
  const json earned = transactions(member)[0];
  ASSERT_EQ(earned["kind"], "earn") << earned;
  ASSERT_EQ(earned["lines"].size(), 2U) << earned;
  std::map<std::string, json> by_rule;
  for (const json& line : earned["lines"]) by_rule[line.value("rule", "")] = line;
  EXPECT_EQ(by_rule["base-rate-usd"]["points"], 5) << earned;
  EXPECT_FALSE(by_rule["base-rate-usd"].value("name", "").empty()) << earned;
  EXPECT_FALSE(by_rule["base-rate-usd"].contains("campaign_name")) << earned;
  EXPECT_EQ(by_rule["bonus"]["points"], 10) << earned;
  EXPECT_EQ(by_rule["bonus"]["name"], "10 extra") << earned;
  EXPECT_EQ(by_rule["bonus"]["campaign"], "launch") << earned;
  EXPECT_EQ(by_rule["bonus"]["campaign_name"], "Launch bonus") << earned;
  EXPECT_FALSE(transactions(member).back().contains("lines")) << "opening the account paid none";

  ASSERT_EQ(call(as("operator"), "DELETE", "/v1/campaigns/launch").status, 204);
  const json later = transactions(member)[0];
  ASSERT_EQ(later["lines"].size(), 2U) << later;
  for (const json& line : later["lines"]) {
    if (line["rule"] != "bonus") continue;
    EXPECT_EQ(line["campaign"], "launch") << "the id stays: " << later;
    EXPECT_FALSE(line.contains("name") || line.contains("campaign_name")) << later;
  }
}

TEST_F(ApiEarning, TiersUpgradeAtOnceOnPointsEarnedAndSpendingNeverDemotes) {
  const json tiers = {
      {"measure", "points_earned"},
      {"period", "calendar_year"},
      {"downgrade", "recalculate"},
      {"tiers",
       {{{"id", "member"}, {"name", "Member"}, {"threshold", 0}},
        {{"id", "silver"}, {"name", "Silver"}, {"threshold", 100}, {"earn_percent", 150}}}}};
  ASSERT_EQ(put("/v1/tiers", tiers).status, 200);
  const std::int64_t member = create_member("m1");
  EXPECT_EQ(points_of(buy(member, "o-1", 9900)), 99);
  EXPECT_EQ(call(as("analyst"), "GET", member_path(member) + "/tier").json()["tier"]["id"],
            "member");
  const HttpResponse upgrade = buy(member, "o-2", 100);
  ASSERT_EQ(upgrade.status, 201) << upgrade.describe();
  EXPECT_EQ(upgrade.json()["tier_change"]["to"], "silver") << upgrade.describe();
  EXPECT_EQ(points_of(buy(member, "o-3", 1000)), 15) << "Silver earns 150%";
  // Spending the points (here: an operator takes them) changes nothing about the tier.
  const HttpResponse taken = keyed(as("operator"), "POST", member_path(member) + "/adjustments",
                                   {{"points", -100}, {"reason", "test"}});
  ASSERT_EQ(taken.status, 201) << taken.describe();
  const HttpResponse tier = call(as("analyst"), "GET", member_path(member) + "/tier");
  ASSERT_EQ(tier.status, 200) << tier.describe();
  EXPECT_EQ(tier.json()["tier"]["id"], "silver");
  EXPECT_EQ(tier.json()["measure"]["value"], 99 + 1 + 15);
  ASSERT_EQ(tier.json()["history"].size(), 1U) << tier.describe();
  EXPECT_EQ(tier.json()["history"][0]["to"], "silver");
  EXPECT_FALSE(tier.json()["history"][0].value("reason", "").empty());

  // An operator moves the member back down, with a reason.
  const HttpResponse set = keyed(as("operator"), "POST", member_path(member) + "/tier",
                                 {{"tier", "member"}, {"reason", "fraud review"}});
  ASSERT_EQ(set.status, 200) << set.describe();
  EXPECT_EQ(set.json()["tier"]["id"], "member");
  EXPECT_TRUE(is_problem(keyed(as("operator"), "POST", member_path(member) + "/tier",
                               {{"tier", "gold"}, {"reason", "x"}}),
                         422, "unknown_tier"));
}

TEST_F(ApiEarning, AReferralRewardsBothAfterTheFriendsFirstQualifyingPurchase) {
  ASSERT_EQ(put("/v1/engagement", {{"referral",
                                    {{"enabled", true},
                                     {"referrer_points", 50},
                                     {"friend_points", 20},
                                     {"min_purchase", {{"amount", 1000}, {"currency", "USD"}}}}}})
                .status,
            200);
  const std::int64_t referrer = create_member("ref");
  ASSERT_EQ(buy(referrer, "r-1", 1000).status, 201);  // a customer of their own first
  const HttpResponse code = call(as("merchant"), "GET", member_path(referrer) + "/referral");
  ASSERT_EQ(code.status, 200) << code.describe();
  const std::string referral_code = code.json().value("code", "");
  ASSERT_FALSE(referral_code.empty());
  EXPECT_EQ(call(as("merchant"), "GET", member_path(referrer) + "/referral").json()["code"],
            referral_code)
      << "a member keeps one code";

  const HttpResponse joined = call(as("merchant"), "POST", "/v1/members",
                                   {{"external_id", "friend"}, {"referral_code", referral_code}});
  ASSERT_EQ(joined.status, 201) << joined.describe();
  EXPECT_EQ(joined.json()["referrer"], "ref");
  const std::int64_t friend_id = joined.json().value("id", std::int64_t{0});
  EXPECT_EQ(points_of(buy(friend_id, "f-0", 500)), 5) << "below the minimum: no reward yet";
  EXPECT_EQ(points_of(buy(friend_id, "f-1", 1000)), 10 + 20);
  EXPECT_EQ(points_of(buy(friend_id, "f-2", 1000)), 10) << "only the first qualifying purchase";
  EXPECT_EQ(available(referrer), 10 + 50);

  EXPECT_EQ(error_fields(call(as("merchant"), "POST", "/v1/members",
                              {{"external_id", "self"}, {"referrer", "self"}})),
            std::vector<std::string>{"referrer"});
  EXPECT_EQ(
      error_fields(call(as("merchant"), "PATCH", member_path(referrer), {{"referrer", "friend"}})),
      std::vector<std::string>{"referrer"})
      << "a member cannot be referred by someone who joined later (no rings)";
}

TEST_F(ApiEarning, ATaskPaysOncePerMember) {
  const json task_rule = {
      {"id", "survey-2026"},
      {"name", "Customer survey"},
      {"event_type", "task"},
      {"conditions", {{{"field", "task"}, {"op", "eq"}, {"value", "survey-2026"}}}},
      {"effect", {{"kind", "fixed"}, {"points", 100}}},
      {"caps", {{"per_member", {{{"period", "lifetime"}, {"times", 1}}}}}}};
  ASSERT_EQ(post("/v1/rules", task_rule).status, 201);
  const std::int64_t member = create_member("m1");
  const std::string path = member_path(member) + "/tasks/survey-2026/completions";
  const HttpResponse first =
      call(with(as("merchant"), "Idempotency-Key", fresh_key()), "POST", path);
  ASSERT_EQ(first.status, 201) << first.describe();
  EXPECT_EQ(points_of(first), 100);
  const HttpResponse second =
      call(with(as("merchant"), "Idempotency-Key", fresh_key()), "POST", path);
  ASSERT_EQ(second.status, 201) << second.describe();
  EXPECT_EQ(points_of(second), 0) << "recorded, but the task pays once";
  const HttpResponse mine = call(bearer(member_token(member)), "GET", "/v1/me/tasks");
  ASSERT_EQ(mine.status, 200) << mine.describe();
  ASSERT_EQ(mine.json()["data"].size(), 1U);
  EXPECT_EQ(mine.json()["data"][0]["completed"], 1);
  EXPECT_EQ(mine.json()["data"][0]["times_per_member"], 1);
}

TEST_F(ApiEarning, RegistrationAndACompleteProfileAreRewardedOnceWithoutTheShopAsking) {
  const std::int64_t before = create_member("early");  // no rule yet: nothing recorded
  for (const auto& [type, points] : {std::pair{"register", 50}, {"profile_completed", 30}})
    ASSERT_EQ(post("/v1/rules", {{"id", std::string(type) + "-bonus"},
                                 {"name", type},
                                 {"event_type", type},
                                 {"effect", {{"kind", "fixed"}, {"points", points}}}})
                  .status,
              201);
  EXPECT_EQ(available(before), 0);
  const std::int64_t plain = create_member("plain");
  EXPECT_EQ(available(plain), 50);
  const json complete = {{"email", "ana@example.com"},
                         {"phone", "+44 20 7946 0018"},
                         {"name", "Ana"},
                         {"birthday", "1990-02-03"}};
  const std::int64_t full = create_member("full", complete);
  EXPECT_EQ(available(full), 80);
  // Completing a profile later is rewarded once, however often it changes afterwards.
  ASSERT_EQ(call(as("merchant"), "PATCH", member_path(plain), complete).status, 200);
  ASSERT_EQ(call(as("merchant"), "PATCH", member_path(plain), {{"name", "Ana B"}}).status, 200);
  EXPECT_EQ(available(plain), 80);
  EXPECT_EQ(transactions(plain).size(), 3U) << "registration, the account, the completed profile";
}

TEST_F(ApiEarning, ADailyCapHoldsUnderConcurrentEvents) {
  const json capped = {{"id", "share"},
                       {"name", "Shares"},
                       {"event_type", "share"},
                       {"effect", {{"kind", "fixed"}, {"points", 3}}},
                       {"caps", {{"per_member", {{{"period", "day"}, {"points", 20}}}}}}};
  ASSERT_EQ(post("/v1/rules", capped).status, 201);
  const std::int64_t member = create_member("m1");
  std::atomic<std::int64_t> awarded{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t)
    threads.emplace_back([&] {
      ApiClient client(server_.port());
      for (int i = 0; i < 5; ++i) {
        const HttpResponse r =
            client.call_json("POST", "/v1/events", {{"type", "share"}, {"member_id", member}},
                             with(as("merchant"), "Idempotency-Key", fresh_key()));
        if (r.status == 201) awarded += r.json().value("points", std::int64_t{0});
      }
    });
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(awarded.load(), 20) << "30 shares of 3 points, capped at 20 a day";
  EXPECT_EQ(available(member), 20);
}

TEST_F(ApiEarning, ABackTestReplaysStoredEventsAgainstADraft) {
  const std::int64_t member = create_member("m1");
  for (int i = 0; i < 3; ++i) ASSERT_EQ(buy(member, "o-" + std::to_string(i), 2500).status, 201);
  const json request = {{"from", "2020-01-01T00:00:00Z"},
                        {"until", "2030-01-01T00:00:00Z"},
                        {"draft",
                         {{"campaigns",
                           {{{"id", "double"},
                             {"name", "Double"},
                             {"from", "2020-01-01T00:00:00Z"},
                             {"until", "2100-01-01T00:00:00Z"},
                             {"rules",
                              {{{"id", "x2"},
                                {"name", "x2"},
                                {"event_type", "purchase"},
                                {"effect", {{"kind", "multiplier"}, {"percent", 200}}}}}}}}}}}};
  const HttpResponse r = call(as("analyst"), "POST", "/v1/simulations", request);
  ASSERT_EQ(r.status, 200) << r.describe();
  const json report = r.json();
  EXPECT_EQ(report["events"], 3);
  EXPECT_EQ(report["actual"]["points"], 75);
  EXPECT_EQ(report["simulated"]["points"], 150);
  EXPECT_EQ(report["simulated"]["by_rule"]["x2"], 75);
  EXPECT_EQ(report["actual"]["by_rule"]["base-rate-usd"], 75);
  EXPECT_TRUE(call(as("analyst"), "GET", "/v1/campaigns").json()["data"].empty())
      << "a draft is not saved";
  const HttpResponse bad =
      call(as("analyst"), "POST", "/v1/simulations",
           {{"from", "2020-01-01T00:00:00Z"}, {"until", "2019-01-01T00:00:00Z"}});
  EXPECT_EQ(error_fields(bad), std::vector<std::string>{"until"});
}

}  // namespace
}  // namespace pointsmall::api_test
