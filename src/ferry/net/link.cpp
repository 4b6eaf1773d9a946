#include "ferry/net/link.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <stdexcept>

#include <fmt/format.h>

#include "ferry/net/error.hpp"
#include "ferry/net/mover.hpp"
#include "ferry/util/errno_text.hpp"

namespace ferry::net {
namespace {

using tls::Want;

// Bytes a TLS upload reads from the file at a time: a few records per system call.
constexpr std::size_t kTlsChunk = std::size_t{64} * 1024;

// A transfer's buffer: not zeroed (it is filled before it is read), no larger than the data.
struct ChunkBuffer {
  explicit ChunkBuffer(std::uint64_t count)
      : size(static_cast<std::size_t>(
            std::max<std::uint64_t>(std::min<std::uint64_t>(count, kTlsChunk), 1))),
        data(std::make_unique_for_overwrite<char[]>(size)) {}
  std::size_t size;
  std::unique_ptr<char[]> data;
};

[[noreturn]] void throw_step(const tls::Step& step) {
  if (step.want == Want::closed) {
    throw NetError(ErrorKind::closed,
                   step.error.empty() ? "connection closed by the server" : step.error);
  }
  throw NetError(ErrorKind::protocol, "TLS: " + step.error);
}

}  // namespace

template <typename Step>
tls::Step Link::until_done(Step step, Timeout timeout) {
  for (;;) {
    tls::Step result = step();
    if (result.want == Want::read) {
      wait_for(fd_.get(), POLLIN, timeout);
    } else if (result.want == Want::write) {
      wait_for(fd_.get(), POLLOUT, timeout);
    } else {
      return result;
    }
  }
}

void complete_handshake(int fd, tls::Session& session, Timeout timeout) {
  for (;;) {
    const tls::Step step = session.handshake();
    if (step.want == Want::done) return;
    if (step.want == Want::read) {
      wait_for(fd, POLLIN, timeout);
    } else if (step.want == Want::write) {
      wait_for(fd, POLLOUT, timeout);
    } else if (step.want == Want::closed) {
      throw NetError(ErrorKind::closed, "connection closed during the TLS handshake");
    } else {
      throw NetError(ErrorKind::protocol, "TLS handshake failed: " + step.error);
    }
  }
}

void Link::reset() {
  if (session_ && fd_.valid()) session_->close_notify();
  session_.reset();
  fd_.reset();
}

void Link::write_all(std::string_view data, Timeout timeout) {
  if (!session_) {
    net::write_all(fd_.get(), data, timeout);
    return;
  }
  while (!data.empty()) {
    const tls::Step step =
        until_done([&] { return session_->write(data.data(), data.size()); }, timeout);
    if (step.want != Want::done) throw_step(step);
    data.remove_prefix(step.bytes);
  }
}

std::size_t Link::read_some(char* data, std::size_t size, Timeout timeout) {
  if (!session_) return net::read_some(fd_.get(), data, size, timeout);
  const tls::Step step = until_done([&] { return session_->read(data, size); }, timeout);
  if (step.want == Want::closed) return 0;
  if (step.want != Want::done) throw_step(step);
  return step.bytes;
}

std::string Link::read_head(std::string& buffer, Timeout timeout) {
  if (!session_) return net::read_head(fd_.get(), buffer, timeout);
  return read_head_from(buffer, [this, timeout](char* data, std::size_t size) {
    return read_some(data, size, timeout);
  });
}

std::optional<std::size_t> Link::read_now(char* data, std::size_t size) {
  if (!session_) {
    for (;;) {
      const ssize_t n = ::recv(fd_.get(), data, size, MSG_DONTWAIT);
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return std::nullopt;
      throw NetError(ErrorKind::system, util::errno_text(errno), errno);
    }
  }
  const tls::Step step = session_->read(data, size);
  if (step.want == Want::done) return step.bytes;
  if (step.want == Want::closed) return 0;
  if (step.want == Want::read || step.want == Want::write) return std::nullopt;
  throw_step(step);
}

std::size_t Link::write_now(std::string_view data) {
  if (!session_) {
    for (;;) {
      const ssize_t n = ::send(fd_.get(), data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
      throw NetError(ErrorKind::system, util::errno_text(errno), errno);
    }
  }
  const tls::Step step = session_->write(data.data(), data.size());
  if (step.want == Want::done) return step.bytes;
  if (step.want == Want::read || step.want == Want::write) return 0;
  if (step.want == Want::closed) {
    throw NetError(ErrorKind::closed, "connection closed by the server");
  }
  throw_step(step);
}

bool Link::peer_has_closed() {
  if (!session_) return net::peer_has_closed(fd_.get());
  char chunk[4096];
  for (;;) {
    const tls::Step step = session_->read(chunk, sizeof chunk);
    if (step.want == Want::done) continue;
    return step.want == Want::closed || step.want == Want::failed;
  }
}

void Link::receive_exact(std::string_view already_received, std::uint64_t count, int out,
                         std::string_view out_name, Timeout timeout, ProgressSink& progress,
                         off_t* out_offset) {
  if (!session_) {
    net::receive_exact(fd_.get(), already_received, count, out, out_name, timeout, progress,
                       out_offset);
    return;
  }
  const auto write_out = [&](std::string_view data) {
    const int error = write_all_to(out, data, out_offset);
    if (error != 0) {
      throw std::runtime_error(
          fmt::format("cannot write {}: {}", out_name, util::errno_text(error)));
    }
  };
  if (already_received.size() > count) {
    throw NetError(ErrorKind::protocol, "the server sent more bytes than announced");
  }
  write_out(already_received);
  std::uint64_t done = already_received.size();
  progress.advance(done);
  const ChunkBuffer buffer(count - done);
  while (done < count) {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(count - done, buffer.size));
    const std::size_t n = read_some(buffer.data.get(), want, timeout);
    if (n == 0) {
      throw NetError(ErrorKind::protocol,
                     fmt::format("connection closed after {} of {} bytes", done, count));
    }
    write_out({buffer.data.get(), n});
    done += n;
    progress.advance(done);
  }
  // The server's close_notify (or its FIN) ends the data; one more byte is a protocol error.
  char extra = 0;
  if (read_some(&extra, 1, timeout) != 0) {
    throw NetError(ErrorKind::protocol, "the server sent more bytes than announced");
  }
}

SendEnd Link::send_file(int file, std::uint64_t count, Timeout timeout, ProgressSink& progress,
                        std::uint64_t& sent, std::uint64_t from) {
  if (!session_) return net::send_file(fd_.get(), file, count, timeout, progress, sent, from);
  const ChunkBuffer buffer(count);
  sent = 0;
  while (sent < count) {
    // An early answer (ERROR): stop sending and let the caller read it.
    pollfd readable{fd_.get(), POLLIN, 0};
    if (session_->pending() > 0 || ::poll(&readable, 1, 0) > 0) return SendEnd::peer_answered;
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(count - sent, buffer.size));
    const ssize_t n = ::pread(file, buffer.data.get(), want, static_cast<off_t>(from + sent));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::runtime_error("cannot read the file: " + util::errno_text(errno));
    if (n == 0) throw std::runtime_error("the file shrank while it was being sent");
    std::string_view chunk(buffer.data.get(), static_cast<std::size_t>(n));
    while (!chunk.empty()) {
      const tls::Step step =
          until_done([&] { return session_->write(chunk.data(), chunk.size()); }, timeout);
      if (step.want == Want::closed) return SendEnd::peer_closed;  // EPIPE, ECONNRESET
      if (step.want != Want::done) throw_step(step);
      chunk.remove_prefix(step.bytes);
      sent += step.bytes;
    }
    progress.advance(sent);
  }
  return SendEnd::complete;
}

}  // namespace ferry::net
