#pragma once

// Where a `get` writes: the file the user named, written through a part file beside it
// (client/part_files.hpp: `.ferry-part-XXXXXX`, locked while written) and renamed only on
// success, so that nothing partial is ever left under its name. Before it creates one, it
// removes the stale part files of dead clients in that directory.

#include <optional>
#include <string>
#include <utility>

#include "ferry/fs/fd.hpp"

namespace ferry::cli {

class LocalTarget {
 public:
  // Decides the target from `get <remote> [local]` and opens what will be written.
  // Throws LocalError. Does not contact the server.
  static LocalTarget open(const std::string& remote, const std::optional<std::string>& local);

  LocalTarget(LocalTarget&& other) noexcept
      : name_(std::move(other.name_)),
        temp_path_(std::exchange(other.temp_path_, {})),
        file_(std::move(other.file_)),
        out_fd_(other.out_fd_),
        committed_(other.committed_) {}
  LocalTarget& operator=(LocalTarget&&) = delete;
  LocalTarget(const LocalTarget&) = delete;
  LocalTarget& operator=(const LocalTarget&) = delete;
  ~LocalTarget();  // removes the temporary file unless commit() succeeded

  int fd() const { return out_fd_; }
  const std::string& name() const { return name_; }
  bool is_stdout() const { return out_fd_ == 1; }

  // fsync and rename over the target (temporary-file case). Throws LocalError.
  void commit();

 private:
  LocalTarget() = default;

  std::string name_;       // the path the user sees: the target
  std::string temp_path_;  // empty when writing straight into the target or stdout
  fs::Fd file_;
  int out_fd_ = -1;
  bool committed_ = false;
};

}  // namespace ferry::cli
