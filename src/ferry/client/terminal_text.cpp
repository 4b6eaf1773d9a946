#include "ferry/client/terminal_text.hpp"

#include <fmt/format.h>

#include "ferry/protocol/escape.hpp"

namespace ferry::client {

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    const bool is_c1 = c == 0xc2 && i + 1 < text.size() &&
                       static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
                       static_cast<unsigned char>(text[i + 1]) <= 0x9f;
    if (is_c1) {
      out += fmt::format("\\x{:02x}\\x{:02x}", c, static_cast<unsigned char>(text[i + 1]));
      ++i;
    } else if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else if (c < 0x80) {
      out += static_cast<char>(c);
    } else {
      // Let escape() judge UTF-8 validity for the whole sequence starting here.
      std::size_t end = i + 1;
      while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xc0) == 0x80)
        ++end;
      out += protocol::escape(text.substr(i, end - i));
      i = end - 1;
    }
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

std::string format_summary(std::string_view direction, std::uint64_t bytes, double seconds) {
  const double rate = seconds > 0 ? static_cast<double>(bytes) / seconds : 0.0;
  return fmt::format("{} {} bytes in {:.3f} s ({})", direction, bytes, seconds, format_rate(rate));
}

std::string format_progress(std::uint64_t done, std::uint64_t total, double seconds) {
  const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0.0;
  if (total == 0) return fmt::format("{} bytes  {}", done, format_rate(rate));
  const double percent = 100.0 * static_cast<double>(done) / static_cast<double>(total);
  return fmt::format("{} / {} bytes  {:5.1f}%  {}", done, total, percent, format_rate(rate));
}

}  // namespace ferry::client
