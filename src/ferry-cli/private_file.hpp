#pragma once

// Files that hold passwords (~/.netrc, --password-file), read only when neither their group
// nor others may read or write them: ftp(1)'s rule for .netrc. The mode is checked with
// fstat on the descriptor that is then read, so that the file checked is the file read
// (no window for a rename between a stat of the name and the open).

#include <cstddef>
#include <optional>
#include <string>

namespace ferry::cli {

struct PrivateFile {
  std::optional<std::string> text;  // the contents; none when missing or refused
  bool missing = false;             // there is no such file (not an error for ~/.netrc)
  std::string error;                // why it cannot be used: unreadable, too open, too large
};

// The contents of `path`, at most `limit` bytes (more is an error); with `first_line`, only
// up to its first line feed, which is all that is read (a pipe need not be closed).
PrivateFile read_private_file(const std::string& path, std::size_t limit, bool first_line);

}  // namespace ferry::cli
