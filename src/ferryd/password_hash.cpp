#include "password_hash.hpp"

#include <sodium.h>

#include <array>

namespace ferryd {
namespace {

bool sodium_ready() {
  static const bool ready = ::sodium_init() >= 0;  // thread-safe, and idempotent anyway
  return ready;
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

bool verify_password(const std::string& hash, std::string_view password) {
  if (!sodium_ready()) return false;
  return ::crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

}  // namespace ferryd
