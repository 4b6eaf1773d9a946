// The users file (src/ferryd/users_file.hpp) and the Argon2id hashes (password_hash.hpp).

#include <gtest/gtest.h>

#include <string>

#include "password_hash.hpp"
#include "users_file.hpp"

namespace {

using ferryd::parse_users;
using ferryd::User;

const std::string kHash = "$argon2id$v=19$m=65536,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo";

TEST(UsersFile, ParsesUsersAndSkipsCommentsAndBlankLines) {
  const auto parsed = parse_users("# ferryd users\n\nalice:" + kHash +
                                  ":rw:.\r\n  # x\nbob:" + kHash + ":ro:shared/bob:with:colons\n");
  ASSERT_TRUE(parsed.ok()) << parsed.error;
  ASSERT_EQ(parsed.users.size(), 2U);
  EXPECT_EQ(parsed.users[0].name, "alice");
  EXPECT_EQ(parsed.users[0].password_hash, kHash);
  EXPECT_FALSE(parsed.users[0].read_only);
  EXPECT_EQ(parsed.users[0].root, ".");
  EXPECT_TRUE(parsed.users[1].read_only);
  EXPECT_EQ(parsed.users[1].root, "shared/bob:with:colons");
}

TEST(UsersFile, AMalformedLineIsNamedByItsNumber) {
  const struct {
    std::string text;
    std::size_t line;
    std::string error;
  } cases[] = {
      {"alice\n", 1, "expected NAME:HASH:MODE:ROOT"},
      {"# c\nalice:" + kHash + ":rw\n", 2, "expected NAME:HASH:MODE:ROOT"},
      {"alice:secret:rw:.\n", 1,
       "the password hash is not an Argon2id hash (set it with `ferryd adduser`)"},
      {"alice:" + kHash + ":rx:.\n", 1, "mode must be rw or ro, not \"rx\""},
      {"alice:" + kHash + ":rw:/etc\n", 1,
       "the root must be a folder inside --root, given relative to it (. for all of it)"},
      {"alice:" + kHash + ":rw:a/../../etc\n", 1, "the root must not contain .."},
      {"alice:" + kHash + ":rw:\n", 1,
       "the root must be a folder inside --root, given relative to it (. for all of it)"},
      {"a lice:" + kHash + ":rw:.\n", 1,
       "bad user name \"a lice\": 1 to 32 of A-Z a-z 0-9 . _ -, not starting with - or ."},
      {"-x:" + kHash + ":rw:.\n", 1,
       "bad user name \"-x\": 1 to 32 of A-Z a-z 0-9 . _ -, not starting with - or ."},
      {"a:" + kHash + ":rw:.\nb:" + kHash + ":ro:b\na:" + kHash + ":ro:.\n", 3,
       "user \"a\" appears twice"},
  };
  for (const auto& c : cases) {
    const auto parsed = parse_users(c.text);
    EXPECT_FALSE(parsed.ok()) << c.text;
    EXPECT_EQ(parsed.bad_line, c.line) << c.text;
    EXPECT_EQ(parsed.error, c.error) << c.text;
    EXPECT_TRUE(parsed.users.empty());
  }
}

TEST(UsersFile, WithUserReplacesItsLineOrAddsOne) {
  const std::string text = "# users\nalice:" + kHash + ":rw:.\nbob:" + kHash + ":ro:b\n";
  const User carol{"carol", kHash, false, "c"};
  EXPECT_EQ(ferryd::with_user(text, carol), text + "carol:" + kHash + ":rw:c\n");
  const User alice{"alice", "$argon2id$new", true, "a"};
  EXPECT_EQ(ferryd::with_user(text, alice),
            "# users\nalice:$argon2id$new:ro:a\nbob:" + kHash + ":ro:b\n");
  EXPECT_EQ(ferryd::with_user("", carol), "carol:" + kHash + ":rw:c\n");
  const User bob{"bob", kHash, false, "."};
  EXPECT_EQ(ferryd::format_user(bob), "bob:" + kHash + ":rw:.");
  EXPECT_TRUE(parse_users(ferryd::with_user(text, carol)).ok());
}

TEST(PasswordHash, VerifiesOnlyThePasswordItWasMadeFrom) {
  const auto hash = ferryd::hash_password("correct horse");
  ASSERT_TRUE(hash);
  EXPECT_TRUE(hash->starts_with("$argon2id$"));
  EXPECT_EQ(hash->find(':'), std::string::npos);  // fits the users file
  EXPECT_TRUE(ferryd::verify_password(*hash, "correct horse"));
  EXPECT_FALSE(ferryd::verify_password(*hash, "correct horsf"));
  EXPECT_FALSE(ferryd::verify_password(*hash, ""));
  EXPECT_NE(*hash, ferryd::hash_password("correct horse"));  // a salt of its own
  EXPECT_TRUE(parse_users("u:" + *hash + ":rw:.\n").ok());
}

}  // namespace
