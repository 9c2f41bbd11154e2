// Coupons over the API: issuing to members, importing a pool of codes, the member's wallet, and
// the merchant's checkout (validate, redeem, release). Templates are saved like catalog items
// (mall_routes.cc).

#include <mutex>

#include "api/api.h"
#include "api/json_input.h"
#include "api/mall_render.h"
#include "api/render.h"
#include "api/routes.h"
#include "auth/crypto.h"
#include "mall/service/preparers.h"

namespace pointsmall::api {
namespace {

using mall::Coupon;
using mall::CouponTemplate;

constexpr std::size_t kMaxIssueMembers = 100;
constexpr std::size_t kMaxAppliedCodes = 10;
constexpr std::size_t kMaxCheckoutItems = 500;
constexpr std::size_t kMaxListedPoolProblems = 100;
constexpr MinorUnits kMaxAmountMinor = 1'000'000'000'000;

// The coupon of a typed code, or nullopt.
std::optional<Coupon> find_coupon(const CallPtr& call, const std::string& typed) {
  auto code = mall::normalize_imported_code(typed);
  if (!code) return std::nullopt;
  auto record = call->services.ledger.record({mall::kCouponRecord, *code});
  if (!record) return std::nullopt;
  return mall::coupon_of(*record);
}

Problem unknown_coupon(const std::string& typed) {
  return problem(ApiError::unknown_coupon, "no coupon has the code " + typed);
}

// {"currency", "amount", "shipping", "items": [{"sku", "category", "quantity", "unit_price"}]},
// all money in minor units of `currency`.
std::optional<mall::CheckoutOrder> read_checkout_order(const nlohmann::json& body,
                                                       std::vector<FieldError>& errors) {
  Fields outer(body, "", errors);
  auto found = body.find("order");
  if (found == body.end() || !found->is_object()) {
    outer.error("order", "is required: an object with currency, amount and items");
    return std::nullopt;
  }
  const std::size_t before = errors.size();
  Fields fields(*found, "order", errors);
  mall::CheckoutOrder order;
  auto currency = fields.text("currency", {.required = true, .min_length = 3, .max_length = 3});
  if (currency &&
      !std::all_of(currency->begin(), currency->end(), [](char c) { return c >= 'A' && c <= 'Z'; }))
    fields.error("currency", "must be an ISO 4217 code in capitals, such as GBP");
  if (currency) order.currency = *currency;
  order.amount_minor = fields.integer("amount", true, 0, kMaxAmountMinor).value_or(0);
  order.shipping_minor = fields.integer("shipping", false, 0, kMaxAmountMinor).value_or(0);
  fields.objects("items", false, kMaxCheckoutItems, [&](Fields& item) {
    mall::CheckoutItem line;
    line.sku = item.text("sku", {.required = true, .max_length = 64}).value_or("");
    line.category = item.text("category", {.max_length = 64}).value_or("");
    line.quantity = item.integer("quantity", true, 1, 1'000'000).value_or(0);
    line.unit_price_minor = item.integer("unit_price", true, 0, kMaxAmountMinor).value_or(0);
    item.reject_unknown({"sku", "category", "quantity", "unit_price"});
    order.items.push_back(std::move(line));
  });
  fields.reject_unknown({"currency", "amount", "shipping", "items"});
  if (errors.size() != before) return std::nullopt;
  return order;
}

// The templates of the coupons already on the order ("applied_codes").
std::vector<CouponTemplate> read_applied(const CallPtr& call, const nlohmann::json& body,
                                         const mall::Catalog& catalog,
                                         std::vector<FieldError>& errors) {
  std::vector<CouponTemplate> applied;
  auto found = body.find("applied_codes");
  if (found == body.end()) return applied;
  if (!found->is_array() || found->size() > kMaxAppliedCodes) {
    errors.push_back({"applied_codes", "must be an array of at most 10 codes"});
    return applied;
  }
  for (std::size_t i = 0; i < found->size(); ++i) {
    const std::string field = "applied_codes[" + std::to_string(i) + "]";
    const auto& code = (*found)[i];
    auto coupon = code.is_string() ? find_coupon(call, code.get<std::string>()) : std::nullopt;
    const CouponTemplate* coupon_template =
        coupon ? catalog.coupon_template(coupon->template_id) : nullptr;
    if (coupon_template == nullptr)
      errors.push_back({field, "is not the code of a coupon"});
    else
      applied.push_back(*coupon_template);
  }
  return applied;
}

struct CheckoutInput {
  mall::CouponRequest request;
  std::string typed_code;
};

// The body of validate and redeem: {"code" (validate only), "member_id", "order_id" (redeem
// only), "order", "applied_codes"}.
std::optional<CheckoutInput> read_checkout(const CallPtr& call, const nlohmann::json& body,
                                           const mall::Catalog& catalog, bool redeeming) {
  std::vector<FieldError> errors;
  Fields fields(body, "", errors);
  CheckoutInput input;
  mall::CouponRequest& request = input.request;
  request.action = mall::CouponAction::redeem;
  if (redeeming)
    input.typed_code = call->params.at(0);
  else
    input.typed_code = fields.text("code", {.required = true, .max_length = 80}).value_or("");
  request.member_id = fields.integer("member_id", true, 1, INT64_MAX).value_or(0);
  if (redeeming)
    request.order_id = fields.text("order_id", {.required = true, .max_length = 128}).value_or("");
  auto order = read_checkout_order(body, errors);
  request.already_applied = read_applied(call, body, catalog, errors);
  std::vector<std::string_view> known = {"member_id", "order", "applied_codes"};
  known.push_back(redeeming ? "order_id" : "code");
  fields.reject_unknown(known);
  if (fail_if_invalid(call, errors)) return std::nullopt;
  request.order = std::move(*order);
  auto code = mall::normalize_imported_code(input.typed_code);
  if (!code) {
    call->fail(unknown_coupon(input.typed_code));
    return std::nullopt;
  }
  request.code = *code;
  return input;
}

nlohmann::json money(MinorUnits amount_minor, const std::string& currency) {
  return {{"amount", amount_minor}, {"currency", currency}};
}

// Answers the coupon as the command (or, for a replay, the first command with its key) left it.
void answer_coupon(const CallPtr& call, const store::CommandResult& result,
                   const std::string& ledger_key) {
  auto record = call->services.ledger.record({mall::kCouponUseRecord, ledger_key});
  if (!record) {
    call->fail(problem(ApiError::internal_error, "the coupon's use was not stored"));
    return;
  }
  const Coupon coupon = mall::coupon_of(*record);
  const auto catalog = call->services.mall.current();
  answer_command(call, result, 200,
                 coupon_json(coupon, catalog->coupon_template(coupon.template_id),
                             call->services.clock.now_us()));
}

void list_coupons_of(const CallPtr& call, MemberId member) {
  auto page = page_params(call);
  if (!page) return;
  store::LedgerStore::RecordQuery query;
  query.kind = mall::kCouponRecord;
  query.member_id = member;
  query.before_seq = page->cursor;
  query.limit = page->limit + 1;
  if (auto state = call->query_value("state")) {
    if (!mall::coupon_state_of(*state)) {
      std::vector<FieldError> errors{{"state", "must be one of available, issued, redeemed"}};
      fail_if_invalid(call, errors);
      return;
    }
    query.state = *state;
  }
  auto records = call->services.ledger.records(query);
  const bool more = records.size() > page->limit;
  if (more) records.resize(page->limit);
  const auto catalog = call->services.mall.current();
  const TimeUs now = call->services.clock.now_us();
  nlohmann::json data = nlohmann::json::array();
  for (const store::Record& record : records) {
    const Coupon coupon = mall::coupon_of(record);
    data.push_back(coupon_json(coupon, catalog->coupon_template(coupon.template_id), now));
  }
  call->json(200, {{"data", std::move(data)},
                   {"next_cursor", cursor_json(more, more ? records.back().seq : 0)}});
}

// What a batch issue collects from its commands; answered when the last one is settled.
struct IssueBatch {
  struct Settled {
    MemberId member = 0;
    std::string key;
    store::CommandResult result;
  };
  std::mutex mutex;
  bool replayed = false;         // the batch's key was used before (with the same request)
  std::size_t remaining = 0;     // guarded by mutex
  std::vector<Settled> settled;  // guarded by mutex
};

// On the server's threads, once every command of the batch is settled.
void answer_issue(const CallPtr& call, const std::vector<IssueBatch::Settled>& settled,
                  bool replayed) {
  nlohmann::json issued = nlohmann::json::array();
  nlohmann::json refused = nlohmann::json::array();
  for (const IssueBatch::Settled& one : settled) {
    const store::CommandResult& result = one.result;
    if (result.ok()) {
      auto issue = call->services.ledger.record({mall::kCouponIssueRecord, one.key});
      const auto body = nlohmann::json::parse(issue ? issue->body : "{}", nullptr, false);
      issued.push_back({{"member_id", one.member}, {"code", body.value("code", "")}});
      continue;
    }
    const Problem why = !result.storage_error.empty()
                            ? problem(ApiError::storage_unavailable, result.storage_error)
                        : result.rejection ? problem(*result.rejection)
                                           : problem(*result.refusal);
    refused.push_back({{"member_id", one.member},
                       {"type", why.type},
                       {"detail", why.detail.empty() ? std::string(why.title) : why.detail}});
  }
  std::vector<http::Header> headers;
  if (replayed) headers.push_back({"idempotent-replayed", "true"});
  call->json(200, {{"issued", std::move(issued)}, {"refused", std::move(refused)}},
             std::move(headers));
}

// On the writer thread, once per command; the last one hands the answer to the server's threads
// (outside the lock: a harness may run deferred work at once).
void settle_issue(const CallPtr& call, const std::shared_ptr<IssueBatch>& batch,
                  IssueBatch::Settled settled) {
  std::vector<IssueBatch::Settled> all;
  {
    std::lock_guard lock(batch->mutex);
    batch->settled.push_back(std::move(settled));
    if (--batch->remaining > 0) return;
    all = std::move(batch->settled);
  }
  std::sort(all.begin(), all.end(),
            [](const auto& a, const auto& b) { return a.member < b.member; });
  call->defer([call, all = std::move(all), replayed = batch->replayed] {
    call->guard([&] { answer_issue(call, all, replayed); });
  });
}

std::string pool_summary(const mall::PoolImport& pool, std::size_t imported) {
  return std::to_string(imported) + " imported, " + std::to_string(pool.codes.size() - imported) +
         " existed already, " + std::to_string(pool.rejected.size()) + " rows rejected, " +
         std::to_string(pool.duplicates.size()) + " duplicate rows";
}

}  // namespace

void validate_coupon(const CallPtr& call) {
  auto body = read_body(call);
  if (!body) return;
  const mall::MallSnapshot snapshot = mall_snapshot(call);
  auto input = read_checkout(call, *body, *snapshot.catalog, false);
  if (!input) return;
  const mall::CouponRequest& request = input->request;
  if (!call->services.ledger.account(request.member_id)) {
    call->fail(problem(ledger::Rejection::unknown_member));
    return;
  }
  auto coupon = find_coupon(call, request.code);
  const CouponTemplate* coupon_template =
      coupon ? snapshot.catalog->coupon_template(coupon->template_id) : nullptr;
  if (!coupon) {
    call->fail(unknown_coupon(input->typed_code));
    return;
  }
  if (coupon_template == nullptr) {
    call->fail(problem(ApiError::coupon_not_applicable, "its coupon template was retired"));
    return;
  }
  std::vector<const CouponTemplate*> applied;
  for (const CouponTemplate& other : request.already_applied) applied.push_back(&other);
  const mall::CouponCheck check =
      mall::check_coupon(*coupon_template, *coupon, request.member_id, request.order, applied,
                         call->services.clock.now_us());
  if (!check.problem.empty()) {
    call->fail(problem(store::Refusal{check.problem, check.detail}));
    return;
  }
  call->json(200, {{"code", coupon->code},
                   {"valid", true},
                   {"discount", money(check.discount_minor, request.order.currency)},
                   {"template", {{"id", coupon_template->id}, {"name", coupon_template->name}}},
                   {"stackable", coupon_template->stackable}});
}

void redeem_coupon(const CallPtr& call) {
  auto keyed = read_keyed_body(call);
  if (!keyed) return;
  const mall::MallSnapshot snapshot = mall_snapshot(call);
  auto input = read_checkout(call, keyed->body, *snapshot.catalog, true);
  if (!input) return;
  ledger::Command command = ledger_command(call, keyed->key, input->request.member_id);
  command.body = ledger::RecordEvent{"coupon_redeemed"};
  const std::string key = command.idempotency_key;
  call->submit_prepared(std::move(command),
                        std::make_shared<mall::CouponPreparer>(snapshot, input->request),
                        [key](const CallPtr& self, const store::CommandResult& result) {
                          answer_coupon(self, result, key);
                        });
}

void release_coupon(const CallPtr& call) {
  auto keyed = read_keyed_body(call);
  if (!keyed) return;
  std::vector<FieldError> errors;
  Fields fields(keyed->body, "", errors);
  mall::CouponRequest request;
  request.action = mall::CouponAction::release;
  request.order_id = fields.text("order_id", {.required = true, .max_length = 128}).value_or("");
  fields.reject_unknown({"order_id"});
  if (fail_if_invalid(call, errors)) return;
  auto coupon = find_coupon(call, call->params.at(0));
  if (!coupon) {
    call->fail(unknown_coupon(call->params.at(0)));
    return;
  }
  // The member whose history gets the line: the holder, or for a retry (a pool code is nobody's
  // once released) the one the first attempt named.
  const std::string key = ledger_key(call, keyed->key);
  MemberId member = coupon->member_id;
  if (auto first = call->services.ledger.record({mall::kCouponUseRecord, key}))
    member = first->member_id;
  if (member == 0) {
    call->fail(problem(ApiError::coupon_not_redeemed, "coupon " + coupon->code + " is not in use"));
    return;
  }
  request.code = coupon->code;
  request.member_id = member;
  ledger::Command command = ledger_command(call, keyed->key, member);
  command.body = ledger::RecordEvent{"coupon_released"};
  call->submit_prepared(std::move(command),
                        std::make_shared<mall::CouponPreparer>(mall_snapshot(call), request),
                        [key](const CallPtr& self, const store::CommandResult& result) {
                          answer_coupon(self, result, key);
                        });
}

void get_coupon(const CallPtr& call) {
  auto coupon = find_coupon(call, call->params.at(0));
  if (!coupon) {
    call->fail(problem(ApiError::not_found, "no coupon has the code " + call->params.at(0)));
    return;
  }
  const auto catalog = call->services.mall.current();
  call->json(200, coupon_json(*coupon, catalog->coupon_template(coupon->template_id),
                              call->services.clock.now_us()));
}

void list_member_coupons(const CallPtr& call) {
  if (auto account = member_param(call, 0)) list_coupons_of(call, account->member_id);
}

void list_my_coupons(const CallPtr& call) {
  list_coupons_of(call, call->caller.id);
}

// POST /v1/coupon-templates/{template_id}/issues {"member_ids": [...]}: one coupon to each.
void issue_coupons(const CallPtr& call) {
  auto keyed = read_keyed_body(call);
  if (!keyed) return;
  const std::string& template_id = call->params.at(0);
  const mall::MallSnapshot snapshot = mall_snapshot_naming(call, "", template_id);
  if (snapshot.catalog->coupon_template(template_id) == nullptr) {
    call->fail(problem(ApiError::not_found, "no coupon template \"" + template_id + "\""));
    return;
  }
  std::vector<FieldError> errors;
  Fields fields(keyed->body, "", errors);
  std::vector<MemberId> members;
  auto list = keyed->body.find("member_ids");
  if (list == keyed->body.end() || !list->is_array() || list->empty() ||
      list->size() > kMaxIssueMembers) {
    fields.error("member_ids", "must be an array of 1 to 100 member ids");
  } else {
    for (const auto& id : *list) {
      if (!id.is_number_integer() || id.get<std::int64_t>() < 1) {
        fields.error("member_ids", "must hold member ids (integers >= 1)");
        break;
      }
      members.push_back(id.get<MemberId>());
    }
  }
  fields.reject_unknown({"member_ids"});
  if (fail_if_invalid(call, errors)) return;
  std::sort(members.begin(), members.end());
  members.erase(std::unique(members.begin(), members.end()), members.end());
  // The batch's key stands for the whole request: the same key with another list of members is
  // a conflict, not a partial issue to the members that are new.
  const std::string batch_key = ledger_key(call, keyed->key);
  const std::string digest = std::to_string(call->request_digest());
  const auto existed = call->services.ledger.insert_new_records({store::Record{
      mall::kCouponIssueRecord, "batch:" + batch_key, 0, 0, "issued", call->services.clock.now_us(),
      call->services.clock.now_us(), nlohmann::json{{"digest", digest}}.dump()}});
  if (!existed.empty()) {
    auto first = call->services.ledger.record({mall::kCouponIssueRecord, "batch:" + batch_key});
    const auto body = nlohmann::json::parse(first ? first->body : "{}", nullptr, false);
    if (body.value("digest", "") != digest) {
      call->fail(problem(ledger::Rejection::idempotency_conflict));
      return;
    }
  }
  auto batch = std::make_shared<IssueBatch>();
  batch->remaining = members.size();
  batch->replayed = !existed.empty();
  const std::string batch_id = mall::order_id_for_key(batch_key);
  for (MemberId member : members) {
    mall::CouponRequest request;
    request.action = mall::CouponAction::issue;
    request.code = mall::generate_code(auth::random_bytes);
    request.member_id = member;
    request.template_id = template_id;
    const std::string key = "coupon-issue:" + batch_id + ":" + std::to_string(member);
    ledger::Command command = ledger_command(call, key, member);
    command.body = ledger::RecordEvent{"coupon_issued"};
    command.client_request_hash = call->request_digest() + static_cast<std::uint64_t>(member);
    call->services.ledger.submit_prepared(
        std::move(command), std::make_shared<mall::CouponPreparer>(snapshot, std::move(request)),
        [call, batch, member, key](const store::CommandResult& result) {
          settle_issue(call, batch, IssueBatch::Settled{member, key, result});
        });
  }
}

// POST /v1/coupon-templates/{template_id}/pool, a CSV with a "code" column: adds the codes as
// coupons nobody holds yet (the merchant hands them out), each valid as the template says from
// the time of the import.
void import_coupon_pool(const CallPtr& call) {
  const mall::MallSnapshot snapshot = mall_snapshot_naming(call, "", call->params.at(0));
  const CouponTemplate* coupon_template = snapshot.catalog->coupon_template(call->params.at(0));
  if (coupon_template == nullptr) {
    call->fail(problem(ApiError::not_found, "no coupon template \"" + call->params.at(0) + "\""));
    return;
  }
  const mall::PoolImport pool = mall::parse_coupon_pool_csv(call->request.body);
  if (!pool.error.empty()) {
    std::vector<FieldError> errors{{"body", pool.error}};
    fail_if_invalid(call, errors);
    return;
  }
  const TimeUs now = call->services.clock.now_us();
  const mall::CouponWindow window = mall::issue_validity(*coupon_template, now);
  if (window.valid_until_us <= now) {
    call->fail(problem(ApiError::coupon_expired, "coupons of " + coupon_template->name +
                                                     " are no longer valid; none can be imported"));
    return;
  }
  std::vector<store::Record> records;
  records.reserve(pool.codes.size());
  for (const std::string& code : pool.codes) {
    Coupon coupon;
    coupon.code = code;
    coupon.template_id = coupon_template->id;
    coupon.state = mall::CouponState::available;
    coupon.issued_at_us = now;
    coupon.valid_from_us = window.valid_from_us;
    coupon.valid_until_us = window.valid_until_us;
    coupon.source = std::string(mall::kCouponSourcePool);
    records.push_back(store::Record{mall::kCouponRecord, code, 0, 0, "available", now, now,
                                    mall::coupon_to_json(coupon).dump()});
  }
  const std::vector<std::string> existing = call->services.ledger.insert_new_records(records);
  nlohmann::json rejected = nlohmann::json::array();
  for (const mall::PoolRejectedRow& row : pool.rejected) {
    if (rejected.size() == kMaxListedPoolProblems) break;
    rejected.push_back({{"line", row.line}, {"code", row.code}, {"reason", row.reason}});
  }
  nlohmann::json duplicates = nlohmann::json::array();
  for (const mall::PoolDuplicate& duplicate : pool.duplicates) {
    if (duplicates.size() == kMaxListedPoolProblems) break;
    duplicates.push_back(
        {{"line", duplicate.line}, {"code", duplicate.code}, {"first_line", duplicate.first_line}});
  }
  std::vector<std::string> existed(
      existing.begin(), existing.begin() + static_cast<std::ptrdiff_t>(
                                               std::min(existing.size(), kMaxListedPoolProblems)));
  call->json(200, {{"template_id", coupon_template->id},
                   {"imported", pool.codes.size() - existing.size()},
                   {"already_existing", existing.size()},
                   {"already_existing_codes", std::move(existed)},
                   {"rejected_rows", pool.rejected.size()},
                   {"rejected", std::move(rejected)},
                   {"duplicate_rows", pool.duplicates.size()},
                   {"duplicates", std::move(duplicates)},
                   {"summary", pool_summary(pool, pool.codes.size() - existing.size())}});
}

}  // namespace pointsmall::api
