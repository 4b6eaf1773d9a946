#include "page_cache.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace ferryd {
namespace {

// A 4 MiB file written and synced in a fresh directory under /tmp; removed at the end.
class PageCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string base = "/tmp/ferry-page-cache-XXXXXX";
    ASSERT_NE(::mkdtemp(base.data()), nullptr);
    directory_ = base;
    path_ = directory_ + "/file";
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    ASSERT_GE(fd_, 0);
    const std::vector<char> block(kSize, 'x');
    ASSERT_EQ(::write(fd_, block.data(), block.size()), static_cast<ssize_t>(block.size()));
    ASSERT_EQ(::fsync(fd_), 0);
  }
  void TearDown() override {
    if (fd_ >= 0) ::close(fd_);
    ::unlink(path_.c_str());
    ::rmdir(directory_.c_str());
  }

  static constexpr std::size_t kSize = std::size_t{4} << 20;
  std::string directory_;
  std::string path_;
  int fd_ = -1;
};

TEST_F(PageCacheTest, AFileJustWrittenIsCached) {
  EXPECT_TRUE(is_cached(fd_, 0, kSize));
  EXPECT_TRUE(is_cached(fd_, 12345, 100));
  EXPECT_TRUE(is_cached(fd_, 0, 0));
}

TEST_F(PageCacheTest, EvictedPagesAreColdUntilReadIn) {
  if (!may_wait_for_disk(fd_)) GTEST_SKIP() << "/tmp is memory-backed: its pages cannot be evicted";
  ASSERT_EQ(::posix_fadvise(fd_, 0, 0, POSIX_FADV_DONTNEED), 0);
  if (is_cached(fd_, 0, kSize)) GTEST_SKIP() << "the kernel kept the pages despite DONTNEED";
  EXPECT_EQ(read_into_cache(fd_, 1 << 20, 1 << 20), 0);
  EXPECT_TRUE(is_cached(fd_, 1 << 20, 1 << 20));
  EXPECT_FALSE(is_cached(fd_, 0, kSize));
}

TEST(PageCache, ShmIsMemoryBacked) {
  const int fd = ::open("/dev/shm", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) GTEST_SKIP() << "no /dev/shm";
  EXPECT_FALSE(may_wait_for_disk(fd));
  ::close(fd);
}

}  // namespace
}  // namespace ferryd
