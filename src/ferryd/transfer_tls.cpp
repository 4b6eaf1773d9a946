// A transfer connection's bytes through its Channel: plaintext on the socket, or TLS. Over
// TLS the data cannot go by splice or (without kTLS) by sendfile: GET reads the file into a
// buffer that OpenSSL encrypts, PUT writes what OpenSSL decrypted (docs/DESIGN.md, "TLS").

#include <asio/write.hpp>
#include "use_nothrow.hpp"

#include <unistd.h>

#include <cerrno>
#include <memory>
#include <tuple>

#include "ferry/fs/request_error.hpp"
#include "ferry/net/mover.hpp"
#include "ferry/util/errno_text.hpp"
#include "page_cache.hpp"
#include "transfer.hpp"

namespace ferryd {
namespace {

using asio::awaitable;
using asio::ip::tcp;
using ferry::tls::Step;
using ferry::tls::Want;

// Bytes a TLS GET reads from the file at a time, and a TLS PUT gathers before it writes:
// a few records (16 KiB each) per system call, a small buffer per transfer.
constexpr std::size_t kTlsChunk = std::size_t{64} * 1024;

}  // namespace

awaitable<bool> Transfer::ready_for(Want want) {
  const std::tuple<asio::error_code> waited = co_await socket_.async_wait(
      want == Want::read ? tcp::socket::wait_read : tcp::socket::wait_write, use_nothrow);
  co_return !std::get<0>(waited);
}

awaitable<Step> Transfer::open_channel() {
  // OpenSSL reads and writes the socket itself: it must never block the worker.
  asio::error_code ignored;
  socket_.native_non_blocking(true, ignored);
  const auto context = state_.tls.current();
  for (;;) {
    Step step = channel_.open(context);
    if (step.want != Want::read && step.want != Want::write) co_return step;
    if (!co_await ready_for(step.want)) co_return Step{Want::closed, 0, {}};
  }
}

awaitable<Step> Transfer::read_some(char* data, std::size_t size) {
  if (!channel_.is_tls()) {
    auto [ec, n] = co_await socket_.async_read_some(asio::buffer(data, size), use_nothrow);
    if (!ec) co_return Step{Want::done, n, {}};
    co_return Step{ec == asio::error::eof ? Want::closed : Want::failed, 0, ec.message()};
  }
  for (;;) {
    if (!socket_.is_open()) co_return Step{Want::closed, 0, {}};
    Step step = channel_.read(data, size);
    if (step.want != Want::read && step.want != Want::write) co_return step;
    if (!co_await ready_for(step.want)) co_return Step{Want::closed, 0, {}};
  }
}

awaitable<bool> Transfer::write_all(std::string_view data) {
  if (!channel_.is_tls()) {
    auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(data), use_nothrow);
    moved(n);
    co_return !ec;
  }
  while (!data.empty()) {
    if (!socket_.is_open()) co_return false;
    const Step step = channel_.write(data.data(), data.size());
    if (step.want == Want::done) {
      data.remove_prefix(step.bytes);
      moved(step.bytes);
      continue;
    }
    if (step.want != Want::read && step.want != Want::write) co_return false;
    if (!co_await ready_for(step.want)) co_return false;
  }
  co_return true;
}

awaitable<Outcome> Transfer::send_over_tls(int file_fd, std::uint64_t size) {
  Outcome outcome;
  ferry::tls::Session& session = *channel_.tls();
  const bool ktls = session.ktls_send();
  // Not zeroed (pread fills it), and no larger than the file: a small GET is the common one.
  const auto chunk_size = static_cast<std::size_t>(std::min<std::uint64_t>(size, kTlsChunk));
  const auto buffer =
      ktls ? nullptr : std::make_unique_for_overwrite<char[]>(std::max<std::size_t>(chunk_size, 1));
  std::uint64_t window_end = 0;
  while (outcome.bytes < size) {
    if (outcome.bytes >= window_end) {
      std::string error = co_await cache_window(file_fd, outcome.bytes, size, window_end);
      if (!error.empty()) {
        outcome.error = std::move(error);
        co_return outcome;
      }
    }
    const auto chunk =
        static_cast<std::size_t>(std::min<std::uint64_t>(window_end - outcome.bytes, kTlsChunk));
    if (ktls) {
      // The kernel encrypts: the file goes out by sendfile, as in plaintext.
      const Step step = session.send_file(file_fd, static_cast<off_t>(outcome.bytes), chunk);
      if (step.want == Want::done && step.bytes > 0) {
        outcome.bytes += step.bytes;
        moved(step.bytes);
        continue;
      }
      if (step.want != Want::write) {
        outcome.error = step.want == Want::done ? "file shrank while it was being sent"
                                                : cause("connection lost: " + step.error);
        co_return outcome;
      }
      if (!co_await ready_for(Want::write)) {
        outcome.error = cause("connection lost");
        co_return outcome;
      }
      continue;
    }
    const ssize_t n = ::pread(file_fd, buffer.get(), chunk, static_cast<off_t>(outcome.bytes));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      outcome.error = std::string("cannot read the file: ") + ferry::util::errno_text(errno);
      co_return outcome;
    }
    if (n == 0) {
      outcome.error = "file shrank while it was being sent";
      co_return outcome;
    }
    const auto got = static_cast<std::size_t>(n);
    if (!co_await write_all({buffer.get(), got})) {
      outcome.error = cause("connection lost");
      co_return outcome;
    }
    outcome.bytes += got;
  }
  co_return outcome;
}

awaitable<Transfer::Received> Transfer::receive_over_tls(ferry::fs::Upload& upload,
                                                         std::uint64_t size,
                                                         std::uint64_t& received) {
  using End = Received::End;
  const bool write_on_pool = may_wait_for_disk(upload.fd());
  const auto buffer = std::make_unique_for_overwrite<char[]>(
      std::max<std::size_t>(static_cast<std::size_t>(std::min<std::uint64_t>(size, kTlsChunk)), 1));
  while (received < size) {
    // Gathers what OpenSSL has (a record is at most 16 KiB), waiting only while it has none.
    std::size_t gathered = 0;
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(size - received, kTlsChunk));
    while (gathered < want) {
      // (No co_await inside a conditional expression: GCC 12 miscompiles it.)
      Step step;
      if (gathered == 0) {
        step = co_await read_some(buffer.get(), want);
      } else {
        step = channel_.read(buffer.get() + gathered, want - gathered);
      }
      if (step.want == Want::done) {
        gathered += step.bytes;
        continue;
      }
      if (gathered > 0 && (step.want == Want::read || step.want == Want::write)) break;
      co_return Received{End::lost, {}};
    }
    int error = 0;
    if (write_on_pool) {
      pause_rate();
      error = co_await on_file_thread(state_, [&] {
        return ferry::net::write_all_to(upload.fd(), {buffer.get(), gathered});
      });
      resume_rate();
      if (!socket_.is_open()) co_return Received{End::lost, {}};
    } else {
      error = ferry::net::write_all_to(upload.fd(), {buffer.get(), gathered});
    }
    if (error != 0) {
      co_return Received{End::refused, ferry::fs::describe({error}),
                         ferry::fs::error_kind({error})};
    }
    received += gathered;
    moved(gathered);
  }
  // More than announced: a byte OpenSSL has or decrypts now (a close_notify is no data).
  char extra = 0;
  if (channel_.read(&extra, 1).want == Want::done) {
    co_return Received{End::refused, "more data than FILESIZE announced",
                       ferry::protocol::ErrorKind::malformed};
  }
  co_return Received{End::complete, {}};
}

}  // namespace ferryd
