#pragma once

#include <string>

#include "ferry/fs/fd.hpp"
#include "ferry/net/socket.hpp"

namespace ferry::cli {

// The control connection: asks the server for transfer ports and ends the session.
// It reconnects once, saying so on stderr, when the server has closed it (idle timeout).
class ControlConnection {
 public:
  ControlConnection(std::string host, std::string port, net::Timeout timeout);

  // Connects at start; throws NetError with the reason.
  void connect();

  // `OPEN 0`, then connects to the opened port at the address of the control connection.
  // Throws ServerError when the server refuses, NetError on network failures.
  fs::Fd open_transfer();

  // `QUIT`, a short wait for `BYE`, close. Never throws.
  void quit();

  // When more commands follow (a script), each open_transfer() also asks for the next
  // command's port before it connects to its own, so that the server opens it while this
  // transfer runs: one round trip less per command. The answers come in order.
  void set_prefetch(bool more_commands_follow) { prefetch_ = more_commands_follow; }

 private:
  void reconnect();
  void drop();  // the connection's state is unknown: close it, forget what was asked

  std::string host_;
  std::string port_;
  net::Timeout timeout_;
  fs::Fd socket_;
  net::Endpoint peer_;
  std::string buffer_;  // bytes received after the last answer
  bool prefetch_ = false;
  int opens_in_flight_ = 0;  // OPENs sent ahead whose answers are not read yet
};

}  // namespace ferry::cli
