// Reports for the operators' console: the program's activity by local day, and a member's lots.
#include <algorithm>
#include <cstdio>

#include "api/api.h"
#include "api/render.h"
#include "api/routes.h"
#include "core/time_zone.h"

namespace pointsmall::api {
namespace {

constexpr std::int64_t kMaxReportDays = 400;
constexpr std::int64_t kDefaultReportDays = 30;
constexpr std::size_t kTopItems = 10;

std::string date_text(std::int64_t days) {
  const CivilTime date = civil_from_days(days);
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02d-%02d", date.year, date.month, date.day);
  return text;
}

// A query parameter "YYYY-MM-DD" (a real day from 2000 to 9999) as days since 1970, or an error.
std::optional<std::int64_t> date_param(const CallPtr& call, std::string_view name,
                                       std::vector<FieldError>& errors) {
  auto text = call->query_value(name);
  if (!text) return std::nullopt;
  int year = 0;
  int month = 0;
  int day = 0;
  char extra = 0;
  if (text->size() != 10 || (*text)[4] != '-' || (*text)[7] != '-' ||
      std::sscanf(text->c_str(), "%4d-%2d-%2d%c", &year, &month, &day, &extra) != 3 ||
      year < 2000 || !is_valid_date(year, month, day)) {
    errors.push_back({std::string(name), "must be a date YYYY-MM-DD from 2000-01-01"});
    return std::nullopt;
  }
  return days_from_civil(year, month, day);
}

// The instant the local day `days` (since 1970) begins in `zone`.
TimeUs day_start_us(const TimeZone& zone, std::int64_t days) {
  return zone.to_utc(civil_from_days(days));
}

struct DayFigures {
  Points issued = 0;
  Points redeemed = 0;
  Points expired = 0;
  Points outstanding = 0;
  std::int64_t new_members = 0;
  std::int64_t checkins = 0;
  std::int64_t redemptions = 0;

