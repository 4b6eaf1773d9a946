#pragma once

// GET's side of the file system: a regular file opened for reading.

#include <cstdint>
#include <string_view>

#include "ferry/fs/confine.hpp"
#include "ferry/fs/fd.hpp"
#include "ferry/fs/sys_result.hpp"

namespace ferry::fs {

// A regular file opened for reading, and its size when opened.
struct ReadableFile {
  Fd fd;
  std::uint64_t size = 0;
};
// Lookup::cached_only: EAGAIN where the lookup would wait (confine.hpp).
SysResult<ReadableFile> open_for_reading(const Fd& root, std::string_view path,
                                         Lookup lookup = Lookup::may_wait);

}  // namespace ferry::fs
