// The users of `--users` as ferryd serves them (src/ferryd/accounts.hpp): every user's root
// opened at start through the confinement function, so that it is a directory inside the
// served root or the start fails naming the line; users of one folder share its descriptor;
// the users file read with its errors by line; the start's line about who may do what.

#include "accounts.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "temp_tree.hpp"

namespace {

using ferryd::Accounts;
using ferryd::open_accounts;
using ferryd::User;

const std::string kHash = "$argon2id$v=19$m=8192,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo";

User user(std::string name, std::string root, std::size_t line, bool read_only = false) {
  User made;
  made.name = std::move(name);
  made.password_hash = kHash;
  made.read_only = read_only;
  made.root = std::move(root);
  made.line = line;
  return made;
}

class AccountsTest : public ferry::testing::TempTreeTest {};

TEST_F(AccountsTest, EachUserGetsItsFolderOpenedInsideTheRoot) {
  const auto opened =
      open_accounts(root(), root_path(),
                    {user("alice", "a", 1), user("bob", "a/b", 2, true), user("all", ".", 3)});
  ASSERT_TRUE(opened.accounts) << opened.error;
  const Accounts& accounts = *opened.accounts;
  EXPECT_EQ(accounts.users(), 3U);
  const ferryd::Account* bob = accounts.find("bob");
  ASSERT_NE(bob, nullptr);
  EXPECT_TRUE(bob->read_only);
  EXPECT_EQ(bob->root->path, root_path() + "/a/b");
  // Its descriptor is the folder itself: "file" is at its top.
  auto file = ferry::fs::open_in_root(bob->root->directory, "file", O_RDONLY);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(read_all(file->get()), ferry::testing::kInsideContent);
  EXPECT_EQ(accounts.find("all")->root->path, root_path());
  EXPECT_EQ(accounts.find("carol"), nullptr);
  EXPECT_EQ(accounts.find(""), nullptr);
  // The dummy hash has the first user's costs.
  EXPECT_TRUE(accounts.dummy_hash().starts_with("$argon2id$v=19$m=8192,t=1,p=1$"));
}

TEST_F(AccountsTest, UsersOfOneFolderShareOneDescriptor) {
  const auto opened = open_accounts(
      root(), root_path(), {user("a1", "a", 1), user("a2", "a/", 2), user("a3", "./a/b/..", 3)});
  ASSERT_TRUE(opened.accounts) << opened.error;
  EXPECT_EQ(opened.accounts->roots(), 1U);
  EXPECT_EQ(opened.accounts->find("a1")->root, opened.accounts->find("a3")->root);
}

TEST_F(AccountsTest, ARootThatIsNoDirectoryInsideTheRootStopsTheStart) {
  make_symlink("../outside", root_path() + "/up");
  make_symlink(outside_path(), root_path() + "/abs");
  const struct {
    std::string root;
    std::string error;
  } cases[] = {
      {"missing", "line 2: the root of bob, \"missing\", is no directory inside " + root_path() +
                      ": no such file or directory"},
      {"a/b/file", "line 2: the root of bob, \"a/b/file\", is no directory inside " + root_path() +
                       ": not a directory"},
      // A link cannot lead a user's root out: resolved as if the served root were `/`.
      {"up", "line 2: the root of bob, \"up\", is no directory inside " + root_path() +
                 ": no such file or directory"},
      {"abs", "line 2: the root of bob, \"abs\", is no directory inside " + root_path() +
                  ": no such file or directory"},
  };
  for (const auto& c : cases) {
    const auto opened =
        open_accounts(root(), root_path(), {user("alice", "a", 1), user("bob", c.root, 2)});
    EXPECT_FALSE(opened.accounts) << c.root;
    EXPECT_EQ(opened.error, c.error);
  }
}

TEST_F(AccountsTest, TheUsersFileIsReadWithItsErrorsByLine) {
  const std::string path = base() + "/users";
  write_file(path, "# users\nalice:" + kHash + ":rw:a\nbob:" + kHash + ":ro:a/b\n");
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  auto read = ferryd::read_users_file(path);
  ASSERT_TRUE(read.ok()) << read.error;
  ASSERT_EQ(read.users.size(), 2U);
  EXPECT_EQ(read.users[0].line, 2U);
  EXPECT_EQ(read.users[1].line, 3U);
  EXPECT_TRUE(read.users[1].read_only);
  EXPECT_FALSE(read.readable_by_others);
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  EXPECT_TRUE(ferryd::read_users_file(path).readable_by_others);

  write_file(path, "alice:" + kHash + ":rw:a\n\nbob:" + kHash + ":rx:a\n");
  EXPECT_EQ(ferryd::read_users_file(path).error, "line 3: mode must be rw or ro, not \"rx\"");
  EXPECT_EQ(ferryd::read_users_file(base() + "/nope").error,
            "cannot read it: no such file or directory");
  EXPECT_EQ(ferryd::read_users_file(root_path()).error, "not a regular file");
}

TEST(AccessSummary, SaysWhoMayDoWhat) {
  EXPECT_EQ(ferryd::access_summary("/srv", false, nullptr, false),
            "no --users: anyone who can reach this port can read and write everything in /srv");
  EXPECT_EQ(ferryd::access_summary("/srv", true, nullptr, false),
            "no --users: anyone who can reach this port can read everything in /srv");
  EXPECT_EQ(ferryd::user_root_bound({user("a", "x", 1), user("b", "x", 2), user("c", "y", 3)}), 2U);
}

}  // namespace
