// JSON shapes of the mall's routes (see docs/openapi.yaml: Item, MemberItem, Order, Coupon).
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "api/call.h"
#include "mall/coupon.h"
#include "mall/redemption.h"
#include "mall/service/preparers.h"

namespace pointsmall::api {

// The program and catalog in force now.
mall::MallSnapshot mall_snapshot(const CallPtr& call);
// The same for a request naming an item or a coupon template (either may be empty): when the
// catalog in force lacks it, the latest one, so that what another node saved a moment ago is
// found rather than answered 404.
mall::MallSnapshot mall_snapshot_naming(const CallPtr& call, const std::string& item_id,
                                        const std::string& template_id);

// What a member's view of the catalog depends on.
struct MemberView {
  int tier_level = 0;
  Points available = 0;
};
MemberView member_view(const CallPtr& call, const mall::MallSnapshot& snapshot, MemberId member);

// The committed "item:<id>:taken" counters of these items.
Counters taken_counters(const CallPtr& call, const std::vector<const mall::Item*>& items);
// How many units of `item` have gone out, by those counters.
std::int64_t taken_of(const Counters& taken, const mall::Item& item);

// The item document with its version, "taken" and "stock_left" (null: unlimited).
nlohmann::json operator_item_json(const mall::MallSnapshot& snapshot, const mall::Item& item,
                                  const Counters& taken);
// What a member sees: the item with their own unit price, whether they can afford it and
// whether it can be redeemed now.
nlohmann::json member_item_json(const mall::MallSnapshot& snapshot, const mall::Item& item,
                                const Counters& taken, const MemberView& view, TimeUs now_us);

nlohmann::json order_json(const mall::Order& order);
// `coupon_template` may be null (retired).
nlohmann::json coupon_json(const mall::Coupon& coupon, const mall::CouponTemplate* coupon_template,
                           TimeUs now_us);

}  // namespace pointsmall::api
