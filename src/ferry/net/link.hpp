#pragma once

// A client connection, plaintext or TLS: the blocking-style helpers of socket.hpp and
// data_copy.hpp over either. Every wait is bounded by `timeout` (the time allowed without
// progress) and woken by an interrupt; failures throw NetError.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "ferry/fs/fd.hpp"
#include "ferry/net/data_copy.hpp"
#include "ferry/net/socket.hpp"
#include "ferry/tls/session.hpp"

namespace ferry::net {

class Link {
 public:
  Link() = default;
  explicit Link(fs::Fd fd) : fd_(std::move(fd)) {}
  Link(fs::Fd fd, std::unique_ptr<tls::Session> session)
      : fd_(std::move(fd)), session_(std::move(session)) {}

  int fd() const { return fd_.get(); }
  bool valid() const { return fd_.valid(); }
  tls::Session* tls() const { return session_.get(); }
  // Closes (TLS: after a close_notify, not waited for).
  void reset();

  void write_all(std::string_view data, Timeout timeout);
  // What is available, at most `size` bytes; 0 when the peer closed.
  std::size_t read_some(char* data, std::size_t size, Timeout timeout);
  // One message head (as net::read_head); the bytes after it stay in `buffer`.
  std::string read_head(std::string& buffer, Timeout timeout);
  // Without waiting: what has arrived (at most `size`), 0 when the peer closed, nullopt when
  // nothing is there yet.
  std::optional<std::size_t> read_now(char* data, std::size_t size);
  // Without waiting: how much of `data` was taken (0 when none can be now).
  std::size_t write_now(std::string_view data);
  // As net::peer_has_closed: true when the peer closed; what waits to be read is discarded.
  bool peer_has_closed();

  // As net::receive_exact and net::send_file, over either kind of connection.
  void receive_exact(std::string_view already_received, std::uint64_t count, int out,
                     std::string_view out_name, Timeout timeout, ProgressSink& progress,
                     off_t* out_offset = nullptr);
  SendEnd send_file(int file, std::uint64_t count, Timeout timeout, ProgressSink& progress,
                    std::uint64_t& sent, std::uint64_t from = 0);

 private:
  // Runs `step` until it is done or fails, waiting for the readiness it names.
  template <typename Step>
  tls::Step until_done(Step step, Timeout timeout);

  fs::Fd fd_;
  std::unique_ptr<tls::Session> session_;
};

// Runs a TLS handshake on `session` (of `fd`) to its end; throws NetError: timed_out,
// cancelled, closed, or protocol with OpenSSL's reason.
void complete_handshake(int fd, tls::Session& session, Timeout timeout);

}  // namespace ferry::net
