#pragma once

// A temporary directory tree for the file-system tests, made fresh for every test:
//
//   <base>/root/a/b/file        "inside file"   the served root
//   <base>/outside/secret       "top secret"    a sibling the root must never reach
//   <base>/outside/dir/secret2  "secret two"
//
// <base> comes from mkdtemp under /tmp and is removed (without following symbolic links)
// when the test ends.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/fs/confine.hpp"
#include "ferry/fs/fd.hpp"

namespace ferry::testing {

inline constexpr std::string_view kInsideContent = "inside file";
inline constexpr std::string_view kSecretContent = "top secret";

class TempTreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/ferry-unit-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr) << std::strerror(errno);
    base_ = pattern;
    make_dir(root_path());
    make_dir(root_path() + "/a");
    make_dir(root_path() + "/a/b");
    write_file(root_path() + "/a/b/file", kInsideContent);
    make_dir(outside_path());
    write_file(outside_path() + "/secret", kSecretContent);
    make_dir(outside_path() + "/dir");
    write_file(outside_path() + "/dir/secret2", "secret two");

    auto opened = fs::open_root(root_path().c_str());
    ASSERT_TRUE(opened.ok()) << fs::describe(opened.error());
    root_ = std::move(*opened);
  }

  void TearDown() override {
    root_.reset();
    if (!base_.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(base_, ignored);
    }
  }

  const std::string& base() const { return base_; }
  std::string root_path() const { return base_ + "/root"; }
  std::string outside_path() const { return base_ + "/outside"; }
  // A path below the root, as the real file system names it.
  std::string in_root(std::string_view relative) const {
    return root_path() + "/" + std::string(relative);
  }
  const fs::Fd& root() const { return root_; }

  static void make_dir(const std::string& path) {
    ASSERT_EQ(::mkdir(path.c_str(), 0755), 0) << path << ": " << std::strerror(errno);
  }
  static void write_file(const std::string& path, std::string_view content) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.close();
    ASSERT_TRUE(out.good()) << path;
  }
  static std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  static void make_symlink(const std::string& target, const std::string& link) {
    ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0) << link << ": " << std::strerror(errno);
  }
  static bool exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
  }
  // The names in a real directory, `.` and `..` left out.
  static std::set<std::string> names_in(const std::string& directory) {
    std::set<std::string> names;
    for (const auto& item : std::filesystem::directory_iterator(directory)) {
      names.insert(item.path().filename().string());
    }
    return names;
  }
  // Everything a descriptor reads, from its current offset to the end.
  static std::string read_all(int fd) {
    std::string out;
    char buffer[4096];
    for (;;) {
      const ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n <= 0) break;
      out.append(buffer, static_cast<std::size_t>(n));
    }
    return out;
  }
  static struct stat stat_of(int fd) {
    struct stat st {};
    EXPECT_EQ(::fstat(fd, &st), 0) << std::strerror(errno);
    return st;
  }
  // Names in a real directory that start with the temporary uploads' prefix.
  static std::vector<std::string> temporaries_in(const std::string& directory) {
    std::vector<std::string> found;
    for (const std::string& name : names_in(directory)) {
      if (name.starts_with(".ferry-tmp-")) found.push_back(name);
    }
    return found;
  }
  static void write_all(int fd, std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::write(fd, data.data(), data.size());
      ASSERT_GT(n, 0) << std::strerror(errno);
      data.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  // Sets a file's (or a link's own) access and modification time, in seconds since 1970.
  static void set_mtime(const std::string& path, std::int64_t seconds) {
    const timespec times[2] = {{static_cast<time_t>(seconds), 0},
                               {static_cast<time_t>(seconds), 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW), 0)
        << path << ": " << std::strerror(errno);
  }
  static bool same_file(const struct stat& a, const struct stat& b) {
    return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
  }
  // The outside folder exactly as SetUp made it: nothing added, the secret unchanged.
  void expect_outside_untouched() const {
    EXPECT_EQ(names_in(outside_path()), (std::set<std::string>{"secret", "dir"}));
    EXPECT_EQ(names_in(outside_path() + "/dir"), (std::set<std::string>{"secret2"}));
    EXPECT_EQ(read_file(outside_path() + "/secret"), kSecretContent);
    EXPECT_EQ(names_in(base_), (std::set<std::string>{"root", "outside"}));
  }

 private:
  std::string base_;
  fs::Fd root_;
};

}  // namespace ferry::testing
