// Three `pointsmall serve` nodes on one PostgreSQL database, driven at once from six connections
// with keyed purchases, refunds, spends (negative adjustments) and redemptions of one item with
// limited stock, mostly on the same few members, with retries of acknowledged requests sent to a
// different node and the same request sent to two nodes at the same moment. Afterwards:
//  - every retry answered what the first attempt did (same status and body; order ids equal);
//  - each member's journal holds every acknowledged operation exactly once (no double spend, no
//    lost write): its transactions are its opening, its starting points and one per distinct
//    acknowledged key;
//  - the item is not oversold: units taken equal the acknowledged redemptions and never exceed
//    the stock; the orders listed are those;
//  - `pointsmall check` finds every balance consistent with the journal and every invariant true.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "api_fixture.h"
#include "http_client.h"
#include "server_process.h"
#include "store/postgresql/testing.h"

namespace pointsmall::api_test {
namespace {

constexpr int kNodes = 3;
constexpr int kWorkers = 6;
constexpr int kOperationsPerWorker = 120;
constexpr int kMembers = 12;
constexpr std::int64_t kStartingPoints = 400;
constexpr std::int64_t kStock = 30;
constexpr std::int64_t kItemPrice = 40;

// Purchases are available at once, so that spends and redemptions race for what they earn.
constexpr const char* kConfig = "[program]\nreturn_window_days = 0\n[store]\nmax_batch = 64\n";

json shipping_address() {
  return {{"name", "Ana Silva"},
          {"line1", "1 High Street"},
          {"city", "London"},
          {"postal_code", "N1 9GU"},
          {"country", "GB"}};
}

struct Request {
  std::string method;
  std::string target;
  json body;
  std::string role;  // whose key sends it
  std::int64_t member = 0;
};

// What the workers saw: acknowledged keys per member, redemptions, and any broken promise.
struct Ledgerbook {
  std::mutex mutex;
  std::map<std::int64_t, std::set<std::string>> acknowledged_keys;  // by member
  std::set<std::string> redeemed_orders;
  std::vector<std::string> broken;  // messages of failed expectations
  int out_of_stock = 0;
  int insufficient = 0;
  int retries = 0;
  int simultaneous = 0;

  void acknowledge(std::int64_t member, const std::string& key) {
    std::lock_guard lock(mutex);
    acknowledged_keys[member].insert(key);
  }
  void fail(const std::string& message) {
    std::lock_guard lock(mutex);
    broken.push_back(message);
  }
};

class MultiNode : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = store::pg::fresh_test_schema_url();
    ASSERT_FALSE(url_.empty());
    for (int i = 0; i < kNodes; ++i)
      nodes_.push_back(
          std::make_unique<ServerProcess>(ServerSetup{.config_toml = kConfig, .store_url = url_}));
    for (const std::string role : {"merchant", "operator", "analyst"})
      keys_[role] = nodes_[0]->create_api_key(role + std::string("-key"), role);
    // All three at once: the first to take the migration lock migrates, the others wait.
    std::vector<std::thread> starting;
    std::atomic<int> started{0};
    for (auto& node : nodes_)
      starting.emplace_back([&node, &started] { started += node->start() ? 1 : 0; });
    for (std::thread& t : starting) t.join();
    ASSERT_EQ(started.load(), kNodes);
  }

  HttpResponse send(int node, const Request& request, const std::string& key) {
    ApiClient client(nodes_[static_cast<std::size_t>(node)]->port(), std::chrono::seconds(30));
    Headers headers = bearer(keys_.at(request.role));
    if (!key.empty()) headers.emplace_back("Idempotency-Key", key);
    if (request.body.is_null()) return client.call(request.method, request.target, headers);
    return client.call_json(request.method, request.target, request.body, headers);
  }

  std::string url_;
  std::vector<std::unique_ptr<ServerProcess>> nodes_;
  std::map<std::string, std::string> keys_;
};

