#include "ferry/client/terminal_text.hpp"

#include <fmt/format.h>

#include "ferry/protocol/escape.hpp"

namespace ferry::client {

std::string printable(std::string_view text) {
  // escape_visible() between the backslashes: the same escapes for the same code points as
  // the server's log lines, while the backslashes of the server's own escaping stay as they
  // are. (A backslash is never part of a multi-byte sequence, so cutting there cannot change
  // what counts as valid UTF-8.)
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    const std::size_t backslash = text.find('\\');
    out += protocol::escape_visible(text.substr(0, backslash));
    if (backslash == std::string_view::npos) break;
    out += '\\';
    text.remove_prefix(backslash + 1);
  }
  return out;
}

std::string format_rate(double bytes_per_second) {
  static constexpr const char* kUnits[] = {"B/s", "kB/s", "MB/s", "GB/s", "TB/s"};
  std::size_t unit = 0;
  while (bytes_per_second >= 1000.0 && unit + 1 < std::size(kUnits)) {
    bytes_per_second /= 1000.0;
    ++unit;
  }
  return fmt::format("{:.1f} {}", bytes_per_second, kUnits[unit]);
}

std::string format_summary(std::string_view direction, std::string_view name, std::uint64_t bytes,
                           double seconds) {
  const double rate = seconds > 0 ? static_cast<double>(bytes) / seconds : 0.0;
  const std::string what = name.empty() ? std::string() : fmt::format(" {}:", printable(name));
  return fmt::format("{}{} {} bytes in {:.3f} s ({})", direction, what, bytes, seconds,
                     format_rate(rate));
}

}  // namespace ferry::client
