#pragma once

// Typed errors: what went wrong (a kind another front end can map to its own codes) and the
// text of the answer. Rendered to `ERROR <text>` only at the edge (docs/PROTOCOL.md).

#include <string>
#include <string_view>

namespace ferry::protocol {

enum class ErrorKind {
  not_found,        // no such file or directory
  no_directory,     // the parent directory of a name to create is missing
  exists,           // the name is taken
  not_empty,        // a directory to remove or replace holds entries
  is_directory,     // a directory where something else was needed
  not_directory,    // something else where a directory was needed
  not_regular,      // GET of a FIFO, a device, ...
  permission,       // the file system refused (EACCES, EPERM)
  read_only,        // the server runs --read-only
  reserved_name,    // a `.ferry-tmp-` name
  served_root,      // removing or renaming the served directory itself
  root_removed,     // the served directory was removed while the server runs
  invalid,          // a request the file system calls invalid (a directory into itself, ...)
  cross_device,     // a rename across file systems
  no_space,         // ENOSPC, EDQUOT
  busy,             // the server's own capacity (ports, listings, transfers in all)
  limit,            // a per-session or per-address limit
  refused,          // a request refused by policy (a port outside the range, ...)
  login,            // a login required first, failed, or not possible now (a server with users)
  malformed,        // a request that breaks the grammar: bad headers, bad escape, bad port
  unknown_command,  // a verb this connection does not know
  io,               // anything else the system reported
};

struct Error {
  ErrorKind kind = ErrorKind::io;
  std::string text;  // what follows `ERROR `, unescaped
};

// `<reason>: <subject>`, the shape of every error about a path.
Error error_about(ErrorKind kind, std::string_view reason, std::string_view subject);

// `ERROR <text>\n\n`, the text escaped (format_error).
std::string render(const Error& error);

// The kind's name as the log and tests spell it: "not_found", "exists", ...
std::string_view kind_name(ErrorKind kind);

}  // namespace ferry::protocol
