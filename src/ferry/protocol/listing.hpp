#pragma once

// LS entry lines: `<type> <size> <mtime> <name>` (docs/PROTOCOL.md, "LS").

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ferry::protocol {

struct Entry {
  char type = 'o';         // 'd' directory, 'f' regular file, 'l' symbolic link, 'o' other
  std::uint64_t size = 0;  // bytes
  std::int64_t mtime = 0;  // seconds since the Unix epoch, UTC
  std::string name;        // raw bytes of the name (escaped on the wire)
};

// One line, LF included; the name is escaped with protocol::escape.
std::string format_entry(const Entry& entry);

// Parses one line (without its LF); nullopt when it is not a well-formed entry.
std::optional<Entry> parse_entry(std::string_view line);

// `2026-11-23T19:56:48Z`; years outside 0..9999 are clamped to that range.
std::string format_utc(std::int64_t seconds);
std::optional<std::int64_t> parse_utc(std::string_view text);

}  // namespace ferry::protocol
