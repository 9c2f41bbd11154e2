// The fixture of the API tests: a fresh `pointsmall serve` per test with an API key of every
// role and one operator account of every console role (made with the command line before the
// server starts), and the calls the tests share (members, points, balances, sign-in).
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "auth/crypto.h"
#include "http_client.h"
#include "server_process.h"

namespace pointsmall::api_test {

using nlohmann::json;

inline const std::vector<std::string>& key_roles() {
  static const std::vector<std::string> roles = {"merchant", "operator", "admin", "analyst"};
  return roles;
}
inline const std::vector<std::string>& console_roles() {
  static const std::vector<std::string> roles = {"operator", "admin", "analyst"};
  return roles;
}
inline constexpr const char* kOperatorPassword = "correct horse battery";

inline Headers bearer(const std::string& token) {
  return {{"Authorization", "Bearer " + token}};
}

inline Headers with(Headers headers, const std::string& name, const std::string& value) {
  headers.emplace_back(name, value);
  return headers;
}

// A unique Idempotency-Key within the test process.
inline std::string fresh_key(const std::string& prefix = "key") {
  static std::atomic<int> counter{0};
  return prefix + "-" + std::to_string(counter.fetch_add(1));
}

// An operator's console session: the cookie to send and the CSRF token.
struct ConsoleSession {
  std::string cookie;  // "pointsmall_session=..."
  std::string csrf_token;
  [[nodiscard]] Headers headers(bool with_csrf = true) const {
    Headers out{{"Cookie", cookie}};
    if (with_csrf) out.emplace_back("X-CSRF-Token", csrf_token);
    return out;
  }
};

// `response` is an RFC 9457 problem with this status and type.
inline ::testing::AssertionResult is_problem(const HttpResponse& response, int status,
                                             const std::string& type) {
  if (response.status != status)
    return ::testing::AssertionFailure()
           << "expected " << status << " " << type << ", got " << response.describe();
  const std::string content_type = response.header("content-type");
  if (content_type.rfind("application/problem+json", 0) != 0)
    return ::testing::AssertionFailure()
           << "content-type is \"" << content_type << "\": " << response.describe();
  const json body = response.json();
  if (!body.is_object() || body.value("type", "") != type || body.value("status", 0) != status ||
      !body.contains("title") || !body.contains("detail"))
    return ::testing::AssertionFailure()
           << "expected a problem of type " << type << ", got " << response.describe();
  return ::testing::AssertionSuccess();
}

// The field names of a validation_failed problem's errors.
inline std::vector<std::string> error_fields(const HttpResponse& response) {
  std::vector<std::string> fields;
  const json body = response.json();
  if (body.is_object() && body.contains("errors"))
    for (const json& error : body["errors"]) fields.push_back(error.value("field", ""));
  return fields;
}

// The TOTP code an authenticator would show `step` steps from now.
inline std::string totp_now(const std::string& secret, std::int64_t steps_from_now) {
  const auto now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  return auth::totp_code(secret, auth::totp_step(now_us) + steps_from_now);
}

class ApiFixture : public ::testing::Test {
 protected:
  explicit ApiFixture(ServerSetup setup = {}) : server_(std::move(setup)) {}

  void SetUp() override {
    for (const std::string& role : key_roles())
      keys_[role] = server_.create_api_key("key-" + role, role);
    for (const std::string& role : console_roles())
      totp_secrets_["console-" + role] =
          server_.create_operator("console-" + role, role, kOperatorPassword);
    ASSERT_TRUE(server_.start());
    client_.emplace(server_.port());
  }

  void TearDown() override {
    if (!server_.running()) return;
    // Whatever the test sent, the server still answers.
    ApiClient fresh(server_.port());
    EXPECT_EQ(fresh.call("GET", "/healthz").status, 200) << "the server stopped answering";
  }

  // Reconnects the shared client after a restart (the port changes).
  void reconnect() { client_.emplace(server_.port()); }

  [[nodiscard]] Headers as(const std::string& role) const { return bearer(keys_.at(role)); }

  HttpResponse call(const Headers& headers, const std::string& method, const std::string& target) {
    return client_->call(method, target, headers);
  }
  HttpResponse call(const Headers& headers, const std::string& method, const std::string& target,
                    const json& body) {
    return client_->call_json(method, target, body, headers);
  }
  // A call that changes points, with a fresh Idempotency-Key.
  HttpResponse keyed(const Headers& headers, const std::string& method, const std::string& target,
                     const json& body) {
    return call(with(headers, "Idempotency-Key", fresh_key()), method, target, body);
  }

