#pragma once

// LS's side of the file system: the entries of a directory, streamed in directory order.

#include <dirent.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/fs/fd.hpp"
#include "ferry/fs/sys_result.hpp"
#include "ferry/protocol/listing.hpp"

namespace ferry::fs {

// One LS request's walk over a directory, a batch of entry lines at a time, in the order
// the directory gives them. It holds one directory stream and nothing per entry, so a
// listing costs the same memory for ten entries as for ten million. `.`, `..` and names
// with the temporary prefix are left out; an entry that vanishes before its fstatat is
// skipped. Movable; used by one thread at a time (any thread).
class DirectoryListing {
 public:
  // Resolves `path` through open_in_root. A path that is not a directory gives that one
  // entry, under its last path component; a temporary upload named directly is ENOENT.
  static SysResult<DirectoryListing> open(const Fd& root, std::string_view path);

  DirectoryListing(DirectoryListing&& other) noexcept;
  DirectoryListing& operator=(DirectoryListing&& other) noexcept;
  DirectoryListing(const DirectoryListing&) = delete;
  DirectoryListing& operator=(const DirectoryListing&) = delete;
  ~DirectoryListing();

  // The next entry into `entry`: true, or false at the end (the stream is then closed).
  SysResult<bool> next_entry(protocol::Entry& entry);

  // Appends formatted entry lines (protocol::format_entry) until out.size() >= max_bytes
  // or the listing ends, so a batch ends within one line past max_bytes. True while more
  // may follow, false once the end was reached.
  SysResult<bool> next_batch(std::string& out, std::size_t max_bytes);

 private:
  DirectoryListing(DIR* stream, std::optional<protocol::Entry> single);
  void close();

  DIR* stream_ = nullptr;
  std::optional<protocol::Entry> single_;  // the one entry of a path that is no directory
};

// The whole listing at once, sorted by name (bytes). Memory grows with the directory: for
// callers that need it sorted and small (tests, the fuzz target); LS streams instead.
SysResult<std::vector<protocol::Entry>> list_entries(const Fd& root, std::string_view path);

}  // namespace ferry::fs
