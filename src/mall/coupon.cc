// Coupons: template documents, the storage form of coupons, codes, pool CSVs and the checkout
// check. Pure: the results depend only on the arguments (no I/O, no clock, no randomness of its
// own).
#include "mall/coupon.h"

#include <algorithm>
#include <array>
#include <iterator>
#include <unordered_map>
#include <utility>

#include "core/time_zone.h"

namespace pointsmall::mall {
namespace {

using nlohmann::json;

__extension__ using Int128 = __int128;  // products of prices and quantities exceed 64 bits

// Limits of a template document.
constexpr std::size_t kMaxNameLength = 128;
constexpr std::size_t kMaxDescriptionLength = 2000;
constexpr std::size_t kMaxScopeEntries = 200;
constexpr std::size_t kMaxItemTextLength = 64;  // skus and categories
constexpr std::int64_t kMaxPercent = 100;
constexpr std::int64_t kMaxDaysAfterIssue = 3650;
constexpr std::int64_t kMaxPerMemberCap = 1'000'000;
constexpr std::int64_t kMaxGlobalCap = 100'000'000;

constexpr std::int64_t kAlphabetSize = 32;
constexpr std::size_t kCodeGroup = 4;  // symbols between dashes

constexpr std::array<std::string_view, 4> kBenefitKindNames = {"fixed_amount", "percent",
                                                               "free_shipping", "free_item"};
constexpr std::array<std::string_view, 3> kCouponStateNames = {"available", "issued", "redeemed"};

bool contains(const std::vector<std::string_view>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

bool is_id(std::string_view text) {
  return id_problem(text).empty();
}

// ---- Reading templates ---------------------------------------------------------------------

// An id. A text that is not one gets the one message "must use only a-z, 0-9, _ and -" once
// Fields::text has checked its length (Fields::id words one of over 64 bytes otherwise).
std::optional<std::string> read_id(Fields& object, std::string_view name) {
  auto id = object.text(name, TextRule{.required = true, .max_length = kMaxIdLength});
  if (!id || is_id(*id)) return id;
  object.error(name, "must use only a-z, 0-9, _ and -");
  return std::nullopt;
}

// The optional array `name` of 1..64-character texts, at most kMaxScopeEntries of them; each bad
// element is an error at "name[i]".
std::vector<std::string> read_texts(Fields& object, std::string_view name) {
  return object.texts(name, kMaxScopeEntries, [](std::string_view text) {
    return text_problem(text, TextRule{.max_length = kMaxItemTextLength});
  });
}

// An amount of money seen in the document, for the one-currency check.
struct AmountSeen {
  std::string path;  // of the money object, e.g. "benefit.amount"
  std::string currency;
};

std::optional<MinorUnits> read_money(Fields& object, std::string_view name, bool required,
                                     std::vector<AmountSeen>& amounts) {
  auto money = object.money(name, required, 1);
  if (!money) return std::nullopt;
  amounts.push_back({object.path_of(name), money->currency});
  return money->amount;
}

// The currency of the first amount; an error at "<path>.currency" for every other amount in
// another currency.
std::string one_currency(const std::vector<AmountSeen>& amounts, std::vector<FieldError>& errors) {
  if (amounts.empty()) return "";
  const AmountSeen& first = amounts.front();
  for (const AmountSeen& amount : amounts) {
    if (amount.currency == first.currency) continue;
    errors.push_back({amount.path + ".currency", "must be " + first.currency +
                                                     ", the currency of " + first.path +
                                                     " (one currency per coupon)"});
  }
  return first.currency;
}

// The fields a benefit of each kind may have (indexed by BenefitKind).
const std::array<std::vector<std::string_view>, 4>& benefit_fields() {
  static const std::array<std::vector<std::string_view>, 4> fields = {{
      {"kind", "amount"},
      {"kind", "percent", "max_off"},
      {"kind"},
      {"kind", "sku"},
  }};
  return fields;
}

void reject_foreign_benefit_fields(Fields& benefit, std::optional<BenefitKind> kind) {
  const std::vector<std::string_view> all = {"kind", "amount", "percent", "max_off", "sku"};
  for (const auto& member : benefit.members().items()) {
    const std::string& name = member.key();
    if (!contains(all, name)) {
      benefit.error(name, "is not a known field; a benefit has " + join(all));
      continue;
    }
    if (!kind) continue;
    const auto& allowed = benefit_fields()[static_cast<std::size_t>(*kind)];
    if (!contains(allowed, name)) {
      benefit.error(name, "does not apply to a " + std::string(benefit_kind_name(*kind)) +
                              " benefit; it has " + join(allowed));
    }
  }
}

std::optional<CouponBenefit> read_benefit(Fields& parent, std::vector<AmountSeen>& amounts) {
  auto object = parent.object("benefit", true);
  if (!object) return std::nullopt;
  const std::size_t before = object->errors().size();
  CouponBenefit benefit;
  const auto kind = object->choice<BenefitKind>("kind", true, kBenefitKindNames);
  if (kind) benefit.kind = *kind;
  if (kind == BenefitKind::fixed_amount) {
    benefit.amount_minor = read_money(*object, "amount", true, amounts).value_or(0);
  } else if (kind == BenefitKind::percent) {
    benefit.percent = object->integer("percent", true, 1, kMaxPercent).value_or(0);
    benefit.max_off_minor = read_money(*object, "max_off", false, amounts);
  } else if (kind == BenefitKind::free_item) {
    benefit.sku = object->text("sku", TextRule{.required = true, .max_length = kMaxItemTextLength})
                      .value_or("");
  }
  reject_foreign_benefit_fields(*object, kind);
  if (object->errors().size() != before || !kind) return std::nullopt;
  return benefit;
}

CouponScope read_scope(Fields& parent) {
  auto object = parent.object("scope", false);
  if (!object) return {};
  CouponScope scope;
  scope.skus = read_texts(*object, "skus");
  scope.categories = read_texts(*object, "categories");
  object->reject_unknown({"skus", "categories"});
  return scope;
}

std::optional<CouponValidity> read_validity(Fields& parent) {
  auto object = parent.object("validity", true);
  if (!object) return std::nullopt;
  const std::size_t before = object->errors().size();
  CouponValidity validity;
  const bool window = object->has("from") || object->has("until");
  const bool relative = object->has("days_after_issue");
  if (window && relative) {
    parent.error("validity", "must have either from and until, or days_after_issue, not both");
  } else if (!window && !relative) {
    parent.error("validity", "must have from and until, or days_after_issue");
  } else if (relative) {
    validity.days_after_issue =
        object->integer("days_after_issue", true, 1, kMaxDaysAfterIssue).value_or(0);
  } else {
    // Times of the fixed window are kept to whole seconds, as to_json writes them.
    const auto from = object->whole_second_time("from", true);
    const auto until = object->whole_second_time("until", true);
    if (from && until && *until <= *from)
      object->error("until", "must be after from (" + format_rfc3339_utc(*from) + ")");
    validity.from_us = from.value_or(0);
    validity.until_us = until.value_or(0);
  }
  object->reject_unknown({"from", "until", "days_after_issue"});
  if (object->errors().size() != before) return std::nullopt;
  return validity;
}

// ---- Writing templates ---------------------------------------------------------------------

json money_json(MinorUnits amount_minor, const std::string& currency) {
  return {{"amount", amount_minor}, {"currency", currency}};
}

json benefit_json(const CouponTemplate& coupon_template) {
  const CouponBenefit& benefit = coupon_template.benefit;
  json out = {{"kind", benefit_kind_name(benefit.kind)}};
  switch (benefit.kind) {
    case BenefitKind::fixed_amount:
      out["amount"] = money_json(benefit.amount_minor, coupon_template.currency);
      break;
    case BenefitKind::percent:
      out["percent"] = benefit.percent;
      if (benefit.max_off_minor)
        out["max_off"] = money_json(*benefit.max_off_minor, coupon_template.currency);
      break;
    case BenefitKind::free_shipping:
      break;
    case BenefitKind::free_item:
      out["sku"] = benefit.sku;
      break;
  }
  return out;
}

json validity_json(const CouponValidity& validity) {
  if (validity.days_after_issue > 0) return {{"days_after_issue", validity.days_after_issue}};
  return {{"from", format_rfc3339_utc(validity.from_us)},
          {"until", format_rfc3339_utc(validity.until_us)}};
}

// ---- Codes ---------------------------------------------------------------------------------

// The value 0..31 of an upper-case symbol of the alphabet, or -1.
std::int64_t symbol_value(char symbol) {
  const std::size_t index = kCodeAlphabet.find(symbol);
  return index == std::string_view::npos ? -1 : static_cast<std::int64_t>(index);
}

// Luhn mod N (N = 32) over `symbols`: the symbol that makes the weighted sum a multiple of 32
// (weights 2, 1, 2, ... from the right, each product's base-32 digits summed).
char check_symbol(std::string_view symbols) {
  std::int64_t factor = 2;
  std::int64_t sum = 0;
  for (auto it = symbols.rbegin(); it != symbols.rend(); ++it) {
    const std::int64_t addend = factor * symbol_value(*it);
    sum += addend / kAlphabetSize + addend % kAlphabetSize;
    factor = factor == 2 ? 1 : 2;
  }
  const std::int64_t check = (kAlphabetSize - sum % kAlphabetSize) % kAlphabetSize;
  return kCodeAlphabet[static_cast<std::size_t>(check)];
}

// "XXXX-XXXX-XXXX-XXXX-C" from the 17 symbols.
std::string grouped(std::string_view symbols) {
  std::string code;
  code.reserve(kCodeLength);
  for (std::size_t i = 0; i < symbols.size(); ++i) {
    if (i > 0 && i % kCodeGroup == 0) code += '-';
    code += symbols[i];
  }
  return code;
}

char upper_case(char c) {
  return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
}

// How people misread Crockford symbols: O is 0, I and L are 1.
char crockford_symbol(char c) {
  const char upper = upper_case(c);
  if (upper == 'O') return '0';
  if (upper == 'I' || upper == 'L') return '1';
  return upper;
}

std::string_view trimmed(std::string_view text) {
  const auto space = [](char c) { return c == ' ' || c == '\t'; };
  while (!text.empty() && space(text.front())) text.remove_prefix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  return text;
}

// ---- Coupon storage ------------------------------------------------------------------------

constexpr std::array<std::string_view, 12> kCouponMembers = {
    "code",         "template_id",    "member_id",      "state",
    "issued_at_us", "valid_from_us",  "valid_until_us", "source",
    "order_id",     "redeemed_at_us", "discount_minor", "discount_currency"};

bool stored_text(const json& stored, std::string_view name, std::string& out) {
  const auto it = stored.find(name);
  if (it == stored.end() || !it->is_string()) return false;
  out = it->get<std::string>();
  return true;
}

bool stored_integer(const json& stored, std::string_view name, std::int64_t& out) {
  const auto it = stored.find(name);
  if (it == stored.end()) return false;
  const auto number = int64_of(*it);
  if (!number) return false;
  out = *number;
  return true;
}

// The invariants stated in coupon.h.
bool keeps_invariants(const Coupon& coupon) {
  const bool redeemed = coupon.state == CouponState::redeemed;
  const bool sound_code = normalize_imported_code(coupon.code) == coupon.code;
  const bool sound_member =
      coupon.member_id >= 0 && (coupon.state == CouponState::available) == (coupon.member_id == 0);
  const bool sound_redemption =
      redeemed == !coupon.order_id.empty() && coupon.discount_minor >= 0 &&
      redeemed == !coupon.discount_currency.empty() &&
      (redeemed || (coupon.redeemed_at_us == 0 && coupon.discount_minor == 0));
  const bool sound_source = std::find(std::begin(kCouponSources), std::end(kCouponSources),
                                      coupon.source) != std::end(kCouponSources);
  return sound_code && is_id(coupon.template_id) && sound_member && sound_redemption &&
         sound_source && coupon.valid_from_us < coupon.valid_until_us;
}

// ---- Pool CSV ------------------------------------------------------------------------------

struct CsvRecord {
  std::size_t line = 0;  // where the record starts, 1-based
  std::vector<std::string> fields;
  bool quoted = false;     // some field was quoted
  bool malformed = false;  // a quote inside an unquoted field, or text after a closing quote
  [[nodiscard]] bool blank() const {
    return !quoted && fields.size() == 1 && fields.front().empty();
  }
};

// Reads RFC 4180 records one at a time: fields separated by commas, quoted fields with "" for a
// quote and line breaks inside, records ending in LF or CRLF.
class CsvReader {
 public:
  explicit CsvReader(std::string_view text) : text_(text) {}

  // The next record into `record`; false at the end of the text.
  bool next(CsvRecord& record);
  // True when the text ended inside a quoted field (the last record is then incomplete).
  [[nodiscard]] bool unclosed_quote() const { return unclosed_quote_; }

 private:
  [[nodiscard]] bool at(char c) const { return position_ < text_.size() && text_[position_] == c; }
  // Reads the rest of a quoted field into `field`; the opening quote has been read.
  void read_quoted(std::string& field, CsvRecord& record);

  std::string_view text_;
  std::size_t position_ = 0;
  std::size_t line_ = 1;
  bool unclosed_quote_ = false;
};

void CsvReader::read_quoted(std::string& field, CsvRecord& record) {
  record.quoted = true;
  while (position_ < text_.size()) {
    const char c = text_[position_++];
    if (c == '"') {
      if (!at('"')) return;
      ++position_;
    } else if (c == '\n') {
      ++line_;
    }
    field += c;
  }
  unclosed_quote_ = true;
}

bool CsvReader::next(CsvRecord& record) {
  if (position_ >= text_.size()) return false;
  record = CsvRecord{.line = line_};
  std::string field;
  enum class FieldState : std::uint8_t { empty, unquoted, closed } state = FieldState::empty;
  while (position_ < text_.size()) {
    const char c = text_[position_++];
    if (c == '\n' || (c == '\r' && at('\n'))) {
      if (c == '\r') ++position_;
      ++line_;
      break;
    }
    if (c == ',') {
      record.fields.push_back(std::move(field));
      field.clear();
      state = FieldState::empty;
      continue;
    }
    if (c == '"' && state == FieldState::empty) {
      read_quoted(field, record);
      state = FieldState::closed;
      continue;
    }
    if (c == '"' || state == FieldState::closed) record.malformed = true;
    if (state == FieldState::empty) state = FieldState::unquoted;
    field += c;
  }
  record.fields.push_back(std::move(field));
  return true;
}

// The one "code" column of a header (any case, surrounding spaces ignored), or why there is none.
struct CodeColumn {
  std::size_t index = 0;
  std::string error;
};

CodeColumn code_column(const CsvRecord& header) {
  std::optional<std::size_t> found;
  for (std::size_t i = 0; i < header.fields.size(); ++i) {
    std::string name(trimmed(header.fields[i]));
    std::transform(name.begin(), name.end(), name.begin(), upper_case);
    if (name != "CODE") continue;
    if (found) return {0, "the header (line 1) has more than one code column"};
    found = i;
  }
  if (!found) return {0, "the header (line 1) has no code column"};
  return {*found, ""};
}

PoolImport unusable(std::string error) {
  return PoolImport{.error = std::move(error)};
}

std::string unclosed_quote_error(std::size_t line) {
  return "line " + std::to_string(line) + ": a quoted field is not closed";
}

// The rows of a pool file read so far, and the first line of each code.
struct PoolRows {
  PoolImport result;
  std::unordered_map<std::string, std::size_t> first_lines;

  void reject(std::size_t line, std::string code, std::string_view reason) {
    result.rejected.push_back({line, std::move(code), std::string(reason)});
  }
  void add(const CsvRecord& record, std::size_t column) {
    std::string cell = column < record.fields.size() ? record.fields[column] : "";
    if (record.malformed) return reject(record.line, std::move(cell), kRowMalformed);
    if (trimmed(cell).empty()) return reject(record.line, std::move(cell), kRowEmptyCode);
    auto code = normalize_imported_code(cell);
    if (!code) return reject(record.line, std::move(cell), kRowInvalidCode);
    const auto [it, first] = first_lines.emplace(*code, record.line);
    if (!first) {
      result.duplicates.push_back({record.line, std::move(*code), it->second});
      return;
    }
    result.codes.push_back(std::move(*code));
  }
};

// ---- Checkout ------------------------------------------------------------------------------

CouponCheck refused(std::string_view problem, std::string detail) {
  return CouponCheck{.problem = std::string(problem), .detail = std::move(detail)};
}

bool listed(const std::vector<std::string>& list, const std::string& text) {
  return std::find(list.begin(), list.end(), text) != list.end();
}

bool in_scope(const CouponScope& scope, const CheckoutItem& item) {
  return item.quantity > 0 &&
         (listed(scope.skus, item.sku) || listed(scope.categories, item.category));
}

// The eligible subtotal (see check_coupon); nullopt when the scope matches no item.
std::optional<MinorUnits> eligible_subtotal(const CouponScope& scope, const CheckoutOrder& order) {
  const MinorUnits amount_minor = std::max<MinorUnits>(order.amount_minor, 0);
  if (scope.whole_order()) return amount_minor;
  bool matched = false;
  // Lines are added only while the sum is below the amount, so it stays below the amount plus
  // one line's product: far from the limit of Int128.
  Int128 sum_minor = 0;
  for (const CheckoutItem& item : order.items) {
    if (!in_scope(scope, item)) continue;
    matched = true;
    if (sum_minor < amount_minor) {
      sum_minor +=
          static_cast<Int128>(item.quantity) * std::max<MinorUnits>(item.unit_price_minor, 0);
    }
  }
  if (!matched) return std::nullopt;
  return static_cast<MinorUnits>(std::min<Int128>(sum_minor, amount_minor));
}

// The lowest unit price of the order's lines of `sku`; nullopt when it has none.
std::optional<MinorUnits> lowest_unit_price(const CheckoutOrder& order, const std::string& sku) {
  std::optional<MinorUnits> lowest_minor;
  for (const CheckoutItem& item : order.items) {
    if (item.quantity <= 0 || item.sku != sku) continue;
    const MinorUnits price_minor = std::max<MinorUnits>(item.unit_price_minor, 0);
    lowest_minor = lowest_minor ? std::min(*lowest_minor, price_minor) : price_minor;
  }
  return lowest_minor;
}

// What `benefit` takes off, before the cap at the order amount. `eligible_minor` >= 0.
MinorUnits raw_discount(const CouponBenefit& benefit, MinorUnits eligible_minor,
                        MinorUnits free_item_price_minor, const CheckoutOrder& order) {
  switch (benefit.kind) {
    case BenefitKind::fixed_amount:
      return std::min(benefit.amount_minor, eligible_minor);
    case BenefitKind::percent: {
      // Non-negative, so the division rounds down.
      const auto off_minor = static_cast<MinorUnits>(static_cast<Int128>(eligible_minor) *
                                                     benefit.percent / kMaxPercent);
      return benefit.max_off_minor ? std::min(off_minor, *benefit.max_off_minor) : off_minor;
    }
    case BenefitKind::free_shipping:
      return order.shipping_minor;
    case BenefitKind::free_item:
      return free_item_price_minor;
  }
  return 0;
}

// coupon_used, coupon_not_yours, coupon_not_yet_valid, coupon_expired, in that order.
std::optional<CouponCheck> holding_problem(const Coupon& coupon, MemberId member, TimeUs now_us) {
  if (coupon.state == CouponState::redeemed)
    return refused(kCouponUsed, "This coupon was already used, on order " + coupon.order_id + ".");
  if (coupon.member_id != 0 && coupon.member_id != member)
    return refused(kCouponNotYours, "This coupon belongs to another member.");
  if (now_us < coupon.valid_from_us) {
    return refused(kCouponNotYetValid, "This coupon can be used from " +
                                           format_rfc3339_utc(coupon.valid_from_us) + ".");
  }
  if (now_us >= coupon.valid_until_us) {
    return refused(kCouponExpired,
                   "This coupon expired at " + format_rfc3339_utc(coupon.valid_until_us) + ".");
  }
  return std::nullopt;
}

std::optional<CouponCheck> stacking_problem(
    const CouponTemplate& coupon_template,
    const std::vector<const CouponTemplate*>& already_applied) {
  if (!coupon_template.stackable && !already_applied.empty()) {
    return refused(kCouponNotStackable,
                   "This coupon cannot be combined with other coupons, and the order has one.");
  }
  for (const CouponTemplate* applied : already_applied) {
    if (applied == nullptr || applied->stackable) continue;
    return refused(kCouponNotStackable,
                   "The coupon \"" + applied->name +
                       "\" already on this order cannot be combined with other coupons.");
  }
  return std::nullopt;
}

CouponCheck below_minimum(const CouponTemplate& coupon_template, MinorUnits eligible_minor) {
  const MinorUnits minimum_minor = coupon_template.min_spend_minor.value_or(0);
  CouponCheck check = refused(kCouponBelowMinimumSpend,
                              "The eligible items come to " + std::to_string(eligible_minor) +
                                  " and this coupon needs " + std::to_string(minimum_minor) +
                                  " (minor units of " + coupon_template.currency + "): spend " +
                                  std::to_string(minimum_minor - eligible_minor) + " more.");
  check.shortfall_minor = minimum_minor - eligible_minor;
  return check;
}

// coupon_not_applicable, coupon_below_minimum_spend, or the discount.
CouponCheck amount_check(const CouponTemplate& coupon_template, const CheckoutOrder& order) {
  const auto eligible_minor = eligible_subtotal(coupon_template.scope, order);
  if (!eligible_minor)
    return refused(kCouponNotApplicable, "None of the order's items is one this coupon is for.");
  const CouponBenefit& benefit = coupon_template.benefit;
  std::optional<MinorUnits> item_price_minor;
  if (benefit.kind == BenefitKind::free_item) {
    item_price_minor = lowest_unit_price(order, benefit.sku);
    if (!item_price_minor) {
      return refused(kCouponNotApplicable,
                     "The order has no " + benefit.sku + " for this coupon to make free.");
    }
  }
  const MinorUnits discount_minor =
      std::min(raw_discount(benefit, *eligible_minor, item_price_minor.value_or(0), order),
               std::max<MinorUnits>(order.amount_minor, 0));
  if (discount_minor <= 0)
    return refused(kCouponNotApplicable, "This coupon takes nothing off this order.");
  if (*eligible_minor < coupon_template.min_spend_minor.value_or(0))
    return below_minimum(coupon_template, *eligible_minor);
  return CouponCheck{.discount_minor = discount_minor};
}

}  // namespace

// ---- Templates -----------------------------------------------------------------------------

std::string_view benefit_kind_name(BenefitKind kind) {
  return enum_name(kBenefitKindNames, kind);
}

std::optional<CouponTemplate> read_coupon_template(const json& document,
                                                   std::vector<FieldError>& errors) {
  if (!document.is_object()) {
    errors.push_back({"", "must be a JSON object, not " + json_type_name(document)});
    return std::nullopt;
  }
  const std::size_t before = errors.size();
  Fields object(document, "", errors);
  CouponTemplate coupon_template;
  std::vector<AmountSeen> amounts;
  auto id = read_id(object, "id");
  auto name = object.text("name", TextRule{.required = true, .max_length = kMaxNameLength});
  auto description =
      object.text("description", TextRule{.min_length = 0, .max_length = kMaxDescriptionLength});
  auto benefit = read_benefit(object, amounts);
  coupon_template.min_spend_minor = read_money(object, "min_spend", false, amounts);
  coupon_template.scope = read_scope(object);
  auto validity = read_validity(object);
  coupon_template.per_member_cap =
      object.integer("per_member_cap", false, 0, kMaxPerMemberCap).value_or(0);
  coupon_template.global_cap = object.integer("global_cap", false, 0, kMaxGlobalCap).value_or(0);
  coupon_template.stackable = object.boolean("stackable", false);
  coupon_template.currency = one_currency(amounts, errors);
  object.reject_unknown({"id", "name", "description", "benefit", "min_spend", "scope", "validity",
                         "per_member_cap", "global_cap", "stackable"});
  if (errors.size() != before || !id || !name || !benefit || !validity) return std::nullopt;
  coupon_template.id = std::move(*id);
  coupon_template.name = std::move(*name);
  coupon_template.description = std::move(description).value_or("");
  coupon_template.benefit = std::move(*benefit);
  coupon_template.validity = *validity;
  return coupon_template;
}

json to_json(const CouponTemplate& coupon_template) {
  json out = {{"id", coupon_template.id},
              {"name", coupon_template.name},
              {"benefit", benefit_json(coupon_template)},
              {"validity", validity_json(coupon_template.validity)},
              {"per_member_cap", coupon_template.per_member_cap},
              {"global_cap", coupon_template.global_cap},
              {"stackable", coupon_template.stackable}};
  if (!coupon_template.description.empty()) out["description"] = coupon_template.description;
  if (coupon_template.min_spend_minor)
    out["min_spend"] = money_json(*coupon_template.min_spend_minor, coupon_template.currency);
  const CouponScope& scope = coupon_template.scope;
  if (!scope.whole_order()) {
    json scope_json = json::object();
    if (!scope.skus.empty()) scope_json["skus"] = scope.skus;
    if (!scope.categories.empty()) scope_json["categories"] = scope.categories;
    out["scope"] = std::move(scope_json);
  }
  return out;
}

// ---- Coupons -------------------------------------------------------------------------------

std::string_view coupon_state_name(CouponState state) {
  return enum_name(kCouponStateNames, state);
}

std::optional<CouponState> coupon_state_of(std::string_view name) {
  return enum_value<CouponState>(kCouponStateNames, name);
}

json coupon_to_json(const Coupon& coupon) {
  return {{"code", coupon.code},
          {"template_id", coupon.template_id},
          {"member_id", coupon.member_id},
          {"state", coupon_state_name(coupon.state)},
          {"issued_at_us", coupon.issued_at_us},
          {"valid_from_us", coupon.valid_from_us},
          {"valid_until_us", coupon.valid_until_us},
          {"source", coupon.source},
          {"order_id", coupon.order_id},
          {"redeemed_at_us", coupon.redeemed_at_us},
          {"discount_minor", coupon.discount_minor},
          {"discount_currency", coupon.discount_currency}};
}

std::optional<Coupon> coupon_from_json(const json& stored) {
  // With exactly this many members, all of them present (checked below) means none unknown.
  if (!stored.is_object() || stored.size() != kCouponMembers.size()) return std::nullopt;
  Coupon coupon;
  std::string state;
  const bool complete = stored_text(stored, "code", coupon.code) &&
                        stored_text(stored, "template_id", coupon.template_id) &&
                        stored_integer(stored, "member_id", coupon.member_id) &&
                        stored_text(stored, "state", state) &&
                        stored_integer(stored, "issued_at_us", coupon.issued_at_us) &&
                        stored_integer(stored, "valid_from_us", coupon.valid_from_us) &&
                        stored_integer(stored, "valid_until_us", coupon.valid_until_us) &&
                        stored_text(stored, "source", coupon.source) &&
                        stored_text(stored, "order_id", coupon.order_id) &&
                        stored_integer(stored, "redeemed_at_us", coupon.redeemed_at_us) &&
                        stored_integer(stored, "discount_minor", coupon.discount_minor) &&
                        stored_text(stored, "discount_currency", coupon.discount_currency);
  if (!complete) return std::nullopt;
  const auto parsed_state = coupon_state_of(state);
  if (!parsed_state) return std::nullopt;
  coupon.state = *parsed_state;
  if (!keeps_invariants(coupon)) return std::nullopt;
  return coupon;
}

CouponWindow issue_validity(const CouponTemplate& coupon_template, TimeUs issued_at_us) {
  const CouponValidity& validity = coupon_template.validity;
  if (validity.days_after_issue <= 0) return {validity.from_us, validity.until_us};
  const TimeUs length_us = validity.days_after_issue * kMicrosPerDay;
  const TimeUs until_us =
      issued_at_us > kTimeNever - length_us ? kTimeNever : issued_at_us + length_us;
  return {issued_at_us, until_us};
}

// ---- Codes ---------------------------------------------------------------------------------

std::string generate_code(const std::function<void(std::uint8_t*, std::size_t)>& random_bytes) {
  std::array<std::uint8_t, kCodeRandomBytes> bytes{};
  random_bytes(bytes.data(), bytes.size());
  // The 80 bits, most significant first, as 16 symbols of 5 bits each.
  std::string symbols;
  std::uint32_t pending = 0;  // its low `pending_bits` bits are not yet used
  unsigned pending_bits = 0;
  for (const std::uint8_t byte : bytes) {
    pending = ((pending << 8U) | byte) & 0xFFFFU;
    pending_bits += 8;
    while (pending_bits >= 5) {
      pending_bits -= 5;
      symbols += kCodeAlphabet[(pending >> pending_bits) & 0x1FU];
    }
  }
  symbols += check_symbol(symbols);
  return grouped(symbols);
}

std::optional<std::string> normalize_code(std::string_view typed) {
  std::string symbols;
  for (const char c : typed) {
    if (c == ' ' || c == '-') continue;
    const char symbol = crockford_symbol(c);
    if (symbol_value(symbol) < 0 || symbols.size() == kCodeSymbols + 1) return std::nullopt;
    symbols += symbol;
  }
  if (symbols.size() != kCodeSymbols + 1) return std::nullopt;
  if (check_symbol(std::string_view(symbols).substr(0, kCodeSymbols)) != symbols.back())
    return std::nullopt;
  return grouped(symbols);
}

std::optional<std::string> normalize_imported_code(std::string_view typed) {
  if (auto generated = normalize_code(typed)) return generated;
  const std::string_view code = trimmed(typed);
  if (code.size() < kImportedCodeLengthMin || code.size() > kImportedCodeLengthMax)
    return std::nullopt;
  std::string normalized;
  normalized.reserve(code.size());
  for (const char c : code) {
    const char upper = upper_case(c);
    const bool allowed = (upper >= 'A' && upper <= 'Z') || (upper >= '0' && upper <= '9') ||
                         upper == '-' || upper == '_';
    if (!allowed) return std::nullopt;
    normalized += upper;
  }
  return normalized;
}

// ---- Pool imports --------------------------------------------------------------------------

PoolImport parse_coupon_pool_csv(std::string_view text, std::size_t max_rows) {
  constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";
  if (text.starts_with(kByteOrderMark)) text.remove_prefix(kByteOrderMark.size());
  CsvReader reader(text);
  CsvRecord record;
  if (!reader.next(record) || record.blank())
    return unusable("the file has no header: its first line must name the columns, one is code");
  if (reader.unclosed_quote()) return unusable(unclosed_quote_error(record.line));
  const CodeColumn column = code_column(record);
  if (!column.error.empty()) return unusable(column.error);
  PoolRows rows;
  std::size_t row_count = 0;
  // Blank lines read but not yet known to be inside the file (rather than at its end).
  std::size_t blank_first_line = 0;
  std::size_t blank_count = 0;
  while (reader.next(record)) {
    if (reader.unclosed_quote()) return unusable(unclosed_quote_error(record.line));
    if (record.blank()) {
      if (blank_count++ == 0) blank_first_line = record.line;
      continue;
    }
    row_count += blank_count + 1;
    if (row_count > max_rows) {
      return unusable("the file has more than " + std::to_string(max_rows) +
                      " rows after the header; split it");
    }
    for (std::size_t i = 0; i < blank_count; ++i)
      rows.reject(blank_first_line + i, "", kRowEmptyCode);
    blank_count = 0;
    rows.add(record, column.index);
  }
  return std::move(rows.result);
}

// ---- Checkout ------------------------------------------------------------------------------

CouponCheck check_coupon(const CouponTemplate& coupon_template, const Coupon& coupon,
                         MemberId member, const CheckoutOrder& order,
                         const std::vector<const CouponTemplate*>& already_applied, TimeUs now_us) {
  if (auto problem = holding_problem(coupon, member, now_us)) return std::move(*problem);
  if (!coupon_template.currency.empty() && coupon_template.currency != order.currency) {
    return refused(kCouponWrongCurrency, "This coupon is for orders in " +
                                             coupon_template.currency + ", not " + order.currency +
                                             ".");
  }
  if (auto problem = stacking_problem(coupon_template, already_applied)) return std::move(*problem);
  return amount_check(coupon_template, order);
}

}  // namespace pointsmall::mall
