#include "page_cache.hpp"

#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <memory>
#include <vector>


namespace ferryd {
namespace {

// The kernel's own structures (include/uapi/linux/mman.h), absent from older headers.
struct CachestatRange {
  std::uint64_t offset;
  std::uint64_t length;
};
struct Cachestat {
  std::uint64_t cached;
  std::uint64_t dirty;
  std::uint64_t writeback;
  std::uint64_t evicted;
  std::uint64_t recently_evicted;
};

// Older headers lack the number; it is the same on every architecture (Linux 6.5 on).
#ifdef __NR_cachestat
constexpr long kCachestat = __NR_cachestat;
#else
constexpr long kCachestat = 451;
#endif

std::atomic<bool> cachestat_missing{false};

std::uint64_t page_size() {
  static const auto size = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  return size;
}

bool is_cached_by_mincore(int fd, std::uint64_t offset, std::uint64_t length) {
  const std::uint64_t page = page_size();
  const std::uint64_t start = offset / page * page;
  const std::uint64_t span = offset + length - start;
  void* map = ::mmap(nullptr, span, PROT_READ, MAP_SHARED, fd, static_cast<off_t>(start));
  if (map == MAP_FAILED) return false;
  std::vector<unsigned char> resident((span + page - 1) / page);
  bool cached = ::mincore(map, span, resident.data()) == 0;
  for (std::size_t i = 0; cached && i < resident.size(); ++i) {
    cached = (resident[i] & 1u) != 0;
  }
  ::munmap(map, span);
  return cached;
}

}  // namespace

bool is_cached(int fd, std::uint64_t offset, std::uint64_t length) {
  if (length == 0) return true;
  if (!cachestat_missing.load(std::memory_order_relaxed)) {
    const CachestatRange range{offset, length};
    Cachestat stat{};
    if (::syscall(kCachestat, fd, &range, &stat, 0) == 0) {
      const std::uint64_t page = page_size();
      const std::uint64_t pages = (offset + length + page - 1) / page - offset / page;
      return stat.cached >= pages;
    }
    if (errno != ENOSYS) return false;
    cachestat_missing.store(true, std::memory_order_relaxed);
  }
  return is_cached_by_mincore(fd, offset, length);
}

bool may_wait_for_disk(int fd) {
  struct statfs info {};
  if (::fstatfs(fd, &info) != 0) return true;
  return info.f_type != TMPFS_MAGIC && info.f_type != RAMFS_MAGIC;
}

int read_into_cache(int fd, std::uint64_t offset, std::uint64_t length) {
  constexpr std::size_t kChunk = std::size_t{256} * 1024;
  thread_local std::unique_ptr<char[]> buffer(new char[kChunk]);
  while (length > 0) {
    const std::size_t want = length < kChunk ? static_cast<std::size_t>(length) : kChunk;
    const ssize_t n = ::pread(fd, buffer.get(), want, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return 0;  // the file shrank: the send finds out
    offset += static_cast<std::uint64_t>(n);
    length -= static_cast<std::uint64_t>(n);
  }
  return 0;
}

}  // namespace ferryd
