#include "api/routes.h"

#include <gtest/gtest.h>

#include <set>

namespace pointsmall::api {
namespace {

using auth::Role;

// The member's own routes: /v1/me, /v1/me/..., and signing out.
bool members_own(std::string_view path) {
  return path == "/v1/me" || path.substr(0, 7) == "/v1/me/" || path == "/v1/auth/member/logout";
}

TEST(Routes, EachMethodAndPathIsInTheTableOnce) {
  std::set<std::string> seen;
  for (const Route& route : routes()) {
    const std::string key = std::string(route.method) + " " + std::string(route.path);
    EXPECT_TRUE(seen.insert(key).second) << key;
    EXPECT_NE(route.handle, nullptr) << key;
  }
}

TEST(Routes, AdminMayCallEveryRouteButTheMembersOwn) {
  for (const Route& route : routes()) {
    EXPECT_EQ(route.roles.allows(Role::admin), !members_own(route.path)) << route.path;
  }
}

TEST(Routes, MembersReachOnlyTheirOwnRoutesAndPublicOnes) {
  for (const Route& route : routes()) {
    EXPECT_EQ(route.roles.allows(Role::member), members_own(route.path) || route.roles.is_public())
        << route.path;
  }
}

TEST(Routes, AnalystsOnlyRead) {
  for (const Route& route : routes()) {
    if (route.roles.is_public() || route.method == "GET") continue;
    const bool console_session =
        std::string_view(route.path).find("/auth/operator/") != std::string_view::npos;
    if (console_session) continue;                                    // signing out of the console
    if (route.path == std::string_view("/v1/simulations")) continue;  // a back-test writes nothing
    EXPECT_FALSE(route.roles.allows(Role::analyst)) << route.method << " " << route.path;
  }
}

TEST(Routes, OnlyOperatorsAndAdminsChangeTheEarningProgram) {
  for (const Route& route : routes()) {
    const std::string_view path = route.path;
    const bool program = path.starts_with("/v1/rules") || path.starts_with("/v1/campaigns") ||
                         path.starts_with("/v1/tiers") || path.starts_with("/v1/engagement");
    if (!program || route.method == "GET") continue;
    for (Role role : {Role::merchant, Role::analyst, Role::member})
      EXPECT_FALSE(route.roles.allows(role)) << route.method << " " << path;
    EXPECT_TRUE(route.roles.allows(Role::operator_)) << route.method << " " << path;
    EXPECT_TRUE(route.roles.allows(Role::admin)) << route.method << " " << path;
  }
}

TEST(Routes, OnlyOperatorsAndAdminsChangePointsByHand) {
  for (const Route& route : routes()) {
    const std::string_view path = route.path;
    if (path.find("/adjustments") == std::string_view::npos &&
        path.find("/freeze") == std::string_view::npos)
      continue;
    EXPECT_FALSE(route.roles.allows(Role::merchant)) << path;
    EXPECT_TRUE(route.roles.allows(Role::operator_)) << path;
  }
}

}  // namespace
}  // namespace pointsmall::api
