// GET's open of a regular file, on a temporary tree.

#include <fcntl.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <string_view>

#include "ferry/fs/read.hpp"
#include "ferry/fs/sys_result.hpp"
#include "ferry/fs/upload.hpp"
#include "temp_tree.hpp"

namespace ferry::fs {
namespace {

using namespace std::literals;
using ferry::testing::kInsideContent;

class ReadTest : public ferry::testing::TempTreeTest {};

TEST_F(ReadTest, OpenForReadingARegularFile) {
  auto file = open_for_reading(root(), "a/b/file");
  ASSERT_TRUE(file.ok()) << describe(file.error());
  EXPECT_EQ(file->size, kInsideContent.size());
  EXPECT_EQ(read_all(file->fd.get()), kInsideContent);
  // The descriptor is blocking again, ready for sendfile.
  EXPECT_EQ(::fcntl(file->fd.get(), F_GETFL) & O_NONBLOCK, 0);

  write_file(in_root("empty"), "");
  auto empty = open_for_reading(root(), "/empty");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->size, 0u);
}

TEST_F(ReadTest, OpenForReadingADirectory) {
  for (const std::string_view path : {"a"sv, "a/b"sv, "a/b/"sv, ""sv, "/"sv, ".."sv}) {
    auto file = open_for_reading(root(), path);
    ASSERT_FALSE(file.ok()) << path;
    EXPECT_EQ(file.error().code, EISDIR) << path;
    EXPECT_EQ(describe(file.error()), "is a directory");
  }
}

TEST_F(ReadTest, OpenForReadingAFifoDoesNotHang) {
  ASSERT_EQ(::mkfifo(in_root("fifo").c_str(), 0644), 0) << std::strerror(errno);
  const auto start = std::chrono::steady_clock::now();
  auto file = open_for_reading(root(), "fifo");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(describe(file.error()), "not a regular file");
}

TEST_F(ReadTest, OpenForReadingMissing) {
  for (const std::string_view path : {"nothing"sv, "a/nothing"sv, "nothing/file"sv}) {
    auto file = open_for_reading(root(), path);
    ASSERT_FALSE(file.ok()) << path;
    EXPECT_EQ(file.error().code, ENOENT) << path;
  }
}

TEST_F(ReadTest, OpenForReadingNeverReachesOutside) {
  make_symlink(outside_path() + "/secret", in_root("to_secret"));
  make_symlink("../outside/secret", in_root("up_secret"));
  make_symlink(outside_path(), in_root("to_outside"));
  for (const std::string_view path : {"../outside/secret"sv, "to_secret"sv, "up_secret"sv,
                                      "to_outside/secret"sv, "/etc/passwd"sv}) {
    auto file = open_for_reading(root(), path);
    ASSERT_FALSE(file.ok()) << path;
    EXPECT_EQ(file.error().code, ENOENT) << path;
  }
  auto nul = open_for_reading(root(), "a/b/file\0x"s);
  ASSERT_FALSE(nul.ok());
  EXPECT_EQ(nul.error().code, EINVAL);
}

TEST_F(ReadTest, OpenForReadingFollowsSymlinksInside) {
  make_symlink("/a/b/file", in_root("link"));
  auto file = open_for_reading(root(), "link");
  ASSERT_TRUE(file.ok()) << describe(file.error());
  EXPECT_EQ(file->size, kInsideContent.size());
  EXPECT_EQ(read_all(file->fd.get()), kInsideContent);
}

TEST_F(ReadTest, OpenForReadingDoesNotFindAnUnfinishedUpload) {
  auto upload = Upload::begin(root(), "a/b/file", 4);
  ASSERT_TRUE(upload.ok());
  auto file = open_for_reading(root(), "a/b/" + upload->temporary_name());
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.error().code, ENOENT);
  // Any name with the prefix, not only the server's own.
  write_file(in_root(".ferry-tmp-notes.txt"), "notes");
  auto notes = open_for_reading(root(), ".ferry-tmp-notes.txt");
  ASSERT_FALSE(notes.ok());
  EXPECT_EQ(notes.error().code, ENOENT);
}

}  // namespace
}  // namespace ferry::fs
