#pragma once

#include <stdexcept>
#include <string>

namespace ferry::net {

enum class ErrorKind {
  system,     // a system call failed; code() holds errno
  timed_out,  // no progress within the timeout
  closed,     // the peer closed the connection before sending anything more
  cancelled,  // the user interrupted the wait (Ctrl-C)
  protocol,   // the peer sent something the protocol does not allow
};

// Every failure of the blocking network helpers. The client catches it at the edge of a
// command, prints what() and counts the command as failed.
class NetError : public std::runtime_error {
 public:
  NetError(ErrorKind kind, const std::string& what, int code = 0)
      : std::runtime_error(what), kind_(kind), code_(code) {}
  ErrorKind kind() const { return kind_; }
  int code() const { return code_; }

 private:
  ErrorKind kind_;
  int code_;
};

}  // namespace ferry::net
