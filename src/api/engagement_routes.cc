// Members and the earning engine: tiers (with their history), check-ins, referral codes and
// tasks, for the merchant and operators and for the signed-in member (/v1/me/...).

#include "api/api.h"
#include "api/events.h"
#include "api/json_input.h"
#include "api/render.h"
#include "api/routes.h"
#include "auth/crypto.h"
#include "earning/preparers.h"

namespace pointsmall::api {
namespace {

constexpr std::size_t kTierHistoryLimit = 50;
constexpr std::size_t kReferralCodeBytes = 10;  // 80 bits

nlohmann::json tier_json(const rules::Program& program, int level) {
  if (!program.tiers || level < 0 || level >= static_cast<int>(program.tiers->tiers.size()))
    return nullptr;
  const rules::Tier& tier = program.tiers->tiers[static_cast<std::size_t>(level)];
  return {{"level", level},
          {"id", tier.id},
          {"name", tier.name},
          {"threshold", tier.threshold},
          {"earn_percent", tier.earn_percent},
          {"validity_days", tier.validity_days},
          {"redemption_discount_percent", tier.redemption_discount_percent},
          {"exclusive_item_tags", tier.exclusive_item_tags}};
}

void answer_tier(const CallPtr& call, MemberId member_id, std::vector<http::Header> headers = {}) {
  const auto program = call->services.earning.current();
  nlohmann::json body = {{"member_id", member_id}};
  if (!program->tiers) {
    call->fail(problem(ApiError::not_found, "the program has no tiers"));
    return;
  }
  const rules::TierProgram& tiers = *program->tiers;
  const TimeUs now = call->services.clock.now_us();
  const Counters counters =
      call->services.ledger.counters(rules::tier_standing_counters(*program, member_id, now));
  const rules::TierStanding standing = rules::tier_standing(*program, member_id, counters, now);
  const int level = standing.level;
  const std::int64_t measure = standing.measure;
  body["tier"] = tier_json(*program, level);
  body["measure"] = {{"kind", tiers.measure == rules::TierMeasure::points_earned ? "points_earned"
                                                                                 : "money_spent"},
                     {"value", measure},
                     {"from_month", standing.first_month},
                     {"to_month", standing.last_month}};
  if (!tiers.currency.empty()) body["measure"]["currency"] = tiers.currency;
  if (level + 1 < static_cast<int>(tiers.tiers.size())) {
    nlohmann::json next = tier_json(*program, level + 1);
    next["remaining"] = std::max<std::int64_t>(0, next["threshold"].get<std::int64_t>() - measure);
    body["next_tier"] = next;
  } else {
    body["next_tier"] = nullptr;
  }
  nlohmann::json history = nlohmann::json::array();
  for (const store::TierChangeRow& change :
       call->services.ledger.tier_changes(member_id, kTierHistoryLimit))
    history.push_back({{"at", format_rfc3339_utc(change.at_us)},
                       {"from", earning::tier_id(*program, change.from_level)},
                       {"to", earning::tier_id(*program, change.to_level)},
                       {"reason", change.reason},
                       {"transaction_id", change.transaction_id}});
  body["history"] = std::move(history);
  call->json(200, body, std::move(headers));
}

// A check-in, or a task completion: an event of its own, with an empty body or none.
void record_own_event(const CallPtr& call, MemberId member_id, nlohmann::json event,
                      const EventAnswer& answer) {
  if (!call->request.body.empty()) {
    auto body = read_body(call);
    if (!body) return;
    if (!body->empty()) {
      std::vector<FieldError> errors{{body->begin().key(), "is not a field of this call"}};
      fail_if_invalid(call, errors);
      return;
    }
  }
  auto key = idempotency_key(call);
  if (!key) return;
  event["member_id"] = member_id;
  auto input = read_event(call, event);
  if (!input) return;
  record_event(call, *input, *key, event.dump(), answer);
}

void checkin(const CallPtr& call, MemberId member_id) {
  record_own_event(call, member_id, {{"type", "checkin"}},
                   [call_services = &call->services, member_id](
                       nlohmann::json& body, const rules::Evaluation& evaluation, bool replayed) {
                     const CounterKey streak{member_id, "checkin.streak"};
                     body["streak"] =
                         replayed ? counter_value(call_services->ledger.counters({streak}), streak)
                                  : counter_value(evaluation.updates, streak);
                   });
}

void answer_checkins(const CallPtr& call, MemberId member_id) {
  const auto program = call->services.earning.current();
  const TimeUs now = call->services.clock.now_us();
  const rules::CheckinStanding standing = rules::checkin_standing(
      *program, member_id, call->services.ledger.counters(rules::checkin_counters(member_id)), now);
  nlohmann::json rewards = nlohmann::json::array();
  for (const rules::StreakReward& reward : program->checkin.streak_rewards)
    rewards.push_back({{"day", reward.day}, {"points", reward.points}});
  call->json(200, {{"enabled", program->checkin.enabled},
                   {"today", format_local_date(*program->zone, now)},
                   {"time_zone", program->zone->name()},
                   {"checked_in_today", standing.checked_in_today},
                   {"streak", standing.streak},
                   {"last_checkin", text_or_null(standing.last_checkin)},
                   {"points_per_checkin", program->checkin.points},
                   {"streak_rewards", std::move(rewards)},
                   {"cycle_days", program->checkin.cycle_days}});
}

void answer_referral(const CallPtr& call, MemberId member_id) {
  const std::string code = call->services.members.referral_code(
      member_id, auth::base32_encode(auth::random_token(kReferralCodeBytes)).substr(0, 16));
  const auto program = call->services.earning.current();
  const rules::ReferralProgram& referral = program->referral;
  const CounterKey qualified{member_id, "referral.qualified"};
  const Counters counters = call->services.ledger.counters({qualified});
  nlohmann::json body = {{"member_id", member_id},
                         {"code", code},
                         {"enabled", referral.enabled},
                         {"referrer_points", referral.referrer_points},
                         {"friend_points", referral.friend_points},
                         {"max_rewards_per_month", referral.max_rewards_per_month},
                         {"can_earn_rewards", counter_value(counters, qualified) != 0}};
  if (referral.enabled)
    body["min_purchase"] = {{"amount", referral.min_purchase_minor},
                            {"currency", referral.currency}};
  call->json(200, body);
}

// The task a rule pays for: the value of its condition task == "...", or "".
std::string task_of(const rules::Rule& rule) {
  for (const rules::Condition& condition : rule.conditions)
    if (condition.field == "task" && condition.op == rules::Operator::eq &&
        condition.texts.size() == 1)
      return condition.texts.front();
  return "";
}

void answer_tasks(const CallPtr& call, MemberId member_id) {
  const auto program = call->services.earning.current();
  nlohmann::json data = nlohmann::json::array();
  std::vector<CounterKey> keys;
  std::vector<const rules::Rule*> task_rules;
  for (const rules::Rule& rule : program->rules) {
    if ((rule.event_type != "task" && rule.event_type != "survey") || !rule.enabled) continue;
    if (task_of(rule).empty()) continue;
    task_rules.push_back(&rule);
    keys.push_back({member_id, "rule:" + rule.id + ":all:times"});
  }
  const Counters counters = member_id != 0 ? call->services.ledger.counters(keys) : Counters{};
  for (std::size_t i = 0; i < task_rules.size(); ++i) {
    const rules::Rule& rule = *task_rules[i];
    nlohmann::json task = {{"task", task_of(rule)},
                           {"type", rule.event_type},
                           {"rule", rule.id},
                           {"name", rule.name},
                           {"points", rule.effect.points}};
    std::int64_t limit = 0;
    for (const rules::MemberCap& cap : rule.caps.per_member)
      if (cap.period == rules::Period::lifetime && cap.times > 0) limit = cap.times;
    task["times_per_member"] = limit == 0 ? nlohmann::json(nullptr) : nlohmann::json(limit);
    // Completions are counted for tasks with a limit per member (the cap's counter); else null.
    if (member_id != 0)
      task["completed"] =
          limit == 0 ? nlohmann::json(nullptr) : nlohmann::json(counter_value(counters, keys[i]));
    data.push_back(std::move(task));
  }
  call->json(200, {{"data", std::move(data)}});
}

std::optional<int> level_of(const rules::Program& program, const std::string& id) {
  if (!program.tiers) return std::nullopt;
  for (std::size_t i = 0; i < program.tiers->tiers.size(); ++i)
    if (program.tiers->tiers[i].id == id) return static_cast<int>(i);
  return std::nullopt;
}

}  // namespace

void get_member_tier(const CallPtr& call) {
  if (auto account = member_param(call, 0)) answer_tier(call, account->member_id);
}

void get_my_tier(const CallPtr& call) {
  answer_tier(call, call->caller.id);
}

// POST /v1/members/{id}/tier {"tier", "reason"}: an operator moves a member to a tier.
void set_member_tier(const CallPtr& call) {
  auto account = member_param(call, 0);
  if (!account) return;
  auto request = read_keyed_body(call);
  if (!request) return;
  std::vector<FieldError> errors;
  Fields fields(request->body, "", errors);
  auto tier = fields.text("tier", TextRule{.required = true, .max_length = 64});
  auto reason = fields.text("reason", TextRule{.required = true, .max_length = 500});
  fields.reject_unknown({"tier", "reason"});
  if (fail_if_invalid(call, errors)) return;
  const auto program = call->services.earning.current();
  auto level = level_of(*program, *tier);
  if (!level) {
    call->fail(problem(ApiError::unknown_tier, "the program has no tier \"" + *tier + "\""));
    return;
  }
  ledger::Command command = ledger_command(call, request->key, account->member_id);
  command.reason = *reason;
  command.body = ledger::RecordEvent{"tier_change"};
  auto preparer = earning::TierPreparer::set(program, account->member_id, *level,
                                             "set by " + call->caller.actor + ": " + *reason);
  call->submit_prepared(
      std::move(command), preparer,
      [member_id = account->member_id](const CallPtr& c, const store::CommandResult& result) {
        answer_tier(c, member_id);
        (void)result;
      });
}

void create_member_checkin(const CallPtr& call) {
  if (auto account = member_param(call, 0)) checkin(call, account->member_id);
}

void create_my_checkin(const CallPtr& call) {
  checkin(call, call->caller.id);
}

void get_my_checkins(const CallPtr& call) {
  answer_checkins(call, call->caller.id);
}

void get_member_checkins(const CallPtr& call) {
  if (auto account = member_param(call, 0)) answer_checkins(call, account->member_id);
}

void get_member_referral(const CallPtr& call) {
  if (auto account = member_param(call, 0)) answer_referral(call, account->member_id);
}

void get_my_referral(const CallPtr& call) {
  answer_referral(call, call->caller.id);
}

void list_tasks(const CallPtr& call) {
  answer_tasks(call, 0);
}

void list_my_tasks(const CallPtr& call) {
  answer_tasks(call, call->caller.id);
}

// POST /v1/members/{id}/tasks/{task}/completions: the merchant reports a completed task (a
// survey when the rule that pays for it is a survey rule).
void complete_task(const CallPtr& call) {
  auto account = member_param(call, 0);
  if (!account) return;
  const std::string& task = call->params.at(1);
  std::string type = "task";
  for (const rules::Rule& rule : call->services.earning.current()->rules)
    if (rule.event_type == "survey" && task_of(rule) == task) type = "survey";
  record_own_event(call, account->member_id, {{"type", type}, {"task", task}}, nullptr);
}

}  // namespace pointsmall::api
