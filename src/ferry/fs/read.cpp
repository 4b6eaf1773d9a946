#include "ferry/fs/read.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>

#include "ferry/fs/confine.hpp"
#include "ferry/fs/names.hpp"

namespace ferry::fs {

SysResult<ReadableFile> open_for_reading(const Fd& root, std::string_view path, Lookup lookup) {
  // An unfinished upload is not a file yet (LS does not show it either).
  if (is_temporary_name(split_path(path).name)) return SysError{ENOENT};
  // O_NONBLOCK: opening a FIFO someone left in the root must not hang the server.
  auto fd = open_in_root(root, path, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0, lookup);
  if (!fd) return fd.error();
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0) return SysError{errno};
  if (S_ISDIR(st.st_mode)) return SysError{EISDIR};
  if (!S_ISREG(st.st_mode)) return SysError{EINVAL, "not a regular file"};
  const int flags = ::fcntl(fd->get(), F_GETFL);
  if (flags >= 0) ::fcntl(fd->get(), F_SETFL, flags & ~O_NONBLOCK);
  return ReadableFile{std::move(*fd), static_cast<std::uint64_t>(st.st_size)};
}

}  // namespace ferry::fs
