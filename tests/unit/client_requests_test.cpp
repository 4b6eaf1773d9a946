#include <gtest/gtest.h>

#include "ferry/client/requests.hpp"

#include "ferry/protocol/escape.hpp"

namespace client = ferry::client;
namespace protocol = ferry::protocol;
using namespace std::literals;

// U+202E RIGHT-TO-LEFT OVERRIDE, built from their bytes:
// in a string literal clang-tidy flags it (misc-misleading-bidirectional).
const std::string kRlo{'\xe2', '\x80', '\xae'};

namespace {
protocol::Message parsed(std::string_view head) {
  auto result = protocol::parse_head(head);
  EXPECT_TRUE(result.ok()) << result.error;
  return result.message;
}
}  // namespace

TEST(Requests, BodiesAreTheSeedsMessages) {
  EXPECT_EQ(client::open_request(), "OPEN 0\n\n");
  EXPECT_EQ(client::quit_request(), "QUIT\n\n");
  EXPECT_EQ(client::ls_body(std::nullopt), "LS\n\n");
  EXPECT_EQ(client::ls_body("my dir"), "LS my dir\n\n");
  EXPECT_EQ(client::get_body("a/b.txt"), "GET\nFILENAME: a/b.txt\n\n");
  EXPECT_EQ(client::put_body("up.bin", 1234), "PUT\nFILENAME: up.bin\nFILESIZE: 1234\n\n");
}

TEST(Requests, PathsThatAHeadCarriesGoAsTheyAre) {
  // Valid UTF-8 without controls: literal, no new header, as a seed server expects; a
  // backslash, C1 controls and bidi overrides included.
  EXPECT_EQ(client::get_body("back\\slash"), "GET\nFILENAME: back\\slash\n\n");
  EXPECT_EQ(client::get_body("evil" + kRlo + "txt.exe"),
            "GET\nFILENAME: evil" + kRlo + "txt.exe\n\n");
  EXPECT_EQ(client::get_body("trailing space "), "GET\nFILENAME: trailing space \n\n");
  EXPECT_EQ(client::ls_body("back\\slash dir"), "LS back\\slash dir\n\n");
  EXPECT_EQ(client::ls_body(" lead"), "LS  lead\n\n");  // an argument keeps its spaces
  EXPECT_EQ(client::put_body("\xc2\x85", 1), "PUT\nFILENAME: \xc2\x85\nFILESIZE: 1\n\n");
}

TEST(Requests, OtherPathsGoEscaped) {
  EXPECT_EQ(client::get_body("bad\xff.txt"), "GET\nFILENAME: bad\\xff.txt\nESCAPED: yes\n\n");
  EXPECT_EQ(client::get_body("a\nb\\c"), "GET\nFILENAME: a\\nb\\\\c\nESCAPED: yes\n\n");
  EXPECT_EQ(client::get_body("tab\there"), "GET\nFILENAME: tab\\there\nESCAPED: yes\n\n");
  EXPECT_EQ(client::put_body("a\rb", 5), "PUT\nFILENAME: a\\rb\nFILESIZE: 5\nESCAPED: yes\n\n");
  EXPECT_EQ(client::ls_body("dir\x1b"s), "LS dir\\x1b\nESCAPED: yes\n\n");
  EXPECT_EQ(client::ls_body("\0"s), "LS \\x00\nESCAPED: yes\n\n");
  // A header value loses its leading spaces: they go as \x20.
  EXPECT_EQ(client::get_body("  two"), "GET\nFILENAME: \\x20\\x20two\nESCAPED: yes\n\n");
  EXPECT_EQ(client::put_body(" x\n", 0), "PUT\nFILENAME: \\x20x\\n\nFILESIZE: 0\nESCAPED: yes\n\n");
}

TEST(Requests, EscapedPathsParseAndUnescapeToTheName) {
  for (const std::string& name : {"bad\xff.txt"s, "a\nb"s, "\r\n\t\x01\x7f"s, " lead"s, "   "s,
                                  "x\\y\n"s, "\0"s, "\xed\xa0\x80\xc0\xaf"s, "dir/sub\n/f"s}) {
    for (const std::string& body : {client::get_body(name), client::put_body(name, 3)}) {
      const auto message = parsed(body);
      ASSERT_NE(message.header("FILENAME"), nullptr) << body;
      ASSERT_NE(message.header("ESCAPED"), nullptr) << body;
      EXPECT_EQ(*message.header("ESCAPED"), "yes");
      EXPECT_EQ(protocol::unescape(*message.header("FILENAME")), name) << body;
    }
    // (An LS argument keeps its leading spaces: "   " goes as it is.)
    const auto ls = parsed(client::ls_body(name));
    ASSERT_TRUE(ls.argument.has_value());
    if (ls.header("ESCAPED") != nullptr) {
      EXPECT_EQ(protocol::unescape(*ls.argument), name);
    } else {
      EXPECT_EQ(*ls.argument, name);
    }
  }
}

