#pragma once

// A transfer connection: one GET, PUT or LS request, its data, then the close. Private to
// the transfer_*.cpp files: the request's dispatch (transfer_session.cpp) and one file per
// action (transfer_get.cpp, transfer_put.cpp, transfer_list.cpp).

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "channel.hpp"
#include "ferry/fs/file_ops.hpp"
#include "ferry/protocol/errors.hpp"
#include "ferry/protocol/message.hpp"
#include "ferry/protocol/requests.hpp"
#include "rate_floor.hpp"
#include "server_state.hpp"
#include "session_context.hpp"
#include "transfer_slot.hpp"
#include "transfer_token.hpp"
#include "watchdog.hpp"

namespace ferryd {

// What one request did, for its log line.
struct Outcome {
  std::uint64_t bytes = 0;
  std::string error;  // empty: success
};

// `OK` + `FILESIZE: <n>`: the answer to a GET before its data, and to a stored PUT.
std::string ok_with_size(std::uint64_t size);

class Transfer final : public Closable {
 public:
  Transfer(asio::ip::tcp::socket socket, ServerState& state, Worker& worker, SessionContext context,
           TransferSlot slot, std::optional<TransferToken> token);
  ~Transfer();
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;

  asio::awaitable<void> run();
  void close() override;

 private:
  asio::awaitable<Outcome> dispatch(const ferry::protocol::Message& message, std::string& path);
  // The table of requests: std::visit picks the action by the request's type.
  asio::awaitable<Outcome> act(const ferry::protocol::Get& request) { return get(request); }
  asio::awaitable<Outcome> act(const ferry::protocol::Put& request) { return put(request); }
  asio::awaitable<Outcome> act(const ferry::protocol::Ls& request) { return list(request); }
  asio::awaitable<Outcome> get(const ferry::protocol::Get& request);
  asio::awaitable<Outcome> put(const ferry::protocol::Put& request);
  struct Received {
    enum class End { complete, lost, refused };
    End end = End::complete;
    std::string message;  // when refused: the reason for the ERROR answer
    ferry::protocol::ErrorKind kind = ferry::protocol::ErrorKind::io;
  };
  asio::awaitable<Received> receive(ferry::fs::Upload& upload, std::uint64_t size,
                                    std::uint64_t& received);
  asio::awaitable<Outcome> list(const ferry::protocol::Ls& request);
  // GET's windows: makes sure the one starting at `at` is in the page cache, reading it in
  // on a file thread when it is not; sets `window_end`. The reason when it cannot.
  asio::awaitable<std::string> cache_window(int file_fd, std::uint64_t at, std::uint64_t size,
                                            std::uint64_t& window_end);

  // The connection's bytes, plaintext or TLS (transfer_tls.cpp): each step waits for the
  // socket's readiness as it needs.
  asio::awaitable<ferry::tls::Step> open_channel();
  // Waits until the socket is readable or writable, as `want` says; false when it closed.
  asio::awaitable<bool> ready_for(ferry::tls::Want want);
  asio::awaitable<ferry::tls::Step> read_some(char* data, std::size_t size);
  asio::awaitable<bool> write_all(std::string_view data);
  // GET's and PUT's data over TLS: through OpenSSL's buffers (or kTLS's sendfile).
  asio::awaitable<Outcome> send_over_tls(int file_fd, std::uint64_t size);
  asio::awaitable<Received> receive_over_tls(ferry::fs::Upload& upload, std::uint64_t size,
                                             std::uint64_t& received);
  // Answers `ERROR <text>` (the edge where a typed error becomes text), then drains.
  asio::awaitable<Outcome> refuse(ferry::protocol::Error error);
  asio::awaitable<bool> send(const std::string& text);

  // The rate floor's windows, on the watchdog: a window that moved too little closes the
  // connection. Time the server spends on its own work is paused out.
  void start_window();
  void window_ended();
  void moved(std::uint64_t bytes) { rate_.moved(bytes); }
  void pause_rate() { rate_.pause(); }
  void resume_rate() { rate_.resume(); }
  // `what`, and why when the rate floor cut the connection.
  std::string cause(std::string_view what) const;

  asio::ip::tcp::socket socket_;
  Channel channel_;     // plaintext or TLS, on socket_
  ServerState& state_;  // the file threads and the counters; never the root or permissions
  Worker& worker_;
  SessionContext context_;
  SessionLabel session_id_;  // the log's name of the session: its id, and its user
  TransferSlot slot_;
  std::optional<TransferToken> token_;  // the one the request must present, if any
  Watchdog watchdog_;
  RateFloor rate_;
  std::string cut_reason_;  // set when the rate floor closed the connection
  bool draining_ = false;   // after an early ERROR: the watchdog's deadline is the drain's end
  std::string buffer_;      // bytes read past the request head: the start of PUT's data
};

// Runs a blocking function on one of the file threads (FileThreads) and resumes the
// coroutine on its worker with the result. `work` runs on that thread; nothing it touches
// may be used meanwhile.
template <typename Work>
auto on_file_thread(ServerState& state, Work work) -> asio::awaitable<decltype(work())> {
  using Result = decltype(work());
  const asio::any_io_executor executor = co_await asio::this_coro::executor;
  auto start = [&state, &work, executor](auto handler) {
    // A std::function must be copyable; the coroutine's handler is not.
    auto resume = std::make_shared<decltype(handler)>(std::move(handler));
    state.file_threads.run([&work, resume, guard = asio::make_work_guard(executor)] {
      Result result = work();
      asio::post(guard.get_executor(),
                 [resume, result = std::move(result)]() mutable { (*resume)(std::move(result)); });
    });
  };
  co_return co_await asio::async_initiate<const asio::use_awaitable_t<>, void(Result)>(
      start, asio::use_awaitable);
}

}  // namespace ferryd
