#include "ferry/client/netrc.hpp"

#include <gtest/gtest.h>

namespace client = ferry::client;

namespace {

// The login and password found for `host` (and `user`), as "login/password" with "-" for a
// field the entry lacks; "none" when no entry applies, "error: ..." for a malformed file.
std::string find(std::string_view text, std::string_view host, std::string_view user = "") {
  const auto lookup = client::find_netrc_entry(text, host, user);
  if (!lookup.ok()) return "error: " + lookup.error;
  if (!lookup.entry) return "none";
  return lookup.entry->login.value_or("-") + "/" + lookup.entry->password.value_or("-");
}

}  // namespace

TEST(Netrc, Machine) {
  const char* text =
      "machine a.example login alice password one\n"
      "machine b.example\n  login bob\n  password two\n";
  EXPECT_EQ(find(text, "a.example"), "alice/one");
  EXPECT_EQ(find(text, "b.example"), "bob/two");
  EXPECT_EQ(find(text, "B.Example"), "bob/two");  // host names have no case
  EXPECT_EQ(find(text, "c.example"), "none");
  EXPECT_EQ(find("", "a"), "none");
  // All on one line, tabs, CRLF.
  EXPECT_EQ(find("machine x\tlogin u\r\npassword p\r\n", "x"), "u/p");
  // An entry without a password (ftp then asks for it), or without a login.
  EXPECT_EQ(find("machine x login u", "x"), "u/-");
  EXPECT_EQ(find("machine x password p", "x"), "-/p");
}

TEST(Netrc, User) {
  const char* text =
      "machine h login alice password one\n"
      "machine h login bob password two\n"
      "machine h password any\n";
  EXPECT_EQ(find(text, "h"), "alice/one");  // no user given: the first entry
  EXPECT_EQ(find(text, "h", "alice"), "alice/one");
  EXPECT_EQ(find(text, "h", "bob"), "bob/two");
  EXPECT_EQ(find(text, "h", "carol"), "-/any");  // an entry without a login fits any user
  EXPECT_EQ(find("machine h login alice password one", "h", "bob"), "none");
}

TEST(Netrc, Default) {
  const char* text =
      "machine h login alice password one\n"
      "default login anonymous password guest\n";
  EXPECT_EQ(find(text, "h"), "alice/one");
  EXPECT_EQ(find(text, "other"), "anonymous/guest");
  EXPECT_EQ(find(text, "h", "bob"), "none");  // the default is for anonymous only
  EXPECT_EQ(find("default password p", "h", "bob"), "-/p");
  // A machine entry wins even after the default (which belongs last).
  EXPECT_EQ(find("default login d password d\nmachine h login m password m\n", "h"), "m/m");
}

TEST(Netrc, Quoted) {
  EXPECT_EQ(find("machine h login \"a b\" password \"with \\\"quotes\\\" \\\\ and #\"\n", "h"),
            "a b/with \"quotes\" \\ and #");
  EXPECT_EQ(find("machine h login u password \"tab\\there\"", "h"), "u/tab\there");
  EXPECT_EQ(find("machine h login u password \"\"", "h"), "u/");  // an empty password
  // Unquoted, quotes and backslashes are plain characters.
  EXPECT_EQ(find("machine h login u password a\\\"b", "h"), "u/a\\\"b");
  EXPECT_EQ(find("machine \"h\" login u password p", "h"), "u/p");
  // A quoted keyword is a plain word, skipped.
  EXPECT_EQ(find("machine h \"password\" x login u", "h"), "u/-");
  EXPECT_EQ(find("machine h login u password \"open", "h"), "error: unterminated quote on line 1");
}

TEST(Netrc, Comments) {
  const char* text =
      "# my hosts\n"
      "machine h # the build server\n"
      "  login u   # me\n"
      "  password p#art\n";  // '#' inside a token is part of it
  EXPECT_EQ(find(text, "h"), "u/p#art");
  EXPECT_EQ(find("#machine h login u password p\n", "h"), "none");
  EXPECT_EQ(find("machine h login u password \"#quoted\"", "h"), "u/#quoted");
}

TEST(Netrc, Macdef) {
  const char* text =
      "macdef init\n"
      "machine h login evil password evil\n"  // the macro's body, not an entry
      "cd /pub\n"
      "\n"
      "machine h login u password p\n";
  EXPECT_EQ(find(text, "h"), "u/p");
  // A macro inside an entry, ended by an empty line with a CR.
  EXPECT_EQ(find("machine h login u\nmacdef m\npassword no\r\n\r\npassword yes\n", "h"), "u/yes");
  // A macro running to the end of the file.
  EXPECT_EQ(find("machine h login u password p\nmacdef m\nls\n", "h"), "u/p");
}

TEST(Netrc, SkipsWhatItDoesNotKnow) {
  EXPECT_EQ(find("machine h account acct login u password p", "h"), "u/p");
  EXPECT_EQ(find("machine h port 21 login u password p", "h"), "u/p");  // `port`, then `21`
  EXPECT_EQ(find("login stray password stray\nmachine h login u", "h"), "u/-");
  EXPECT_EQ(find("MACHINE h LOGIN u PASSWORD p", "h"), "u/p");
}

TEST(Netrc, Malformed) {
  EXPECT_EQ(find("machine h login u password", "h"),
            "error: 'password' without its value on line 1");
  EXPECT_EQ(find("machine h\nlogin u\nmachine", "x"),
            "error: 'machine' without its value on line 3");
  EXPECT_EQ(find("machine h login \"u\npassword p", "x"), "error: unterminated quote on line 1");
}
