// Evaluating an event against the earning program: a pure function of the program, the event,
// the member's facts and the counters it reads. No I/O, no clock: the store loads the counters
// `counters_needed` names, calls `evaluate`, and writes `Evaluation::updates` with the ledger
// command in one savepoint, so caps and budgets hold under concurrent events.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/counters.h"
#include "rules/program.h"

namespace pointsmall::rules {

struct Item {
  std::string sku;
  std::string category;
  std::string brand;
  MinorUnits price_minor = 0;  // per unit, list price
  std::int64_t quantity = 1;
};

// What happened, as the merchant reported it.
struct Event {
  std::string type;  // one of kEventTypes
  TimeUs occurred_at_us = 0;
  MinorUnits amount_minor = 0;  // purchase: what the customer paid in money
  std::string currency;
  MinorUnits discount_minor = 0;         // promotions and coupons
  MinorUnits points_discount_minor = 0;  // the money value of points used
  std::vector<Item> items;
  std::string channel;
  std::string store;
  std::string task;  // task and survey events: which one
};

// What the engine knows of the member besides counters (from the member's profile).
struct Member {
  MemberId id = 0;
  TimeUs joined_at_us = 0;
  std::vector<std::string> tags;
  int birthday_month = 0;  // 1..12, 0 unknown
  std::string segment;     // "" until segments exist
  MemberId referrer = 0;   // who referred this member; 0 none
};

// One line of an explanation: a rule (or built-in step) that fired, or one that did not and why.
struct Line {
  std::string rule;      // rule id, or "checkin", "streak", "tier", "referral"
  std::string campaign;  // the campaign of a campaign rule
  std::string kind;      // "fixed", "per_unit", "multiplier", "bonus", "checkin", ...
  Points points = 0;     // what it added after caps
  std::string detail;    // why, in words: the facts that made it fire, the caps that cut it
  friend bool operator==(const Line&, const Line&) = default;
};

struct TierChange {
  int from_level = 0;  // index into TierProgram::tiers
  int to_level = 0;
  std::string reason;
};

// A reward for another member that this event earns (the referrer of a friend's first purchase).
struct Award {
  MemberId member_id = 0;
  Points points = 0;
  std::string reason;
};

// Why an event earns nothing and must not be recorded (e.g. a second check-in the same day).
struct Refusal {
  std::string problem;  // a stable name: "already_checked_in", "checkin_disabled"
  std::string detail;
};

struct Evaluation {
  Points points = 0;          // for the member, >= 0
  std::vector<Line> fired;    // in the order applied
  std::vector<Line> skipped;  // rules for this event type that did not fire, with why; only
                              // with EvaluateOptions::explain_skipped
  Counters updates;           // new values of counters (only those that change)
  std::optional<TierChange> tier_change;
  int tier_level = 0;     // the member's tier after the event
  int validity_days = 0;  // the tier's longer point validity; 0: the program's expiry policy
  std::optional<Award> referrer_award;
  std::optional<Refusal> refusal;  // set: nothing else applies
};

struct EvaluateOptions {
  // Fill Evaluation::skipped: every rule that did not fire, with why (dry runs show them).
  // Off, `skipped` stays empty and no words are made for rules that do not fire; everything
  // else in the evaluation is the same either way.
  bool explain_skipped = false;
};

// The key of the period holding `at_us` in `zone`, as the engine's counter names use it:
// "d2026-11-22" (local day), "w2026-11-16" (the local Monday of the week), "m2026-11" (local
// month), "all" (lifetime). The mall's limits count in the same periods.
std::string period_key(Period period, TimeUs at_us, const TimeZone& zone);

// The counters `evaluate` will read for this event (caps, budgets, streak, tier, referral), with
// or without explain_skipped. Cap and budget counters are named only for rules that can fire:
// rules whose window, item filter or a condition decidable without counters fails, and rules a
// non-stacking rule certain to fire stops, read none.
std::vector<CounterKey> counters_needed(const Program& program, const Event& event,
                                        const Member& member);
// Evaluates the event. `counters` holds (at least) the values of counters_needed.
Evaluation evaluate(const Program& program, const Event& event, const Member& member,
                    const Counters& counters, const EvaluateOptions& options = {});

// The counters `review_tier` reads for a member.
std::vector<CounterKey> tier_counters_needed(const Program& program, MemberId member, TimeUs at_us);
// The periodic tier review at `at_us` (run after each period end): applies the downgrade
// policy to the period that ended last. No change when nothing is due or the member qualifies.
Evaluation review_tier(const Program& program, MemberId member, const Counters& counters,
                       TimeUs at_us);
// Moves a member to a tier by an operator's decision or a mall purchase, with a reason.
Evaluation set_tier(const Program& program, MemberId member, int level, const std::string& reason,
                    const Counters& counters, TimeUs at_us);

// ---- Standing: what a member sees now (read-only views for the API) ---------------------------

// The member's tier and the measure of the tier period containing `at_us`.
struct TierStanding {
  int level = 0;
  std::int64_t measure = 0;
  std::string first_month;  // "YYYY-MM", local: the period's first month
  std::string last_month;
};
// The counters tier_standing reads (none without tiers).
std::vector<CounterKey> tier_standing_counters(const Program& program, MemberId member,
                                               TimeUs at_us);
TierStanding tier_standing(const Program& program, MemberId member, const Counters& counters,
                           TimeUs at_us);

// The member's check-in state on the local day of `at_us`.
struct CheckinStanding {
  bool checked_in_today = false;
  std::int64_t streak = 0;   // the streak a check-in today continues or has made; 0: broken
  std::string last_checkin;  // "YYYY-MM-DD", or "" never
};
std::vector<CounterKey> checkin_counters(MemberId member);
CheckinStanding checkin_standing(const Program& program, MemberId member, const Counters& counters,
                                 TimeUs at_us);

}  // namespace pointsmall::rules
