#pragma once

// The one function through which a path from the network becomes a file descriptor.
// openat2(RESOLVE_IN_ROOT) resolves the path as if `root` were `/`: a leading `/` means
// the root, `..` stops at it, and symbolic links (absolute or relative) are resolved
// inside it. Magic links (/proc/self/fd/...) are refused.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "ferry/fs/fd.hpp"
#include "ferry/fs/sys_result.hpp"

namespace ferry::fs {

// Opens the served root itself; the descriptor every other call resolves against.
SysResult<Fd> open_root(const char* directory);

// `flags` and `mode` as for openat(2); O_CLOEXEC is always added. An empty path is the root.
// A path holding a NUL byte is refused with EINVAL.
// Lookup::cached_only (RESOLVE_CACHED): fail with EAGAIN instead of waiting whenever a
// component is not in the kernel's lookup cache (or needs revalidating, as on a FUSE or
// network file system), so that a caller on an event loop can go on elsewhere; also EAGAIN
// for O_CREAT and O_TRUNC, which always may wait.
enum class Lookup { may_wait, cached_only };
SysResult<Fd> open_in_root(const Fd& root, std::string_view path, int flags, mode_t mode = 0,
                           Lookup lookup = Lookup::may_wait);

// The details of resolve_parent's refusals (SysError::detail, code EINVAL).
inline constexpr std::string_view kNotAFileName = "not a file name";
inline constexpr std::string_view kReservedForUploads = "name reserved for uploads";

// The directory that holds a path's last component, opened through open_in_root
// (O_RDONLY | O_DIRECTORY), and that component: what every request acting on a name uses
// (PUT, MKDIR, RMDIR, DELETE, RENAME, STAT), with the *at calls on the descriptor, so
// that the name is never resolved again through a string. Refused with EINVAL: a path
// holding a NUL, a last component that is empty, `.` or `..` (kNotAFileName; so "a/" and
// "/" are refused: trailing slashes are the caller's to trim), or one starting with
// `.ferry-tmp-` (kReservedForUploads). A parent that cannot be opened gives open_in_root's
// error (ENOENT, ENOTDIR, EACCES, ...).
struct Parent {
  Fd directory;
  std::string name;
};
SysResult<Parent> resolve_parent(const Fd& root, std::string_view path);

}  // namespace ferry::fs
