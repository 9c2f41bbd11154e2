// What the ledger promises under concurrency and when the process dies: concurrent spends never
// overdraw, an acknowledged write survives SIGKILL, a retried request counts once, and SIGTERM
// drains in-flight requests and exits 0. Afterwards `pointsmall check` finds every balance
// consistent.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "api_fixture.h"

namespace pointsmall::api_test {
namespace {

using Clock = std::chrono::steady_clock;

// Waits (polling) until `done` or the deadline; returns `done()`.
template <typename Done>
bool wait_until(Done done, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!done() && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  return done();
}

// Purchases of 1.00 USD (1 point each), keyed "ev-N" with order "ev-N", sent by `threads`
// connections until told to stop or until their connection fails (the server went away).
class PurchaseLoad {
 public:
  enum class Outcome : std::uint8_t { acknowledged, refused, no_answer, cut_short };

  PurchaseLoad(std::uint16_t port, std::string merchant_key, std::int64_t member_id, int threads)
      : port_(port), merchant_key_(std::move(merchant_key)), member_id_(member_id) {
    for (int i = 0; i < threads; ++i) workers_.emplace_back([this] { run(); });
  }
  PurchaseLoad(const PurchaseLoad&) = delete;
  PurchaseLoad& operator=(const PurchaseLoad&) = delete;
  ~PurchaseLoad() { finish(); }

  void finish() {
    stop_ = true;
    for (std::thread& worker : workers_)
      if (worker.joinable()) worker.join();
  }

  [[nodiscard]] int acknowledged() const { return acknowledged_.load(); }

  // Every key sent (or about to be), with how its request ended. Call after finish().
  [[nodiscard]] const std::map<std::string, Outcome>& outcomes() const { return outcomes_; }
  // Requests answered with something else than 201, and responses begun but cut short.
  [[nodiscard]] const std::vector<std::string>& refusals() const { return refusals_; }
  [[nodiscard]] const std::vector<std::string>& cut_short() const { return cut_short_; }

 private:
  void run() {
    ApiClient client(port_, std::chrono::seconds(10));
    while (!stop_) {
      const std::string key = "ev-" + std::to_string(next_key_.fetch_add(1));
      record(key, Outcome::no_answer, "");
      const HttpResponse r = client.call_json("POST", "/v1/events",
                                              {{"type", "purchase"},
                                               {"member_id", member_id_},
                                               {"order_id", key},
                                               {"amount", {{"amount", 100}, {"currency", "USD"}}}},
                                              with(bearer(merchant_key_), "Idempotency-Key", key));
      if (r.status == 201) {
        ++acknowledged_;
        record(key, Outcome::acknowledged, "");
        continue;
      }
      if (r.status != 0) {
        record(key, Outcome::refused, r.describe());
        continue;
      }
      // No response: the server is gone or going. A response begun but not finished is a
      // broken promise; a connection closed (or refused) before any byte is a clean end.
      const bool cut = r.error.rfind("body cut short", 0) == 0 ||
                       r.error.rfind("malformed", 0) == 0 ||
                       r.error.find("timed out") != std::string::npos;
      record(key, cut ? Outcome::cut_short : Outcome::no_answer, key + ": " + r.error);
      return;
    }
  }

  void record(const std::string& key, Outcome outcome, const std::string& detail) {
    std::lock_guard lock(mutex_);
    outcomes_[key] = outcome;
    if (outcome == Outcome::refused) refusals_.push_back(detail);
    if (outcome == Outcome::cut_short) cut_short_.push_back(detail);
  }

  std::uint16_t port_;
  std::string merchant_key_;
  std::int64_t member_id_;
  std::atomic<bool> stop_{false};
  std::atomic<int> next_key_{0};
  std::atomic<int> acknowledged_{0};
  std::mutex mutex_;
  std::map<std::string, Outcome> outcomes_;  // guarded by mutex_
  std::vector<std::string> refusals_;        // guarded by mutex_
  std::vector<std::string> cut_short_;       // guarded by mutex_
  std::vector<std::thread> workers_;
};

class ApiDurability : public ApiFixture {
 protected:
  // How many earn transactions name each order (reference), over the whole history.
  std::map<std::string, int> earns_by_order(std::int64_t member_id) {
    std::map<std::string, int> count;
    for (const json& t : transactions(member_id))
      if (t["kind"] == "earn") ++count[t.value("reference", "")];
    return count;
  }

