// Basic value types shared by every part of pointsmall.
//
// Points and money are always integers: points are whole points, money is in minor
// units of its currency (pence, cents). Times are UTC microseconds since the Unix epoch.
#pragma once

#include <cstdint>

namespace pointsmall {

using MemberId = std::int64_t;
using LotId = std::int64_t;
using TransactionId = std::int64_t;
using Points = std::int64_t;
using MinorUnits = std::int64_t;
using TimeUs = std::int64_t;  // UTC microseconds since 1970-01-01T00:00:00Z

inline constexpr TimeUs kMicrosPerSecond = 1'000'000;
inline constexpr TimeUs kMicrosPerDay = 86'400 * kMicrosPerSecond;
// A time later than any real one; used for "never expires".
inline constexpr TimeUs kTimeNever = INT64_MAX;

}  // namespace pointsmall
