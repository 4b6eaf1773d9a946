// The control connection: the client asks for transfer ports with OPEN and leaves with QUIT.
//
// Most control connections sit idle most of the time, so an idle one holds no coroutine
// frame, no buffer and no timer: only a readiness wait on its socket. Its deadline is a
// time stamp that the worker's sweeper (server.cpp) checks once a second. Commands are
// short and answered at once; an answer the socket cannot take now is kept and sent when
// it can, and no more is read meanwhile.

#include <spdlog/spdlog.h>
#include <asio/co_spawn.hpp>
#include <asio/steady_timer.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <memory>
#include <optional>
#include <random>
#include <vector>

#include "endpoint_text.hpp"
#include "ferry/protocol/escape.hpp"
#include "ferry/protocol/limits.hpp"
#include "ferry/protocol/message.hpp"
#include "log_failure.hpp"
#include "server_state.hpp"
#include "sessions.hpp"
#include "use_nothrow.hpp"

namespace ferryd {
namespace {

using asio::awaitable;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using ferry::protocol::format_error;
using ferry::protocol::format_message;

constexpr std::size_t kReadChunk = 512;                             // control heads are short
constexpr std::size_t kMaxPendingAnswers = std::size_t{16} * 1024;  // then stop reading until sent

// A transfer port opened by OPEN and not yet connected to.
struct OpenPort {
  explicit OpenPort(const asio::any_io_executor& executor) : acceptor(executor), timer(executor) {}
  tcp::acceptor acceptor;
  asio::steady_timer timer;
  std::uint16_t port = 0;
  bool timed_out = false;
  std::optional<TransferSlot> slot;  // handed on to the transfer connection
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
  ControlSession(tcp::socket socket, ServerState& state, Worker& worker, std::uint64_t id,
                 std::string admitted_address)
      : socket_(std::move(socket)),
        state_(state),
        worker_(worker),
        id_(id),
        admitted_address_(std::move(admitted_address)) {}
  ~ControlSession() { state_.sessions.release(admitted_address_); }

  void start();
  void close() override { end("server shutting down"); }
  void sweep(Clock::time_point now) override;

 private:
  void pump();
  void handle_buffered_heads();
  void handle(const ferry::protocol::Message& message);
  void handle_open(const ferry::protocol::Message& message);
  void handle_quit(const ferry::protocol::Message& message);
  std::string bind_port(OpenPort& port, std::uint16_t requested);
  awaitable<void> accept_transfer(std::shared_ptr<OpenPort> port);
  void answer(const std::string& text) { output_ += text; }
  void close_after_answers(std::string reason) {
    closing_ = true;
    reason_ = std::move(reason);
  }
  void end(const std::string& reason);

