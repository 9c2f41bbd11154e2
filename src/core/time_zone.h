// Civil (calendar) time and the program's time zone.
//
// Expiry rules such as "end of the 12th month after earning" and "one check-in per calendar day"
// are defined in the program's time zone, not in UTC. A TimeZone converts between UTC instants and
// local civil time. Loading a zone reads the system's time zone database once; conversions after
// that are pure.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "core/types.h"

namespace pointsmall {

struct CivilTime {
  int year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31
  int hour = 0;
  int minute = 0;
  int second = 0;
  friend bool operator==(const CivilTime&, const CivilTime&) = default;
};

// Parses "YYYY-MM-DD HH:MM:SS" or "YYYY-MM-DDTHH:MM:SS"; nullopt when malformed or not a real date.
std::optional<CivilTime> parse_civil_time(std::string_view text);
// Formats an instant as RFC 3339 UTC with second precision, e.g. "2011-12-09T12:50:00Z".
std::string format_rfc3339_utc(TimeUs at_us);

// Parses RFC 3339 ("2011-12-09T12:50:00Z", "...+01:00", fractional seconds allowed) or a bare
// "YYYY-MM-DD" (midnight UTC); nullopt when malformed.
std::optional<TimeUs> parse_rfc3339(std::string_view text);
// True when year/month/day name a real calendar day.
bool is_valid_date(int year, int month, int day);
// Days since 1970-01-01 of a civil date, and back (proleptic Gregorian); hours and below of the
// result of civil_from_days are 0.
std::int64_t days_from_civil(int year, int month, int day);
CivilTime civil_from_days(std::int64_t days);

class TimeZone {
 public:
  // "UTC" or an IANA name such as "Europe/London"; nullptr when the name is unknown.
  static std::shared_ptr<const TimeZone> load(const std::string& iana_name);
  static std::shared_ptr<const TimeZone> utc();

  virtual ~TimeZone() = default;
  [[nodiscard]] virtual const std::string& name() const = 0;
  [[nodiscard]] virtual CivilTime to_local(TimeUs at_us) const = 0;
  // The instant at which local civil time `local` occurs. In a gap (clocks forward) the instant
  // just after the gap; in an overlap (clocks back) the earlier instant.
  [[nodiscard]] virtual TimeUs to_utc(const CivilTime& local) const = 0;
};

// The civil date of an instant in `zone`, "YYYY-MM-DD".
std::string format_local_date(const TimeZone& zone, TimeUs at_us);

}  // namespace pointsmall
