// STAT, MKDIR, RMDIR, DELETE, RENAME on the file system: what each does, and that no path
// (`..`, absolute, links pointing out, the root itself, temporary names) reaches outside.

#include "ferry/fs/manage.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>
#include <set>
#include <string>
#include <string_view>

#include "ferry/fs/confine.hpp"
#include "temp_tree.hpp"

namespace ferry::fs {
namespace {

using namespace std::literals;
using ferry::testing::kSecretContent;

class ManageTest : public ferry::testing::TempTreeTest {
 protected:
  void SetUp() override {
    TempTreeTest::SetUp();
    make_symlink(outside_path(), in_root("out_abs"));   // absolute, taken inside the root
    make_symlink("../../outside", in_root("out_rel"));  // climbs, stops at the root
    make_symlink(outside_path() + "/secret", in_root("secret_link"));
    make_symlink("../outside/dir", in_root("dir_link"));
  }
  static bool is_directory(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  }
  static void expect_error(const SysError& error, int code, std::string_view detail = {}) {
    EXPECT_EQ(error.code, code) << describe(error);
    if (!detail.empty()) {
      EXPECT_EQ(error.detail, detail);
    }
  }
};

// The paths that try to leave the root, and the root itself in its spellings.
constexpr std::string_view kEscapes[] = {
    "../outside/new", "../../outside/new", "/../outside/new",     "out_abs/new",
    "out_rel/new",    "dir_link/new",      "a/../../outside/new",
};
constexpr std::string_view kRootSpellings[] = {""sv,     "/"sv,  "."sv, "./"sv,
                                               "a/.."sv, "//"sv, ".."sv};

// ---------------------------------------------------------------- STAT

TEST_F(ManageTest, StatOfAFileADirectoryAndALink) {
  ASSERT_EQ(::chmod(in_root("a/b/file").c_str(), 0640), 0);
  set_mtime(in_root("a/b/file"), 1795377408);
  auto file = stat_entry(root(), "a/b/file");
  ASSERT_TRUE(file.ok()) << describe(file.error());
  EXPECT_EQ(file->type, 'f');
  EXPECT_EQ(file->size, 11u);
  EXPECT_EQ(file->mtime, 1795377408);
  EXPECT_EQ(file->mode, 0640u);
  EXPECT_TRUE(file->link_target.empty());

  auto directory = stat_entry(root(), "a/b/");
  ASSERT_TRUE(directory.ok());
  EXPECT_EQ(directory->type, 'd');

  auto link = stat_entry(root(), "secret_link");  // not followed
  ASSERT_TRUE(link.ok());
  EXPECT_EQ(link->type, 'l');
  EXPECT_EQ(link->link_target, outside_path() + "/secret");
  EXPECT_EQ(link->size, link->link_target.size());
  EXPECT_EQ(link->mode, 0777u);
}

TEST_F(ManageTest, StatOfTheRoot) {
  for (const std::string_view path : kRootSpellings) {
    auto status = stat_entry(root(), path);
    ASSERT_TRUE(status.ok()) << path;
    EXPECT_EQ(status->type, 'd') << path;
  }
}

TEST_F(ManageTest, StatErrors) {
  EXPECT_EQ(stat_entry(root(), "nope").error().code, ENOENT);
  EXPECT_EQ(stat_entry(root(), "a/nope/x").error().code, ENOENT);
  EXPECT_EQ(stat_entry(root(), "a/b/file/x").error().code, ENOTDIR);
  EXPECT_EQ(stat_entry(root(), ".ferry-tmp-x").error().detail, kReservedForUploads);
  EXPECT_EQ(stat_entry(root(), "a\0b"sv).error().code, EINVAL);
  // Through the links that point out: inside the root, nothing there.
  EXPECT_EQ(stat_entry(root(), "out_abs/secret").error().code, ENOENT);
  EXPECT_EQ(stat_entry(root(), "out_rel/secret").error().code, ENOENT);
  EXPECT_EQ(stat_entry(root(), "../outside/secret").error().code, ENOENT);
}

// ---------------------------------------------------------------- MKDIR

TEST_F(ManageTest, MakeDirectory) {
  EXPECT_EQ(make_directory(root(), "photos").code, 0);
  EXPECT_TRUE(is_directory(in_root("photos")));
  EXPECT_EQ(make_directory(root(), "photos/2026/").code, 0);
  EXPECT_TRUE(is_directory(in_root("photos/2026")));
  EXPECT_EQ(make_directory(root(), "/a/new").code, 0);
  EXPECT_TRUE(is_directory(in_root("a/new")));
}

TEST_F(ManageTest, MakeDirectoryErrors) {
  expect_error(make_directory(root(), "a"), EEXIST, kExists);
  expect_error(make_directory(root(), "a/b/file"), EEXIST, kExists);
  expect_error(make_directory(root(), "secret_link"), EEXIST, kExists);  // not followed
  expect_error(make_directory(root(), "x/y/z"), ENOENT, kNoSuchDirectory);
  expect_error(make_directory(root(), "a/b/file/x"), ENOENT, kNoSuchDirectory);
  expect_error(make_directory(root(), ".ferry-tmp-x"), EINVAL, kReservedForUploads);
  expect_error(make_directory(root(), "a/.ferry-tmp-0123456789abcdef"), EINVAL,
               kReservedForUploads);
  for (const std::string_view path : kRootSpellings) {
    expect_error(make_directory(root(), path), EBUSY, kServedDirectory);
  }
  expect_error(make_directory(root(), "a/b/.."), EINVAL, kNotAFileName);
}

TEST_F(ManageTest, MakeDirectoryNeverLeavesTheRoot) {
  for (const std::string_view path : kEscapes) {
    const SysError error = make_directory(root(), path);
    // Either refused (the parent does not exist inside the root) or made inside it.
    if (error.code == 0) {
      EXPECT_TRUE(exists(in_root("new"))) << path;
    }
  }
  expect_error(make_directory(root(), "/tmp"), 0);  // the root's own /tmp, not the system's
  EXPECT_TRUE(is_directory(in_root("tmp")));
  expect_outside_untouched();
}

// ---------------------------------------------------------------- RMDIR

TEST_F(ManageTest, RemoveDirectory) {
  make_dir(in_root("empty"));
  EXPECT_EQ(remove_directory(root(), "empty/").code, 0);
  EXPECT_FALSE(exists(in_root("empty")));
}

TEST_F(ManageTest, RemoveDirectoryErrors) {
  expect_error(remove_directory(root(), "a"), ENOTEMPTY, kNotEmpty);
  expect_error(remove_directory(root(), "a/b/file"), ENOTDIR);
  expect_error(remove_directory(root(), "nope"), ENOENT);
  expect_error(remove_directory(root(), "nope/x"), ENOENT);
  expect_error(remove_directory(root(), "dir_link"), ENOTDIR);  // a link, never followed
  expect_error(remove_directory(root(), ".ferry-tmp-x"), EINVAL, kReservedForUploads);
  for (const std::string_view path : kRootSpellings) {
    expect_error(remove_directory(root(), path), EBUSY, kServedDirectory);
  }
  EXPECT_TRUE(exists(in_root("dir_link")));
  EXPECT_TRUE(is_directory(root_path()));
  expect_outside_untouched();
}

TEST_F(ManageTest, RemoveDirectoryNeverLeavesTheRoot) {
  ASSERT_EQ(::unlink(outside_path().append("/dir/secret2").c_str()), 0);  // outside/dir empty
  for (const std::string_view path : {"../outside/dir"sv, "/../outside/dir"sv, "out_abs/dir"sv,
                                      "out_rel/dir"sv, "dir_link"sv, "dir_link/"sv}) {
    EXPECT_NE(remove_directory(root(), path).code, 0) << path;
  }
  EXPECT_TRUE(is_directory(outside_path() + "/dir"));
}

// ---------------------------------------------------------------- DELETE

TEST_F(ManageTest, RemoveFile) {
  EXPECT_EQ(remove_file(root(), "a/b/file").code, 0);
  EXPECT_FALSE(exists(in_root("a/b/file")));
  EXPECT_EQ(remove_file(root(), "secret_link").code, 0);  // the link itself
  EXPECT_FALSE(exists(in_root("secret_link")));
  expect_outside_untouched();
}

TEST_F(ManageTest, RemoveFileErrors) {
  expect_error(remove_file(root(), "a"), EISDIR);
  expect_error(remove_file(root(), "nope"), ENOENT);
  expect_error(remove_file(root(), "x/nope"), ENOENT);
  expect_error(remove_file(root(), ".ferry-tmp-abc"), EINVAL, kReservedForUploads);
  for (const std::string_view path : kRootSpellings) {
    expect_error(remove_file(root(), path), EBUSY, kServedDirectory);
  }
  for (const std::string_view path :
       {"../outside/secret"sv, "/../../outside/secret"sv, "out_abs/secret"sv, "out_rel/secret"sv,
        "dir_link/secret2"sv}) {
    expect_error(remove_file(root(), path), ENOENT);
  }
  expect_outside_untouched();
}

// ---------------------------------------------------------------- RENAME

TEST_F(ManageTest, Rename) {
  EXPECT_EQ(rename_entry(root(), "a/b/file", "moved", false).error.code, 0);
  EXPECT_EQ(read_file(in_root("moved")), "inside file");
  EXPECT_EQ(rename_entry(root(), "a/b", "c/", false).error.code, 0);
  EXPECT_TRUE(is_directory(in_root("c")));
  // A link is renamed itself.
  EXPECT_EQ(rename_entry(root(), "secret_link", "a/link", false).error.code, 0);
  EXPECT_EQ(read_file(outside_path() + "/secret"), kSecretContent);
}

TEST_F(ManageTest, RenameOntoAnExistingName) {
  write_file(in_root("c.txt"), "c");
  write_file(in_root("d.txt"), "d");
  RenameError refused = rename_entry(root(), "c.txt", "d.txt", false);
  expect_error(refused.error, EEXIST, kExists);
  EXPECT_TRUE(refused.about_to);
  EXPECT_EQ(read_file(in_root("d.txt")), "d");
  EXPECT_EQ(rename_entry(root(), "c.txt", "d.txt", true).error.code, 0);
  EXPECT_EQ(read_file(in_root("d.txt")), "c");
  // With OVERWRITE, only something of its kind.
  RenameError onto_directory = rename_entry(root(), "d.txt", "a", true);
  expect_error(onto_directory.error, EISDIR);
  EXPECT_TRUE(onto_directory.about_to);
  make_dir(in_root("full"));
  write_file(in_root("full/x"), "x");
  make_dir(in_root("empty"));
  RenameError onto_full = rename_entry(root(), "empty", "full", true);
  expect_error(onto_full.error, ENOTEMPTY, kNotEmpty);
  EXPECT_TRUE(onto_full.about_to);
  RenameError onto_file = rename_entry(root(), "empty", "d.txt", true);
  expect_error(onto_file.error, ENOTDIR);
  EXPECT_EQ(rename_entry(root(), "full", "empty", true).error.code, 0);
  EXPECT_TRUE(exists(in_root("empty/x")));
}

TEST_F(ManageTest, RenameErrors) {
  RenameError into_itself = rename_entry(root(), "a", "a/b/a", false);
  expect_error(into_itself.error, EINVAL, kInvalidArgument);
  EXPECT_FALSE(into_itself.about_to);
  RenameError missing = rename_entry(root(), "nope", "x", false);
  expect_error(missing.error, ENOENT);
  EXPECT_FALSE(missing.about_to);
  RenameError no_parent = rename_entry(root(), "a", "x/y", false);
  expect_error(no_parent.error, ENOENT, kNoSuchDirectory);
  EXPECT_TRUE(no_parent.about_to);
  expect_error(rename_entry(root(), ".ferry-tmp-x", "y", false).error, EINVAL, kReservedForUploads);
  RenameError to_temporary = rename_entry(root(), "a", "b/../.ferry-tmp-0123456789abcdef", true);
  expect_error(to_temporary.error, EINVAL, kReservedForUploads);
  EXPECT_TRUE(to_temporary.about_to);
  for (const std::string_view path : kRootSpellings) {
    expect_error(rename_entry(root(), path, "x", false).error, EBUSY, kServedDirectory);
    expect_error(rename_entry(root(), "a", path, true).error, EBUSY, kServedDirectory);
  }
  EXPECT_TRUE(is_directory(in_root("a")));
}

TEST_F(ManageTest, RenameNeverLeavesTheRoot) {
  for (const std::string_view escape : kEscapes) {
    // Out of the root: a/b/file to the outside.
    EXPECT_NE(rename_entry(root(), "a/b/file", escape, true).error.code, 0) << escape;
  }
  for (const std::string_view path :
       {"../outside/secret"sv, "out_abs/secret"sv, "out_rel/secret"sv, "dir_link/secret2"sv}) {
    // Into the root from the outside.
    EXPECT_NE(rename_entry(root(), path, "stolen", false).error.code, 0) << path;
  }
  EXPECT_EQ(read_file(in_root("a/b/file")), "inside file");
  EXPECT_FALSE(exists(in_root("stolen")));
  expect_outside_untouched();
}

// A parent swapped for a link to the outside before the request: resolved inside the root.
TEST_F(ManageTest, AParentSwappedForALinkStaysInside) {
  ASSERT_EQ(::rename(in_root("a/b").c_str(), in_root("a/was_b").c_str()), 0);
  make_symlink(outside_path(), in_root("a/b"));
  EXPECT_NE(make_directory(root(), "a/b/new").code, 0);
  EXPECT_NE(remove_file(root(), "a/b/secret").code, 0);
  EXPECT_NE(rename_entry(root(), "a/b/secret", "x", false).error.code, 0);
  EXPECT_NE(rename_entry(root(), "a/was_b/file", "a/b/file", false).error.code, 0);
  expect_outside_untouched();
}

}  // namespace
}  // namespace ferry::fs
