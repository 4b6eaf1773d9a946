#include "ferry/fs/listing.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "ferry/fs/confine.hpp"
#include "ferry/fs/names.hpp"

namespace ferry::fs {
namespace {

char entry_type(mode_t mode) {
  if (S_ISDIR(mode)) return 'd';
  if (S_ISREG(mode)) return 'f';
  if (S_ISLNK(mode)) return 'l';
  return 'o';
}

void fill_entry(const struct stat& st, std::string_view name, protocol::Entry& entry) {
  entry.type = entry_type(st.st_mode);
  entry.size = st.st_size > 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
  entry.mtime = st.st_mtim.tv_sec;
  entry.name.assign(name);
}

}  // namespace

DirectoryListing::DirectoryListing(DIR* stream, std::optional<protocol::Entry> single)
    : stream_(stream), single_(std::move(single)) {}

DirectoryListing::DirectoryListing(DirectoryListing&& other) noexcept
    : stream_(std::exchange(other.stream_, nullptr)), single_(std::exchange(other.single_, {})) {}

DirectoryListing& DirectoryListing::operator=(DirectoryListing&& other) noexcept {
  if (this != &other) {
    close();
    stream_ = std::exchange(other.stream_, nullptr);
    single_ = std::exchange(other.single_, {});
  }
  return *this;
}

DirectoryListing::~DirectoryListing() {
  close();
}

void DirectoryListing::close() {
  if (stream_ != nullptr) ::closedir(stream_);
  stream_ = nullptr;
}

SysResult<DirectoryListing> DirectoryListing::open(const Fd& root, std::string_view path) {
  // O_PATH: fstat without opening, so that a FIFO or device is never opened.
  auto target = open_in_root(root, path, O_PATH);
  if (!target) return target.error();
  struct stat st {};
  if (::fstat(target->get(), &st) != 0) return SysError{errno};

  if (!S_ISDIR(st.st_mode)) {
    std::string_view trimmed = path;
    while (trimmed.size() > 1 && trimmed.back() == '/')
      trimmed.remove_suffix(1);
    const std::string_view name = split_path(trimmed).name;
    // An unfinished upload named directly is hidden as it is in a directory's listing.
    if (is_temporary_name(name)) return SysError{ENOENT};
    protocol::Entry entry;
    fill_entry(st, is_special_name(name) ? std::string_view(".") : name, entry);
    return DirectoryListing(nullptr, std::move(entry));
  }

  const int directory_fd = ::openat(target->get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (directory_fd < 0) return SysError{errno};
  DIR* stream = ::fdopendir(directory_fd);
  if (stream == nullptr) {
    const int error = errno;
    ::close(directory_fd);
    return SysError{error};
  }
  return DirectoryListing(stream, std::nullopt);
}

SysResult<bool> DirectoryListing::next_entry(protocol::Entry& entry) {
  if (single_) {
    entry = std::move(*single_);
    single_.reset();
    return true;
  }
  while (stream_ != nullptr) {
    errno = 0;
    // NOLINTNEXTLINE(concurrency-mt-unsafe): readdir is thread-safe on a stream of one thread
    const dirent* item = ::readdir(stream_);
    if (item == nullptr) {
      const int error = errno;
      close();
      if (error != 0) return SysError{error};
      break;
    }
    const std::string_view name = item->d_name;
    if (name == "." || name == ".." || is_temporary_name(name)) continue;
    struct stat st {};
    if (::fstatat(::dirfd(stream_), item->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    fill_entry(st, name, entry);
    return true;
  }
  return false;
}

SysResult<bool> DirectoryListing::next_batch(std::string& out, std::size_t max_bytes) {
  protocol::Entry entry;
  while (out.size() < max_bytes) {
    auto more = next_entry(entry);
    if (!more) return more.error();
    if (!*more) return false;
    out += protocol::format_entry(entry);
  }
  return stream_ != nullptr || single_.has_value();
}

SysResult<std::vector<protocol::Entry>> list_entries(const Fd& root, std::string_view path) {
  auto listing = DirectoryListing::open(root, path);
  if (!listing) return listing.error();
  std::vector<protocol::Entry> entries;
  for (;;) {
    protocol::Entry entry;
    auto more = listing->next_entry(entry);
    if (!more) return more.error();
    if (!*more) break;
    entries.push_back(std::move(entry));
  }
  std::sort(entries.begin(), entries.end(),
            [](const protocol::Entry& a, const protocol::Entry& b) { return a.name < b.name; });
  return entries;
}

}  // namespace ferry::fs
