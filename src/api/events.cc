// Events from the merchant's shop (purchases, check-ins, ...) and refunds of orders.
#include "api/api.h"
#include "api/json_input.h"
#include "api/render.h"
#include "api/routes.h"

namespace pointsmall::api {
namespace {

const std::vector<std::string_view> kEventTypes = {"purchase", "checkin",  "share", "review",
                                                   "referral", "register", "task",  "survey"};
constexpr TimeUs kMaxClockSkewUs = 5LL * 60 * 1'000'000;  // occurred_at may be this far ahead
constexpr std::int64_t kMaxQuantity = 100'000;
constexpr std::size_t kMaxItems = 500;

// Checks a money amount is in a currency the program accepts.
const AcceptedCurrency* accepted_currency(const CallPtr& call, Fields& fields,
                                          std::string_view name, const Money& money) {
  const AcceptedCurrency* accepted = find_accepted(call->services.program, money.currency);
  if (accepted == nullptr) {
    std::string message = "the program does not accept " + money.currency + " (accepted:";
    for (const AcceptedCurrency& a : call->services.program.accepted) message += " " + a.currency;
    fields.error(std::string(name) + ".currency", message + ")");
  }
  return accepted;
}

std::int64_t ten_to(int digits) {
  std::int64_t value = 1;
  for (int i = 0; i < digits; ++i) value *= 10;
  return value;
}

struct Earning {
  Points points = 0;
  nlohmann::json explanation = nlohmann::json::array();
};

// The base rate, until the earning engine's rules: points per whole unit of currency, rounded
// down.
Earning purchase_points(const AcceptedCurrency& rate, const Money& amount) {
  Earning earning;
  const std::int64_t unit = ten_to(minor_unit_digits(amount.currency));
  earning.points = amount.amount / unit * rate.points_per_unit;
  earning.explanation.push_back(
      {{"rule", "base_rate"},
       {"points", earning.points},
       {"detail", std::to_string(rate.points_per_unit) + " point(s) per 1 " + amount.currency +
                      " on " + format_money(amount.amount, amount.currency) +
                      (earning.points == 0 ? ", less than one whole unit" : "")}});
  return earning;
}

}  // namespace

void create_event(const CallPtr& call) {
  auto request = read_keyed_body(call);
  if (!request) return;
  const nlohmann::json& body = request->body;
  std::vector<FieldError> errors;
  Fields fields(body, "", errors);
  const TimeUs now = call->services.clock.now_us();
  auto type = fields.one_of("type", true, kEventTypes);
  auto member_id = fields.integer("member_id", true, 1, std::numeric_limits<std::int64_t>::max());
  const bool purchase = type && *type == "purchase";
  auto order_id = fields.text("order_id", TextRule{.required = purchase, .max_length = 128});
  auto amount = fields.money("amount", purchase, 1);
  const AcceptedCurrency* rate = nullptr;
  if (amount) rate = accepted_currency(call, fields, "amount", *amount);
  fields.objects("items", false, kMaxItems, [&](Fields& item) {
    item.text("sku", TextRule{.required = true, .max_length = 64});
    item.text("category", TextRule{.max_length = 64});
    item.text("brand", TextRule{.max_length = 64});
    if (auto price = item.money("price", true, 0);
        price && amount && price->currency != amount->currency)
      item.error("price.currency", "must be the order's currency " + amount->currency);
    item.integer("quantity", true, 1, kMaxQuantity);
    item.reject_unknown({"sku", "category", "brand", "price", "quantity"});
  });
  auto occurred_at = fields.time("occurred_at", false);
  if (occurred_at && *occurred_at > now + kMaxClockSkewUs)
    fields.error("occurred_at", "is in the future");
  fields.text("channel", TextRule{.max_length = 32});
  fields.text("store", TextRule{.max_length = 64});
  fields.text("reference", TextRule{.max_length = 128});
  if (!purchase && body.contains("order_id") && type)
    fields.error("order_id", "only purchase events name an order");
  fields.reject_unknown({"type", "member_id", "order_id", "amount", "items", "occurred_at",
                         "channel", "store", "reference"});
  if (fail_if_invalid(call, errors)) return;

  ledger::Command command = ledger_command(call, request->key, *member_id);
  command.event =
      ledger::EventRecord{*type, occurred_at.value_or(command.at_us), call->request.body};
  Earning earning;
  if (purchase) {
    // Recorded even when it earns nothing, so that its refund gives back points that paid for it.
    earning = purchase_points(*rate, *amount);
    ledger::Earn earn;
    earn.points = earning.points;
    earn.source = *type;
    earn.order_id = *order_id;
    earn.order_amount_minor = amount->amount;
    earn.matures_at_us = command.at_us + call->services.program.return_window_us;
    command.reason = "purchase " + *order_id + " of " +
                     format_money(amount->amount, amount->currency) +
                     (earning.points == 0 ? ", no points" : "");
    command.body = earn;
  } else {
    command.reason = *type + " recorded";
    command.body = ledger::RecordEvent{*type};
  }
  const std::string event_type = *type;
  call->submit(std::move(command),
               [event_type, earning](const CallPtr& c, const store::CommandResult& result) {
                 const ledger::Outcome& o = result.outcome;
                 const std::string status = earning.points == 0 ? "recorded"
                                            : o.pending         ? "pending"
                                                                : "available";
                 answer_command(c, result, 201,
                                {{"transaction_id", o.transaction_id},
                                 {"member_id", o.member_id},
                                 {"type", event_type},
                                 {"points", o.points},
                                 {"status", status},
                                 {"explanation", earning.explanation},
                                 {"balance", balance_after(o)}});
               });
}

void create_refund(const CallPtr& call) {
  auto request = read_keyed_body(call);
  if (!request) return;
  const nlohmann::json& body = request->body;
  std::vector<FieldError> errors;
  Fields fields(body, "", errors);
  auto member_id = fields.integer("member_id", true, 1, std::numeric_limits<std::int64_t>::max());
  auto amount = fields.money("amount", true, 1);
  if (amount) accepted_currency(call, fields, "amount", *amount);
  fields.reject_unknown({"member_id", "amount"});
  const std::string& order_id = call->params.at(0);
  if (order_id.size() > 128) errors.push_back({"order_id", "must have at most 128 characters"});
  if (fail_if_invalid(call, errors)) return;

  ledger::Command command = ledger_command(call, request->key, *member_id);
  command.reason =
      "refund of " + format_money(amount->amount, amount->currency) + " on order " + order_id;
  command.body = ledger::Refund{order_id, amount->amount};
  call->submit(std::move(command),
               [order_id](const CallPtr& c, const store::CommandResult& result) {
                 const ledger::Outcome& o = result.outcome;
                 answer_command(c, result, 201,
                                {{"transaction_id", o.transaction_id},
                                 {"order_id", order_id},
                                 {"member_id", o.member_id},
                                 {"points", o.points},
                                 {"points_returned", o.points_returned},
                                 {"debt_added", o.debt_added},
                                 {"absorbed", o.absorbed},
                                 {"balance", balance_after(o)}});
               });
}

}  // namespace pointsmall::api
