#pragma once

// A failed file operation as the typed error of a request's answer: its kind from the
// errno (and the detail a module of fs/ set), its text `<what happened>: <path>`.

#include <string_view>

#include "ferry/fs/sys_result.hpp"
#include "ferry/protocol/errors.hpp"

namespace ferry::fs {

protocol::ErrorKind error_kind(const SysError& error);

// describe(error) + ": " + path, except for the served directory itself, which names no
// path (`not allowed on the served directory`).
protocol::Error request_error(const SysError& error, std::string_view path);

}  // namespace ferry::fs
