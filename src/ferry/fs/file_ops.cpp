#include "ferry/fs/file_ops.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>

#include <fmt/format.h>

#include "ferry/fs/confine.hpp"

namespace ferry::fs {
namespace {

bool is_special_name(std::string_view name) {
  return name.empty() || name == "." || name == "..";
}

bool is_temporary_name(std::string_view name) {
  return name.starts_with(kTemporaryPrefix);
}

char entry_type(mode_t mode) {
  if (S_ISDIR(mode)) return 'd';
  if (S_ISREG(mode)) return 'f';
  if (S_ISLNK(mode)) return 'l';
  return 'o';
}

protocol::Entry make_entry(const struct stat& st, std::string name) {
  protocol::Entry entry;
  entry.type = entry_type(st.st_mode);
  entry.size = st.st_size > 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
  entry.mtime = st.st_mtim.tv_sec;
  entry.name = std::move(name);
  return entry;
}

std::string random_temporary_name() {
  unsigned char bytes[8] = {};
  std::size_t filled = 0;
  while (filled < sizeof bytes) {
    const ssize_t n = ::getrandom(bytes + filled, sizeof bytes - filled, 0);
    if (n > 0) filled += static_cast<std::size_t>(n);
  }
  std::string name(kTemporaryPrefix);
  for (const unsigned char b : bytes)
    name += fmt::format("{:02x}", b);
  return name;
}

}  // namespace

SplitPath split_path(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return {{}, path};
  if (slash == 0) return {path.substr(0, 1), path.substr(1)};
  return {path.substr(0, slash), path.substr(slash + 1)};
}

SysResult<ReadableFile> open_for_reading(const Fd& root, std::string_view path) {
  // An unfinished upload is not a file yet (LS does not show it either).
  if (is_temporary_name(split_path(path).name)) return SysError{ENOENT};
  // O_NONBLOCK: opening a FIFO someone left in the root must not hang the server.
  auto fd = open_in_root(root, path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
  if (!fd) return fd.error();
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0) return SysError{errno};
  if (S_ISDIR(st.st_mode)) return SysError{EISDIR};
  if (!S_ISREG(st.st_mode)) return SysError{EINVAL, "not a regular file"};
  const int flags = ::fcntl(fd->get(), F_GETFL);
  if (flags >= 0) ::fcntl(fd->get(), F_SETFL, flags & ~O_NONBLOCK);
  return ReadableFile{std::move(*fd), static_cast<std::uint64_t>(st.st_size)};
}

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
  if (path.find('\0') != std::string_view::npos) return SysError{EINVAL, "invalid path"};
  const SplitPath split = split_path(path);
  if (is_special_name(split.name)) return SysError{EINVAL, "not a file name"};
  if (is_temporary_name(split.name)) return SysError{EINVAL, "name reserved for uploads"};

  auto directory = open_in_root(root, split.parent, O_RDONLY | O_DIRECTORY);
  if (!directory) {
    if (directory.error().code == ENOENT || directory.error().code == ENOTDIR) {
      return SysError{ENOENT, "no such directory"};
    }
    return directory.error();
  }
  const std::string target(split.name);

  mode_t mode = 0666;
  bool keep_mode = false;
  struct stat existing {};
  if (::fstatat(directory->get(), target.c_str(), &existing, AT_SYMLINK_NOFOLLOW) == 0) {
    if (S_ISDIR(existing.st_mode)) return SysError{EISDIR};
    if (S_ISREG(existing.st_mode)) {
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

SysResult<bool> Upload::commit() {
  if (finished_) return SysError{EINVAL, "upload already finished"};
  if (::fsync(file_.get()) != 0) return SysError{errno};
  if (::renameat(directory_.get(), temporary_name_.c_str(), directory_.get(),
                 target_name_.c_str()) != 0) {
    return SysError{errno};
  }
  finished_ = true;
  file_.reset();
  if (::fsync(directory_.get()) != 0) return SysError{errno};
  return true;
}

void Upload::abort() {
  if (finished_) return;
  finished_ = true;
  file_.reset();
  if (directory_.valid()) ::unlinkat(directory_.get(), temporary_name_.c_str(), 0);
}

SysResult<std::vector<protocol::Entry>> list_entries(const Fd& root, std::string_view path) {
  // O_PATH: fstat without opening, so that a FIFO or device is never opened.
  auto target = open_in_root(root, path, O_PATH);
  if (!target) return target.error();
  struct stat st {};
  if (::fstat(target->get(), &st) != 0) return SysError{errno};

  std::vector<protocol::Entry> entries;
  if (!S_ISDIR(st.st_mode)) {
    std::string_view trimmed = path;
    while (trimmed.size() > 1 && trimmed.back() == '/')
      trimmed.remove_suffix(1);
    const std::string_view name = split_path(trimmed).name;
    // An unfinished upload named directly is hidden as it is in a directory's listing.
    if (is_temporary_name(name)) return SysError{ENOENT};
    entries.push_back(make_entry(st, std::string(is_special_name(name) ? "." : name)));
    return entries;
  }

  const int directory_fd = ::openat(target->get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (directory_fd < 0) return SysError{errno};
  DIR* directory = ::fdopendir(directory_fd);
  if (directory == nullptr) {
    const int error = errno;
    ::close(directory_fd);
    return SysError{error};
  }
  errno = 0;
  // NOLINTNEXTLINE(concurrency-mt-unsafe): readdir is thread-safe on a stream of one thread
  while (const dirent* item = ::readdir(directory)) {
    const std::string_view name = item->d_name;
    if (name == "." || name == ".." || is_temporary_name(name)) continue;
    struct stat entry_st {};
    if (::fstatat(directory_fd, item->d_name, &entry_st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    entries.push_back(make_entry(entry_st, std::string(name)));
  }
  ::closedir(directory);
  std::sort(entries.begin(), entries.end(),
            [](const protocol::Entry& a, const protocol::Entry& b) { return a.name < b.name; });
  return entries;
}

namespace {

bool is_before(const timespec& a, const timespec& b) {
  return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec);
}

// Walks one directory (taking ownership of `directory_fd`), then its subdirectories.
int remove_stale_uploads_in(int directory_fd, const timespec& cutoff, int depth) {
  DIR* listing = ::fdopendir(directory_fd);
  if (listing == nullptr) {
    ::close(directory_fd);
    return 0;
  }
  int removed = 0;
  // NOLINTNEXTLINE(concurrency-mt-unsafe): readdir is thread-safe on a stream of one thread
  while (const dirent* item = ::readdir(listing)) {
    const std::string_view name = item->d_name;
    if (name == "." || name == "..") continue;
    struct stat st {};
    if (::fstatat(::dirfd(listing), item->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (S_ISDIR(st.st_mode) && depth < 64) {
      const int child =
          ::openat(::dirfd(listing), item->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (child >= 0) removed += remove_stale_uploads_in(child, cutoff, depth + 1);
    } else if (S_ISREG(st.st_mode) && is_temporary_name(name) && is_before(st.st_mtim, cutoff) &&
               ::unlinkat(::dirfd(listing), item->d_name, 0) == 0) {
      ++removed;
    }
  }
  ::closedir(listing);
  return removed;
}

}  // namespace

timespec file_clock_now() {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME_COARSE, &now);
  return now;
}

int remove_stale_uploads(const Fd& root, const timespec& cutoff) {
  const int top = ::openat(root.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  return top < 0 ? 0 : remove_stale_uploads_in(top, cutoff, 0);
}

}  // namespace ferry::fs
