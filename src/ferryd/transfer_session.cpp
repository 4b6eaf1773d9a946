// A transfer connection: one GET, PUT or LS request, its data, then the close.

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <asio/co_spawn.hpp>
#include <asio/read.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include "use_nothrow.hpp"

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "ferry/fs/file_ops.hpp"
#include "ferry/net/splice_pipe.hpp"
#include "ferry/protocol/escape.hpp"
#include "ferry/protocol/limits.hpp"
#include "ferry/protocol/listing.hpp"
#include "ferry/protocol/message.hpp"
#include "ferry/util/errno_text.hpp"
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
using Clock = Watchdog::Clock;

constexpr std::size_t kPutBufferSize =
    std::size_t{256} * 1024;  // when the file system cannot splice
constexpr std::size_t kPutPipeSize = std::size_t{1024} * 1024;
constexpr std::size_t kListingChunk = std::size_t{64} * 1024;
constexpr std::size_t kMaxSendfileChunk = 1 << 30;
// After an early ERROR the client may still be sending; reading (and dropping) a bounded
// amount before the close gives it the chance to read the answer instead of a reset.
constexpr std::size_t kDrainLimit = std::size_t{64} * 1024 * 1024;
constexpr auto kDrainTime = std::chrono::seconds(2);

// `OK` + `FILESIZE: <n>`: the answer to a GET before its data, and to a stored PUT.
// (Built outside the co_await expressions: GCC 12 rejects a braced list of string literals
// in one.)
std::string ok_with_size(std::uint64_t size) {
  return format_message("OK", {{"FILESIZE", std::to_string(size)}});
}

// write(2) until all is written; 0 or the errno.
int write_all(int fd, const char* data, std::size_t length) {
  while (length > 0) {
    const ssize_t n = ::write(fd, data, length);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data += n;
    length -= static_cast<std::size_t>(n);
  }
  return 0;
}

// What one request did, for its log line.
struct Outcome {
  std::uint64_t bytes = 0;
  std::string error;  // empty: success
};

class Transfer final : public Closable {
 public:
  Transfer(tcp::socket socket, ServerState& state, Worker& worker, std::uint64_t session_id)
      : socket_(std::move(socket)),
        state_(state),
        worker_(worker),
        session_id_(session_id),
        watchdog_(socket_.get_executor(), [this] { close(); }) {
    state_.transfers.fetch_add(1);
  }
  ~Transfer() { state_.transfers.fetch_sub(1); }

  awaitable<void> run();
  void close() override {
    asio::error_code ignored;
    socket_.close(ignored);
  }

 private:
  awaitable<Outcome> get(const std::string& path);
  awaitable<Outcome> put(const std::string& path, const std::string* size_text);
  struct Received {
    enum class End { complete, lost, refused };
    End end = End::complete;
    std::string message;  // when refused: the reason for the ERROR answer
  };
  awaitable<Received> receive(ferry::fs::Upload& upload, std::uint64_t size,
                              std::uint64_t& received);
  awaitable<Outcome> list(const std::string& path);
  awaitable<Outcome> refuse(std::string message);
  awaitable<bool> send(const std::string& text);
  void progressed() { watchdog_.expire_after(state_.config.transfer_timeout); }
  std::string cause(std::string_view what) const {
    return watchdog_.expired() ? fmt::format("{} (no progress for {} s)", what,
                                             state_.config.transfer_timeout.count())
                               : std::string(what);
  }

  tcp::socket socket_;
  ServerState& state_;
  Worker& worker_;
  std::uint64_t session_id_;
  Watchdog watchdog_;
  std::string buffer_;  // bytes read past the request head: the start of PUT's data
};

awaitable<void> Transfer::run() {
  Registration registration(worker_.transfers, this);
  const auto started = Clock::now();
  const auto& config = state_.config;
  watchdog_.expire_after(config.transfer_timeout);

  HeadRead head = co_await read_head(socket_, buffer_, ferry::protocol::kMaxHeadBytes, watchdog_,
                                     config.head_timeout);
  std::string verb = "-";
  std::string path;
  Outcome outcome;
  // Every answer ends with the half-close. Corked, the answer's head, its data and the FIN
  // leave in as few segments as they fit in: a small GET sends one segment instead of three,
  // and costs 20 % fewer segments in all (docs/DESIGN.md).
  const int on = 1;
  ::setsockopt(socket_.native_handle(), IPPROTO_TCP, TCP_CORK, &on, sizeof on);
  if (head.outcome == HeadRead::Outcome::closed) {
    outcome.error = cause("closed before a complete request");
  } else if (head.outcome == HeadRead::Outcome::malformed) {
    outcome = co_await refuse(head.error);
  } else {
    const ferry::protocol::Message& message = head.message;
    verb = message.verb;
    const std::string* filename = message.header("FILENAME");
    if (message.is("LS")) {
      path = message.argument.value_or("");
      outcome = co_await list(path);
    } else if (!message.is("GET") && !message.is("PUT")) {
      outcome = co_await refuse("unknown command: " + message.verb);
    } else if (filename == nullptr || filename->empty()) {
      outcome = co_await refuse(message.verb + " needs a FILENAME header");
    } else if (message.is("GET")) {
      path = *filename;
      outcome = co_await get(path);
    } else {
      path = *filename;
      outcome = co_await put(path, message.header("FILESIZE"));
    }
  }
  watchdog_.stop();
  // The FIN first, with whatever the cork still holds (shutdown), then the close. A close
  // alone resets the connection when the client sent bytes nobody read, and that reset
  // would discard the held answer instead of sending it.
  asio::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_send, ignored);
  close();

  const std::chrono::duration<double> took = Clock::now() - started;
  const std::string what = fmt::format("session {}: {} \"{}\" {} bytes in {:.3f} s", session_id_,
                                       ferry::protocol::escape(verb), ferry::protocol::escape(path),
                                       outcome.bytes, took.count());
  if (outcome.error.empty()) {
    spdlog::info("{}: ok", what);
  } else {
    spdlog::warn("{}: {}", what, outcome.error);
  }
}

