// Events from the merchant's shop (purchases, check-ins, ...), evaluated by the earning engine,
// and refunds of orders. Check-ins and task completions have routes of their own that record the
// same events.
#include "api/events.h"
#include "api/api.h"
#include "api/json_input.h"
#include "api/render.h"
#include "api/routes.h"
#include "earning/event_payload.h"
#include "earning/member_facts.h"
#include "earning/preparers.h"

namespace pointsmall::api {
namespace {

const std::vector<std::string_view> kEventTypes(std::begin(rules::kEventTypes),
                                                std::end(rules::kEventTypes));
constexpr TimeUs kMaxClockSkewUs = 5LL * 60 * 1'000'000;  // occurred_at may be this far ahead
constexpr std::int64_t kMaxQuantity = 100'000;
constexpr std::size_t kMaxItems = 500;

// Checks a money amount is in a currency the program accepts.
void check_currency(const CallPtr& call, Fields& fields, std::string_view name,
                    const Money& money) {
  if (find_accepted(call->services.program, money.currency) != nullptr) return;
  std::string message = "the program does not accept " + money.currency + " (accepted:";
  for (const AcceptedCurrency& a : call->services.program.accepted) message += " " + a.currency;
  fields.error(std::string(name) + ".currency", message + ")");
}

void check_same_currency(Fields& fields, std::string_view name, const std::optional<Money>& money,
                         const std::optional<Money>& amount) {
  if (money && amount && money->currency != amount->currency)
    fields.error(std::string(name) + ".currency",
                 "must be the order's currency " + amount->currency);
}

// The member's facts for the engine; an unknown member gets none (the ledger refuses it).
rules::Member facts_of(const CallPtr& call, MemberId member_id) {
  rules::Member member;
  member.id = member_id;
  if (auto record = call->services.members.find(member_id))
    member = earning::member_facts(*record, call->services.ledger);
  return member;
}

// What an accepted event's answer says of its points: the explanation (JSON text of the lines
// that fired) and the tier change. For a replay, the stored record's: the preparer evaluated the
// repeat afresh, but the first evaluation is the one that counted.
struct Earned {
  std::string explanation = "[]";
  nlohmann::json tier_change;  // null: none
};

Earned earned_of(const CallPtr& call, const earning::EventPreparer& preparer,
                 const store::CommandResult& result) {
  Earned earned;
  if (!result.replayed) {
    earned.explanation = preparer.explanation();
    if (const auto& change = preparer.evaluation().tier_change)
      earned.tier_change = {{"from", earning::tier_id(preparer.program(), change->from_level)},
                            {"to", earning::tier_id(preparer.program(), change->to_level)},
                            {"reason", change->reason}};
    return earned;
  }
  auto stored = call->services.ledger.earning_record(result.outcome.transaction_id);
  const nlohmann::json record =
      stored ? nlohmann::json::parse(*stored, nullptr, false) : nlohmann::json();
  if (!record.is_object()) return earned;
  earned.explanation = record.value("rules", nlohmann::json::array()).dump();
  earned.tier_change = record.value("tier_change", nlohmann::json());
  return earned;
}

}  // namespace

std::optional<EventInput> read_event(const CallPtr& call, const nlohmann::json& body) {
  std::vector<FieldError> errors;
  Fields fields(body, "", errors);
  const TimeUs now = call->services.clock.now_us();
  EventInput input;
  auto type = fields.one_of("type", true, kEventTypes);
  auto member_id = fields.integer("member_id", true, 1, std::numeric_limits<std::int64_t>::max());
  const bool purchase = type && *type == "purchase";
  auto order_id = fields.text("order_id", TextRule{.required = purchase, .max_length = 128});
  auto amount = fields.money("amount", purchase, 1);
  if (amount) check_currency(call, fields, "amount", *amount);
  auto discount = fields.money("discount", false, 0);
  check_same_currency(fields, "discount", discount, amount);
  auto points_discount = fields.money("points_discount", false, 0);
  check_same_currency(fields, "points_discount", points_discount, amount);
  fields.objects("items", false, kMaxItems, [&](Fields& item) {
    item.text("sku", TextRule{.required = true, .max_length = 64});
    item.text("category", TextRule{.max_length = 64});
    item.text("brand", TextRule{.max_length = 64});
    check_same_currency(item, "price", item.money("price", true, 0), amount);
    item.integer("quantity", true, 1, kMaxQuantity);
    item.reject_unknown({"sku", "category", "brand", "price", "quantity"});
  });
  auto occurred_at = fields.time("occurred_at", false);
  if (occurred_at && *occurred_at > now + kMaxClockSkewUs)
    fields.error("occurred_at", "is in the future");
  fields.text("channel", TextRule{.max_length = 32});
  fields.text("store", TextRule{.max_length = 64});
  fields.text("reference", TextRule{.max_length = 128});
  const bool task = type && (*type == "task" || *type == "survey");
  fields.text("task", TextRule{.required = task, .max_length = 64});
  if (!purchase && type) {
    for (const char* name : {"order_id", "amount", "discount", "points_discount", "items"})
      if (body.contains(name)) fields.error(name, "only purchase events have it");
  }
  if (!task && type && body.contains("task")) fields.error("task", "only task and survey events");
  fields.reject_unknown({"type", "member_id", "order_id", "amount", "discount", "points_discount",
                         "items", "occurred_at", "channel", "store", "reference", "task"});
  if (fail_if_invalid(call, errors)) return std::nullopt;
  input.type = *type;
  input.member_id = *member_id;
  input.order_id = order_id.value_or("");
  if (amount) input.amount = *amount;
  input.occurred_at_us = occurred_at.value_or(now);
  const TimeUs lateness = call->services.program.accepted_lateness_us;
  if (input.occurred_at_us < now - lateness) {
    call->fail(problem(ApiError::event_too_late,
                       "occurred_at " + format_rfc3339_utc(input.occurred_at_us) +
                           " is more than " + std::to_string(lateness / kMicrosPerDay) +
                           " days ago, the program's accepted lateness"));
    return std::nullopt;
  }
  input.body = body;
  return input;
}

void record_event(const CallPtr& call, const EventInput& input, std::string key,
                  std::string payload, const EventAnswer& answer) {
  ledger::Command command = ledger_command(call, std::move(key), input.member_id);
  command.event = ledger::EventRecord{input.type, input.occurred_at_us, std::move(payload)};
  if (input.type == "purchase") {
    // Recorded even when it earns nothing, so that its refund gives back points that paid for it.
    ledger::Earn earn;
    earn.source = input.type;
    earn.order_id = input.order_id;
    earn.order_amount_minor = input.amount.amount;
    earn.matures_at_us = command.at_us + call->services.program.return_window_us;
    command.reason = "purchase " + input.order_id + " of " +
                     format_money(input.amount.amount, input.amount.currency);
    command.body = earn;
  } else {
    command.reason =
        input.type + (input.body.contains("task") ? " " + input.body.value("task", std::string())
                                                  : std::string());
    command.body = ledger::RecordEvent{input.type};
  }
  auto preparer = std::make_shared<earning::EventPreparer>(
      call->services.earning.current(),
      earning::event_from_payload(input.type, input.occurred_at_us, input.body),
      facts_of(call, input.member_id));
  call->submit_prepared(
      std::move(command), preparer,
      [preparer, type = input.type, answer](const CallPtr& c, const store::CommandResult& result) {
        const ledger::Outcome& o = result.outcome;
        const Earned earned = earned_of(c, *preparer, result);
        const std::string status = o.points == 0 ? "recorded" : o.pending ? "pending" : "available";
        nlohmann::json body = {{"transaction_id", o.transaction_id},
                               {"member_id", o.member_id},
                               {"type", type},
                               {"points", o.points},
                               {"status", status},
                               {"balance", balance_after(o)}};
        if (!earned.tier_change.is_null()) body["tier_change"] = earned.tier_change;
        if (answer) answer(body, preparer->evaluation(), result.replayed);
        // The explanation goes in as text: dozens of lines are cheaper copied than rebuilt.
        answer_command_with_raw(c, result, 201, body, "explanation", earned.explanation);
      });
}

void dry_run_event(const CallPtr& call, const EventInput& input) {
  auto account = call->services.ledger.account(input.member_id);
  if (!account) {
    call->fail(problem(ledger::Rejection::unknown_member));
    return;
  }
  const auto program = call->services.earning.current();
  const rules::Event event =
      earning::event_from_payload(input.type, input.occurred_at_us, input.body);
  const rules::Member member = facts_of(call, input.member_id);
  const Counters counters =
      call->services.ledger.counters(rules::counters_needed(*program, event, member));
  const rules::Evaluation evaluation =
      rules::evaluate(*program, event, member, counters, {.explain_skipped = true});
  nlohmann::json body = {{"dry_run", true}, {"member_id", input.member_id}, {"type", input.type}};
  if (const auto& refusal = evaluation.refusal) {
    body["points"] = 0;
    body["refusal"] = {{"type", refusal->problem}, {"detail", refusal->detail}};
  } else {
    const nlohmann::json record = earning::earning_record_json(*program, evaluation);
    body["points"] = evaluation.points;
    body["explanation"] = record["rules"];
    if (record.contains("tier_change")) body["tier_change"] = record["tier_change"];
    if (record.contains("referrer_award")) body["referrer_award"] = record["referrer_award"];
  }
  body["skipped"] = earning::skipped_json(evaluation);
  call->json(200, body);
}

void create_event(const CallPtr& call) {
  const auto dry_run = call->query_value("dry_run");
  if (dry_run && *dry_run != "true" && *dry_run != "false") {
    call->fail(problem(ApiError::validation_failed, "dry_run must be true or false",
                       {{"dry_run", "must be true or false"}}));
    return;
  }
  if (dry_run == "true") {
    auto body = read_body(call);
    if (!body) return;
    if (auto input = read_event(call, *body)) dry_run_event(call, *input);
    return;
  }
  auto request = read_keyed_body(call);
  if (!request) return;
  auto input = read_event(call, request->body);
  if (!input) return;
  record_event(call, *input, request->key, call->request.body, nullptr);
}

void create_refund(const CallPtr& call) {
  auto request = read_keyed_body(call);
  if (!request) return;
  const nlohmann::json& body = request->body;
  std::vector<FieldError> errors;
  Fields fields(body, "", errors);
  auto member_id = fields.integer("member_id", true, 1, std::numeric_limits<std::int64_t>::max());
  auto amount = fields.money("amount", true, 1);
  if (amount) check_currency(call, fields, "amount", *amount);
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
