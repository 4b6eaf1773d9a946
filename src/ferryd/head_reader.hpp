#pragma once

// Reading one message head from a socket, within the protocol's size limit and a deadline.

#include <asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <string>

#include "ferry/tls/session.hpp"

#include "ferry/protocol/message.hpp"
#include "watchdog.hpp"

namespace ferryd {

struct HeadRead {
  enum class Outcome { message, malformed, closed };
  Outcome outcome = Outcome::closed;
  ferry::protocol::Message message;  // when outcome is message
  std::string error;                 // when malformed: the reason, for the ERROR answer
  bool started = false;              // some bytes of a head had arrived
};

// Reads what has arrived, at most `size` bytes: done with the count, or closed/failed.
using ReadSome = std::function<asio::awaitable<ferry::tls::Step>(char* data, std::size_t size)>;

// Reads with `read_some` until `buffer` holds a complete head, parses it and removes it from
// `buffer`; bytes after the head stay in `buffer`. Once the first byte of a head is there, the
// whole head must arrive within `head_timeout`: `watchdog` (which closes the socket) is moved to
// that deadline if it is earlier than the one it has.
asio::awaitable<HeadRead> read_head(const ReadSome& read_some, std::string& buffer,
                                    std::size_t read_size, Watchdog& watchdog,
                                    std::chrono::seconds head_timeout);

}  // namespace ferryd
