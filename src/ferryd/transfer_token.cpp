#include "transfer_token.hpp"

#include <sys/random.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>

#include "ferry/protocol/requests.hpp"

namespace ferryd {
namespace {

bool is_lower_hex(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

std::optional<TransferToken> TransferToken::generate() {
  std::array<std::uint8_t, kHexDigits / 2> bytes{};
  std::size_t filled = 0;
  while (filled < bytes.size()) {
    const ssize_t n = ::getrandom(bytes.data() + filled, bytes.size() - filled, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    filled += static_cast<std::size_t>(n);
  }
  static constexpr std::string_view kDigits = "0123456789abcdef";
  std::string text;
  text.reserve(kHexDigits);
  for (const std::uint8_t byte : bytes) {
    text.push_back(kDigits[byte >> 4]);
    text.push_back(kDigits[byte & 0xf]);
  }
  return TransferToken(std::move(text));
}

std::optional<TransferToken> TransferToken::from_text(std::string_view text) {
  if (text.size() != kHexDigits || !is_lower_hex(text)) return std::nullopt;
  return TransferToken(std::string(text));
}

bool TransferToken::matches(std::string_view presented) const {
  if (presented.size() != text_.size()) return false;  // the length is no secret
  unsigned difference = 0;
  for (std::size_t i = 0; i < text_.size(); ++i) {
    difference |= static_cast<unsigned char>(text_[i]) ^ static_cast<unsigned char>(presented[i]);
  }
  return difference == 0;
}

std::optional<ferry::protocol::Error> check_transfer_token(
    const ferry::protocol::Message& head, const std::optional<TransferToken>& expected) {
  if (!expected) return std::nullopt;
  const std::string* presented = head.header(ferry::protocol::kTokenHeader);
  if (presented != nullptr && expected->matches(*presented)) return std::nullopt;
  return ferry::protocol::Error{ferry::protocol::ErrorKind::refused, "wrong transfer token"};
}

}  // namespace ferryd
