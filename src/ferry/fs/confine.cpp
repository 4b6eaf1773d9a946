#include "ferry/fs/confine.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>

#include <cerrno>
#include <string>

#include "ferry/fs/names.hpp"

namespace ferry::fs {

SysResult<Fd> open_root(const char* directory) {
  const int fd = ::open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return SysError{errno};
  return Fd(fd);
}

SysResult<Fd> open_in_root(const Fd& root, std::string_view path, int flags, mode_t mode,
                           Lookup lookup) {
  if (path.find('\0') != std::string_view::npos) return SysError{EINVAL, "invalid path"};
  const std::string terminated = path.empty() ? std::string(".") : std::string(path);

  open_how how{};
  how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
  how.mode = (flags & (O_CREAT | O_TMPFILE)) != 0 ? mode : 0;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  if (lookup == Lookup::cached_only) {
    how.resolve |= RESOLVE_CACHED;
    const long fd = ::syscall(SYS_openat2, root.get(), terminated.c_str(), &how, sizeof how);
    if (fd >= 0) return Fd(static_cast<int>(fd));
    // EAGAIN: not cached (or a rename raced); EINVAL/ENOSYS: a kernel before 5.12 that knows
    // no RESOLVE_CACHED. Either way the caller opens where it may wait.
    if (errno == EINVAL || errno == ENOSYS) return SysError{EAGAIN};
    return SysError{errno};
  }

  // EAGAIN: a concurrent rename raced the lookup; the kernel asks for a retry.
  for (int attempt = 0; attempt < 16; ++attempt) {
    const long fd = ::syscall(SYS_openat2, root.get(), terminated.c_str(), &how, sizeof how);
    if (fd >= 0) return Fd(static_cast<int>(fd));
    if (errno != EAGAIN && errno != EINTR) return SysError{errno};
  }
  return SysError{EAGAIN};
}

SysResult<Parent> resolve_parent(const Fd& root, std::string_view path) {
  if (path.find('\0') != std::string_view::npos) return SysError{EINVAL, "invalid path"};
  const SplitPath split = split_path(path);
  if (is_special_name(split.name)) return SysError{EINVAL, kNotAFileName};
  if (is_temporary_name(split.name)) return SysError{EINVAL, kReservedForUploads};
  auto directory = open_in_root(root, split.parent, O_RDONLY | O_DIRECTORY);
  if (!directory) return directory.error();
  return Parent{std::move(*directory), std::string(split.name)};
}

}  // namespace ferry::fs
