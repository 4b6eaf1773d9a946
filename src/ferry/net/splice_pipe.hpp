#pragma once

// Moving bytes from a socket into a file descriptor with splice(2) through a pipe: the
// data never passes through user space. Never blocks on the socket: the caller waits for
// it to be readable (poll in the client, asio in the server) and calls move() again.

#include <cstddef>
#include <optional>

#include "ferry/fs/fd.hpp"

namespace ferry::net {

class SplicePipe {
 public:
  // A pipe of up to `capacity` bytes (the kernel may give less); nullopt when none can be made.
  static std::optional<SplicePipe> open(std::size_t capacity);

  struct Step {
    enum class State {
      moved,               // `bytes` went from the socket into `out`
      would_block,         // nothing to read on the socket now
      end_of_stream,       // the peer closed
      socket_error,        // `error` is the socket's errno
      output_error,        // `error` is the errno of writing `out`
      output_unsupported,  // `out` does not take splice; all `bytes` wait in the pipe (read_end)
    };
    State state = State::moved;
    std::size_t bytes = 0;
    int error = 0;
  };

  // One splice of at most `max` bytes from `socket` into the pipe, then all of them on
  // into `out` (at its current offset): fill() then drain().
  Step move(int socket, int out, std::size_t max);

  // The two halves of move(), for a caller that drains on another thread (a file that may
  // block on its disk). fill: one splice of at most `max` bytes from `socket` into the
  // empty pipe; `moved` with the bytes now in it. drain: those `in_pipe` bytes on into
  // `out`; blocks on `out`.
  Step fill(int socket, std::size_t max);
  Step drain(int out, std::size_t in_pipe);

  std::size_t capacity() const { return capacity_; }
  int read_end() const { return read_end_.get(); }

 private:
  SplicePipe(fs::Fd read_end, fs::Fd write_end, std::size_t capacity)
      : read_end_(std::move(read_end)), write_end_(std::move(write_end)), capacity_(capacity) {}

  fs::Fd read_end_;
  fs::Fd write_end_;
  std::size_t capacity_;
};

}  // namespace ferry::net
