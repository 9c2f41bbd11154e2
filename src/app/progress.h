// A progress bar on standard error for long work. On a terminal it redraws one line; otherwise
// (logs, CI) it prints a line at every tenth of the way.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace pointsmall::app {

class Progress {
 public:
  Progress(std::string label, std::int64_t total);
  ~Progress();  // finishes the line
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void update(std::int64_t done);
  void finish();

 private:
  void draw(std::int64_t done);

  std::string label_;
  std::int64_t total_;
  bool terminal_;
  bool finished_ = false;
  int last_decile_ = -1;
  std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace pointsmall::app
