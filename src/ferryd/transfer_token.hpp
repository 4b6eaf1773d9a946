#pragma once

// The one-time token that binds a transfer connection to the session that opened its port
// (docs/PROTOCOL.md, "Transfer tokens"): 128 random bits as 32 lowercase hex digits, given
// in the OPENED answer and presented in the transfer request's TOKEN header.

#include <optional>
#include <string>
#include <string_view>

#include "ferry/protocol/errors.hpp"
#include "ferry/protocol/message.hpp"

namespace ferryd {

class TransferToken {
 public:
  static constexpr std::size_t kHexDigits = 32;

  // From getrandom(2); nullopt when the kernel gives no randomness (the OPEN is refused).
  static std::optional<TransferToken> generate();
  // For tests: a token with this text (32 lowercase hex digits).
  static std::optional<TransferToken> from_text(std::string_view text);

  const std::string& text() const { return text_; }
  // In constant time over the token's length: no timing tells how much of a guess was right.
  bool matches(std::string_view presented) const;

 private:
  explicit TransferToken(std::string text) : text_(std::move(text)) {}
  std::string text_;
};

// Why the transfer request `head` may not use a port opened with `expected`: the token is
// missing or wrong. nullopt when it may (or when the port was opened without a token).
std::optional<ferry::protocol::Error> check_transfer_token(
    const ferry::protocol::Message& head, const std::optional<TransferToken>& expected);

}  // namespace ferryd
