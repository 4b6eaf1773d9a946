#include "local_target.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <utility>

#include "errors.hpp"
#include "ferry/client/part_files.hpp"
#include "ferry/client/requests.hpp"
#include "ferry/net/interrupt.hpp"
#include "ferry/util/errno_text.hpp"

namespace ferry::cli {
namespace {

std::string error_text(int code) {
  return ferry::util::errno_text(code);
}

std::string directory_of(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// Removes the part files that dead clients left in `directory`, at most once a minute per
// directory in this process: a script of 2,000 gets into one folder reads that folder once,
// not 2,000 times as it grows.
void sweep_stale_part_files(const std::string& directory) {
  using Clock = std::chrono::system_clock;
  static std::map<std::pair<dev_t, ino_t>, Clock::time_point> last_sweep;
  const fs::Fd dir(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  struct stat st {};
  if (!dir.valid() || ::fstat(dir.get(), &st) != 0) return;  // mkostemp will say why
  const auto now = Clock::now();
  auto [sweep, first] = last_sweep.try_emplace({st.st_dev, st.st_ino}, now);
  if (!first && now - sweep->second < client::kStalePartFileAge) return;
  sweep->second = now;
  client::remove_stale_part_files(dir.get(), now - client::kStalePartFileAge);
}

mode_t new_file_mode() {
  const mode_t mask = ::umask(0);
  ::umask(mask);
  return 0666 & ~mask;
}

}  // namespace

LocalTarget LocalTarget::open(const std::string& remote, const std::optional<std::string>& local) {
  LocalTarget target;
  const std::string remote_base = client::base_name(remote);
  if (local && *local == "-") {
    target.name_ = "standard output";
    target.out_fd_ = 1;
    return target;
  }
  if (!local && remote_base.empty()) {
    throw LocalError("cannot tell a local file name from '" + remote + "': give one");
  }
  std::string path = local.value_or(remote_base);
  struct stat st {};
  bool exists = ::stat(path.c_str(), &st) == 0;
  if (exists && S_ISDIR(st.st_mode)) {
    if (remote_base.empty()) {
      throw LocalError("cannot tell a file name from '" + remote + "' to put in " + path);
    }
    path += (path.back() == '/' ? "" : "/") + remote_base;
    exists = ::stat(path.c_str(), &st) == 0;
    if (exists && S_ISDIR(st.st_mode)) throw LocalError(path + " is a directory");
  }
  target.name_ = path;

  if (exists && !S_ISREG(st.st_mode)) {
    // /dev/null, a FIFO, a device: write straight into it; there is nothing to replace.
    target.file_.reset(::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY));
    if (!target.file_.valid()) throw LocalError("cannot write " + path + ": " + error_text(errno));
    target.out_fd_ = target.file_.get();
    return target;
  }

  const std::string directory = directory_of(path);
  sweep_stale_part_files(directory);
  target.file_ = client::create_part_file(directory, target.temp_path_);
  if (!target.file_.valid()) {
    throw LocalError("cannot create a file in " + directory + ": " + error_text(errno));
  }
  target.out_fd_ = target.file_.get();
  // An existing target keeps its permissions; a new one gets those of a new file.
  ::fchmod(target.out_fd_, exists ? (st.st_mode & 07777) : new_file_mode());
  return target;
}

LocalTarget::~LocalTarget() {
  if (!temp_path_.empty() && !committed_) ::unlink(temp_path_.c_str());
}

void LocalTarget::commit() {
  if (temp_path_.empty()) return;
  if (::fsync(out_fd_) != 0) throw LocalError("cannot write " + name_ + ": " + error_text(errno));
  net::throw_if_interrupted();  // Ctrl-C during a long fsync still cancels
  if (::rename(temp_path_.c_str(), name_.c_str()) != 0) {
    throw LocalError("cannot rename the temporary file to " + name_ + ": " + error_text(errno));
  }
  committed_ = true;
  fs::Fd directory(::open(directory_of(name_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (directory.valid()) ::fsync(directory.get());
}

}  // namespace ferry::cli
