// The control connection: the client asks for transfer ports with OPEN and leaves with QUIT.

#include <spdlog/spdlog.h>
#include <asio/co_spawn.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include "use_nothrow.hpp"

#include <algorithm>
#include <charconv>
#include <memory>
#include <random>
#include <vector>

#include "endpoint_text.hpp"
#include "ferry/protocol/escape.hpp"
#include "ferry/protocol/message.hpp"
#include "head_reader.hpp"
#include "log_failure.hpp"
#include "server_state.hpp"
#include "sessions.hpp"
#include "watchdog.hpp"

namespace ferryd {
namespace {

using asio::awaitable;
using asio::ip::tcp;
using ferry::protocol::format_error;
using ferry::protocol::format_message;

constexpr std::size_t kControlReadSize = 512;  // control heads are short; idle sessions stay small

// A transfer port opened by OPEN and not yet connected to.
struct OpenPort {
  OpenPort(const asio::any_io_executor& executor) : acceptor(executor), timer(executor) {}
  tcp::acceptor acceptor;
  asio::steady_timer timer;
  std::uint16_t port = 0;
  bool timed_out = false;
};

// Parses OPEN's argument: absent or 0 asks the server to choose; 1..65535 names the port.
std::optional<std::uint16_t> parse_port(const std::optional<std::string>& argument) {
  if (!argument || argument->empty()) return 0;
  const std::string& text = *argument;
  if (text.size() > 5 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  unsigned value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  if (value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

class ControlSession final : public Closable, public std::enable_shared_from_this<ControlSession> {
 public:
  ControlSession(tcp::socket socket, ServerState& state, Worker& worker, std::uint64_t id)
      : socket_(std::move(socket)),
        state_(state),
        worker_(worker),
        id_(id),
        watchdog_(socket_.get_executor(), [this] { close_socket(); }) {}
  ~ControlSession() { state_.sessions.fetch_sub(1); }

  awaitable<void> run();
  void close() override;

 private:
  awaitable<void> handle_open(const ferry::protocol::Message& message);
  awaitable<void> accept_transfer(std::shared_ptr<OpenPort> port);
  std::string bind_port(OpenPort& port, std::uint16_t requested);
  awaitable<bool> send(const std::string& text);
  void forget(const std::shared_ptr<OpenPort>& port);
  void close_socket() {
    asio::error_code ignored;
    socket_.close(ignored);
  }

  tcp::socket socket_;
  ServerState& state_;
  Worker& worker_;
  std::uint64_t id_;
  asio::ip::address peer_address_;
  asio::ip::address local_address_;
  Watchdog watchdog_;
  std::vector<std::shared_ptr<OpenPort>> open_ports_;
  std::size_t transfers_ = 0;
  bool closed_ = false;
};

awaitable<void> ControlSession::run() {
  Registration registration(worker_.controls, this);
  const auto started = Watchdog::Clock::now();
  const auto& config = state_.config;
  std::string peer_text = "unknown peer";
  {
    asio::error_code ec;
    const tcp::endpoint peer = socket_.remote_endpoint(ec);
    const tcp::endpoint local = socket_.local_endpoint(ec);
    if (!ec) {
      peer_address_ = normalize(peer.address());
      local_address_ = normalize(local.address());
      peer_text = to_text(peer);
    }
  }
  spdlog::info("session {}: started, client {}", id_, peer_text);

  std::string reason = "client closed the connection";
  std::string buffer;
  watchdog_.expire_after(config.idle_timeout);
  while (!closed_) {
    HeadRead head =
        co_await read_head(socket_, buffer, kControlReadSize, watchdog_, config.head_timeout);
    if (head.outcome == HeadRead::Outcome::closed) {
      if (closed_) {
        reason = "server shutting down";
      } else if (watchdog_.expired()) {
        reason = head.started
                     ? fmt::format("message not complete within {} s", config.head_timeout.count())
                     : fmt::format("idle for {} s", config.idle_timeout.count());
      } else if (head.started) {
        reason = "client closed the connection in the middle of a message";
      }
      break;
    }
    if (head.outcome == HeadRead::Outcome::malformed) {
      co_await send(format_error(head.error));
      reason = head.error;
      break;
    }
    watchdog_.expire_after(config.idle_timeout);
    const ferry::protocol::Message& message = head.message;
    if (message.is("OPEN")) {
      co_await handle_open(message);
    } else if (message.is("QUIT")) {
      co_await send(format_message("BYE"));
      reason = "client quit";
      break;
    } else {
      co_await send(format_error("unknown command: " + message.verb));
    }
  }
  close();
  const std::chrono::duration<double> lasted = Watchdog::Clock::now() - started;
  spdlog::info("session {}: ended after {:.1f} s, {} transfer(s): {}", id_, lasted.count(),
               transfers_, reason);
}

void ControlSession::close() {
  if (closed_) return;
  closed_ = true;
  watchdog_.stop();
  close_socket();
  for (const auto& port : std::vector(open_ports_)) {
    asio::error_code ignored;
    port->timer.cancel();
    port->acceptor.close(ignored);
  }
}

awaitable<bool> ControlSession::send(const std::string& text) {
  auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(text), use_nothrow);
  co_return !ec;
}

awaitable<void> ControlSession::handle_open(const ferry::protocol::Message& message) {
  const auto& config = state_.config;
  const auto requested = parse_port(message.argument);
  if (!requested) {
    co_await send(format_error("bad port: " + message.argument.value_or("") +
                               " (expected a number from 0 to 65535)"));
    co_return;
  }
  if (open_ports_.size() >= config.max_open_ports) {
    co_await send(format_error(
        fmt::format("too many transfer ports open: at most {} per session until they are connected",
                    config.max_open_ports)));
    co_return;
  }
  if (*requested != 0 && *requested < 1024) {
    co_await send(
        format_error(fmt::format("port {} refused: ports below 1024 are not allowed", *requested)));
    co_return;
  }
  if (*requested != 0 && config.has_data_port_range() &&
      (*requested < config.data_port_min || *requested > config.data_port_max)) {
    co_await send(
        format_error(fmt::format("port {} refused: outside the data port range {}-{}", *requested,
                                 config.data_port_min, config.data_port_max)));
    co_return;
  }

  auto port = std::make_shared<OpenPort>(socket_.get_executor());
  if (std::string error = bind_port(*port, *requested); !error.empty()) {
    spdlog::warn("session {}: OPEN {} refused: {}", id_, *requested, error);
    co_await send(format_error(error));
    co_return;
  }
  open_ports_.push_back(port);
  asio::co_spawn(
      socket_.get_executor(),
      [self = shared_from_this(), port] { return self->accept_transfer(port); },
      log_failure(fmt::format("session {}: transfer port", id_)));
  co_await send(format_message(fmt::format("OPENED {}", port->port)));
}

// Binds the port's acceptor on the address the client reached us at: the requested port,
// or (0) a free one from the configured range, or any free one.
std::string ControlSession::bind_port(OpenPort& port, std::uint16_t requested) {
  const auto& config = state_.config;
  const auto try_bind = [&](std::uint16_t number) -> asio::error_code {
    asio::error_code ec;
    if (port.acceptor.is_open()) port.acceptor.close(ec);
    const tcp::endpoint endpoint(local_address_, number);
    port.acceptor.open(endpoint.protocol(), ec);
    if (ec) return ec;
    port.acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    port.acceptor.bind(endpoint, ec);
    if (ec) return ec;
    port.acceptor.listen(asio::socket_base::max_listen_connections, ec);
    return ec;
  };

  asio::error_code ec;
  if (requested != 0 || !config.has_data_port_range()) {
    ec = try_bind(requested);
  } else {
    const unsigned span = config.data_port_max - config.data_port_min + 1u;
    thread_local std::minstd_rand random(std::random_device{}());
    const unsigned first = random() % span;
    ec = asio::error::address_in_use;
    for (unsigned i = 0; i < span && ec == asio::error::address_in_use; ++i) {
      ec = try_bind(static_cast<std::uint16_t>(config.data_port_min + (first + i) % span));
    }
    if (ec == asio::error::address_in_use) {
      return fmt::format("no free port in the data port range {}-{}", config.data_port_min,
                         config.data_port_max);
    }
  }
  if (ec == asio::error::address_in_use) return fmt::format("port {} is in use", requested);
  if (ec == asio::error::access_denied) {
    return fmt::format("port {} refused: permission denied", requested);
  }
  if (ec) return fmt::format("cannot open port {}: {}", requested, ec.message());
  port.port = port.acceptor.local_endpoint(ec).port();
  return {};
}

awaitable<void> ControlSession::accept_transfer(std::shared_ptr<OpenPort> port) {
  port->timer.expires_after(state_.config.transfer_timeout);
  port->timer.async_wait([weak = std::weak_ptr(port)](const std::error_code& ec) {
    if (ec) return;
    if (auto expired = weak.lock()) {
      expired->timed_out = true;
      asio::error_code ignored;
      expired->acceptor.close(ignored);
    }
  });
  for (;;) {
    auto [ec, socket] = co_await port->acceptor.async_accept(use_nothrow);
    if (ec) {
      if (port->timed_out) {
        spdlog::info("session {}: transfer port {} closed: nobody connected within {} s", id_,
                     port->port, state_.config.transfer_timeout.count());
      }
      break;
    }
    asio::error_code peer_ec;
    const tcp::endpoint peer = socket.remote_endpoint(peer_ec);
    if (peer_ec) continue;
    if (normalize(peer.address()) != peer_address_) {
      spdlog::warn(
          "session {}: refused a connection to transfer port {} from {}: not the "
          "session's client {}",
          id_, port->port, to_text(peer), peer_address_.to_string());
      continue;  // the socket closes here; the port keeps waiting for its client
    }
    port->timer.cancel();
    asio::error_code ignored;
    port->acceptor.close(ignored);
    ++transfers_;
    start_transfer(std::move(socket), state_, worker_, id_);
    break;
  }
  forget(port);
}

void ControlSession::forget(const std::shared_ptr<OpenPort>& port) {
  std::erase(open_ports_, port);
}

}  // namespace

void start_control_session(tcp::socket socket, ServerState& state, Worker& worker,
                           std::uint64_t session_id) {
  auto session = std::make_shared<ControlSession>(std::move(socket), state, worker, session_id);
  asio::co_spawn(
      worker.context, [session] { return session->run(); },
      log_failure(fmt::format("session {}", session_id)));
}

}  // namespace ferryd
