// Path confinement: every path from the network resolves inside the served root.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>

#include <cerrno>
#include <string>
#include <string_view>

#include "ferry/fs/confine.hpp"
#include "ferry/fs/sys_result.hpp"
#include "temp_tree.hpp"

namespace ferry::fs {
namespace {

using namespace std::literals;
using ferry::testing::kInsideContent;

class ConfineTest : public ferry::testing::TempTreeTest {
 protected:
  // Opens `path` for reading and returns what it holds; fails the test when it cannot.
  std::string read_in_root(std::string_view path) {
    auto fd = open_in_root(root(), path, O_RDONLY);
    EXPECT_TRUE(fd.ok()) << escape_for_message(path) << ": " << describe(fd.error());
    if (!fd.ok()) return {};
    return read_all(fd->get());
  }

  // Expects `path` to fail with `code`, whatever the flags.
  void expect_error(std::string_view path, int code) {
    for (const int flags : {O_RDONLY, O_PATH, O_RDONLY | O_DIRECTORY}) {
      auto fd = open_in_root(root(), path, flags);
      EXPECT_FALSE(fd.ok()) << escape_for_message(path) << " opened with flags " << flags;
      if (!fd.ok()) {
        EXPECT_EQ(fd.error().code, code)
            << escape_for_message(path) << ": " << describe(fd.error()) << ", flags " << flags;
      }
    }
  }

  // Expects `path` to name the root directory itself.
  void expect_root(std::string_view path) {
    auto fd = open_in_root(root(), path, O_RDONLY | O_DIRECTORY);
    ASSERT_TRUE(fd.ok()) << escape_for_message(path) << ": " << describe(fd.error());
    EXPECT_TRUE(same_file(stat_of(fd->get()), stat_of(root().get())))
        << escape_for_message(path) << " is not the root";
  }

