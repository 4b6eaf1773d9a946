#include "ferry/protocol/request_path.hpp"

#include <gtest/gtest.h>

namespace ferry::protocol {
namespace {

TEST(RequestPath, WithoutTheHeaderABackslashStaysABackslash) {
  const RequestPath path = decode_request_path("back\\slash", nullptr);
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(path.path, "back\\slash");
}

TEST(RequestPath, EscapedNoIsLiteralToo) {
  const std::string no = "no";
  const RequestPath path = decode_request_path("a\\xff", &no);
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(path.path, "a\\xff");
}

TEST(RequestPath, EscapedYesNamesAnyByteString) {
  const std::string yes = "yes";
  const RequestPath path = decode_request_path("bad\\xff.txt a\\nb back\\\\slash", &yes);
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(path.path, std::string("bad\xff.txt a\nb back\\slash"));
}

TEST(RequestPath, ANulByteStaysForTheConfinementToRefuse) {
  const std::string yes = "yes";
  const RequestPath path = decode_request_path("a\\x00b", &yes);
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(path.path, std::string("a\0b", 3));
}

TEST(RequestPath, MalformedEscapeIsRefusedWithTheText) {
  const std::string yes = "yes";
  const RequestPath path = decode_request_path("a\\q", &yes);
  EXPECT_FALSE(path.ok());
  EXPECT_EQ(path.error, "malformed escape in path: a\\q");
  EXPECT_FALSE(decode_request_path("a\\x4", &yes).ok());
  EXPECT_FALSE(decode_request_path("a\\", &yes).ok());
}

TEST(RequestPath, AnyOtherValueIsRefused) {
  const std::string maybe = "maybe";
  const RequestPath path = decode_request_path("a", &maybe);
  EXPECT_EQ(path.error, "bad ESCAPED value: maybe (expected yes or no)");
}

}  // namespace
}  // namespace ferry::protocol
