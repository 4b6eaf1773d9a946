#include "ferry/client/listing_view.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "ferry/client/listing_table.hpp"

namespace ferry::client {
namespace {

constexpr std::size_t kGap = 2;

struct Scaled {
  double value;
  std::size_t unit;  // 0 bytes, 1 Ki, 2 Mi, ...
};

Scaled scale(std::uint64_t bytes, std::size_t units) {
  auto value = static_cast<double>(bytes);
  std::size_t unit = 0;
  while (value >= 1024.0 && unit + 1 < units) {
    value /= 1024.0;
    ++unit;
  }
  return {value, unit};
}

}  // namespace

std::string short_size(std::uint64_t bytes) {
  static constexpr const char* kUnits[] = {"", "K", "M", "G", "T", "P", "E"};
  const Scaled s = scale(bytes, std::size(kUnits));
  if (s.unit == 0) return std::to_string(bytes);
  if (s.value < 10.0) {
    const double up = std::ceil(s.value * 10.0) / 10.0;
    if (up < 10.0) return fmt::format("{:.1f}{}", up, kUnits[s.unit]);
  }
  return fmt::format("{:.0f}{}", std::ceil(s.value), kUnits[s.unit]);
}

std::string human_size(std::uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  const Scaled s = scale(bytes, std::size(kUnits));
  if (s.unit == 0) return fmt::format("{} B", bytes);
  return fmt::format("{:.1f} {}", s.value, kUnits[s.unit]);
}

std::size_t text_width(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  }));
}

std::string format_columns(const std::vector<protocol::Entry>& entries, std::size_t width) {
  std::vector<std::string> names;
  names.reserve(entries.size());
  for (const auto& entry : entries) {
    names.push_back(display_name(entry.name) + (entry.type == 'd' ? "/" : ""));
  }
  std::sort(names.begin(), names.end());
  const std::size_t count = names.size();
  if (count == 0) return {};
  std::vector<std::size_t> widths(count);
  std::transform(names.begin(), names.end(), widths.begin(), text_width);

  std::size_t columns = 1;
  std::size_t rows = count;
  std::vector<std::size_t> column_widths;
  for (std::size_t try_columns = std::min(count, width / (1 + kGap) + 1); try_columns > 1;
       --try_columns) {
    const std::size_t try_rows = (count + try_columns - 1) / try_columns;
    if ((try_columns - 1) * try_rows >= count) continue;  // an empty last column
    std::vector<std::size_t> needed(try_columns, 0);
    for (std::size_t i = 0; i < count; ++i) {
      needed[i / try_rows] = std::max(needed[i / try_rows], widths[i]);
    }
    std::size_t total = kGap * (try_columns - 1);
    for (const std::size_t w : needed)
      total += w;
    if (total <= width) {
      columns = try_columns;
      rows = try_rows;
      column_widths = std::move(needed);
      break;
    }
  }
  std::string out;
  for (std::size_t row = 0; row < rows; ++row) {
    for (std::size_t column = 0; column < columns; ++column) {
      const std::size_t i = column * rows + row;
      if (i >= count) break;
      out += names[i];
      const bool last = column + 1 == columns || i + rows >= count;
      if (!last) out.append(column_widths[column] - widths[i] + kGap, ' ');
    }
    out += '\n';
  }
  return out;
}

}  // namespace ferry::client
