#include "progress_line.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>

#include "ferry/client/progress_format.hpp"
#include "ferry/client/terminal_text.hpp"

namespace ferry::cli {
namespace {

constexpr auto kRateWindow = std::chrono::seconds(1);
constexpr std::size_t kFallbackWidth = 80;

std::size_t terminal_width() {
  winsize size{};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &size) != 0 || size.ws_col == 0) return kFallbackWidth;
  return size.ws_col;
}

}  // namespace

ProgressLine::ProgressLine(bool enabled, const std::string& name, std::uint64_t total)
    : enabled_(enabled), name_(client::printable(name)), total_(total) {}

ProgressLine::~ProgressLine() {
  erase();
}

double ProgressLine::current_rate(std::uint64_t done, Clock::time_point now) {
  const double span = std::chrono::duration<double>(now - sample_time_).count();
  if (span > 0 && done >= sample_done_) {
    const double rate = static_cast<double>(done - sample_done_) / span;
    // A fresh window blended with the last one: a steady figure that still follows changes.
    rate_ = rate_ == 0 ? rate : (rate_ + rate) / 2;
  }
  if (now - sample_time_ >= kRateWindow) {
    sample_time_ = now;
    sample_done_ = done;
  }
  return rate_;
}

void ProgressLine::advance(std::uint64_t done) {
  if (!enabled_) return;
  const auto now = Clock::now();
  if (now - start_ < kDelay || now - last_draw_ < kRedrawInterval) return;
  last_draw_ = now;
  const double rate = current_rate(done, now);
  if (!drawn_) echo_off();
  // One column short of the width: a line filling the last column wraps on some terminals.
  const std::size_t width = terminal_width();
  const std::string line =
      client::format_progress_line({name_, done, total_, rate}, width > 1 ? width - 1 : 0);
  fmt::print(stderr, "\r{}\x1b[K", line);
  static_cast<void>(std::fflush(stderr));
  drawn_ = true;
}

void ProgressLine::erase() {
  if (!drawn_) return;
  fmt::print(stderr, "\r\x1b[K");
  static_cast<void>(std::fflush(stderr));
  drawn_ = false;
  echo_on();
}

void ProgressLine::echo_off() {
  if (::isatty(STDIN_FILENO) != 1 || ::tcgetattr(STDIN_FILENO, &saved_terminal_) != 0) return;
  termios quiet = saved_terminal_;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  // TCSANOW, not TCSAFLUSH: what the user typed ahead stays queued for the prompt.
  echo_saved_ = ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet) == 0;
}

void ProgressLine::echo_on() {
  if (!echo_saved_) return;
  static_cast<void>(::tcsetattr(STDIN_FILENO, TCSANOW, &saved_terminal_));
  echo_saved_ = false;
}

double ProgressLine::seconds() const {
  return std::chrono::duration<double>(Clock::now() - start_).count();
}

}  // namespace ferry::cli
