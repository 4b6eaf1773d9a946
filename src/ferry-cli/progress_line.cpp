#include "progress_line.hpp"

#include <cstdio>

#include <fmt/format.h>

#include "ferry/client/terminal_text.hpp"

namespace ferry::cli {
namespace {
constexpr auto kRedrawInterval = std::chrono::milliseconds(200);
}

ProgressLine::ProgressLine(bool enabled, std::uint64_t total) : enabled_(enabled), total_(total) {}

ProgressLine::~ProgressLine() {
  erase();
}

void ProgressLine::advance(std::uint64_t done) {
  if (!enabled_) return;
  const auto now = Clock::now();
  if (now - last_draw_ < kRedrawInterval) return;
  last_draw_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  fmt::print(stderr, "\r{}\x1b[K", client::format_progress(done, total_, elapsed));
  static_cast<void>(std::fflush(stderr));
  drawn_ = true;
}

void ProgressLine::erase() {
  if (!drawn_) return;
  fmt::print(stderr, "\r\x1b[K");
  static_cast<void>(std::fflush(stderr));
  drawn_ = false;
}

double ProgressLine::seconds() const {
  return std::chrono::duration<double>(Clock::now() - start_).count();
}

}  // namespace ferry::cli
