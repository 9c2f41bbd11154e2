#include "earning/preparers.h"

#include <variant>

#include "core/json_text.h"

namespace pointsmall::earning {
namespace {

void append_member(std::string& out, std::string_view name, std::string_view text) {
  append_json_string(out, name);
  out += ':';
  append_json_string(out, text);
}

void append_member(std::string& out, std::string_view name, std::int64_t value) {
  append_json_string(out, name);
  out += ':';
  append_json_number(out, value);
}

constexpr std::size_t kMaxReasonLength = 500;   // the ledger's limit (ledger::validate)
constexpr std::size_t kRulesNamedInReason = 5;  // the rest are in the earning record

// "278 points: base-rate-gbp 139, weekend 139"; after five rules "and 3 more". Rule ids are at
// most 64 characters, so this stays well within the ledger's 500 for a reason.
std::string summary(const rules::Evaluation& evaluation) {
  std::string text = std::to_string(evaluation.points) + " points";
  std::string separator = ": ";
  for (std::size_t i = 0; i < evaluation.fired.size(); ++i) {
    if (i == kRulesNamedInReason) {
      text += " and " + std::to_string(evaluation.fired.size() - i) + " more";
      break;
    }
    const rules::Line& line = evaluation.fired[i];
    text += separator + line.rule + " " + std::to_string(line.points);
    separator = ", ";
  }
  return text;
}

// Shortens `text` to at most `bytes` without splitting a UTF-8 character.
void truncate_utf8(std::string& text, std::size_t bytes) {
  if (text.size() <= bytes) return;
  std::size_t end = bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  text.resize(end);
}

store::TierChangeRecord tier_record(const rules::TierChange& change) {
  return store::TierChangeRecord{change.from_level, change.to_level, change.reason};
}

}  // namespace

int tier_at_event(const rules::Evaluation& evaluation) {
  return evaluation.tier_change ? evaluation.tier_change->from_level : evaluation.tier_level;
}

std::string tier_id(const rules::Program& program, int level) {
  if (!program.tiers || level < 0 || level >= static_cast<int>(program.tiers->tiers.size()))
    return "";
  return program.tiers->tiers[static_cast<std::size_t>(level)].id;
}

std::string lines_text(const std::vector<rules::Line>& lines) {
  std::string out = "[";
  out.reserve(lines.size() * 160);
  for (const rules::Line& line : lines) {
    if (out.size() > 1) out += ',';
    // Keys in the order nlohmann::json writes them, so that a replay, which re-writes the stored
    // record, answers the same text.
    out += '{';
    if (!line.campaign.empty()) {
      append_member(out, "campaign", line.campaign);
      out += ',';
    }
    append_member(out, "detail", line.detail);
    out += ',';
    append_member(out, "kind", line.kind);
    out += ',';
    append_member(out, "points", line.points);
    out += ',';
    append_member(out, "rule", line.rule);
    out += '}';
  }
  out += ']';
  return out;
}

std::string earning_record_text(const rules::Program& program, const rules::Evaluation& evaluation,
                                const std::string& explanation) {
  std::string out = "{";
  append_member(out, "points", evaluation.points);
  out += R"(,"rules":)";
  out += explanation;
  if (program.tiers) {
    out += ',';
    append_member(out, "tier", tier_id(program, tier_at_event(evaluation)));
  }
  if (const auto& change = evaluation.tier_change) {
    out += R"(,"tier_change":{)";
    append_member(out, "from", tier_id(program, change->from_level));
    out += ',';
    append_member(out, "to", tier_id(program, change->to_level));
    out += ',';
    append_member(out, "reason", change->reason);
    out += '}';
  }
  if (const auto& award = evaluation.referrer_award) {
    out += R"(,"referrer_award":{)";
    append_member(out, "member_id", award->member_id);
    out += ',';
    append_member(out, "points", award->points);
    out += ',';
    append_member(out, "reason", award->reason);
    out += '}';
  }
  out += '}';
  return out;
}

nlohmann::json earning_record_json(const rules::Program& program,
                                   const rules::Evaluation& evaluation) {
  return nlohmann::json::parse(
      earning_record_text(program, evaluation, lines_text(evaluation.fired)));
}

nlohmann::json skipped_json(const rules::Evaluation& evaluation) {
  return nlohmann::json::parse(lines_text(evaluation.skipped));
}

EventPreparer::EventPreparer(std::shared_ptr<const rules::Program> program, rules::Event event,
                             rules::Member member)
    : program_(std::move(program)), event_(std::move(event)), member_(std::move(member)) {}

std::vector<CounterKey> EventPreparer::counters_needed(const ledger::Command&) {
  return rules::counters_needed(*program_, event_, member_);
}

store::Preparation EventPreparer::prepare(ledger::Command& command, const Counters& current,
                                          const store::Records& /*records*/) {
  store::Preparation preparation;
  evaluation_ = rules::evaluate(*program_, event_, member_, current);
  if (const auto& refusal = evaluation_.refusal) {
    preparation.refusal = store::Refusal{refusal->problem, refusal->detail};
    return preparation;
  }
  if (std::holds_alternative<ledger::RecordEvent>(command.body) && evaluation_.points > 0) {
    ledger::Earn earn;
    earn.source = event_.type;
    command.body = earn;
  }
  if (auto* earn = std::get_if<ledger::Earn>(&command.body)) {
    earn->points = evaluation_.points;
    if (evaluation_.validity_days > 0)
      earn->expires_at_us = command.at_us + evaluation_.validity_days * kMicrosPerDay;
  }
  command.reason += ": " + summary(evaluation_);
  truncate_utf8(command.reason, kMaxReasonLength);
  preparation.counter_updates = evaluation_.updates;
  explanation_ = lines_text(evaluation_.fired);
  preparation.earning_record = earning_record_text(*program_, evaluation_, explanation_);
  if (evaluation_.tier_change) preparation.tier_change = tier_record(*evaluation_.tier_change);
  if (const auto& award = evaluation_.referrer_award) {
    ledger::Command reward;
    // One reward per friend, ever: a retry of the friend's purchase cannot pay twice.
    reward.idempotency_key = "referral-reward:" + std::to_string(member_.id);
    reward.member_id = award->member_id;
    reward.at_us = command.at_us;
    reward.actor = "earning-engine";
    reward.reason = award->reason;
    ledger::Earn earn;
    earn.points = award->points;
    earn.source = "referral";
    reward.body = earn;
    preparation.follow_ups.push_back(std::move(reward));
  }
  return preparation;
}

std::shared_ptr<TierPreparer> TierPreparer::review(std::shared_ptr<const rules::Program> program,
                                                   MemberId member) {
  return std::shared_ptr<TierPreparer>(new TierPreparer(std::move(program), member, true, 0, ""));
}

std::shared_ptr<TierPreparer> TierPreparer::set(std::shared_ptr<const rules::Program> program,
                                                MemberId member, int level, std::string reason) {
  return std::shared_ptr<TierPreparer>(
      new TierPreparer(std::move(program), member, false, level, std::move(reason)));
}

TierPreparer::TierPreparer(std::shared_ptr<const rules::Program> program, MemberId member,
                           bool review, int level, std::string reason)
    : program_(std::move(program)),
      member_(member),
      review_(review),
      level_(level),
      reason_(std::move(reason)) {}

std::vector<CounterKey> TierPreparer::counters_needed(const ledger::Command& command) {
  return rules::tier_counters_needed(*program_, member_, command.at_us);
}

store::Preparation TierPreparer::prepare(ledger::Command& command, const Counters& current,
                                         const store::Records& /*records*/) {
  store::Preparation preparation;
  evaluation_ = review_
                    ? rules::review_tier(*program_, member_, current, command.at_us)
                    : rules::set_tier(*program_, member_, level_, reason_, current, command.at_us);
  if (const auto& refusal = evaluation_.refusal) {
    preparation.refusal = store::Refusal{refusal->problem, refusal->detail};
    return preparation;
  }
  if (evaluation_.updates.empty()) {
    preparation.refusal = store::Refusal{"tier_review_not_due", "no tier period has ended"};
    return preparation;
  }
  if (const auto& change = evaluation_.tier_change) {
    command.reason = change->reason;
    preparation.tier_change = tier_record(*change);
  } else {
    std::string kept = "tier review: kept " + tier_id(*program_, evaluation_.tier_level);
    for (const rules::Line& line : evaluation_.fired) kept += "; " + line.detail;
    command.reason = kept;
  }
  preparation.counter_updates = evaluation_.updates;
  preparation.earning_record =
      earning_record_text(*program_, evaluation_, lines_text(evaluation_.fired));
  return preparation;
}

}  // namespace pointsmall::earning