  // Stops the server (exit 0) and runs `pointsmall check` on its data directory (exit 0).
  void stop_and_check() {
    EXPECT_EQ(server_.stop(), 0) << server_.stderr_text();
    std::vector<std::string> args{"check"};
    for (std::string& word : server_.store_args()) args.push_back(std::move(word));
    const CliResult check = server_.cli(args);
    EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
    EXPECT_NE(check.out.find("ok"), std::string::npos) << check.out;
  }
};

TEST_F(ApiDurability, ConcurrentSpendsNeverOverdraw) {
  const std::int64_t member = create_member("contended");
  give_points(member, 100);
  constexpr int kThreads = 20;
  std::vector<ApiClient> clients;
  clients.reserve(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    clients.emplace_back(server_.port());
    ASSERT_EQ(clients.back().call("GET", "/healthz").status, 200);  // connected before the race
  }
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<HttpResponse> responses(kThreads);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      ++ready;
      while (!go) std::this_thread::yield();
      responses[i] = clients[i].call_json(
          "POST", member_path(member) + "/adjustments", {{"points", -10}, {"reason", "race"}},
          with(as("operator"), "Idempotency-Key", "race-" + std::to_string(i)));
    });
  }
  ASSERT_TRUE(wait_until([&] { return ready.load() == kThreads; }, std::chrono::seconds(10)));
  go = true;
  for (std::thread& thread : threads) thread.join();

  int succeeded = 0;
  int insufficient = 0;
  for (const HttpResponse& r : responses) {
    if (r.status == 201) {
      ++succeeded;
    } else if (is_problem(r, 422, "insufficient_points")) {
      ++insufficient;
    } else {
      ADD_FAILURE() << "unexpected answer: " << r.describe();
    }
  }
  EXPECT_EQ(succeeded, 10);
  EXPECT_EQ(insufficient, 10);
  EXPECT_EQ(available(member), 0);
  int spends = 0;
  for (const json& t : transactions(member))
    if (t["kind"] == "adjustment" && t["points"] == -10) ++spends;
  EXPECT_EQ(spends, 10) << "the history shows exactly the successful spends";
}

// `pointsmall expire` from cron beside a running server. The embedded ledger has one writer:
// a second one once handed out the ids the server was about to use, and every later write of the
// server failed until a restart. Now it is refused with a message naming the server, and changes
// nothing. PostgreSQL has many writers, and there the same command runs.
TEST_F(ApiDurability, ASecondWriterBesideTheServerLeavesTheServerWriting) {
  const std::int64_t member = create_member("beside-expire");
  give_points(member, 40);
  // In 2100 the 40 points (365 days) are due to expire: the command has work to write.
  std::vector<std::string> args{"expire", "--at", "2100-01-01"};
  for (std::string& word : server_.store_args()) args.push_back(std::move(word));
  const CliResult expire = server_.cli(args);
  if (testing_on_postgres()) {
    EXPECT_EQ(expire.exit_code, 0) << expire.out << expire.err;
  } else {
    EXPECT_EQ(expire.exit_code, 2) << expire.out << expire.err;
    EXPECT_NE(expire.err.find("the ledger is open in another process"), std::string::npos)
        << expire.err;
    EXPECT_NE(expire.err.find("serve"), std::string::npos) << "names the holder: " << expire.err;
    EXPECT_EQ(expire.out, "") << "nothing ran";
  }
  give_points(member, 2);
  EXPECT_EQ(available(member), testing_on_postgres() ? 2 : 42) << "the server still writes";
  const std::int64_t other = create_member("beside-expire-later");
  give_points(other, 5);
  EXPECT_EQ(available(other), 5);
  stop_and_check();
}

