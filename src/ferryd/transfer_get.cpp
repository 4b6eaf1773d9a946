// GET: `OK` + FILESIZE, then the file with sendfile(2).
//
// sendfile from a file that is not in the page cache waits for the disk on the worker's
// thread, and every other connection of that worker waits with it. So the file goes out
// in windows: a window whose pages are all cached is sent on the worker; one that is not
// is first read in on a file thread (docs/DESIGN.md, "Cold files").

#include <fcntl.h>
#include <asio/write.hpp>
#include "use_nothrow.hpp"

#include <cerrno>
#include <memory>
#include <tuple>

#include "ferry/fs/request_error.hpp"
#include "ferry/net/mover.hpp"
#include "ferry/protocol/message.hpp"
#include "ferry/util/errno_text.hpp"
#include "local_files.hpp"
#include "page_cache.hpp"
#include "transfer.hpp"

namespace ferryd {
namespace {

using asio::awaitable;
using asio::ip::tcp;

constexpr std::uint64_t kCacheWindow = std::uint64_t{8} * 1024 * 1024;

// Closes the file on a file thread, whichever way the GET ends, when it was opened on one:
// on a slow file system a close waits too (FUSE's FLUSH). Nobody waits for it.
class CloseOffWorker {
 public:
  CloseOffWorker(FileThreads& threads, ferry::fs::Fd& fd, bool off_worker)
      : threads_(threads), fd_(fd), off_worker_(off_worker) {}
  CloseOffWorker(const CloseOffWorker&) = delete;
  CloseOffWorker& operator=(const CloseOffWorker&) = delete;
  ~CloseOffWorker() {
    if (!off_worker_ || !fd_.valid()) return;  // a fast file system: closed on the worker
    auto held = std::make_shared<ferry::fs::Fd>(std::move(fd_));
    threads_.run([held]() mutable { held.reset(); });
  }

 private:
  FileThreads& threads_;
  ferry::fs::Fd& fd_;
  bool off_worker_;
};

}  // namespace

awaitable<Outcome> Transfer::get(const ferry::protocol::Get& request) {
  const std::string& path = request.path;
  // Opening waits on the file system where its names are not in the kernel's lookup cache,
  // and on a FUSE or network file system in any case (on a slow one, seconds). So: on the
  // worker for a file of the root's local file system whose names are cached (a thread hop
  // per small GET cost a fifth of the small-files rate), else on a file thread, and then the
  // close too (docs/DESIGN.md, "A thread per wait").
  const bool local =
      state_.local_device && cached_on_device(*context_.root, path, *state_.local_device);
  auto file =
      local ? ferry::fs::open_for_reading(*context_.root, path, ferry::fs::Lookup::cached_only)
            : ferry::fs::SysResult<ferry::fs::ReadableFile>(ferry::fs::SysError{EAGAIN});
  const bool may_wait = !file && file.error().code == EAGAIN;
  if (may_wait) {
    pause_rate();
    file = co_await on_file_thread(
        state_, [&] { return ferry::fs::open_for_reading(*context_.root, path); });
    resume_rate();
  }
  if (!file) {
    ferry::protocol::Error error = ferry::fs::request_error(file.error(), path);
    co_return co_await refuse(std::move(error));
  }
  const CloseOffWorker close_later(state_.file_threads, file->fd, may_wait);
  Outcome outcome;
  const std::uint64_t size = file->size;
  const int file_fd = file->fd.get();
  const std::string answer = ok_with_size(size);
  if (!co_await send(answer)) {
    outcome.error = cause("connection lost before the data");
    co_return outcome;
  }

  if (channel_.is_tls()) co_return co_await send_over_tls(file_fd, size);

  if (!socket_.native_non_blocking()) socket_.native_non_blocking(true);  // an ioctl each time
  const int socket_fd = socket_.native_handle();
  off_t offset = 0;
  std::uint64_t window_end = 0;  // bytes before it are known to be cached
  while (outcome.bytes < size) {
    if (outcome.bytes >= window_end) {
      std::string error = co_await cache_window(file_fd, outcome.bytes, size, window_end);
      if (!error.empty()) {
        outcome.error = std::move(error);
        co_return outcome;
      }
    }
    using State = ferry::net::SendStep::State;
    const auto step = ferry::net::send_file_step(
        socket_fd, file_fd, offset, static_cast<std::size_t>(window_end - outcome.bytes));
    switch (step.state) {
      case State::moved:
        outcome.bytes += step.bytes;
        moved(step.bytes);
        continue;
      case State::file_ended:
        outcome.error = "file shrank while it was being sent";
        co_return outcome;
      case State::peer_closed:
      case State::failed:
        outcome.error =
            cause(std::string("connection lost: ") + ferry::util::errno_text(step.error));
        co_return outcome;
      case State::would_block:
        break;
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

awaitable<std::string> Transfer::cache_window(int file_fd, std::uint64_t at, std::uint64_t size,
                                              std::uint64_t& window_end) {
  const std::uint64_t length = std::min(size - at, kCacheWindow);
  const bool cached = is_cached(file_fd, at, length);
  if (!cached) {
    pause_rate();
    const int error = co_await on_file_thread(
        state_, [file_fd, at, length] { return read_into_cache(file_fd, at, length); });
    resume_rate();
    // Closed meanwhile (the shutdown): the socket's number may be another file's by now.
    if (!socket_.is_open()) co_return cause("connection closed");
    if (error != 0)
      co_return std::string("cannot read the file: ") + ferry::util::errno_text(error);
  }
  window_end = at + length;
  // A cold file: the kernel reads the next window ahead while this one is sent, so that the
  // disk and the network work at once.
  if (!cached && window_end < size) {
    ::posix_fadvise(file_fd, static_cast<off_t>(window_end),
                    static_cast<off_t>(std::min(size - window_end, kCacheWindow)),
                    POSIX_FADV_WILLNEED);
  }
  co_return std::string();
}

}  // namespace ferryd
