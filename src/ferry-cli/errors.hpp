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

}  // namespace ferry::cli
