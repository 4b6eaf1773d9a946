// A transfer connection: reads the request head, dispatches it by verb, logs the outcome.
// The actions are in transfer_get.cpp, transfer_put.cpp and transfer_list.cpp.

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <asio/co_spawn.hpp>
#include <asio/write.hpp>
#include "use_nothrow.hpp"

#include <memory>
#include <vector>

#include "ferry/protocol/escape.hpp"
#include "ferry/protocol/limits.hpp"
#include "head_reader.hpp"
#include "log_failure.hpp"
#include "request_policy.hpp"
#include "sessions.hpp"
#include "transfer.hpp"

namespace ferryd {
namespace {

using asio::awaitable;
using asio::ip::tcp;
namespace protocol = ferry::protocol;
using Clock = Watchdog::Clock;

// After an early ERROR the client may still be sending; reading (and dropping) a bounded
// amount before the close gives it the chance to read the answer instead of a reset.
constexpr std::size_t kDrainLimit = std::size_t{64} * 1024 * 1024;
constexpr auto kDrainTime = std::chrono::seconds(2);

}  // namespace

// (Built outside the co_await expressions: GCC 12 rejects a braced list of string literals
// in one.)
std::string ok_with_size(std::uint64_t size) {
  return ferry::protocol::format_message("OK", {{"FILESIZE", std::to_string(size)}});
}

Transfer::Transfer(tcp::socket socket, ServerState& state, Worker& worker, SessionContext context,
                   TransferSlot slot, std::optional<TransferToken> token)
    : socket_(std::move(socket)),
      channel_(socket_.native_handle(), 0),
      state_(state),
      worker_(worker),
      context_(context),
      session_id_(context.label()),
      slot_(std::move(slot)),
      token_(std::move(token)),
      watchdog_(socket_.get_executor(), [this] { window_ended(); }),
      rate_(state.config.transfer_timeout, state.config.min_rate) {
  state_.transfers.fetch_add(1);
}

Transfer::~Transfer() {
  state_.transfers.fetch_sub(1);
}

void Transfer::close() {
  asio::error_code ignored;
  socket_.close(ignored);
}

void Transfer::start_window() {
  watchdog_.expire_after(rate_.slice());
}

void Transfer::window_ended() {
  if (draining_) {
    close();
    return;
  }
  if (rate_.slice_ended()) {
    start_window();
    return;
  }
  const std::uint64_t moved = rate_.last_window();
  cut_reason_ = moved == 0 ? fmt::format("no progress for {} s", rate_.window().count())
                           : fmt::format("slower than {} bytes/s: {} bytes in {} s",
                                         state_.config.min_rate, moved, rate_.window().count());
  // A reset, not a FIN: what the kernel still holds for a reader this slow is dropped now
  // instead of waiting in its send buffer (up to 4 MiB on loopback) for as long as the
  // reader likes.
  const linger abort_on_close{1, 0};
  ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_LINGER, &abort_on_close,
               sizeof abort_on_close);
  close();
}

std::string Transfer::cause(std::string_view what) const {
  return cut_reason_.empty() ? std::string(what) : fmt::format("{} ({})", what, cut_reason_);
}

