// The points mall over the real API: redemptions and the life of their orders, points plus cash,
// coupon and tier-upgrade items, checkout coupons, code pools and operator issues, as a member, a
// merchant and an operator would notice them: statuses, problems, balances, stock, orders and
// coupons.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <functional>
#include <latch>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "api_fixture.h"

namespace pointsmall::api_test {
namespace {

constexpr std::int64_t kStartingPoints = 1000;
constexpr std::int64_t kRaceRounds = 20;
constexpr std::int64_t kRacePoints = 10;  // the price of an item raced for

json shipping_address() {
  return {{"name", "Ana Silva"},
          {"line1", "1 High Street"},
          {"city", "London"},
          {"postal_code", "N1 9GU"},
          {"country", "GB"}};
}

// A service (nothing shipped), on sale now, without stock or limits.
json service_item(const std::string& id, std::int64_t points_price) {
  return {
      {"id", id}, {"name", "Service " + id}, {"kind", "service"}, {"points_price", points_price}};
}

// A shipped item with `stock` units.
json physical_item(const std::string& id, std::int64_t points_price, std::int64_t stock) {
  return {{"id", id},
          {"name", "Mug " + id},
          {"kind", "physical"},
          {"points_price", points_price},
          {"stock", stock}};
}

json usd(std::int64_t amount_minor) {
  return {{"amount", amount_minor}, {"currency", "USD"}};
}

// A coupon template taking a fixed amount off, valid 30 days from its issue.
json fixed_template(const std::string& id, std::int64_t amount_minor) {
  return {{"id", id},
          {"name", "Fixed " + id},
          {"benefit", {{"kind", "fixed_amount"}, {"amount", usd(amount_minor)}}},
          {"validity", {{"days_after_issue", 30}}}};
}

// A checkout order of `amount_minor` US cents.
json usd_order(std::int64_t amount_minor) {
  return {{"currency", "USD"}, {"amount", amount_minor}};
}

// Two tiers: everyone starts in "member"; "gold" is out of reach by earning in these tests.
json two_tiers() {
  return {{"measure", "points_earned"},
          {"period", "calendar_year"},
          {"downgrade", "recalculate"},
          {"tiers",
           {{{"id", "member"}, {"name", "Member"}, {"threshold", 0}},
            {{"id", "gold"}, {"name", "Gold"}, {"threshold", 1'000'000}}}}};
}

// A code as a shopper might type it: lower case, without the dashes.
std::string typed_carelessly(const std::string& code) {
  std::string typed;
  for (char c : code)
    if (c != '-') typed += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return typed;
}

std::string id_of(const HttpResponse& r) {
  return r.json().value("id", "");
}

// The states of an order's history, oldest first.
std::vector<std::string> states_of(const json& order) {
  std::vector<std::string> states;
  if (order.is_object() && order.contains("history"))
    for (const json& change : order["history"]) states.push_back(change.value("state", ""));
  return states;
}

class ApiMall : public ApiFixture {
 protected:
  HttpResponse add_item(const json& document) {
    HttpResponse r = call(as("operator"), "POST", "/v1/items", document);
    EXPECT_EQ(r.status, 201) << r.describe();
    return r;
  }
  HttpResponse add_template(const json& document) {
    HttpResponse r = call(as("operator"), "POST", "/v1/coupon-templates", document);
    EXPECT_EQ(r.status, 201) << r.describe();
    return r;
  }

  // The item as the shop's staff see it (with stock_left and taken); null with a test failure.
  json item(const std::string& id) {
    const HttpResponse r = call(as("analyst"), "GET", "/v1/items/" + id);
    EXPECT_EQ(r.status, 200) << r.describe();
    return r.status == 200 ? r.json() : json();
  }

  // What a member and the shop would notice of a redemption: the member's available and held
  // points, and the item's units left and taken.
  json standing(std::int64_t member, const std::string& item_id) {
    json points = balance(member);
    json units = item(item_id);
    if (!points.is_object() || !units.is_object()) return json();
    return {{"available", points["available"]},
            {"held", points["held"]},
            {"stock_left", units["stock_left"]},
            {"taken", units["taken"]}};
  }

  // A member with `points` available points.
  std::int64_t member_with(const std::string& external_id, std::int64_t points = kStartingPoints) {
    const std::int64_t member = create_member(external_id);
    if (points > 0) give_points(member, points);
    return member;
  }

  // A redemption by the merchant for the member.
  HttpResponse redeem(std::int64_t member, const std::string& item_id, std::int64_t quantity = 1,
                      const std::optional<json>& address = std::nullopt,
                      const std::string& key = fresh_key("redeem")) {
    json body = {{"member_id", member}, {"item_id", item_id}, {"quantity", quantity}};
    if (address) body["shipping_address"] = *address;
    return call(with(as("merchant"), "Idempotency-Key", key), "POST", "/v1/redemptions", body);
  }
  // A redeemed order's id; "" with a test failure when the redemption was refused.
  std::string redeemed(std::int64_t member, const std::string& item_id,
                       const std::optional<json>& address = std::nullopt) {
    const HttpResponse r = redeem(member, item_id, 1, address);
    EXPECT_EQ(r.status, 201) << r.describe();
    return r.status == 201 ? id_of(r) : "";
  }

  // A step of an order by the merchant ("confirm", "ship", ...).
  HttpResponse step(const std::string& order_id, const std::string& name,
                    const json& body = json::object()) {
    return keyed(as("merchant"), "POST", "/v1/redemptions/" + order_id + "/" + name, body);
  }
  // Takes the steps in turn, each expected to succeed.
  void steps(const std::string& order_id, const std::vector<std::string>& names) {
    for (const std::string& name : names) {
      json body = name == "ship"
                      ? json{{"carrier", "DHL"}, {"tracking_number", "1Z999AA10123456784"}}
                      : json::object();
      const HttpResponse r = step(order_id, name, body);
      EXPECT_EQ(r.status, 200) << name << ": " << r.describe();
    }
  }

  json order(const std::string& order_id) {
    const HttpResponse r = call(as("analyst"), "GET", "/v1/redemptions/" + order_id);
    EXPECT_EQ(r.status, 200) << r.describe();
    return r.status == 200 ? r.json() : json();
  }

  // Issues one coupon of the template to the member (an operator's issue); its code, or "".
  std::string issue(const std::string& template_id, std::int64_t member) {
    const HttpResponse r =
        keyed(as("operator"), "POST", "/v1/coupon-templates/" + template_id + "/issues",
              {{"member_ids", {member}}});
    EXPECT_EQ(r.status, 200) << r.describe();
    json body = r.json();
    if (r.status != 200 || body["issued"].size() != 1) {
      ADD_FAILURE() << "no coupon issued: " << r.describe();
      return "";
    }
    return body["issued"][0].value("code", "");
  }

  // The merchant's checkout: validate a typed code, redeem and release one.
  HttpResponse validate(const std::string& code, std::int64_t member, const json& order_body,
                        const json& applied = json::array()) {
    json body = {{"code", code}, {"member_id", member}, {"order", order_body}};
    if (!applied.empty()) body["applied_codes"] = applied;
    return call(as("merchant"), "POST", "/v1/coupons/validate", body);
  }
  HttpResponse use_coupon(const std::string& code, std::int64_t member,
                          const std::string& shop_order, const json& order_body,
                          const std::string& key = fresh_key("coupon"),
                          const json& applied = json::array()) {
    json body = {{"member_id", member}, {"order_id", shop_order}, {"order", order_body}};
    if (!applied.empty()) body["applied_codes"] = applied;
    return call(with(as("merchant"), "Idempotency-Key", key), "POST",
                "/v1/coupons/" + code + "/redeem", body);
  }
  json coupon(const std::string& code) {
    const HttpResponse r = call(as("analyst"), "GET", "/v1/coupons/" + code);
    EXPECT_EQ(r.status, 200) << r.describe();
    return r.status == 200 ? r.json() : json();
  }

