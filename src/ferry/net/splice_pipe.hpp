#pragma once

// Moving bytes from a socket into a file descriptor with splice(2) through a pipe: the
// data never passes through user space. Never blocks on the socket: the caller waits for
// it to be readable (poll in the client, asio in the server) and calls fill() again.
//
// A pipe is kept for many transfers, one after the other (the client's one, the server's
// few per worker): between two of them it is always empty.

#include <sys/types.h>

#include <cstddef>
#include <optional>

#include "ferry/fs/fd.hpp"

namespace ferry::net {

class SplicePipe {
 public:
  // A pipe of up to `capacity` bytes (the kernel may give less: an unprivileged user past
  // fs.pipe-user-pages-soft gets 8 KiB); nullopt when none can be made.
  static std::optional<SplicePipe> open(std::size_t capacity);

  struct Step {
    enum class State {
      moved,          // `bytes` went from the socket into the pipe (fill) or the pipe into `out`
      would_block,    // nothing to read on the socket now
      end_of_stream,  // the peer closed
      socket_error,   // `error` is the socket's errno (EINVAL: a socket that cannot splice)
      output_error,   // `error` is the errno of writing `out`; the pipe may still hold data
    };
    State state = State::moved;
    std::size_t bytes = 0;
    int error = 0;
    // drain: false when `out` does not take splice (a terminal, O_APPEND) and the bytes went
    // through a buffer instead; the caller does better without the pipe from then on.
    bool spliced = true;
  };

  // One splice of at most `max` bytes from `socket` into the (empty) pipe; `moved` with the
  // bytes now in it.
  Step fill(int socket, std::size_t max);
  // Those `in_pipe` bytes on into `out`, at `offset` (advanced) or at its file position when
  // null. Blocks on `out`; a caller whose `out` may wait for a disk runs it on another thread.
  Step drain(int out, std::size_t in_pipe, off_t* offset = nullptr);

  std::size_t capacity() const { return capacity_; }

 private:
  SplicePipe(fs::Fd read_end, fs::Fd write_end, std::size_t capacity)
      : read_end_(std::move(read_end)), write_end_(std::move(write_end)), capacity_(capacity) {}
  Step drain_through_buffer(int out, std::size_t in_pipe, off_t* offset);

  fs::Fd read_end_;
  fs::Fd write_end_;
  std::size_t capacity_;
};

}  // namespace ferry::net
