#include "ferry/client/part_files.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

namespace ferry::client {
namespace {

constexpr std::size_t kRandomPartLength = 6;

bool is_ascii_alphanumeric(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

std::chrono::system_clock::time_point modified(const struct stat& st) {
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
}

bool remove_if_stale(int directory, const char* name,
                     std::chrono::system_clock::time_point modified_before) {
  // O_NONBLOCK: a FIFO under such a name must not hang the client (it is not removed).
  const fs::Fd file(
      ::openat(directory, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (!file.valid()) return false;  // a symbolic link (ELOOP), gone, unreadable
  struct stat st {};
  if (::fstat(file.get(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  if (modified(st) >= modified_before) return false;
  // A running client holds the lock on its part file for as long as it writes it.
  if (::flock(file.get(), LOCK_EX | LOCK_NB) != 0) return false;
  struct stat named {};
  if (::fstatat(directory, name, &named, AT_SYMLINK_NOFOLLOW) != 0 || named.st_dev != st.st_dev ||
      named.st_ino != st.st_ino) {
    return false;  // renamed or replaced meanwhile: not the file that was checked
  }
  return ::unlinkat(directory, name, 0) == 0;
}

struct DirCloser {
  void operator()(DIR* dir) const { ::closedir(dir); }
};

}  // namespace

bool is_part_file_name(std::string_view name) {
  if (name.size() != kPartFilePrefix.size() + kRandomPartLength ||
      !name.starts_with(kPartFilePrefix)) {
    return false;
  }
  name.remove_prefix(kPartFilePrefix.size());
  return std::all_of(name.begin(), name.end(), is_ascii_alphanumeric);
}

fs::Fd create_part_file(const std::string& directory, std::string& path) {
  std::string pattern = directory + "/" + std::string(kPartFilePrefix) + "XXXXXX";
  fs::Fd file(::mkostemp(pattern.data(), O_CLOEXEC));
  if (!file.valid()) return file;
  // Nobody else can hold it yet: a sweeping client locks only files a minute old.
  if (::flock(file.get(), LOCK_EX) != 0) {
    const int error = errno;
    ::unlink(pattern.c_str());
    errno = error;
    return fs::Fd();
  }
  path = std::move(pattern);
  return file;
}

std::size_t remove_stale_part_files(int directory,
                                    std::chrono::system_clock::time_point modified_before) {
  const int listing_fd = ::fcntl(directory, F_DUPFD_CLOEXEC, 0);
  if (listing_fd < 0) return 0;
  const std::unique_ptr<DIR, DirCloser> listing(::fdopendir(listing_fd));
  if (!listing) {
    ::close(listing_fd);
    return 0;
  }
  std::size_t removed = 0;
  // NOLINTNEXTLINE(concurrency-mt-unsafe): readdir is thread-safe on a stream of one thread
  while (const dirent* entry = ::readdir(listing.get())) {
    if (is_part_file_name(entry->d_name) &&
        remove_if_stale(directory, entry->d_name, modified_before)) {
      ++removed;
    }
  }
  return removed;
}

}  // namespace ferry::client