  // The codes of a coupon list ({"data": [...]}).
  static std::vector<std::string> codes_of(const HttpResponse& r) {
    std::vector<std::string> codes;
    json body = r.json();
    if (body.is_object() && body.contains("data"))
      for (const json& c : body["data"]) codes.push_back(c.value("code", ""));
    std::sort(codes.begin(), codes.end());
    return codes;
  }

  // A CSV file of codes for the template's pool, as the operator.
  HttpResponse import_pool(const std::string& template_id, const std::string& csv,
                           const std::string& content_type = "text/csv") {
    return client_->call("POST", "/v1/coupon-templates/" + template_id + "/pool",
                         with(as("operator"), "Content-Type", content_type), csv);
  }

  // What each of `tabs` answers to `send(tab, i)`, all sent at the same moment from their own
  // threads and connections.
  static std::vector<HttpResponse> at_once(
      std::vector<ApiClient>& tabs,
      const std::function<HttpResponse(ApiClient&, std::size_t)>& send) {
    std::vector<HttpResponse> answers(tabs.size());
    std::latch start(static_cast<std::ptrdiff_t>(tabs.size()));
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < tabs.size(); ++i)
      threads.emplace_back([&, i] {
        start.arrive_and_wait();
        answers[i] = send(tabs[i], i);
      });
    for (std::thread& thread : threads) thread.join();
    return answers;
  }
  // Redemptions of the item by the member from every tab at the same moment; `same_key` sends
  // them with one Idempotency-Key (a double click), else each with its own (two tabs).
  std::vector<HttpResponse> race(std::vector<ApiClient>& tabs, std::int64_t member,
                                 const std::string& item_id, bool same_key) {
    std::vector<Headers> headers;
    const std::string shared_key = fresh_key("double-click");
    for (std::size_t i = 0; i < tabs.size(); ++i)
      headers.push_back(
          with(as("merchant"), "Idempotency-Key", same_key ? shared_key : fresh_key("tab")));
    const json body = {{"member_id", member}, {"item_id", item_id}};
    return at_once(tabs, [&](ApiClient& tab, std::size_t i) {
      return tab.call_json("POST", "/v1/redemptions", body, headers[i]);
    });
  }
  // Two clients with open connections, so that both requests leave at once.
  std::vector<ApiClient> two_tabs() {
    std::vector<ApiClient> tabs;
    for (int i = 0; i < 2; ++i) {
      tabs.emplace_back(server_.port());
      EXPECT_EQ(tabs.back().call("GET", "/healthz").status, 200);
    }
    return tabs;
  }

