#pragma once

// PUT's side of the file system: a temporary file beside the target, renamed over it only
// when every byte has arrived.

#include <cstdint>
#include <string>
#include <string_view>

#include "ferry/fs/fd.hpp"
#include "ferry/fs/sys_result.hpp"

namespace ferry::fs {

// What a successful commit has to tell beyond success.
struct Committed {
  // errno of a failed fsync of the directory after the rename, else 0. The file is in
  // place and the client is told so; the rename may not survive a crash, which is for
  // the log.
  int directory_sync_error = 0;
};

// The temporary file is created with O_EXCL and holds flock(LOCK_EX) for as long as the
// Upload lives: the start-up sweep of any server on the same root skips a locked file, so
// an upload in flight is never taken for a leftover. Destroying an Upload that was not
// committed removes the temporary file.
class Upload {
 public:
  // The target's directory must exist; an existing target must be a writable regular file
  // (or a symbolic link, which is replaced, never written through).
  static SysResult<Upload> begin(const Fd& root, std::string_view path, std::uint64_t size);

  Upload(Upload&& other) noexcept;
  Upload& operator=(Upload&&) = delete;
  Upload(const Upload&) = delete;
  Upload& operator=(const Upload&) = delete;
  ~Upload();

  int fd() const { return file_.get(); }
  const std::string& temporary_name() const { return temporary_name_; }

  // fsync the file, rename it over the target, fsync the directory. Blocks on the disk.
  // Fails, saying so, when another process removed or renamed the temporary file.
  SysResult<Committed> commit();
  // Removes the temporary file now (idempotent).
  void abort();

 private:
  Upload(Fd directory, Fd file, std::string temporary_name, std::string target_name);
  // The error of a commit whose temporary file is gone from its name, `fallback` if it
  // is still there.
  SysError temporary_file_lost(SysError fallback) const;

  Fd directory_;
  Fd file_;
  std::string temporary_name_;
  std::string target_name_;
  bool finished_ = false;
};

}  // namespace ferry::fs
