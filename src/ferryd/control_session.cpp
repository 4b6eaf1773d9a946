// The control connection: the client asks for transfer ports with OPEN, acts on names with
// the version-2 requests (STAT, MKDIR, RMDIR, DELETE, RENAME), and leaves with QUIT. On a
// server with users it logs in first (LOGIN: control_login.cpp; the class: control_session.hpp).
//
// Most control connections sit idle most of the time, so an idle one holds no coroutine
// frame, no buffer and no timer: only a readiness wait on its socket. Its deadline is a
// time stamp that the worker's sweeper (server.cpp) checks once a second. OPEN, QUIT and
// FEATURES are answered at once. A request that acts on names runs on a file thread: the
// session reads no further head meanwhile (answers stay in order) and resumes when the
// answer is back on its worker. An answer the socket cannot take now is kept and sent when
// it can, and no more is read meanwhile.

#include <spdlog/spdlog.h>
#include <asio/co_spawn.hpp>
#include <asio/post.hpp>

#include <algorithm>
#include <memory>
#include <optional>
#include <vector>

#include "channel.hpp"
#include "control_session.hpp"
#include "endpoint_text.hpp"
#include "ferry/protocol/escape.hpp"
#include "ferry/protocol/limits.hpp"
#include "ferry/protocol/message.hpp"
#include "ferry/protocol/requests.hpp"
#include "log_failure.hpp"
#include "login_gate.hpp"
#include "manage_requests.hpp"
#include "request_policy.hpp"
#include "server_state.hpp"
#include "session_context.hpp"
#include "sessions.hpp"
#include "tokens_required.hpp"
#include "transfer_port.hpp"