  // The orders of a member, as the shop lists them.
  json orders_of(std::int64_t member) {
    const HttpResponse r =
        call(as("analyst"), "GET", "/v1/redemptions?limit=100&member_id=" + std::to_string(member));
    EXPECT_EQ(r.status, 200) << r.describe();
    return r.status == 200 ? r.json()["data"] : json::array();
  }
};

// ---- Double clicks and races --------------------------------------------------------------------

// The ids of a catalog listing, in its order.
std::vector<std::string> ids_of(const HttpResponse& listing) {
  const json body = listing.json();  // kept: a loop over a temporary's member would dangle
  std::vector<std::string> ids;
  for (const json& item : body["data"]) ids.push_back(item.value("id", ""));
  return ids;
}

// A member browses cheapest first, dearest first or most redeemed first; an order the API does
// not know is refused by name.
TEST_F(ApiMall, TheCatalogListsInTheOrderTheMemberChooses) {
  using Ids = std::vector<std::string>;
  add_item(physical_item("bowl", 500, 10));
  add_item(physical_item("cup", 200, 10));
  add_item(physical_item("apron", 900, 10));
  const std::int64_t member = member_with("browser", 5000);
  for (int i = 0; i < 2; ++i) redeemed(member, "cup", shipping_address());
  redeemed(member, "apron", shipping_address());
  const Headers me = bearer(member_token(member));
  EXPECT_EQ(ids_of(call(me, "GET", "/v1/me/items")), (Ids{"apron", "bowl", "cup"}));
  EXPECT_EQ(ids_of(call(me, "GET", "/v1/me/items?sort=points")), (Ids{"cup", "bowl", "apron"}));
  EXPECT_EQ(ids_of(call(me, "GET", "/v1/me/items?sort=-points")), (Ids{"apron", "bowl", "cup"}));
  EXPECT_EQ(ids_of(call(me, "GET", "/v1/me/items?sort=popular")), (Ids{"cup", "apron", "bowl"}));
  EXPECT_EQ(ids_of(call(as("analyst"), "GET", "/v1/items?sort=popular&kind=physical")),
            (Ids{"cup", "apron", "bowl"}));
  const HttpResponse wrong = call(me, "GET", "/v1/me/items?sort=cheapest");
  EXPECT_TRUE(is_problem(wrong, 422, "validation_failed")) << wrong.describe();
  EXPECT_NE(wrong.body.find("popular"), std::string::npos) << "names the choices: " << wrong.body;
}

TEST_F(ApiMall, ADoubleClickReplaysTheFirstOrderAndHoldsThePointsOnce) {
  const std::int64_t member = member_with("m1");
  add_item(physical_item("mug", 300, 5));
  const std::string key = fresh_key("click");
  const HttpResponse first = redeem(member, "mug", 1, shipping_address(), key);
  ASSERT_EQ(first.status, 201) << first.describe();
  EXPECT_FALSE(first.has_header("idempotent-replayed"));
  const HttpResponse second = redeem(member, "mug", 1, shipping_address(), key);
  ASSERT_EQ(second.status, 201) << second.describe();
  EXPECT_EQ(second.header("idempotent-replayed"), "true");
  EXPECT_EQ(id_of(second), id_of(first));
  EXPECT_EQ(second.json(), first.json());
  EXPECT_EQ(standing(member, "mug"),
            (json{{"available", 700}, {"held", 300}, {"stock_left", 4}, {"taken", 1}}));
  EXPECT_EQ(orders_of(member).size(), 1U);
  // The same key with another request is a conflict, not a second order.
  EXPECT_TRUE(
      is_problem(redeem(member, "mug", 2, shipping_address(), key), 422, "idempotency_conflict"));
  EXPECT_EQ(orders_of(member).size(), 1U);
}

TEST_F(ApiMall, ADoubleClickArrivingAtTheSameMomentMakesOneOrder) {
  const std::int64_t member = member_with("m1");
  std::vector<ApiClient> tabs = two_tabs();
  for (std::int64_t round = 0; round < kRaceRounds / 2; ++round) {
    const std::string item_id = "click-" + std::to_string(round);
    add_item(service_item(item_id, kRacePoints));
    const std::vector<HttpResponse> answers = race(tabs, member, item_id, /*same_key=*/true);
    ASSERT_EQ(answers[0].status, 201) << "round " << round << ": " << answers[0].describe();
    ASSERT_EQ(answers[1].status, 201) << "round " << round << ": " << answers[1].describe();
    EXPECT_EQ(id_of(answers[0]), id_of(answers[1])) << "round " << round;
    const int replayed = (answers[0].header("idempotent-replayed") == "true" ? 1 : 0) +
                         (answers[1].header("idempotent-replayed") == "true" ? 1 : 0);
    EXPECT_EQ(replayed, 1) << "round " << round;
    EXPECT_EQ(item(item_id)["taken"], 1) << "round " << round;
  }
  EXPECT_EQ(orders_of(member).size(), static_cast<std::size_t>(kRaceRounds / 2));
  EXPECT_EQ(balance(member)["held"], kRacePoints * (kRaceRounds / 2));
}

TEST_F(ApiMall, TwoTabsRacingForTheLastUnitGetOneOrderAndOneOutOfStock) {
  const std::int64_t member = member_with("m1");
  std::vector<ApiClient> tabs = two_tabs();
  for (std::int64_t round = 0; round < kRaceRounds; ++round) {
    const std::string item_id = "last-" + std::to_string(round);
    json document = service_item(item_id, kRacePoints);
    document["stock"] = 1;
    add_item(document);
    const std::vector<HttpResponse> answers = race(tabs, member, item_id, /*same_key=*/false);
    int won = 0;
    for (const HttpResponse& r : answers) {
      if (r.status == 201) {
        ++won;
        continue;
      }
      EXPECT_TRUE(is_problem(r, 409, "out_of_stock")) << "round " << round;
    }
    EXPECT_EQ(won, 1) << "round " << round;
    json units = item(item_id);
    EXPECT_EQ(units["stock_left"], 0) << "round " << round;
    EXPECT_EQ(units["taken"], 1) << "round " << round;
  }
  EXPECT_EQ(orders_of(member).size(), static_cast<std::size_t>(kRaceRounds));
  json points = balance(member);
  EXPECT_EQ(points["held"], kRacePoints * kRaceRounds);
  EXPECT_EQ(points["available"], kStartingPoints - kRacePoints * kRaceRounds);
}

TEST_F(ApiMall, TwoTabsRacingWithinALimitOfOnePerMemberGetOneOrder) {
  const std::int64_t member = member_with("m1");
  std::vector<ApiClient> tabs = two_tabs();
  for (std::int64_t round = 0; round < kRaceRounds; ++round) {
    const std::string item_id = "once-" + std::to_string(round);
    json document = service_item(item_id, kRacePoints);
    document["limits"] = {{"per_member", {{"units", 1}, {"period", "lifetime"}}}};
    add_item(document);
    const std::vector<HttpResponse> answers = race(tabs, member, item_id, /*same_key=*/false);
    int won = 0;
    for (const HttpResponse& r : answers) {
      if (r.status == 201) {
        ++won;
        continue;
      }
      EXPECT_TRUE(is_problem(r, 409, "limit_per_member")) << "round " << round;
    }
    EXPECT_EQ(won, 1) << "round " << round;
    EXPECT_EQ(item(item_id)["taken"], 1) << "round " << round;
  }
  EXPECT_EQ(orders_of(member).size(), static_cast<std::size_t>(kRaceRounds));
  EXPECT_EQ(balance(member)["held"], kRacePoints * kRaceRounds);
}

// ---- Refusals
// -------------------------------------------------------------------------------------

TEST_F(ApiMall, StockAndLimitRefusalsAreNamedAndHoldNothing) {
  const std::int64_t member = member_with("m1");
  add_item(physical_item("mug", 100, 2));
  json limited = physical_item("lamp", 100, 50);
  limited["limits"] = {{"per_order", 2}, {"per_member", {{"units", 3}, {"period", "lifetime"}}}};
  add_item(limited);
  json first_members = service_item("launch", 100);
  first_members["limits"] = {{"global", {{"units", 2}, {"period", "lifetime"}}}};
  add_item(first_members);

  json before = standing(member, "mug");
  const HttpResponse too_many = redeem(member, "mug", 3, shipping_address());
  EXPECT_TRUE(is_problem(too_many, 409, "out_of_stock"));
  EXPECT_NE(too_many.json().value("detail", "").find("2 left"), std::string::npos)
      << too_many.describe();
  EXPECT_EQ(standing(member, "mug"), before);

  before = standing(member, "lamp");
  EXPECT_TRUE(is_problem(redeem(member, "lamp", 3, shipping_address()), 422, "limit_per_order"));
  EXPECT_EQ(standing(member, "lamp"), before);
  ASSERT_EQ(redeem(member, "lamp", 2, shipping_address()).status, 201);
  before = standing(member, "lamp");
  EXPECT_TRUE(is_problem(redeem(member, "lamp", 2, shipping_address()), 409, "limit_per_member"))
      << "3 per member: 2 taken, 1 left";
  EXPECT_EQ(standing(member, "lamp"), before);
  EXPECT_EQ(redeem(member, "lamp", 1, shipping_address()).status, 201) << "the last one is fine";

  // "The first 2 members": a third member is refused.
  ASSERT_EQ(redeem(member_with("m2"), "launch").status, 201);
  ASSERT_EQ(redeem(member_with("m3"), "launch").status, 201);
  const std::int64_t late = member_with("m4");
  before = standing(late, "launch");
  EXPECT_TRUE(is_problem(redeem(late, "launch"), 409, "limit_global"));
  EXPECT_EQ(standing(late, "launch"), before);
  EXPECT_EQ(before["taken"], 2);
}

TEST_F(ApiMall, ItemsOutsideTheirSaleWindowOrInactiveAreRefusedByName) {
  const std::int64_t member = member_with("m1");
  json coming = service_item("coming", 100);
  coming["window"] = {{"from", "2099-01-01T00:00:00Z"}};
  add_item(coming);
  json gone = service_item("gone", 100);
  gone["window"] = {{"from", "2020-01-01T00:00:00Z"}, {"until", "2021-01-01T00:00:00Z"}};
  add_item(gone);
  json hidden = service_item("hidden", 100);
  hidden["active"] = false;
  add_item(hidden);
  for (const auto& [item_id, type] : {std::pair{"coming", "item_not_yet_available"},
                                      {"gone", "item_no_longer_available"},
                                      {"hidden", "item_unavailable"}}) {
    json before = standing(member, item_id);
    EXPECT_TRUE(is_problem(redeem(member, item_id), 409, type)) << item_id;
    EXPECT_EQ(standing(member, item_id), before) << item_id;
    EXPECT_EQ(before["available"], kStartingPoints);
    EXPECT_EQ(before["held"], 0);
    EXPECT_EQ(before["taken"], 0);
  }
  EXPECT_TRUE(orders_of(member).empty());
}

TEST_F(ApiMall, NotEnoughPointsOrTheWrongTierIsRefusedAndHoldsNothing) {
  const std::int64_t member = member_with("m1", 250);
  add_item(physical_item("mug", 300, 5));
  json before = standing(member, "mug");
  const HttpResponse poor = redeem(member, "mug", 1, shipping_address());
  EXPECT_TRUE(is_problem(poor, 422, "insufficient_points"));
  EXPECT_EQ(standing(member, "mug"), before);
  EXPECT_EQ(before, (json{{"available", 250}, {"held", 0}, {"stock_left", 5}, {"taken", 0}}));

  ASSERT_EQ(call(as("operator"), "PUT", "/v1/tiers", two_tiers()).status, 200);
  json gold_only = service_item("lounge", 10);
  gold_only["eligible_tiers"] = {"gold"};
  add_item(gold_only);
  json lounge_before = standing(member, "lounge");
  const HttpResponse refused = redeem(member, "lounge");
  EXPECT_TRUE(is_problem(refused, 409, "item_not_eligible"));
  EXPECT_NE(refused.json().value("detail", "").find("Gold"), std::string::npos)
      << refused.describe();
  EXPECT_EQ(standing(member, "lounge"), lounge_before);
  EXPECT_TRUE(orders_of(member).empty());
}

TEST_F(ApiMall, AnUnknownItemOrABadShippingAddressIsRefusedAndHoldsNothing) {
  const std::int64_t member = member_with("m1");
  add_item(physical_item("mug", 300, 5));
  json before = standing(member, "mug");
  EXPECT_TRUE(is_problem(redeem(member, "no-such-item"), 404, "unknown_item"));

  const HttpResponse without = redeem(member, "mug");
  ASSERT_TRUE(is_problem(without, 422, "validation_failed"));
  EXPECT_EQ(error_fields(without), std::vector<std::string>{"shipping_address"});

  json bad = shipping_address();
  bad["country"] = "gb";
  bad.erase("city");
  const HttpResponse invalid = redeem(member, "mug", 1, bad);
  ASSERT_TRUE(is_problem(invalid, 422, "validation_failed"));
  std::vector<std::string> fields = error_fields(invalid);
  std::sort(fields.begin(), fields.end());
  EXPECT_EQ(fields,
            (std::vector<std::string>{"shipping_address.city", "shipping_address.country"}));

  add_item(service_item("massage", 100));
  const HttpResponse not_shipped = redeem(member, "massage", 1, shipping_address());
  ASSERT_TRUE(is_problem(not_shipped, 422, "validation_failed"));
  EXPECT_EQ(error_fields(not_shipped), std::vector<std::string>{"shipping_address"});

  EXPECT_EQ(standing(member, "mug"), before);
  EXPECT_EQ(item("massage")["taken"], 0);
  EXPECT_TRUE(orders_of(member).empty());
}

// ---- The life of an order
// --------------------------------------------------------------------------

TEST_F(ApiMall, AnOrderGoesFromReservedToDeliveredWithItsCarrierAndTrackingNumber) {
  const std::int64_t member = member_with("m1");
  add_item(physical_item("mug", 300, 5));
  const HttpResponse created = redeem(member, "mug", 1, shipping_address());
  ASSERT_EQ(created.status, 201) << created.describe();
  const std::string id = id_of(created);
  EXPECT_EQ(created.json()["state"], "reserved");
  EXPECT_EQ(created.json()["points"], 300);
  EXPECT_EQ(created.json()["shipping_address"], shipping_address());
  EXPECT_EQ(standing(member, "mug"),
            (json{{"available", 700}, {"held", 300}, {"stock_left", 4}, {"taken", 1}}));

  const HttpResponse confirmed = step(id, "confirm");
  ASSERT_EQ(confirmed.status, 200) << confirmed.describe();
  EXPECT_EQ(confirmed.json()["state"], "confirmed");
  EXPECT_EQ(standing(member, "mug"),
            (json{{"available", 700}, {"held", 0}, {"stock_left", 4}, {"taken", 1}}))
      << "the points are spent";
  EXPECT_EQ(step(id, "fulfil").json()["state"], "fulfilled");
  const HttpResponse shipped =
      step(id, "ship", {{"carrier", "DHL"}, {"tracking_number", "1Z999AA10123456784"}});
  ASSERT_EQ(shipped.status, 200) << shipped.describe();
  EXPECT_EQ(shipped.json()["state"], "shipped");
  EXPECT_EQ(shipped.json()["carrier"], "DHL");
  EXPECT_EQ(shipped.json()["tracking_number"], "1Z999AA10123456784");
  EXPECT_EQ(step(id, "deliver").json()["state"], "delivered");

  // The member sees the whole story of their order.
  const HttpResponse mine = call(bearer(member_token(member)), "GET", "/v1/me/redemptions/" + id);
  ASSERT_EQ(mine.status, 200) << mine.describe();
  json story = mine.json();
  EXPECT_EQ(states_of(story), (std::vector<std::string>{"reserved", "confirmed", "fulfilled",
                                                        "shipped", "delivered"}));
  EXPECT_EQ(story["carrier"], "DHL");
  EXPECT_EQ(story["tracking_number"], "1Z999AA10123456784");
  EXPECT_NE(story["history"][3].value("note", "").find("1Z999AA10123456784"), std::string::npos)
      << story;
  EXPECT_EQ(standing(member, "mug"),
            (json{{"available", 700}, {"held", 0}, {"stock_left", 4}, {"taken", 1}}));
}

TEST_F(ApiMall, CancellingAReservedOrderGivesThePointsAndTheUnitBack) {
  const std::int64_t member = member_with("m1");
  json once = physical_item("mug", 300, 5);
  once["limits"] = {{"per_member", {{"units", 1}, {"period", "lifetime"}}}};
  add_item(once);
  json before = standing(member, "mug");
  const std::string id = redeemed(member, "mug", shipping_address());
  ASSERT_FALSE(id.empty());
  const HttpResponse cancelled = step(id, "cancel", {{"reason", "customer changed their mind"}});
  ASSERT_EQ(cancelled.status, 200) << cancelled.describe();
  EXPECT_EQ(cancelled.json()["state"], "cancelled");
  EXPECT_EQ(cancelled.json()["history"].back()["note"], "customer changed their mind");
  EXPECT_EQ(standing(member, "mug"), before);
  EXPECT_EQ(redeem(member, "mug", 1, shipping_address()).status, 201)
      << "the member's limit of one is given back too";
}

TEST_F(ApiMall, CancellingAConfirmedOrderGivesTheCapturedPointsBack) {
  const std::int64_t member = member_with("m1");
  add_item(physical_item("mug", 300, 5));
  json before = standing(member, "mug");
  const std::string id = redeemed(member, "mug", shipping_address());
  ASSERT_FALSE(id.empty());
  steps(id, {"confirm"});
  EXPECT_EQ(available(member), 700);
  const HttpResponse cancelled = step(id, "cancel", {{"reason", "out of stock at the warehouse"}});
  ASSERT_EQ(cancelled.status, 200) << cancelled.describe();
  EXPECT_EQ(cancelled.json()["state"], "cancelled");
  EXPECT_EQ(standing(member, "mug"), before);
  EXPECT_EQ(states_of(order(id)), (std::vector<std::string>{"reserved", "confirmed", "cancelled"}));
}

TEST_F(ApiMall, FailingAShippedOrderGivesThePointsAndTheUnitBack) {
  const std::int64_t member = member_with("m1");
  add_item(physical_item("mug", 300, 5));
  json before = standing(member, "mug");
  const std::string id = redeemed(member, "mug", shipping_address());
  ASSERT_FALSE(id.empty());
  steps(id, {"confirm", "fulfil", "ship"});
  const HttpResponse failed = step(id, "fail", {{"reason", "lost by the carrier"}});
  ASSERT_EQ(failed.status, 200) << failed.describe();
  EXPECT_EQ(failed.json()["state"], "failed");
  EXPECT_EQ(standing(member, "mug"), before);
}

TEST_F(ApiMall, AStepTheOrdersStateDoesNotAllowIsRefusedAndChangesNothing) {
  const std::int64_t member = member_with("m1");
  add_item(physical_item("mug", 300, 5));
  const std::string id = redeemed(member, "mug", shipping_address());
  ASSERT_FALSE(id.empty());
  json order_before = order(id);
  json before = standing(member, "mug");
  EXPECT_TRUE(is_problem(step(id, "ship", {{"carrier", "DHL"}, {"tracking_number", "1Z"}}), 409,
                         "order_state_conflict"));
  EXPECT_TRUE(is_problem(step(id, "deliver"), 409, "order_state_conflict"));
  EXPECT_TRUE(is_problem(step(id, "fail"), 409, "order_state_conflict"));
  EXPECT_TRUE(is_problem(step(id, "payment"), 409, "order_state_conflict"))
      << "nothing to pay on a points-only order";
  EXPECT_EQ(order(id), order_before);
  EXPECT_EQ(standing(member, "mug"), before);

  steps(id, {"confirm", "fulfil", "ship", "deliver"});
  json delivered = order(id);
  EXPECT_TRUE(is_problem(step(id, "cancel"), 409, "order_state_conflict"))
      << "a delivered order is final";
  EXPECT_TRUE(is_problem(step(id, "confirm"), 409, "order_state_conflict"));
  EXPECT_EQ(order(id), delivered);
  EXPECT_EQ(standing(member, "mug"),
            (json{{"available", 700}, {"held", 0}, {"stock_left", 4}, {"taken", 1}}));
  EXPECT_TRUE(is_problem(step("R0000000000000", "confirm"), 404, "not_found"));
}

TEST_F(ApiMall, AMemberCancelsTheirOwnReservedOrderButNotAConfirmedOneOrAnothersOrder) {
  const std::int64_t member = member_with("m1");
  const std::int64_t other = member_with("m2");
  add_item(physical_item("mug", 300, 5));
  const Headers me = bearer(member_token(member));
  const Headers stranger = bearer(member_token(other));
  const HttpResponse mine =
      call(with(me, "Idempotency-Key", fresh_key()), "POST", "/v1/me/redemptions",
           {{"item_id", "mug"}, {"shipping_address", shipping_address()}});
  ASSERT_EQ(mine.status, 201) << mine.describe();
  const std::string reserved = id_of(mine);
  EXPECT_EQ(mine.json()["member_id"], member);

  // Another member cannot see or cancel it.
  EXPECT_TRUE(
      is_problem(call(stranger, "GET", "/v1/me/redemptions/" + reserved), 404, "not_found"));
  EXPECT_TRUE(is_problem(call(with(stranger, "Idempotency-Key", fresh_key()), "POST",
                              "/v1/me/redemptions/" + reserved + "/cancel", json::object()),
                         404, "not_found"));
  EXPECT_EQ(order(reserved)["state"], "reserved");
  EXPECT_TRUE(call(stranger, "GET", "/v1/me/redemptions").json()["data"].empty());

  const HttpResponse cancelled =
      call(with(me, "Idempotency-Key", fresh_key()), "POST",
           "/v1/me/redemptions/" + reserved + "/cancel", {{"reason", "ordered by mistake"}});
  ASSERT_EQ(cancelled.status, 200) << cancelled.describe();
  EXPECT_EQ(cancelled.json()["state"], "cancelled");
  EXPECT_EQ(standing(member, "mug"),
            (json{{"available", 1000}, {"held", 0}, {"stock_left", 5}, {"taken", 0}}));

  const std::string confirmed = redeemed(member, "mug", shipping_address());
  ASSERT_FALSE(confirmed.empty());
  steps(confirmed, {"confirm"});
  json before = standing(member, "mug");
  EXPECT_TRUE(is_problem(call(with(me, "Idempotency-Key", fresh_key()), "POST",
                              "/v1/me/redemptions/" + confirmed + "/cancel", json::object()),
                         409, "order_state_conflict"));
  EXPECT_EQ(order(confirmed)["state"], "confirmed");
  EXPECT_EQ(standing(member, "mug"), before);
  const HttpResponse listed = call(me, "GET", "/v1/me/redemptions");
  ASSERT_EQ(listed.status, 200) << listed.describe();
  EXPECT_EQ(listed.json()["data"].size(), 2U);
}

// ---- Points plus cash, coupon items, tier upgrades
// -------------------------------------------------

TEST_F(ApiMall, APointsPlusCashOrderAwaitsPaymentThenIsConfirmed) {
  const std::int64_t member = member_with("m1");
  json document = service_item("spa-day", 200);
  document["cash_price"] = usd(1500);
  add_item(document);
  const HttpResponse created = redeem(member, "spa-day", 2);
  ASSERT_EQ(created.status, 201) << created.describe();
  json placed = created.json();
  EXPECT_EQ(placed["state"], "awaiting_payment");
  EXPECT_EQ(placed["points"], 400);
  EXPECT_EQ(placed["cash"], usd(3000));
  EXPECT_TRUE(placed["hold_expires_at"].is_string()) << placed;
  EXPECT_EQ(standing(member, "spa-day"),
            (json{{"available", 600}, {"held", 400}, {"stock_left", nullptr}, {"taken", 2}}));
  const std::string id = id_of(created);
  EXPECT_TRUE(is_problem(step(id, "confirm"), 409, "order_state_conflict"))
      << "the cash part comes first";

  const HttpResponse paid = step(id, "payment");
  ASSERT_EQ(paid.status, 200) << paid.describe();
  EXPECT_EQ(paid.json()["state"], "confirmed");
  EXPECT_EQ(states_of(paid.json()), (std::vector<std::string>{"awaiting_payment", "confirmed"}));
  EXPECT_EQ(standing(member, "spa-day"),
            (json{{"available", 600}, {"held", 0}, {"stock_left", nullptr}, {"taken", 2}}));
}

TEST_F(ApiMall, ACouponItemIssuesItsCouponsAtOnceWithinTheTemplatesCap) {
  const std::int64_t member = member_with("m1");
  json coupon_template = fixed_template("gift5", 500);
  coupon_template["per_member_cap"] = 2;
  add_template(coupon_template);
  add_item({{"id", "gift5-item"},
            {"name", "5 dollars off"},
            {"kind", "coupon"},
            {"coupon_template", "gift5"},
            {"points_price", 100}});
  const HttpResponse created = redeem(member, "gift5-item", 2);
  ASSERT_EQ(created.status, 201) << created.describe();
  json placed = created.json();
  EXPECT_EQ(placed["state"], "delivered");
  ASSERT_EQ(placed["coupon_codes"].size(), 2U) << placed;
  std::vector<std::string> codes = placed["coupon_codes"].get<std::vector<std::string>>();
  std::sort(codes.begin(), codes.end());
  EXPECT_NE(codes[0], codes[1]);
  EXPECT_EQ(standing(member, "gift5-item"),
            (json{{"available", 800}, {"held", 0}, {"stock_left", nullptr}, {"taken", 2}}));

  const HttpResponse wallet = call(bearer(member_token(member)), "GET", "/v1/me/coupons");
  ASSERT_EQ(wallet.status, 200) << wallet.describe();
  EXPECT_EQ(codes_of(wallet), codes);
  for (const json& c : wallet.json().value("data", json::array())) {
    EXPECT_EQ(c.value("state", ""), "issued");
    EXPECT_EQ(c.value("source", ""), "redemption");
    EXPECT_EQ(c.value("usable", false), true);
  }

  json before = standing(member, "gift5-item");
  EXPECT_TRUE(is_problem(redeem(member, "gift5-item"), 409, "coupon_limit_reached"));
  EXPECT_EQ(standing(member, "gift5-item"), before);
  EXPECT_EQ(codes_of(call(as("analyst"), "GET", member_path(member) + "/coupons")), codes);
  EXPECT_EQ(orders_of(member).size(), 1U);
}

TEST_F(ApiMall, ATierUpgradeItemMovesTheMemberOnceAndNotAgain) {
  ASSERT_EQ(call(as("operator"), "PUT", "/v1/tiers", two_tiers()).status, 200);
  const std::int64_t member = member_with("m1");
  add_item({{"id", "gold-pass"},
            {"name", "Gold for a year"},
            {"kind", "tier_upgrade"},
            {"tier", "gold"},
            {"points_price", 400}});
  const HttpResponse created = redeem(member, "gold-pass");
  ASSERT_EQ(created.status, 201) << created.describe();
  EXPECT_EQ(created.json()["state"], "delivered");
  EXPECT_EQ(created.json()["tier"], "gold");
  const std::string id = id_of(created);

  const HttpResponse tier = call(as("analyst"), "GET", member_path(member) + "/tier");
  ASSERT_EQ(tier.status, 200) << tier.describe();
  EXPECT_EQ(tier.json()["tier"]["id"], "gold");
  ASSERT_FALSE(tier.json()["history"].empty()) << tier.describe();
  EXPECT_EQ(tier.json()["history"][0]["to"], "gold");
  EXPECT_NE(tier.json()["history"][0].value("reason", "").find(id), std::string::npos)
      << tier.describe();
  EXPECT_EQ(standing(member, "gold-pass"),
            (json{{"available", 600}, {"held", 0}, {"stock_left", nullptr}, {"taken", 1}}));

  json before = standing(member, "gold-pass");
  EXPECT_TRUE(is_problem(redeem(member, "gold-pass"), 409, "tier_not_higher"));
  EXPECT_EQ(standing(member, "gold-pass"), before);
  EXPECT_EQ(call(as("analyst"), "GET", member_path(member) + "/tier").json()["history"].size(), 1U);
}

// ---- Checkout coupons
// ----------------------------------------------------------------------------

TEST_F(ApiMall, ACheckoutCouponIsValidatedWithItsDiscountAsTheShopperTypesIt) {
  const std::int64_t member = member_with("m1", 0);
  add_template(fixed_template("five-off", 500));
  json percent = {{"id", "twenty"},
                  {"name", "20% off, at most 10 dollars"},
                  {"benefit", {{"kind", "percent"}, {"percent", 20}, {"max_off", usd(1000)}}},
                  {"validity", {{"days_after_issue", 30}}}};
  add_template(percent);
  const std::string five = issue("five-off", member);
  const std::string twenty = issue("twenty", member);
  ASSERT_FALSE(five.empty());
  ASSERT_FALSE(twenty.empty());

  const HttpResponse fixed = validate(typed_carelessly(five), member, usd_order(10000));
  ASSERT_EQ(fixed.status, 200) << fixed.describe();
  EXPECT_EQ(fixed.json()["code"], five);
  EXPECT_EQ(fixed.json()["valid"], true);
  EXPECT_EQ(fixed.json()["discount"], usd(500));
  EXPECT_EQ(validate(five, member, usd_order(300)).json()["discount"], usd(300))
      << "never more than the order";

  EXPECT_EQ(validate(typed_carelessly(twenty), member, usd_order(3000)).json()["discount"],
            usd(600));
  EXPECT_EQ(validate(twenty, member, usd_order(10000)).json()["discount"], usd(1000))
      << "20% of 100 dollars, but at most 10";
  EXPECT_EQ(coupon(five)["state"], "issued") << "validating uses nothing";
}

TEST_F(ApiMall, ACheckoutCouponIsUsedOnceAndOnlyByItsHolder) {
  const std::int64_t member = member_with("m1", 0);
  const std::int64_t other = member_with("m2", 0);
  add_template(fixed_template("five-off", 500));
  const std::string code = issue("five-off", member);
  ASSERT_FALSE(code.empty());

  const std::string key = fresh_key("checkout");
  const HttpResponse used =
      use_coupon(typed_carelessly(code), member, "shop-1001", usd_order(10000), key);
  ASSERT_EQ(used.status, 200) << used.describe();
  EXPECT_EQ(used.json()["state"], "redeemed");
  EXPECT_EQ(used.json()["order_id"], "shop-1001");
  EXPECT_EQ(used.json()["discount"], usd(500));
  const HttpResponse replay =
      use_coupon(typed_carelessly(code), member, "shop-1001", usd_order(10000), key);
  ASSERT_EQ(replay.status, 200) << replay.describe();
  EXPECT_EQ(replay.header("idempotent-replayed"), "true");
  EXPECT_EQ(replay.json(), used.json());

  const HttpResponse again = use_coupon(code, member, "shop-1002", usd_order(10000));
  EXPECT_TRUE(is_problem(again, 409, "coupon_used"));
  EXPECT_NE(again.json().value("detail", "").find("shop-1001"), std::string::npos)
      << again.describe();
  EXPECT_EQ(coupon(code)["order_id"], "shop-1001");

  const std::string second = issue("five-off", member);
  EXPECT_TRUE(is_problem(validate(second, other, usd_order(10000)), 409, "coupon_not_yours"));
  EXPECT_TRUE(is_problem(use_coupon(second, other, "shop-2001", usd_order(10000)), 409,
                         "coupon_not_yours"));
  EXPECT_EQ(coupon(second)["state"], "issued");
  EXPECT_EQ(coupon(second)["member_id"], member);
}

TEST_F(ApiMall, ExpiredUnknownAndTooSmallOrdersAreRefusedByName) {
  const std::int64_t member = member_with("m1", 0);
  // Valid until three seconds from now: issued while valid, expired at checkout.
  const auto ends = std::chrono::system_clock::now() + std::chrono::seconds(3);
  const std::time_t ends_at = std::chrono::system_clock::to_time_t(ends);
  char until[32];
  std::strftime(until, sizeof until, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&ends_at));
  json expiring = fixed_template("old", 500);
  expiring["validity"] = {{"from", "2020-01-01T00:00:00Z"}, {"until", until}};
  add_template(expiring);
  json minimum = fixed_template("big-spender", 500);
  minimum["min_spend"] = usd(5000);
  add_template(minimum);
  const std::string old_code = issue("old", member);
  const std::string big_code = issue("big-spender", member);
  ASSERT_FALSE(old_code.empty());
  ASSERT_FALSE(big_code.empty());
  std::this_thread::sleep_until(ends + std::chrono::milliseconds(100));

