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

// The server's TLS key is not trusted (unknown in a script, changed, not the expected one):
// what() says why and how to go on. Ends the session before anything is sent.
class TrustError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The login failed, or could not be tried (no password at hand, Ctrl-C at its prompt):
// ends the session, with `status()` as the exit status (2, as when the server cannot be
// reached; 128 + the signal that ended the password prompt). what() is the message for
// stderr, empty when there is nothing to say.
class LoginError : public std::runtime_error {
 public:
  LoginError(const std::string& message, int status)
      : std::runtime_error(message), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

// A command line the command cannot take: an unknown option, too many operands.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace ferry::cli
