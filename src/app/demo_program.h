// What `pointsmall demo` puts in a fresh store, as plain data: the earning program's documents
// (docs/earning.md), the mall's coupon templates and items (docs/mall.md), and a picture for
// each item, drawn here as SVG so that nothing is downloaded. Pure functions of their arguments,
// so that the same day gives the same documents.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/time_zone.h"
#include "core/types.h"

namespace pointsmall::app::demo_data {

// A local date "YYYY-MM-DD" `days` days after `now_us`'s local date in `zone` (negative: before).
std::string local_date(const TimeZone& zone, TimeUs now_us, std::int64_t days);
// The instant at `hour`:00 local time on the local day `days` days after `now_us`'s local day.
// Counting in local days (not in 24-hour steps back from now) keeps "yesterday at 9" on yesterday
// whatever the time of day now and across a change of summer time.
TimeUs local_time(const TimeZone& zone, TimeUs now_us, std::int64_t days, int hour);

// The standing rules: 1 point per whole pound, a welcome bonus on the first purchase, points for
// reviews and shares. None multiplies a purchase.
std::vector<nlohmann::json> rules();
// Bronze, Silver, Gold and Platinum by money spent over the last 12 months, with higher earn
// rates, a mall discount and a Platinum-only tag.
nlohmann::json tiers();
// Daily check-in with a weekly streak, and referrals.
nlohmann::json engagement();
// Two double-points campaigns: one that ended a month ago and one that starts in a month, so
// that none runs today.
std::vector<nlohmann::json> campaigns(const TimeZone& zone, TimeUs now_us);

// The coupon templates; the one named kPoolTemplate takes its codes from a pool.
inline constexpr const char* kPoolTemplate = "free-delivery";
std::vector<nlohmann::json> coupon_templates();
// The pool's codes (`count` of them): "FREEDEL-0001", ...
std::vector<std::string> pool_codes(int count);

// About 60 items in several categories; each has images ["/media/items/ID.svg"].
std::vector<nlohmann::json> items();
// The id of the item that is sold out once the demo's orders took its units.
inline constexpr const char* kSellOutItem = "christmas-bauble-set";

// A 400 x 400 SVG picture for an item: a background and a shape in colours derived from the id,
// the name's initials in the shape, and the name below. Valid XML: the name is escaped.
std::string item_svg(const std::string& id, const std::string& name, const std::string& category);

}  // namespace pointsmall::app::demo_data
