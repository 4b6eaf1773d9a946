#include "private_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include "ferry/fs/fd.hpp"
#include "ferry/net/interrupt.hpp"
#include "ferry/util/errno_text.hpp"

namespace ferry::cli {
namespace {

constexpr mode_t kGroupOrOthers = S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH;

PrivateFile failure(std::string error) {
  PrivateFile file;
  file.error = std::move(error);
  return file;
}

}  // namespace

PrivateFile read_private_file(const std::string& path, std::size_t limit, bool first_line) {
  const fs::Fd file(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!file.valid()) {
    if (errno == ENOENT) {
      PrivateFile none;
      none.missing = true;
      none.error = fmt::format("{}: no such file", path);
      return none;
    }
    return failure(fmt::format("cannot read {}: {}", path, util::errno_text(errno)));
  }
  struct stat status {};
  if (::fstat(file.get(), &status) != 0) {
    return failure(fmt::format("cannot read {}: {}", path, util::errno_text(errno)));
  }
  if ((status.st_mode & kGroupOrOthers) != 0) {
    return failure(fmt::format(
        "{} may be read or written by others (mode {:04o}): not using it (chmod 600 {})", path,
        status.st_mode & 07777, path));
  }
  std::string text;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(file.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR && net::pending_signal() == 0) continue;
    if (n < 0) return failure(fmt::format("cannot read {}: {}", path, util::errno_text(errno)));
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
    if (first_line) {
      if (const std::size_t end = text.find('\n'); end != std::string::npos) {
        text.resize(end + 1);
        break;
      }
    }
    if (text.size() > limit) return failure(fmt::format("{} is larger than {} bytes", path, limit));
  }
  PrivateFile result;
  result.text = std::move(text);
  return result;
}

}  // namespace ferry::cli
