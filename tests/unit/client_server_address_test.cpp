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
