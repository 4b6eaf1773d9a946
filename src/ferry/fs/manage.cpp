#include "ferry/fs/manage.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>  // renameat2, RENAME_NOREPLACE (glibc, _GNU_SOURCE)
#include <vector>

#include "ferry/fs/confine.hpp"
#include "ferry/fs/names.hpp"

namespace ferry::fs {
namespace {

std::string_view without_trailing_slashes(std::string_view path) {
  while (path.size() > 1 && path.back() == '/')
    path.remove_suffix(1);
  return path;
}

bool names_the_root(const Fd& root, std::string_view path) {
  auto target = open_in_root(root, path, O_PATH | O_DIRECTORY);
  if (!target) return false;
  struct stat a {};
  struct stat b {};
  return ::fstat(target->get(), &a) == 0 && ::fstat(root.get(), &b) == 0 && a.st_dev == b.st_dev &&
         a.st_ino == b.st_ino;
}

// resolve_parent after trailing slashes are dropped; the root itself is kServedDirectory.
// A parent that cannot be opened because it is missing (or no directory) is `missing`.
SysResult<Parent> resolve_name(const Fd& root, std::string_view path, SysError missing) {
  path = without_trailing_slashes(path);
  auto parent = resolve_parent(root, path);
  if (parent) return parent;
  const SysError& error = parent.error();
  if (error.detail == kNotAFileName && names_the_root(root, path)) {
    return SysError{EBUSY, kServedDirectory};
  }
  if (error.detail.empty() && (error.code == ENOENT || error.code == ENOTDIR)) return missing;
  return error;
}

// The words this module's callers show for an errno of an *at call.
SysError from_errno(int code) {
  switch (code) {
    case EEXIST:
      return SysError{EEXIST, kExists};
    case ENOTEMPTY:
      return SysError{ENOTEMPTY, kNotEmpty};
    case EXDEV:
      return SysError{EXDEV, kCrossDevice};
    case EBUSY:
      return SysError{EBUSY, "busy: in use by the system"};
    default:
      return SysError{code};
  }
}

char entry_type(mode_t mode) {
  if (S_ISDIR(mode)) return 'd';
  if (S_ISREG(mode)) return 'f';
  if (S_ISLNK(mode)) return 'l';
  return 'o';
}

EntryStatus status_of(const struct stat& st) {
  EntryStatus status;
  status.type = entry_type(st.st_mode);
  status.size = st.st_size > 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
  status.mtime = st.st_mtim.tv_sec;
  status.mode = st.st_mode & 07777;
  return status;
}

}  // namespace

SysResult<EntryStatus> stat_entry(const Fd& root, std::string_view path) {
  const std::string_view trimmed = without_trailing_slashes(path);
  if (trimmed.find('\0') != std::string_view::npos) return SysError{EINVAL, "invalid path"};
  if (is_special_name(split_path(trimmed).name)) {
    // The root, `.` or `..` of some directory: a directory, never a link.
    auto directory = open_in_root(root, trimmed, O_PATH);
    if (!directory) return directory.error();
    struct stat st {};
    if (::fstat(directory->get(), &st) != 0) return SysError{errno};
    return status_of(st);
  }
  auto parent = resolve_parent(root, trimmed);
  if (!parent) return parent.error();
  struct stat st {};
  if (::fstatat(parent->directory.get(), parent->name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return SysError{errno};
  }
  EntryStatus status = status_of(st);
  if (S_ISLNK(st.st_mode)) {
    std::vector<char> target(static_cast<std::size_t>(st.st_size > 0 ? st.st_size : 0) + 1);
    for (;;) {
      const ssize_t n =
          ::readlinkat(parent->directory.get(), parent->name.c_str(), target.data(), target.size());
      if (n < 0) return SysError{errno};
      if (static_cast<std::size_t>(n) < target.size()) {
        status.link_target.assign(target.data(), static_cast<std::size_t>(n));
        break;
      }
      target.resize(target.size() * 2);  // the link grew since the fstatat
    }
  }
  return status;
}

SysError make_directory(const Fd& root, std::string_view path, mode_t mode) {
  auto parent = resolve_name(root, path, SysError{ENOENT, kNoSuchDirectory});
  if (!parent) return parent.error();
  if (::mkdirat(parent->directory.get(), parent->name.c_str(), mode) != 0) {
    return from_errno(errno);
  }
  return {};
}

SysError remove_directory(const Fd& root, std::string_view path) {
  auto parent = resolve_name(root, path, SysError{ENOENT});
  if (!parent) return parent.error();
  if (::unlinkat(parent->directory.get(), parent->name.c_str(), AT_REMOVEDIR) != 0) {
    // A directory that holds entries is ENOTEMPTY or, on some file systems, EEXIST.
    return from_errno(errno == EEXIST ? ENOTEMPTY : errno);
  }
  return {};
}

SysError remove_file(const Fd& root, std::string_view path) {
  auto parent = resolve_name(root, path, SysError{ENOENT});
  if (!parent) return parent.error();
  // unlinkat without AT_REMOVEDIR never removes a directory (EISDIR on Linux) and removes
  // a symbolic link itself.
  if (::unlinkat(parent->directory.get(), parent->name.c_str(), 0) != 0) {
    return from_errno(errno);
  }
  return {};
}

RenameError rename_entry(const Fd& root, std::string_view from, std::string_view to,
                         bool overwrite) {
  auto source = resolve_name(root, from, SysError{ENOENT});
  if (!source) return {source.error(), false};
  auto target = resolve_name(root, to, SysError{ENOENT, kNoSuchDirectory});
  if (!target) return {target.error(), true};
  const unsigned flags = overwrite ? 0u : RENAME_NOREPLACE;
  if (::renameat2(source->directory.get(), source->name.c_str(), target->directory.get(),
                  target->name.c_str(), flags) == 0) {
    return {};
  }
  const int code = errno;
  switch (code) {
    case ENOENT:  // both parents are open: the source's name is missing
      return {SysError{ENOENT}, false};
    case EINVAL:  // a directory into itself or below itself
      return {SysError{EINVAL, kInvalidArgument}, false};
    case EXDEV:
      return {from_errno(EXDEV), false};
    case EEXIST:
    case ENOTEMPTY:
    case EISDIR:
    case ENOTDIR:
      return {from_errno(code), true};
    default:
      return {from_errno(code), false};
  }
}

}  // namespace ferry::fs