awaitable<bool> Transfer::send(const std::string& text) {
  auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(text), use_nothrow);
  if (!ec) progressed();
  co_return !ec;
}

// Answers ERROR, half-closes, and drains what the client may still be sending, bounded in
// bytes and time, so that the answer reaches it before the close.
awaitable<Outcome> Transfer::refuse(std::string message) {
  Outcome outcome;
  if (co_await send(format_error(message))) {
    asio::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    watchdog_.expire_after(kDrainTime);
    std::vector<char> sink(std::size_t{16} * 1024);
    std::size_t drained = 0;
    while (drained < kDrainLimit) {
      auto [read_ec, n] = co_await socket_.async_read_some(asio::buffer(sink), use_nothrow);
      if (read_ec) break;
      drained += n;
    }
  }
  outcome.error = std::move(message);
  co_return outcome;
}

awaitable<Outcome> Transfer::get(const std::string& path) {
  auto file = ferry::fs::open_for_reading(state_.root, path);
  if (!file) co_return co_await refuse(ferry::fs::describe(file.error()) + ": " + path);
  Outcome outcome;
  const std::uint64_t size = file->size;
  const std::string answer = ok_with_size(size);
  if (!co_await send(answer)) {
    outcome.error = cause("connection lost before the data");
    co_return outcome;
  }

  // sendfile moves the bytes from the page cache to the socket without a copy through
  // user space; on a full socket buffer we wait for it to drain.
  if (!socket_.native_non_blocking()) socket_.native_non_blocking(true);  // an ioctl each time
  const int socket_fd = socket_.native_handle();
  off_t offset = 0;
  while (outcome.bytes < size) {
    const std::size_t chunk =
        static_cast<std::size_t>(std::min<std::uint64_t>(size - outcome.bytes, kMaxSendfileChunk));
    const ssize_t n = ::sendfile(socket_fd, file->fd.get(), &offset, chunk);
    if (n > 0) {
      outcome.bytes += static_cast<std::uint64_t>(n);
      progressed();
      continue;
    }
    if (n == 0) {
      outcome.error = "file shrank while it was being sent";
      co_return outcome;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN) {
      outcome.error = cause(std::string("connection lost: ") + ferry::util::errno_text(errno));
      co_return outcome;
    }
    const std::tuple<asio::error_code> waited =
        co_await socket_.async_wait(tcp::socket::wait_write, use_nothrow);
    if (std::get<0>(waited)) {
      outcome.error = cause("connection lost");
      co_return outcome;
    }
  }
  co_return outcome;  // run() closes: the FIN follows the data
}

awaitable<Outcome> Transfer::put(const std::string& path, const std::string* size_text) {
  if (state_.config.read_only) co_return co_await refuse("server is read-only");
  if (size_text == nullptr) co_return co_await refuse("PUT needs a FILESIZE header");
  const std::uint64_t size = *ferry::protocol::parse_file_size(*size_text);  // checked by parse

  auto upload = ferry::fs::Upload::begin(state_.root, path, size);
  if (!upload) co_return co_await refuse(ferry::fs::describe(upload.error()) + ": " + path);

  Outcome outcome;
  const Received received = co_await receive(*upload, size, outcome.bytes);
  if (received.end == Received::End::lost) {
    outcome.error = cause(fmt::format("connection closed after {} of {} bytes; upload discarded",
                                      outcome.bytes, size));
    co_return outcome;  // ~Upload removes the temporary file
  }
  if (received.end == Received::End::refused) {
    upload->abort();  // now, not after the answer and the drain
    Outcome refused = co_await refuse(received.message + ": " + path);
    refused.bytes = outcome.bytes;
    co_return refused;
  }

  // fsync and rename wait for the disk: done on the disk pool so this worker's other
  // connections go on meanwhile.
  const ferry::fs::SysError committed = co_await asio::co_spawn(
      state_.disk_pool,
      [&upload]() -> awaitable<ferry::fs::SysError> {
        auto result = upload->commit();
        co_return result ? ferry::fs::SysError{} : result.error();
      },
      asio::use_awaitable);
  if (committed.code != 0) {
    upload->abort();
    co_return co_await refuse(ferry::fs::describe(committed) + ": " + path);
  }
  const std::string answer = ok_with_size(size);
  if (!co_await send(answer)) outcome.error = "stored, but the client left before the answer";
  co_return outcome;
}

