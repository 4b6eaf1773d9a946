#include "ferry/fs/upload.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "ferry/fs/confine.hpp"
#include "ferry/fs/names.hpp"

namespace ferry::fs {

Upload::Upload(Fd directory, Fd file, std::string temporary_name, std::string target_name)
    : directory_(std::move(directory)),
      file_(std::move(file)),
      temporary_name_(std::move(temporary_name)),
      target_name_(std::move(target_name)) {}

Upload::Upload(Upload&& other) noexcept
    : directory_(std::move(other.directory_)),
      file_(std::move(other.file_)),
      temporary_name_(std::move(other.temporary_name_)),
      target_name_(std::move(other.target_name_)),
      finished_(std::exchange(other.finished_, true)) {}

Upload::~Upload() {
  abort();
}

SysResult<Upload> Upload::begin(const Fd& root, std::string_view path, std::uint64_t size) {
  auto parent = resolve_parent(root, path);
  if (!parent) {
    const SysError& error = parent.error();
    if (error.detail.empty() && (error.code == ENOENT || error.code == ENOTDIR)) {
      return SysError{ENOENT, "no such directory"};
    }
    return error;
  }
  Fd* directory = &parent->directory;
  const std::string target = std::move(parent->name);

  mode_t mode = 0666;
  bool keep_mode = false;
  struct stat existing {};
  if (::fstatat(directory->get(), target.c_str(), &existing, AT_SYMLINK_NOFOLLOW) == 0) {
    if (S_ISDIR(existing.st_mode)) return SysError{EISDIR};
    if (S_ISREG(existing.st_mode)) {
      // Replacing is a write of the file's content, so it needs the file's own write
      // permission, not only the directory's (a 0444 file was silently replaced). Root
      // passes by CAP_DAC_OVERRIDE, as it would pass a write.
      if (::faccessat(directory->get(), target.c_str(), W_OK, AT_EACCESS | AT_SYMLINK_NOFOLLOW) !=
              0 &&
          errno != ENOENT) {
        return SysError{errno == EPERM ? EACCES : errno};
      }
      mode = existing.st_mode & 0777;
      keep_mode = true;
    }
  } else if (errno != ENOENT) {
    return SysError{errno};
  }

  std::string temporary;
  int fd = -1;
  for (int attempt = 0; attempt < 8 && fd < 0; ++attempt) {
    temporary = random_temporary_name();
    fd = ::openat(directory->get(), temporary.c_str(),
                  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0 && errno != EEXIST) return SysError{errno};
  }
  if (fd < 0) return SysError{EEXIST};
  Upload upload(std::move(*directory), Fd(fd), std::move(temporary), target);
  // Nobody else can hold it yet but a sweep that found the file in the microseconds since
  // its creation; that one removes it, so this upload is given up (~Upload unlinks).
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) return SysError{errno};
  // The existing file's mode survives the umask the kernel applied at creation.
  if (keep_mode) ::fchmod(fd, mode);

  // A file that cannot fit is refused before any byte moves. A check, not a reservation:
  // fallocate would reserve, but on tmpfs it zeroes every page first and took a quarter of
  // a 1 GiB PUT's server time (perf). A disk that fills meanwhile still fails the write.
  struct statvfs space {};
  if (size > 0 && ::fstatvfs(fd, &space) == 0 && space.f_blocks > 0 &&
      size / space.f_frsize >= space.f_bavail) {
    return SysError{ENOSPC};
  }
  return upload;
}

SysError Upload::temporary_file_lost(SysError fallback) const {
  struct stat st {};
  if (::fstat(file_.get(), &st) != 0) return fallback;
  if (st.st_nlink == 0) {
    return SysError{ENOENT, "the upload's temporary file was removed by another process"};
  }
  if (fallback.code == ENOENT) {
    return SysError{ENOENT, "the upload's temporary file was renamed by another process"};
  }
  return fallback;
}

SysResult<Committed> Upload::commit() {
  if (finished_) return SysError{EINVAL, "upload already finished"};
  if (::fsync(file_.get()) != 0) return SysError{errno};
  // Before the rename, not only after it fails: a name unlinked and then reused by another
  // process would be renamed into place as if it were this upload.
  if (const SysError lost = temporary_file_lost(SysError{}); lost.code != 0) return lost;
  if (::renameat(directory_.get(), temporary_name_.c_str(), directory_.get(),
                 target_name_.c_str()) != 0) {
    const SysError failed{errno};
    return failed.code == ENOENT ? temporary_file_lost(failed) : failed;
  }
  finished_ = true;
  file_.reset();
  Committed committed;
  if (::fsync(directory_.get()) != 0) committed.directory_sync_error = errno;
  return committed;
}

void Upload::abort() {
  if (finished_) return;
  finished_ = true;
  file_.reset();
  if (directory_.valid()) ::unlinkat(directory_.get(), temporary_name_.c_str(), 0);
}

}  // namespace ferry::fs