  // Once its window has ended, a template issues nothing more: no coupon born expired.
  const HttpResponse late =
      keyed(as("operator"), "POST", "/v1/coupon-templates/old/issues", {{"member_ids", {member}}});
  ASSERT_EQ(late.status, 200) << late.describe();
  EXPECT_TRUE(late.json()["issued"].empty());
  EXPECT_EQ(late.json()["refused"][0]["type"], "coupon_expired") << late.describe();

  EXPECT_TRUE(is_problem(validate(old_code, member, usd_order(10000)), 409, "coupon_expired"));
  EXPECT_TRUE(
      is_problem(use_coupon(old_code, member, "o-1", usd_order(10000)), 409, "coupon_expired"));
  EXPECT_EQ(coupon(old_code)["state"], "issued");
  EXPECT_EQ(coupon(old_code)["usable"], false);

  EXPECT_TRUE(is_problem(validate("NOPE-1234", member, usd_order(10000)), 422, "unknown_coupon"));
  EXPECT_TRUE(
      is_problem(use_coupon("NOPE-1234", member, "o-2", usd_order(10000)), 422, "unknown_coupon"));
  std::string typo = big_code;
  typo[0] = typo[0] == 'A' ? 'B' : 'A';
  EXPECT_TRUE(is_problem(validate(typo, member, usd_order(10000)), 422, "unknown_coupon"))
      << "a mistyped code finds no coupon";

