// The client's download temporaries: their names, their lock, and the removal of stale ones.

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "ferry/client/part_files.hpp"
#include "ferry/fs/fd.hpp"

namespace ferry::client {
namespace {

using Clock = std::chrono::system_clock;

class PartFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/ferry-unit-parts-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr) << std::strerror(errno);
    dir_ = pattern;
    dir_fd_.reset(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(dir_fd_.valid());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string path(const std::string& name) const { return dir_ + "/" + name; }

  void make_file(const std::string& name, int age_seconds) const {
    std::ofstream(path(name)) << "partial";
    age(name, age_seconds);
  }

  void age(const std::string& name, int age_seconds) const {
    const auto when = Clock::to_time_t(Clock::now()) - age_seconds;
    const timespec times[2] = {{when, 0}, {when, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, path(name).c_str(), times, AT_SYMLINK_NOFOLLOW), 0)
        << name << ": " << std::strerror(errno);
  }

  std::set<std::string> names() const {
    std::set<std::string> out;
    for (const auto& entry : std::filesystem::directory_iterator(dir_))
      out.insert(entry.path().filename().string());
    return out;
  }

  std::size_t sweep() const {
    return remove_stale_part_files(dir_fd_.get(), Clock::now() - kStalePartFileAge);
  }

  std::string dir_;
  fs::Fd dir_fd_;
};

TEST(PartFileName, ExactlySixLettersOrDigits) {
  EXPECT_TRUE(is_part_file_name(".ferry-part-abc123"));
  EXPECT_TRUE(is_part_file_name(".ferry-part-ZZZZZZ"));
  EXPECT_FALSE(is_part_file_name(".ferry-part-abc12"));
  EXPECT_FALSE(is_part_file_name(".ferry-part-abc1234"));
  EXPECT_FALSE(is_part_file_name(".ferry-part-abc-12"));
  EXPECT_FALSE(is_part_file_name(".ferry-part-notes.txt"));
  EXPECT_FALSE(is_part_file_name(".ferry-part-"));
  EXPECT_FALSE(is_part_file_name(".ferry-tmp-0123456789abcdef"));
  EXPECT_FALSE(is_part_file_name(".ferry-tmp-abc123"));
  EXPECT_FALSE(is_part_file_name("x.ferry-part-abc123"));
  EXPECT_FALSE(is_part_file_name(".ferry-part-abc\xc3\xa9"));
}

TEST_F(PartFilesTest, CreatedFileIsNamedAndLocked) {
  std::string created;
  const fs::Fd file = create_part_file(dir_, created);
  ASSERT_TRUE(file.valid()) << std::strerror(errno);
  ASSERT_EQ(created.rfind(dir_ + "/", 0), 0u) << created;
  EXPECT_TRUE(is_part_file_name(created.substr(dir_.size() + 1))) << created;
  // Another open file description cannot take the lock while this one holds it.
  const fs::Fd other(::open(created.c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(other.valid());
  EXPECT_NE(::flock(other.get(), LOCK_EX | LOCK_NB), 0);
  EXPECT_EQ(errno, EWOULDBLOCK);
}

TEST_F(PartFilesTest, CreateFailsInAMissingDirectory) {
  std::string created = "unchanged";
  EXPECT_FALSE(create_part_file(dir_ + "/missing", created).valid());
  EXPECT_EQ(errno, ENOENT);
  EXPECT_EQ(created, "unchanged");
}

TEST_F(PartFilesTest, RemovesOnlyStaleUnlockedPartFiles) {
  make_file(".ferry-part-abc123", 120);  // stale: removed
  make_file(".ferry-part-XYZ789", 120);  // stale, but a running client holds it
  make_file(".ferry-part-new001", 10);   // recent: kept
  make_file(".ferry-part-notes.txt", 120);
  make_file(".ferry-tmp-0123456789abcdef", 120);
  make_file("ordinary.txt", 120);
  const fs::Fd holder(::open(path(".ferry-part-XYZ789").c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_EQ(::flock(holder.get(), LOCK_EX | LOCK_NB), 0);

  EXPECT_EQ(sweep(), 1u);
  EXPECT_EQ(names(), (std::set<std::string>{".ferry-part-XYZ789", ".ferry-part-new001",
                                            ".ferry-part-notes.txt", ".ferry-tmp-0123456789abcdef",
                                            "ordinary.txt"}));
}

TEST_F(PartFilesTest, NeverFollowsOrRemovesOtherKinds) {
  make_file("target", 120);
  ASSERT_EQ(::symlink("target", path(".ferry-part-link01").c_str()), 0);
  age(".ferry-part-link01", 120);
  ASSERT_EQ(::symlink("/nonexistent", path(".ferry-part-dangle").c_str()), 0);
  ASSERT_EQ(::mkdir(path(".ferry-part-dir001").c_str(), 0700), 0);
  age(".ferry-part-dir001", 120);
  ASSERT_EQ(::mkfifo(path(".ferry-part-fifo01").c_str(), 0600), 0);
  age(".ferry-part-fifo01", 120);

  EXPECT_EQ(sweep(), 0u);
  EXPECT_EQ(names(), (std::set<std::string>{"target", ".ferry-part-link01", ".ferry-part-dangle",
                                            ".ferry-part-dir001", ".ferry-part-fifo01"}));
}

TEST_F(PartFilesTest, EmptyDirectoryAndBadDescriptor) {
  EXPECT_EQ(sweep(), 0u);
  EXPECT_EQ(remove_stale_part_files(-1, Clock::now()), 0u);
}

}  // namespace
}  // namespace ferry::client
