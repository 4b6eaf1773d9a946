// PUT: the data into a temporary file (splice(2) from the socket, or a buffer where the file
// system cannot splice), then on a file thread fsync, rename over the target, fsync of the
// directory, and only then `OK`.

#include <spdlog/spdlog.h>
#include <asio/write.hpp>
#include "use_nothrow.hpp"

#include <unistd.h>

#include <cerrno>
#include <tuple>

#include "ferry/fs/request_error.hpp"
#include "ferry/net/mover.hpp"
#include "ferry/net/splice_pipe.hpp"
#include "ferry/protocol/escape.hpp"
#include "ferry/protocol/message.hpp"
#include "ferry/util/errno_text.hpp"
#include "page_cache.hpp"
#include "transfer.hpp"

namespace ferryd {
namespace {

using asio::awaitable;
using asio::ip::tcp;

}  // namespace

awaitable<Outcome> Transfer::put(const ferry::protocol::Put& request) {
  const std::string& path = request.path;
  const std::uint64_t size = request.size;
  // Creating the temporary file waits on the file system: off the worker.
  pause_rate();
  auto upload = co_await on_file_thread(
      state_, [&] { return ferry::fs::Upload::begin(*context_.root, path, size); });
  resume_rate();
  if (!upload) {
    ferry::protocol::Error error = ferry::fs::request_error(upload.error(), path);
    co_return co_await refuse(std::move(error));
  }

  Outcome outcome;
  const Received received = co_await receive(*upload, size, outcome.bytes);
  if (received.end == Received::End::lost) {
    outcome.error = cause(fmt::format("connection closed after {} of {} bytes; upload discarded",
                                      outcome.bytes, size));
    co_return outcome;  // ~Upload removes the temporary file
  }
  if (received.end == Received::End::refused) {
    upload->abort();  // now, not after the answer and the drain
    ferry::protocol::Error error =
        ferry::protocol::error_about(received.kind, received.message, path);
    Outcome refused = co_await refuse(std::move(error));
    refused.bytes = outcome.bytes;
    co_return refused;
  }

  // fsync and rename wait for the disk: done on a file thread so this worker's other
  // connections go on meanwhile.
  pause_rate();
  int directory_sync_error = 0;
  const ferry::fs::SysError committed = co_await on_file_thread(state_, [&] {
    auto result = upload->commit();
    if (!result) return result.error();
    directory_sync_error = result->directory_sync_error;
    return ferry::fs::SysError{};
  });
  resume_rate();
  if (directory_sync_error != 0) {
    // The file is in place, and the client is told so; only its durability is in doubt.
    spdlog::warn("session {}: PUT \"{}\": stored, but the directory's fsync failed: {}",
                 session_id_, ferry::protocol::escape_visible(path),
                 ferry::util::errno_text(directory_sync_error));
  }
  if (committed.code != 0) {
    upload->abort();
    ferry::protocol::Error error = ferry::fs::request_error(committed, path);
    Outcome refused = co_await refuse(std::move(error));
    refused.bytes = outcome.bytes;  // the log says how much had arrived
    co_return refused;
  }
  const std::string answer = ok_with_size(size);
  if (!co_await send(answer)) outcome.error = "stored, but the client left before the answer";
  co_return outcome;
}

// Moves exactly `size` bytes of upload data into the file: first those that came with the
// head, then the socket's, with splice through a pipe of the worker's (no copy through user
// space) or, where the socket or file system does not take splice, through a buffer.
awaitable<Transfer::Received> Transfer::receive(ferry::fs::Upload& upload, std::uint64_t size,
                                                std::uint64_t& received) {
  using End = Received::End;
  using ferry::protocol::ErrorKind;
  using State = ferry::net::SplicePipe::Step::State;
  const auto write_failed = [](int error) {
    return Received{End::refused, ferry::fs::describe({error}), ferry::fs::error_kind({error})};
  };
  if (buffer_.size() > size) {
    co_return Received{End::refused, "more data than FILESIZE announced", ErrorKind::malformed};
  }
  if (const int error = ferry::net::write_all_to(upload.fd(), buffer_); error != 0) {
    co_return write_failed(error);
  }
  received = buffer_.size();
  buffer_ = {};
  if (channel_.is_tls()) co_return co_await receive_over_tls(upload, size, received);

  // A write into the page cache of a disk can wait for the disk (the kernel throttles a
  // writer that dirties pages faster than the disk takes them: a 3 GiB PUT onto this
  // machine's disk stalled the worker for 4.7 s). Such writes go to a file thread;
  // memory-backed file systems are written on the worker (docs/DESIGN.md, "Cold files").
  const bool drain_on_pool = may_wait_for_disk(upload.fd());
  bool splicing = true;
  if (!socket_.native_non_blocking()) socket_.native_non_blocking(true);  // an ioctl each time
  const int socket_fd = socket_.native_handle();
  while (received < size && splicing) {
    auto borrowed = worker_.pipes.borrow();
    if (!borrowed.lease) {
      if (borrowed.refusal == PipePool::Refusal::cannot_make) break;
      pause_rate();  // every pipe of this worker waits for the disk: the server's own wait
      co_await worker_.pipe_returned.async_wait(use_nothrow);
      resume_rate();
      if (!socket_.is_open()) co_return Received{End::lost, {}};
      continue;
    }
    PipePool::Lease& lease = *borrowed.lease;
    auto step = lease.pipe().fill(
        socket_fd, static_cast<std::size_t>(std::min<std::uint64_t>(size - received, 1 << 30)));
    if (step.state == State::moved) {
      const std::size_t in_pipe = step.bytes;
      if (drain_on_pool) {
        pause_rate();
        step = co_await on_file_thread(state_,
                                       [&] { return lease.pipe().drain(upload.fd(), in_pipe); });
        resume_rate();
        // Closed meanwhile (the shutdown): socket_fd's number may be another file's by now.
        if (!socket_.is_open()) co_return Received{End::lost, {}};
      } else {
        step = lease.pipe().drain(upload.fd(), in_pipe);
      }
    }
    switch (step.state) {
      case State::moved:
        received += step.bytes;
        moved(step.bytes);
        splicing = step.spliced;
        continue;
      case State::would_block: {
        borrowed.lease.reset();  // back to the pool before the wait
        const std::tuple<asio::error_code> waited =
            co_await socket_.async_wait(tcp::socket::wait_read, use_nothrow);
        if (std::get<0>(waited)) co_return Received{End::lost, {}};
        continue;
      }
      case State::output_error:
        lease.discard();
        co_return write_failed(step.error);
      case State::socket_error:
        if (step.error == EINVAL) {  // a socket that cannot splice
          splicing = false;
          continue;
        }
        co_return Received{End::lost, {}};
      case State::end_of_stream:
        co_return Received{End::lost, {}};
    }
  }

  // The buffer is this thread's, shared by its PUTs: filled and written with no co_await
  // between, after a wait for the socket to be readable.
  char* chunk = ferry::net::thread_copy_buffer();
  while (received < size) {
    const std::tuple<asio::error_code> waited =
        co_await socket_.async_wait(tcp::socket::wait_read, use_nothrow);
    if (std::get<0>(waited)) co_return Received{End::lost, {}};
    const std::size_t want = static_cast<std::size_t>(
        std::min<std::uint64_t>(size - received, ferry::net::kCopyBufferSize));
    const ssize_t n = ::read(socket_fd, chunk, want);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) co_return Received{End::lost, {}};
    const auto got = static_cast<std::size_t>(n);
    if (const int error = ferry::net::write_all_to(upload.fd(), {chunk, got}); error != 0) {
      co_return write_failed(error);
    }
    received += got;
    moved(got);
  }
  asio::error_code ec;
  if (socket_.available(ec) > 0) {
    co_return Received{End::refused, "more data than FILESIZE announced", ErrorKind::malformed};
  }
  co_return Received{End::complete, {}};
}

}  // namespace ferryd