  const HttpResponse small = validate(big_code, member, usd_order(3000));
  EXPECT_TRUE(is_problem(small, 422, "coupon_below_minimum_spend"));
  EXPECT_NE(small.json().value("detail", "").find("2000"), std::string::npos) << small.describe();
  EXPECT_TRUE(is_problem(use_coupon(big_code, member, "o-3", usd_order(3000)), 422,
                         "coupon_below_minimum_spend"));
  EXPECT_EQ(coupon(big_code)["state"], "issued");
  EXPECT_EQ(validate(big_code, member, usd_order(5000)).status, 200);
}

TEST_F(ApiMall, OnlyStackableCouponsAreCombined) {
  const std::int64_t member = member_with("m1", 0);
  add_template(fixed_template("solo", 300));
  for (const char* id : {"stack-a", "stack-b"}) {
    json stackable = fixed_template(id, 200);
    stackable["stackable"] = true;
    add_template(stackable);
  }
  const std::string solo = issue("solo", member);
  const std::string a = issue("stack-a", member);
  const std::string b = issue("stack-b", member);
  ASSERT_FALSE(solo.empty() || a.empty() || b.empty());

  EXPECT_TRUE(
      is_problem(validate(solo, member, usd_order(10000), {a}), 409, "coupon_not_stackable"));
  EXPECT_TRUE(
      is_problem(validate(a, member, usd_order(10000), {solo}), 409, "coupon_not_stackable"))
      << "a stackable coupon cannot join a non-stackable one either";
  EXPECT_TRUE(is_problem(use_coupon(solo, member, "o-1", usd_order(10000), fresh_key(), {a}), 409,
                         "coupon_not_stackable"));
  EXPECT_EQ(coupon(solo)["state"], "issued");

  const HttpResponse second = validate(b, member, usd_order(9800), {a});
  ASSERT_EQ(second.status, 200) << second.describe();
  EXPECT_EQ(second.json()["discount"], usd(200));
  ASSERT_EQ(use_coupon(a, member, "o-2", usd_order(10000)).status, 200);
  const HttpResponse both = use_coupon(b, member, "o-2", usd_order(9800), fresh_key(), {a});
  ASSERT_EQ(both.status, 200) << both.describe();
  EXPECT_EQ(coupon(a)["order_id"], "o-2");
  EXPECT_EQ(coupon(b)["order_id"], "o-2");
}

