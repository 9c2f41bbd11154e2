// The points mall over the API: the catalog (items, for operators and for the signed-in member),
// redemption orders and their steps. Coupons are in coupon_routes.cc.
//
// A redemption reserves points and units in one writer transaction (mall/service/preparers.h);
// its order id comes from the Idempotency-Key, so a retry (a double click) finds the same order.

#include "api/api.h"
#include "api/json_input.h"
#include "api/mall_render.h"
#include "api/render.h"
#include "api/routes.h"
#include "auth/crypto.h"
#include "mall/service/preparers.h"

namespace pointsmall::api {
namespace {

using mall::Item;
using mall::Order;
using mall::OrderStep;

constexpr std::int64_t kMaxUnitsPerOrder = 1000;
constexpr std::int64_t kMaxCouponsPerOrder = 20;  // each is a record and a code

// ---- Catalog ----------------------------------------------------------------------------------

void fail_if_not_saved(const CallPtr& call, mall::CatalogKind kind, const std::string& id,
                       mall::MallCatalog::Saved& saved, unsigned status) {
  const std::string what =
      std::string(kind == mall::CatalogKind::item ? "item" : "coupon template") + " \"" + id + "\"";
  if (!saved.errors.empty()) {
    fail_if_invalid(call, saved.errors);
  } else if (saved.exists) {
    call->fail(problem(ApiError::already_exists, "the " + what + " exists; replace it with PUT"));
  } else if (saved.unknown) {
    call->fail(problem(ApiError::not_found, "no " + what + " is in the catalog"));
  } else if (saved.stale) {
    call->fail(problem(ApiError::version_conflict,
                       "the " + what + " changed since the version you sent; read it again"));
  } else if (status == 204) {
    call->no_content();
  } else {
    call->json(status, saved.document);
  }
}

void save_catalog_document(const CallPtr& call, mall::CatalogKind kind, bool create) {
  auto body = read_body(call);
  if (!body) return;
  const std::string id = create ? std::string() : call->params.at(0);
  auto saved = call->services.mall.save(kind, id, *body, create, call->caller.actor);
  fail_if_not_saved(call, kind, id.empty() ? body->value("id", std::string()) : id, saved,
                    create ? 201 : 200);
}

void retire_catalog_document(const CallPtr& call, mall::CatalogKind kind) {
  const std::string& id = call->params.at(0);
  auto saved = call->services.mall.retire(kind, id, call->caller.actor);
  fail_if_not_saved(call, kind, id, saved, 204);
}

void list_catalog_versions(const CallPtr& call, mall::CatalogKind kind) {
  auto versions = call->services.mall.versions(kind, call->params.at(0));
  if (versions.empty()) {
    const char* what = kind == mall::CatalogKind::item ? "item" : "coupon template";
    call->fail(problem(ApiError::not_found, std::string("no ") + what + " \"" + call->params.at(0) +
                                                "\" was ever saved"));
    return;
  }
  call->json(200, {{"data", std::move(versions)}});
}

// The listing's filter from the query (category, q, kind, affordable_with, include_inactive).
std::optional<mall::CatalogFilter> catalog_filter(const CallPtr& call, bool member) {
  mall::CatalogFilter filter;
  std::vector<FieldError> errors;
  if (auto category = call->query_value("category")) filter.category = *category;
  if (auto text = call->query_value("q")) filter.text = *text;
  if (auto kind = call->query_value("kind")) {
    if (*kind != "physical" && *kind != "coupon" && *kind != "service" && *kind != "tier_upgrade")
      errors.push_back({"kind", "must be one of physical, coupon, service, tier_upgrade"});
    filter.kind = *kind;
  }
  if (!member) {
    if (auto given = call->query_value("affordable_with")) {
      auto points = to_int(*given);
      if (!points || *points < 0)
        errors.push_back({"affordable_with", "must be a number of points (an integer >= 0)"});
      else
        filter.affordable_with = *points;
    }
    if (auto inactive = call->query_value("include_inactive")) {
      if (*inactive != "true" && *inactive != "false")
        errors.push_back({"include_inactive", "must be true or false"});
      filter.include_inactive = *inactive == "true";
    }
  } else if (auto affordable = call->query_value("affordable")) {
    if (*affordable != "true" && *affordable != "false")
      errors.push_back({"affordable", "must be true or false"});
  }
  if (fail_if_invalid(call, errors)) return std::nullopt;
  return filter;
}

void list_catalog(const CallPtr& call, std::optional<MemberId> member) {
  auto filter = catalog_filter(call, member.has_value());
  if (!filter) return;
  mall::CatalogOrder order = mall::CatalogOrder::by_id;
  if (auto sort = call->query_value("sort")) {
    auto parsed = mall::parse_catalog_order(*sort);
    if (!parsed) {
      std::vector<FieldError> errors{{"sort", "must be one of id, name, points, -points, popular"}};
      fail_if_invalid(call, errors);
      return;
    }
    order = *parsed;
  }
  const mall::MallSnapshot snapshot = mall_snapshot(call);
  const TimeUs now = call->services.clock.now_us();
  std::optional<MemberView> view;
  if (member) {
    view = member_view(call, snapshot, *member);
    filter->tier_level = view->tier_level;
    if (call->query_value("affordable") == "true") filter->affordable_with = view->available;
  }
  std::vector<const Item*> listed;
  for (const auto& [id, item] : snapshot.catalog->items)
    if (mall::matches(item, *filter, *snapshot.program)) listed.push_back(&item);
  const Counters taken = taken_counters(call, listed);
  mall::order_items(listed, order, *snapshot.program, filter->tier_level,
                    [&](const Item& item) { return taken_of(taken, item); });
  nlohmann::json data = nlohmann::json::array();
  for (const Item* item : listed)
    data.push_back(view ? member_item_json(snapshot, *item, taken, *view, now)
                        : operator_item_json(snapshot, *item, taken));
  call->json(200, {{"data", std::move(data)}});
}

void get_catalog_item(const CallPtr& call, std::optional<MemberId> member) {
  const mall::MallSnapshot snapshot = mall_snapshot_naming(call, call->params.at(0), "");
  const Item* item = snapshot.catalog->item(call->params.at(0));
  std::optional<MemberView> view;
  if (member) view = member_view(call, snapshot, *member);
  if (item == nullptr || (view && !mall::visible_to(*item, *snapshot.program, view->tier_level))) {
    call->fail(problem(ApiError::unknown_item, "no item \"" + call->params.at(0) + "\""));
    return;
  }
  const Counters taken = taken_counters(call, {item});
  call->json(200,
             view ? member_item_json(snapshot, *item, taken, *view, call->services.clock.now_us())
                  : operator_item_json(snapshot, *item, taken));
}

// ---- Redemptions ------------------------------------------------------------------------------

std::vector<std::string> fresh_codes(std::int64_t count) {
  std::vector<std::string> codes;
  for (std::int64_t i = 0; i < count; ++i) codes.push_back(mall::generate_code(auth::random_bytes));
  return codes;
}

// Answers the order as stored now (after the command, or for a replayed one).
void answer_order(const CallPtr& call, const store::CommandResult& result,
                  const std::string& order_id, unsigned status) {
  auto record = call->services.ledger.record({mall::kRedemptionRecord, order_id});
  if (!record) {
    call->fail(problem(ApiError::internal_error, "order " + order_id + " was not stored"));
    return;
  }
  answer_command(call, result, status, order_json(mall::order_of(*record)));
}

struct RedeemInput {
  mall::RedeemRequest request;
  const Item* item = nullptr;
};

// Reads a redemption's body; `member` is the signed-in member (/v1/me), else it is in the body.
std::optional<RedeemInput> read_redeem(const CallPtr& call, const nlohmann::json& body,
                                       const mall::MallSnapshot& snapshot,
                                       std::optional<MemberId> member) {
  std::vector<FieldError> errors;
  Fields fields(body, "", errors);
  RedeemInput input;
  mall::RedeemRequest& request = input.request;
  if (member)
    request.member_id = *member;
  else if (auto id = fields.integer("member_id", true, 1, INT64_MAX))
    request.member_id = *id;
  auto item_id = fields.text("item_id", {.required = true, .max_length = 64});
  request.quantity = fields.integer("quantity", false, 1, kMaxUnitsPerOrder).value_or(1);
  std::optional<mall::ShippingAddress> address;
  if (fields.has("shipping_address"))
    address = mall::read_shipping_address(body["shipping_address"], "shipping_address", errors);
  std::vector<std::string_view> known = {"item_id", "quantity", "shipping_address"};
  if (!member) known.push_back("member_id");
  fields.reject_unknown(known);
  if (fail_if_invalid(call, errors)) return std::nullopt;
  input.item = snapshot.catalog->item(*item_id);
  if (input.item == nullptr) {
    call->fail(problem(ApiError::unknown_item, "no item \"" + *item_id + "\" is in the catalog"));
    return std::nullopt;
  }
  request.item_id = *item_id;
  const bool shipped = mall::needs_shipping(*input.item);
  if (shipped && !address && !fields.has("shipping_address"))
    fields.error("shipping_address", "is required: the item is shipped");
  if (!shipped && fields.has("shipping_address"))
    fields.error("shipping_address", "must be left out: the item is not shipped");
  if (input.item->kind == mall::ItemKind::coupon && request.quantity > kMaxCouponsPerOrder)
    fields.error("quantity", "at most 20 coupons in one order");
  if (input.item->kind == mall::ItemKind::tier_upgrade && request.quantity != 1)
    fields.error("quantity", "must be 1 for a tier upgrade");
  if (fail_if_invalid(call, errors)) return std::nullopt;
  if (address) request.shipping_address = mall::to_json(*address);
  if (input.item->kind == mall::ItemKind::coupon)
    request.coupon_codes = fresh_codes(request.quantity);
  request.payment_within_us = call->services.program.redemption_payment_window_us;
  request.confirm_within_us = call->services.program.redemption_confirm_window_us;
  return input;
}

void redeem(const CallPtr& call, std::optional<MemberId> member) {
  auto keyed = read_keyed_body(call);
  if (!keyed) return;
  const auto named = keyed->body.find("item_id");
  const mall::MallSnapshot snapshot = mall_snapshot_naming(
      call, named != keyed->body.end() && named->is_string() ? named->get<std::string>() : "", "");
  auto input = read_redeem(call, keyed->body, snapshot, member);
  if (!input) return;
  mall::RedeemRequest& request = input->request;
  ledger::Command command = ledger_command(call, keyed->key, request.member_id);
  request.order_id = mall::order_id_for_key(command.idempotency_key);
  const std::string order_id = request.order_id;
  // The preparer sets the points, the expiry and the reason.
  command.body = ledger::PlaceHold{mall::hold_ref_of(order_id), 1, kTimeNever};
  call->submit_prepared(std::move(command),
                        std::make_shared<mall::RedeemPreparer>(snapshot, std::move(request)),
                        [order_id](const CallPtr& self, const store::CommandResult& result) {
                          answer_order(self, result, order_id, 201);
                        });
}

// The order named by the path, or answers 404 (also for another member's order on /v1/me).
std::optional<Order> order_param(const CallPtr& call, std::optional<MemberId> member) {
  const std::string& id = call->params.at(0);
  auto record = call->services.ledger.record({mall::kRedemptionRecord, id});
  if (!record || (member && record->member_id != *member)) {
    call->fail(problem(ApiError::not_found, "no order " + id));
    return std::nullopt;
  }
  return mall::order_of(*record);
}

struct StepInput {
  std::string note;
  std::string carrier;
  std::string tracking_number;
};

// A step's optional body: {"reason"} for cancel and fail, {"carrier", "tracking_number"} for
// ship, {"note"} for the others.
std::optional<StepInput> read_step_body(const CallPtr& call, OrderStep step) {
  StepInput input;
  std::optional<nlohmann::json> body = nlohmann::json::object();
  if (call->request.body.empty() && step != OrderStep::ship) return input;
  if (!call->request.body.empty()) body = read_body(call);
  if (!body) return std::nullopt;
  std::vector<FieldError> errors;
  Fields fields(*body, "", errors);
  const bool reasoned = step == OrderStep::cancel || step == OrderStep::fail;
  const char* note_name = reasoned ? "reason" : "note";
  input.note = fields.text(note_name, {.max_length = 500}).value_or("");
  if (step == OrderStep::ship) {
    input.carrier = fields.text("carrier", {.required = true, .max_length = 64}).value_or("");
    input.tracking_number =
        fields.text("tracking_number", {.required = true, .max_length = 128}).value_or("");
    fields.reject_unknown({"carrier", "tracking_number", "note"});
  } else {
    fields.reject_unknown({note_name});
  }
  if (fail_if_invalid(call, errors)) return std::nullopt;
  return input;
}

// `member`: the signed-in member taking a step on their own order (only cancel, only while held).
void take_step(const CallPtr& call, OrderStep step, std::optional<MemberId> member) {
  auto key = idempotency_key(call);
  if (!key) return;
  auto input = read_step_body(call, step);
  if (!input) return;
  auto order = order_param(call, member);
  if (!order) return;
  mall::StepRequest request;
  request.step = step;
  request.note = input->note;
  request.carrier = input->carrier;
  request.tracking_number = input->tracking_number;
  request.only_while_held = member.has_value();
  if (step == OrderStep::cancel || step == OrderStep::fail) {
    if (auto hold = call->services.ledger.hold(order->member_id, mall::hold_ref_of(order->id)))
      request.hold_transaction_id = hold->transaction_id;
  }
  const bool instant = order->item_kind == "coupon";
  if (step == OrderStep::pay && instant) request.coupon_codes = fresh_codes(order->quantity);
  const std::string order_id = order->id;
  request.order = std::move(*order);
  ledger::Command command = ledger_command(call, *key, request.order.member_id);
  command.body = ledger::RecordEvent{"redemption_step"};  // the preparer sets the real one
  call->submit_prepared(std::move(command),
                        std::make_shared<mall::StepPreparer>(mall_snapshot(call), request),
                        [order_id](const CallPtr& self, const store::CommandResult& result) {
                          answer_order(self, result, order_id, 200);
                        });
}

void list_orders(const CallPtr& call, std::optional<MemberId> member) {
  auto page = page_params(call);
  if (!page) return;
  store::LedgerStore::RecordQuery query;
  query.kind = mall::kRedemptionRecord;
  query.limit = page->limit + 1;
  query.before_seq = page->cursor;
  std::vector<FieldError> errors;
  if (member) {
    query.member_id = *member;
  } else if (auto given = call->query_value("member_id")) {
    auto id = to_int(*given);
    if (!id || *id < 1) errors.push_back({"member_id", "must be a member id"});
    query.member_id = id.value_or(0);
  }
  if (auto state = call->query_value("state")) {
    if (!mall::order_state_from_name(*state))
      errors.push_back({"state",
                        "must be one of awaiting_payment, reserved, confirmed, "
                        "fulfilled, shipped, delivered, cancelled, failed"});
    query.state = *state;
  }
  if (fail_if_invalid(call, errors)) return;
  auto records = call->services.ledger.records(query);
  const bool more = records.size() > page->limit;
  if (more) records.resize(page->limit);
  nlohmann::json data = nlohmann::json::array();
  for (const store::Record& record : records) data.push_back(order_json(mall::order_of(record)));
  call->json(200, {{"data", std::move(data)},
                   {"next_cursor", cursor_json(more, more ? records.back().seq : 0)}});
}

}  // namespace

void list_items(const CallPtr& call) {
  list_catalog(call, std::nullopt);
}
void create_item(const CallPtr& call) {
  save_catalog_document(call, mall::CatalogKind::item, true);
}
void get_item(const CallPtr& call) {
  get_catalog_item(call, std::nullopt);
}
void replace_item(const CallPtr& call) {
  save_catalog_document(call, mall::CatalogKind::item, false);
}
void retire_item(const CallPtr& call) {
  retire_catalog_document(call, mall::CatalogKind::item);
}
void list_item_versions(const CallPtr& call) {
  list_catalog_versions(call, mall::CatalogKind::item);
}
void list_my_items(const CallPtr& call) {
  list_catalog(call, call->caller.id);
}
void get_my_item(const CallPtr& call) {
  get_catalog_item(call, call->caller.id);
}

void list_coupon_templates(const CallPtr& call) {
  const auto catalog = call->services.mall.current();
  nlohmann::json data = nlohmann::json::array();
  for (const auto& [id, coupon_template] : catalog->templates)
    data.push_back(mall::template_json(coupon_template, catalog->template_versions.at(id)));
  call->json(200, {{"data", std::move(data)}});
}
void create_coupon_template(const CallPtr& call) {
  save_catalog_document(call, mall::CatalogKind::coupon_template, true);
}
void get_coupon_template(const CallPtr& call) {
  const auto catalog = mall_snapshot_naming(call, "", call->params.at(0)).catalog;
  const mall::CouponTemplate* found = catalog->coupon_template(call->params.at(0));
  if (found == nullptr) {
    call->fail(problem(ApiError::not_found, "no coupon template \"" + call->params.at(0) + "\""));
    return;
  }
  call->json(200, mall::template_json(*found, catalog->template_versions.at(found->id)));
}
void replace_coupon_template(const CallPtr& call) {
  save_catalog_document(call, mall::CatalogKind::coupon_template, false);
}
void retire_coupon_template(const CallPtr& call) {
  retire_catalog_document(call, mall::CatalogKind::coupon_template);
}
void list_coupon_template_versions(const CallPtr& call) {
  list_catalog_versions(call, mall::CatalogKind::coupon_template);
}

void create_redemption(const CallPtr& call) {
  redeem(call, std::nullopt);
}
void create_my_redemption(const CallPtr& call) {
  redeem(call, call->caller.id);
}
void list_redemptions(const CallPtr& call) {
  list_orders(call, std::nullopt);
}
void list_my_redemptions(const CallPtr& call) {
  list_orders(call, call->caller.id);
}
void get_redemption(const CallPtr& call) {
  if (auto order = order_param(call, std::nullopt)) call->json(200, order_json(*order));
}
void get_my_redemption(const CallPtr& call) {
  if (auto order = order_param(call, call->caller.id)) call->json(200, order_json(*order));
}
void pay_redemption(const CallPtr& call) {
  take_step(call, OrderStep::pay, std::nullopt);
}
void confirm_redemption(const CallPtr& call) {
  take_step(call, OrderStep::confirm, std::nullopt);
}
void fulfil_redemption(const CallPtr& call) {
  take_step(call, OrderStep::fulfil, std::nullopt);
}
void ship_redemption(const CallPtr& call) {
  take_step(call, OrderStep::ship, std::nullopt);
}
void deliver_redemption(const CallPtr& call) {
  take_step(call, OrderStep::deliver, std::nullopt);
}
void cancel_redemption(const CallPtr& call) {
  take_step(call, OrderStep::cancel, std::nullopt);
}
void fail_redemption(const CallPtr& call) {
  take_step(call, OrderStep::fail, std::nullopt);
}
// A member may cancel an order only while its points are held (awaiting payment or reserved).
void cancel_my_redemption(const CallPtr& call) {
  take_step(call, OrderStep::cancel, call->caller.id);
}

}  // namespace pointsmall::api
