// PUT's temporary file, its lock, its commit and its refusals, on a temporary tree.

#include <fcntl.h>
#include <grp.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <set>
#include <string>
#include <string_view>

#include "ferry/fs/names.hpp"
#include "ferry/fs/sys_result.hpp"
#include "ferry/fs/upload.hpp"
#include "temp_tree.hpp"

namespace ferry::fs {
namespace {

using namespace std::literals;
using ferry::testing::kInsideContent;

class UploadTest : public ferry::testing::TempTreeTest {
 protected:
  // A whole PUT: begin, write, commit.
  SysResult<Committed> put(std::string_view path, std::string_view content) {
    auto upload = Upload::begin(root(), path, content.size());
    if (!upload) return upload.error();
    write_all(upload->fd(), content);
    return upload->commit();
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

TEST_F(UploadTest, UploadCreatesANewFile) {
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

TEST_F(UploadTest, UploadReplacesTheTargetAtCommit) {
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

TEST_F(UploadTest, UploadAtTheRoot) {
  ASSERT_TRUE(put("top.txt", "1").ok());
  ASSERT_TRUE(put("/slash.txt", "2").ok());
  EXPECT_EQ(read_file(in_root("top.txt")), "1");
  EXPECT_EQ(read_file(in_root("slash.txt")), "2");
  ASSERT_TRUE(put("empty.txt", "").ok());
  EXPECT_EQ(read_file(in_root("empty.txt")), "");
  EXPECT_TRUE(temporaries_in(root_path()).empty());
}

TEST_F(UploadTest, UploadDestroyedWithoutCommitLeavesTheOldTarget) {
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

TEST_F(UploadTest, UploadDestroyedWithoutCommitCreatesNothing) {
  {
    auto upload = Upload::begin(root(), "fresh.txt", 3);
    ASSERT_TRUE(upload.ok());
    write_all(upload->fd(), "abc");
  }
  EXPECT_FALSE(exists(in_root("fresh.txt")));
  EXPECT_TRUE(temporaries_in(root_path()).empty());
}

TEST_F(UploadTest, UploadAbortAndFinishedState) {
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

TEST_F(UploadTest, MovedUploadIsCommittedOnce) {
  auto begun = Upload::begin(root(), "moved.txt", 4);
  ASSERT_TRUE(begun.ok());
  Upload upload(std::move(*begun));
  write_all(upload.fd(), "move");
  ASSERT_TRUE(upload.commit().ok());
  EXPECT_EQ(read_file(in_root("moved.txt")), "move");
  EXPECT_TRUE(temporaries_in(root_path()).empty());
}

TEST_F(UploadTest, UploadIntoAMissingDirectory) {
  for (const std::string_view path :
       {"nodir/x.txt"sv, "a/nodir/x.txt"sv, "/nodir/x.txt"sv, "a/b/file/x.txt"sv}) {
    auto upload = Upload::begin(root(), path, 1);
    ASSERT_FALSE(upload.ok()) << path;
    EXPECT_EQ(upload.error().code, ENOENT) << path;
    EXPECT_EQ(describe(upload.error()), "no such directory") << path;
  }
  EXPECT_FALSE(exists(in_root("nodir")));  // no implicit mkdir
}

TEST_F(UploadTest, UploadOverADirectory) {
  for (const std::string_view path : {"a"sv, "a/b"sv, "/a"sv}) {
    auto upload = Upload::begin(root(), path, 1);
    ASSERT_FALSE(upload.ok()) << path;
    EXPECT_EQ(upload.error().code, EISDIR) << path;
  }
  EXPECT_TRUE(temporaries_in(root_path()).empty());
  EXPECT_TRUE(temporaries_in(in_root("a")).empty());
}

TEST_F(UploadTest, UploadRefusesSpecialAndReservedNames) {
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

TEST_F(UploadTest, UploadRefusesNul) {
  auto upload = Upload::begin(root(), "a/x\0y"s, 1);
  ASSERT_FALSE(upload.ok());
  EXPECT_EQ(upload.error().code, EINVAL);
  auto in_parent = Upload::begin(root(), "a\0/x"s, 1);
  ASSERT_FALSE(in_parent.ok());
  EXPECT_EQ(in_parent.error().code, EINVAL);
  EXPECT_EQ(names_in(in_root("a")), (std::set<std::string>{"b"}));
}

TEST_F(UploadTest, UploadKeepsAnExistingTargetsPermissions) {
  const ScopedUmask umask(022);
  for (const mode_t mode : {0600u, 0640u, 0644u, 0666u, 0755u, 0700u, 0200u}) {
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

TEST_F(UploadTest, UploadThroughASymlinkedDirectoryOutsideCreatesNothingOutside) {
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

TEST_F(UploadTest, UploadOntoASymlinkReplacesTheLinkNotItsTarget) {
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

TEST_F(UploadTest, TheTemporaryNameIsTheServersOwn) {
  auto upload = Upload::begin(root(), "a/new.txt", 1);
  ASSERT_TRUE(upload.ok());
  EXPECT_TRUE(is_upload_temporary_name(upload->temporary_name())) << upload->temporary_name();
}

// The lock is what tells another server's sweep that this upload is alive.
TEST_F(UploadTest, AnUploadHoldsTheLockOfItsTemporaryFile) {
  auto upload = Upload::begin(root(), "a/new.txt", 1);
  ASSERT_TRUE(upload.ok());
  const std::string temporary = in_root("a/" + upload->temporary_name());
  const Fd other(::open(temporary.c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(other.valid()) << std::strerror(errno);
  EXPECT_NE(::flock(other.get(), LOCK_EX | LOCK_NB), 0);
  EXPECT_EQ(errno, EWOULDBLOCK);
  upload->abort();
  EXPECT_EQ(::flock(other.get(), LOCK_EX | LOCK_NB), 0) << std::strerror(errno);
}

TEST_F(UploadTest, CommitSaysWhenAnotherProcessRemovedTheTemporaryFile) {
  auto upload = Upload::begin(root(), "a/b/file", 3);
  ASSERT_TRUE(upload.ok());
  write_all(upload->fd(), "new");
  ASSERT_EQ(::unlink(in_root("a/b/" + upload->temporary_name()).c_str()), 0);
  auto committed = upload->commit();
  ASSERT_FALSE(committed.ok());
  EXPECT_EQ(committed.error().code, ENOENT);
  EXPECT_EQ(describe(committed.error()),
            "the upload's temporary file was removed by another process");
  EXPECT_EQ(read_file(in_root("a/b/file")), kInsideContent);
  upload->abort();
  EXPECT_EQ(names_in(in_root("a/b")), (std::set<std::string>{"file"}));
}

TEST_F(UploadTest, CommitSaysWhenAnotherProcessRenamedTheTemporaryFile) {
  auto upload = Upload::begin(root(), "a/b/file", 3);
  ASSERT_TRUE(upload.ok());
  write_all(upload->fd(), "new");
  ASSERT_EQ(::rename(in_root("a/b/" + upload->temporary_name()).c_str(),
                     in_root("a/b/elsewhere").c_str()),
            0);
  auto committed = upload->commit();
  ASSERT_FALSE(committed.ok());
  EXPECT_EQ(committed.error().code, ENOENT);
  EXPECT_EQ(describe(committed.error()),
            "the upload's temporary file was renamed by another process");
  EXPECT_EQ(read_file(in_root("a/b/file")), kInsideContent);
}

TEST_F(UploadTest, ASuccessfulCommitReportsNoDirectorySyncError) {
  auto committed = put("a/new.txt", "x");
  ASSERT_TRUE(committed.ok()) << describe(committed.error());
  EXPECT_EQ(committed->directory_sync_error, 0);
}

// Runs `body` in a child process as user and group 65534 when the test runs as root (root
// passes every permission check by capability); in this process otherwise. The child's
// exit status is body's result: 0 for success.
template <class Body>
int run_unprivileged(Body body) {
  if (::geteuid() != 0) return body();
  const pid_t child = ::fork();
  if (child == 0) {
    if (::setgroups(0, nullptr) != 0 || ::setresgid(65534, 65534, 65534) != 0 ||
        ::setresuid(65534, 65534, 65534) != 0) {
      ::_exit(100);
    }
    ::_exit(body());
  }
  int status = 0;
  if (child < 0 || ::waitpid(child, &status, 0) != child) return 101;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 102;
}

TEST_F(UploadTest, ATargetWithoutWritePermissionIsRefused) {
  write_file(in_root("ro.txt"), "read only");
  write_file(in_root("rw.txt"), "writable");
  ASSERT_EQ(::chmod(in_root("ro.txt").c_str(), 0444), 0);
  ASSERT_EQ(::chmod(in_root("rw.txt").c_str(), 0644), 0);
  if (::geteuid() == 0) {
    for (const char* path : {"", "/ro.txt", "/rw.txt"}) {
      ASSERT_EQ(::chown(in_root(path).c_str(), 65534, 65534), 0) << std::strerror(errno);
    }
  }
  const int status = run_unprivileged([this] {
    auto refused = Upload::begin(root(), "ro.txt", 1);
    if (refused.ok()) return 1;
    if (refused.error().code != EACCES) return 2;
    if (describe(refused.error()) != "permission denied") return 3;
    auto accepted = put("rw.txt", "new");
    if (!accepted.ok()) return 4;
    return 0;
  });
  EXPECT_EQ(status, 0);
  EXPECT_EQ(read_file(in_root("ro.txt")), "read only");
  EXPECT_EQ(read_file(in_root("rw.txt")), "new");
  EXPECT_TRUE(temporaries_in(root_path()).empty());
}

// As a write into it would, root replaces a 0444 file (CAP_DAC_OVERRIDE); its mode stays.
TEST_F(UploadTest, RootReplacesAReadOnlyFileAsAWriteWould) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  write_file(in_root("ro.txt"), "old");
  ASSERT_EQ(::chmod(in_root("ro.txt").c_str(), 0444), 0);
  ASSERT_TRUE(put("ro.txt", "new").ok());
  EXPECT_EQ(read_file(in_root("ro.txt")), "new");
  struct stat st {};
  ASSERT_EQ(::stat(in_root("ro.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0444u);
}

}  // namespace
}  // namespace ferry::fs
