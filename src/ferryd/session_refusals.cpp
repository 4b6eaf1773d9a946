#include "session_refusals.hpp"

#include <fmt/format.h>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/steady_timer.hpp>
#include "use_nothrow.hpp"

#include <array>
#include <chrono>

#include "ferry/protocol/message.hpp"

namespace ferryd {
namespace {

using asio::ip::tcp;

// Refused connections drained at once, at most; past that a refusal closes at once.
constexpr int kMaxDrainingRefusals = 64;

// After a refusal's answer: what the client sends meanwhile is read (up to 16 KiB, for 1 s)
// before the close. A TLS client has sent its ClientHello by then, and a close with it
// unread would be a reset, which discards the answer before the client reads it.
asio::awaitable<void> drain_refused(tcp::socket socket, DrainingRefusals draining) {
  asio::steady_timer timer(socket.get_executor(), std::chrono::seconds(1));
  timer.async_wait([&socket](const asio::error_code& error) {
    asio::error_code ignored;
    if (!error) socket.close(ignored);  // the frame (and socket) outlive the cancelled timer
  });
  std::array<char, 4096> sink{};
  std::size_t drained = 0;
  while (drained < std::size_t{16} * 1024) {
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(sink), use_nothrow);
    if (ec) break;
    drained += n;
  }
  timer.cancel();
  asio::error_code ignored;
  socket.close(ignored);
  draining->fetch_sub(1);
}

}  // namespace

// The answer is the first thing the session reads. Non-blocking: a fresh socket's send
// buffer always has room for these few bytes.
void refuse_session(tcp::socket socket, const std::string& reason,
                    const DrainingRefusals& draining) {
  const std::string answer = ferry::protocol::format_error(reason);
  asio::error_code ec;
  socket.non_blocking(true, ec);
  socket.send(asio::buffer(answer), 0, ec);
  socket.shutdown(tcp::socket::shutdown_send, ec);
  if (draining->fetch_add(1) >= kMaxDrainingRefusals) {
    draining->fetch_sub(1);
    socket.close(ec);
    return;
  }
  const auto executor = socket.get_executor();
  asio::co_spawn(executor, drain_refused(std::move(socket), draining), asio::detached);
}

// The refusal text for a session over a limit.
std::string session_refusal(const AddressLimits& limits, AddressLimits::Admission admission,
                            const std::string& address) {
  if (admission == AddressLimits::Admission::over_total) {
    return fmt::format("too many sessions (limit {})", limits.max_total());
  }
  return fmt::format("too many sessions from {} (limit {} per address)", address,
                     limits.max_per_address());
}

}  // namespace ferryd
