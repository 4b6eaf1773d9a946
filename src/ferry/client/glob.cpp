#include "ferry/client/glob.hpp"

#include <fnmatch.h>

namespace ferry::client {

bool has_glob(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  const std::string_view last = slash == std::string_view::npos ? path : path.substr(slash + 1);
  return last.find_first_of("*?[") != std::string_view::npos;
}

GlobParts split_glob(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return {"", std::string(path)};
  const std::string directory(slash == 0 ? "/" : path.substr(0, slash));
  return {directory, std::string(path.substr(slash + 1))};
}

std::vector<protocol::Entry> match_glob(const std::vector<protocol::Entry>& entries,
                                        std::string_view pattern) {
  const std::string text(pattern);
  std::vector<protocol::Entry> matched;
  for (const protocol::Entry& entry : entries) {
    // A name with a NUL cannot come from a file system; fnmatch would stop at it.
    if (entry.name.find('\0') != std::string::npos) continue;
    if (::fnmatch(text.c_str(), entry.name.c_str(), FNM_PERIOD) == 0) matched.push_back(entry);
  }
  return matched;
}

}  // namespace ferry::client
