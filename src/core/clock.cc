#include "core/clock.h"

#include <chrono>

namespace pointsmall {

TimeUs SystemClock::now_us() const {
  using std::chrono::duration_cast;
  using std::chrono::microseconds;
  return duration_cast<microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace pointsmall
