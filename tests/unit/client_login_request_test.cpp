#include "ferry/client/login_request.hpp"

#include <gtest/gtest.h>

namespace client = ferry::client;
namespace protocol = ferry::protocol;

namespace {
protocol::Message parse(const char* head) {
  auto parsed = protocol::parse_head(head);
  EXPECT_TRUE(parsed.ok()) << parsed.error;
  return parsed.message;
}
}  // namespace

TEST(LoginRequest, Format) {
  EXPECT_EQ(client::login_request("alice", "s3cret pw"),
            "LOGIN\nUSER: alice\nPASSWORD: s3cret pw\n\n");
}

TEST(LoginRequest, Offer) {
  EXPECT_EQ(client::login_offer(parse("OK\nVERSION: 2\nTOKENS: yes\n\n")),
            client::LoginOffer::none);
  EXPECT_EQ(client::login_offer(parse("OK\nVERSION: 2\nLOGIN: required\n\n")),
            client::LoginOffer::required);
  EXPECT_EQ(client::login_offer(parse("OK\nVERSION: 2\nlogin: REQUIRED\n\n")),
            client::LoginOffer::required);
  EXPECT_EQ(client::login_offer(parse("OK\nVERSION: 3\nLOGIN: yes\n\n")),
            client::LoginOffer::offered);
  // A version-1 server's answer to FEATURES.
  EXPECT_EQ(client::login_offer(parse("ERROR unknown command: FEATURES\nLOGIN: required\n\n")),
            client::LoginOffer::none);
}

TEST(LoginRequest, RefusedValues) {
  EXPECT_FALSE(client::refuse_login_value("password", "correct horse  ").has_value());
  EXPECT_FALSE(client::refuse_login_value("password", "tab\tinside").has_value());
  EXPECT_FALSE(client::refuse_login_value("password", "").has_value());
  EXPECT_FALSE(client::refuse_login_value("password", "p\xc3\xa4ss").has_value());
  EXPECT_EQ(client::refuse_login_value("password", "a\nPASSWORD: b"),
            "password holds a control character");
  EXPECT_TRUE(client::refuse_login_value("password", "a\rb").has_value());
  EXPECT_TRUE(client::refuse_login_value("password", "a\x7f").has_value());
  EXPECT_EQ(client::refuse_login_value("password", "bad\xff"), "password is not valid UTF-8");
  EXPECT_TRUE(client::refuse_login_value("user name", " alice").has_value());
}

TEST(LoginRequest, LoginRequiredAnswer) {
  EXPECT_TRUE(client::is_login_required(parse("ERROR login required\n\n")));
  EXPECT_TRUE(client::is_login_required(parse("ERROR login required (ferryd --users)\n\n")));
  EXPECT_FALSE(client::is_login_required(parse("ERROR login failed\n\n")));
  EXPECT_FALSE(client::is_login_required(parse("ERROR login requiredness\n\n")));
  EXPECT_FALSE(client::is_login_required(parse("OPENED 4000\n\n")));
  EXPECT_FALSE(client::is_login_required(parse("ERROR\n\n")));
}
