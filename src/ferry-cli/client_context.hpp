#pragma once

#include <string>

#include "control_connection.hpp"
#include "ferry/net/socket.hpp"

namespace ferry::cli {

// What every command needs: the control connection, the user's options and the remote
// working directory (kept here: the server is stateless).
struct ClientContext {
  ControlConnection& control;
  net::Timeout timeout;
  bool quiet = false;
  bool progress = false;         // draw a progress line: stderr is a terminal and not quiet
  bool interactive = false;      // at the prompt: standard input is the user's terminal
  std::string remote_directory;  // relative to the served root; "" is the root
};

}  // namespace ferry::cli
