#include "ferry/client/remote_stat.hpp"

#include <charconv>
#include <ctime>

#include <fmt/format.h>

#include "ferry/client/listing_table.hpp"
#include "ferry/client/listing_view.hpp"
#include "ferry/protocol/escape.hpp"
#include "ferry/protocol/listing.hpp"

namespace ferry::client {
namespace {

constexpr unsigned kMaxMode = 07777;

std::optional<unsigned> parse_mode(std::string_view text) {
  unsigned value = 0;
  if (text.empty() || text.size() > 4) return std::nullopt;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 8);
  if (ec != std::errc{} || end != text.data() + text.size() || value > kMaxMode) {
    return std::nullopt;
  }
  return value;
}

std::string_view type_name(char type) {
  switch (type) {
    case 'f':
      return "file";
    case 'd':
      return "directory";
    case 'l':
      return "symbolic link";
    default:
      return "other (device, FIFO or socket)";
  }
}

}  // namespace

StatResult parse_stat(const protocol::Message& answer) {
  StatResult result;
  if (!answer.is("OK")) {
    result.error = "expected OK";
    return result;
  }
  const std::string* type = answer.header("TYPE");
  const std::string* size = answer.header("SIZE");
  const std::string* mtime = answer.header("MTIME");
  const std::string* mode = answer.header("MODE");
  if (type == nullptr || size == nullptr || mtime == nullptr || mode == nullptr) {
    result.error = "STAT answer without TYPE, SIZE, MTIME or MODE";
    return result;
  }
  const auto size_value = protocol::parse_file_size(*size);
  const auto mtime_value = protocol::parse_utc(*mtime);
  const auto mode_value = parse_mode(*mode);
  if (type->size() != 1 || std::string_view("fdlo").find((*type)[0]) == std::string_view::npos ||
      !size_value || !mtime_value || !mode_value) {
    result.error = "malformed STAT answer";
    return result;
  }
  result.stat = {(*type)[0], *size_value, *mtime_value, *mode_value, std::nullopt};
  if (const std::string* target = answer.header("TARGET")) {
    auto raw = protocol::unescape(*target);
    if (!raw) {
      result.error = "malformed escape in TARGET";
      return result;
    }
    result.stat.target = std::move(*raw);
  }
  return result;
}

std::string mode_text(unsigned mode) {
  std::string text = "rwxrwxrwx";
  for (unsigned bit = 0; bit < 9; ++bit) {
    if ((mode & (0400u >> bit)) == 0) text[bit] = '-';
  }
  const auto special = [&](unsigned flag, std::size_t at, char set, char unset) {
    if ((mode & flag) != 0) text[at] = text[at] == 'x' ? set : unset;
  };
  special(04000, 2, 's', 'S');
  special(02000, 5, 's', 'S');
  special(01000, 8, 't', 'T');
  return text;
}

std::string local_time_text(std::int64_t seconds) {
  const auto t = static_cast<std::time_t>(seconds);
  std::tm local{};
  if (::localtime_r(&t, &local) == nullptr) return protocol::format_utc(seconds);
  char text[64];
  const std::size_t n = std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S %Z", &local);
  return std::string(text, n);
}

std::string format_stat(std::string_view shown_path, const RemoteStat& stat) {
  std::string utc = protocol::format_utc(stat.mtime);  // YYYY-MM-DDTHH:MM:SSZ
  utc[10] = ' ';
  utc.pop_back();
  std::string out = fmt::format("path:     {}\n", shown_path);
  out += fmt::format("type:     {}\n", type_name(stat.type));
  out += fmt::format("size:     {} bytes ({})\n", stat.size, human_size(stat.size));
  out += fmt::format("modified: {} ({} UTC)\n", local_time_text(stat.mtime), utc);
  out += fmt::format("mode:     {} ({:04o})\n", mode_text(stat.mode), stat.mode);
  if (stat.target) out += fmt::format("target:   {}\n", display_name(*stat.target));
  return out;
}

}  // namespace ferry::client
