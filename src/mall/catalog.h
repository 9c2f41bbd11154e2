// The points mall's catalog: the items members redeem points for, and the checks a redemption
// must pass (visibility to the member's tier, sale window, stock and purchase limits). Pure
// values and functions: no I/O, no clock. The caller passes the time and the counters
// `redemption_counters` names, and writes `RedemptionCheck::updates` with the redemption's
// ledger command in one savepoint, so stock and limits hold under concurrent orders.
//
// Invariants the functions keep:
//   1. Prices, totals and counters are integers (points, minor units, units); no floating point.
//   2. A discounted points price is never below what the exact discount would give (rounded
//      up) and never below 1.
//   3. A check that refuses changes no counter (`updates` is empty); one that allows adds the
//      quantity to every counter it read.
//   4. Giving units back never takes a counter below 0.
//
// Counters (core/counters.h), named per item id:
//   scope 0       item:<id>:taken                units reserved or sold and not given back;
//                                                counted for every item, with or without stock,
//                                                so stock set later counts earlier sales
//   scope member  item:<id>:member:<period key>  units this member took in that period; only
//                                                for items with a per-member limit
//   scope 0       item:<id>:global:<period key>  units all members took in that period; only
//                                                for items with a global limit
// Period keys are the earning engine's (rules::period_key) in the program's time zone:
// "dYYYY-MM-DD", "wYYYY-MM-DD" (the local Monday), "mYYYY-MM", "all".
//
// Tiers: a member's tier is a level, an index into `program.tiers->tiers` (0: the first). A
// level outside the list counts as the nearest one (as the engine does). A program without
// tiers has no tier checks and no discounts.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/counters.h"
#include "core/json_fields.h"
#include "core/types.h"
#include "rules/program.h"

