#include "ferry/net/data_copy.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include "ferry/net/error.hpp"
#include "ferry/net/interrupt.hpp"
#include "ferry/net/mover.hpp"
#include "ferry/net/splice_pipe.hpp"
#include "ferry/util/errno_text.hpp"

namespace ferry::net {
namespace {

constexpr std::size_t kPipeSize = std::size_t{1} << 20;
constexpr std::size_t kSendChunk = std::size_t{8} << 20;  // progress is reported between chunks

[[noreturn]] void throw_local(std::string_view what, std::string_view name, int code) {
  throw std::runtime_error(fmt::format("{} {}: {}", what, name, util::errno_text(code)));
}

void write_out(int out, std::string_view data, off_t* offset, std::string_view out_name) {
  if (const int error = write_all_to(out, data, offset); error != 0) {
    throw_local("cannot write", out_name, error);
  }
}

// The client's one pipe, for every GET of its life (empty between two of them); null when
// none can be made, and made again after a failure that may have left bytes in it.
std::optional<SplicePipe>& process_pipe() {
  static std::optional<SplicePipe> pipe;
  return pipe;
}

SplicePipe* borrow_pipe() {
  auto& pipe = process_pipe();
  if (!pipe) pipe = SplicePipe::open(kPipeSize);
  return pipe ? &*pipe : nullptr;
}

// The socket's SO_RCVLOWAT: poll() reports it readable only once this many bytes wait (or at
// its end). On loopback every wake-up of the reader is an interrupt to the other core, paid
// by the sender; one per MiB instead of one per few segments is what made a 1 GiB GET
// faster than iperf3 (docs/DESIGN.md has the figures). Back to 1 byte when the copy ends.
class LowWater {
 public:
  explicit LowWater(int socket) : socket_(socket) {}
  LowWater(const LowWater&) = delete;
  LowWater& operator=(const LowWater&) = delete;
  ~LowWater() { set(1); }

  // Never more than what is still to come, or the last bytes would wait for the close: the
  // mark while a whole MiB is to come, 1 byte for the tail. At most two system calls per
  // transfer, none for a file under 1 MiB.
  void expect(std::uint64_t remaining) { set(remaining >= kPipeSize ? int{kPipeSize} : 1); }

 private:
  void set(int bytes) {
    if (bytes == bytes_) return;
    bytes_ = bytes;
    ::setsockopt(socket_, SOL_SOCKET, SO_RCVLOWAT, &bytes_, sizeof bytes_);
  }

  int socket_;
  int bytes_ = 1;
};

// Waits for the low-water mark, but for no more than kPatience at a time: the caller then
// takes what has arrived, so a slow sender's bytes are never held back. Only a silence of
// `timeout` since `last_progress` is a timeout.
void wait_for_data(int socket, Timeout timeout,
                   std::chrono::steady_clock::time_point last_progress) {
  constexpr Timeout kPatience{100};
  const auto idle = std::chrono::steady_clock::now() - last_progress;
  const auto left = std::chrono::duration_cast<Timeout>(timeout - idle);
  if (left.count() <= 0) throw NetError(ErrorKind::timed_out, "timed out");
  poll_for(socket, POLLIN, std::min(left, kPatience));
}

[[noreturn]] void throw_short(std::uint64_t done, std::uint64_t count) {
  throw NetError(ErrorKind::protocol,
                 fmt::format("connection closed after {} of {} bytes", done, count));
}

// Copies with the buffer; returns the bytes done.
std::uint64_t receive_buffered(int socket, std::uint64_t done, std::uint64_t count, int out,
                               off_t* out_offset, std::string_view out_name, Timeout timeout,
                               ProgressSink& progress) {
  char* buffer = thread_copy_buffer();
  while (done < count) {
    const std::size_t want =
        static_cast<std::size_t>(std::min<std::uint64_t>(count - done, kCopyBufferSize));
    const std::size_t n = read_some(socket, buffer, want, timeout);
    if (n == 0) throw_short(done, count);
    write_out(out, {buffer, n}, out_offset, out_name);
    done += n;
    progress.advance(done);
  }
  return done;
}

// Copies with splice(2) through the process's pipe, no copy through user space. Returns the
// bytes done; less than count when the socket or `out` cannot take splice (a terminal,
// O_APPEND): the caller goes on with the buffer.
std::uint64_t receive_spliced(int socket, std::uint64_t done, std::uint64_t count, int out,
                              off_t* out_offset, std::string_view out_name, Timeout timeout,
                              ProgressSink& progress) {
  using State = SplicePipe::Step::State;
  SplicePipe* pipe = borrow_pipe();
  if (pipe == nullptr) return done;
  LowWater low_water(socket);
  auto last_progress = std::chrono::steady_clock::now();
  while (done < count) {
    throw_if_interrupted();
    low_water.expect(count - done);
    auto step = pipe->fill(
        socket, static_cast<std::size_t>(std::min<std::uint64_t>(count - done, kPipeSize)));
    if (step.state == State::moved) step = pipe->drain(out, step.bytes, out_offset);
    switch (step.state) {
      case State::moved:
        done += step.bytes;
        progress.advance(done);
        last_progress = std::chrono::steady_clock::now();
        if (!step.spliced) return done;
        continue;
      case State::would_block:
        wait_for_data(socket, timeout, last_progress);
        continue;
      case State::end_of_stream:
        throw_short(done, count);
      case State::socket_error:
        if (step.error == EINVAL) return done;  // a socket that cannot splice
        throw NetError(ErrorKind::system, util::errno_text(step.error), step.error);
      case State::output_error:
        process_pipe().reset();  // it may still hold bytes
        throw_local("cannot write", out_name, step.error);
    }
  }
  return done;
}

}  // namespace

void receive_exact(int socket, std::string_view already_received, std::uint64_t count, int out,
                   std::string_view out_name, Timeout timeout, ProgressSink& progress,
                   off_t* out_offset) {
  if (already_received.size() > count) {
    throw NetError(ErrorKind::protocol,
                   fmt::format("the server sent more than the announced {} bytes", count));
  }
  write_out(out, already_received, out_offset, out_name);
  std::uint64_t done = already_received.size();
  progress.advance(done);
  done = receive_spliced(socket, done, count, out, out_offset, out_name, timeout, progress);
  receive_buffered(socket, done, count, out, out_offset, out_name, timeout, progress);
  char extra;
  if (read_some(socket, &extra, 1, timeout) != 0) {
    throw NetError(ErrorKind::protocol,
                   fmt::format("the server sent more than the announced {} bytes", count));
  }
}

SendEnd send_file(int socket, int file, std::uint64_t count, Timeout timeout,
                  ProgressSink& progress, std::uint64_t& sent, std::uint64_t from) {
  using State = SendStep::State;
  auto offset = static_cast<off_t>(from);
  sent = 0;
  while (sent < count) {
    throw_if_interrupted();
    const auto step =
        send_file_step(socket, file, offset,
                       static_cast<std::size_t>(std::min<std::uint64_t>(count - sent, kSendChunk)));
    switch (step.state) {
      case State::moved:
        sent += step.bytes;
        progress.advance(sent);
        continue;
      case State::would_block:
        if ((wait_for(socket, POLLOUT | POLLIN, timeout) & POLLIN) != 0) {
          return SendEnd::peer_answered;
        }
        continue;
      case State::file_ended:
        throw std::runtime_error("the local file shrank while it was being sent");
      case State::peer_closed:
        return SendEnd::peer_closed;
      case State::failed:
        throw NetError(ErrorKind::system, util::errno_text(step.error), step.error);
    }
  }
  return SendEnd::complete;
}

}  // namespace ferry::net