  tcp::socket socket_;
  ServerState& state_;
  Worker& worker_;
  std::uint64_t id_;
  std::string admitted_address_;
  std::optional<Registration> registration_;
  asio::ip::address peer_address_;
  asio::ip::address local_address_;
  Clock::time_point started_;
  Clock::time_point deadline_;  // idle deadline, or the started head's deadline
  bool head_started_ = false;   // input_ holds part of a head
  std::string input_;           // bytes of a head not yet complete; empty while idle
  std::string output_;          // answers the socket did not take yet; empty while idle
  std::vector<std::shared_ptr<OpenPort>> open_ports_;
  std::shared_ptr<std::size_t> transfers_held_;  // opened ports + running transfers; at first OPEN
  std::size_t transfers_ = 0;
  bool closing_ = false;  // close once output_ is sent
  bool ended_ = false;
  std::string reason_;
};

void ControlSession::start() {
  registration_.emplace(worker_.controls, this);
  started_ = Clock::now();
  deadline_ = started_ + state_.config.idle_timeout;
  asio::error_code ec;
  const tcp::endpoint peer = socket_.remote_endpoint(ec);
  const tcp::endpoint local = socket_.local_endpoint(ec);
  if (ec) {
    end("connection lost at once");
    return;
  }
  peer_address_ = normalize(peer.address());
  local_address_ = normalize(local.address());
  socket_.non_blocking(true, ec);
  spdlog::info("session {}: started, client {}", id_, to_text(peer));
  pump();
}

// Runs until the session must wait: reads what has arrived, answers every complete head,
// sends the answers, then parks on a readiness wait (readable, or writable while answers
// are pending). A wait's handler calls pump() again.
void ControlSession::pump() {
  for (;;) {
    if (ended_) return;
    handle_buffered_heads();

    while (!output_.empty()) {
      asio::error_code ec;
      const std::size_t sent = socket_.send(asio::buffer(output_), 0, ec);
      if (ec == asio::error::would_block) {
        socket_.async_wait(tcp::socket::wait_write,
                           [self = shared_from_this()](const std::error_code& error) {
                             if (!error) self->pump();
                           });
        return;
      }
      if (ec) {
        end("connection lost: " + ec.message());
        return;
      }
      output_.erase(0, sent);
    }
    output_ = std::string();  // give the memory back while idle
    if (closing_) {
      end(reason_);
      return;
    }
    if (ferry::protocol::find_head_end(input_, ferry::protocol::kMaxHeadBytes).state !=
        ferry::protocol::HeadEnd::State::incomplete) {
      continue;  // more buffered heads to answer
    }

    char chunk[kReadChunk];
    asio::error_code ec;
    const std::size_t n = socket_.read_some(asio::buffer(chunk), ec);
    if (ec == asio::error::would_block) {
      if (input_.empty()) input_ = std::string();
      socket_.async_wait(tcp::socket::wait_read,
                         [self = shared_from_this()](const std::error_code& error) {
                           if (!error) self->pump();
                         });
      return;
    }
    if (ec) {
      end(input_.empty() ? "client closed the connection"
                         : "client closed the connection in the middle of a message");
      return;
    }
    input_.append(chunk, n);
    if (!head_started_) {
      head_started_ = true;
      deadline_ = std::min(deadline_, Clock::now() + state_.config.head_timeout);
    }
  }
}

// Answers the complete heads in input_, until enough answers wait to be sent.
void ControlSession::handle_buffered_heads() {
  using ferry::protocol::HeadEnd;
  while (!closing_ && output_.size() < kMaxPendingAnswers) {
    const HeadEnd end = ferry::protocol::find_head_end(input_, ferry::protocol::kMaxHeadBytes);
    if (end.state == HeadEnd::State::incomplete) break;
    if (end.state == HeadEnd::State::too_long) {
      const std::string error = "message head too long (limit 8192 bytes)";
      answer(format_error(error));
      close_after_answers(error);
      break;
    }
    auto parsed = ferry::protocol::parse_head(std::string_view(input_).substr(0, end.length));
    input_.erase(0, end.length);
    const auto now = Clock::now();
    deadline_ = now + state_.config.idle_timeout;
    head_started_ = !input_.empty();
    if (head_started_) deadline_ = std::min(deadline_, now + state_.config.head_timeout);
    if (!parsed.ok()) {
      answer(format_error(parsed.error));
      close_after_answers(parsed.error);
      break;
    }
    handle(parsed.message);
  }
}

void ControlSession::handle_quit(const ferry::protocol::Message& /*message*/) {
  answer(format_message("BYE"));
  close_after_answers("client quit");
}

void ControlSession::handle(const ferry::protocol::Message& message) {
  struct Verb {
    const char* name;
    void (ControlSession::*handle)(const ferry::protocol::Message&);
  };
  static constexpr std::array kVerbs{
      Verb{"OPEN", &ControlSession::handle_open},
      Verb{"QUIT", &ControlSession::handle_quit},
  };
  for (const Verb& verb : kVerbs) {
    if (message.is(verb.name)) {
      (this->*verb.handle)(message);
      return;
    }
  }
  answer(format_error("unknown command: " + message.verb));
}

void ControlSession::sweep(Clock::time_point now) {
  if (ended_ || now < deadline_) return;
  end(head_started_
          ? fmt::format("message not complete within {} s", state_.config.head_timeout.count())
          : fmt::format("idle for {} s", state_.config.idle_timeout.count()));
}

void ControlSession::end(const std::string& reason) {
  if (ended_) return;
  ended_ = true;
  asio::error_code ignored;
  socket_.close(ignored);  // a pending readiness wait ends, and with it its hold on us
  for (const auto& port : std::vector(open_ports_)) {
    port->timer.cancel();
    port->acceptor.close(ignored);
  }
  registration_.reset();
  const std::chrono::duration<double> lasted = Clock::now() - started_;
  spdlog::info("session {}: ended after {:.1f} s, {} transfer(s): {}", id_, lasted.count(),
               transfers_, reason);
}

void ControlSession::handle_open(const ferry::protocol::Message& message) {
  const auto& config = state_.config;
  // Every refusal is answered and logged (a flood of OPENs shows in the log).
  const auto refuse = [this](const std::string& error) {
    spdlog::warn("session {}: OPEN refused: {}", id_, ferry::protocol::escape_visible(error));
    answer(format_error(error));
  };
  const auto requested = parse_port(message.argument);
  if (!requested) {
    refuse("bad port: " + message.argument.value_or("") + " (expected a number from 0 to 65535)");
    return;
  }
  if (open_ports_.size() >= config.max_open_ports) {
    refuse(
        fmt::format("too many transfer ports open: at most {} per session until they are connected",
                    config.max_open_ports));
    return;
  }
  if (*requested != 0 && *requested < 1024) {
    refuse(fmt::format("port {} refused: ports below 1024 are not allowed", *requested));
    return;
  }
  // Without --data-ports, the kernel's ephemeral range: a client must not squat on the
  // port of a service that has yet to start.
  if (*requested != 0 && (*requested < state_.pick_port_min || *requested > state_.pick_port_max)) {
    refuse(fmt::format("port {} refused: outside the data port range {}-{}", *requested,
                       state_.pick_port_min, state_.pick_port_max));
    return;
  }
  if (!transfers_held_) transfers_held_ = std::make_shared<std::size_t>(0);
  if (*transfers_held_ >= config.max_transfers_per_session) {
    refuse(fmt::format("too many transfers in this session (limit {} at once)",
                       config.max_transfers_per_session));
    return;
  }
  const auto admission = state_.transfer_slots.admit(admitted_address_);
  if (admission == AddressLimits::Admission::over_total) {
    refuse(fmt::format("server busy: too many transfers (limit {} at once)",
                       state_.transfer_slots.max_total()));
    return;
  }
  if (admission == AddressLimits::Admission::over_address) {
    refuse(fmt::format("too many transfers from {} (limit {} at once per address)",
                       admitted_address_, state_.transfer_slots.max_per_address()));
    return;
  }

  auto port = std::make_shared<OpenPort>(socket_.get_executor());
  port->slot.emplace(state_.transfer_slots, admitted_address_, transfers_held_);
  if (std::string error = bind_port(*port, *requested); !error.empty()) {
    refuse(error);
    return;
  }
  open_ports_.push_back(port);
  asio::co_spawn(
      socket_.get_executor(),
      [self = shared_from_this(), port] { return self->accept_transfer(port); },
      log_failure(fmt::format("session {}: transfer port", id_)));
  answer(format_message(fmt::format("OPENED {}", port->port)));
}

// Binds the port's acceptor on the address the client reached us at: the requested port,
// or (0) a free one from the configured range, or any free one.
std::string ControlSession::bind_port(OpenPort& port, std::uint16_t requested) {
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
    const std::uint16_t low = state_.pick_port_min;
    const unsigned span = state_.pick_port_max - low + 1u;
    thread_local std::minstd_rand random(std::random_device{}());
    ec = asio::error::address_in_use;
    for (unsigned i = 0; i < std::min(span, 64u) && ec == asio::error::address_in_use; ++i) {
      ec = try_bind(static_cast<std::uint16_t>(low + random() % span));
    }
    for (unsigned i = 0; i < span && ec == asio::error::address_in_use; ++i) {
      ec = try_bind(static_cast<std::uint16_t>(low + i));
    }
    if (ec == asio::error::address_in_use) {
      return fmt::format("no free port in the range {}-{}", low, state_.pick_port_max);
    }
  }
  if (ec == asio::error::address_in_use) return fmt::format("port {} is in use", requested);
  if (ec == asio::error::access_denied) {
    return fmt::format("port {} refused: permission denied", requested);
  }
  if (ec) return fmt::format("cannot open port {}: {}", requested, ec.message());
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
    tcp::endpoint peer;  // from accept itself: no getpeername
    auto [ec, socket] = co_await port->acceptor.async_accept(peer, use_nothrow);
    if (ec) {
      if (port->timed_out) {
        spdlog::info("session {}: transfer port {} closed: nobody connected within {} s", id_,
                     port->port, state_.config.transfer_timeout.count());
      }
      break;
    }
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
    start_transfer(std::move(socket), state_, worker_, id_, std::move(*port->slot));
    port->slot.reset();
    break;
  }
  std::erase(open_ports_, port);
}

}  // namespace

void start_control_session(tcp::socket socket, ServerState& state, Worker& worker,
                           std::uint64_t session_id, std::string admitted_address) {
  auto session = std::make_shared<ControlSession>(std::move(socket), state, worker, session_id,
                                                  std::move(admitted_address));
  asio::post(worker.context, [session] { session->start(); });
}

}  // namespace ferryd
