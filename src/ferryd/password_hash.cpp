#include "password_hash.hpp"

#include <sodium.h>

#include <array>
#include <charconv>
#include <cstdint>

namespace ferryd {
namespace {

bool sodium_ready() {
  static const bool ready = ::sodium_init() >= 0;  // thread-safe, and idempotent anyway
  return ready;
}

// The decimal number after `key` in an Argon2 string, or 0.
std::uint64_t cost_in(std::string_view hash, std::string_view key) {
  const std::size_t at = hash.find(key);
  if (at == std::string_view::npos) return 0;
  const std::string_view digits = hash.substr(at + key.size());
  std::uint64_t value = 0;
  std::from_chars(digits.data(), digits.data() + digits.size(), value);
  return value;
}

std::optional<std::string> hash_with(std::string_view password, std::uint64_t ops,
                                     std::size_t memory) {
  if (!sodium_ready()) return std::nullopt;
  std::array<char, crypto_pwhash_STRBYTES> out{};
  if (::crypto_pwhash_str_alg(out.data(), password.data(), password.size(), ops, memory,
                              crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return std::nullopt;
  }
  return std::string(out.data());
}

}  // namespace

std::optional<std::string> hash_password(std::string_view password) {
  if (!sodium_ready()) return std::nullopt;
  std::array<char, crypto_pwhash_STRBYTES> out{};
  if (::crypto_pwhash_str(out.data(), password.data(), password.size(),
                          crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    return std::nullopt;
  }
  return std::string(out.data());
}

std::optional<std::string> dummy_hash_like(std::string_view model) {
  std::uint64_t ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
  std::size_t memory = crypto_pwhash_MEMLIMIT_INTERACTIVE;
  // `$argon2id$v=19$m=65536,t=2,p=1$salt$hash`: m in KiB, t passes; only costs libsodium
  // takes (and within reason: a hand-edited file cannot make every unknown user cost more).
  // Salt and hash are base64 without padding: `$m=` and `,t=` are found only in the costs.
  const std::uint64_t kib = cost_in(model, "$m=");
  const std::uint64_t passes = cost_in(model, ",t=");
  constexpr std::uint64_t kMaxKib = std::uint64_t{1} << 22;  // 4 GiB
  constexpr std::uint64_t kMaxPasses = 64;
  if (kib >= crypto_pwhash_MEMLIMIT_MIN / 1024 && kib <= kMaxKib && passes >= 1 &&
      passes <= kMaxPasses) {
    ops = passes;
    memory = static_cast<std::size_t>(kib * 1024);
  }
  std::array<unsigned char, 16> random{};
  if (!sodium_ready()) return std::nullopt;
  ::randombytes_buf(random.data(), random.size());
  return hash_with(std::string_view(reinterpret_cast<const char*>(random.data()), random.size()),
                   ops, memory);
}

bool verify_password(const std::string& hash, std::string_view password) {
  if (!sodium_ready()) return false;
  return ::crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

}  // namespace ferryd
