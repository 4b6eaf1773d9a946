#include "ferry/client/server_address.hpp"

#include <gtest/gtest.h>

namespace client = ferry::client;

namespace {
client::ServerAddress parse(const char* first,
                            const std::optional<std::string>& second = std::nullopt) {
  return client::parse_server_address(first, second);
}
}  // namespace

TEST(ServerAddress, HostAndPort) {
  const auto a = parse("example.org", "2121");
  ASSERT_TRUE(a.ok()) << a.error;
  EXPECT_EQ(a.host, "example.org");
  EXPECT_EQ(a.port, "2121");
  EXPECT_EQ(a.directory, "");
  EXPECT_EQ(parse("::1", "21").host, "::1");
  EXPECT_EQ(parse("[::1]", "21").host, "::1");
}

TEST(ServerAddress, HostColonPort) {
  const auto a = parse("127.0.0.1:2121");
  ASSERT_TRUE(a.ok()) << a.error;
  EXPECT_EQ(a.host, "127.0.0.1");
  EXPECT_EQ(a.port, "2121");
  const auto v6 = parse("[2001:db8::1]:40");
  ASSERT_TRUE(v6.ok()) << v6.error;
  EXPECT_EQ(v6.host, "2001:db8::1");
  EXPECT_EQ(v6.port, "40");
}

TEST(ServerAddress, Url) {
  const auto a = parse("ferry://127.0.0.1:2121/docs/my%20notes");
  ASSERT_TRUE(a.ok()) << a.error;
  EXPECT_EQ(a.host, "127.0.0.1");
  EXPECT_EQ(a.port, "2121");
  EXPECT_EQ(a.directory, "/docs/my notes");
  const auto v6 = parse("ferry://[::1]:9/");
  ASSERT_TRUE(v6.ok()) << v6.error;
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.directory, "/");
  EXPECT_EQ(parse("ferry://h:1").directory, "");
}

TEST(ServerAddress, Errors) {
  EXPECT_FALSE(parse("127.0.0.1").ok());   // no port
  EXPECT_FALSE(parse("::1").ok());         // a bare IPv6 address, no port
  EXPECT_FALSE(parse("h:21", "21").ok());  // the port twice
  EXPECT_FALSE(parse("h", "0").ok());
  EXPECT_FALSE(parse("h", "65536").ok());
  EXPECT_FALSE(parse("h", "21x").ok());
  EXPECT_FALSE(parse("h:").ok());
  EXPECT_FALSE(parse(":21").ok());
  EXPECT_FALSE(parse("[::1").ok());
  EXPECT_FALSE(parse("[::1]x21").ok());
  EXPECT_FALSE(parse("ferry://h:21/bad%zz").ok());
  EXPECT_FALSE(parse("ferry://h:21/bad%2").ok());
  EXPECT_FALSE(parse("ferry:///x").ok());
  EXPECT_TRUE(parse("h", "65535").ok());
}

TEST(ServerAddress, UserAt) {
  const auto a = parse("alice@example.org", "2121");
  ASSERT_TRUE(a.ok()) << a.error;
  EXPECT_EQ(a.user, "alice");
  EXPECT_EQ(a.host, "example.org");
  EXPECT_EQ(a.port, "2121");
  EXPECT_EQ(parse("alice@h:21").user, "alice");
  EXPECT_EQ(parse("alice@h:21").host, "h");
  // IPv6, bracketed or bare, keeps working behind a user.
  const auto v6 = parse("bob@[::1]:2121");
  ASSERT_TRUE(v6.ok()) << v6.error;
  EXPECT_EQ(v6.user, "bob");
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.port, "2121");
  EXPECT_EQ(parse("bob@::1", "21").host, "::1");
  EXPECT_EQ(parse("bob@[::1]", "21").host, "::1");
  // The last '@' ends the user, as in ssh.
  const auto at = parse("me@corp@h:21");
  EXPECT_EQ(at.user, "me@corp");
  EXPECT_EQ(at.host, "h");
  // No '@': no user, as before.
  EXPECT_FALSE(parse("h:21").user.has_value());
  EXPECT_FALSE(parse("[::1]:21").user.has_value());
}

TEST(ServerAddress, UserInUrl) {
  const auto a = parse("ferry://alice@127.0.0.1:2121/docs");
  ASSERT_TRUE(a.ok()) << a.error;
  EXPECT_EQ(a.user, "alice");
  EXPECT_EQ(a.host, "127.0.0.1");
  EXPECT_EQ(a.port, "2121");
  EXPECT_EQ(a.directory, "/docs");
  const auto v6 = parse("ferry://bob@[::1]:9/");
  ASSERT_TRUE(v6.ok()) << v6.error;
  EXPECT_EQ(v6.user, "bob");
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(parse("ferry://a%40b@h:1").user, "a@b");  // percent-decoded
  // An '@' in the path is part of the path.
  const auto path = parse("ferry://h:1/mail@home");
  EXPECT_FALSE(path.user.has_value());
  EXPECT_EQ(path.directory, "/mail@home");
  EXPECT_FALSE(parse("ferry://a%zz@h:1").ok());
}

TEST(ServerAddress, UserErrors) {
  EXPECT_FALSE(parse("@h:21").ok());  // empty user
  EXPECT_FALSE(parse("ferry://@h:21/").ok());
  // A password in the address is refused, and not quoted back.
  const auto password = parse("ferry://alice:secret@h:21/");
  EXPECT_FALSE(password.ok());
  EXPECT_EQ(password.error.find("secret"), std::string::npos) << password.error;
  EXPECT_FALSE(parse("alice:secret@h:21").ok());
  EXPECT_FALSE(parse("ferry://al%0Aice@h:21/").ok());  // a control character
  EXPECT_FALSE(parse("ferry://%20alice@h:21/").ok());  // a leading space would be dropped
  EXPECT_FALSE(parse("alice@", "21").ok());            // no host
}

TEST(ServerAddress, ChooseUser) {
  const auto none = parse("h:21");
  EXPECT_FALSE(client::choose_user(none, std::nullopt).user.has_value());
  EXPECT_EQ(client::choose_user(none, "carol").user, "carol");
  const auto alice = parse("alice@h:21");
  EXPECT_EQ(client::choose_user(alice, std::nullopt).user, "alice");
  EXPECT_EQ(client::choose_user(alice, "alice").user, "alice");  // the same twice is fine
  const auto twice = client::choose_user(alice, "bob");
  EXPECT_FALSE(twice.ok());
  EXPECT_NE(twice.error.find("twice"), std::string::npos) << twice.error;
  EXPECT_FALSE(client::choose_user(none, "").ok());
  EXPECT_FALSE(client::choose_user(none, "a:b").ok());
  EXPECT_FALSE(client::choose_user(none, "a\nb").ok());
}
