// Reports for the operators' console over the real API: the overview of points issued, redeemed,
// expired and outstanding by local day (across a change of summer time), liability, top items;
// member search; a member's lots. The server's time comes from a clock file the tests set.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "api_fixture.h"

namespace pointsmall::api_test {
namespace {

// London: summer time (UTC+1) ends at 01:00 UTC on 2026-10-25, which has 25 hours.
constexpr const char* kConfig = R"([program]
currency = "GBP"
points_per_unit = { GBP = 1 }
time_zone = "Europe/London"
expiry = "days:2"
point_value_per_100_points = 50

[store]
settle_interval_seconds = 0
)";

class ApiReports : public ApiFixture {
 protected:
  ApiReports()
      : ApiFixture(ServerSetup{"", kConfig, ""}), clock_file_(server_.scratch().file("clock")) {
    set_time("2026-10-20T12:00:00Z");
    setenv("POINTSMALL_TEST_CLOCK_FILE", clock_file_.c_str(), 1);  // the server reads it at start
  }
  ~ApiReports() override { unsetenv("POINTSMALL_TEST_CLOCK_FILE"); }

  // A first start makes the store with the configuration's time zone and expiry (a store keeps
  // those it was made with; the fixture's command-line calls would make it with the defaults).
  void SetUp() override {
    ASSERT_TRUE(server_.start());
    ASSERT_EQ(server_.stop(), 0);
    ApiFixture::SetUp();
  }

  void set_time(const std::string& rfc3339) const {
    std::ofstream out(clock_file_, std::ios::trunc);
    out << rfc3339 << "\n";
  }

  json overview(const std::string& query, const std::string& role = "analyst") {
    const HttpResponse r = call(as(role), "GET", "/v1/reports/overview" + query);
    EXPECT_EQ(r.status, 200) << r.describe();
    return r.status == 200 ? r.json() : json();
  }

  HttpResponse add_service(const std::string& id, const std::string& name, std::int64_t points) {
    const HttpResponse r =
        call(as("operator"), "POST", "/v1/items",
             {{"id", id}, {"name", name}, {"kind", "service"}, {"points_price", points}});
    EXPECT_EQ(r.status, 201) << r.describe();
    return r;
  }
  // A redemption by the merchant; the order's id, "" with a test failure.
  std::string redeem(std::int64_t member, const std::string& item_id, std::int64_t quantity) {
    const HttpResponse r =
        keyed(as("merchant"), "POST", "/v1/redemptions",
              {{"member_id", member}, {"item_id", item_id}, {"quantity", quantity}});
    EXPECT_EQ(r.status, 201) << r.describe();
    return r.status == 201 ? r.json().value("id", "") : "";
  }
  void step(const std::string& order_id, const std::string& name) {
    const HttpResponse r =
        keyed(as("merchant"), "POST", "/v1/redemptions/" + order_id + "/" + name, json::object());
    EXPECT_EQ(r.status, 200) << r.describe();
  }
  // A purchase of `amount_minor` pence, as the merchant.
  HttpResponse buy(std::int64_t member, const std::string& order_id, std::int64_t amount_minor) {
    json body = purchase_body(member, order_id, amount_minor);
    body["amount"]["currency"] = "GBP";
    return keyed(as("merchant"), "POST", "/v1/events", body);
  }
  void check_in(std::int64_t member) {
    const HttpResponse r = call(with(as("merchant"), "Idempotency-Key", fresh_key()), "POST",
                                member_path(member) + "/checkins");
    EXPECT_EQ(r.status, 201) << r.describe();
  }

