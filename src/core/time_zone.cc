#include "core/time_zone.h"

#include <date/date.h>
#include <date/tz.h>

#include <charconv>
#include <chrono>
#include <cstdio>

namespace pointsmall {
namespace {

using std::chrono::microseconds;
using std::chrono::seconds;
using SysUs = date::sys_time<microseconds>;

bool parse_int(std::string_view text, int& out) {
  if (text.empty()) return false;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end;
}

CivilTime civil_from_local_seconds(date::local_seconds local) {
  const auto day = date::floor<date::days>(local);
  const date::year_month_day ymd{day};
  const date::hh_mm_ss<seconds> hms{local - day};
  return CivilTime{
      int(ymd.year()),          int(unsigned(ymd.month())), int(unsigned(ymd.day())),
      int(hms.hours().count()), int(hms.minutes().count()), int(hms.seconds().count())};
}

date::local_seconds local_seconds_from_civil(const CivilTime& t) {
  const date::local_days day{date::year{t.year} / t.month / t.day};
  return day + std::chrono::hours{t.hour} + std::chrono::minutes{t.minute} + seconds{t.second};
}

class UtcZone final : public TimeZone {
 public:
  [[nodiscard]] const std::string& name() const override { return name_; }
  [[nodiscard]] CivilTime to_local(TimeUs at_us) const override {
    const auto secs = date::floor<seconds>(SysUs{microseconds{at_us}});
    return civil_from_local_seconds(date::local_seconds{secs.time_since_epoch()});
  }
  [[nodiscard]] TimeUs to_utc(const CivilTime& local) const override {
    const auto secs = local_seconds_from_civil(local).time_since_epoch();
    return std::chrono::duration_cast<microseconds>(secs).count();
  }

 private:
  std::string name_ = "UTC";
};

class IanaZone final : public TimeZone {
 public:
  IanaZone(std::string name, const date::time_zone* zone) : name_(std::move(name)), zone_(zone) {}
  [[nodiscard]] const std::string& name() const override { return name_; }
  [[nodiscard]] CivilTime to_local(TimeUs at_us) const override {
    const auto secs = date::floor<seconds>(SysUs{microseconds{at_us}});
    return civil_from_local_seconds(zone_->to_local(secs));
  }
  [[nodiscard]] TimeUs to_utc(const CivilTime& local) const override {
    const auto local_secs = local_seconds_from_civil(local);
    const auto info = zone_->get_info(local_secs);
    date::sys_seconds sys;
    switch (info.result) {
      case date::local_info::unique:
      case date::local_info::ambiguous:  // the earlier of the two instants
        sys = date::sys_seconds{local_secs.time_since_epoch()} - info.first.offset;
        break;
      case date::local_info::nonexistent:  // the first instant after the gap
        sys = info.second.begin;
        break;
    }
    return std::chrono::duration_cast<microseconds>(sys.time_since_epoch()).count();
  }

 private:
  std::string name_;
  const date::time_zone* zone_;
};

}  // namespace

bool is_valid_date(int year, int month, int day) {
  if (month < 1 || month > 12 || day < 1 || day > 31) return false;
  return date::year_month_day{date::year{year}, date::month(unsigned(month)),
                              date::day(unsigned(day))}
      .ok();
}

std::optional<CivilTime> parse_civil_time(std::string_view text) {
  // YYYY-MM-DD HH:MM:SS (19 characters); 'T' accepted as separator.
  if (text.size() != 19 || text[4] != '-' || text[7] != '-' ||
      (text[10] != ' ' && text[10] != 'T') || text[13] != ':' || text[16] != ':')
    return std::nullopt;
  CivilTime t;
  if (!parse_int(text.substr(0, 4), t.year) || !parse_int(text.substr(5, 2), t.month) ||
      !parse_int(text.substr(8, 2), t.day) || !parse_int(text.substr(11, 2), t.hour) ||
      !parse_int(text.substr(14, 2), t.minute) || !parse_int(text.substr(17, 2), t.second))
    return std::nullopt;
  if (!is_valid_date(t.year, t.month, t.day) || t.hour > 23 || t.minute > 59 || t.second > 59)
    return std::nullopt;
  return t;
}

std::string format_rfc3339_utc(TimeUs at_us) {
  const CivilTime t = TimeZone::utc()->to_local(at_us);
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02dZ", t.year, t.month, t.day,
                t.hour, t.minute, t.second);
  return buffer;
}

