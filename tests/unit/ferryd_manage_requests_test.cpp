// The version-2 requests on names, from typed request to answer head, and the checks before
// every request (read-only, the served directory removed).

#include "manage_requests.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <string>

#include "request_policy.hpp"
#include "temp_tree.hpp"

namespace ferryd {
namespace {

namespace protocol = ferry::protocol;

class ManageRequestsTest : public ferry::testing::TempTreeTest {
 protected:
  SessionContext context(bool read_only = false) {
    root_text_ = root_path();  // the context only views it: it must outlive the call
    return SessionContext{7, &root(), root_text_, read_only, &removal_logged_};
  }
  ManageAnswer run(const ManageRequest& request) {
    return answer_manage_request(context(), request);
  }

  std::atomic<bool> removal_logged_{false};
  std::string root_text_;
};

TEST_F(ManageRequestsTest, Features) {
  EXPECT_EQ(features_answer(), "OK\nVERSION: 2\nTOKENS: yes\n\n");
}

TEST_F(ManageRequestsTest, StatAnswers) {
  ASSERT_EQ(::chmod(in_root("a/b/file").c_str(), 0644), 0);
  set_mtime(in_root("a/b/file"), 1795463808);  // 2026-11-23T19:56:48Z
  ManageAnswer answer = run(protocol::Stat{"a/b/file"});
  EXPECT_EQ(answer.answer, "OK\nTYPE: f\nSIZE: 11\nMTIME: 2026-11-23T19:56:48Z\nMODE: 644\n\n");
  EXPECT_TRUE(answer.error.empty());

  make_symlink("a/b/fi\nle", in_root("link to a"));
  set_mtime(in_root("link to a"), 1795463822);
  answer = run(protocol::Stat{"link to a"});
  EXPECT_EQ(
      answer.answer,
      "OK\nTYPE: l\nSIZE: 9\nMTIME: 2026-11-23T19:57:02Z\nMODE: 777\nTARGET: a/b/fi\\nle\n\n");

  answer = run(protocol::Stat{"nope"});
  EXPECT_EQ(answer.answer, "ERROR no such file or directory: nope\n\n");
  EXPECT_EQ(answer.error, "no such file or directory: nope");
}

TEST_F(ManageRequestsTest, AnswersOfTheChangingRequests) {
  EXPECT_EQ(run(protocol::Mkdir{"photos"}).answer, "OK\n\n");
  EXPECT_EQ(run(protocol::Mkdir{"photos"}).answer, "ERROR exists: photos\n\n");
  EXPECT_EQ(run(protocol::Mkdir{"a/x/c"}).answer, "ERROR no such directory: a/x/c\n\n");
  EXPECT_EQ(run(protocol::Rmdir{"a"}).answer, "ERROR not empty: a\n\n");
  EXPECT_EQ(run(protocol::Rmdir{"a/b/file"}).answer, "ERROR not a directory: a/b/file\n\n");
  EXPECT_EQ(run(protocol::Delete{"a"}).answer, "ERROR is a directory: a\n\n");
  EXPECT_EQ(run(protocol::Delete{"nope"}).answer, "ERROR no such file or directory: nope\n\n");
  EXPECT_EQ(run(protocol::Rmdir{""}).answer, "ERROR not allowed on the served directory\n\n");
  EXPECT_EQ(run(protocol::Delete{".ferry-tmp-x"}).answer,
            "ERROR name reserved for uploads: .ferry-tmp-x\n\n");
  EXPECT_EQ(run(protocol::Rmdir{"photos"}).answer, "OK\n\n");
  EXPECT_EQ(run(protocol::Delete{"a/b/file"}).answer, "OK\n\n");
}

TEST_F(ManageRequestsTest, RenameAnswers) {
  write_file(in_root("a.txt"), "a");
  write_file(in_root("c.txt"), "c");
  make_dir(in_root("docs"));
  EXPECT_EQ(run(protocol::Rename{"a.txt", "docs/b.txt", false}).answer, "OK\n\n");
  EXPECT_EQ(run(protocol::Rename{"c.txt", "docs/b.txt", false}).answer,
            "ERROR exists: docs/b.txt\n\n");
  EXPECT_EQ(run(protocol::Rename{"c.txt", "docs/b.txt", true}).answer, "OK\n\n");
  EXPECT_EQ(read_file(in_root("docs/b.txt")), "c");
  EXPECT_EQ(run(protocol::Rename{"a", "a/b/a", false}).answer, "ERROR invalid argument: a\n\n");
  EXPECT_EQ(run(protocol::Rename{"nope", "x", false}).answer,
            "ERROR no such file or directory: nope\n\n");
  EXPECT_EQ(run(protocol::Rename{"a", "x/y", false}).answer, "ERROR no such directory: x/y\n\n");
  EXPECT_EQ(run(protocol::Rename{"/", "x", false}).answer,
            "ERROR not allowed on the served directory\n\n");
}

TEST_F(ManageRequestsTest, LogDescriptions) {
  EXPECT_EQ(describe(protocol::Mkdir{"a/b"}), "MKDIR \"a/b\"");
  // U+202E built from its bytes: in a literal clang-tidy flags it (misc-misleading-bidirectional).
  const std::string rlo{'\xe2', '\x80', '\xae'};
  EXPECT_EQ(describe(protocol::Stat{"x" + rlo + "y"}), "STAT \"x\\u202ey\"");
  EXPECT_EQ(describe(protocol::Rename{"a", "b", true}), "RENAME \"a\" to \"b\" (overwrite)");
}

TEST_F(ManageRequestsTest, ReadOnlyRefusesWhatChangesFiles) {
  EXPECT_FALSE(refusal_before(context(true), false).has_value());
  EXPECT_FALSE(refusal_before(context(false), true).has_value());
  const auto refusal = refusal_before(context(true), true);
  ASSERT_TRUE(refusal.has_value());
  EXPECT_EQ(refusal->kind, protocol::ErrorKind::read_only);
  EXPECT_EQ(protocol::render(*refusal), "ERROR server is read-only\n\n");
}

TEST_F(ManageRequestsTest, ARemovedRootRefusesEveryRequest) {
  std::filesystem::remove_all(root_path());
  const auto refusal = refusal_before(context(), false);
  ASSERT_TRUE(refusal.has_value());
  EXPECT_EQ(refusal->text, "the served directory was removed");
  EXPECT_TRUE(removal_logged_.load());
}

}  // namespace
}  // namespace ferryd
