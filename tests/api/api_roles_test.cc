// The role walk: every route that `pointsmall routes` prints, called by every kind of caller (an
// API key of each role, an operator console session of each role, a member token, credentials
// that are not valid, none). A caller whose role the route lists is never refused with 401/403
// (it may get 404 or 422 for the dummy ids and bodies); any other is refused with 403 forbidden,
// or 401 unauthenticated without valid credentials. Public routes refuse nobody.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "api_fixture.h"

namespace pointsmall::api_test {
namespace {

struct RouteRow {
  std::string method;
  std::string path;
  std::vector<std::string> roles;  // {"public"} for a public route
  [[nodiscard]] bool is_public() const {
    return std::find(roles.begin(), roles.end(), "public") != roles.end();
  }
  [[nodiscard]] bool allows(const std::string& role) const {
    return is_public() || std::find(roles.begin(), roles.end(), role) != roles.end();
  }
  // Routes whose OpenAPI security is the console session alone (docs/openapi.yaml): an API key,
  // whatever its role, is not a credential for them.
  [[nodiscard]] bool console_session_only() const {
    return path == "/v1/auth/operator/session" || path == "/v1/auth/operator/logout";
  }
};

struct Caller {
  std::string label;
  enum class Kind : std::uint8_t { anonymous, invalid, api_key, console, member };
  Kind kind;
  std::string role;  // empty for anonymous and invalid credentials
  Headers headers;
};

class ApiRoles : public ApiFixture {
 protected:
  std::vector<RouteRow> route_table() {
    const CliResult r = server_.cli({"routes"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::vector<RouteRow> rows;
    std::istringstream lines(r.out);
    std::string line;
    while (std::getline(lines, line)) {
      if (line.empty()) continue;
      const json row = json::parse(line, nullptr, false);
      if (!row.is_object()) {
        ADD_FAILURE() << "not a JSON line: " << line;
        continue;
      }
      rows.push_back({row.value("method", ""), row.value("path", ""),
                      row.value("roles", std::vector<std::string>{})});
    }
    return rows;
  }

  // Fills a route's path parameters with ids that exist (the member) or harmlessly do not (API
  // keys and operators: revoking or disabling a real one would change the walk's callers).
  std::string target_of(const RouteRow& route) const {
    std::string target = route.path;
    const auto replace = [&target](const std::string& name, const std::string& value) {
      const std::size_t at = target.find(name);
      if (at != std::string::npos) target.replace(at, name.size(), value);
    };
    replace("{member_id}", std::to_string(member_));
    replace("{order_id}", "no-such-order");
    replace("{key_id}", "999999");
    replace("{operator_id}", "999999");
    return target;
  }

  // Every kind of caller, made once.
  const std::vector<Caller>& standing_callers() {
    if (!standing_.empty()) return standing_;
    standing_.push_back({"no credentials", Caller::Kind::anonymous, "", {}});
    standing_.push_back({"an unknown API key", Caller::Kind::invalid, "", bearer("pm_not_a_key")});
    standing_.push_back({"an unknown token", Caller::Kind::invalid, "", bearer("not-a-session")});
    standing_.push_back({"an unknown session cookie",
                         Caller::Kind::invalid,
                         "",
                         {{"Cookie", "pointsmall_session=forged"}, {"X-CSRF-Token", "forged"}}});
    for (const std::string& role : key_roles())
      standing_.push_back({"API key of role " + role, Caller::Kind::api_key, role, as(role)});
    for (Caller& caller : console_callers()) standing_.push_back(std::move(caller));
    standing_.push_back(member_caller());
    return standing_;
  }

  // The callers of `route`: the standing ones, but those whose sessions the route ends (the
  // logouts) are made afresh for it, so that later routes still see valid sessions.
  std::vector<Caller> callers_of(const RouteRow& route) {
    std::vector<Caller> out = standing_callers();
    const bool ends_console = route.path == "/v1/auth/operator/logout";
    const bool ends_member = route.path == "/v1/auth/member/logout";
    if (!ends_console && !ends_member) return out;
    std::erase_if(out, [&](const Caller& caller) {
      return (ends_console && caller.kind == Caller::Kind::console) ||
             (ends_member && caller.kind == Caller::Kind::member);
    });
    if (ends_console)
      for (Caller& caller : console_callers()) out.push_back(std::move(caller));
    if (ends_member) out.push_back(member_caller());
    return out;
  }

  // A new console session of every role (each sign-in uses a fresh TOTP code).
  std::vector<Caller> console_callers() {
    std::vector<Caller> out;
    for (const std::string& role : console_roles()) {
      const auto session = console_login_as(role);
      EXPECT_TRUE(session.has_value()) << "console-" << role << " cannot sign in";
      if (session)
        out.push_back(
            {"console session of role " + role, Caller::Kind::console, role, session->headers()});
    }
    return out;
  }

  Caller member_caller() {
    return {"member token", Caller::Kind::member, "member", bearer(member_token(member_))};
  }

  // What is wrong with `response` to `caller` on `route`, or "" when it is right.
  static std::string judge(const RouteRow& route, const Caller& caller,
                           const HttpResponse& response) {
    const int status = response.status;
    if (status == 0) return "no response: " + response.error;
    if (status >= 500) return "server error " + response.describe();
    const bool refused = status == 401 || status == 403;
    if (route.is_public()) return refused ? "a public route refused " + response.describe() : "";
    if (caller.kind == Caller::Kind::anonymous || caller.kind == Caller::Kind::invalid)
      return is_problem(response, 401, "unauthenticated") ? "" : "expected 401 unauthenticated";
    if (!route.allows(caller.role))
      return is_problem(response, 403, "forbidden") ? "" : "expected 403 forbidden";
    if (caller.kind == Caller::Kind::api_key && route.console_session_only())
      return is_problem(response, 401, "unauthenticated")
                 ? ""
                 : "expected 401: the route takes a console session only";
    return refused ? "a listed role was refused" : "";
  }

  std::int64_t member_ = 0;
  std::vector<Caller> standing_;
};

TEST_F(ApiRoles, EveryRouteAdmitsExactlyItsRoles) {
  member_ = create_member("walker");
  give_points(member_, 100);
  const std::vector<RouteRow> routes = route_table();
  ASSERT_GE(routes.size(), 30U) << "the table lost routes";

  int calls = 0;
  for (const RouteRow& route : routes) {
    const bool has_body =
        route.method == "POST" || route.method == "PUT" || route.method == "PATCH";
    for (const Caller& caller : callers_of(route)) {
      Headers headers = caller.headers;
      if (has_body) headers.emplace_back("Idempotency-Key", fresh_key("walk"));
      const HttpResponse response =
          has_body ? call(headers, route.method, target_of(route), json::object())
                   : call(headers, route.method, target_of(route));
      ++calls;
      const std::string wrong = judge(route, caller, response);
      EXPECT_TRUE(wrong.empty()) << route.method << " " << route.path << " by " << caller.label
                                 << " (route roles " << json(route.roles).dump() << "): " << wrong
                                 << "; got " << response.describe();
    }
  }
  EXPECT_GE(calls, 30 * 10);
  EXPECT_EQ(available(member_), 100) << "the walk's dummy calls changed no points";
}

TEST_F(ApiRoles, AdminMayNotUseMemberRoutesButMayDoEverythingElse) {
  const std::vector<RouteRow> routes = route_table();
  for (const RouteRow& route : routes) {
    if (route.is_public()) continue;
    const bool member_route =
        std::find(route.roles.begin(), route.roles.end(), "member") != route.roles.end();
    EXPECT_EQ(route.allows("admin"), !member_route)
        << route.method << " " << route.path << " " << json(route.roles).dump();
  }
}

}  // namespace
}  // namespace pointsmall::api_test
