#pragma once

// One connection's byte stream, plaintext or TLS, told apart by the first byte the client
// sends: a TLS handshake starts with 0x16 (a handshake record), which no verb of the protocol
// does, so the seed's plaintext clients and TLS clients share the port. Non-blocking: every
// call returns at once with what it did or the readiness it waits for. No asio.

#include <cstddef>
#include <memory>

#include "ferry/tls/session.hpp"

namespace ferryd {

class Channel {
 public:
  // `tickets`: TLS 1.3 session tickets sent after the handshake, for the client's transfer
  // connections to resume with (control connections); 0 for a transfer connection.
  Channel(int fd, int tickets) : fd_(fd), tickets_(tickets) {}

  // Call until it returns done (or closed/failed): peeks at the first byte, then runs the
  // TLS handshake with `context` when it is one.
  ferry::tls::Step open(const std::shared_ptr<const ferry::tls::Context>& context);
  bool is_open() const { return stage_ == Stage::open; }
  bool is_tls() const { return session_ != nullptr; }

  ferry::tls::Step read(char* data, std::size_t size);
  ferry::tls::Step write(const char* data, std::size_t size);
  // TLS: sends close_notify (best effort, no wait). Plaintext: nothing.
  void close_notify();

  ferry::tls::Session* tls() const { return session_.get(); }
  int fd() const { return fd_; }

 private:
  enum class Stage { first_byte, handshake, open };
  int fd_;
  int tickets_;
  Stage stage_ = Stage::first_byte;
  std::shared_ptr<const ferry::tls::Context> context_;  // the one the session was made with
  std::unique_ptr<ferry::tls::Session> session_;
};

// The first byte of a TLS connection (RFC 8446, 5.1: ContentType handshake).
inline constexpr unsigned char kTlsHandshakeByte = 0x16;

}  // namespace ferryd
