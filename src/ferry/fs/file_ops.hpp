#pragma once

// The file operations behind GET, PUT and LS. Every path goes through open_in_root.

#include <ctime>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/fs/fd.hpp"
#include "ferry/fs/sys_result.hpp"
#include "ferry/protocol/listing.hpp"

namespace ferry::fs {

// Names of in-progress uploads start with this; LS hides them and PUT refuses them.
inline constexpr std::string_view kTemporaryPrefix = ".ferry-tmp-";

// The directory part and the last component of a path: "a/b/c" -> {"a/b", "c"},
// "c" -> {"", "c"}, "/c" -> {"/", "c"}. Trailing slashes are not removed.
struct SplitPath {
  std::string_view parent;
  std::string_view name;
};
SplitPath split_path(std::string_view path);

// GET: a regular file opened for reading, and its size when opened.
struct ReadableFile {
  Fd fd;
  std::uint64_t size = 0;
};
SysResult<ReadableFile> open_for_reading(const Fd& root, std::string_view path);

// PUT: a temporary file beside the target, renamed over it only by commit().
// Destroying an Upload that was not committed removes the temporary file.
class Upload {
 public:
  static SysResult<Upload> begin(const Fd& root, std::string_view path, std::uint64_t size);

  Upload(Upload&& other) noexcept;
  Upload& operator=(Upload&&) = delete;
  Upload(const Upload&) = delete;
  Upload& operator=(const Upload&) = delete;
  ~Upload();

  int fd() const { return file_.get(); }
  const std::string& temporary_name() const { return temporary_name_; }

  // fsync the file, rename it over the target, fsync the directory. Blocks on the disk.
  SysResult<bool> commit();
  // Removes the temporary file now (idempotent).
  void abort();

 private:
  Upload(Fd directory, Fd file, std::string temporary_name, std::string target_name);

  Fd directory_;
  Fd file_;
  std::string temporary_name_;
  std::string target_name_;
  bool finished_ = false;
};

// LS: the entries of a directory sorted by name (bytes), without `.`, `..` and
// temporary upload files; for a path that is not a directory, that one entry.
SysResult<std::vector<protocol::Entry>> list_entries(const Fd& root, std::string_view path);

// Now, on the clock the kernel stamps file times with (CLOCK_REALTIME_COARSE). A precise
// CLOCK_REALTIME read runs ahead of it by up to a tick: a file created right after such a
// read gets an earlier mtime, so a sweep with that read as its cutoff took a fresh upload
// of the running server for a stale one and removed it.
timespec file_clock_now();

// Removes the temporary files of uploads that a killed server left anywhere in the tree,
// those last written before `cutoff` (file_clock_now() at the server's start: an upload of
// the running server writes after it). Symbolic links are not followed; at most 64 directory
// levels deep. Returns how many were removed.
int remove_stale_uploads(const Fd& root, const timespec& cutoff);

}  // namespace ferry::fs
