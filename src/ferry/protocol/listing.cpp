#include "ferry/protocol/listing.hpp"

#include <algorithm>
#include <charconv>
#include <ctime>

#include <fmt/format.h>

#include "ferry/protocol/escape.hpp"
#include "ferry/protocol/message.hpp"

namespace ferry::protocol {
namespace {

constexpr std::int64_t kMinTime = -62167219200;  // 0000-01-01T00:00:00Z
constexpr std::int64_t kMaxTime = 253402300799;  // 9999-12-31T23:59:59Z

bool parse_digits(std::string_view text, int& out) {
  if (text.empty()) return false;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return std::from_chars(text.data(), text.data() + text.size(), out).ec == std::errc{};
}

int days_in_month(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

bool is_entry_type(char c) {
  return c == 'd' || c == 'f' || c == 'l' || c == 'o';
}

}  // namespace

std::string format_utc(std::int64_t seconds) {
  seconds = std::clamp(seconds, kMinTime, kMaxTime);
  const auto t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::optional<std::int64_t> parse_utc(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SSZ
  if (text.size() != 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':' || text[19] != 'Z') {
    return std::nullopt;
  }
  std::tm tm{};
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!parse_digits(text.substr(0, 4), year) || !parse_digits(text.substr(5, 2), month) ||
      !parse_digits(text.substr(8, 2), day) || !parse_digits(text.substr(11, 2), hour) ||
      !parse_digits(text.substr(14, 2), minute) || !parse_digits(text.substr(17, 2), second)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || hour > 23 ||
      minute > 59 || second > 60) {
    return std::nullopt;
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const auto seconds = static_cast<std::int64_t>(timegm(&tm));
  // 9999-12-31T23:59:60Z is past what format_utc can write back.
  if (seconds < kMinTime || seconds > kMaxTime) return std::nullopt;
  return seconds;
}

std::string format_entry(const Entry& entry) {
  return fmt::format("{} {} {} {}\n", entry.type, entry.size, format_utc(entry.mtime),
                     escape(entry.name));
}

std::optional<Entry> parse_entry(std::string_view line) {
  Entry entry;
  if (line.size() < 2 || !is_entry_type(line[0]) || line[1] != ' ') return std::nullopt;
  entry.type = line[0];
  line.remove_prefix(2);

  const std::size_t size_end = line.find(' ');
  if (size_end == std::string_view::npos) return std::nullopt;
  const auto size = parse_file_size(line.substr(0, size_end));
  if (!size) return std::nullopt;
  entry.size = *size;
  line.remove_prefix(size_end + 1);

  if (line.size() < 21 || line[20] != ' ') return std::nullopt;
  const auto mtime = parse_utc(line.substr(0, 20));
  if (!mtime) return std::nullopt;
  entry.mtime = *mtime;
  line.remove_prefix(21);

  auto name = unescape(line);
  if (!name || name->empty()) return std::nullopt;
  entry.name = std::move(*name);
  return entry;
}

}  // namespace ferry::protocol
