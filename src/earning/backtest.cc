#include "earning/backtest.h"

#include <stdexcept>
#include <unordered_map>

#include "earning/event_payload.h"
#include "earning/member_facts.h"
#include "earning/preparers.h"
#include "rules/evaluate.h"

namespace pointsmall::earning {
namespace {

constexpr const char* kNotRecorded = "(not recorded)";

void add(BackTestTotals& totals, const std::string& rule, const std::string& tier,
         const std::string& day, Points points) {
  totals.points += points;
  totals.by_rule[rule] += points;
  totals.by_tier[tier] += points;
  totals.by_day[day] += points;
}

// What was issued for a stored event, from its earning record when it has one.
void add_actual(BackTest& result, const store::StoredEvent& event, const std::string& day) {
  const nlohmann::json record = nlohmann::json::parse(event.earning_record, nullptr, false);
  if (!record.is_object()) {
    ++result.events_without_record;
    add(result.actual, kNotRecorded, "", day, event.points);
    return;
  }
  const std::string tier = record.value("tier", "");
  for (const nlohmann::json& line : record.value("rules", nlohmann::json::array()))
    add(result.actual, line.value("rule", ""), tier, day, line.value("points", Points{0}));
  if (auto award = record.find("referrer_award"); award != record.end())
    add(result.actual, "referral (referrer)", tier, day, award->value("points", Points{0}));
}

}  // namespace

BackTest back_test(store::LedgerStore& ledger, store::MemberDirectory& members,
                   const rules::Program& draft, TimeUs from_us, TimeUs until_us) {
  BackTest result;
  result.from_us = from_us;
  result.until_us = until_us;
  Counters counters;
  std::unordered_map<MemberId, rules::Member> facts;
  TransactionId after = 0;
  for (;;) {
    const auto page = ledger.events(from_us, until_us, after, store::LedgerStore::kMaxEventPage);
    if (page.empty()) break;
    for (const store::StoredEvent& stored : page) {
      if (++result.events > kMaxBackTestEvents)
        throw BackTestTooLarge("the range holds more than " + std::to_string(kMaxBackTestEvents) +
                               " events; narrow it");
      auto known = facts.find(stored.member_id);
      if (known == facts.end()) {
        rules::Member member;
        member.id = stored.member_id;
        if (auto record = members.find(stored.member_id)) member = member_facts(*record, ledger);
        known = facts.emplace(stored.member_id, std::move(member)).first;
      }
      const std::string day = format_local_date(*draft.zone, stored.occurred_at_us);
      add_actual(result, stored, day);

      const nlohmann::json payload = nlohmann::json::parse(stored.payload, nullptr, false);
      const rules::Event event = event_from_payload(stored.type, stored.occurred_at_us, payload);
      const rules::Evaluation evaluation = rules::evaluate(draft, event, known->second, counters);
      if (evaluation.refusal) {
        ++result.refused[evaluation.refusal->problem];
        continue;
      }
      for (const auto& [key, value] : evaluation.updates) counters[key] = value;
      // The tier the member was in when the event came, as the actual record says it.
      const std::string tier = tier_id(draft, tier_at_event(evaluation));
      for (const rules::Line& line : evaluation.fired)
        add(result.simulated, line.rule, tier, day, line.points);
      if (const auto& award = evaluation.referrer_award)
        add(result.simulated, "referral (referrer)", tier, day, award->points);
    }
    after = page.back().transaction_id;
  }
  result.members = static_cast<std::int64_t>(facts.size());
  return result;
}

nlohmann::json back_test_json(const BackTest& result) {
  auto totals = [](const BackTestTotals& t) {
    return nlohmann::json{
        {"points", t.points}, {"by_rule", t.by_rule}, {"by_tier", t.by_tier}, {"by_day", t.by_day}};
  };
  return {{"from", format_rfc3339_utc(result.from_us)},
          {"until", format_rfc3339_utc(result.until_us)},
          {"events", result.events},
          {"members", result.members},
          {"simulated", totals(result.simulated)},
          {"actual", totals(result.actual)},
          {"difference", result.simulated.points - result.actual.points},
          {"refused", result.refused},
          {"events_without_record", result.events_without_record}};
}

}  // namespace pointsmall::earning
