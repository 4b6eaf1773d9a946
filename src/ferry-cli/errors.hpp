#pragma once

#include <stdexcept>
#include <string>

namespace ferry::cli {

// The server answered `ERROR <message>`; what() is the message as the server sent it.
class ServerError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A problem with a local file: missing, unreadable, not writable, disk full, ...
class LocalError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A version-2 command against a server that speaks version 1.
class UnsupportedError : public std::runtime_error {
 public:
  explicit UnsupportedError(const std::string& command)
      : std::runtime_error("the server does not support " + command +
                           " (it speaks protocol version 1)") {}
};

// The peer is not a ferry server: what() says what it is (`127.0.0.1 port 21 is an FTP
// server ("220 ProFTPD ready"), not a ferry server`). Ends the session.
class ForeignServerError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A command line the command cannot take: an unknown option, too many operands.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace ferry::cli