awaitable<void> Transfer::run() {
  Registration registration(worker_.transfers, this);
  const auto started = Clock::now();
  const auto& config = state_.config;
  start_window();

  // The TLS handshake, when it is one: the rate floor's windows bound it.
  const ferry::tls::Step opened = co_await open_channel();
  HeadRead head;
  if (opened.want == ferry::tls::Want::done) {
    const ReadSome reader = [this](char* data, std::size_t size) { return read_some(data, size); };
    head = co_await read_head(reader, buffer_, ferry::protocol::kMaxHeadBytes, watchdog_,
                              config.head_timeout);
  }
  std::string verb = "-";
  std::string path;
  Outcome outcome;
  // Every answer ends with the half-close. Corked, the answer's head, its data and the FIN
  // leave in as few segments as they fit in: a small GET sends one segment instead of three,
  // and costs 20 % fewer segments in all (docs/DESIGN.md).
  const int on = 1;
  ::setsockopt(socket_.native_handle(), IPPROTO_TCP, TCP_CORK, &on, sizeof on);
  if (opened.want != ferry::tls::Want::done) {
    outcome.error = cause(opened.want == ferry::tls::Want::failed
                              ? "TLS handshake failed: " + opened.error
                              : std::string("closed before a complete request"));
  } else if (context_.tls && !channel_.is_tls()) {
    // Its session is encrypted: neither the token nor the data may cross in clear.
    protocol::Error plaintext{protocol::ErrorKind::refused,
                              "this transfer connection must use TLS, as its session does"};
    outcome = co_await refuse(std::move(plaintext));
  } else if (head.outcome == HeadRead::Outcome::closed) {
    outcome.error = cause("closed before a complete request");
  } else if (head.outcome == HeadRead::Outcome::malformed) {
    // Built outside the co_await expression: GCC 12 destroys a braced temporary in one twice.
    protocol::Error malformed{protocol::ErrorKind::malformed, head.error};
    outcome = co_await refuse(std::move(malformed));
  } else if (auto wrong_token = check_transfer_token(head.message, token_)) {
    // Neither the path nor the verb of a request that does not belong to the session is
    // acted on; the log names it as it came.
    verb = head.message.verb;
    outcome = co_await refuse(std::move(*wrong_token));
  } else {
    verb = head.message.verb;
    rate_.restart();  // the head is in: the data's windows start now
    start_window();
    outcome = co_await dispatch(head.message, path);
  }
  watchdog_.stop();
  // The FIN first, with whatever the cork still holds (shutdown), then the close. A close
  // alone resets the connection when the client sent bytes nobody read, and that reset
  // would discard the held answer instead of sending it.
  asio::error_code ignored;
  // Not after close() (the rate floor, the shutdown): the number may be another file's now.
  if (socket_.is_open()) channel_.close_notify();
  socket_.shutdown(tcp::socket::shutdown_send, ignored);
  close();

  const std::chrono::duration<double> took = Clock::now() - started;
  const ferry::tls::Session* tls = channel_.is_open() ? channel_.tls() : nullptr;
  const std::string what =
      fmt::format("session {}: {} \"{}\" {} bytes in {:.3f} s{}", session_id_,
                  ferry::protocol::escape_visible(verb), ferry::protocol::escape_visible(path),
                  outcome.bytes, took.count(),
                  tls == nullptr ? ""
                                 : fmt::format(" over TLS ({}{})",
                                               tls->resumed() ? "resumed" : "full handshake",
                                               tls->ktls_send() ? ", kTLS" : ""));
  if (outcome.error.empty()) {
    spdlog::info("{}: ok", what);
  } else {
    spdlog::warn("{}: {}", what, ferry::protocol::escape_visible(outcome.error));
  }
}

awaitable<Outcome> Transfer::dispatch(const protocol::Message& message, std::string& path) {
  const auto parsed = protocol::parse_transfer_request(message);
  if (const protocol::RequestFailure* failure = parsed.failure()) {
    path = failure->path;
    protocol::Error error = failure->error;
    co_return co_await refuse(std::move(error));
  }
  const protocol::TransferRequest* request = parsed.request();
  if (request == nullptr) co_return Outcome{};  // not reached: a parse is one or the other
  path = std::visit([](const auto& r) { return r.path; }, *request);
  if (auto refusal = refusal_before(context_, protocol::changes_files(*request))) {
    co_return co_await refuse(std::move(*refusal));
  }
  co_return co_await std::visit([this](const auto& typed) { return act(typed); }, *request);
}

awaitable<bool> Transfer::send(const std::string& text) {
  co_return co_await write_all(text);
}

// Answers ERROR, half-closes, and drains what the client may still be sending, bounded in
// bytes and time, so that the answer reaches it before the close.
awaitable<Outcome> Transfer::refuse(protocol::Error error) {
  Outcome outcome;
  const std::string answer = protocol::render(error);
  if (co_await send(answer)) {
    asio::error_code ec;
    if (socket_.is_open()) channel_.close_notify();
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    draining_ = true;
    watchdog_.expire_after(kDrainTime);
    std::vector<char> sink(std::size_t{16} * 1024);
    std::size_t drained = 0;
    while (drained < kDrainLimit) {
      const ferry::tls::Step got = co_await read_some(sink.data(), sink.size());
      if (got.want != ferry::tls::Want::done) break;
      drained += got.bytes;
    }
  }
  outcome.error = std::move(error.text);
  co_return outcome;
}

void start_transfer(tcp::socket socket, ServerState& state, Worker& worker, SessionContext context,
                    TransferSlot slot, std::optional<TransferToken> token) {
  const SessionLabel session_id = context.label();
  auto transfer = std::make_shared<Transfer>(std::move(socket), state, worker, context,
                                             std::move(slot), std::move(token));
  asio::co_spawn(
      worker.context, [transfer] { return transfer->run(); },
      log_failure(fmt::format("session {}: transfer", session_id)));
}

}  // namespace ferryd