  // Registers a member (as the merchant); returns its id, 0 with a test failure.
  std::int64_t create_member(const std::string& external_id, json profile = json::object()) {
    profile["external_id"] = external_id;
    const HttpResponse r = call(as("merchant"), "POST", "/v1/members", profile);
    EXPECT_EQ(r.status, 201) << r.describe();
    return r.status == 201 ? r.json().value("id", std::int64_t{0}) : 0;
  }

  // Gives `points` (> 0) to a member by an operator's adjustment.
  void give_points(std::int64_t member_id, std::int64_t points) {
    const HttpResponse r = keyed(as("operator"), "POST", member_path(member_id) + "/adjustments",
                                 {{"points", points}, {"reason", "test setup"}});
    EXPECT_EQ(r.status, 201) << r.describe();
  }

  // A purchase event of `amount_minor` US cents, as the merchant.
  HttpResponse purchase(std::int64_t member_id, const std::string& order_id,
                        std::int64_t amount_minor, const std::string& key) {
    return call(with(as("merchant"), "Idempotency-Key", key), "POST", "/v1/events",
                purchase_body(member_id, order_id, amount_minor));
  }
  static json purchase_body(std::int64_t member_id, const std::string& order_id,
                            std::int64_t amount_minor) {
    return {{"type", "purchase"},
            {"member_id", member_id},
            {"order_id", order_id},
            {"amount", {{"amount", amount_minor}, {"currency", "USD"}}}};
  }

  static std::string member_path(std::int64_t member_id) {
    return "/v1/members/" + std::to_string(member_id);
  }

  // The member's balance (as the analyst); a null json with a test failure when it cannot.
  json balance(std::int64_t member_id) {
    const HttpResponse r = call(as("analyst"), "GET", member_path(member_id) + "/balance");
    EXPECT_EQ(r.status, 200) << r.describe();
    return r.status == 200 ? r.json() : json();
  }
  std::int64_t available(std::int64_t member_id) {
    const json b = balance(member_id);
    return b.is_object() ? b.value("available", std::int64_t{-1}) : -1;
  }

  // Every transaction of the member, newest first, following next_cursor (pages of `limit`).
  json transactions(std::int64_t member_id, int limit = 100) {
    json all = json::array();
    std::string target = member_path(member_id) + "/transactions?limit=" + std::to_string(limit);
    for (int page = 0; page < 10'000; ++page) {
      const HttpResponse r = call(as("analyst"), "GET", target);
      EXPECT_EQ(r.status, 200) << r.describe();
      if (r.status != 200) break;
      const json body = r.json();
      for (const json& t : body["data"]) all.push_back(t);
      if (body["next_cursor"].is_null()) break;
      target = member_path(member_id) + "/transactions?limit=" + std::to_string(limit) +
               "&cursor=" + body["next_cursor"].get<std::string>();
    }
    return all;
  }

  // Signs in the operator `name` with password and TOTP, trying the codes of the previous,
  // current and next time step (each code works once, so that three sign-ins in a row work).
  std::optional<ConsoleSession> console_login(const std::string& name, const std::string& secret,
                                              const std::string& password = kOperatorPassword) {
    for (std::int64_t step = -1; step <= 1; ++step) {
      const HttpResponse r =
          call({}, "POST", "/v1/auth/operator/login",
               {{"name", name}, {"password", password}, {"totp_code", totp_now(secret, step)}});
      if (r.status != 200) continue;
      const std::string set_cookie = r.header("set-cookie");
      ConsoleSession session;
      session.cookie = set_cookie.substr(0, set_cookie.find(';'));
      session.csrf_token = r.json().value("csrf_token", "");
      return session;
    }
    return std::nullopt;
  }
  std::optional<ConsoleSession> console_login_as(const std::string& role) {
    const std::string name = "console-" + role;
    return console_login(name, totp_secrets_.at(name));
  }

  // A member's bearer token from the merchant's backend.
  std::string member_token(std::int64_t member_id) {
    const HttpResponse r = call(as("merchant"), "POST", member_path(member_id) + "/sessions");
    EXPECT_EQ(r.status, 201) << r.describe();
    return r.status == 201 ? r.json().value("token", "") : "";
  }

  ServerProcess server_;
  std::map<std::string, std::string> keys_;          // by role
  std::map<std::string, std::string> totp_secrets_;  // by operator name
  std::optional<ApiClient> client_;
};

}  // namespace pointsmall::api_test
