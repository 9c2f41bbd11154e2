#include "app/progress.h"

#include <unistd.h>

#include <cstdio>

namespace pointsmall::app {

Progress::Progress(std::string label, std::int64_t total)
    : label_(std::move(label)),
      total_(total > 0 ? total : 1),
      terminal_(isatty(STDERR_FILENO) != 0) {}

Progress::~Progress() {
  finish();
}

void Progress::update(std::int64_t done) {
  if (finished_) return;
  if (terminal_) {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_draw_ < std::chrono::milliseconds(100)) return;  // the display clock only
    last_draw_ = now;
    draw(done);
    return;
  }
  const int decile = static_cast<int>(done * 10 / total_);
  if (decile == last_decile_) return;
  last_decile_ = decile;
  std::fprintf(stderr, "%s: %d%%\n", label_.c_str(), decile * 10);
}

void Progress::finish() {
  if (finished_) return;
  if (terminal_) {
    draw(total_);
    std::fputc('\n', stderr);
  } else if (last_decile_ < 10) {
    std::fprintf(stderr, "%s: 100%%\n", label_.c_str());
  }
  finished_ = true;
}

void Progress::draw(std::int64_t done) {
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(done * kWidth / total_);
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.resize(kWidth, ' ');
  std::fprintf(stderr, "\r%s [%s] %3d%%", label_.c_str(), bar.c_str(),
               static_cast<int>(done * 100 / total_));
  std::fflush(stderr);
}

}  // namespace pointsmall::app