namespace ferryd {
namespace {

using asio::awaitable;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using ferry::protocol::format_message;
namespace protocol = ferry::protocol;

constexpr std::size_t kReadChunk = 512;                             // control heads are short
constexpr std::size_t kMaxPendingAnswers = std::size_t{16} * 1024;  // then stop reading until sent

}  // namespace

void ControlSession::start() {
  registration_.emplace(worker_.controls, this);
  started_ = Clock::now();
  deadline_ = started_ + state_.config.idle_timeout;
  asio::error_code peer_error;
  asio::error_code local_error;
  const tcp::endpoint peer = socket_.remote_endpoint(peer_error);
  const tcp::endpoint local = socket_.local_endpoint(local_error);
  asio::error_code ec;
  if (peer_error || local_error) {
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
  using ferry::tls::Want;
  if (ended_) return;  // a readiness wait queued before end(): the descriptor is gone
  if (!channel_.is_open() && !open_channel()) return;
  for (;;) {
    if (ended_) return;
    handle_buffered_heads();

    while (!output_.empty()) {
      const ferry::tls::Step sent = channel_.write(output_.data(), output_.size());
      if (sent.want == Want::read || sent.want == Want::write) {
        wait_for(sent.want);
        return;
      }
      if (sent.want != Want::done) {
        end("connection lost: " + (sent.error.empty() ? "closed" : sent.error));
        return;
      }
      output_.erase(0, sent.bytes);
    }
    output_ = std::string();  // give the memory back while idle
    if (closing_) {
      end(reason_);
      return;
    }
    if (on_file_thread_) return;  // manage_answered() resumes
    if (ferry::protocol::find_head_end(input_, ferry::protocol::kMaxHeadBytes).state !=
        ferry::protocol::HeadEnd::State::incomplete) {
      continue;  // more buffered heads to answer
    }

    char chunk[kReadChunk];
    const ferry::tls::Step got = channel_.read(chunk, sizeof chunk);
    if (got.want == Want::read || got.want == Want::write) {
      if (input_.empty()) input_ = std::string();
      wait_for(got.want);
      return;
    }
    if (got.want == Want::failed) {
      end("connection lost: " + got.error);
      return;
    }
    if (got.want == Want::closed) {
      end(input_.empty() ? "client closed the connection"
                         : "client closed the connection in the middle of a message");
      return;
    }
    input_.append(chunk, got.bytes);
    if (!head_started_) {
      head_started_ = true;
      deadline_ = std::min(deadline_, Clock::now() + state_.config.head_timeout);
    }
  }
}

// Parks on the readiness `want` names; its handler calls pump() again. A wait for
// writability is marked, so that a request's completion does not pump meanwhile.
void ControlSession::wait_for(ferry::tls::Want want) {
  if (want == ferry::tls::Want::write) {
    write_wait_pending_ = true;
    socket_.async_wait(tcp::socket::wait_write,
                       [self = shared_from_this()](const std::error_code& error) {
                         self->write_wait_pending_ = false;
                         if (!error) self->pump();
                       });
    return;
  }
  socket_.async_wait(tcp::socket::wait_read,
                     [self = shared_from_this()](const std::error_code& error) {
                       if (!error) self->pump();
                     });
}

// The first byte tells plaintext from TLS; a TLS handshake must end within the head
// timeout, as a head must. A plaintext client of a --require-tls server is answered and
// closed.
bool ControlSession::open_channel() {
  using ferry::tls::Want;
  const bool first_byte = !head_started_;
  const ferry::tls::Step step = channel_.open(state_.tls.current());
  if (channel_.tls() != nullptr && first_byte) {
    head_started_ = true;
    deadline_ = std::min(deadline_, Clock::now() + state_.config.head_timeout);
  }
  switch (step.want) {
    case Want::read:
    case Want::write:
      wait_for(step.want);
      return false;
    case Want::closed:
      end(channel_.tls() != nullptr ? "client closed the connection during the TLS handshake"
                                    : "client closed the connection");
      return false;
    case Want::failed:
      end("TLS handshake failed: " + step.error);
      return false;
    case Want::done:
      break;
  }
  head_started_ = false;
  deadline_ = Clock::now() + state_.config.idle_timeout;
  tls_ = channel_.is_tls();
  if (tls_) {
    spdlog::info("session {}: {}", id_, channel_.tls()->description());
  } else if (state_.config.require_tls) {
    answer(protocol::render(
        protocol::Error{protocol::ErrorKind::refused, "this server requires TLS"}));
    close_after_answers("plaintext refused (--require-tls)");
  }
  return true;
}

// Answers the complete heads in input_, until enough answers wait to be sent.
void ControlSession::handle_buffered_heads() {
  using ferry::protocol::HeadEnd;
  while (!closing_ && !on_file_thread_ && output_.size() < kMaxPendingAnswers) {
    const HeadEnd end = ferry::protocol::find_head_end(input_, ferry::protocol::kMaxHeadBytes);
    if (end.state == HeadEnd::State::incomplete) break;
    if (end.state == HeadEnd::State::too_long) {
      const std::string error = "message head too long (limit 8192 bytes)";
      answer(protocol::render(protocol::Error{protocol::ErrorKind::malformed, error}));
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
      answer(protocol::render(protocol::Error{protocol::ErrorKind::malformed, parsed.error}));
      close_after_answers(parsed.error);
      break;
    }
    handle(parsed.message);
  }
}

void ControlSession::handle(const protocol::Message& message) {
  if (state_.accounts != nullptr && account_ == nullptr && !allowed_before_login(message)) {
    spdlog::debug("session {}: {} refused: login required", label(),
                  protocol::escape_visible(message.verb));
    answer(login_required());
    return;
  }
  const auto parsed = protocol::parse_control_request(message);
  if (const protocol::RequestFailure* failure = parsed.failure()) {
    refused(*failure);
    return;
  }
  if (const protocol::ControlRequest* request = parsed.request()) {
    std::visit([this](const auto& typed) { handle(typed); }, *request);
  }
}

// A head that is no usable request. Refusals of known verbs are logged (a flood of OPENs
// shows in the log); an unknown verb is only answered.
void ControlSession::refused(const protocol::RequestFailure& failure) {
  if (failure.verb == protocol::Open::kVerb) {
    spdlog::warn("session {}: OPEN refused: {}", label(),
                 protocol::escape_visible(failure.error.text));
  } else if (!failure.verb.empty()) {
    spdlog::warn("session {}: {} \"{}\": {}", label(), failure.verb,
                 protocol::escape_visible(failure.path),
                 protocol::escape_visible(failure.error.text));
  }
  answer(failure.error);
}

void ControlSession::handle(const protocol::Quit& /*request*/) {
  answer(format_message("BYE"));
  close_after_answers("client quit");
}

void ControlSession::handle(const protocol::Features& /*request*/) {
  answer(features_answer(state_.accounts != nullptr));
}

// Runs on a file thread; the answer comes back to this worker, in order, since no further
// head is read meanwhile. The completion holds the session (and the worker: a shutdown
// waits for it); a session that ended meanwhile only logs what was done.
void ControlSession::handle(ManageRequest request) {
  const SessionContext session = context();
  if (auto refusal = refusal_before(session, protocol::changes_files(request))) {
    manage_answered(request, ManageAnswer{protocol::render(*refusal), refusal->text});
    return;
  }
  on_file_thread_ = true;
  state_.file_threads.run([self = shared_from_this(), session, request = std::move(request),
                           worker = asio::make_work_guard(worker_.context)]() mutable {
    ManageAnswer result = answer_manage_request(session, request);
    // `self` moves on: the session is released on its own worker, never here.
    asio::post(worker.get_executor(),
               [self = std::move(self), request = std::move(request), result = std::move(result)] {
                 self->on_file_thread_ = false;
                 self->manage_answered(request, result);
                 if (!self->write_wait_pending_) self->pump();
               });
  });
}

void ControlSession::manage_answered(const ManageRequest& request, const ManageAnswer& result) {
  if (result.error.empty()) {
    spdlog::info("session {}: {}: ok", label(), describe(request));
  } else {
    spdlog::warn("session {}: {}: {}", label(), describe(request),
                 protocol::escape_visible(result.error));
  }
  if (ended_) return;
  const auto now = Clock::now();
  deadline_ = now + state_.config.idle_timeout;
  if (head_started_) deadline_ = std::min(deadline_, now + state_.config.head_timeout);
  answer(result.answer);
}

void ControlSession::sweep(Clock::time_point now) {
  // The client waits for the disk, not the other way round.
  if (ended_ || on_file_thread_ || now < deadline_) return;
  end(head_started_
          ? fmt::format("message not complete within {} s", state_.config.head_timeout.count())
          : fmt::format("idle for {} s", state_.config.idle_timeout.count()));
}

void ControlSession::end(const std::string& reason) {
  if (ended_) return;
  ended_ = true;
  abandon_login();
  channel_.close_notify();
  asio::error_code ignored;
  socket_.close(ignored);  // a pending readiness wait ends, and with it its hold on us
  for (const auto& port : std::vector(open_ports_)) {
    port->timer.cancel();
    port->acceptor.close(ignored);
  }
  registration_.reset();
  const std::chrono::duration<double> lasted = Clock::now() - started_;
  spdlog::info("session {}: ended after {:.1f} s, {} transfer(s): {}", label(), lasted.count(),
               transfers_, reason);
}

void ControlSession::handle(const protocol::Open& request) {
  const auto& config = state_.config;
  // Every refusal is answered and logged (a flood of OPENs shows in the log).
  const auto refuse = [this](const protocol::Error& error) {
    spdlog::warn("session {}: OPEN refused: {}", label(), protocol::escape_visible(error.text));
    answer(error);
  };
  using protocol::Error;
  using protocol::ErrorKind;
  if (!request.with_token && tokens_required(tls_, state_.accounts != nullptr)) {
    refuse(Error{ErrorKind::refused,
                 "this server requires transfer tokens (send TOKEN: yes with OPEN)"});
    return;
  }
  if (open_ports_.size() >= config.max_open_ports) {
    refuse(Error{
        ErrorKind::limit,
        fmt::format("too many transfer ports open: at most {} per session until they are connected",
                    config.max_open_ports)});
    return;
  }
  const PortRange range{state_.pick_port_min, state_.pick_port_max};
  if (auto refusal = refuse_requested_port(request.port, range)) {
    refuse(*refusal);
    return;
  }
  if (!transfers_held_) transfers_held_ = std::make_shared<std::size_t>(0);
  if (*transfers_held_ >= config.max_transfers_per_session) {
    refuse(
        Error{ErrorKind::limit, fmt::format("too many transfers in this session (limit {} at once)",
                                            config.max_transfers_per_session)});
    return;
  }
  const auto admission = state_.transfer_slots.admit(admitted_address_);
  if (admission == AddressLimits::Admission::over_total) {
    refuse(Error{ErrorKind::busy, fmt::format("server busy: too many transfers (limit {} at once)",
                                              state_.transfer_slots.max_total())});
    return;
  }
  if (admission == AddressLimits::Admission::over_address) {
    refuse(Error{ErrorKind::limit,
                 fmt::format("too many transfers from {} (limit {} at once per address)",
                             admitted_address_, state_.transfer_slots.max_per_address())});
    return;
  }

  auto port = std::make_shared<OpenPort>(socket_.get_executor());
  if (request.with_token) {
    port->token = TransferToken::generate();
    if (!port->token) {
      refuse(Error{ErrorKind::io, "cannot make a transfer token: no randomness"});
      return;
    }
  }
  port->slot.emplace(state_.transfer_slots, admitted_address_, transfers_held_);
  if (auto error = bind_transfer_port(*port, local_address_, request.port, range)) {
    refuse(*error);
    return;
  }
  open_ports_.push_back(port);
  asio::co_spawn(
      socket_.get_executor(),
      [self = shared_from_this(), port] { return self->accept_transfer(port); },
      log_failure(fmt::format("session {}: transfer port", label())));
  const std::string opened = fmt::format("OPENED {}", port->port);
  answer(port->token
             ? format_message(opened, {{std::string(protocol::kTokenHeader), port->token->text()}})
             : format_message(opened));
}

awaitable<void> ControlSession::accept_transfer(std::shared_ptr<OpenPort> port) {
  auto socket =
      co_await accept_from_client(port, peer_address_, state_.config.transfer_timeout, label());
  if (socket && port->slot) {
    ++transfers_;
    SessionContext transfer_context = context();
    transfer_context.tls = tls_;
    start_transfer(std::move(*socket), state_, worker_, transfer_context, std::move(*port->slot),
                   std::move(port->token));
    port->slot.reset();
  }
  std::erase(open_ports_, port);
}

void start_control_session(tcp::socket socket, ServerState& state, Worker& worker,
                           std::uint64_t session_id, std::string admitted_address) {
  auto session = std::make_shared<ControlSession>(std::move(socket), state, worker, session_id,
                                                  std::move(admitted_address));
  asio::post(worker.context, [session] { session->start(); });
}

}  // namespace ferryd
