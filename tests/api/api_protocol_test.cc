// HTTP/1.1 as clients really use it, and abuse of it: keep-alive reuse, pipelining (several
// requests in one write, answered in order), Connection: close, and slow clients (slowloris)
// that the server must drop without keeping others waiting. The server runs with short read and
// idle timeouts (1 s) so that the test sees them expire quickly.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "api_fixture.h"

namespace pointsmall::api_test {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kShortTimeouts =
    "[server]\n"
    "read_timeout_ms = 1000\n"
    "idle_timeout_ms = 1000\n";

class ApiProtocol : public ApiFixture {
 protected:
  ApiProtocol() : ApiFixture(ServerSetup{"", kShortTimeouts}) {}

  // The raw bytes of a request with the analyst's key.
  std::string analyst_get(const std::string& target) {
    return serialize({"GET", target, as("analyst"), ""});
  }

  // A normal client is answered at once (well within the slow clients' timeouts).
  void expect_prompt_answer() {
    HttpConnection other(server_.port(), std::chrono::milliseconds(900));
    const auto start = Clock::now();
    const HttpResponse r = other.request({"GET", "/healthz", {}, ""});
    EXPECT_EQ(r.status, 200) << r.describe();
    EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(900));
  }
};

TEST_F(ApiProtocol, KeepAliveServesManyRequestsOnOneConnection) {
  const std::int64_t member = create_member("kept");
  HttpConnection connection(server_.port());
  for (int i = 1; i <= 5; ++i) {
    const HttpResponse r = connection.request(
        {"POST", member_path(member) + "/adjustments",
         with(with(as("operator"), "Idempotency-Key", "keep-" + std::to_string(i)), "Content-Type",
              "application/json"),
         R"({"points": 1, "reason": "keep-alive"})"});
    ASSERT_EQ(r.status, 201) << "request " << i << " on the same connection: " << r.describe();
    EXPECT_NE(r.header("connection"), "close");
    EXPECT_EQ(r.json()["balance"]["available"], i);
  }
  const HttpResponse last = connection.request({"GET", "/healthz", {}, ""});
  EXPECT_EQ(last.status, 200) << last.describe();
}

TEST_F(ApiProtocol, PipelinedRequestsAreAnsweredInOrder) {
  const std::int64_t first = create_member("first");
  const std::int64_t second = create_member("second");
  HttpConnection connection(server_.port());
  ASSERT_TRUE(
      connection.send_raw(analyst_get(member_path(first)) + analyst_get(member_path(second))));
  const HttpResponse a = connection.read_response();
  const HttpResponse b = connection.read_response();
  ASSERT_EQ(a.status, 200) << a.describe();
  ASSERT_EQ(b.status, 200) << b.describe();
  EXPECT_EQ(a.json()["id"], first);
  EXPECT_EQ(b.json()["id"], second);

  // Writes too: two adjustments and a read in one write; each sees the one before.
  const auto adjust = [&](const std::string& key, int points) {
    return serialize(
        {"POST", member_path(first) + "/adjustments",
         with(with(as("operator"), "Idempotency-Key", key), "Content-Type", "application/json"),
         json{{"points", points}, {"reason", "pipelined"}}.dump()});
  };
  ASSERT_TRUE(connection.send_raw(adjust("pipe-1", 7) + adjust("pipe-2", 5) +
                                  analyst_get(member_path(first) + "/balance")));
  const HttpResponse r1 = connection.read_response();
  const HttpResponse r2 = connection.read_response();
  const HttpResponse r3 = connection.read_response();
  ASSERT_EQ(r1.status, 201) << r1.describe();
  ASSERT_EQ(r2.status, 201) << r2.describe();
  ASSERT_EQ(r3.status, 200) << r3.describe();
  EXPECT_EQ(r1.json()["balance"]["available"], 7);
  EXPECT_EQ(r2.json()["balance"]["available"], 12);
  EXPECT_EQ(r3.json()["available"], 12);
}

