#include "ferry/net/splice_pipe.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string_view>

#include "ferry/net/mover.hpp"

namespace ferry::net {

std::optional<SplicePipe> SplicePipe::open(std::size_t capacity) {
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) != 0) return std::nullopt;
  fs::Fd read_end(ends[0]);
  fs::Fd write_end(ends[1]);
  const int granted = ::fcntl(write_end.get(), F_SETPIPE_SZ, static_cast<int>(capacity));
  const int size = granted > 0 ? granted : ::fcntl(write_end.get(), F_GETPIPE_SZ);
  if (size <= 0) return std::nullopt;
  return SplicePipe(std::move(read_end), std::move(write_end), static_cast<std::size_t>(size));
}

SplicePipe::Step SplicePipe::fill(int socket, std::size_t max) {
  using State = Step::State;
  ssize_t n = 0;
  do {
    n = ::splice(socket, nullptr, write_end_.get(), nullptr, std::min(max, capacity_),
                 SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
  } while (n < 0 && errno == EINTR);
  if (n == 0) return {State::end_of_stream, 0, 0};
  if (n < 0) {
    if (errno == EAGAIN) return {State::would_block, 0, 0};
    return {State::socket_error, 0, errno};
  }
  // The pipe was empty before, so everything in it now is these n bytes.
  return {State::moved, static_cast<std::size_t>(n), 0};
}

SplicePipe::Step SplicePipe::drain(int out, std::size_t in_pipe, off_t* offset) {
  using State = Step::State;
  Step step;
  while (in_pipe > 0) {
    const ssize_t m = ::splice(read_end_.get(), nullptr, out, offset, in_pipe, SPLICE_F_MOVE);
    if (m > 0) {
      in_pipe -= static_cast<std::size_t>(m);
      step.bytes += static_cast<std::size_t>(m);
      continue;
    }
    if (m < 0 && errno == EINTR) continue;
    // `out` refuses splice from the start (EINVAL before any byte): all of them go through
    // a buffer instead.
    if (m < 0 && errno == EINVAL && step.bytes == 0)
      return drain_through_buffer(out, in_pipe, offset);
    return {State::output_error, step.bytes, m < 0 ? errno : EIO};
  }
  return step;
}

SplicePipe::Step SplicePipe::drain_through_buffer(int out, std::size_t in_pipe, off_t* offset) {
  using State = Step::State;
  char* buffer = thread_copy_buffer();
  Step step;
  step.spliced = false;
  while (in_pipe > 0) {
    const ssize_t r = ::read(read_end_.get(), buffer, std::min(in_pipe, kCopyBufferSize));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return {State::output_error, step.bytes, r < 0 ? errno : EIO, false};
    const auto got = static_cast<std::size_t>(r);
    if (const int error = write_all_to(out, {buffer, got}, offset); error != 0) {
      return {State::output_error, step.bytes, error, false};
    }
    in_pipe -= got;
    step.bytes += got;
  }
  return step;
}

}  // namespace ferry::net
