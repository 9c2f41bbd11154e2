#include "core/clock.h"

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "core/time_zone.h"

namespace pointsmall {

TimeUs SystemClock::now_us() const {
  using std::chrono::duration_cast;
  using std::chrono::microseconds;
  return duration_cast<microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

TimeUs FileClock::now_us() const {
  std::ifstream in(path_);
  std::stringstream text;
  text << in.rdbuf();
  std::string value = text.str();
  while (!value.empty() && (value.back() == '\n' || value.back() == ' ')) value.pop_back();
  const auto at_us = parse_rfc3339(value);
  if (!in || !at_us)
    throw std::runtime_error("the clock file " + path_ + " holds no RFC 3339 time");
  return *at_us;
}

}  // namespace pointsmall