TEST(Requests, OpenedPortMustBeOneTo65535) {
  EXPECT_EQ(client::opened_port(parsed("OPENED 40123\n\n")), 40123);
  EXPECT_EQ(client::opened_port(parsed("opened 1\r\n\r\n")), 1);
  EXPECT_EQ(client::opened_port(parsed("OPENED 65535\n\n")), 65535);
  EXPECT_FALSE(client::opened_port(parsed("OPENED 0\n\n")));
  EXPECT_FALSE(client::opened_port(parsed("OPENED 65536\n\n")));
  EXPECT_FALSE(client::opened_port(parsed("OPENED 999999\n\n")));
  EXPECT_FALSE(client::opened_port(parsed("OPENED -1\n\n")));
  EXPECT_FALSE(client::opened_port(parsed("OPENED 12x\n\n")));
  EXPECT_FALSE(client::opened_port(parsed("OPENED\n\n")));
  EXPECT_FALSE(client::opened_port(parsed("OPENED \n\n")));
  EXPECT_FALSE(client::opened_port(parsed("OK 80\n\n")));
}

TEST(Requests, ErrorText) {
  EXPECT_EQ(client::error_text(parsed("ERROR no such file: a\n\n")), "no such file: a");
  EXPECT_EQ(client::error_text(parsed("error\n\n")), "");
  EXPECT_FALSE(client::error_text(parsed("OK\n\n")));
}

TEST(Requests, BaseName) {
  EXPECT_EQ(client::base_name("a.txt"), "a.txt");
  EXPECT_EQ(client::base_name("dir/sub/a.txt"), "a.txt");
  EXPECT_EQ(client::base_name("/a.txt"), "a.txt");
  EXPECT_EQ(client::base_name("dir/"), "dir");
  EXPECT_EQ(client::base_name("/"), "");
  EXPECT_EQ(client::base_name(""), "");
  EXPECT_EQ(client::base_name(".."), "");
  EXPECT_EQ(client::base_name("a/.."), "");
  EXPECT_EQ(client::base_name("."), "");
}

TEST(Requests, TransferTokens) {
  EXPECT_EQ(client::open_request(false), "OPEN 0\n\n");
  EXPECT_EQ(client::open_request(true), "OPEN 0\nTOKEN: yes\n\n");
  EXPECT_EQ(client::with_token("GET\nFILENAME: a\n\n", "0123456789abcdef0123456789abcdef"),
            "GET\nFILENAME: a\nTOKEN: 0123456789abcdef0123456789abcdef\n\n");
  EXPECT_EQ(client::with_token("LS\n\n", "00112233445566778899aabbccddeeff"),
            "LS\nTOKEN: 00112233445566778899aabbccddeeff\n\n");
  EXPECT_EQ(client::with_token("GET\nFILENAME: a\n\n", ""), "GET\nFILENAME: a\n\n");
  EXPECT_TRUE(client::announces_tokens(parsed("OK\nVERSION: 2\nTOKENS: yes\n\n")));
  EXPECT_FALSE(client::announces_tokens(parsed("OK\nVERSION: 2\n\n")));
  EXPECT_FALSE(client::announces_tokens(parsed("ERROR unknown command: FEATURES\n\n")));
  EXPECT_EQ(client::opened_token(parsed("OPENED 4000\n\n")), "");
  EXPECT_EQ(
      client::opened_token(parsed("OPENED 4000\nTOKEN: 0123456789abcdef0123456789abcdef\n\n")),
      "0123456789abcdef0123456789abcdef");
  EXPECT_FALSE(client::opened_token(parsed("OPENED 4000\nTOKEN: 0123\n\n")));
  EXPECT_FALSE(
      client::opened_token(parsed("OPENED 4000\nTOKEN: 0123456789ABCDEF0123456789ABCDEF\n\n")));
}
