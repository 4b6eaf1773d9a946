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

 private:
  void reconnect();

  std::string host_;
  std::string port_;
  net::Timeout timeout_;
  fs::Fd socket_;
  net::Endpoint peer_;
  std::string buffer_;  // bytes received after the last answer
};

}  // namespace ferry::cli
