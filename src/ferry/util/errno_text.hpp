#pragma once

#include <string.h>  // NOLINT(modernize-deprecated-headers): GNU strerror_r, not in <cstring>'s std::
#include <string>

namespace ferry::util {

// strerror(code) without strerror's shared buffer, so safe on any thread: the GNU
// strerror_r (glibc with _GNU_SOURCE, which g++ and clang++ define for C++) returns either
// a static message or `buffer`.
inline std::string errno_text(int code) {
  char buffer[128];
  return ::strerror_r(code, buffer, sizeof buffer);
}

}  // namespace ferry::util
