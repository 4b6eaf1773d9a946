#include "ferry/fs/names.hpp"

#include <sys/random.h>

#include <cstddef>

namespace ferry::fs {

bool is_temporary_name(std::string_view name) {
  return name.starts_with(kTemporaryPrefix);
}

bool is_upload_temporary_name(std::string_view name) {
  if (!name.starts_with(kTemporaryPrefix)) return false;
  const std::string_view digits = name.substr(kTemporaryPrefix.size());
  if (digits.size() != kTemporaryHexDigits) return false;
  for (const char c : digits) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string random_temporary_name() {
  unsigned char bytes[kTemporaryHexDigits / 2] = {};
  std::size_t filled = 0;
  while (filled < sizeof bytes) {
    const ssize_t n = ::getrandom(bytes + filled, sizeof bytes - filled, 0);
    if (n > 0) filled += static_cast<std::size_t>(n);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string name(kTemporaryPrefix);
  for (const unsigned char b : bytes) {
    name += kHex[b >> 4];
    name += kHex[b & 0x0f];
  }
  return name;
}

bool is_special_name(std::string_view name) {
  return name.empty() || name == "." || name == "..";
}

SplitPath split_path(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return {{}, path};
  if (slash == 0) return {path.substr(0, 1), path.substr(1)};
  return {path.substr(0, slash), path.substr(slash + 1)};
}

}  // namespace ferry::fs
