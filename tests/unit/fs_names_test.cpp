// Names in the served tree: path splitting and the temporary uploads' names.

#include <gtest/gtest.h>

#include <string_view>

#include "ferry/fs/names.hpp"

namespace ferry::fs {
namespace {

using namespace std::literals;

TEST(SplitPath, Cases) {
  const auto check = [](std::string_view path, std::string_view parent, std::string_view name) {
    const SplitPath split = split_path(path);
    EXPECT_EQ(split.parent, parent) << path;
    EXPECT_EQ(split.name, name) << path;
  };
  check("a/b/c", "a/b", "c");
  check("c", "", "c");
  check("/c", "/", "c");
  check("/a/c", "/a", "c");
  check("a/", "a", "");
  check("", "", "");
  check("a//c", "a/", "c");
}

TEST(TemporaryNames, RequestsSeeEveryNameWithThePrefix) {
  for (const auto name : {".ferry-tmp-"sv, ".ferry-tmp-x"sv, ".ferry-tmp-notes.txt"sv,
                          ".ferry-tmp-0123456789abcdef"sv}) {
    EXPECT_TRUE(is_temporary_name(name)) << name;
  }
  for (const auto name : {".ferry-tmpx"sv, "ferry-tmp-x"sv, ".ferry-part-abc123"sv, ""sv}) {
    EXPECT_FALSE(is_temporary_name(name)) << name;
  }
}

TEST(TemporaryNames, TheSweepSeesOnlyTheServersOwnNames) {
  EXPECT_TRUE(is_upload_temporary_name(".ferry-tmp-0123456789abcdef"));
  EXPECT_TRUE(is_upload_temporary_name(".ferry-tmp-ffffffffffffffff"));
  for (const auto name : {".ferry-tmp-notes.txt"sv, ".ferry-tmp-0123"sv, ".ferry-tmp-"sv,
                          ".ferry-tmp-0123456789abcdef0"sv, ".ferry-tmp-0123456789ABCDEF"sv,
                          ".ferry-tmp-0123456789abcdeg"sv, ".ferry-tmp-0123456789abcde "sv,
                          ".ferry-part-0123456789abcdef"sv, "x.ferry-tmp-0123456789abcdef"sv}) {
    EXPECT_FALSE(is_upload_temporary_name(name)) << name;
  }
}

TEST(TemporaryNames, RandomNamesAreTheServersOwn) {
  const std::string first = random_temporary_name();
  EXPECT_TRUE(is_upload_temporary_name(first)) << first;
  for (int i = 0; i < 100; ++i) {
    const std::string name = random_temporary_name();
    EXPECT_TRUE(is_upload_temporary_name(name)) << name;
    EXPECT_NE(name, first);
  }
}

TEST(SpecialNames, Cases) {
  EXPECT_TRUE(is_special_name(""));
  EXPECT_TRUE(is_special_name("."));
  EXPECT_TRUE(is_special_name(".."));
  EXPECT_FALSE(is_special_name("..."));
  EXPECT_FALSE(is_special_name(".x"));
}

}  // namespace
}  // namespace ferry::fs
