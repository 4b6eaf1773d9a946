#include "history.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include <readline/history.h>

#include "ferry/client/history_path.hpp"
#include "ferry/fs/fd.hpp"

namespace ferry::cli {
namespace {

constexpr mode_t kFileMode = 0600;
constexpr auto kDirectoryPermissions = std::filesystem::perms::owner_all;

// The file exists with mode 0600 (append_history does not create it), in a directory of
// the user's own.
bool prepare(const std::string& path) {
  std::error_code error;
  const std::filesystem::path directory = std::filesystem::path(path).parent_path();
  if (!std::filesystem::exists(directory, error)) {
    std::filesystem::create_directories(directory, error);
    if (error) return false;
    std::filesystem::permissions(directory, kDirectoryPermissions, error);
  }
  const fs::Fd file(
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, kFileMode));
  return file.valid() && ::fchmod(file.get(), kFileMode) == 0;
}

}  // namespace

PromptHistory::PromptHistory() {
  // NOLINTNEXTLINE(concurrency-mt-unsafe): the client reads its environment on one thread
  path_ = client::history_path(std::getenv("XDG_STATE_HOME"), std::getenv("HOME"));
  stifle_history(kHistoryLines);
  if (path_.empty() || !prepare(path_)) {
    path_.clear();
    return;
  }
  static_cast<void>(read_history(path_.c_str()));
}

PromptHistory::~PromptHistory() {
  if (!path_.empty()) static_cast<void>(history_truncate_file(path_.c_str(), kHistoryLines));
}

void PromptHistory::add(const std::string& line) {
  add_history(line.c_str());
  if (!path_.empty()) static_cast<void>(append_history(1, path_.c_str()));
}

}  // namespace ferry::cli
