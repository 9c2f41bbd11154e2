// The points mall's coupons as plain values and pure functions: the merchant's coupon templates
// (read from and written to JSON documents), issued and pooled coupons (their storage form),
// coupon codes, pool imports from CSV, and the check of one coupon against an order at checkout.
// Nothing here reads a clock, a file or a random source: times and random bytes are passed in.
//
// Money is in integer minor units of its currency; times are UTC microseconds since the epoch.
//
// Invariants of a Coupon (coupon_from_json refuses a stored coupon that breaks one):
//   1. state == available exactly when member_id == 0: a pool code nobody holds. Issued and
//      redeemed coupons belong to one member (a pool code is assigned to whoever redeems it).
//   2. state == redeemed exactly when order_id and discount_currency are not empty;
//      redeemed_at_us and discount_minor are 0 unless the coupon is redeemed, and discount_minor
//      is never negative.
//   3. valid_from_us < valid_until_us. A coupon is expired from valid_until_us on; expiry is not
//      a state.
//   4. code is canonical (normalize_imported_code(code) == code), template_id is a template id
//      ([a-z0-9_-], 1..64) and source is one of kCouponSources.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json_fields.h"
#include "core/types.h"

namespace pointsmall::mall {

// ---- Templates ---------------------------------------------------------------------------------

enum class BenefitKind : std::uint8_t { fixed_amount, percent, free_shipping, free_item };

// What a coupon takes off. Only the members of its kind are set; the others keep their defaults.
struct CouponBenefit {
  BenefitKind kind = BenefitKind::fixed_amount;
  MinorUnits amount_minor = 0;              // fixed_amount: 1..10^12
  std::int64_t percent = 0;                 // percent: 1..100
  std::optional<MinorUnits> max_off_minor;  // percent: the most it takes off, when set
  std::string sku;                          // free_item: the item given free, 1..64 characters
  friend bool operator==(const CouponBenefit&, const CouponBenefit&) = default;
};

// Which items of an order a coupon is about. Empty lists: the whole order. Otherwise an item is
// in scope when its sku is in `skus` or its category is in `categories` (either list may match).
struct CouponScope {
  std::vector<std::string> skus;        // at most 200, each 1..64 characters
  std::vector<std::string> categories;  // at most 200, each 1..64 characters
  [[nodiscard]] bool whole_order() const { return skus.empty() && categories.empty(); }
  friend bool operator==(const CouponScope&, const CouponScope&) = default;
};

// When an issued coupon may be used: a fixed window [from_us, until_us) (whole seconds), or,
// when days_after_issue > 0, the days_after_issue days from the moment it is issued.
struct CouponValidity {
  TimeUs from_us = 0;
  TimeUs until_us = 0;
  std::int64_t days_after_issue = 0;  // 1..3650 for a relative window; 0: the fixed window
  friend bool operator==(const CouponValidity&, const CouponValidity&) = default;
};

// A merchant's coupon definition.
struct CouponTemplate {
  std::string id;           // [a-z0-9_-], 1..64
  std::string name;         // 1..128 characters
  std::string description;  // 0..2000 characters; "" is written as no description
  CouponBenefit benefit;
  // The currency of every amount of the template (benefit.amount, benefit.max_off, min_spend);
  // "" when it has none, and then the coupon applies to orders in any currency.
  std::string currency;
  std::optional<MinorUnits> min_spend_minor;  // the least eligible subtotal, 1..10^12, when set
  CouponScope scope;
  CouponValidity validity;
  std::int64_t per_member_cap = 0;  // 0..1,000,000; most coupons one member may hold; 0: no cap
  std::int64_t global_cap = 0;      // 0..100,000,000; most ever issued; 0: no cap
  bool stackable = false;           // may be used together with other stackable coupons
  friend bool operator==(const CouponTemplate&, const CouponTemplate&) = default;
};

// Reads a template document. Returns nullopt and appends to `errors` (each with its field path,
// e.g. "benefit.max_off.currency", "scope.skus[3]", "validity.until") when anything is wrong:
// unknown field, wrong type, value out of range, amounts in different currencies, validity
// without exactly one of {from, until} and days_after_issue. Times are kept to whole seconds.
// Optional fields: description, min_spend, scope, per_member_cap and global_cap (0), stackable
// (false); benefit.max_off.
std::optional<CouponTemplate> read_coupon_template(const nlohmann::json& document,
                                                   std::vector<FieldError>& errors);
// The document read_coupon_template reads back into an equal template: caps and stackable are
// always written; description, min_spend, max_off and each empty scope list only when set.
nlohmann::json to_json(const CouponTemplate& coupon_template);

std::string_view benefit_kind_name(BenefitKind kind);  // "fixed_amount", "percent", ...

// ---- Coupons -----------------------------------------------------------------------------------

enum class CouponState : std::uint8_t {
  available,  // a pool code nobody holds yet
  issued,     // held by a member, not used
  redeemed,   // used on an order
};

inline constexpr std::string_view kCouponSourceRedemption = "redemption";  // bought with points
inline constexpr std::string_view kCouponSourceOperator = "operator";      // granted by staff
inline constexpr std::string_view kCouponSourcePool = "pool";              // imported codes
inline constexpr std::string_view kCouponSources[] = {kCouponSourceRedemption,
                                                      kCouponSourceOperator, kCouponSourcePool};

// One issued or pooled code. See the invariants at the top of this file.
struct Coupon {
  std::string code;  // canonical: as normalize_code or normalize_imported_code return it
  std::string template_id;
  MemberId member_id = 0;  // 0: an unassigned pool code
  CouponState state = CouponState::issued;
  TimeUs issued_at_us = 0;  // when it was issued, or imported for a pool code
  TimeUs valid_from_us = 0;
  TimeUs valid_until_us = 0;      // exclusive
  std::string source;             // one of kCouponSources
  std::string order_id;           // when redeemed
  TimeUs redeemed_at_us = 0;      // when redeemed
  MinorUnits discount_minor = 0;  // taken off the order when redeemed
  std::string discount_currency;  // the order's currency when redeemed; else empty
  friend bool operator==(const Coupon&, const Coupon&) = default;
};

std::string_view coupon_state_name(CouponState state);  // "available", "issued", "redeemed"
std::optional<CouponState> coupon_state_of(std::string_view name);

// The storage form: an object with every member of Coupon under its own name, times and money
// as integers, state by name. coupon_from_json(coupon_to_json(c)) == c.
nlohmann::json coupon_to_json(const Coupon& coupon);
// nullopt when `stored` is not exactly that shape (missing, unknown or mistyped member, unknown
// state or source) or breaks an invariant of Coupon.
std::optional<Coupon> coupon_from_json(const nlohmann::json& stored);

struct CouponWindow {
  TimeUs valid_from_us = 0;
  TimeUs valid_until_us = 0;
};
// The window of a coupon of `coupon_template` issued at `issued_at_us`: the template's fixed
// window, or [issued_at_us, issued_at_us + days_after_issue days) (at most kTimeNever).
CouponWindow issue_validity(const CouponTemplate& coupon_template, TimeUs issued_at_us);

// ---- Codes -------------------------------------------------------------------------------------
//
// Two kinds of code:
//  - Generated codes are ours: 16 symbols of the alphabet below carrying 80 random bits, then a
//    Luhn mod 32 check symbol, shown as "XXXX-XXXX-XXXX-XXXX-C". normalize_code reads them as
//    people type them and refuses a typo before any lookup: every single wrong symbol, and every
//    swap of two neighbouring symbols except 0 <-> Z (the one swap Luhn mod N cannot see).
//  - Imported codes are the merchant's own (pool CSVs): any 4..64 of A-Z, 0-9, '-' and '_',
//    with no check symbol. normalize_imported_code reads them; it also reads a generated code
//    exactly as normalize_code does, so it is the one to use to look up any typed code.

// Crockford's base 32 alphabet: no I, L, O or U.
inline constexpr std::string_view kCodeAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
inline constexpr std::size_t kCodeSymbols = 16;      // random symbols, 5 bits each
inline constexpr std::size_t kCodeRandomBytes = 10;  // 80 bits
inline constexpr std::size_t kCodeLength = 21;       // "XXXX-XXXX-XXXX-XXXX-C"
inline constexpr std::size_t kImportedCodeLengthMin = 4;
inline constexpr std::size_t kImportedCodeLengthMax = 64;

// A new code from kCodeRandomBytes bytes written by `random_bytes(buffer, size)` (which must fill
// the whole buffer with uniformly random bytes, e.g. from a CSPRNG).
std::string generate_code(const std::function<void(std::uint8_t*, std::size_t)>& random_bytes);
// The canonical form of a generated code as typed: upper-cased, spaces and dashes dropped, O read
// as 0 and I and L as 1, regrouped. nullopt when the symbols are not 17 of the alphabet or the
// check symbol does not match.
std::optional<std::string> normalize_code(std::string_view typed);
// The canonical form of an imported code: normalize_code's answer when it has one; otherwise
// `typed` without surrounding spaces and tabs, upper-cased, when that is 4..64 of A-Z, 0-9, '-'
// and '_' (dashes are kept); otherwise nullopt.
std::optional<std::string> normalize_imported_code(std::string_view typed);

// ---- Pool imports ------------------------------------------------------------------------------

// Stable reasons of a rejected row.
inline constexpr std::string_view kRowEmptyCode = "empty_code";      // no code in the row
inline constexpr std::string_view kRowInvalidCode = "invalid_code";  // not a code (see above)
// A quote inside an unquoted field, or text after a closing quote.
inline constexpr std::string_view kRowMalformed = "malformed_row";

struct PoolRejectedRow {
  std::size_t line = 0;  // 1-based line of the file where the row starts
  std::string code;      // the code cell as it was in the file
  std::string reason;    // one of kRowEmptyCode, kRowInvalidCode, kRowMalformed
};
struct PoolDuplicate {
  std::size_t line = 0;        // the repeating row
  std::string code;            // normalized
  std::size_t first_line = 0;  // the row it repeats
};
struct PoolImport {
  std::vector<std::string> codes;  // normalized, distinct, in file order
  std::vector<PoolRejectedRow> rejected;
  std::vector<PoolDuplicate> duplicates;
  // Not empty when the file cannot be used at all; then the lists above are empty.
  std::string error;
};

// Reads a CSV of pool codes. The first line is a header with exactly one column named "code"
// (any case, surrounding spaces ignored); other columns are ignored. Fields may be quoted, with
// "" for a quote and line breaks inside quotes; lines end in LF or CRLF; a leading UTF-8 BOM is
// skipped; empty lines at the end are ignored (an empty line elsewhere is a row with no code).
// `error` is set when there is no header, no or more than one code column, an unclosed quote,
// or more than `max_rows` rows after the header.
PoolImport parse_coupon_pool_csv(std::string_view text, std::size_t max_rows = 100000);

// ---- Checkout ----------------------------------------------------------------------------------

struct CheckoutItem {
  std::string sku;
  std::string category;
  std::int64_t quantity = 0;  // lines with quantity <= 0 count as absent
  MinorUnits unit_price_minor = 0;
};
struct CheckoutOrder {
  // What the customer pays before this coupon; for a coupon used after others, what remains
  // after their discounts, so that stacked discounts never add up to more than the order.
  MinorUnits amount_minor = 0;
  std::string currency;
  MinorUnits shipping_minor = 0;
  std::vector<CheckoutItem> items;
};

// Problems of check_coupon, stable names, in the order they are checked.
inline constexpr std::string_view kCouponUsed = "coupon_used";
inline constexpr std::string_view kCouponNotYours = "coupon_not_yours";
inline constexpr std::string_view kCouponNotYetValid = "coupon_not_yet_valid";
inline constexpr std::string_view kCouponExpired = "coupon_expired";
inline constexpr std::string_view kCouponWrongCurrency = "coupon_wrong_currency";
inline constexpr std::string_view kCouponNotStackable = "coupon_not_stackable";
inline constexpr std::string_view kCouponNotApplicable = "coupon_not_applicable";
inline constexpr std::string_view kCouponBelowMinimumSpend = "coupon_below_minimum_spend";

struct CouponCheck {
  std::string problem;             // empty: the coupon applies; otherwise one of the names above
  std::string detail;              // for people, with a problem: why, and what would help
  MinorUnits discount_minor = 0;   // what it takes off, 1..order.amount_minor; 0 with a problem
  MinorUnits shortfall_minor = 0;  // coupon_below_minimum_spend: eligible spend still needed
};

// Whether `coupon` (of `coupon_template`, whose id is coupon.template_id) can be used by `member`
// on `order` at `now_us`, next to the coupons of `already_applied`, and what it takes off.
// Eligible subtotal: the order amount for a whole-order coupon; otherwise the sum of the in-scope
// items' quantity * unit_price_minor; never more than order.amount_minor. Discounts:
// fixed_amount min(amount, eligible); percent floor(eligible * percent / 100), at most max_off;
// free_shipping the order's shipping; free_item the lowest unit price among the order's lines of
// that sku; each at most order.amount_minor. A coupon that would take nothing off is
// coupon_not_applicable. Exact for all amounts (no overflow).
CouponCheck check_coupon(const CouponTemplate& coupon_template, const Coupon& coupon,
                         MemberId member, const CheckoutOrder& order,
                         const std::vector<const CouponTemplate*>& already_applied, TimeUs now_us);

}  // namespace pointsmall::mall
