#pragma once

// The one function through which a path from the network becomes a file descriptor.
// openat2(RESOLVE_IN_ROOT) resolves the path as if `root` were `/`: a leading `/` means
// the root, `..` stops at it, and symbolic links (absolute or relative) are resolved
// inside it. Magic links (/proc/self/fd/...) are refused.

#include <sys/types.h>

#include <cstdint>
#include <string_view>

#include "ferry/fs/fd.hpp"
#include "ferry/fs/sys_result.hpp"

namespace ferry::fs {

// Opens the served root itself; the descriptor every other call resolves against.
SysResult<Fd> open_root(const char* directory);

// `flags` and `mode` as for openat(2); O_CLOEXEC is always added. An empty path is the root.
// A path holding a NUL byte is refused with EINVAL.
SysResult<Fd> open_in_root(const Fd& root, std::string_view path, int flags, mode_t mode = 0);

}  // namespace ferry::fs
