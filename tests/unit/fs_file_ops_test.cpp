// The file operations behind GET, PUT and LS, on a temporary tree.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/fs/file_ops.hpp"
#include "ferry/fs/sys_result.hpp"
#include "temp_tree.hpp"

namespace ferry::fs {
namespace {

using namespace std::literals;
using ferry::testing::kInsideContent;

class FileOpsTest : public ferry::testing::TempTreeTest {
 protected:
  // Names in a real directory that are temporary upload files.
  static std::vector<std::string> temporaries_in(const std::string& directory) {
    std::vector<std::string> found;
    for (const std::string& name : names_in(directory)) {
      if (name.starts_with(kTemporaryPrefix)) found.push_back(name);
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

  // A whole PUT: begin, write, commit.
  SysResult<bool> put(std::string_view path, std::string_view content) {
    auto upload = Upload::begin(root(), path, content.size());
    if (!upload) return upload.error();
    write_all(upload->fd(), content);
    return upload->commit();
  }

  static void set_mtime(const std::string& path, std::int64_t seconds) {
    const timespec times[2] = {{static_cast<time_t>(seconds), 0},
                               {static_cast<time_t>(seconds), 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW), 0)
        << std::strerror(errno);
  }

  static std::vector<std::string> names_of(const std::vector<protocol::Entry>& entries) {
    std::vector<std::string> names;
    names.reserve(entries.size());
    for (const auto& e : entries)
      names.push_back(e.name);
    return names;
  }

  static const protocol::Entry* find(const std::vector<protocol::Entry>& entries,
                                     std::string_view name) {
    for (const auto& e : entries) {
      if (e.name == name) return &e;
    }
    return nullptr;
  }
};

// Sets the process umask for one test and restores it afterwards.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : previous_(::umask(mask)) {}
  ~ScopedUmask() { ::umask(previous_); }
  ScopedUmask(const ScopedUmask&) = delete;
  ScopedUmask& operator=(const ScopedUmask&) = delete;

 private:
  mode_t previous_;
};

// ---------------------------------------------------------------- split_path

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

// ---------------------------------------------------------------- open_for_reading

TEST_F(FileOpsTest, OpenForReadingARegularFile) {
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

TEST_F(FileOpsTest, OpenForReadingADirectory) {
  for (const std::string_view path : {"a"sv, "a/b"sv, "a/b/"sv, ""sv, "/"sv, ".."sv}) {
    auto file = open_for_reading(root(), path);
    ASSERT_FALSE(file.ok()) << path;
    EXPECT_EQ(file.error().code, EISDIR) << path;
    EXPECT_EQ(describe(file.error()), "is a directory");
  }
}

TEST_F(FileOpsTest, OpenForReadingAFifoDoesNotHang) {
  ASSERT_EQ(::mkfifo(in_root("fifo").c_str(), 0644), 0) << std::strerror(errno);
  const auto start = std::chrono::steady_clock::now();
  auto file = open_for_reading(root(), "fifo");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(describe(file.error()), "not a regular file");
}

TEST_F(FileOpsTest, OpenForReadingMissing) {
  for (const std::string_view path : {"nothing"sv, "a/nothing"sv, "nothing/file"sv}) {
    auto file = open_for_reading(root(), path);
    ASSERT_FALSE(file.ok()) << path;
    EXPECT_EQ(file.error().code, ENOENT) << path;
  }
}

TEST_F(FileOpsTest, OpenForReadingNeverReachesOutside) {
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

TEST_F(FileOpsTest, OpenForReadingFollowsSymlinksInside) {
  make_symlink("/a/b/file", in_root("link"));
  auto file = open_for_reading(root(), "link");
  ASSERT_TRUE(file.ok()) << describe(file.error());
  EXPECT_EQ(file->size, kInsideContent.size());
  EXPECT_EQ(read_all(file->fd.get()), kInsideContent);
}

// ---------------------------------------------------------------- Upload

TEST_F(FileOpsTest, UploadCreatesANewFile) {
  auto upload = Upload::begin(root(), "a/new.txt", 5);
  ASSERT_TRUE(upload.ok()) << describe(upload.error());
  EXPECT_TRUE(upload->temporary_name().starts_with(kTemporaryPrefix));
  EXPECT_TRUE(exists(in_root("a/" + upload->temporary_name())));
  EXPECT_FALSE(exists(in_root("a/new.txt")));  // nothing under the target's name yet
  write_all(upload->fd(), "hello");
  auto committed = upload->commit();
  ASSERT_TRUE(committed.ok()) << describe(committed.error());
  EXPECT_EQ(read_file(in_root("a/new.txt")), "hello");
  EXPECT_EQ(names_in(in_root("a")), (std::set<std::string>{"b", "new.txt"}));
}

TEST_F(FileOpsTest, UploadReplacesTheTargetAtCommit) {
  auto upload = Upload::begin(root(), "/a/b/file", 11);
  ASSERT_TRUE(upload.ok()) << describe(upload.error());
  write_all(upload->fd(), "new content");
  // Until commit the old content stays under the target's name.
  EXPECT_EQ(read_file(in_root("a/b/file")), kInsideContent);
  ASSERT_TRUE(upload->commit().ok());
  EXPECT_EQ(read_file(in_root("a/b/file")), "new content");
  EXPECT_TRUE(temporaries_in(in_root("a/b")).empty());
  EXPECT_EQ(names_in(in_root("a/b")), (std::set<std::string>{"file"}));
}

TEST_F(FileOpsTest, UploadAtTheRoot) {
  ASSERT_TRUE(put("top.txt", "1").ok());
  ASSERT_TRUE(put("/slash.txt", "2").ok());
  EXPECT_EQ(read_file(in_root("top.txt")), "1");
  EXPECT_EQ(read_file(in_root("slash.txt")), "2");
  ASSERT_TRUE(put("empty.txt", "").ok());
  EXPECT_EQ(read_file(in_root("empty.txt")), "");
  EXPECT_TRUE(temporaries_in(root_path()).empty());
}

TEST_F(FileOpsTest, UploadDestroyedWithoutCommitLeavesTheOldTarget) {
  {
    auto upload = Upload::begin(root(), "a/b/file", 100);
    ASSERT_TRUE(upload.ok()) << describe(upload.error());
    write_all(upload->fd(), "half of it");
    EXPECT_EQ(temporaries_in(in_root("a/b")).size(), 1u);
  }
  EXPECT_EQ(read_file(in_root("a/b/file")), kInsideContent);
  EXPECT_TRUE(temporaries_in(in_root("a/b")).empty());
  EXPECT_EQ(names_in(in_root("a/b")), (std::set<std::string>{"file"}));
}

TEST_F(FileOpsTest, UploadDestroyedWithoutCommitCreatesNothing) {
  {
    auto upload = Upload::begin(root(), "fresh.txt", 3);
    ASSERT_TRUE(upload.ok());
    write_all(upload->fd(), "abc");
  }
  EXPECT_FALSE(exists(in_root("fresh.txt")));
  EXPECT_TRUE(temporaries_in(root_path()).empty());
}

TEST_F(FileOpsTest, UploadAbortAndFinishedState) {
  auto upload = Upload::begin(root(), "a/b/file", 1);
  ASSERT_TRUE(upload.ok());
  upload->abort();
  EXPECT_TRUE(temporaries_in(in_root("a/b")).empty());
  upload->abort();  // idempotent
  auto late = upload->commit();
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, EINVAL);
  EXPECT_EQ(read_file(in_root("a/b/file")), kInsideContent);

  auto twice = Upload::begin(root(), "x", 1);
  ASSERT_TRUE(twice.ok());
  write_all(twice->fd(), "x");
  ASSERT_TRUE(twice->commit().ok());
  EXPECT_FALSE(twice->commit().ok());
  twice->abort();  // after a commit: the target stays
  EXPECT_EQ(read_file(in_root("x")), "x");
}

TEST_F(FileOpsTest, MovedUploadIsCommittedOnce) {
  auto begun = Upload::begin(root(), "moved.txt", 4);
  ASSERT_TRUE(begun.ok());
  Upload upload(std::move(*begun));
  write_all(upload.fd(), "move");
  ASSERT_TRUE(upload.commit().ok());
  EXPECT_EQ(read_file(in_root("moved.txt")), "move");
  EXPECT_TRUE(temporaries_in(root_path()).empty());
}

TEST_F(FileOpsTest, UploadIntoAMissingDirectory) {
  for (const std::string_view path :
       {"nodir/x.txt"sv, "a/nodir/x.txt"sv, "/nodir/x.txt"sv, "a/b/file/x.txt"sv}) {
    auto upload = Upload::begin(root(), path, 1);
    ASSERT_FALSE(upload.ok()) << path;
    EXPECT_EQ(upload.error().code, ENOENT) << path;
    EXPECT_EQ(describe(upload.error()), "no such directory") << path;
  }
  EXPECT_FALSE(exists(in_root("nodir")));  // no implicit mkdir
}

TEST_F(FileOpsTest, UploadOverADirectory) {
  for (const std::string_view path : {"a"sv, "a/b"sv, "/a"sv}) {
    auto upload = Upload::begin(root(), path, 1);
    ASSERT_FALSE(upload.ok()) << path;
    EXPECT_EQ(upload.error().code, EISDIR) << path;
  }
  EXPECT_TRUE(temporaries_in(root_path()).empty());
  EXPECT_TRUE(temporaries_in(in_root("a")).empty());
}

TEST_F(FileOpsTest, UploadRefusesSpecialAndReservedNames) {
  for (const std::string_view path :
       {""sv, "."sv, ".."sv, "/"sv, "a/"sv, "a/."sv, "a/.."sv, "/.."sv, ".ferry-tmp-x"sv,
        "a/.ferry-tmp-x"sv, ".ferry-tmp-"sv}) {
    auto upload = Upload::begin(root(), path, 1);
    ASSERT_FALSE(upload.ok()) << path;
    EXPECT_EQ(upload.error().code, EINVAL) << path;
  }
  EXPECT_EQ(names_in(root_path()), (std::set<std::string>{"a"}));
  EXPECT_EQ(names_in(in_root("a")), (std::set<std::string>{"b"}));
  // A name that merely looks similar is fine.
  EXPECT_TRUE(put(".ferry-tmpx", "ok").ok());
  EXPECT_TRUE(put("..x", "ok").ok());
}

TEST_F(FileOpsTest, UploadRefusesNul) {
  auto upload = Upload::begin(root(), "a/x\0y"s, 1);
  ASSERT_FALSE(upload.ok());
  EXPECT_EQ(upload.error().code, EINVAL);
  auto in_parent = Upload::begin(root(), "a\0/x"s, 1);
  ASSERT_FALSE(in_parent.ok());
  EXPECT_EQ(in_parent.error().code, EINVAL);
  EXPECT_EQ(names_in(in_root("a")), (std::set<std::string>{"b"}));
}

TEST_F(FileOpsTest, UploadKeepsAnExistingTargetsPermissions) {
  const ScopedUmask umask(022);
  for (const mode_t mode : {0600u, 0640u, 0644u, 0666u, 0755u, 0700u, 0444u}) {
    const std::string name = "mode" + std::to_string(mode);
    write_file(in_root(name), "old");
    ASSERT_EQ(::chmod(in_root(name).c_str(), mode), 0);
    ASSERT_TRUE(put(name, "new").ok()) << name;
    struct stat st {};
    ASSERT_EQ(::stat(in_root(name).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, mode) << name;
    EXPECT_EQ(read_file(in_root(name)), "new");
  }
  // A new file gets the usual 0666 less the umask.
  ASSERT_TRUE(put("brand_new", "x").ok());
  struct stat st {};
  ASSERT_EQ(::stat(in_root("brand_new").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
}

TEST_F(FileOpsTest, UploadThroughASymlinkedDirectoryOutsideCreatesNothingOutside) {
  make_symlink(outside_path(), in_root("abs_out"));
  make_symlink("../outside", in_root("rel_out"));
  make_symlink(outside_path() + "/dir", in_root("a/deep_out"));
  for (const std::string_view path :
       {"abs_out/new.txt"sv, "rel_out/new.txt"sv, "a/deep_out/new.txt"sv, "abs_out/secret"sv,
        "../outside/new.txt"sv, "rel_out/dir/secret2"sv}) {
    auto upload = Upload::begin(root(), path, 3);
    EXPECT_FALSE(upload.ok()) << path;
    if (upload.ok()) {
      write_all(upload->fd(), "bad");
      (void)upload->commit();
    }
  }
  expect_outside_untouched();
}

TEST_F(FileOpsTest, UploadOntoASymlinkReplacesTheLinkNotItsTarget) {
  make_symlink(outside_path() + "/secret", in_root("abs_link"));
  make_symlink("../outside/secret", in_root("rel_link"));
  make_symlink("a/b/file", in_root("inside_link"));
  for (const std::string_view name : {"abs_link"sv, "rel_link"sv, "inside_link"sv}) {
    ASSERT_TRUE(put(name, "replaced").ok()) << name;
    struct stat st {};
    ASSERT_EQ(::lstat(in_root(name).c_str(), &st), 0);
    EXPECT_TRUE(S_ISREG(st.st_mode)) << name;
    EXPECT_EQ(read_file(in_root(name)), "replaced");
  }
  EXPECT_EQ(read_file(in_root("a/b/file")), kInsideContent);
  expect_outside_untouched();
}

TEST_F(FileOpsTest, UploadInProgressIsHiddenFromListings) {
  auto upload = Upload::begin(root(), "a/b/incoming", 2);
  ASSERT_TRUE(upload.ok());
  auto entries = list_entries(root(), "a/b");
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ(names_of(*entries), (std::vector<std::string>{"file"}));
}

// ---------------------------------------------------------------- list_entries

TEST_F(FileOpsTest, ListEntriesSortedByBytesWithTypes) {
  make_dir(in_root("dir"));
  write_file(in_root("B"), "12345");
  write_file(in_root("b"), "");
  write_file(in_root("a b"), "xy");
  write_file(in_root(".hidden"), "h");
  write_file(in_root("Z"), "z");
  write_file(in_root("\xc3\xa9"), "e");
  write_file(in_root("\xff"), "ff");
  make_symlink("a/b/file", in_root("link"));
  ASSERT_EQ(::mkfifo(in_root("fifo").c_str(), 0644), 0);
  set_mtime(in_root("B"), 1795463808);

  auto entries = list_entries(root(), "");
  ASSERT_TRUE(entries.ok()) << describe(entries.error());
  EXPECT_EQ(names_of(*entries),
            (std::vector<std::string>{".hidden", "B", "Z", "a", "a b", "b", "dir", "fifo", "link",
                                      "\xc3\xa9", "\xff"}));
  EXPECT_EQ(find(*entries, "a")->type, 'd');
  EXPECT_EQ(find(*entries, "dir")->type, 'd');
  EXPECT_EQ(find(*entries, "B")->type, 'f');
  EXPECT_EQ(find(*entries, "B")->size, 5u);
  EXPECT_EQ(find(*entries, "B")->mtime, 1795463808);
  EXPECT_EQ(find(*entries, "b")->size, 0u);
  EXPECT_EQ(find(*entries, "link")->type, 'l');
  EXPECT_EQ(find(*entries, "fifo")->type, 'o');
  EXPECT_EQ(protocol::format_entry(*find(*entries, "B")), "f 5 2026-11-23T19:56:48Z B\n");
}

TEST_F(FileOpsTest, ListEntriesOfTheRootByAnyName) {
  for (const std::string_view path : {""sv, "/"sv, "."sv, ".."sv, "a/.."sv, "../.."sv}) {
    auto entries = list_entries(root(), path);
    ASSERT_TRUE(entries.ok()) << path;
    EXPECT_EQ(names_of(*entries), (std::vector<std::string>{"a"})) << path;
  }
}

TEST_F(FileOpsTest, ListEntriesHidesTemporariesAndDots) {
  write_file(in_root("a/.ferry-tmp-0123456789abcdef"), "partial");
  write_file(in_root("a/.ferry-tmp-"), "partial");
  write_file(in_root("a/.ferry-tmpx"), "shown");
  write_file(in_root("a/..."), "shown");
  auto entries = list_entries(root(), "a");
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ(names_of(*entries), (std::vector<std::string>{"...", ".ferry-tmpx", "b"}));
}

TEST_F(FileOpsTest, ListEntriesOfAFile) {
  set_mtime(in_root("a/b/file"), 1795463808);
  for (const std::string_view path : {"a/b/file"sv, "/a/b/file"sv, "a/./b//file"sv}) {
    auto entries = list_entries(root(), path);
    ASSERT_TRUE(entries.ok()) << path;
    ASSERT_EQ(entries->size(), 1u) << path;
    const protocol::Entry& e = entries->front();
    EXPECT_EQ(e.name, "file");
    EXPECT_EQ(e.type, 'f');
    EXPECT_EQ(e.size, kInsideContent.size());
    EXPECT_EQ(e.mtime, 1795463808);
  }
  auto with_slash = list_entries(root(), "a/b/file/");
  ASSERT_FALSE(with_slash.ok());
  EXPECT_EQ(with_slash.error().code, ENOTDIR);
}

TEST_F(FileOpsTest, ListEntriesOfAFifoDoesNotHang) {
  ASSERT_EQ(::mkfifo(in_root("a/fifo").c_str(), 0644), 0);
  auto entries = list_entries(root(), "a/fifo");
  ASSERT_TRUE(entries.ok()) << describe(entries.error());
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ(entries->front().type, 'o');
  EXPECT_EQ(entries->front().name, "fifo");
}

TEST_F(FileOpsTest, ListEntriesShowsSymlinksAsLinks) {
  const std::string target = outside_path() + "/secret";
  make_symlink(target, in_root("a/to_secret"));
  make_symlink(outside_path(), in_root("a/to_outside"));
  make_symlink("b", in_root("a/to_b"));
  auto entries = list_entries(root(), "a");
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ(names_of(*entries), (std::vector<std::string>{"b", "to_b", "to_outside", "to_secret"}));
  // The link itself, never what it points at: its size is the length of its target text.
  const protocol::Entry* secret = find(*entries, "to_secret");
  ASSERT_NE(secret, nullptr);
  EXPECT_EQ(secret->type, 'l');
  EXPECT_EQ(secret->size, target.size());
  EXPECT_EQ(find(*entries, "to_outside")->type, 'l');
  EXPECT_EQ(find(*entries, "to_b")->type, 'l');
}

TEST_F(FileOpsTest, ListEntriesThroughSymlinks) {
  make_symlink("/a/b", in_root("inside"));
  make_symlink(outside_path(), in_root("abs_out"));
  make_symlink("../outside", in_root("rel_out"));
  make_symlink(outside_path() + "/secret", in_root("secret_link"));
  auto inside = list_entries(root(), "inside");
  ASSERT_TRUE(inside.ok());
  EXPECT_EQ(names_of(*inside), (std::vector<std::string>{"file"}));
  for (const std::string_view path :
       {"abs_out"sv, "rel_out"sv, "secret_link"sv, "abs_out/dir"sv, "../outside"sv}) {
    auto entries = list_entries(root(), path);
    ASSERT_FALSE(entries.ok()) << path;
    EXPECT_EQ(entries.error().code, ENOENT) << path;
  }
}

TEST_F(FileOpsTest, ListEntriesMissing) {
  for (const std::string_view path : {"nothing"sv, "a/nothing"sv, "/etc"sv}) {
    auto entries = list_entries(root(), path);
    ASSERT_FALSE(entries.ok()) << path;
    EXPECT_EQ(entries.error().code, ENOENT) << path;
  }
  auto nul = list_entries(root(), "a\0b"s);
  ASSERT_FALSE(nul.ok());
  EXPECT_EQ(nul.error().code, EINVAL);
}

TEST_F(FileOpsTest, ListEntriesEmptyDirectory) {
  make_dir(in_root("empty"));
  auto entries = list_entries(root(), "empty");
  ASSERT_TRUE(entries.ok());
  EXPECT_TRUE(entries->empty());
}

TEST_F(FileOpsTest, OpenForReadingDoesNotFindAnUnfinishedUpload) {
  auto upload = Upload::begin(root(), "a/b/file", 4);
  ASSERT_TRUE(upload.ok());
  auto file = open_for_reading(root(), "a/b/" + upload->temporary_name());
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.error().code, ENOENT);
}

// ---------------------------------------------------------------- remove_stale_uploads

timespec now_plus(int seconds) {
  timespec t{};
  ::clock_gettime(CLOCK_REALTIME, &t);
  t.tv_sec += seconds;
  return t;
}

TEST_F(FileOpsTest, RemoveStaleUploadsSweepsTheWholeTree) {
  write_file(in_root(".ferry-tmp-1"), "x");
  write_file(in_root(".ferry-tmp-2"), "x");
  write_file(in_root("keep.txt"), "x");
  write_file(in_root(".ferry-tmpx"), "x");
  write_file(in_root("a/.ferry-tmp-3"), "x");
  write_file(in_root("a/b/.ferry-tmp-4"), "x");
  EXPECT_EQ(remove_stale_uploads(root(), now_plus(1)), 4);
  EXPECT_EQ(names_in(root_path()), (std::set<std::string>{".ferry-tmpx", "a", "keep.txt"}));
  EXPECT_EQ(names_in(in_root("a")), (std::set<std::string>{"b"}));
  EXPECT_TRUE(temporaries_in(in_root("a/b")).empty());
  EXPECT_EQ(remove_stale_uploads(root(), now_plus(1)), 0);
}

TEST_F(FileOpsTest, RemoveStaleUploadsKeepsUploadsWrittenSinceTheCutoff) {
  auto upload = Upload::begin(root(), "a/b/file", 4);
  ASSERT_TRUE(upload.ok());
  // A cutoff in the past: this upload was written after it (it belongs to the running server).
  EXPECT_EQ(remove_stale_uploads(root(), now_plus(-60)), 0);
  EXPECT_EQ(temporaries_in(in_root("a/b")).size(), 1u);
  // A cutoff after it: an abandoned upload of an earlier run.
  EXPECT_EQ(remove_stale_uploads(root(), now_plus(1)), 1);
  EXPECT_TRUE(temporaries_in(in_root("a/b")).empty());
  EXPECT_EQ(read_file(in_root("a/b/file")), kInsideContent);
}

// The server's own uploads, begun just after its start, are never stale: with a precise
// clock as the cutoff, every one of these was removed (their mtime is a coarse tick).
TEST_F(FileOpsTest, RemoveStaleUploadsKeepsUploadsBegunJustAfterTheCutoff) {
  for (int i = 0; i < 200; ++i) {
    const timespec started = file_clock_now();
    auto upload = Upload::begin(root(), "file", 4);
    ASSERT_TRUE(upload.ok());
    ASSERT_EQ(remove_stale_uploads(root(), started), 0) << "round " << i;
    ASSERT_EQ(temporaries_in(root_path()).size(), 1u);
  }
}

TEST_F(FileOpsTest, RemoveStaleUploadsStaysInside) {
  write_file(outside_path() + "/.ferry-tmp-outside", "keep me");
  make_symlink(outside_path(), in_root("abs_out"));
  make_symlink("../outside", in_root("rel_out"));
  EXPECT_EQ(remove_stale_uploads(root(), now_plus(1)), 0);
  EXPECT_EQ(read_file(outside_path() + "/.ferry-tmp-outside"), "keep me");
}

}  // namespace
}  // namespace ferry::fs