// Moves exactly `size` bytes of upload data into the file: first those that came with the
// head, then the socket's, with splice (no copy through user space) or, on a file system
// that does not take splice, through a buffer.
awaitable<Transfer::Received> Transfer::receive(ferry::fs::Upload& upload, std::uint64_t size,
                                                std::uint64_t& received) {
  using End = Received::End;
  const auto write_failed = [](int error) {
    return Received{End::refused, ferry::fs::describe({error})};
  };
  if (buffer_.size() > size) co_return Received{End::refused, "more data than FILESIZE announced"};
  if (const int error = write_all(upload.fd(), buffer_.data(), buffer_.size()); error != 0) {
    co_return write_failed(error);
  }
  received = buffer_.size();
  buffer_ = {};

  auto pipe = ferry::net::SplicePipe::open(kPutPipeSize);
  std::vector<char> chunk;
  if (!socket_.native_non_blocking()) socket_.native_non_blocking(true);  // an ioctl each time
  const int socket_fd = socket_.native_handle();
  while (received < size) {
    const std::uint64_t left = size - received;
    if (pipe) {
      using State = ferry::net::SplicePipe::Step::State;
      const auto step = pipe->move(
          socket_fd, upload.fd(), static_cast<std::size_t>(std::min<std::uint64_t>(left, 1 << 30)));
      if (step.state == State::moved) {
        received += step.bytes;
        progressed();
        continue;
      }
      if (step.state == State::would_block) {
        const std::tuple<asio::error_code> waited =
            co_await socket_.async_wait(tcp::socket::wait_read, use_nothrow);
        if (std::get<0>(waited)) co_return Received{End::lost, {}};
        continue;
      }
      if (step.state == State::output_error) co_return write_failed(step.error);
      if (step.state != State::output_unsupported) co_return Received{End::lost, {}};
      // Empty the pipe through the buffer, and go on without it.
      chunk.resize(kPutBufferSize);
      for (std::size_t pending = step.bytes; pending > 0;) {
        const ssize_t n = ::read(pipe->read_end(), chunk.data(), std::min(pending, chunk.size()));
        if (n <= 0) co_return Received{End::refused, "internal pipe failed"};
        if (const int error = write_all(upload.fd(), chunk.data(), static_cast<std::size_t>(n));
            error != 0) {
          co_return write_failed(error);
        }
        pending -= static_cast<std::size_t>(n);
        received += static_cast<std::uint64_t>(n);
      }
      pipe.reset();
      continue;
    }

    chunk.resize(kPutBufferSize);
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(left, chunk.size()));
    auto [ec, n] = co_await socket_.async_read_some(asio::buffer(chunk.data(), want), use_nothrow);
    if (ec) co_return Received{End::lost, {}};
    if (const int error = write_all(upload.fd(), chunk.data(), n); error != 0) {
      co_return write_failed(error);
    }
    received += n;
    progressed();
  }
  asio::error_code ec;
  if (socket_.available(ec) > 0)
    co_return Received{End::refused, "more data than FILESIZE announced"};
  co_return Received{End::complete, {}};
}

awaitable<Outcome> Transfer::list(const std::string& path) {
  auto entries = ferry::fs::list_entries(state_.root, path);
  if (!entries) {
    // Built outside the co_await expression: GCC 12 destroys the temporary of a conditional
    // expression inside one twice (a double free that crashed the server on `LS nope`).
    std::string message = ferry::fs::describe(entries.error()) + ": " + (path.empty() ? "/" : path);
    co_return co_await refuse(std::move(message));
  }
  Outcome outcome;
  std::string text = format_message("OK");
  for (const auto& entry : *entries) {
    text += ferry::protocol::format_entry(entry);
    if (text.size() >= kListingChunk) {
      if (!co_await send(text)) {
        outcome.error = cause("connection lost");
        co_return outcome;
      }
      outcome.bytes += text.size();
      text.clear();
    }
  }
  if (!co_await send(text)) {
    outcome.error = cause("connection lost");
    co_return outcome;
  }
  outcome.bytes += text.size();
  co_return outcome;  // run() closes: the FIN follows the data
}

}  // namespace

void start_transfer(tcp::socket socket, ServerState& state, Worker& worker,
                    std::uint64_t session_id) {
  auto transfer = std::make_shared<Transfer>(std::move(socket), state, worker, session_id);
  asio::co_spawn(
      worker.context, [transfer] { return transfer->run(); },
      log_failure(fmt::format("session {}: transfer", session_id)));
}

}  // namespace ferryd