TEST_F(ApiMall, AReleasedCouponIsIssuedAgainAndCanBeUsedAgain) {
  const std::int64_t member = member_with("m1", 0);
  add_template(fixed_template("five-off", 500));
  const std::string code = issue("five-off", member);
  ASSERT_FALSE(code.empty());
  ASSERT_EQ(use_coupon(code, member, "o-1", usd_order(10000)).status, 200);

  EXPECT_TRUE(is_problem(
      keyed(as("merchant"), "POST", "/v1/coupons/" + code + "/release", {{"order_id", "o-other"}}),
      409, "coupon_not_redeemed"));
  EXPECT_EQ(coupon(code)["state"], "redeemed");
  const HttpResponse released =
      keyed(as("merchant"), "POST", "/v1/coupons/" + code + "/release", {{"order_id", "o-1"}});
  ASSERT_EQ(released.status, 200) << released.describe();
  EXPECT_EQ(released.json()["state"], "issued");
  EXPECT_EQ(released.json()["order_id"], nullptr);
  json now = coupon(code);
  EXPECT_EQ(now["state"], "issued");
  EXPECT_EQ(now["member_id"], member);
  EXPECT_EQ(now["usable"], true);

  const HttpResponse reused = use_coupon(code, member, "o-2", usd_order(10000));
  ASSERT_EQ(reused.status, 200) << reused.describe();
  EXPECT_EQ(reused.json()["order_id"], "o-2");
}