  std::string clock_file_;
};

json day(const std::string& date, std::int64_t issued, std::int64_t redeemed, std::int64_t expired,
         std::int64_t outstanding, std::int64_t new_members, std::int64_t checkins,
         std::int64_t redemptions) {
  return {{"date", date},         {"issued", issued},           {"redeemed", redeemed},
          {"expired", expired},   {"outstanding", outstanding}, {"new_members", new_members},
          {"checkins", checkins}, {"redemptions", redemptions}};
}

// Earning, check-ins, redemptions and expiry on known local days; the report's days, totals,
// liability and top items are exactly what happened.
TEST_F(ApiReports, OverviewCountsEachLocalDayAcrossTheEndOfSummerTime) {
  ASSERT_EQ(call(as("operator"), "PUT", "/v1/engagement", {{"checkin", {{"points", 5}}}}).status,
            200);
  // 00:30 on the 25th in London (23:30 on the 24th in UTC).
  set_time("2026-10-24T23:30:00Z");
  const std::int64_t ana = create_member("ana");
  give_points(ana, 1000);
  // 23:30 on the 25th in London, after the clocks went back (still the 25th: 25 hours).
  set_time("2026-10-25T23:30:00Z");
  check_in(ana);                                 // 5 points
  ASSERT_EQ(buy(ana, "o-1", 2000).status, 201);  // 20 points for 20 GBP
  // The 26th: a new member, three orders of which one is cancelled.
  set_time("2026-10-26T10:00:00Z");
  const std::int64_t ben = create_member("ben");
  give_points(ben, 100);
  add_service("mug", "Red mug", 100);
  add_service("tea", "Green tea", 50);
  const std::string mugs = redeem(ana, "mug", 2);
  step(mugs, "confirm");
  const std::string tea = redeem(ana, "tea", 1);
  step(tea, "confirm");
  const std::string cancelled = redeem(ana, "mug", 3);
  step(cancelled, "cancel");
  // The 29th: ana's points of the 25th expired (2 days); her check-in settles them.
  set_time("2026-10-29T12:00:00Z");
  check_in(ana);
  EXPECT_EQ(available(ana), 5);
  EXPECT_EQ(available(ben), 100) << "ben's points are due but not settled (no settler)";

  const json report = overview("?from=2026-10-24&until=2026-10-30");
  ASSERT_TRUE(report.is_object());
  EXPECT_EQ(report["from"], "2026-10-24");
  EXPECT_EQ(report["until"], "2026-10-30");
  EXPECT_EQ(report["currency"], "GBP");
  const json expected_days = {
      day("2026-10-24", 0, 0, 0, 0, 0, 0, 0),       day("2026-10-25", 1025, 0, 0, 1025, 1, 1, 0),
      day("2026-10-26", 100, 250, 0, 875, 1, 0, 3), day("2026-10-27", 0, 0, 0, 875, 0, 0, 0),
      day("2026-10-28", 0, 0, 0, 875, 0, 0, 0),     day("2026-10-29", 5, 0, 775, 105, 0, 1, 0),
      day("2026-10-30", 0, 0, 0, 105, 0, 0, 0)};
  EXPECT_EQ(report["days"], expected_days);
  const json expected_totals = {{"issued", 1130},
                                {"redeemed", 250},
                                {"expired", 775},
                                {"new_members", 2},
                                {"checkins", 2},
                                {"redemptions", 3},
                                {"outstanding", 105},
                                {"members", 2},
                                {"liability", {{"amount", 52}, {"currency", "GBP"}}},
                                {"redemption_rate_bp", 2212}};
  EXPECT_EQ(report["totals"], expected_totals)
      << "105 points at 50 pence per 100 are 52.5 pence, rounded down; 250 / 1130 = 22.12%";
  const json expected_items = {
      {{"item_id", "mug"}, {"name", "Red mug"}, {"orders", 1}, {"units", 2}, {"points", 200}},
      {{"item_id", "tea"}, {"name", "Green tea"}, {"orders", 1}, {"units", 1}, {"points", 50}}};
  EXPECT_EQ(report["top_items"], expected_items) << "the cancelled order is not counted";

  // The outstanding points agree with the members' balances.
  EXPECT_EQ(report["totals"]["outstanding"], available(ana) + available(ben));
  // A range of the 26th alone: its figures, and top items of that day only.
  const json one_day = overview("?from=2026-10-26&until=2026-10-26", "operator");
  EXPECT_EQ(one_day["days"], json::array({expected_days[2]}));
  EXPECT_EQ(one_day["totals"]["issued"], 100);
  EXPECT_EQ(one_day["totals"]["redemption_rate_bp"], 25000);
  EXPECT_EQ(one_day["top_items"], expected_items);
  const json before = overview("?from=2026-10-24&until=2026-10-25", "admin");
  EXPECT_EQ(before["top_items"], json::array());
  EXPECT_EQ(before["totals"]["redemption_rate_bp"], 0);

  const HttpResponse program = call(as("analyst"), "GET", "/v1/program");
  EXPECT_EQ(program.json()["point_value_per_100_points"], 50) << program.describe();
}

TEST_F(ApiReports, OverviewDefaultsToTheLast30DaysEndingToday) {
  set_time("2026-11-22T23:59:00Z");  // still the 22nd in London (GMT)
  const json report = overview("");
  ASSERT_TRUE(report.is_object());
  EXPECT_EQ(report["from"], "2026-10-24");
  EXPECT_EQ(report["until"], "2026-11-22");
  ASSERT_EQ(report["days"].size(), 30U);
  EXPECT_EQ(report["days"][0]["date"], "2026-10-24");
  EXPECT_EQ(report["days"][29]["date"], "2026-11-22");
  EXPECT_EQ(overview("?until=2026-01-31")["from"], "2026-01-02");
  EXPECT_EQ(overview("?from=2026-01-01")["until"], "2026-11-22");
}

TEST_F(ApiReports, BadDatesAndRangesAreValidationFailures) {
  set_time("2026-11-22T12:00:00Z");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"?from=2026-13-01", "from"},
      {"?from=2026-02-30", "from"},
      {"?from=yesterday", "from"},
      {"?until=2026-1-5", "until"},
      {"?from=2026-05-02&until=2026-05-01", "from"},
      {"?from=2025-01-01&until=2026-02-05", "until"},  // 401 days
  };
  for (const auto& [query, field] : cases) {
    const HttpResponse r = call(as("analyst"), "GET", "/v1/reports/overview" + query);
    EXPECT_TRUE(is_problem(r, 422, "validation_failed")) << query << ": " << r.describe();
    EXPECT_EQ(error_fields(r), std::vector<std::string>{field}) << query;
  }
  EXPECT_EQ(
      call(as("analyst"), "GET", "/v1/reports/overview?from=2025-01-01&until=2026-02-04").status,
      200)
      << "400 days are allowed";
  EXPECT_TRUE(is_problem(call(as("merchant"), "GET", "/v1/reports/overview"), 403, "forbidden"));
}

