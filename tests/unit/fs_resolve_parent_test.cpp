// resolve_parent: the parent's descriptor and the last component, through open_in_root.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <string_view>

#include "ferry/fs/confine.hpp"
#include "temp_tree.hpp"

namespace ferry::fs {
namespace {

using namespace std::literals;

class ResolveParentTest : public ferry::testing::TempTreeTest {};

TEST_F(ResolveParentTest, GivesTheParentAndTheName) {
  auto parent = resolve_parent(root(), "a/b/file");
  ASSERT_TRUE(parent.ok()) << describe(parent.error());
  EXPECT_EQ(parent->name, "file");
  struct stat expected {};
  ASSERT_EQ(::stat(in_root("a/b").c_str(), &expected), 0);
  EXPECT_TRUE(same_file(stat_of(parent->directory.get()), expected));
  EXPECT_NE(::fcntl(parent->directory.get(), F_GETFD) & FD_CLOEXEC, 0);
}

TEST_F(ResolveParentTest, ANameAtTheRoot) {
  for (const std::string_view path : {"new"sv, "/new"sv, "../new"sv, "a/../new"sv, "//new"sv}) {
    auto parent = resolve_parent(root(), path);
    ASSERT_TRUE(parent.ok()) << path << ": " << describe(parent.error());
    EXPECT_EQ(parent->name, "new") << path;
    EXPECT_TRUE(same_file(stat_of(parent->directory.get()), stat_of(root().get()))) << path;
  }
}

TEST_F(ResolveParentTest, RefusesSpecialLastComponents) {
  for (const std::string_view path :
       {""sv, "."sv, ".."sv, "/"sv, "a/"sv, "a/."sv, "a/.."sv, "a/b/.."sv, "//"sv}) {
    auto parent = resolve_parent(root(), path);
    ASSERT_FALSE(parent.ok()) << path;
    EXPECT_EQ(parent.error().code, EINVAL) << path;
    EXPECT_EQ(parent.error().detail, kNotAFileName) << path;
  }
}

TEST_F(ResolveParentTest, RefusesTemporaryNamesAsTheLastComponent) {
  for (const std::string_view path :
       {".ferry-tmp-x"sv, "a/.ferry-tmp-0123456789abcdef"sv, "/.ferry-tmp-"sv}) {
    auto parent = resolve_parent(root(), path);
    ASSERT_FALSE(parent.ok()) << path;
    EXPECT_EQ(parent.error().detail, kReservedForUploads) << path;
  }
  // Only the last component: a directory of that name in the middle is the user's.
  make_dir(in_root(".ferry-tmp-dir"));
  EXPECT_TRUE(resolve_parent(root(), ".ferry-tmp-dir/x").ok());
}

TEST_F(ResolveParentTest, RefusesANulByte) {
  auto parent = resolve_parent(root(), "a\0/b"sv);
  ASSERT_FALSE(parent.ok());
  EXPECT_EQ(parent.error().code, EINVAL);
}

TEST_F(ResolveParentTest, AMissingParentIsOpenInRootsError) {
  auto missing = resolve_parent(root(), "nope/x");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ENOENT);
  auto file = resolve_parent(root(), "a/b/file/x");
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.error().code, ENOTDIR);
}

TEST_F(ResolveParentTest, ParentsNeverLeaveTheRoot) {
  make_symlink(outside_path(), in_root("absolute"));     // an absolute link: taken inside
  make_symlink("../../outside", in_root("a/relative"));  // climbs: stops at the root
  make_symlink("/", in_root("slash"));
  for (const std::string_view path : {"absolute/secret"sv, "a/relative/secret"sv,
                                      "../outside/secret"sv, "../../../../outside/secret"sv}) {
    auto parent = resolve_parent(root(), path);
    ASSERT_FALSE(parent.ok()) << path;
    EXPECT_EQ(parent.error().code, ENOENT) << path;
  }
  auto slash = resolve_parent(root(), "slash/x");
  ASSERT_TRUE(slash.ok());
  EXPECT_TRUE(same_file(stat_of(slash->directory.get()), stat_of(root().get())));
  expect_outside_untouched();
}

// The descriptor pins the directory: a parent swapped for a link to the outside after it
// was resolved changes nothing about where a name is created.
TEST_F(ResolveParentTest, AParentSwappedForALinkAfterwardsStaysTheDirectoryResolved) {
  auto parent = resolve_parent(root(), "a/b/new");
  ASSERT_TRUE(parent.ok());
  ASSERT_EQ(::rename(in_root("a/b").c_str(), in_root("a/moved").c_str()), 0);
  make_symlink(outside_path(), in_root("a/b"));
  ASSERT_EQ(::mkdirat(parent->directory.get(), parent->name.c_str(), 0755), 0);
  EXPECT_TRUE(exists(in_root("a/moved/new")));
  expect_outside_untouched();
}

}  // namespace
}  // namespace ferry::fs