TEST_F(ApiMall, AMembersKeysAreTheirOwnSoTwoAppsChoosingTheSameKeyGetTwoOrders) {
  const std::int64_t first = member_with("m1");
  const std::int64_t second = member_with("m2");
  add_item(service_item("massage", 100));
  const json body = {{"item_id", "massage"}};
  const HttpResponse mine = call(with(bearer(member_token(first)), "Idempotency-Key", "cart-1"),
                                 "POST", "/v1/me/redemptions", body);
  const HttpResponse theirs = call(with(bearer(member_token(second)), "Idempotency-Key", "cart-1"),
                                   "POST", "/v1/me/redemptions", body);
  ASSERT_EQ(mine.status, 201) << mine.describe();
  ASSERT_EQ(theirs.status, 201) << theirs.describe();
  EXPECT_NE(id_of(mine), id_of(theirs));
  EXPECT_EQ(theirs.json()["member_id"], second);
  const HttpResponse again = call(with(bearer(member_token(first)), "Idempotency-Key", "cart-1"),
                                  "POST", "/v1/me/redemptions", body);
  EXPECT_EQ(again.header("idempotent-replayed"), "true");
  EXPECT_EQ(id_of(again), id_of(mine));
}

TEST_F(ApiMall, ARetriedCouponUseAnswersWhatTheFirstAttemptDidAndAReleasedPoolCodeIsAnyones) {
  add_template(fixed_template("pool5", 500));
  ASSERT_EQ(import_pool("pool5", "code\nSPRING-0001\n").status, 200);
  const std::int64_t first = member_with("m1", 0);
  const std::int64_t second = member_with("m2", 0);
  const HttpResponse used = use_coupon("SPRING-0001", first, "o-1", usd_order(10000), "till-1");
  ASSERT_EQ(used.status, 200) << used.describe();
  const HttpResponse released =
      keyed(as("merchant"), "POST", "/v1/coupons/SPRING-0001/release", {{"order_id", "o-1"}});
  ASSERT_EQ(released.status, 200) << released.describe();
  EXPECT_EQ(released.json()["state"], "available");
  EXPECT_EQ(released.json()["member_id"], nullptr);

  // The till retries after a timeout: it learns what its first attempt did.
  const HttpResponse retried = use_coupon("SPRING-0001", first, "o-1", usd_order(10000), "till-1");
  ASSERT_EQ(retried.status, 200) << retried.describe();
  EXPECT_EQ(retried.header("idempotent-replayed"), "true");
  EXPECT_EQ(retried.json()["state"], "redeemed");
  EXPECT_EQ(retried.json()["order_id"], "o-1");
  EXPECT_EQ(retried.json()["discount"], usd(500));
  EXPECT_EQ(coupon("SPRING-0001")["state"], "available") << "a replay changes nothing";

  const HttpResponse other = use_coupon("SPRING-0001", second, "o-2", usd_order(10000));
  ASSERT_EQ(other.status, 200) << other.describe();
  EXPECT_EQ(other.json()["member_id"], second);
}

TEST_F(ApiMall, AnOrdersCouponCapIsCountedWhenItIsMadeAndFreedWhenItIsCancelled) {
  const std::int64_t member = member_with("m1");
  json once = fixed_template("once", 500);
  once["per_member_cap"] = 1;
  add_template(once);
  add_item({{"id", "voucher"},
            {"name", "Voucher"},
            {"kind", "coupon"},
            {"coupon_template", "once"},
            {"points_price", 10},
            {"cash_price", usd(100)}});
  const HttpResponse first = redeem(member, "voucher");
  ASSERT_EQ(first.status, 201) << first.describe();
  EXPECT_EQ(first.json()["state"], "awaiting_payment");
  EXPECT_FALSE(first.json()["hold_expires_at"].is_null());
  EXPECT_TRUE(is_problem(redeem(member, "voucher"), 409, "coupon_limit_reached"))
      << "refused before the shop takes any cash";

  const HttpResponse cancelled = step(id_of(first), "cancel");
  ASSERT_EQ(cancelled.status, 200) << cancelled.describe();
  EXPECT_TRUE(cancelled.json()["hold_expires_at"].is_null()) << "no hold is left to expire";
  const HttpResponse again = redeem(member, "voucher");
  ASSERT_EQ(again.status, 201) << again.describe();
  const HttpResponse paid = step(id_of(again), "payment");
  ASSERT_EQ(paid.status, 200) << paid.describe();
  EXPECT_EQ(paid.json()["state"], "delivered");
  EXPECT_EQ(paid.json()["coupon_codes"].size(), 1U);
  EXPECT_TRUE(paid.json()["hold_expires_at"].is_null());
}

// ---- Pools and operator issues
// ---------------------------------------------------------------------

TEST_F(ApiMall, APoolImportCountsEveryRowAndItsCodesWorkForAnyMember) {
  add_template(fixed_template("pool5", 500));
  const HttpResponse earlier = import_pool("pool5", "code\nEXISTING-01\n");
  ASSERT_EQ(earlier.status, 200) << earlier.describe();
  EXPECT_EQ(earlier.json()["imported"], 1);

  const std::string csv =
      "Code,batch\r\n"      // line 1
      "SUMMER-0001,a\r\n"   // line 2
      "summer-0002,a\r\n"   // line 3: stored upper-cased
      "SUMMER-0001,b\r\n"   // line 4: repeats line 2
      "bad code!,c\r\n"     // line 5: not a code
      ",d\r\n"              // line 6: no code
      "EXISTING-01,e\r\n";  // line 7: imported before
  const HttpResponse r = import_pool("pool5", csv);
  ASSERT_EQ(r.status, 200) << r.describe();
  json report = r.json();
  EXPECT_EQ(report["imported"], 2) << report;
  EXPECT_EQ(report["already_existing"], 1);
  EXPECT_EQ(report["already_existing_codes"], json::array({"EXISTING-01"}));
  EXPECT_EQ(report["duplicate_rows"], 1);
  EXPECT_EQ(report["duplicates"],
            json::array({{{"line", 4}, {"code", "SUMMER-0001"}, {"first_line", 2}}}));
  EXPECT_EQ(report["rejected_rows"], 2);
  EXPECT_EQ(report["rejected"],
            json::array({{{"line", 5}, {"code", "bad code!"}, {"reason", "invalid_code"}},
                         {{"line", 6}, {"code", ""}, {"reason", "empty_code"}}}));

  // Nobody holds a pool code until a member uses it at checkout; any member may.
  EXPECT_EQ(coupon("SUMMER-0002")["state"], "available");
  EXPECT_EQ(coupon("SUMMER-0002")["member_id"], nullptr);
  const std::int64_t ana = member_with("ana", 0);
  const std::int64_t ben = member_with("ben", 0);
  const HttpResponse checked = validate("summer-0001", ana, usd_order(2000));
  ASSERT_EQ(checked.status, 200) << checked.describe();
  EXPECT_EQ(checked.json()["discount"], usd(500));
  const HttpResponse used = use_coupon("summer-0002", ben, "shop-7", usd_order(2000));
  ASSERT_EQ(used.status, 200) << used.describe();
  EXPECT_EQ(used.json()["member_id"], ben);
  EXPECT_EQ(used.json()["state"], "redeemed");
  EXPECT_TRUE(
      is_problem(use_coupon("SUMMER-0002", ana, "shop-8", usd_order(2000)), 409, "coupon_used"));
  EXPECT_EQ(use_coupon("SUMMER-0001", ana, "shop-9", usd_order(2000)).status, 200);

  // Two tills racing for one pool code: one shopper gets it, the other is told it was used.
  std::string race_csv = "code\n";
  for (int i = 0; i < 10; ++i) race_csv += "RACE-000" + std::to_string(i) + "\n";
  ASSERT_EQ(import_pool("pool5", race_csv).json()["imported"], 10);
  std::vector<ApiClient> tills = two_tabs();
  const std::vector<std::int64_t> shoppers = {ana, ben};
  for (int i = 0; i < 10; ++i) {
    const std::string code = "RACE-000" + std::to_string(i);
    const std::vector<HttpResponse> answers = at_once(tills, [&](ApiClient& till, std::size_t t) {
      const json body = {{"member_id", shoppers[t]},
                         {"order_id", "till-" + std::to_string(t) + "-" + code},
                         {"order", usd_order(2000)}};
      return till.call_json("POST", "/v1/coupons/" + code + "/redeem", body,
                            with(as("merchant"), "Idempotency-Key", fresh_key("till")));
    });
    std::vector<std::int64_t> holders;
    for (std::size_t t = 0; t < answers.size(); ++t) {
      if (answers[t].status == 200)
        holders.push_back(shoppers[t]);
      else
        EXPECT_TRUE(is_problem(answers[t], 409, "coupon_used")) << code;
    }
    ASSERT_EQ(holders.size(), 1U) << code;
    EXPECT_EQ(coupon(code)["member_id"], holders[0]) << code;
  }
}

