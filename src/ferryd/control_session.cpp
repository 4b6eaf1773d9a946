// The control connection: the client asks for transfer ports with OPEN, acts on names with
// the version-2 requests (STAT, MKDIR, RMDIR, DELETE, RENAME), and leaves with QUIT.
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

#include "endpoint_text.hpp"
#include "ferry/protocol/escape.hpp"
#include "ferry/protocol/limits.hpp"
#include "ferry/protocol/message.hpp"
#include "ferry/protocol/requests.hpp"
#include "log_failure.hpp"
#include "manage_requests.hpp"
#include "request_policy.hpp"
#include "server_state.hpp"
#include "session_context.hpp"
#include "sessions.hpp"
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
  void handle(const protocol::Message& message);
  void refused(const protocol::RequestFailure& failure);
  // The table of requests: std::visit picks the row by the request's type.
  void handle(const protocol::Open& request);
  void handle(const protocol::Quit& request);
  void handle(const protocol::Features& request);
  void handle(ManageRequest request);
  void manage_answered(const ManageRequest& request, const ManageAnswer& result);
  awaitable<void> accept_transfer(std::shared_ptr<OpenPort> port);
  SessionContext context() const {
    return SessionContext{id_, &state_.root, state_.config.root, state_.config.read_only,
                          &state_.root_removal_logged};
  }
  void answer(const std::string& text) { output_ += text; }
  void answer(const protocol::Error& error) { output_ += protocol::render(error); }
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
  bool on_file_thread_ = false;      // a request runs on a file thread: read no more heads
  bool write_wait_pending_ = false;  // a wait for writability will call pump()
  std::string reason_;
};

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
  for (;;) {
    if (ended_) return;
    handle_buffered_heads();

    while (!output_.empty()) {
      asio::error_code ec;
      const std::size_t sent = socket_.send(asio::buffer(output_), 0, ec);
      if (ec == asio::error::would_block) {
        write_wait_pending_ = true;
        socket_.async_wait(tcp::socket::wait_write,
                           [self = shared_from_this()](const std::error_code& error) {
                             self->write_wait_pending_ = false;
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
    if (on_file_thread_) return;  // manage_answered() resumes
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
    spdlog::warn("session {}: OPEN refused: {}", id_, protocol::escape_visible(failure.error.text));
  } else if (!failure.verb.empty()) {
    spdlog::warn("session {}: {} \"{}\": {}", id_, failure.verb,
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
  answer(features_answer());
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
    spdlog::info("session {}: {}: ok", id_, describe(request));
  } else {
    spdlog::warn("session {}: {}: {}", id_, describe(request),
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

void ControlSession::handle(const protocol::Open& request) {
  const auto& config = state_.config;
  // Every refusal is answered and logged (a flood of OPENs shows in the log).
  const auto refuse = [this](const protocol::Error& error) {
    spdlog::warn("session {}: OPEN refused: {}", id_, protocol::escape_visible(error.text));
    answer(error);
  };
  using protocol::Error;
  using protocol::ErrorKind;
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
      log_failure(fmt::format("session {}: transfer port", id_)));
  const std::string opened = fmt::format("OPENED {}", port->port);
  answer(port->token
             ? format_message(opened, {{std::string(protocol::kTokenHeader), port->token->text()}})
             : format_message(opened));
}

awaitable<void> ControlSession::accept_transfer(std::shared_ptr<OpenPort> port) {
  auto socket =
      co_await accept_from_client(port, peer_address_, state_.config.transfer_timeout, id_);
  if (socket && port->slot) {
    ++transfers_;
    start_transfer(std::move(*socket), state_, worker_, context(), std::move(*port->slot),
                   std::move(port->token));
    port->slot.reset();
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
