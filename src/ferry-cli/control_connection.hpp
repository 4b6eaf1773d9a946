#pragma once

#include <cstdint>
#include <string>

#include "ferry/fs/fd.hpp"
#include "ferry/net/socket.hpp"

namespace ferry::cli {

// The control connection: asks the server for transfer ports and ends the session.
// It reconnects once, saying so on stderr, when the server has closed it (idle timeout).
//
// When more commands follow (a script), a transfer asks for the next command's port with
// prefetch_next() once at most kPrefetchDistance bytes are left to move, so that the answer
// is waiting when the next command starts: one round trip less per command. Not earlier,
// because the server closes a port nobody connects to after its --transfer-timeout.
class ControlConnection {
 public:
  static constexpr std::uint64_t kPrefetchDistance = std::uint64_t{1} << 20;

  // Whether open_transfer() itself asks for the next port, between the OPENED answer and
  // the connect: for a transfer that has at most kPrefetchDistance bytes to move anyway.
  enum class Prefetch { later, before_connecting };

  ControlConnection(std::string host, std::string port, net::Timeout timeout);

  // Connects at start; throws NetError with the reason.
  void connect();

  // `OPEN 0` (or the answer to the one prefetch_next() sent), then connects to the opened
  // port at the address of the control connection. A prefetched port that refuses the
  // connection (the server has closed it meanwhile), or a prefetched OPEN answered with
  // ERROR, is replaced by a fresh `OPEN 0`, silently, once.
  // Throws ServerError when the server refuses, NetError on network failures.
  fs::Fd open_transfer(Prefetch prefetch = Prefetch::later);

  // Sends `OPEN 0` for the next command, when prefetching is on and no such OPEN is already
  // waiting for its answer. Never throws: on a failure the next command reconnects.
  void prefetch_next();

  // `QUIT`, a short wait for `BYE` (after the answers to prefetched OPENs), close. Never
  // throws.
  void quit();

  void set_prefetch(bool more_commands_follow) { prefetch_ = more_commands_follow; }

 private:
  struct OpenedPort {
    std::uint16_t port = 0;
    bool prefetched = false;  // the answer to an OPEN that prefetch_next() sent
  };

  OpenedPort next_port();
  std::string read_open_answer(bool& prefetched);
  fs::Fd connect_transfer(const OpenedPort& opened);
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