TEST_F(ApiDurability, AcknowledgedWritesSurviveSigkillAndRetriesCountOnce) {
  const std::int64_t member = create_member("crash-buyer");
  std::map<std::string, PurchaseLoad::Outcome> outcomes;
  {
    PurchaseLoad load(server_.port(), keys_.at("merchant"), member, 8);
    const auto start = Clock::now();
    EXPECT_TRUE(wait_until([&] { return load.acknowledged() >= 100; }, std::chrono::seconds(10)))
        << "the load never got going";
    // Let it run a little longer, so that requests are in flight at the kill.
    wait_until([&] { return Clock::now() - start > std::chrono::milliseconds(300); },
               std::chrono::seconds(1));
    EXPECT_EQ(server_.kill(), 128 + SIGKILL);
    load.finish();
    outcomes = load.outcomes();
    // (A response cut short by the kill is unknown to the client, like no response.)
    for (const std::string& refusal : load.refusals())
      ADD_FAILURE() << "before the kill, a purchase was refused: " << refusal;
  }
  ASSERT_TRUE(server_.start()) << "restart on the same data directory";
  reconnect();

  std::set<std::string> acknowledged;
  std::vector<std::string> resend;
  for (const auto& [key, outcome] : outcomes) {
    if (outcome == PurchaseLoad::Outcome::acknowledged) {
      acknowledged.insert(key);
      if (acknowledged.size() % 10 == 0) resend.push_back(key);  // a sample of the acknowledged
    } else {
      resend.push_back(key);  // the client does not know: it retries with the same key
    }
  }
  ASSERT_GE(acknowledged.size(), 100U);
  for (const std::string& key : resend) {
    const HttpResponse r = purchase(member, key, 100, key);
    EXPECT_EQ(r.status, 201) << key << ": " << r.describe();
    if (acknowledged.count(key) != 0) {
      EXPECT_EQ(r.header("idempotent-replayed"), "true") << key << " was acknowledged before";
      EXPECT_EQ(r.json()["points"], 1);
    }
  }

  EXPECT_EQ(available(member), static_cast<std::int64_t>(outcomes.size()))
      << "one point for every distinct key sent, no more, no less";
  const std::map<std::string, int> earns = earns_by_order(member);
  for (const std::string& key : acknowledged) {
    const auto it = earns.find(key);
    EXPECT_TRUE(it != earns.end() && it->second == 1)
        << key << " was acknowledged; it is in the history " << (it == earns.end() ? 0 : it->second)
        << " times";
  }
  EXPECT_EQ(earns.size(), outcomes.size());
  for (const auto& [order, count] : earns) EXPECT_EQ(count, 1) << order << " earned twice";
  stop_and_check();
}

TEST_F(ApiDurability, SigtermDrainsInFlightRequestsAndExitsZero) {
  const std::int64_t member = create_member("drain-buyer");
  std::map<std::string, PurchaseLoad::Outcome> outcomes;
  {
    PurchaseLoad load(server_.port(), keys_.at("merchant"), member, 8);
    EXPECT_TRUE(wait_until([&] { return load.acknowledged() >= 100; }, std::chrono::seconds(10)))
        << "the load never got going";
    server_.signal(SIGTERM);
    EXPECT_EQ(server_.wait(std::chrono::seconds(20)), 0)
        << "SIGTERM ends the server with exit code 0:\n"
        << server_.stderr_text();
    load.finish();
    outcomes = load.outcomes();
    for (const std::string& refusal : load.refusals())
      ADD_FAILURE() << "during the stop, a purchase was refused: " << refusal;
    for (const std::string& cut : load.cut_short())
      ADD_FAILURE() << "during the stop, a response was cut short: " << cut;
  }
  EXPECT_NE(server_.stderr_text().find("stopped"), std::string::npos) << server_.stderr_text();

  ASSERT_TRUE(server_.start());
  reconnect();
  std::set<std::string> acknowledged;
  for (const auto& [key, outcome] : outcomes)
    if (outcome == PurchaseLoad::Outcome::acknowledged) acknowledged.insert(key);
  ASSERT_GE(acknowledged.size(), 100U);
  const std::map<std::string, int> earns = earns_by_order(member);
  for (const std::string& key : acknowledged) {
    const auto it = earns.find(key);
    EXPECT_TRUE(it != earns.end() && it->second == 1)
        << key << " got 201 before the stop; it is in the history "
        << (it == earns.end() ? 0 : it->second) << " times";
  }
  for (const auto& [order, count] : earns) {
    EXPECT_EQ(count, 1) << order << " earned twice";
    EXPECT_EQ(outcomes.count(order), 1U) << order << " was never sent";
  }
  EXPECT_EQ(available(member), static_cast<std::int64_t>(earns.size()))
      << "the balance is the sum of the earns in the history";
  stop_and_check();
}

}  // namespace
}  // namespace pointsmall::api_test