namespace pointsmall::mall {

// ---- Items ------------------------------------------------------------------------------------

enum class ItemKind : std::uint8_t {
  physical,      // shipped: needs a shipping address
  coupon,        // issues a coupon of `coupon_template`
  service,       // delivered by the merchant, nothing shipped
  tier_upgrade,  // moves the member to `tier`
};

// "physical", "coupon", "service", "tier_upgrade".
std::string kind_name(ItemKind kind);

// Points plus cash: money the member pays on top of the points, per unit.
struct CashPrice {
  MinorUnits amount_minor = 0;  // >= 1
  std::string currency;         // ISO 4217, three upper-case letters
  friend bool operator==(const CashPrice&, const CashPrice&) = default;
};

// At most `units` units per period ("the first 100 members": 100 units, lifetime).
struct PeriodLimit {
  std::int64_t units = 1;  // 1..10^9
  rules::Period period = rules::Period::lifetime;
  friend bool operator==(const PeriodLimit&, const PeriodLimit&) = default;
};

struct Limits {
  std::optional<std::int64_t> per_order;  // 1..10^6 units in one order
  std::optional<PeriodLimit> per_member;  // each member's units per period
  std::optional<PeriodLimit> global;      // all members' units per period
  friend bool operator==(const Limits&, const Limits&) = default;
};

// When the item can be redeemed: [from, until). Absent ends are open.
struct SaleWindow {
  std::optional<TimeUs> from_us;   // inclusive; whole seconds
  std::optional<TimeUs> until_us;  // exclusive; whole seconds, after from_us
  friend bool operator==(const SaleWindow&, const SaleWindow&) = default;
};

struct Item {
  std::string id;           // [a-z0-9_-], 1..64
  std::string name;         // 1..128 characters, not blank
  std::string description;  // 0..4000 characters
  ItemKind kind = ItemKind::physical;
  std::string category;             // 0..64 characters
  std::string brand;                // 0..64 characters
  std::vector<std::string> tags;    // at most 50, each 1..64 characters
  std::vector<std::string> images;  // at most 10: https://, http:// or /path, <= 512 characters
  Points points_price = 1;          // per unit before any tier discount, 1..10^9
  std::optional<CashPrice> cash_price;
  std::optional<std::int64_t> stock;  // total units ever offered, 0..10^9; absent: unlimited
  Limits limits;
  SaleWindow window;
  std::vector<std::string> eligible_tiers;  // tier ids, at most 20; empty: every tier
  bool tier_discount = true;                // the member's tier redemption discount applies
  std::string coupon_template;  // kind coupon: the template's id (required); otherwise empty
  std::string tier;             // kind tier_upgrade: the tier's id (required); otherwise empty
  bool active = true;           // inactive: hidden from members, not redeemable
  friend bool operator==(const Item&, const Item&) = default;
};

// Reads an item document. Returns nullopt and appends every problem, with its field path
// ("limits.per_member.units"), to `errors` when anything is wrong: unknown fields (with a
// "did you mean" hint), wrong types, values out of range, fields of another kind. Tier ids are
// only checked for their form here; `check_item` checks them against the program.
std::optional<Item> read_item(const nlohmann::json& document, std::vector<FieldError>& errors);
// The item in the shape read_item reads: read_item(to_json(item)) == item.
nlohmann::json to_json(const Item& item);
// Errors for tier ids the program does not have: "eligible_tiers[i]" and "tier".
std::vector<FieldError> check_item(const Item& item, const rules::Program& program);

// True for items that are shipped (kind physical): their orders need a ShippingAddress.
bool needs_shipping(const Item& item);

// ---- Prices -----------------------------------------------------------------------------------

// The points price of one unit for a member of `tier_level`: the tier's redemption discount
// off, rounded up (never less than price * (100 - discount) / 100 exactly), at least 1. The list
// price when the item has tier_discount false or the program has no tiers.
Points unit_points_price(const Item& item, const rules::Program& program, int tier_level);
// unit_points_price * quantity; nullopt when quantity < 1 or the product exceeds int64.
std::optional<Points> total_points(const Item& item, const rules::Program& program, int tier_level,
                                   std::int64_t quantity);

// ---- Visibility and listing -------------------------------------------------------------------

// True when a member of `tier_level` may see and redeem the item: it is active, its
// eligible_tiers is empty or names the member's tier, and every tag of the item that some tier
// lists in exclusive_item_tags is listed by the member's tier too.
bool visible_to(const Item& item, const rules::Program& program, int tier_level);

// A listing's filter; every part that is set must hold.
struct CatalogFilter {
  std::string category;  // exact; empty: any
  std::string text;      // case-insensitive (ASCII) substring of name, description, brand or a tag
  std::optional<Points> affordable_with;  // unit price <= this: after tier_level's discount when
                                          // tier_level is set, else the list price
  std::optional<int> tier_level;          // only items a member of this tier may see
  std::optional<std::string> kind;        // kind_name of the item
  bool include_inactive = false;          // false: active items only
};

bool matches(const Item& item, const CatalogFilter& filter, const rules::Program& program);

// The order of a catalog listing: by id (the default: the documents' own order), by name, by
// points price either way, or the most redeemed first (sold-out items last). Ties keep the order
// by id.
enum class CatalogOrder : std::uint8_t {
  by_id,
  name,
  points_ascending,
  points_descending,
  popular
};
// "id", "name", "points", "-points" or "popular"; nullopt for anything else.
std::optional<CatalogOrder> parse_catalog_order(std::string_view text);
// Sorts `items` (given in id order). The points price is the unit price at `tier_level` when set
// (what a member pays), else the list price; `taken` is how many units each item has gone out.
void order_items(std::vector<const Item*>& items, CatalogOrder order, const rules::Program& program,
                 std::optional<int> tier_level,
                 const std::function<std::int64_t(const Item&)>& taken);

// ---- Redemption -------------------------------------------------------------------------------

// Stable names of the reasons a redemption is refused, in the order they are checked.
inline constexpr const char* kItemUnavailable = "item_unavailable";   // inactive
inline constexpr const char* kItemNotEligible = "item_not_eligible";  // not visible to the tier
inline constexpr const char* kItemNotYetAvailable = "item_not_yet_available";      // < from
inline constexpr const char* kItemNoLongerAvailable = "item_no_longer_available";  // >= until
inline constexpr const char* kInvalidQuantity = "invalid_quantity";  // < 1, or totals overflow
inline constexpr const char* kLimitPerOrder = "limit_per_order";
inline constexpr const char* kOutOfStock = "out_of_stock";
inline constexpr const char* kLimitPerMember = "limit_per_member";
inline constexpr const char* kLimitGlobal = "limit_global";

struct RedemptionCheck {
  std::string problem;  // empty: allowed; else one of the names above
  // For people: "only 3 left", "at most 1 per member per day; you have 0 left".
  std::string detail;
  Points unit_points = 0;           // the member's unit price (set even when refused)
  Points total_points = 0;          // allowed only: unit_points * quantity
  MinorUnits total_cash_minor = 0;  // allowed only: cash_price * quantity, in its currency
  Counters updates;                 // allowed only: the new values of the counters the check read
};

// The counters check_redemption reads for this item, member and time.
std::vector<CounterKey> redemption_counters(const Item& item, MemberId member, TimeUs at_us,
                                            const rules::Program& program);
// Whether `member` of `tier_level` may redeem `quantity` units at `at_us`. `current` holds (at
// least) the values of redemption_counters; the first failing check decides the problem.
RedemptionCheck check_redemption(const Item& item, const rules::Program& program, MemberId member,
                                 int tier_level, std::int64_t quantity, const Counters& current,
                                 TimeUs at_us);

// The counter updates that return the units of an order that was cancelled, failed or timed out:
// `taken` and the member and global counters of the periods holding `reserved_at_us` (the time
// check_redemption allowed it) go down by `quantity`, never below 0. A cancelled order so frees
// its per-member and global limit as well as its stock. Only counters that change are returned;
// `current` holds (at least) the values of redemption_counters(item, member, reserved_at_us).
Counters give_back_updates(const Item& item, MemberId member, std::int64_t quantity,
                           TimeUs reserved_at_us, const rules::Program& program,
                           const Counters& current);

// ---- Shipping ---------------------------------------------------------------------------------

struct ShippingAddress {
  std::string name;         // 1..128 characters, required
  std::string phone;        // optional: 4..32 of digits, spaces, + - ( ), at least 4 digits
  std::string line1;        // 1..200, required
  std::string line2;        // optional, 1..200
  std::string city;         // 1..100, required
  std::string region;       // optional, 1..100
  std::string postal_code;  // 1..16, required
  std::string country;      // ISO 3166-1 alpha-2, two upper-case letters, required
  friend bool operator==(const ShippingAddress&, const ShippingAddress&) = default;
};

// Reads the address object at `path` ("" for a whole document, else e.g. "shipping_address");
// nullopt with every problem appended to `errors` (paths "shipping_address.city", ...). No field
// may hold control characters; required fields may not be blank.
std::optional<ShippingAddress> read_shipping_address(const nlohmann::json& value, std::string path,
                                                     std::vector<FieldError>& errors);
// Optional fields are left out when empty.
nlohmann::json to_json(const ShippingAddress& address);
// Reads what to_json wrote (e.g. a stored order); nullopt when it is not a valid address.
std::optional<ShippingAddress> address_from_json(const nlohmann::json& value);

}  // namespace pointsmall::mall