TEST_F(ApiReports, MembersAreFoundByExternalIdNameEmailOrPhone) {
  const std::int64_t ana =
      create_member("shop-1", {{"name", "Ana Silva"}, {"email", "ana@x.test"}});
  const std::int64_t bob = create_member("shop-2", {{"phone", "+44 20 7946 0018"}});
  const std::int64_t cleo = create_member("web-3", {{"name", "Cleo Shopwell"}});
  auto ids = [&](const std::string& query) {
    std::vector<std::int64_t> out;
    const HttpResponse r = call(as("operator"), "GET", "/v1/members" + query);
    EXPECT_EQ(r.status, 200) << r.describe();
    const json body = r.json();
    for (const json& member : body["data"]) out.push_back(member.value("id", std::int64_t{0}));
    return out;
  };
  EXPECT_EQ(ids("?q=SHOP"), (std::vector<std::int64_t>{ana, bob, cleo}));
  EXPECT_EQ(ids("?q=silva"), std::vector<std::int64_t>{ana});
  EXPECT_EQ(ids("?q=X.TEST"), std::vector<std::int64_t>{ana});
  EXPECT_EQ(ids("?q=7946"), std::vector<std::int64_t>{bob});
  EXPECT_EQ(ids("?q=op-"), std::vector<std::int64_t>{}) << "an external id matches by its start";
  // Pages like the list.
  const HttpResponse first = call(as("operator"), "GET", "/v1/members?q=shop&limit=2");
  ASSERT_EQ(first.status, 200) << first.describe();
  ASSERT_EQ(first.json()["data"].size(), 2U);
  ASSERT_TRUE(first.json()["next_cursor"].is_string()) << first.describe();
  EXPECT_EQ(ids("?q=shop&limit=2&cursor=" + first.json()["next_cursor"].get<std::string>()),
            std::vector<std::int64_t>{cleo});
  const HttpResponse both = call(as("operator"), "GET", "/v1/members?q=shop&external_id=shop-1");
  EXPECT_TRUE(is_problem(both, 422, "validation_failed")) << both.describe();
  EXPECT_EQ(error_fields(both), std::vector<std::string>{"q"});
  EXPECT_TRUE(is_problem(call(as("operator"), "GET", "/v1/members?q="), 422, "validation_failed"));
}

