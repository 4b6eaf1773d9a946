#pragma once

// The client's transfer loops: file data between a socket and a file descriptor with the
// movers of mover.hpp (splice(2) through the process's one pipe, or a buffer, for
// receiving; sendfile(2) for sending). Every wait is bounded by the timeout and woken by an
// interrupt (see socket.hpp).

#include <sys/types.h>

#include <cstdint>
#include <string_view>

#include "ferry/net/socket.hpp"

namespace ferry::net {

// Told the running total after each chunk (progress display).
class ProgressSink {
 public:
  virtual ~ProgressSink() = default;
  virtual void advance(std::uint64_t done) = 0;
};

// Writes `already_received` (data that arrived with the answer head), then exactly
// `count - already_received.size()` more bytes from `socket` to `out`, then checks that the
// peer closes. Throws NetError: protocol for fewer bytes then close ("connection closed
// after X of N bytes") or for more bytes than announced; LocalError-like failures of `out`
// are thrown as std::runtime_error with `out_name` in the message. Written at `out_offset`
// (advanced) when given, else at `out`'s file position.
void receive_exact(int socket, std::string_view already_received, std::uint64_t count, int out,
                   std::string_view out_name, Timeout timeout, ProgressSink& progress,
                   off_t* out_offset = nullptr);

// How a send_file ended.
enum class SendEnd {
  complete,       // all bytes sent
  peer_answered,  // the peer sent something before we were done (an early ERROR)
  peer_closed,    // EPIPE / ECONNRESET: the peer closed, maybe after answering
};

// Sends `count` bytes of `file` from offset `from` with sendfile(2). Stops early when the
// peer answers or closes. A local read failure or a file that shrank throws
// std::runtime_error.
SendEnd send_file(int socket, int file, std::uint64_t count, Timeout timeout,
                  ProgressSink& progress, std::uint64_t& sent, std::uint64_t from = 0);

}  // namespace ferry::net
