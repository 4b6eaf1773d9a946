#pragma once

// The requests that act on names and move no data: STAT, MKDIR, RMDIR, DELETE, RENAME
// (docs/PROTOCOL.md, "Version 2"). Every path goes through resolve_parent (or, for STAT of
// the root and of `.`/`..`, open_in_root), and the last component is acted on with an *at
// call on the parent's descriptor that never follows a link at that name: nothing outside
// the root is reached, whatever links the tree holds or a peer swaps in meanwhile.
// Blocking: the server calls these on its file threads.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "ferry/fs/fd.hpp"
#include "ferry/fs/sys_result.hpp"

namespace ferry::fs {

// The details of errors these functions add (SysError::detail).
inline constexpr std::string_view kServedDirectory =
    "not allowed on the served directory";                                 // EBUSY
inline constexpr std::string_view kNoSuchDirectory = "no such directory";  // ENOENT: the parent
inline constexpr std::string_view kExists = "exists";                      // EEXIST
inline constexpr std::string_view kNotEmpty = "not empty";                 // ENOTEMPTY
inline constexpr std::string_view kInvalidArgument = "invalid argument";   // EINVAL of rename
inline constexpr std::string_view kCrossDevice = "cannot move across file systems";  // EXDEV

// One entry as STAT shows it; a symbolic link is not followed.
struct EntryStatus {
  char type = 'o';          // 'f', 'd', 'l', 'o' as in LS
  std::uint64_t size = 0;   // bytes; for a link, the length of its target
  std::int64_t mtime = 0;   // seconds since the Unix epoch
  unsigned mode = 0;        // st_mode & 07777
  std::string link_target;  // raw bytes, for a link only
};

// An empty path (or `/`, `.`, `a/..`) is the root.
SysResult<EntryStatus> stat_entry(const Fd& root, std::string_view path);

// Each returns SysError{} (code 0) on success. Trailing slashes are ignored ("a/" is "a").
// A path naming the root itself is refused with kServedDirectory; a missing or non-directory
// parent with kNoSuchDirectory (MKDIR) or ENOENT (the others).
SysError make_directory(const Fd& root, std::string_view path, mode_t mode = 0777);
SysError remove_directory(const Fd& root, std::string_view path);  // empty ones only
SysError remove_file(const Fd& root, std::string_view path);       // not a directory; a link itself

// renameat2, RENAME_NOREPLACE unless `overwrite`. `about_to`: the error is about the target
// (it exists, is a directory, its parent is missing, ...) rather than the source.
struct RenameError {
  SysError error;
  bool about_to = false;
};
RenameError rename_entry(const Fd& root, std::string_view from, std::string_view to,
                         bool overwrite);

}  // namespace ferry::fs
