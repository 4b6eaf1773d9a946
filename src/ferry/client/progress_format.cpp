#include "ferry/client/progress_format.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "ferry/client/terminal_text.hpp"

namespace ferry::client {
namespace {

constexpr std::size_t kMinBar = 5;        // columns inside the brackets
constexpr std::size_t kMinName = 8;       // a cut name keeps at least this many columns
constexpr std::size_t kMaxNameShare = 2;  // the name takes at most 1/2 of the width

std::size_t columns(std::string_view text) {
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return (c & 0xc0) != 0x80; }));
}

// The first `count` code points of `text`.
std::string_view first_columns(std::string_view text, std::size_t count) {
  std::size_t seen = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if ((text[i] & 0xc0) != 0x80) {
      if (seen == count) return text.substr(0, i);
      ++seen;
    }
  }
  return text;
}

std::string cut_name(std::string_view name, std::size_t width) {
  if (columns(name) <= width) return std::string(name);
  if (width < 2) return "";
  return std::string(first_columns(name, width - 1)) + "~";
}

std::string bar(std::uint64_t done, std::uint64_t total, std::size_t inside) {
  const double fraction =
      total == 0 ? 1.0 : std::min(1.0, static_cast<double>(done) / static_cast<double>(total));
  const auto filled = static_cast<std::size_t>(fraction * static_cast<double>(inside));
  std::string text = "[";
  text.append(filled, '=');
  if (filled < inside) {
    text += '>';
    text.append(inside - filled - 1, ' ');
  }
  return text + "]";
}

}  // namespace

std::string format_bytes(std::uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
  if (bytes < 1000) return fmt::format("{} B", bytes);
  auto value = static_cast<double>(bytes);
  std::size_t unit = 0;
  while (value >= 999.95 && unit + 1 < std::size(kUnits)) {
    value /= 1000.0;
    ++unit;
  }
  return fmt::format("{:.1f} {}", value, kUnits[unit]);
}

std::string format_eta(std::uint64_t remaining, double rate) {
  if (rate <= 0) return "--:--";
  const double seconds = std::ceil(static_cast<double>(remaining) / rate);
  if (!(seconds < 99.0 * 3600.0)) return "--:--";
  const auto total = static_cast<std::uint64_t>(seconds);
  if (total >= 3600) {
    return fmt::format("{}:{:02}:{:02}", total / 3600, total / 60 % 60, total % 60);
  }
  return fmt::format("{}:{:02}", total / 60, total % 60);
}

std::string format_progress_line(const ProgressState& state, std::size_t width) {
  const std::uint64_t remaining = state.total - std::min(state.done, state.total);
  const std::uint64_t percent =
      state.total == 0 || state.done >= state.total ? 100 : state.done * 100 / state.total;
  // From the most to the least needed.
  const std::vector<std::string> all_fields = {fmt::format("{:3}%", percent),
                                               format_bytes(state.done), format_rate(state.rate),
                                               "ETA " + format_eta(remaining, state.rate)};
  std::vector<std::string> fields = all_fields;
  std::string name(state.name);
  for (;;) {
    std::string tail;
    for (const std::string& field : fields)
      tail += (tail.empty() ? "" : "  ") + field;
    const std::size_t tail_columns = columns(tail);
    const std::size_t room = width > tail_columns ? width - tail_columns : 0;
    // The name takes at most half the width; cut, it keeps at least kMinName columns.
    std::size_t name_room =
        std::min({columns(name), width / kMaxNameShare, room > 0 ? room - 1 : 0});
    if (name_room < std::min(kMinName, columns(name))) name_room = 0;
    if ((name_room > 0 || name.empty()) && tail_columns <= width) {
      std::string line = name_room > 0 ? cut_name(name, name_room) + " " : "";
      const std::size_t left = room - (name_room > 0 ? name_room + 1 : 0);
      if (left >= kMinBar + 3) line += bar(state.done, state.total, left - 3) + " ";
      return line + tail;
    }
    if (fields.size() > 1) {
      fields.pop_back();
    } else if (!name.empty()) {
      name.clear();  // then the fields, without it, as many as fit
      fields = all_fields;
    } else {
      return "";
    }
  }
}

}  // namespace ferry::client