TEST_F(ApiMall, APoolFileWithoutACodeColumnOrSentAsJsonIsRefusedAndImportsNothing) {
  add_template(fixed_template("pool5", 500));
  const HttpResponse no_column = import_pool("pool5", "voucher\nWINTER-0001\n");
  ASSERT_TRUE(is_problem(no_column, 422, "validation_failed")) << no_column.describe();
  EXPECT_NE(no_column.json().value("detail", "").find("code column"), std::string::npos)
      << no_column.describe();
  EXPECT_TRUE(is_problem(call(as("analyst"), "GET", "/v1/coupons/WINTER-0001"), 404, "not_found"));

  const HttpResponse as_json = import_pool("pool5", "code\nWINTER-0002\n", "application/json");
  EXPECT_TRUE(is_problem(as_json, 415, "unsupported_media_type"));
  EXPECT_TRUE(is_problem(call(as("analyst"), "GET", "/v1/coupons/WINTER-0002"), 404, "not_found"));
  EXPECT_TRUE(is_problem(import_pool("no-such-template", "code\nWINTER-0003\n"), 404, "not_found"));
}

TEST_F(ApiMall, AnOperatorIssuesOneCodeToEachMemberAndARetryAnswersTheSameCodes) {
  add_template(fixed_template("sorry", 1000));
  const std::int64_t ana = member_with("ana", 0);
  const std::int64_t ben = member_with("ben", 0);
  const std::string key = fresh_key("issue");
  json body = {{"member_ids", {ben, ana}}};
  const HttpResponse first = call(with(as("operator"), "Idempotency-Key", key), "POST",
                                  "/v1/coupon-templates/sorry/issues", body);
  ASSERT_EQ(first.status, 200) << first.describe();
  json issued = first.json()["issued"];
  ASSERT_EQ(issued.size(), 2U) << first.describe();
  EXPECT_TRUE(first.json()["refused"].empty());
  EXPECT_EQ(issued[0]["member_id"], ana);
  EXPECT_EQ(issued[1]["member_id"], ben);
  EXPECT_NE(issued[0]["code"], issued[1]["code"]);

  const HttpResponse retry = call(with(as("operator"), "Idempotency-Key", key), "POST",
                                  "/v1/coupon-templates/sorry/issues", body);
  ASSERT_EQ(retry.status, 200) << retry.describe();
  EXPECT_EQ(retry.json()["issued"], issued);
  for (std::size_t i = 0; i < 2; ++i) {
    const std::int64_t member = issued[i]["member_id"].get<std::int64_t>();
    const HttpResponse wallet = call(as("analyst"), "GET", member_path(member) + "/coupons");
    EXPECT_EQ(codes_of(wallet), std::vector<std::string>{issued[i]["code"].get<std::string>()})
        << "one coupon each, however often the operator retried";
    EXPECT_EQ(wallet.json()["data"][0]["source"], "operator");
  }
  const HttpResponse unknown =
      keyed(as("operator"), "POST", "/v1/coupon-templates/sorry/issues", {{"member_ids", {999}}});
  ASSERT_EQ(unknown.status, 200) << unknown.describe();
  EXPECT_TRUE(unknown.json()["issued"].empty()) << unknown.describe();
  ASSERT_EQ(unknown.json()["refused"].size(), 1U) << unknown.describe();
  EXPECT_EQ(unknown.json()["refused"][0]["type"], "unknown_member");
}

// ---- Roles
// ---------------------------------------------------------------------------------------

TEST_F(ApiMall, MembersAndAnalystsCannotRunTheMall) {
  const std::int64_t member = member_with("m1");
  add_item(physical_item("mug", 300, 5));
  add_template(fixed_template("five-off", 500));
  const std::string id = redeemed(member, "mug", shipping_address());
  ASSERT_FALSE(id.empty());
  const Headers me = bearer(member_token(member));
  const Headers me_keyed = with(me, "Idempotency-Key", fresh_key());
  EXPECT_TRUE(is_problem(call(me, "POST", "/v1/items", service_item("x", 1)), 403, "forbidden"));
  EXPECT_TRUE(is_problem(call(me, "PUT", "/v1/items/mug", physical_item("mug", 1, 1000)), 403,
                         "forbidden"));
  EXPECT_TRUE(is_problem(call(me, "POST", "/v1/coupon-templates", fixed_template("x", 1)), 403,
                         "forbidden"));
  EXPECT_TRUE(is_problem(
      call(me_keyed, "POST", "/v1/coupon-templates/five-off/issues", {{"member_ids", {member}}}),
      403, "forbidden"));
  EXPECT_TRUE(
      is_problem(call(me_keyed, "POST", "/v1/redemptions/" + id + "/confirm", json::object()), 403,
                 "forbidden"));
  EXPECT_TRUE(is_problem(call(me, "GET", "/v1/redemptions"), 403, "forbidden"));
  EXPECT_TRUE(is_problem(call(me, "GET", "/v1/items/mug"), 403, "forbidden"));
  EXPECT_TRUE(
      is_problem(call(as("analyst"), "POST", "/v1/items", service_item("x", 1)), 403, "forbidden"));
  EXPECT_TRUE(is_problem(call(as("analyst"), "DELETE", "/v1/items/mug"), 403, "forbidden"));
  EXPECT_TRUE(is_problem(call(as("merchant"), "POST", "/v1/items", service_item("x", 1)), 403,
                         "forbidden"));

  const HttpResponse listed = call(as("analyst"), "GET", "/v1/items");
  ASSERT_EQ(listed.status, 200) << listed.describe();
  ASSERT_EQ(listed.json()["data"].size(), 1U) << "nothing was created";
  EXPECT_EQ(listed.json()["data"][0]["points_price"], 300) << "nor changed";
  EXPECT_EQ(order(id)["state"], "reserved");
  EXPECT_TRUE(codes_of(call(as("analyst"), "GET", member_path(member) + "/coupons")).empty());
}

}  // namespace
}  // namespace pointsmall::api_test