std::optional<TimeUs> parse_rfc3339(std::string_view text) {
  if (text.size() == 10) {
    int y = 0, m = 0, d = 0;
    if (text[4] != '-' || text[7] != '-' || !parse_int(text.substr(0, 4), y) ||
        !parse_int(text.substr(5, 2), m) || !parse_int(text.substr(8, 2), d) ||
        !is_valid_date(y, m, d))
      return std::nullopt;
    return TimeZone::utc()->to_utc(CivilTime{y, m, d, 0, 0, 0});
  }
  if (text.size() < 20) return std::nullopt;
  auto civil = parse_civil_time(text.substr(0, 19));
  if (!civil || text[10] != 'T') return std::nullopt;
  std::string_view rest = text.substr(19);
  TimeUs fraction_us = 0;
  if (!rest.empty() && rest[0] == '.') {
    size_t digits = 1;
    while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
    if (digits == 1 || digits > 10) return std::nullopt;
    std::string_view frac = rest.substr(1, digits - 1);
    for (size_t i = 0; i < 6; ++i)
      fraction_us = fraction_us * 10 + (i < frac.size() ? frac[i] - '0' : 0);
    rest = rest.substr(digits);
  }
  TimeUs offset_us = 0;
  if (rest == "Z" || rest == "z") {
    offset_us = 0;
  } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
    int hours = 0, minutes = 0;
    if (!parse_int(rest.substr(1, 2), hours) || !parse_int(rest.substr(4, 2), minutes) ||
        hours > 23 || minutes > 59)
      return std::nullopt;
    offset_us = (hours * 3600 + minutes * 60) * kMicrosPerSecond * (rest[0] == '-' ? -1 : 1);
  } else {
    return std::nullopt;
  }
  return TimeZone::utc()->to_utc(*civil) + fraction_us - offset_us;
}

std::shared_ptr<const TimeZone> TimeZone::utc() {
  static const auto zone = std::make_shared<const UtcZone>();
  return zone;
}

std::shared_ptr<const TimeZone> TimeZone::load(const std::string& iana_name) {
  if (iana_name == "UTC" || iana_name == "Etc/UTC") return utc();
  try {
    return std::make_shared<const IanaZone>(iana_name, date::locate_zone(iana_name));
  } catch (const std::exception&) {
    return nullptr;
  }
}

std::string format_local_date(const TimeZone& zone, TimeUs at_us) {
  const CivilTime t = zone.to_local(at_us);
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02d", t.year, t.month, t.day);
  return buffer;
}

std::int64_t days_from_civil(int year, int month, int day) {
  // H. Hinnant's algorithm: eras of 400 years starting on 1 March.
  const std::int64_t y = static_cast<std::int64_t>(year) - (month <= 2 ? 1 : 0);
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t year_of_era = y - era * 400;
  const std::int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const std::int64_t day_of_era =
      year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

CivilTime civil_from_days(std::int64_t days) {
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const std::int64_t day_of_era = days - era * 146097;
  const std::int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const std::int64_t day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const std::int64_t mp = (5 * day_of_year + 2) / 153;
  CivilTime civil;
  civil.day = static_cast<int>(day_of_year - (153 * mp + 2) / 5 + 1);
  civil.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  civil.year = static_cast<int>(year_of_era + era * 400 + (civil.month <= 2 ? 1 : 0));
  return civil;
}

}  // namespace pointsmall
