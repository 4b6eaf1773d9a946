#pragma once

// Property checks for the fuzz targets: a violated property aborts, so that libFuzzer
// reports it like a crash and saves the input.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#define FUZZ_CHECK(condition)                                                                 \
  do {                                                                                        \
    if (!(condition)) {                                                                       \
      std::fprintf(stderr, "%s:%d: property violated: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                           \
    }                                                                                         \
  } while (false)

namespace ferry::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Well-formed UTF-8 after the Unicode standard's table 3-7, written independently of
// protocol::is_valid_utf8 so that one can check the other.
inline bool well_formed_utf8(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t i = 0;
  const auto in = [&](std::size_t k, unsigned lo, unsigned hi) {
    return k < n && p[k] >= lo && p[k] <= hi;
  };
  while (i < n) {
    const unsigned b = p[i];
    if (b <= 0x7f) {
      i += 1;
    } else if (b >= 0xc2 && b <= 0xdf) {
      if (!in(i + 1, 0x80, 0xbf)) return false;
      i += 2;
    } else if (b >= 0xe0 && b <= 0xef) {
      const unsigned lo = b == 0xe0 ? 0xa0 : 0x80;
      const unsigned hi = b == 0xed ? 0x9f : 0xbf;
      if (!in(i + 1, lo, hi) || !in(i + 2, 0x80, 0xbf)) return false;
      i += 3;
    } else if (b >= 0xf0 && b <= 0xf4) {
      const unsigned lo = b == 0xf0 ? 0x90 : 0x80;
      const unsigned hi = b == 0xf4 ? 0x8f : 0xbf;
      if (!in(i + 1, lo, hi) || !in(i + 2, 0x80, 0xbf) || !in(i + 3, 0x80, 0xbf)) return false;
      i += 4;
    } else {
      return false;
    }
  }
  return true;
}

// No C0 control, no DEL.
inline bool has_no_control_bytes(std::string_view text) {
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return false;
  }
  return true;
}

}  // namespace ferry::fuzz
