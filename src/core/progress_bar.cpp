#include "core/progress_bar.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <unistd.h>

namespace ingot {

ProgressBar::ProgressBar(std::string label, uint64_t total)
    : label_(std::move(label)),
      total_(std::max<uint64_t>(total, 1)),
      tty_(::isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()) {
  draw(true);
}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::advance(uint64_t amount, const std::string& detail) {
  std::lock_guard lock(mutex_);
  done_ = std::min(total_, done_ + amount);
  if (!detail.empty()) detail_ = detail;
  draw(false);
}

void ProgressBar::finish() {
  std::lock_guard lock(mutex_);
  if (finished_) return;
  done_ = total_;
  draw(true);
  finished_ = true;
  if (tty_) std::fputc('\n', stderr);
}

void ProgressBar::draw(bool force) {
  const auto now = std::chrono::steady_clock::now();
  const double fraction = static_cast<double>(done_) / static_cast<double>(total_);
  const double seconds = std::chrono::duration<double>(now - start_).count();
  if (tty_) {
    if (!force && now - last_draw_ < std::chrono::milliseconds(100) && done_ != total_) return;
    last_draw_ = now;
    constexpr int width = 30;
    const int filled = static_cast<int>(fraction * width);
    std::string bar(static_cast<size_t>(filled), '#');
    bar.resize(width, '.');
    fmt::print(stderr, "\r{} [{}] {:5.1f}% {:6.1f}s {:<40.40}", label_, bar, fraction * 100.0, seconds,
               detail_);
    std::fflush(stderr);
  } else {
    const int quarter = static_cast<int>(fraction * 4.0);
    if (quarter == last_quarter_) return;
    last_quarter_ = quarter;
    fmt::print(stderr, "{}: {:3.0f}% ({:.1f}s)\n", label_, quarter * 25.0, seconds);
  }
}

}  // namespace ingot
