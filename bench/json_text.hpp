#pragma once

// A JSON string literal of `s` (quotes, backslashes and control characters escaped), for the
// one-line reports of the bench's C++ tools (ferry_load.cpp, mover_compare.cpp).

#include <cstdio>
#include <string>
#include <string_view>

namespace ferry::bench {

inline std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (const char ch : s) {
    const auto u = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (u < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(u));
      out += escaped;
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

}  // namespace ferry::bench
