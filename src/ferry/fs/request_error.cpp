#include "ferry/fs/request_error.hpp"

#include <cerrno>

#include "ferry/fs/confine.hpp"
#include "ferry/fs/manage.hpp"

namespace ferry::fs {

using protocol::ErrorKind;

ErrorKind error_kind(const SysError& error) {
  if (error.detail == kServedDirectory) return ErrorKind::served_root;
  if (error.detail == kReservedForUploads) return ErrorKind::reserved_name;
  if (error.detail == kNoSuchDirectory) return ErrorKind::no_directory;
  if (error.detail == kCrossDevice) return ErrorKind::cross_device;
  switch (error.code) {
    case ENOENT:
      return ErrorKind::not_found;
    case EEXIST:
      return ErrorKind::exists;
    case ENOTEMPTY:
      return ErrorKind::not_empty;
    case EISDIR:
      return ErrorKind::is_directory;
    case ENOTDIR:
      return ErrorKind::not_directory;
    case EACCES:
    case EPERM:
    case EROFS:
      return ErrorKind::permission;
    case ENOSPC:
    case EDQUOT:
      return ErrorKind::no_space;
    case EINVAL:
    case ELOOP:
    case ENAMETOOLONG:
    case EXDEV:
      return ErrorKind::invalid;
    case EMFILE:
    case ENFILE:
    case EBUSY:
      return ErrorKind::busy;
    default:
      return ErrorKind::io;
  }
}

protocol::Error request_error(const SysError& error, std::string_view path) {
  const ErrorKind kind = error_kind(error);
  if (kind == ErrorKind::served_root) return protocol::Error{kind, describe(error)};
  return protocol::error_about(kind, describe(error), path);
}

}  // namespace ferry::fs
