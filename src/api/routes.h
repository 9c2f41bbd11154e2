// The one table of routes: method, path template, the roles that may call it, and its handler.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <vector>

#include "api/call.h"
#include "auth/credential_store.h"

namespace pointsmall::api {

// A set of roles; `kPublic` lets anyone call the route, signed in or not.
class Roles {
 public:
  constexpr Roles(std::initializer_list<auth::Role> roles) {
    for (auth::Role role : roles) bits_ |= bit(role);
  }
  static constexpr Roles everyone() {
    Roles roles{};
    roles.public_ = true;
    return roles;
  }
  // admin may call every route but the member's own (/v1/me).
  [[nodiscard]] constexpr bool allows(auth::Role role) const {
    return public_ || (bits_ & bit(role)) != 0 ||
           (role == auth::Role::admin && (bits_ & bit(auth::Role::member)) == 0);
  }
  [[nodiscard]] constexpr bool is_public() const { return public_; }
  // The role names allowed, admin included; {"public"} for a public route.
  [[nodiscard]] std::vector<std::string_view> names() const;

 private:
  static constexpr std::uint32_t bit(auth::Role role) { return 1U << static_cast<unsigned>(role); }
  std::uint32_t bits_ = 0;
  bool public_ = false;
};

using RouteHandler = void (*)(const CallPtr&);

struct Route {
  std::string_view method;
  std::string_view path;  // "/v1/members/{member_id}"
  Roles roles;
  RouteHandler handle;
  std::string_view body_type = "application/json";  // what a body sent to it must be
};

const std::vector<Route>& routes();

// The mall (mall_routes.cc, coupon_routes.cc).
void list_items(const CallPtr& call);
void create_item(const CallPtr& call);
void get_item(const CallPtr& call);
void replace_item(const CallPtr& call);
void retire_item(const CallPtr& call);
void list_item_versions(const CallPtr& call);
void list_my_items(const CallPtr& call);
void get_my_item(const CallPtr& call);
void list_coupon_templates(const CallPtr& call);
void create_coupon_template(const CallPtr& call);
void get_coupon_template(const CallPtr& call);
void replace_coupon_template(const CallPtr& call);
void retire_coupon_template(const CallPtr& call);
void list_coupon_template_versions(const CallPtr& call);
void issue_coupons(const CallPtr& call);
void import_coupon_pool(const CallPtr& call);
void create_redemption(const CallPtr& call);
void create_my_redemption(const CallPtr& call);
void list_redemptions(const CallPtr& call);
void list_my_redemptions(const CallPtr& call);
void get_redemption(const CallPtr& call);
void get_my_redemption(const CallPtr& call);
void pay_redemption(const CallPtr& call);
void confirm_redemption(const CallPtr& call);
void fulfil_redemption(const CallPtr& call);
void ship_redemption(const CallPtr& call);
void deliver_redemption(const CallPtr& call);
void cancel_redemption(const CallPtr& call);
void fail_redemption(const CallPtr& call);
void cancel_my_redemption(const CallPtr& call);
void validate_coupon(const CallPtr& call);
void redeem_coupon(const CallPtr& call);
void release_coupon(const CallPtr& call);
void get_coupon(const CallPtr& call);
void list_member_coupons(const CallPtr& call);
void list_my_coupons(const CallPtr& call);

// Handlers, by resource (members.cc, events.cc, ledger_routes.cc, auth_routes.cc,
// system_routes.cc).
void get_health(const CallPtr& call);
void get_metrics(const CallPtr& call);
void get_program(const CallPtr& call);
void create_member(const CallPtr& call);
void list_members(const CallPtr& call);
void get_member(const CallPtr& call);
void update_member(const CallPtr& call);
void get_balance(const CallPtr& call);
void list_transactions(const CallPtr& call);
void create_adjustment(const CallPtr& call);
void freeze_member(const CallPtr& call);
void unfreeze_member(const CallPtr& call);
void create_member_session(const CallPtr& call);
void set_member_credentials(const CallPtr& call);
void create_event(const CallPtr& call);
void create_refund(const CallPtr& call);
void operator_login(const CallPtr& call);
void operator_session(const CallPtr& call);
void operator_logout(const CallPtr& call);
void member_login(const CallPtr& call);
void member_logout(const CallPtr& call);
void get_me(const CallPtr& call);
void get_my_balance(const CallPtr& call);
void list_my_transactions(const CallPtr& call);
void create_api_key(const CallPtr& call);
void list_api_keys(const CallPtr& call);
void revoke_api_key(const CallPtr& call);
void create_operator(const CallPtr& call);
void list_operators(const CallPtr& call);
void disable_operator(const CallPtr& call);
// The earning program (program_routes.cc).
void list_rules(const CallPtr& call);
void create_rule(const CallPtr& call);
void get_rule(const CallPtr& call);
void replace_rule(const CallPtr& call);
void retire_rule(const CallPtr& call);
void list_rule_versions(const CallPtr& call);
void list_campaigns(const CallPtr& call);
void create_campaign(const CallPtr& call);
void get_campaign(const CallPtr& call);
void replace_campaign(const CallPtr& call);
void retire_campaign(const CallPtr& call);
void list_campaign_versions(const CallPtr& call);
void get_tiers(const CallPtr& call);
void put_tiers(const CallPtr& call);
void get_engagement(const CallPtr& call);
void put_engagement(const CallPtr& call);
void create_simulation(const CallPtr& call);
// Members and the earning engine (engagement_routes.cc).
void get_member_tier(const CallPtr& call);
void set_member_tier(const CallPtr& call);
void get_my_tier(const CallPtr& call);
void create_member_checkin(const CallPtr& call);
void get_member_checkins(const CallPtr& call);
void create_my_checkin(const CallPtr& call);
void get_my_checkins(const CallPtr& call);
void get_member_referral(const CallPtr& call);
void get_my_referral(const CallPtr& call);
void list_tasks(const CallPtr& call);
void list_my_tasks(const CallPtr& call);
void complete_task(const CallPtr& call);
// Reports for the console (report_routes.cc).
void get_overview_report(const CallPtr& call);
void list_member_lots(const CallPtr& call);

}  // namespace pointsmall::api
