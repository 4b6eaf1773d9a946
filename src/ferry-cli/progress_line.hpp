#pragma once

#include <termios.h>

#include <chrono>
#include <cstdint>
#include <string>

#include "ferry/net/data_copy.hpp"

namespace ferry::cli {

// The progress line on stderr while a transfer runs (only when stderr is a terminal and
// not in quiet mode): shown once the transfer has run kDelay, redrawn at most ten times a
// second to the terminal's width of the moment (so a resize is followed and the line never
// wraps), erased at the end. While it is up the terminal does not echo, so that type-ahead
// does not garble it (the keys stay queued for the prompt). It also measures the
// transfer's duration for the summary.
class ProgressLine : public net::ProgressSink {
 public:
  static constexpr std::chrono::milliseconds kDelay{500};
  static constexpr std::chrono::milliseconds kRedrawInterval{100};

  ProgressLine(bool enabled, const std::string& name, std::uint64_t total);
  ~ProgressLine() override;
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  void advance(std::uint64_t done) override;
  void erase();
  double seconds() const;

 private:
  using Clock = std::chrono::steady_clock;

  double current_rate(std::uint64_t done, Clock::time_point now);
  void echo_off();
  void echo_on();

  bool enabled_;
  bool drawn_ = false;
  std::string name_;
  std::uint64_t total_;
  Clock::time_point start_ = Clock::now();
  Clock::time_point last_draw_ = start_;
  // The rate over the last second or so: a sample kept from about a second ago.
  Clock::time_point sample_time_ = start_;
  std::uint64_t sample_done_ = 0;
  double rate_ = 0;
  bool echo_saved_ = false;
  termios saved_terminal_{};
};

}  // namespace ferry::cli
