// Tests of the program's ledger policy (policy.h): how it is written in configuration, and when
// points expire under each kind of expiry, in UTC and in a zone with summer time.
#include "ledger/policy.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pointsmall::ledger {
namespace {

constexpr TimeUs kHour = 3600 * kMicrosPerSecond;

TimeUs utc(const char* rfc3339) {
  return parse_rfc3339(rfc3339).value();
}

std::shared_ptr<const TimeZone> london() {
  auto zone = TimeZone::load("Europe/London");
  EXPECT_NE(zone, nullptr) << "tzdata is missing";
  return zone;
}

ExpiryPolicy end_of_month(int count) {
  return ExpiryPolicy{ExpiryPolicy::Kind::end_of_month, count};
}
ExpiryPolicy end_of_year(int count) {
  return ExpiryPolicy{ExpiryPolicy::Kind::end_of_year, count};
}

// ---- Configuration text ------------------------------------------------------------------------

TEST(PolicyText, EveryExpiryPolicyReadsBackAsWritten) {
  for (const char* text : {"never", "days:1", "days:365", "days:36500", "rolling:1", "rolling:180",
                           "end-of-month:0", "end-of-month:12", "end-of-month:1200",
                           "end-of-year:0", "end-of-year:1", "end-of-year:100"}) {
    const auto policy = parse_expiry_policy(text);
    ASSERT_TRUE(policy.has_value()) << text;
    EXPECT_EQ(format_expiry_policy(*policy), text);
  }
}

TEST(PolicyText, ParsedPoliciesMeanWhatTheySay) {
  const auto days = parse_expiry_policy("days:90");
  ASSERT_TRUE(days);
  EXPECT_EQ(days->kind, ExpiryPolicy::Kind::days_after_earning);
  EXPECT_EQ(days->count, 90);
  EXPECT_EQ(parse_expiry_policy("rolling:30")->kind, ExpiryPolicy::Kind::rolling_days);
  EXPECT_EQ(parse_expiry_policy("end-of-month:3")->kind, ExpiryPolicy::Kind::end_of_month);
  EXPECT_EQ(parse_expiry_policy("end-of-year:2")->count, 2);
  EXPECT_EQ(parse_expiry_policy("never")->kind, ExpiryPolicy::Kind::never);
}

TEST(PolicyText, MalformedOrOutOfRangeExpiryPoliciesAreRefused) {
  for (const char* text : {"",
                           "never:1",
                           "days",
                           "days:",
                           "days:0",
                           "days:-1",
                           "days:36501",
                           "days:abc",
                           "days:1x",
                           " days:1",
                           "days:1 ",
                           "days: 1",
                           "DAYS:1",
                           "weeks:2",
                           "rolling:0",
                           "end-of-month:-1",
                           "end-of-month:1201",
                           "end-of-year:-1",
                           "end-of-year:101",
                           "end_of_month:1",
                           "days:99999999999999999999"}) {
    EXPECT_EQ(parse_expiry_policy(text), std::nullopt) << '"' << text << '"';
  }
}

TEST(PolicyText, ShortfallPoliciesReadBackAsWritten) {
  for (ShortfallPolicy policy : {ShortfallPolicy::other_lots_then_debt,
                                 ShortfallPolicy::other_lots_then_absorb, ShortfallPolicy::absorb})
    EXPECT_EQ(parse_shortfall_policy(shortfall_policy_name(policy)), policy);
  EXPECT_EQ(parse_shortfall_policy("debt"), ShortfallPolicy::other_lots_then_debt);
  EXPECT_EQ(parse_shortfall_policy("absorb"), ShortfallPolicy::absorb);
  EXPECT_EQ(parse_shortfall_policy("Debt"), std::nullopt);
  EXPECT_EQ(parse_shortfall_policy(""), std::nullopt);
}

TEST(PolicyText, TheDefaultPolicyIsAYearInUtcWithDebt) {
  const Policy policy;
  EXPECT_EQ(format_expiry_policy(policy.expiry), "days:365");
  EXPECT_EQ(policy.shortfall, ShortfallPolicy::other_lots_then_debt);
  ASSERT_NE(policy.zone, nullptr);
  EXPECT_EQ(policy.zone->name(), "UTC");
}

// ---- When points expire ------------------------------------------------------------------------

TEST(PolicyExpiry, NeverMeansNever) {
  EXPECT_EQ(expires_at(ExpiryPolicy{ExpiryPolicy::Kind::never, 0}, utc("2024-01-01T00:00:00Z"),
                       *TimeZone::utc()),
            kTimeNever);
}

TEST(PolicyExpiry, DaysAfterEarningIsAFixedTermToTheMicrosecond) {
  const TimeUs earned = utc("2024-01-10T12:34:56Z") + 789;
  EXPECT_EQ(expires_at(ExpiryPolicy{ExpiryPolicy::Kind::days_after_earning, 30}, earned,
                       *TimeZone::utc()),
            earned + 30 * kMicrosPerDay);
  // A fixed term counts elapsed time, so a summer-time change does not move it.
  EXPECT_EQ(
      expires_at(ExpiryPolicy{ExpiryPolicy::Kind::days_after_earning, 365}, earned, *london()),
      earned + 365 * kMicrosPerDay);
  EXPECT_EQ(expires_at(ExpiryPolicy{ExpiryPolicy::Kind::rolling_days, 7}, earned, *london()),
            earned + 7 * kMicrosPerDay);
}

struct Case {
  const char* earned;
  ExpiryPolicy policy;
  const char* expires;
};

void expect_expiries(const std::vector<Case>& cases, const TimeZone& zone) {
  for (const Case& c : cases) {
    EXPECT_EQ(format_rfc3339_utc(expires_at(c.policy, utc(c.earned), zone)), c.expires)
        << "earned " << c.earned << " under " << format_expiry_policy(c.policy) << " in "
        << zone.name();
  }
}

TEST(PolicyExpiry, EndOfMonthCountsCalendarMonthsInUtc) {
  expect_expiries(
      {
          {"2024-01-15T10:00:00Z", end_of_month(0), "2024-02-01T00:00:00Z"},
          {"2024-01-01T00:00:00Z", end_of_month(0), "2024-02-01T00:00:00Z"},
          {"2024-01-31T23:59:59Z", end_of_month(0), "2024-02-01T00:00:00Z"},
          // Earned on 31 January, "end of the next month" is the end of February, not 31 Feb.
          {"2024-01-31T12:00:00Z", end_of_month(1), "2024-03-01T00:00:00Z"},
          {"2023-01-31T12:00:00Z", end_of_month(1), "2023-03-01T00:00:00Z"},
          {"2024-11-20T12:00:00Z", end_of_month(1), "2025-01-01T00:00:00Z"},
          {"2024-12-31T23:00:00Z", end_of_month(0), "2025-01-01T00:00:00Z"},
          {"2024-12-01T00:00:00Z", end_of_month(2), "2025-03-01T00:00:00Z"},
          {"2024-03-10T00:00:00Z", end_of_month(12), "2025-04-01T00:00:00Z"},
          {"2024-03-10T00:00:00Z", end_of_month(24), "2026-04-01T00:00:00Z"},
      },
      *TimeZone::utc());
}

TEST(PolicyExpiry, LeapDaysCountAsTheirMonth) {
  expect_expiries(
      {
          {"2024-02-29T18:00:00Z", end_of_month(0), "2024-03-01T00:00:00Z"},
          {"2024-02-29T18:00:00Z", end_of_month(12), "2025-03-01T00:00:00Z"},
          {"2024-01-29T18:00:00Z", end_of_month(1), "2024-03-01T00:00:00Z"},
          {"2024-02-29T18:00:00Z", end_of_year(0), "2025-01-01T00:00:00Z"},
          {"2024-02-29T18:00:00Z", ExpiryPolicy{ExpiryPolicy::Kind::days_after_earning, 365},
           "2025-02-28T18:00:00Z"},
          {"2023-02-28T18:00:00Z", ExpiryPolicy{ExpiryPolicy::Kind::days_after_earning, 1},
           "2023-03-01T18:00:00Z"},
      },
      *TimeZone::utc());
}

TEST(PolicyExpiry, EndOfYearIsNewYearAfterTheCountedYears) {
  expect_expiries(
      {
          {"2024-01-01T00:00:00Z", end_of_year(0), "2025-01-01T00:00:00Z"},
          {"2024-12-31T23:59:59Z", end_of_year(0), "2025-01-01T00:00:00Z"},
          {"2024-06-15T12:00:00Z", end_of_year(1), "2026-01-01T00:00:00Z"},
          {"2024-06-15T12:00:00Z", end_of_year(10), "2035-01-01T00:00:00Z"},
      },
      *TimeZone::utc());
}

TEST(PolicyExpiry, InLondonMonthsEndAtLocalMidnightInSummerTime) {
  expect_expiries(
      {
          // 1 June 00:00 BST (UTC+1) is 31 May 23:00 UTC.
          {"2024-05-15T12:00:00Z", end_of_month(0), "2024-05-31T23:00:00Z"},
          // 1 April 00:00 BST: the month that ends is the one in which clocks went forward.
          {"2024-02-10T12:00:00Z", end_of_month(1), "2024-03-31T23:00:00Z"},
          {"2024-03-30T12:00:00Z", end_of_month(0), "2024-03-31T23:00:00Z"},
          // 1 November 00:00 GMT: clocks went back on 27 October.
          {"2024-10-15T12:00:00Z", end_of_month(0), "2024-11-01T00:00:00Z"},
          {"2024-09-15T12:00:00Z", end_of_month(0), "2024-09-30T23:00:00Z"},
          // Earned 2024-01-31 in winter, expiring in March before the change: no offset.
          {"2024-01-31T12:00:00Z", end_of_month(1), "2024-03-01T00:00:00Z"},
          // New Year is in winter: London and UTC agree.
          {"2024-07-01T09:00:00Z", end_of_year(0), "2025-01-01T00:00:00Z"},
      },
      *london());
}

TEST(PolicyExpiry, InLondonTheLocalDateDecidesTheMonthOfEarning) {
  // 30 June 23:30 UTC is already 1 July 00:30 BST: earned in July, locally.
  const TimeUs earned = utc("2024-06-30T23:30:00Z");
  EXPECT_EQ(format_rfc3339_utc(expires_at(end_of_month(0), earned, *london())),
            "2024-07-31T23:00:00Z");
  EXPECT_EQ(format_rfc3339_utc(expires_at(end_of_month(0), earned, *TimeZone::utc())),
            "2024-07-01T00:00:00Z");
  // Half an hour before midnight on 31 October (GMT again) is still October.
  EXPECT_EQ(format_rfc3339_utc(expires_at(end_of_month(0), utc("2024-10-31T23:30:00Z"), *london())),
            "2024-11-01T00:00:00Z");
}

TEST(PolicyExpiry, EarnedDuringTheHourThatRepeatsCountsInThatDay) {
  // 27 October 2024: 01:00-02:00 local happens twice in London (BST then GMT).
  for (TimeUs earned : {utc("2024-10-27T00:30:00Z"), utc("2024-10-27T01:30:00Z")}) {
    EXPECT_EQ(format_rfc3339_utc(expires_at(end_of_month(0), earned, *london())),
              "2024-11-01T00:00:00Z");
  }
  // A fixed term stays exactly 24 hours a day across the change.
  const TimeUs earned = utc("2024-10-26T12:00:00Z");
  EXPECT_EQ(expires_at(ExpiryPolicy{ExpiryPolicy::Kind::days_after_earning, 1}, earned, *london()),
            earned + 24 * kHour);
}

TEST(PolicyExpiry, ExpiryIsAlwaysAfterEarning) {
  const auto zone = london();
  const std::vector<ExpiryPolicy> policies = {
      end_of_month(0), end_of_month(1), end_of_year(0),
      ExpiryPolicy{ExpiryPolicy::Kind::days_after_earning, 1}};
  // Every hour of 2024, which crosses both summer-time changes and the leap day.
  for (TimeUs at = utc("2024-01-01T00:00:00Z"); at < utc("2025-01-01T00:00:00Z"); at += kHour) {
    for (const ExpiryPolicy& policy : policies) {
      const TimeUs expires = expires_at(policy, at, *zone);
      ASSERT_GT(expires, at) << format_rfc3339_utc(at) << " " << format_expiry_policy(policy);
    }
    // End of the earning month is the first local midnight of a 1st after earning.
    const CivilTime local = zone->to_local(expires_at(end_of_month(0), at, *zone));
    ASSERT_EQ(local.day, 1);
    ASSERT_EQ(local.hour, 0);
  }
}

TEST(PolicyTimeZone, UnknownZonesAreRefused) {
  EXPECT_EQ(TimeZone::load("Mars/Olympus_Mons"), nullptr);
  ASSERT_NE(TimeZone::load("UTC"), nullptr);
  EXPECT_EQ(TimeZone::load("Europe/London")->name(), "Europe/London");
}

}  // namespace
}  // namespace pointsmall::ledger