  static std::string escape_for_message(std::string_view path) {
    std::string out;
    for (const char c : path)
      out += c == '\0' ? "\\0"s : std::string(1, c);
    return out.size() > 120 ? out.substr(0, 120) + "..." : out;
  }
};

// ---------------------------------------------------------------- legitimate paths

TEST_F(ConfineTest, LegitimatePaths) {
  for (const std::string_view path :
       {"a/b/file"sv, "/a/b/file"sv, "a/./b//file"sv, "//a//b/./file"sv, "./a/b/file"sv,
        "a/b/../b/file"sv, "a/../a/b/file"sv, "../a/b/file"sv, "/../../a/b/file"sv}) {
    EXPECT_EQ(read_in_root(path), kInsideContent) << path;
  }
}

TEST_F(ConfineTest, EmptyPathDotAndSlashAreTheRoot) {
  for (const std::string_view path :
       {""sv, "."sv, "/"sv, "//"sv, "./"sv, "a/.."sv, "a/b/../.."sv}) {
    expect_root(path);
  }
}

TEST_F(ConfineTest, OpenedDescriptorIsCloseOnExec) {
  auto fd = open_in_root(root(), "a/b/file", O_RDONLY);
  ASSERT_TRUE(fd.ok());
  EXPECT_NE(::fcntl(fd->get(), F_GETFD) & FD_CLOEXEC, 0);
}

TEST_F(ConfineTest, CreateInsideTheRoot) {
  auto fd = open_in_root(root(), "/a/new.txt", O_WRONLY | O_CREAT | O_EXCL, 0600);
  ASSERT_TRUE(fd.ok()) << describe(fd.error());
  ASSERT_EQ(::write(fd->get(), "x", 1), 1);
  EXPECT_EQ(read_file(in_root("a/new.txt")), "x");
  EXPECT_EQ(stat_of(fd->get()).st_mode & 0777, 0600u);
}

// RESOLVE_CACHED: a lookup the kernel's cache can answer gives the file (as confined as
// ever); anything that may wait, such as a create, is EAGAIN for the caller to do elsewhere.
TEST_F(ConfineTest, CachedOnlyOpensCachedNamesAndRefusesWhatMayWait) {
  ASSERT_EQ(read_in_root("a/b/file"), kInsideContent);  // now in the cache
  auto fd = open_in_root(root(), "../a/b/file", O_RDONLY, 0, ferry::fs::Lookup::cached_only);
  ASSERT_TRUE(fd.ok()) << describe(fd.error());
  EXPECT_EQ(read_all(fd->get()), kInsideContent);
  auto created =
      open_in_root(root(), "a/x", O_WRONLY | O_CREAT, 0600, ferry::fs::Lookup::cached_only);
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().code, EAGAIN);
  EXPECT_FALSE(std::filesystem::exists(in_root("a/x")));
}

TEST_F(ConfineTest, TrailingSlashOnAFile) {
  expect_error("a/b/file/", ENOTDIR);
}

TEST_F(ConfineTest, Missing) {
  expect_error("nothing", ENOENT);
  expect_error("a/nothing/file", ENOENT);
}

// ---------------------------------------------------------------- `..` never climbs out

TEST_F(ConfineTest, DotDotStopsAtTheRoot) {
  for (const std::string_view path :
       {".."sv, "../"sv, "../.."sv, "../../../../../../../../.."sv, "/.."sv, "/../.."sv,
        "a/../.."sv, "a/b/../../../.."sv, "./../."sv}) {
    expect_root(path);
  }
}

TEST_F(ConfineTest, DotDotToTheOutsideSecretFails) {
  for (const std::string_view path :
       {"../outside/secret"sv, "a/../../outside/secret"sv, "/../outside/secret"sv,
        "a/b/../../../outside/secret"sv, "../../../../../../outside/secret"sv,
        "..//outside/secret"sv, "./../outside/./secret"sv, "../outside"sv,
        "../outside/dir/secret2"sv}) {
    expect_error(path, ENOENT);
  }
  expect_outside_untouched();
}

TEST_F(ConfineTest, DotDotLandsInsideTheRoot) {
  // With a decoy at root/outside/secret, `..` provably resolved to the root, not above it.
  make_dir(in_root("outside"));
  write_file(in_root("outside/secret"), "decoy");
  for (const std::string_view path : {"../outside/secret"sv, "a/../../outside/secret"sv,
                                      "/../outside/secret"sv, "a/b/../../../../outside/secret"sv}) {
    EXPECT_EQ(read_in_root(path), "decoy") << path;
  }
}

TEST_F(ConfineTest, RealAbsolutePathOfTheSecretFails) {
  // The secret's real absolute path means <root>/<that path>, which does not exist.
  expect_error(outside_path() + "/secret", ENOENT);
  expect_error(base() + "/root/a/b/file", ENOENT);
}

// ---------------------------------------------------------------- absolute paths

TEST_F(ConfineTest, AbsolutePathMeansTheRoot) {
  expect_error("/etc/passwd", ENOENT);
  expect_error("/etc", ENOENT);
  expect_error("/proc/self/root/etc/passwd", ENOENT);
  expect_error("/dev/null", ENOENT);
  // Once the root holds etc/passwd, `/etc/passwd` is that file, never the real one.
  make_dir(in_root("etc"));
  write_file(in_root("etc/passwd"), "not the real one");
  EXPECT_EQ(read_in_root("/etc/passwd"), "not the real one");
  EXPECT_EQ(read_in_root("../../etc/passwd"), "not the real one");
}

// ---------------------------------------------------------------- symbolic links

TEST_F(ConfineTest, AbsoluteSymlinkToAFileOutside) {
  make_symlink(outside_path() + "/secret", in_root("to_secret"));
  make_symlink(outside_path() + "/secret", in_root("a/b/to_secret"));
  make_symlink("/etc/passwd", in_root("to_passwd"));
  expect_error("to_secret", ENOENT);
  expect_error("/to_secret", ENOENT);
  expect_error("a/b/to_secret", ENOENT);
  expect_error("to_passwd", ENOENT);
  expect_outside_untouched();
}

TEST_F(ConfineTest, AbsoluteSymlinkToADirectoryOutside) {
  make_symlink(outside_path(), in_root("to_outside"));
  make_symlink("/etc", in_root("to_etc"));
  make_symlink("/", in_root("to_slash"));
  expect_error("to_outside", ENOENT);
  expect_error("to_outside/secret", ENOENT);
  expect_error("to_outside/dir/secret2", ENOENT);
  expect_error("to_etc/passwd", ENOENT);
  // A link to `/` is the root itself.
  expect_root("to_slash");
  expect_root("to_slash/..");
  EXPECT_EQ(read_in_root("to_slash/a/b/file"), kInsideContent);
  expect_outside_untouched();
}

TEST_F(ConfineTest, RelativeSymlinkClimbingOut) {
  make_symlink("../outside", in_root("up"));
  make_symlink("../outside/secret", in_root("up_secret"));
  make_symlink("../../../outside/secret", in_root("a/b/deep"));
  make_symlink("../../../../../../../../..", in_root("a/b/top"));
  expect_error("up", ENOENT);
  expect_error("up/secret", ENOENT);
  expect_error("up_secret", ENOENT);
  expect_error("a/b/deep", ENOENT);
  expect_root("a/b/top");
  expect_error("a/b/top/outside/secret", ENOENT);
  EXPECT_EQ(read_in_root("a/b/top/a/b/file"), kInsideContent);
  expect_outside_untouched();
}

TEST_F(ConfineTest, SymlinkChains) {
  // Leading out: c1 -> c2 (absolute, inside) -> c3 (relative, climbing) -> outside.
  make_symlink("/c2", in_root("c1"));
  make_symlink("a/../c3", in_root("c2"));
  make_symlink("../outside/secret", in_root("c3"));
  expect_error("c1", ENOENT);
  expect_error("a/../c1", ENOENT);
  // A chain through a directory link to an absolute target outside.
  make_symlink(outside_path(), in_root("d1"));
  make_symlink("d1/dir", in_root("d2"));
  expect_error("d2/secret2", ENOENT);
  // Staying inside: l1 -> l2 -> /a/b/file.
  make_symlink("l2", in_root("l1"));
  make_symlink("/a/b/file", in_root("l2"));
  EXPECT_EQ(read_in_root("l1"), kInsideContent);
  // A loop.
  make_symlink("loop2", in_root("loop1"));
  make_symlink("/loop1", in_root("loop2"));
  expect_error("loop1", ELOOP);
  expect_outside_untouched();
}

TEST_F(ConfineTest, SymlinksThatStayInside) {
  make_symlink("a/b", in_root("rel_dir"));
  make_symlink("/a/b", in_root("abs_dir"));
  make_symlink("file", in_root("a/b/rel_file"));
  make_symlink("/a/b/file", in_root("abs_file"));
  make_symlink("../../a/b/file", in_root("a/b/climb_back"));
  EXPECT_EQ(read_in_root("rel_dir/file"), kInsideContent);
  EXPECT_EQ(read_in_root("abs_dir/file"), kInsideContent);
  EXPECT_EQ(read_in_root("a/b/rel_file"), kInsideContent);
  EXPECT_EQ(read_in_root("abs_file"), kInsideContent);
  EXPECT_EQ(read_in_root("a/b/climb_back"), kInsideContent);
  EXPECT_EQ(read_in_root("abs_dir/../b/rel_file"), kInsideContent);
}

TEST_F(ConfineTest, CreatingThroughASymlinkNeverWritesOutside) {
  // Dangling links whose target would be a new file outside the root.
  make_symlink(outside_path() + "/created_abs", in_root("new_abs"));
  make_symlink("../outside/created_rel", in_root("new_rel"));
  make_symlink(outside_path(), in_root("to_outside"));
  for (const std::string_view path : {"new_abs"sv, "new_rel"sv, "to_outside/created_dir"sv}) {
    auto fd = open_in_root(root(), path, O_WRONLY | O_CREAT, 0644);
    EXPECT_FALSE(fd.ok()) << path;
  }
  // Truncating the secret through a link fails too.
  make_symlink(outside_path() + "/secret", in_root("to_secret"));
  EXPECT_FALSE(open_in_root(root(), "to_secret", O_WRONLY | O_TRUNC).ok());
  EXPECT_FALSE(open_in_root(root(), "../outside/secret", O_WRONLY | O_TRUNC).ok());
  expect_outside_untouched();
}

// ---------------------------------------------------------------- magic links

TEST_F(ConfineTest, SymlinksToProcStayInside) {
  // A link to /proc/self/cwd resolves to <root>/proc/self/cwd: there is none.
  make_symlink("/proc/self/cwd", in_root("cwd"));
  make_symlink("/proc/self/root", in_root("proc_root"));
  make_symlink("../../../../../../proc/self/root", in_root("a/proc_root_rel"));
  make_symlink("/proc/self/fd/" + std::to_string(root().get()), in_root("root_fd"));
  expect_error("cwd", ENOENT);
  expect_error("proc_root/etc/passwd", ENOENT);
  expect_error("a/proc_root_rel/etc/passwd", ENOENT);
  expect_error("root_fd", ENOENT);
}

TEST(ConfineMagicLinks, MagicLinksAreRefused) {
  // Served from /proc/self itself, where `cwd`, `root`, `exe` and `fd/N` are real magic
  // links: RESOLVE_NO_MAGICLINKS refuses each one.
  auto proc = open_root("/proc/self");
  ASSERT_TRUE(proc.ok()) << describe(proc.error());
  const int fd_number = ::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(fd_number, 0);
  const Fd slash(fd_number);
  for (const std::string& path :
       {"cwd"s, "root"s, "root/etc/passwd"s, "exe"s, "fd/" + std::to_string(fd_number),
        "fd/" + std::to_string(fd_number) + "/etc/passwd"}) {
    auto fd = open_in_root(*proc, path, O_RDONLY);
    EXPECT_FALSE(fd.ok()) << path;
    if (!fd.ok()) {
      EXPECT_EQ(fd.error().code, ELOOP) << path << ": " << describe(fd.error());
    }
  }
  // Plain files of the same folder still open.
  EXPECT_TRUE(open_in_root(*proc, "status", O_RDONLY).ok());
}

// ---------------------------------------------------------------- hostile bytes and sizes

TEST_F(ConfineTest, EmbeddedNulIsInvalid) {
  for (const std::string& path :
       {"a/b/file\0../../outside/secret"s, "a/b/file\0"s, "\0"s, "\0a/b/file"s, "a\0/b/file"s}) {
    auto fd = open_in_root(root(), path, O_RDONLY);
    ASSERT_FALSE(fd.ok()) << escape_for_message(path);
    EXPECT_EQ(fd.error().code, EINVAL) << escape_for_message(path);
    EXPECT_EQ(describe(fd.error()), "invalid path");
  }
}

TEST_F(ConfineTest, VeryLongPath) {
  std::string path;
  while (path.size() < 4096)
    path += "a/";
  path += "b/file";
  expect_error(path, ENAMETOOLONG);
  expect_error(std::string(5000, 'x'), ENAMETOOLONG);
  expect_error(std::string(256, 'x'), ENAMETOOLONG);  // one component over NAME_MAX
  // Long but under PATH_MAX resolves normally.
  std::string dots;
  while (dots.size() < 4000)
    dots += "./";
  EXPECT_EQ(read_in_root(dots + "a/b/file"), kInsideContent);
}

// ---------------------------------------------------------------- open_root, describe

TEST_F(ConfineTest, OpenRootErrors) {
  auto missing = open_root((base() + "/nothing").c_str());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ENOENT);
  auto file = open_root(in_root("a/b/file").c_str());
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.error().code, ENOTDIR);
}

TEST(SysError, Describe) {
  EXPECT_EQ(describe(SysError{ENOENT}), "no such file or directory");
  EXPECT_EQ(describe(SysError{EISDIR}), "is a directory");
  EXPECT_EQ(describe(SysError{EACCES}), "permission denied");
  EXPECT_EQ(describe(SysError{EPERM}), "permission denied");
  EXPECT_EQ(describe(SysError{ENOENT, "no such directory"}), "no such directory");
  // Anything else: strerror's words, starting in lower case.
  const std::string other = describe(SysError{EBUSY});
  ASSERT_FALSE(other.empty());
  EXPECT_FALSE(other[0] >= 'A' && other[0] <= 'Z') << other;
}

}  // namespace
}  // namespace ferry::fs
