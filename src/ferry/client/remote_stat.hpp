#pragma once

// A STAT answer (PROTOCOL.md, "STAT"): read from its headers and shown as `stat` shows it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ferry/protocol/message.hpp"

namespace ferry::client {

struct RemoteStat {
  char type = 'o';  // as in LS: f, d, l, o
  std::uint64_t size = 0;
  std::int64_t mtime = 0;             // seconds since the epoch, UTC
  unsigned mode = 0;                  // permission bits
  std::optional<std::string> target;  // a link's, unescaped
};

struct StatResult {
  RemoteStat stat;
  std::string error;  // empty on success: what is wrong with the answer
  bool ok() const { return error.empty(); }
};

// An `OK` answer's TYPE, SIZE, MTIME, MODE and (for a link) TARGET; each required but
// TARGET, each checked.
StatResult parse_stat(const protocol::Message& answer);

// `rw-r--r--`, with setuid, setgid and sticky as ls shows them (`rwsr-xr-t`, `S`, `T`).
std::string mode_text(unsigned mode);

// `2026-11-23 20:56:48 CET`, in the local time zone.
std::string local_time_text(std::int64_t seconds);

// The lines of `stat`: path, type, size (bytes and human units), modification time (local
// and UTC), mode (symbolic and octal), link target.
std::string format_stat(std::string_view shown_path, const RemoteStat& stat);

}  // namespace ferry::client