  // Adds what `more` (a bucket or another day) counted; `outstanding` is a level, not a count,
  // so it is not added.
  template <typename Counted>
  void add_counts(const Counted& more) {
    issued += more.issued;
    redeemed += more.redeemed;
    expired += more.expired;
    new_members += more.new_members;
    checkins += more.checkins;
    redemptions += more.redemptions;
  }
};

// The value of `points` at `per_100_points` minor units per 100 points, rounded down.
MinorUnits points_value(Points points, std::int64_t per_100_points) {
  const Points whole = points / 100;
  const Points rest = points % 100;
  return whole * per_100_points + rest * per_100_points / 100;
}

nlohmann::json lot_json(const ledger::Lot& lot) {
  auto time_or_null = [](TimeUs at_us) {
    return at_us <= 0 || at_us == kTimeNever ? nlohmann::json(nullptr)
                                             : nlohmann::json(format_rfc3339_utc(at_us));
  };
  return {{"id", lot.id},
          {"points", lot.amount},
          {"remaining", lot.remaining},
          {"state", ledger::lot_state_name(lot.state)},
          {"source", lot.source},
          {"order_id", text_or_null(lot.order_id)},
          {"earned_at", format_rfc3339_utc(lot.earned_at_us)},
          {"matures_at", time_or_null(lot.matures_at_us)},
          {"expires_at", time_or_null(lot.expires_at_us)}};
}

bool is_live(const ledger::Lot& lot) {
  return lot.remaining > 0 &&
         (lot.state == ledger::LotState::pending || lot.state == ledger::LotState::active ||
          lot.state == ledger::LotState::frozen);
}

}  // namespace

void get_overview_report(const CallPtr& call) {
  const TimeZone& zone = *call->services.ledger.policy().zone;
  const CivilTime today = zone.to_local(call->services.clock.now_us());
  std::vector<FieldError> errors;
  const auto from = date_param(call, "from", errors);
  const auto until = date_param(call, "until", errors);
  if (fail_if_invalid(call, errors)) return;
  const std::int64_t last = until.value_or(days_from_civil(today.year, today.month, today.day));
  const std::int64_t first = from.value_or(last - (kDefaultReportDays - 1));
  if (first > last)
    errors.push_back({from ? "from" : "until", "must not be after until (the last day)"});
  else if (last - first + 1 > kMaxReportDays)
    errors.push_back({until ? "until" : "from", "must make a range of at most 400 days"});
  if (fail_if_invalid(call, errors)) return;

  // Day i is [starts[i], starts[i + 1]) in the program's time zone (23 or 25 hours at DST).
  std::vector<TimeUs> starts;
  for (std::int64_t day = first; day <= last + 1; ++day) starts.push_back(day_start_us(zone, day));
  const TimeUs from_us = starts.front() / store::kActivityBucketUs * store::kActivityBucketUs;
  const std::vector<store::ActivityBucket> buckets = call->services.ledger.activity(from_us);
  const store::ProgramSummary summary = call->services.ledger.summary();
  const Points outstanding_now =
      summary.available + summary.pending + summary.frozen + summary.held;

  // Outstanding at the end of a day: now, less every change since.
  Points change_since_from = 0;
  for (const store::ActivityBucket& bucket : buckets)
    change_since_from += bucket.outstanding_change;
  std::vector<DayFigures> days(starts.size() - 1);
  Points change_before_end = 0;  // of the buckets before the current day's end
  std::size_t next = 0;
  for (std::size_t i = 0; i < days.size(); ++i) {
    DayFigures& day = days[i];
    for (; next < buckets.size() && buckets[next].start_us < starts[i + 1]; ++next) {
      const store::ActivityBucket& bucket = buckets[next];
      change_before_end += bucket.outstanding_change;
      if (bucket.start_us < starts[i]) continue;  // before the first day (its bucket's start)
      day.add_counts(bucket);
    }
    day.outstanding = outstanding_now - (change_since_from - change_before_end);
  }

  nlohmann::json day_list = nlohmann::json::array();
  DayFigures total;
  for (std::size_t i = 0; i < days.size(); ++i) {
    const DayFigures& day = days[i];
    day_list.push_back({{"date", date_text(first + static_cast<std::int64_t>(i))},
                        {"issued", day.issued},
                        {"redeemed", day.redeemed},
                        {"expired", day.expired},
                        {"outstanding", day.outstanding},
                        {"new_members", day.new_members},
                        {"checkins", day.checkins},
                        {"redemptions", day.redemptions}});
    total.add_counts(day);
  }
  const ProgramSettings& program = call->services.program;
  const std::int64_t rate_bp = total.issued > 0 ? total.redeemed * 10'000 / total.issued : 0;
  nlohmann::json items = nlohmann::json::array();
  for (const store::ItemRedemptions& item :
       call->services.ledger.top_items(starts.front(), starts.back(), kTopItems))
    items.push_back({{"item_id", item.item_id},
                     {"name", item.name},
                     {"orders", item.orders},
                     {"units", item.units},
                     {"points", item.points}});
  nlohmann::json totals = {
      {"issued", total.issued},
      {"redeemed", total.redeemed},
      {"expired", total.expired},
      {"new_members", total.new_members},
      {"checkins", total.checkins},
      {"redemptions", total.redemptions},
      {"outstanding", outstanding_now},
      {"members", summary.members},
      {"liability",
       {{"amount", points_value(outstanding_now, program.point_value_per_100_points)},
        {"currency", program.currency}}},
      {"redemption_rate_bp", rate_bp}};
  call->json(200, {{"from", date_text(first)},
                   {"until", date_text(last)},
                   {"currency", program.currency},
                   {"days", std::move(day_list)},
                   {"totals", std::move(totals)},
                   {"top_items", std::move(items)}});
}

void list_member_lots(const CallPtr& call) {
  auto account = member_param(call, 0);
  if (!account) return;
  auto page = page_params(call);
  if (!page) return;
  bool live_only = true;
  if (auto state = call->query_value("state")) {
    std::vector<FieldError> errors;
    if (*state == "all")
      live_only = false;
    else if (*state != "live")
      errors.push_back({"state", "must be live or all"});
    if (fail_if_invalid(call, errors)) return;
  }
  const std::vector<ledger::Lot> lots = call->services.ledger.lots(account->member_id);
  nlohmann::json data = nlohmann::json::array();
  bool more = false;
  LotId last_id = 0;
  for (auto it = lots.rbegin(); it != lots.rend(); ++it) {  // newest first
    if (page->cursor != 0 && it->id >= page->cursor) continue;
    if (live_only && !is_live(*it)) continue;
    if (data.size() == page->limit) {
      more = true;
      break;
    }
    data.push_back(lot_json(*it));
    last_id = it->id;
  }
  call->json(200, {{"data", std::move(data)}, {"next_cursor", cursor_json(more, last_id)}});
}

}  // namespace pointsmall::api
