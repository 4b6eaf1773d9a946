#include "ferry/fs/sys_result.hpp"
#include "ferry/util/errno_text.hpp"

#include <cerrno>
#include <cstring>

namespace ferry::fs {

std::string describe(const SysError& error) {
  if (!error.detail.empty()) return std::string(error.detail);
  switch (error.code) {
    case ENOENT:
      return "no such file or directory";
    case EISDIR:
      return "is a directory";
    case ENOTDIR:
      return "not a directory";
    case EACCES:
    case EPERM:
      return "permission denied";
    case ELOOP:
      return "too many levels of symbolic links";
    case ENAMETOOLONG:
      return "name too long";
    case ENOSPC:
      return "no space left on device";
    case EDQUOT:
      return "disk quota exceeded";
    case EROFS:
      return "read-only file system";
    case EFBIG:
      return "file too large";
    case EINVAL:
      return "invalid path";
    case EXDEV:
      return "path leads outside the served root";
    case EMFILE:
    case ENFILE:
      return "too many open files on the server";
    default:
      break;
  }
  std::string text = util::errno_text(error.code);
  if (!text.empty() && text[0] >= 'A' && text[0] <= 'Z') text[0] = static_cast<char>(text[0] + 32);
  return text;
}

}  // namespace ferry::fs
