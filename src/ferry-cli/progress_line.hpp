#pragma once

#include <chrono>
#include <cstdint>

#include "ferry/net/data_copy.hpp"

namespace ferry::cli {

// The progress line on stderr while a transfer runs (only when stderr is a terminal and
// not in quiet mode), redrawn at most five times a second and erased at the end. It also
// measures the transfer's duration for the summary.
class ProgressLine : public net::ProgressSink {
 public:
  ProgressLine(bool enabled, std::uint64_t total);
  ~ProgressLine() override;
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  void advance(std::uint64_t done) override;
  void erase();
  double seconds() const;

 private:
  using Clock = std::chrono::steady_clock;
  bool enabled_;
  bool drawn_ = false;
  std::uint64_t total_;
  Clock::time_point start_ = Clock::now();
  Clock::time_point last_draw_ = start_;
};

}  // namespace ferry::cli
