#pragma once

#include "control_connection.hpp"
#include "ferry/net/socket.hpp"

namespace ferry::cli {

// What every command needs: the control connection and the user's options.
struct ClientContext {
  ControlConnection& control;
  net::Timeout timeout;
  bool quiet = false;
  bool progress = false;  // draw a progress line: stderr is a terminal and not quiet
};

}  // namespace ferry::cli
