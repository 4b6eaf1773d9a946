// LS entry lines and their UTC timestamps.
//
// Input: any bytes, taken three ways. Properties checked:
// - parse_entry(line), when it succeeds, gives a valid entry (type d/f/l/o, size at most
//   2^63-1, a non-empty name) whose format_entry is one line of valid UTF-8 without
//   control bytes except its final LF, and parses back to the same entry.
// - An entry built from the bytes (type, size, mtime, name) survives format_entry then
//   parse_entry unchanged.
// - format_utc(s) parses back to s clamped to years 0..9999; a timestamp that parse_utc
//   accepts formats to a text that parses back to the same time.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "ferry/protocol/limits.hpp"
#include "ferry/protocol/listing.hpp"
#include "fuzz_check.hpp"

namespace {

using ferry::fuzz::as_text;
using ferry::fuzz::has_no_control_bytes;
using ferry::fuzz::well_formed_utf8;
namespace protocol = ferry::protocol;

constexpr std::int64_t kMinTime = -62167219200;  // 0000-01-01T00:00:00Z
constexpr std::int64_t kMaxTime = 253402300799;  // 9999-12-31T23:59:59Z

bool same_entry(const protocol::Entry& a, const protocol::Entry& b) {
  return a.type == b.type && a.size == b.size && a.mtime == b.mtime && a.name == b.name;
}

// format_entry's line is one line, safe to log or print, and parses back to `entry`.
void check_round_trip(const protocol::Entry& entry) {
  const std::string line = protocol::format_entry(entry);
  FUZZ_CHECK(!line.empty() && line.back() == '\n');
  const std::string_view text = std::string_view(line).substr(0, line.size() - 1);
  FUZZ_CHECK(has_no_control_bytes(text));
  FUZZ_CHECK(well_formed_utf8(text));
  const auto parsed = protocol::parse_entry(text);
  FUZZ_CHECK(parsed.has_value());
  FUZZ_CHECK(same_entry(*parsed, entry));
}

template <class T>
T take(std::string_view& input) {
  T value{};
  const std::size_t n = std::min(sizeof value, input.size());
  std::memcpy(&value, input.data(), n);
  input.remove_prefix(n);
  return value;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input = as_text(data, size);

  // 1. The bytes as a line a server sent.
  if (const auto entry = protocol::parse_entry(input)) {
    FUZZ_CHECK(entry->type == 'd' || entry->type == 'f' || entry->type == 'l' ||
               entry->type == 'o');
    FUZZ_CHECK(entry->size <= protocol::kMaxFileSize);
    FUZZ_CHECK(!entry->name.empty());
    FUZZ_CHECK(entry->mtime >= kMinTime && entry->mtime <= kMaxTime);
    check_round_trip(*entry);
  }

  // 2. The bytes as an entry a server lists: type, size, mtime, then the name.
  std::string_view rest = input;
  static constexpr char kTypes[] = {'d', 'f', 'l', 'o'};
  protocol::Entry built;
  built.type = kTypes[take<std::uint8_t>(rest) % 4];
  built.size = take<std::uint64_t>(rest) & protocol::kMaxFileSize;
  const auto seconds = take<std::int64_t>(rest);
  built.mtime = std::clamp(seconds, kMinTime, kMaxTime);
  built.name = std::string(rest);
  if (!built.name.empty()) check_round_trip(built);

  // 3. Timestamps both ways.
  const auto formatted = protocol::format_utc(seconds);
  FUZZ_CHECK(protocol::parse_utc(formatted) == std::optional<std::int64_t>(built.mtime));
  if (const auto parsed = protocol::parse_utc(input.substr(0, 20))) {
    FUZZ_CHECK(protocol::parse_utc(protocol::format_utc(*parsed)) == parsed);
  }
  return 0;
}
