#pragma once

// Globs in the last component of a path (`*`, `?`, `[...]`), matched by the client against
// the names of a listing of the glob's directory: the server knows no patterns.

#include <string>
#include <string_view>
#include <vector>

#include "ferry/protocol/listing.hpp"

namespace ferry::client {

// Whether the last `/`-separated component holds `*`, `?` or `[`.
bool has_glob(std::string_view path);

struct GlobParts {
  std::string directory;  // what comes before the last `/` ("" when none; "/" for `/x*`)
  std::string pattern;    // the last component
};
GlobParts split_glob(std::string_view path);

// The entries whose names match `pattern` as fnmatch(3) matches a shell word: a leading
// `.` only by a pattern that starts with one.
std::vector<protocol::Entry> match_glob(const std::vector<protocol::Entry>& entries,
                                        std::string_view pattern);

}  // namespace ferry::client
