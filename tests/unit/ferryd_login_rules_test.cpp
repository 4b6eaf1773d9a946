// The pure rules of a server with users: when OPEN must ask for a transfer token
// (tokens_required.hpp) and what a session may send before it logged in (login_gate.hpp).

#include <gtest/gtest.h>

#include <string_view>

#include "ferry/protocol/message.hpp"
#include "login_gate.hpp"
#include "tokens_required.hpp"

namespace {

using ferryd::allowed_before_login;
using ferryd::tokens_required;

ferry::protocol::Message head(std::string_view text) {
  auto parsed = ferry::protocol::parse_head(text);
  EXPECT_TRUE(parsed.ok()) << parsed.error;
  return parsed.message;
}

TEST(TokensRequired, WithTlsOrUsersButNotOnAPlaintextAnonymousServer) {
  EXPECT_FALSE(tokens_required(false, false));  // the seed's exchanges, byte for byte
  EXPECT_TRUE(tokens_required(false, true));
  EXPECT_TRUE(tokens_required(true, false));
  EXPECT_TRUE(tokens_required(true, true));
  static_assert(tokens_required(false, true));  // constexpr
}

TEST(LoginGate, OnlyFeaturesQuitAndLoginBeforeALogin) {
  for (const std::string_view text : {"FEATURES\n\n", "features\n\n", "QUIT\n\n",
                                      "LOGIN\nUSER: a\nPASSWORD: b\n\n", "login\n\n"}) {
    EXPECT_TRUE(allowed_before_login(head(text))) << text;
  }
  for (const std::string_view text :
       {"OPEN 0\n\n", "OPEN 0\nTOKEN: yes\n\n", "STAT\n\n", "MKDIR a\n\n", "RMDIR a\n\n",
        "DELETE a\n\n", "RENAME\nFROM: a\nTO: b\n\n", "GET\nFILENAME: a\n\n", "LIST\n\n",
        "OPEN x\n\n", "LOGINX\n\n"}) {
    EXPECT_FALSE(allowed_before_login(head(text))) << text;
  }
  EXPECT_EQ(ferryd::login_required().text, "login required");
  EXPECT_EQ(ferryd::login_required().kind, ferry::protocol::ErrorKind::login);
}

}  // namespace