// The same answer, as a client comparing a retry with the first attempt would see it. An order's
// answer shows its current state (docs/api.md), so orders compare by id.
bool same_answer(const Request& request, const HttpResponse& first, const HttpResponse& again) {
  if (first.status != again.status) return false;
  if (request.target == "/v1/redemptions")
    return first.json().value("id", "") == again.json().value("id", "");
  return first.json() == again.json();
}

TEST_F(MultiNode, ThreeNodesOnOnePostgresKeepEveryInvariantUnderConcurrentLoad) {
  HttpResponse r = send(1,
                        {"POST",
                         "/v1/items",
                         {{"id", "lamp"},
                          {"name", "Desk lamp"},
                          {"kind", "physical"},
                          {"points_price", kItemPrice},
                          {"stock", kStock}},
                         "operator"},
                        "");
  ASSERT_EQ(r.status, 201) << r.describe();
  std::vector<std::int64_t> members;
  for (int i = 0; i < kMembers; ++i) {
    r = send(i % kNodes,
             {"POST", "/v1/members", {{"external_id", "m" + std::to_string(i)}}, "merchant"}, "");
    ASSERT_EQ(r.status, 201) << r.describe();
    members.push_back(r.json().value("id", std::int64_t{0}));
    r = send((i + 1) % kNodes,
             {"POST",
              "/v1/members/" + std::to_string(members.back()) + "/adjustments",
              {{"points", kStartingPoints}, {"reason", "welcome"}},
              "operator"},
             "setup-" + std::to_string(i));
    ASSERT_EQ(r.status, 201) << r.describe();
  }

  Ledgerbook book;
  std::atomic<int> server_errors{0};
  auto worker = [&](int w) {
    std::mt19937_64 random(static_cast<std::uint64_t>(w) * 7919 + 17);
    auto pick = [&](int n) { return static_cast<int>(random() % static_cast<std::uint64_t>(n)); };
    std::vector<std::pair<std::int64_t, std::string>> my_orders;  // acknowledged purchases
    for (int i = 0; i < kOperationsPerWorker; ++i) {
      const std::int64_t member = members[static_cast<std::size_t>(pick(kMembers))];
      const std::string key = "w" + std::to_string(w) + "-" + std::to_string(i);
      const std::string member_path = "/v1/members/" + std::to_string(member);
      Request request;
      const int kind = pick(100);
      if (kind < 35) {
        request = {"POST",
                   "/v1/events",
                   {{"type", "purchase"},
                    {"member_id", member},
                    {"order_id", "order-" + key},
                    {"amount", {{"amount", 1000 + pick(4000)}, {"currency", "USD"}}}},
                   "merchant",
                   member};
      } else if (kind < 45 && !my_orders.empty()) {
        const auto& [owner, order] =
            my_orders[static_cast<std::size_t>(pick(static_cast<int>(my_orders.size())))];
        request = {"POST",
                   "/v1/orders/" + order + "/refunds",
                   {{"member_id", owner}, {"amount", {{"amount", 500}, {"currency", "USD"}}}},
                   "merchant",
                   owner};
      } else if (kind < 70) {
        request = {"POST",
                   member_path + "/adjustments",
                   {{"points", -(1 + pick(120))}, {"reason", "spent at the till"}},
                   "operator",
                   member};
      } else {
        request = {"POST",
                   "/v1/redemptions",
                   {{"member_id", member},
                    {"item_id", "lamp"},
                    {"quantity", 1},
                    {"shipping_address", shipping_address()}},
                   "merchant",
                   member};
      }
      const int node = pick(kNodes);
      const int other = (node + 1 + pick(kNodes - 1)) % kNodes;
      HttpResponse first;
      HttpResponse twin;
      const bool at_once = pick(100) < 15;
      if (at_once) {  // the same request to two nodes at the same moment
        std::thread second([&] { twin = send(other, request, key); });
        first = send(node, request, key);
        second.join();
      } else {
        first = send(node, request, key);
      }
      if (first.status >= 500 || first.status == 0 || (at_once && twin.status >= 500))
        ++server_errors;
      if (at_once) {
        std::lock_guard lock(book.mutex);
        ++book.simultaneous;
      }
      if (at_once && first.status / 100 == 2 && twin.status / 100 == 2 &&
          !same_answer(request, first, twin))
        book.fail("the same request at once on two nodes answered differently: " +
                  first.describe() + " / " + twin.describe());
      const HttpResponse& accepted = first.status / 100 == 2 ? first : twin;
      if (accepted.status / 100 != 2) {
        const std::string type = first.json().value("type", "");
        std::lock_guard lock(book.mutex);
        if (type == "out_of_stock") ++book.out_of_stock;
        if (type == "insufficient_points") ++book.insufficient;
        continue;
      }
      if (at_once && first.status / 100 != 2 && twin.status / 100 == 2 && first.status != 409 &&
          first.status != 422)
        book.fail("one of two simultaneous sends failed: " + first.describe());
      book.acknowledge(request.member, key);
      if (request.target == "/v1/events")
        my_orders.emplace_back(member, request.body["order_id"].get<std::string>());
      if (request.target == "/v1/redemptions") {
        std::lock_guard lock(book.mutex);
        book.redeemed_orders.insert(accepted.json().value("id", ""));
      }
      if (pick(100) < 40) {  // a retry of an acknowledged request, on another node
        const HttpResponse again = send(other, request, key);
        {
          std::lock_guard lock(book.mutex);
          ++book.retries;
        }
        if (!same_answer(request, accepted, again) || again.header("idempotent-replayed") != "true")
          book.fail("a retry on another node answered differently: " + accepted.describe() + " / " +
                    again.describe());
      }
    }
  };
  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) workers.emplace_back(worker, w);
  for (std::thread& t : workers) t.join();

  EXPECT_EQ(server_errors.load(), 0);
  EXPECT_TRUE(book.broken.empty()) << ::testing::PrintToString(book.broken);
  EXPECT_GT(book.retries, 50);
  EXPECT_GT(book.simultaneous, 30);
  EXPECT_GT(book.out_of_stock, 0) << "the item's stock must have run out under the rush";

  // No oversell: the units taken are the acknowledged orders, within the stock.
  r = send(2, {"GET", "/v1/items/lamp", nullptr, "analyst"}, "");
  ASSERT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.json().value("taken", -1), static_cast<std::int64_t>(book.redeemed_orders.size()));
  EXPECT_LE(r.json().value("taken", -1), kStock);
  EXPECT_EQ(static_cast<std::int64_t>(book.redeemed_orders.size()), kStock)
      << "demand was far above the stock, so every unit must have gone";
  std::set<std::string> listed;
  std::string target = "/v1/redemptions?limit=100";
  for (;;) {
    r = send(0, {"GET", target, nullptr, "operator"}, "");
    ASSERT_EQ(r.status, 200) << r.describe();
    const json body = r.json();
    for (const json& order : body["data"]) listed.insert(order.value("id", ""));
    if (body["next_cursor"].is_null()) break;
    target = "/v1/redemptions?limit=100&cursor=" + body["next_cursor"].get<std::string>();
  }
  EXPECT_EQ(listed, book.redeemed_orders);

  // Every acknowledged operation exactly once in its member's journal.
  for (std::int64_t member : members) {
    std::size_t count = 0;
    std::string page = "/v1/members/" + std::to_string(member) + "/transactions?limit=100";
    for (;;) {
      r = send(static_cast<int>(member % kNodes), {"GET", page, nullptr, "analyst"}, "");
      ASSERT_EQ(r.status, 200) << r.describe();
      count += r.json()["data"].size();
      if (r.json()["next_cursor"].is_null()) break;
      page = "/v1/members/" + std::to_string(member) +
             "/transactions?limit=100&cursor=" + r.json()["next_cursor"].get<std::string>();
    }
    EXPECT_EQ(count, 2 + book.acknowledged_keys[member].size())
        << "member " << member << ": opening, starting points and one per acknowledged key";
  }

  for (auto& node : nodes_) EXPECT_EQ(node->stop(), 0) << node->stderr_text();
  const CliResult check = nodes_[0]->cli({"check", "--store", url_});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_NE(check.out.find("all invariants hold"), std::string::npos) << check.out;
}

}  // namespace
}  // namespace pointsmall::api_test
