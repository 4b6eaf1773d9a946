#include "ferry/net/socket.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "ferry/net/error.hpp"
#include "ferry/net/interrupt.hpp"
#include "ferry/protocol/limits.hpp"
#include "ferry/protocol/message.hpp"
#include "ferry/util/errno_text.hpp"

namespace ferry::net {
namespace {

std::string reason(int code) {
  std::string text = util::errno_text(code);
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

[[noreturn]] void throw_system(int code, std::string_view what = {}) {
  std::string message = what.empty() ? reason(code) : std::string(what) + ": " + reason(code);
  throw NetError(ErrorKind::system, message, code);
}

void set_no_delay(int fd) {
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// Connects one address; returns the socket or throws.
fs::Fd connect_address(const sockaddr* address, socklen_t length, Timeout timeout) {
  fs::Fd fd(::socket(address->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) throw_system(errno);
  if (::connect(fd.get(), address, length) != 0) {
    if (errno != EINPROGRESS && errno != EINTR) throw_system(errno);
    wait_for(fd.get(), POLLOUT, timeout);
    int error = 0;
    socklen_t error_length = sizeof error;
    if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &error_length) != 0) {
      throw_system(errno);
    }
    if (error != 0) throw_system(error);
  }
  set_no_delay(fd.get());
  return fd;
}

}  // namespace

std::string Endpoint::host_text() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (address.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&address);
    ::inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
  } else if (address.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&address);
    ::inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
  }
  return text;
}

std::uint16_t Endpoint::port() const {
  if (address.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in*>(&address)->sin_port);
  }
  if (address.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&address)->sin6_port);
  }
  return 0;
}

Endpoint Endpoint::with_port(std::uint16_t new_port) const {
  Endpoint copy = *this;
  if (copy.address.ss_family == AF_INET) {
    reinterpret_cast<sockaddr_in*>(&copy.address)->sin_port = htons(new_port);
  } else if (copy.address.ss_family == AF_INET6) {
    reinterpret_cast<sockaddr_in6*>(&copy.address)->sin6_port = htons(new_port);
  }
  return copy;
}

short wait_for(int fd, short events, Timeout timeout) {
  const short revents = poll_for(fd, events, timeout);
  if (revents == 0) throw NetError(ErrorKind::timed_out, "timed out");
  return revents;
}

short poll_for(int fd, short events, Timeout timeout) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    throw_if_interrupted();
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return 0;
    pollfd fds[2] = {{fd, events, 0}, {interrupt_fd(), POLLIN, 0}};
    const nfds_t count = interrupt_fd() >= 0 ? 2 : 1;
    const int n = ::poll(fds, count, static_cast<int>(std::min<long long>(left.count(), 1 << 30)));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_system(errno, "poll");
    }
    if (count == 2 && (fds[1].revents & POLLIN) != 0) throw_if_interrupted();
    // POLLERR and POLLHUP count as ready: the next call reports what happened.
    if (fds[0].revents != 0) return fds[0].revents;
  }
}

fs::Fd connect_to(const std::string& host, const std::string& port, Timeout timeout) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_protocol = IPPROTO_TCP;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* list = nullptr;
  if (const int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &list); rc != 0) {
    const std::string text = rc == EAI_SYSTEM ? reason(errno) : ::gai_strerror(rc);
    throw NetError(ErrorKind::system, text);
  }
  std::string last_error = "no address";
  ErrorKind last_kind = ErrorKind::system;
  fs::Fd connected;
  for (const addrinfo* ai = list; ai != nullptr && !connected.valid(); ai = ai->ai_next) {
    try {
      connected = connect_address(ai->ai_addr, ai->ai_addrlen, timeout);
    } catch (const NetError& e) {
      if (e.kind() == ErrorKind::cancelled) {
        ::freeaddrinfo(list);
        throw;
      }
      last_error = e.what();
      last_kind = e.kind();
    }
  }
  ::freeaddrinfo(list);
  if (!connected.valid()) throw NetError(last_kind, last_error);
  return connected;
}

fs::Fd connect_to(const Endpoint& endpoint, Timeout timeout) {
  return connect_address(reinterpret_cast<const sockaddr*>(&endpoint.address), endpoint.length,
                         timeout);
}

Endpoint peer_of(int fd) {
  Endpoint endpoint;
  endpoint.length = sizeof endpoint.address;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&endpoint.address), &endpoint.length) != 0) {
    throw_system(errno, "getpeername");
  }
  return endpoint;
}

void write_all(int fd, std::string_view data, Timeout timeout) {
  while (!data.empty()) {
    throw_if_interrupted();
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n >= 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      wait_for(fd, POLLOUT, timeout);
    } else if (errno != EINTR) {
      throw_system(errno);
    }
  }
}

std::size_t read_some(int fd, char* data, std::size_t size, Timeout timeout) {
  for (;;) {
    throw_if_interrupted();
    const ssize_t n = ::recv(fd, data, size, 0);
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      wait_for(fd, POLLIN, timeout);
    } else if (errno != EINTR) {
      throw_system(errno);
    }
  }
}

std::string read_head(int fd, std::string& buffer, Timeout timeout) {
  return read_head_from(buffer, [fd, timeout](char* data, std::size_t size) {
    return read_some(fd, data, size, timeout);
  });
}

std::string read_head_from(std::string& buffer,
                           const std::function<std::size_t(char*, std::size_t)>& read_some) {
  char chunk[4096];
  for (;;) {
    const auto end = protocol::find_head_end(buffer, protocol::kMaxHeadBytes);
    if (end.state == protocol::HeadEnd::State::complete) {
      std::string head = buffer.substr(0, end.length);
      buffer.erase(0, end.length);
      return head;
    }
    if (end.state == protocol::HeadEnd::State::too_long) {
      throw NetError(ErrorKind::protocol, "answer longer than 8 KiB");
    }
    const std::size_t n = read_some(chunk, sizeof chunk);
    if (n == 0) {
      if (buffer.empty()) throw NetError(ErrorKind::closed, "connection closed by the server");
      throw NetError(ErrorKind::protocol, "connection closed in the middle of an answer");
    }
    buffer.append(chunk, n);
  }
}

bool peer_has_closed(int fd) {
  char chunk[4096];
  for (;;) {
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, MSG_DONTWAIT);
    if (n == 0) return true;
    if (n > 0) continue;
    if (errno == EINTR) continue;
    return errno != EAGAIN && errno != EWOULDBLOCK;
  }
}

}  // namespace ferry::net
