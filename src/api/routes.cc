#include "api/routes.h"

namespace pointsmall::api {

using auth::Role;

std::vector<std::string_view> Roles::names() const {
  if (public_) return {"public"};
  std::vector<std::string_view> out;
  for (Role role : {Role::merchant, Role::operator_, Role::admin, Role::analyst, Role::member})
    if (allows(role)) out.push_back(auth::role_name(role));
  return out;
}

const std::vector<Route>& routes() {
  constexpr Roles kPublic = Roles::everyone();
  constexpr Roles kReaders{Role::merchant, Role::operator_, Role::analyst};
  constexpr Roles kMemberWriters{Role::merchant, Role::operator_};
  constexpr Roles kShop{Role::merchant};
  constexpr Roles kOperators{Role::operator_};
  constexpr Roles kConsole{Role::operator_, Role::analyst};
  constexpr Roles kMember{Role::member};
  constexpr Roles kAdmin{Role::admin};
  static const std::vector<Route> table = {
      {"GET", "/healthz", kPublic, get_health},
      {"GET", "/metrics", kPublic, get_metrics},
      {"GET", "/v1/program", kReaders, get_program},
      {"POST", "/v1/members", kMemberWriters, create_member},
      {"GET", "/v1/members", kReaders, list_members},
      {"GET", "/v1/members/{member_id}", kReaders, get_member},
      {"PATCH", "/v1/members/{member_id}", kMemberWriters, update_member},
      {"GET", "/v1/members/{member_id}/balance", kReaders, get_balance},
      {"GET", "/v1/members/{member_id}/transactions", kReaders, list_transactions},
      {"GET", "/v1/members/{member_id}/lots", kConsole, list_member_lots},
      {"POST", "/v1/members/{member_id}/adjustments", kOperators, create_adjustment},
      {"POST", "/v1/members/{member_id}/freeze", kOperators, freeze_member},
      {"POST", "/v1/members/{member_id}/unfreeze", kOperators, unfreeze_member},
      {"POST", "/v1/members/{member_id}/sessions", kShop, create_member_session},
      {"PUT", "/v1/members/{member_id}/credentials", kShop, set_member_credentials},
      {"POST", "/v1/events", kShop, create_event},
      {"POST", "/v1/orders/{order_id}/refunds", kShop, create_refund},
      {"POST", "/v1/auth/operator/login", kPublic, operator_login},
      {"GET", "/v1/auth/operator/session", kConsole, operator_session},
      {"POST", "/v1/auth/operator/logout", kConsole, operator_logout},
      {"POST", "/v1/auth/member/login", kPublic, member_login},
      {"POST", "/v1/auth/member/logout", kMember, member_logout},
      {"GET", "/v1/me", kMember, get_me},
      {"GET", "/v1/me/balance", kMember, get_my_balance},
      {"GET", "/v1/me/transactions", kMember, list_my_transactions},
      {"GET", "/v1/me/tier", kMember, get_my_tier},
      {"POST", "/v1/me/checkins", kMember, create_my_checkin},
      {"GET", "/v1/me/checkins", kMember, get_my_checkins},
      {"GET", "/v1/me/referral", kMember, get_my_referral},
      {"GET", "/v1/me/tasks", kMember, list_my_tasks},
      {"GET", "/v1/members/{member_id}/tier", kReaders, get_member_tier},
      {"POST", "/v1/members/{member_id}/tier", kOperators, set_member_tier},
      {"POST", "/v1/members/{member_id}/checkins", kMemberWriters, create_member_checkin},
      {"GET", "/v1/members/{member_id}/checkins", kReaders, get_member_checkins},
      {"GET", "/v1/members/{member_id}/referral", kReaders, get_member_referral},
      {"POST", "/v1/members/{member_id}/tasks/{task}/completions", kMemberWriters, complete_task},
      {"GET", "/v1/tasks", kReaders, list_tasks},
      {"GET", "/v1/rules", kReaders, list_rules},
      {"POST", "/v1/rules", kOperators, create_rule},
      {"GET", "/v1/rules/{rule_id}", kReaders, get_rule},
      {"PUT", "/v1/rules/{rule_id}", kOperators, replace_rule},
      {"DELETE", "/v1/rules/{rule_id}", kOperators, retire_rule},
      {"GET", "/v1/rules/{rule_id}/versions", kReaders, list_rule_versions},
      {"GET", "/v1/campaigns", kReaders, list_campaigns},
      {"POST", "/v1/campaigns", kOperators, create_campaign},
      {"GET", "/v1/campaigns/{campaign_id}", kReaders, get_campaign},
      {"PUT", "/v1/campaigns/{campaign_id}", kOperators, replace_campaign},
      {"DELETE", "/v1/campaigns/{campaign_id}", kOperators, retire_campaign},
      {"GET", "/v1/campaigns/{campaign_id}/versions", kReaders, list_campaign_versions},
      {"GET", "/v1/tiers", kReaders, get_tiers},
      {"PUT", "/v1/tiers", kOperators, put_tiers},
      {"GET", "/v1/engagement", kReaders, get_engagement},
      {"PUT", "/v1/engagement", kOperators, put_engagement},
      {"POST", "/v1/simulations", kConsole, create_simulation},
      {"GET", "/v1/reports/overview", kConsole, get_overview_report},
      {"GET", "/v1/items", kReaders, list_items},
      {"POST", "/v1/items", kOperators, create_item},
      {"GET", "/v1/items/{item_id}", kReaders, get_item},
      {"PUT", "/v1/items/{item_id}", kOperators, replace_item},
      {"DELETE", "/v1/items/{item_id}", kOperators, retire_item},
      {"GET", "/v1/items/{item_id}/versions", kReaders, list_item_versions},
      {"GET", "/v1/me/items", kMember, list_my_items},
      {"GET", "/v1/me/items/{item_id}", kMember, get_my_item},
      {"POST", "/v1/redemptions", kMemberWriters, create_redemption},
      {"GET", "/v1/redemptions", kReaders, list_redemptions},
      {"GET", "/v1/redemptions/{order_id}", kReaders, get_redemption},
      {"POST", "/v1/redemptions/{order_id}/payment", kMemberWriters, pay_redemption},
      {"POST", "/v1/redemptions/{order_id}/confirm", kMemberWriters, confirm_redemption},
      {"POST", "/v1/redemptions/{order_id}/fulfil", kMemberWriters, fulfil_redemption},
      {"POST", "/v1/redemptions/{order_id}/ship", kMemberWriters, ship_redemption},
      {"POST", "/v1/redemptions/{order_id}/deliver", kMemberWriters, deliver_redemption},
      {"POST", "/v1/redemptions/{order_id}/cancel", kMemberWriters, cancel_redemption},
      {"POST", "/v1/redemptions/{order_id}/fail", kMemberWriters, fail_redemption},
      {"POST", "/v1/me/redemptions", kMember, create_my_redemption},
      {"GET", "/v1/me/redemptions", kMember, list_my_redemptions},
      {"GET", "/v1/me/redemptions/{order_id}", kMember, get_my_redemption},
      {"POST", "/v1/me/redemptions/{order_id}/cancel", kMember, cancel_my_redemption},
      {"GET", "/v1/coupon-templates", kReaders, list_coupon_templates},
      {"POST", "/v1/coupon-templates", kOperators, create_coupon_template},
      {"GET", "/v1/coupon-templates/{template_id}", kReaders, get_coupon_template},
      {"PUT", "/v1/coupon-templates/{template_id}", kOperators, replace_coupon_template},
      {"DELETE", "/v1/coupon-templates/{template_id}", kOperators, retire_coupon_template},
      {"GET", "/v1/coupon-templates/{template_id}/versions", kReaders,
       list_coupon_template_versions},
      {"POST", "/v1/coupon-templates/{template_id}/issues", kOperators, issue_coupons},
      {"POST", "/v1/coupon-templates/{template_id}/pool", kOperators, import_coupon_pool,
       "text/csv"},
      {"POST", "/v1/coupons/validate", kShop, validate_coupon},
      {"GET", "/v1/coupons/{code}", kReaders, get_coupon},
      {"POST", "/v1/coupons/{code}/redeem", kShop, redeem_coupon},
      {"POST", "/v1/coupons/{code}/release", kShop, release_coupon},
      {"GET", "/v1/members/{member_id}/coupons", kReaders, list_member_coupons},
      {"GET", "/v1/me/coupons", kMember, list_my_coupons},
      {"POST", "/v1/api-keys", kAdmin, create_api_key},
      {"GET", "/v1/api-keys", kAdmin, list_api_keys},
      {"DELETE", "/v1/api-keys/{key_id}", kAdmin, revoke_api_key},
      {"POST", "/v1/operators", kAdmin, create_operator},
      {"GET", "/v1/operators", kAdmin, list_operators},
      {"POST", "/v1/operators/{operator_id}/disable", kAdmin, disable_operator},
  };
  return table;
}

}  // namespace pointsmall::api
