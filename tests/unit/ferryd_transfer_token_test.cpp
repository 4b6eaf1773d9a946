// Transfer tokens (src/ferryd/transfer_token.hpp, docs/PROTOCOL.md "Transfer tokens").

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "ferry/protocol/message.hpp"
#include "transfer_token.hpp"

namespace {

using ferryd::TransferToken;

ferry::protocol::Message head_with(const std::string& text) {
  auto parsed = ferry::protocol::parse_head(text);
  EXPECT_TRUE(parsed.ok()) << parsed.error;
  return parsed.message;
}

TEST(TransferToken, IsThirtyTwoLowercaseHexDigitsAndNeverRepeats) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const auto token = TransferToken::generate();
    ASSERT_TRUE(token);
    ASSERT_EQ(token->text().size(), 32U);
    EXPECT_EQ(token->text().find_first_not_of("0123456789abcdef"), std::string::npos);
    seen.insert(token->text());
  }
  EXPECT_EQ(seen.size(), 1000U);
}

TEST(TransferToken, MatchesOnlyItself) {
  const auto token = TransferToken::from_text("0123456789abcdef0123456789abcdef");
  ASSERT_TRUE(token);
  EXPECT_TRUE(token->matches("0123456789abcdef0123456789abcdef"));
  EXPECT_FALSE(token->matches("0123456789abcdef0123456789abcdee"));
  EXPECT_FALSE(token->matches("0123456789ABCDEF0123456789ABCDEF"));
  EXPECT_FALSE(token->matches("0123456789abcdef"));
  EXPECT_FALSE(token->matches(""));
  EXPECT_FALSE(TransferToken::from_text("0123"));
  EXPECT_FALSE(TransferToken::from_text("0123456789abcdef0123456789abcdeg"));
}

TEST(TransferToken, ARequestMustPresentThePortsToken) {
  const auto token = TransferToken::from_text("0123456789abcdef0123456789abcdef");
  const auto right = head_with("GET\nFILENAME: a\nTOKEN: 0123456789abcdef0123456789abcdef\n\n");
  const auto wrong = head_with("GET\nFILENAME: a\nTOKEN: 1123456789abcdef0123456789abcdef\n\n");
  const auto missing = head_with("GET\nFILENAME: a\n\n");
  EXPECT_FALSE(ferryd::check_transfer_token(right, token));
  ASSERT_TRUE(ferryd::check_transfer_token(wrong, token));
  EXPECT_EQ(ferryd::check_transfer_token(wrong, token)->text, "wrong transfer token");
  EXPECT_TRUE(ferryd::check_transfer_token(missing, token));
  // A port opened without a token: any request, with or without the header (a seed client).
  EXPECT_FALSE(ferryd::check_transfer_token(missing, std::nullopt));
  EXPECT_FALSE(ferryd::check_transfer_token(wrong, std::nullopt));
}

}  // namespace
