// The earning engine inside the ledger's writer: preparers (store/preparer.h) that evaluate an
// event, or review or set a tier, against the counters of that moment.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "rules/evaluate.h"
#include "store/preparer.h"

namespace pointsmall::earning {

// What the store keeps with an earning transaction and the API shows as its explanation:
// {"points", "rules": [{"rule", "campaign", "kind", "points", "detail"}], "tier" (when the event
// came), plus
// "tier_change" and "referrer_award" when there are.
nlohmann::json earning_record_json(const rules::Program& program,
                                   const rules::Evaluation& evaluation);
// The same as text, written directly (it is written on every earn); `explanation` is
// lines_text(evaluation.fired).
std::string earning_record_text(const rules::Program& program, const rules::Evaluation& evaluation,
                                const std::string& explanation);
// Lines as a JSON array's text: [{"campaign" (when set), "detail", "kind", "points", "rule"}],
// keys sorted as nlohmann::json::dump sorts them.
std::string lines_text(const std::vector<rules::Line>& lines);
// The same lines for rules that did not fire (dry runs).
nlohmann::json skipped_json(const rules::Evaluation& evaluation);

// Evaluates an event. The command's body is an Earn (purchases: its points are set) or a
// RecordEvent (other events: it becomes an Earn when the event earns points). Points earned in
// a tier with a longer validity expire after it.
class EventPreparer final : public store::Preparer {
 public:
  EventPreparer(std::shared_ptr<const rules::Program> program, rules::Event event,
                rules::Member member);

  std::vector<CounterKey> counters_needed(const ledger::Command& command) override;
  store::Preparation prepare(ledger::Command& command, const Counters& current,
                             const store::Records& /*records*/) override;
  // The last evaluation (after the writer prepared the command).
  [[nodiscard]] const rules::Evaluation& evaluation() const { return evaluation_; }
  // Its explanation as JSON text: the array of the lines that fired (the record's "rules").
  [[nodiscard]] const std::string& explanation() const { return explanation_; }
  [[nodiscard]] const rules::Program& program() const { return *program_; }

 private:
  std::shared_ptr<const rules::Program> program_;
  rules::Event event_;
  rules::Member member_;
  rules::Evaluation evaluation_;
  std::string explanation_;
};

// Reviews a member's tier at the command's time (downgrades at period ends), or moves the member
// to `level`. The command's body is a RecordEvent; a review with nothing due is refused as
// "tier_review_not_due", so that it leaves no transaction.
class TierPreparer final : public store::Preparer {
 public:
  static std::shared_ptr<TierPreparer> review(std::shared_ptr<const rules::Program> program,
                                              MemberId member);
  static std::shared_ptr<TierPreparer> set(std::shared_ptr<const rules::Program> program,
                                           MemberId member, int level, std::string reason);

  std::vector<CounterKey> counters_needed(const ledger::Command& command) override;
  store::Preparation prepare(ledger::Command& command, const Counters& current,
                             const store::Records& /*records*/) override;
  [[nodiscard]] const rules::Evaluation& evaluation() const { return evaluation_; }

 private:
  TierPreparer(std::shared_ptr<const rules::Program> program, MemberId member, bool review,
               int level, std::string reason);
  std::shared_ptr<const rules::Program> program_;
  MemberId member_;
  bool review_;
  int level_;
  std::string reason_;
  rules::Evaluation evaluation_;
};

// The member's tier level when the event came (before any upgrade it brought).
int tier_at_event(const rules::Evaluation& evaluation);
// The tier's id at `level`, or "" without tiers.
std::string tier_id(const rules::Program& program, int level);

}  // namespace pointsmall::earning
