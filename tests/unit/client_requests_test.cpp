#include <gtest/gtest.h>

#include "ferry/client/requests.hpp"

namespace client = ferry::client;
namespace protocol = ferry::protocol;

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
