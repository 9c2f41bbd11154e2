// Operators' changes to a member's points: adjustments with a reason, freezing and unfreezing.
#include "api/api.h"
#include "api/json_input.h"
#include "api/render.h"
#include "api/routes.h"

namespace pointsmall::api {
namespace {

constexpr std::int64_t kMaxAdjustment = 1'000'000'000;

// The command for the member in the path (answers 404 and returns nullopt for an unknown one),
// with the operator's reason (a missing reason is a field error).
std::optional<ledger::Command> operator_command(const CallPtr& call, const std::string& key,
                                                Fields& fields) {
  auto account = member_param(call, 0);
  if (!account) return std::nullopt;
  ledger::Command command = ledger_command(call, key, account->member_id);
  command.reason =
      fields.text("reason", TextRule{.required = true, .max_length = 500}).value_or("");
  return command;
}

void set_frozen(const CallPtr& call, bool frozen) {
  auto request = read_keyed_body(call);
  if (!request) return;
  std::vector<FieldError> errors;
  Fields fields(request->body, "", errors);
  auto command = operator_command(call, request->key, fields);
  if (!command) return;
  fields.reject_unknown({"reason"});
  if (fail_if_invalid(call, errors)) return;
  if (frozen)
    command->body = ledger::FreezeAccount{};
  else
    command->body = ledger::UnfreezeAccount{};
  call->submit(std::move(*command), [frozen](const CallPtr& c, const store::CommandResult& result) {
    answer_command(c, result, 200,
                   {{"member_id", result.outcome.member_id},
                    {"account_frozen", frozen},
                    {"transaction_id", result.outcome.transaction_id}});
  });
}

}  // namespace

void create_adjustment(const CallPtr& call) {
  auto request = read_keyed_body(call);
  if (!request) return;
  std::vector<FieldError> errors;
  Fields fields(request->body, "", errors);
  auto command = operator_command(call, request->key, fields);
  if (!command) return;
  auto points = fields.integer("points", true, -kMaxAdjustment, kMaxAdjustment);
  if (points && *points == 0) fields.error("points", "must not be 0");
  fields.reject_unknown({"points", "reason"});
  if (fail_if_invalid(call, errors)) return;
  command->body = ledger::Adjust{*points};
  call->submit(std::move(*command), [](const CallPtr& c, const store::CommandResult& result) {
    const ledger::Outcome& o = result.outcome;
    answer_command(c, result, 201,
                   {{"transaction_id", o.transaction_id},
                    {"member_id", o.member_id},
                    {"points", o.points},
                    {"balance", balance_after(o)}});
  });
}

void freeze_member(const CallPtr& call) {
  set_frozen(call, true);
}
void unfreeze_member(const CallPtr& call) {
  set_frozen(call, false);
}

}  // namespace pointsmall::api
