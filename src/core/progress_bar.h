// A terminal progress bar on stderr for long CLI work (quantize, convert, weight upload).
// Redraws at most ten times a second and only when stderr is a terminal; otherwise it prints a
// line at 0%, every 25% and at 100%, so logs stay short. Thread-safe `advance`.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace ingot {

class ProgressBar {
 public:
  ProgressBar(std::string label, uint64_t total);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  void advance(uint64_t amount, const std::string& detail = {});
  void finish();

 private:
  void draw(bool force);

  std::string label_;
  uint64_t total_;
  uint64_t done_ = 0;
  std::string detail_;
  bool tty_;
  bool finished_ = false;
  int last_quarter_ = -1;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
  std::mutex mutex_;
};

}  // namespace ingot
