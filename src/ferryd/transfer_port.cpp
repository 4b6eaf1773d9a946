#include "transfer_port.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>

#include "endpoint_text.hpp"
#include "use_nothrow.hpp"

namespace ferryd {

using asio::ip::tcp;
using ferry::protocol::Error;
using ferry::protocol::ErrorKind;

std::optional<Error> refuse_requested_port(std::uint16_t requested, PortRange range) {
  if (requested == 0) return std::nullopt;
  if (requested < 1024) {
    return Error{ErrorKind::refused,
                 fmt::format("port {} refused: ports below 1024 are not allowed", requested)};
  }
  // Without --data-ports, the kernel's ephemeral range: a client must not squat on the
  // port of a service that has yet to start.
  if (requested < range.min || requested > range.max) {
    return Error{ErrorKind::refused,
                 fmt::format("port {} refused: outside the data port range {}-{}", requested,
                             range.min, range.max)};
  }
  return std::nullopt;
}

std::optional<Error> bind_transfer_port(OpenPort& port, const asio::ip::address& local,
                                        std::uint16_t requested, PortRange range) {
  const auto try_bind = [&](std::uint16_t number) -> asio::error_code {
    asio::error_code ec;
    if (port.acceptor.is_open()) port.acceptor.close(ec);
    const tcp::endpoint endpoint(local, number);
    port.acceptor.open(endpoint.protocol(), ec);
    if (ec) return ec;
    port.acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    port.acceptor.bind(endpoint, ec);
    if (ec) return ec;
    port.acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (!ec) port.port = number;
    return ec;
  };

  asio::error_code ec;
  if (requested != 0) {
    ec = try_bind(requested);
  } else {
    // The server picks, by random probes over the range (the configured one, else the
    // kernel's ephemeral range), not by bind(0): the kernel scans linearly from a random
    // start, and the TIME_WAIT connections of finished transfers pile up in clusters
    // there; after 10,000 small GETs each OPEN took ten times as long. SO_REUSEADDR lets
    // a port whose only other users are TIME_WAIT connections be bound again.
    const std::uint16_t low = range.min;
    const unsigned span = range.max - low + 1u;
    thread_local std::minstd_rand random(std::random_device{}());
    ec = asio::error::address_in_use;
    for (unsigned i = 0; i < std::min(span, 64u) && ec == asio::error::address_in_use; ++i) {
      ec = try_bind(static_cast<std::uint16_t>(low + random() % span));
    }
    for (unsigned i = 0; i < span && ec == asio::error::address_in_use; ++i) {
      ec = try_bind(static_cast<std::uint16_t>(low + i));
    }
    if (ec == asio::error::address_in_use) {
      return Error{ErrorKind::busy, fmt::format("no free port in the range {}-{}", low, range.max)};
    }
  }
  if (ec == asio::error::address_in_use) {
    return Error{ErrorKind::busy, fmt::format("port {} is in use", requested)};
  }
  if (ec == asio::error::access_denied) {
    return Error{ErrorKind::permission,
                 fmt::format("port {} refused: permission denied", requested)};
  }
  if (ec) {
    return Error{ErrorKind::io, fmt::format("cannot open port {}: {}", requested, ec.message())};
  }
  return std::nullopt;
}

asio::awaitable<std::optional<tcp::socket>> accept_from_client(std::shared_ptr<OpenPort> port,
                                                               asio::ip::address client,
                                                               std::chrono::seconds timeout,
                                                               SessionLabel session_id) {
  port->timer.expires_after(timeout);
  port->timer.async_wait([weak = std::weak_ptr(port)](const std::error_code& ec) {
    if (ec) return;
    if (auto expired = weak.lock()) {
      expired->timed_out = true;
      asio::error_code ignored;
      expired->acceptor.close(ignored);
    }
  });
  for (;;) {
    tcp::endpoint peer;  // from accept itself: no getpeername
    auto [ec, socket] = co_await port->acceptor.async_accept(peer, use_nothrow);
    if (ec) {
      if (port->timed_out) {
        spdlog::info("session {}: transfer port {} closed: nobody connected within {} s",
                     session_id, port->port, timeout.count());
      }
      co_return std::nullopt;
    }
    if (normalize(peer.address()) != client) {
      spdlog::warn(
          "session {}: refused a connection to transfer port {} from {}: not the "
          "session's client {}",
          session_id, port->port, to_text(peer), client.to_string());
      continue;  // the socket closes here; the port keeps waiting for its client
    }
    port->timer.cancel();
    asio::error_code ignored;
    port->acceptor.close(ignored);
    co_return std::move(socket);
  }
}

}  // namespace ferryd
