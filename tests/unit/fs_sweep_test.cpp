// The start-up sweep of abandoned uploads, on a temporary tree.

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <set>
#include <string>
#include <string_view>

#include "ferry/fs/sweep.hpp"
#include "ferry/fs/upload.hpp"
#include "temp_tree.hpp"

namespace ferry::fs {
namespace {

using ferry::testing::kInsideContent;

constexpr std::string_view kStaleName = ".ferry-tmp-0123456789abcdef";
constexpr std::string_view kOtherStaleName = ".ferry-tmp-fedcba9876543210";

timespec now_plus(int seconds) {
  timespec t{};
  ::clock_gettime(CLOCK_REALTIME, &t);
  t.tv_sec += seconds;
  return t;
}

// The descriptors this process has open, by number.
std::set<int> open_descriptors() {
  std::set<int> found;
  DIR* listing = ::opendir("/proc/self/fd");
  if (listing == nullptr) return found;
  // NOLINTNEXTLINE(concurrency-mt-unsafe): one stream, one thread
  while (const dirent* item = ::readdir(listing)) {
    if (item->d_name[0] != '.') found.insert(std::stoi(item->d_name));
  }
  found.erase(::dirfd(listing));
  ::closedir(listing);
  return found;
}

class SweepTest : public ferry::testing::TempTreeTest {
 protected:
  // `levels` nested directories named "d" below `relative`; the path of the deepest.
  std::string make_deep(const std::string& relative, int levels) {
    std::string path = relative;
    for (int i = 0; i < levels; ++i) {
      path += "/d";
      make_dir(in_root(path));
    }
    return path;
  }
};

TEST_F(SweepTest, RemovesTheServersOwnNamesInTheWholeTree) {
  write_file(in_root(std::string(kStaleName)), "x");
  write_file(in_root(std::string(kOtherStaleName)), "x");
  write_file(in_root("keep.txt"), "x");
  write_file(in_root("a/" + std::string(kStaleName)), "x");
  write_file(in_root("a/b/" + std::string(kStaleName)), "x");
  const SweepReport report = sweep_stale_uploads(root(), now_plus(1));
  EXPECT_EQ(report.removed, 4);
  EXPECT_EQ(report.in_use, 0);
  EXPECT_EQ(report.stopped_because, "");
  EXPECT_EQ(names_in(root_path()), (std::set<std::string>{"a", "keep.txt"}));
  EXPECT_EQ(names_in(in_root("a")), (std::set<std::string>{"b"}));
  EXPECT_EQ(names_in(in_root("a/b")), (std::set<std::string>{"file"}));
  EXPECT_EQ(remove_stale_uploads(root(), now_plus(1)), 0);
}

// Only what Upload::begin creates: a user's files that merely look alike stay.
TEST_F(SweepTest, KeepsNamesThatOnlyLookLikeTemporaries) {
  const std::set<std::string> lookalikes = {".ferry-tmp-notes.txt", ".ferry-tmp-0123",
                                            ".ferry-part-abc123",   ".ferry-tmp-0123456789ABCDEF",
                                            ".ferry-tmp-",          ".ferry-tmp-0123456789abcdef0",
                                            ".ferry-tmpx",          "ferry-tmp-0123456789abcdef"};
  for (const auto& name : lookalikes) {
    write_file(in_root(name), "mine");
    set_mtime(in_root(name), 1000000000);
  }
  // A symbolic link named like a temporary, to a stale-looking file: neither is touched.
  write_file(outside_path() + "/" + std::string(kStaleName), "outside");
  set_mtime(outside_path() + "/" + std::string(kStaleName), 1000000000);
  make_symlink(outside_path() + "/" + std::string(kStaleName),
               in_root("a/" + std::string(kStaleName)));
  // A directory named like one is walked, not removed.
  make_dir(in_root(std::string(kOtherStaleName)));
  write_file(in_root(std::string(kOtherStaleName) + "/" + std::string(kStaleName)), "stale");

  const SweepReport report = sweep_stale_uploads(root(), now_plus(1));
  EXPECT_EQ(report.removed, 1);
  std::set<std::string> expected = lookalikes;
  expected.insert("a");
  expected.insert(std::string(kOtherStaleName));
  EXPECT_EQ(names_in(root_path()), expected);
  EXPECT_EQ(names_in(in_root("a")), (std::set<std::string>{"b", std::string(kStaleName)}));
  EXPECT_TRUE(names_in(in_root(std::string(kOtherStaleName))).empty());
  EXPECT_EQ(read_file(outside_path() + "/" + std::string(kStaleName)), "outside");
}

TEST_F(SweepTest, KeepsUploadsWrittenSinceTheCutoff) {
  write_file(in_root("a/b/" + std::string(kStaleName)), "x");
  // A cutoff in the past: this file was written after it (it belongs to the running server).
  EXPECT_EQ(remove_stale_uploads(root(), now_plus(-60)), 0);
  EXPECT_EQ(temporaries_in(in_root("a/b")).size(), 1u);
  // A cutoff after it: an abandoned upload of an earlier run.
  EXPECT_EQ(remove_stale_uploads(root(), now_plus(1)), 1);
  EXPECT_TRUE(temporaries_in(in_root("a/b")).empty());
  EXPECT_EQ(read_file(in_root("a/b/file")), kInsideContent);
}

// The server's own uploads, begun just after its start, are never stale: with a precise
// clock as the cutoff, every one of these was removed (their mtime is a coarse tick).
TEST_F(SweepTest, KeepsUploadsBegunJustAfterTheCutoff) {
  for (int i = 0; i < 200; ++i) {
    const timespec started = file_clock_now();
    auto upload = Upload::begin(root(), "file", 4);
    ASSERT_TRUE(upload.ok());
    ASSERT_EQ(remove_stale_uploads(root(), started), 0) << "round " << i;
    ASSERT_EQ(temporaries_in(root_path()).size(), 1u);
  }
}

// Another server's upload in flight, begun before this server started: old enough by its
// time, but its lock is held.
TEST_F(SweepTest, KeepsALockedTemporaryWhateverItsAge) {
  const std::string stale = in_root("a/" + std::string(kStaleName));
  write_file(stale, "in flight");
  set_mtime(stale, 1000000000);
  {
    const Fd holder(::open(stale.c_str(), O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(holder.valid());
    ASSERT_EQ(::flock(holder.get(), LOCK_EX), 0);
    const SweepReport report = sweep_stale_uploads(root(), now_plus(1));
    EXPECT_EQ(report.removed, 0);
    EXPECT_EQ(report.in_use, 1);
    EXPECT_EQ(read_file(stale), "in flight");
  }
  // The holder is gone: now it is a leftover.
  const SweepReport report = sweep_stale_uploads(root(), now_plus(1));
  EXPECT_EQ(report.removed, 1);
  EXPECT_EQ(report.in_use, 0);
  EXPECT_FALSE(exists(stale));
}

TEST_F(SweepTest, KeepsALiveUploadOfThisProcessWhateverTheCutoff) {
  auto upload = Upload::begin(root(), "a/b/file", 4);
  ASSERT_TRUE(upload.ok());
  set_mtime(in_root("a/b/" + upload->temporary_name()), 1000000000);
  const SweepReport report = sweep_stale_uploads(root(), now_plus(1));
  EXPECT_EQ(report.removed, 0);
  EXPECT_EQ(report.in_use, 1);
  write_all(upload->fd(), "done");
  ASSERT_TRUE(upload->commit().ok());
  EXPECT_EQ(read_file(in_root("a/b/file")), "done");
}

TEST_F(SweepTest, ReachesAnyDepth) {
  const std::string deep = make_deep("a", 200);
  write_file(in_root(deep + "/" + std::string(kStaleName)), "deep");
  write_file(in_root(deep + "/keep.txt"), "keep");
  write_file(in_root("a/b/" + std::string(kStaleName)), "after the deep branch");
  write_file(in_root("a/" + std::string(kOtherStaleName)), "beside it");
  const SweepReport report = sweep_stale_uploads(root(), now_plus(1));
  EXPECT_EQ(report.stopped_because, "");
  EXPECT_EQ(report.removed, 3);
  EXPECT_EQ(names_in(in_root(deep)), (std::set<std::string>{"keep.txt"}));
  EXPECT_EQ(names_in(in_root("a/b")), (std::set<std::string>{"file"}));
  EXPECT_EQ(names_in(in_root("a")), (std::set<std::string>{"b", "d"}));
}

TEST_F(SweepTest, LeaksNoDescriptors) {
  const std::string deep = make_deep("a", 30);
  write_file(in_root(deep + "/" + std::string(kStaleName)), "deep");
  const std::set<int> before = open_descriptors();
  EXPECT_EQ(remove_stale_uploads(root(), now_plus(1)), 1);
  EXPECT_EQ(open_descriptors(), before);
}

// Bounded descriptors, not just no leaks: a 200-deep walk in a child process that may open
// only three more descriptors than it has (two directories and one candidate file).
TEST_F(SweepTest, WalksDeepTreesWithAFewDescriptors) {
  const std::string deep = make_deep("a", 200);
  write_file(in_root(deep + "/" + std::string(kStaleName)), "deep");
  for (int i = 0; i < 200; i += 20) {
    std::string level = "a";
    for (int j = 0; j < i; ++j)
      level += "/d";
    write_file(in_root(level + "/" + std::string(kOtherStaleName)), "on the way");
  }
  const std::set<int> open = open_descriptors();
  ASSERT_FALSE(open.empty());
  const rlim_t limit = static_cast<rlim_t>(*open.rbegin()) + 1 + 3;
  const pid_t child = ::fork();
  if (child == 0) {
    const rlimit tight{limit, limit};
    if (::setrlimit(RLIMIT_NOFILE, &tight) != 0) ::_exit(100);
    const SweepReport report = sweep_stale_uploads(root(), now_plus(1));
    ::_exit(report.stopped_because.empty() ? report.removed : 101);
  }
  ASSERT_GT(child, 0) << std::strerror(errno);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 11);
  EXPECT_EQ(names_in(in_root(deep)), std::set<std::string>{});
}

TEST_F(SweepTest, StaysInside) {
  write_file(outside_path() + "/" + std::string(kStaleName), "keep me");
  make_symlink(outside_path(), in_root("abs_out"));
  make_symlink("../outside", in_root("rel_out"));
  EXPECT_EQ(remove_stale_uploads(root(), now_plus(1)), 0);
  EXPECT_EQ(read_file(outside_path() + "/" + std::string(kStaleName)), "keep me");
}

}  // namespace
}  // namespace ferry::fs
