#pragma once

// Blocking-style TCP helpers for the client, one transfer at a time. Sockets are
// non-blocking underneath; every wait is a poll() bounded by `timeout` (the time allowed
// without progress) and woken by an interrupt (see interrupt.hpp). Failures throw NetError.

#include <sys/socket.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "ferry/fs/fd.hpp"

namespace ferry::net {

using Timeout = std::chrono::milliseconds;

// A resolved socket address.
struct Endpoint {
  sockaddr_storage address{};
  socklen_t length = 0;

  // `192.0.2.1` or `2001:db8::1` (no port).
  std::string host_text() const;
  std::uint16_t port() const;
  Endpoint with_port(std::uint16_t port) const;
};

// Waits until `fd` has one of `events` (POLLIN, POLLOUT); returns the revents seen.
// Throws timed_out after `timeout` and cancelled on an interrupt.
short wait_for(int fd, short events, Timeout timeout);

// As wait_for, but returns 0 when `timeout` passes.
short poll_for(int fd, short events, Timeout timeout);

// Resolves host and port (IPv4 and IPv6) and tries each address in turn.
// The error message is the reason only ("connection refused", "timed out", ...).
fs::Fd connect_to(const std::string& host, const std::string& port, Timeout timeout);
fs::Fd connect_to(const Endpoint& endpoint, Timeout timeout);

// The address the connected socket talks to.
Endpoint peer_of(int fd);

void write_all(int fd, std::string_view data, Timeout timeout);

// Reads what is available, at most `size` bytes; 0 means the peer closed.
std::size_t read_some(int fd, char* data, std::size_t size, Timeout timeout);

// Reads one message head (at most protocol::kMaxHeadBytes). `buffer` holds bytes
// received earlier; on return the bytes after the head (the start of the data) remain in it.
// Throws closed when the peer closes before sending any byte of the head.
std::string read_head(int fd, std::string& buffer, Timeout timeout);

// read_head's framing over any reader: `read_some(data, size)` returns what it read, 0 when
// the peer closed (net::Link's TLS connections use it).
std::string read_head_from(std::string& buffer,
                           const std::function<std::size_t(char*, std::size_t)>& read_some);

// True when the peer has closed (or reset) the connection; data waiting to be read is
// discarded. Does not block.
bool peer_has_closed(int fd);

}  // namespace ferry::net