TEST_F(ApiProtocol, ConnectionCloseIsHonoured) {
  HttpConnection connection(server_.port());
  const HttpResponse r = connection.request({"GET", "/healthz", {{"Connection", "close"}}, ""});
  EXPECT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(lower_case(r.header("connection")), "close");
  EXPECT_TRUE(connection.closed_by_peer());
}

TEST_F(ApiProtocol, AClientThatStopsMidRequestIsDisconnected) {
  HttpConnection slow(server_.port(), std::chrono::seconds(5));
  ASSERT_TRUE(slow.send_raw("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "));
  expect_prompt_answer();
  const auto start = Clock::now();
  EXPECT_TRUE(slow.closed_by_peer()) << "the half-sent request is still open after 5 s";
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(3));
}

TEST_F(ApiProtocol, AClientThatDripsBytesIsDisconnected) {
  // One byte every 50 ms keeps the connection busy but never finishes the request: the
  // server's read timeout (1 s) is for the whole request, not for each byte.
  HttpConnection slow(server_.port(), std::chrono::seconds(5));
  const std::string request =
      "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Drip: " + std::string(200, 'd') + "\r\n\r\n";
  const auto deadline = Clock::now() + std::chrono::seconds(4);
  bool dropped = false;
  for (char byte : request) {
    if (Clock::now() > deadline) break;
    if (!slow.send_raw(std::string(1, byte))) {
      dropped = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the attack's pace
  }
  if (!dropped) dropped = slow.closed_by_peer();
  EXPECT_TRUE(dropped) << "a request dripped over 4 s was still being read";
}

TEST_F(ApiProtocol, ManySlowClientsDoNotStarveOthers) {
  std::vector<HttpConnection> slow;
  for (int i = 0; i < 50; ++i) {
    slow.emplace_back(server_.port(), std::chrono::seconds(5));
    ASSERT_TRUE(
        slow.back().send_raw("POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 100"
                             "\r\n\r\n{\"type\":"));
  }
  for (int i = 0; i < 5; ++i) expect_prompt_answer();
  for (HttpConnection& connection : slow)
    EXPECT_TRUE(connection.closed_by_peer()) << "a body never finished is dropped";
}

TEST_F(ApiProtocol, IdleKeepAliveConnectionsAreClosed) {
  HttpConnection connection(server_.port(), std::chrono::seconds(5));
  ASSERT_EQ(connection.request({"GET", "/healthz", {}, ""}).status, 200);
  const auto start = Clock::now();
  EXPECT_TRUE(connection.closed_by_peer());
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(3)) << "idle timeout is 1 s";
}

}  // namespace
}  // namespace pointsmall::api_test

namespace pointsmall::api_test {
namespace {

// RFC 9110 10.1.1: a client that asks "Expect: 100-continue" gets 100 Continue before it sends
// the body, then the final answer.
TEST_F(ApiProtocol, ExpectContinueIsAnsweredBeforeTheBody) {
  const std::int64_t member = create_member("continued");
  const std::string body = R"({"points": 3, "reason": "expect continue"})";
  std::string head = "POST " + member_path(member) + "/adjustments HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& [name, value] : as("operator")) head += name + ": " + value + "\r\n";
  head += "Idempotency-Key: continue-1\r\nContent-Type: application/json\r\n";
  head += "Expect: 100-continue\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  HttpConnection connection(server_.port());
  ASSERT_TRUE(connection.send_raw(head));
  const HttpResponse interim = connection.read_response();
  EXPECT_EQ(interim.status, 100) << interim.describe();
  ASSERT_TRUE(connection.send_raw(body));
  const HttpResponse final_response = connection.read_response();
  EXPECT_EQ(final_response.status, 201) << final_response.describe();
  EXPECT_EQ(available(member), 3);
}

}  // namespace
}  // namespace pointsmall::api_test
