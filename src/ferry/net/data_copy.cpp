#include "ferry/net/data_copy.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include "ferry/fs/fd.hpp"
#include "ferry/net/error.hpp"
#include "ferry/net/interrupt.hpp"
#include "ferry/util/errno_text.hpp"

namespace ferry::net {
namespace {

constexpr std::size_t kBufferSize = 1 << 20;
constexpr std::size_t kSendChunk = 8 << 20;  // progress is reported between chunks

// One buffer for the life of the process: a transfer never allocates per chunk.
char* copy_buffer() {
  static const std::unique_ptr<char[]> buffer(new char[kBufferSize]);
  return buffer.get();
}

[[noreturn]] void throw_local(std::string_view what, std::string_view name, int code) {
  throw std::runtime_error(fmt::format("{} {}: {}", what, name, util::errno_text(code)));
}

void write_out(int out, const char* data, std::size_t size, std::string_view out_name) {
  while (size > 0) {
    const ssize_t n = ::write(out, data, size);
    if (n < 0) {
      if (errno == EINTR) {
        throw_if_interrupted();
        continue;
      }
      throw_local("cannot write", out_name, errno);
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
}

[[noreturn]] void throw_short(std::uint64_t done, std::uint64_t count) {
  throw NetError(ErrorKind::protocol,
                 fmt::format("connection closed after {} of {} bytes", done, count));
}

// Copies with the buffer; returns the bytes done.
std::uint64_t receive_buffered(int socket, std::uint64_t done, std::uint64_t count, int out,
                               std::string_view out_name, Timeout timeout, ProgressSink& progress) {
  char* buffer = copy_buffer();
  while (done < count) {
    const std::size_t want =
        static_cast<std::size_t>(std::min<std::uint64_t>(count - done, kBufferSize));
    const std::size_t n = read_some(socket, buffer, want, timeout);
    if (n == 0) throw_short(done, count);
    write_out(out, buffer, n, out_name);
    done += n;
    progress.advance(done);
  }
  return done;
}

// Copies with splice(2) through a pipe, no copy through user space. Returns the bytes done;
// less than count when `out` cannot take splice (a terminal, O_APPEND): the caller goes on
// with the buffer.
std::uint64_t receive_spliced(int socket, std::uint64_t done, std::uint64_t count, int out,
                              std::string_view out_name, Timeout timeout, ProgressSink& progress) {
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) != 0) return done;
  fs::Fd pipe_out(ends[0]);
  fs::Fd pipe_in(ends[1]);
  const int capacity = ::fcntl(pipe_in.get(), F_SETPIPE_SZ, static_cast<int>(kBufferSize));
  const std::size_t chunk = capacity > 0 ? static_cast<std::size_t>(capacity) : 65536;
  while (done < count) {
    throw_if_interrupted();
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(count - done, chunk));
    const ssize_t n =
        ::splice(socket, nullptr, pipe_in.get(), nullptr, want, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n == 0) throw_short(done, count);
    if (n < 0) {
      if (errno == EAGAIN) {
        wait_for(socket, POLLIN, timeout);
        continue;
      }
      if (errno == EINTR) continue;
      if (errno == EINVAL) return done;
      throw NetError(ErrorKind::system, util::errno_text(errno), errno);
    }
    std::size_t in_pipe = static_cast<std::size_t>(n);
    while (in_pipe > 0) {
      const ssize_t m = ::splice(pipe_out.get(), nullptr, out, nullptr, in_pipe, SPLICE_F_MOVE);
      if (m > 0) {
        in_pipe -= static_cast<std::size_t>(m);
        continue;
      }
      if (m < 0 && errno == EINTR) {
        throw_if_interrupted();
        continue;
      }
      if (m < 0 && errno != EINVAL) throw_local("cannot write", out_name, errno);
      // `out` does not take splice: empty the pipe through the buffer, then stop.
      char* buffer = copy_buffer();
      while (in_pipe > 0) {
        const ssize_t r = ::read(pipe_out.get(), buffer, std::min(in_pipe, kBufferSize));
        if (r <= 0) throw std::runtime_error("internal pipe failed");
        write_out(out, buffer, static_cast<std::size_t>(r), out_name);
        in_pipe -= static_cast<std::size_t>(r);
      }
      done += static_cast<std::uint64_t>(n);
      progress.advance(done);
      return done;
    }
    done += static_cast<std::uint64_t>(n);
    progress.advance(done);
  }
  return done;
}

}  // namespace

void receive_exact(int socket, std::string_view already_received, std::uint64_t count, int out,
                   std::string_view out_name, Timeout timeout, ProgressSink& progress) {
  if (already_received.size() > count) {
    throw NetError(ErrorKind::protocol,
                   fmt::format("the server sent more than the announced {} bytes", count));
  }
  write_out(out, already_received.data(), already_received.size(), out_name);
  std::uint64_t done = already_received.size();
  progress.advance(done);
  done = receive_spliced(socket, done, count, out, out_name, timeout, progress);
  receive_buffered(socket, done, count, out, out_name, timeout, progress);
  char extra;
  if (read_some(socket, &extra, 1, timeout) != 0) {
    throw NetError(ErrorKind::protocol,
                   fmt::format("the server sent more than the announced {} bytes", count));
  }
}

SendEnd send_file(int socket, int file, std::uint64_t count, Timeout timeout,
                  ProgressSink& progress, std::uint64_t& sent) {
  off_t offset = 0;
  sent = 0;
  while (sent < count) {
    throw_if_interrupted();
    const std::size_t want =
        static_cast<std::size_t>(std::min<std::uint64_t>(count - sent, kSendChunk));
    const ssize_t n = ::sendfile(socket, file, &offset, want);
    if (n > 0) {
      sent += static_cast<std::uint64_t>(n);
      progress.advance(sent);
      continue;
    }
    if (n == 0) throw std::runtime_error("the local file shrank while it was being sent");
    if (errno == EAGAIN) {
      if ((wait_for(socket, POLLOUT | POLLIN, timeout) & POLLIN) != 0) {
        return SendEnd::peer_answered;
      }
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EPIPE || errno == ECONNRESET) return SendEnd::peer_closed;
    throw NetError(ErrorKind::system, util::errno_text(errno), errno);
  }
  return SendEnd::complete;
}

}  // namespace ferry::net