TEST_F(ApiReports, AMembersLotsNewestFirstLiveOrAll) {
  set_time("2026-10-01T09:00:00Z");
  const std::int64_t ana = create_member("ana");
  give_points(ana, 30);
  set_time("2026-10-01T10:00:00Z");
  ASSERT_EQ(buy(ana, "o-7", 4500).status, 201);  // 45 points
  set_time("2026-10-04T10:00:00Z");
  give_points(ana, 10);  // settles: the first two lots expired
  const std::string path = member_path(ana) + "/lots";

  HttpResponse r = call(as("analyst"), "GET", path);
  ASSERT_EQ(r.status, 200) << r.describe();
  ASSERT_EQ(r.json()["data"].size(), 1U) << "live lots only: " << r.describe();
  const json live = r.json()["data"][0];
  EXPECT_EQ(live["points"], 10);
  EXPECT_EQ(live["remaining"], 10);
  EXPECT_EQ(live["state"], "active");
  EXPECT_EQ(live["source"], "adjustment");
  EXPECT_EQ(live["order_id"], nullptr);
  EXPECT_EQ(live["earned_at"], "2026-10-04T10:00:00Z");
  EXPECT_TRUE(live["expires_at"].is_string()) << live.dump();
  EXPECT_TRUE(r.json()["next_cursor"].is_null());

  r = call(as("operator"), "GET", path + "?state=all&limit=2");
  ASSERT_EQ(r.status, 200) << r.describe();
  const json page = r.json()["data"];
  ASSERT_EQ(page.size(), 2U);
  EXPECT_EQ(page[0]["points"], 10);
  EXPECT_EQ(page[1]["points"], 45);
  EXPECT_EQ(page[1]["state"], "expired");
  EXPECT_EQ(page[1]["order_id"], "o-7");
  EXPECT_EQ(page[1]["source"], "purchase");
  EXPECT_EQ(page[1]["earned_at"], "2026-10-01T10:00:00Z");
  ASSERT_TRUE(r.json()["next_cursor"].is_string()) << r.describe();
  r = call(as("operator"), "GET",
           path + "?state=all&limit=2&cursor=" + r.json()["next_cursor"].get<std::string>());
  ASSERT_EQ(r.status, 200) << r.describe();
  ASSERT_EQ(r.json()["data"].size(), 1U);
  EXPECT_EQ(r.json()["data"][0]["points"], 30);
  EXPECT_TRUE(r.json()["next_cursor"].is_null());

  EXPECT_TRUE(
      is_problem(call(as("analyst"), "GET", path + "?state=dead"), 422, "validation_failed"));
  EXPECT_TRUE(
      is_problem(call(as("analyst"), "GET", "/v1/members/999/lots"), 404, "unknown_member"));
  EXPECT_TRUE(is_problem(call(as("merchant"), "GET", path), 403, "forbidden"));
}

}  // namespace
}  // namespace pointsmall::api_test
