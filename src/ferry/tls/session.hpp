#pragma once

// One TLS 1.3 connection on a non-blocking socket (OpenSSL 3, the socket read and written by
// OpenSSL itself: kTLS can take over where the kernel offers it). Every call returns at once
// with what it did or what it waits for; the caller waits for the socket's readiness (the
// client with poll, the server with asio) and calls again. No asio here.

#include <sys/types.h>

#include <cstddef>
#include <memory>
#include <string>

#include "ferry/tls/context.hpp"

using SSL = struct ssl_st;

namespace ferry::tls {

enum class Want {
  done,    // the call did its work (`bytes` says how much for read and write)
  read,    // call again when the socket is readable
  write,   // call again when the socket is writable
  closed,  // the peer closed: its close_notify (a read), or gone (a write, the handshake)
  failed,  // a TLS or socket error: `error` says what
};

struct Step {
  Want want = Want::done;
  std::size_t bytes = 0;
  std::string error;
};

class Session {
 public:
  // A server's side of a connection on `fd` (which stays the caller's).
  static std::unique_ptr<Session> accept(const Context& context, int fd);
  // A client's side: `host` for SNI and the CA check; `resume` is a session of this server
  // to resume (a ticket from the control connection), or null; the tickets the server sends
  // on this connection go to `tickets` when given (it must outlive the session).
  static std::unique_ptr<Session> connect(const Context& context, int fd, const std::string& host,
                                          const Ticket* resume, TicketStore* tickets);
  // Until attach_reads(), the handshake writes but reads nothing from the socket (it waits
  // for `read`): the caller looks at the peer's first bytes itself, before OpenSSL takes them.
  void hold_reads();
  void attach_reads();
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  Step handshake();
  Step read(char* data, std::size_t size);
  Step write(const char* data, std::size_t size);
  // With kTLS for sending (ktls_send()): `size` bytes of `file` from `offset` by sendfile.
  Step send_file(int file, off_t offset, std::size_t size);
  // A transfer connection: OpenSSL reads up to `buffer` bytes at a time (several records)
  // instead of a record's header and then its body. Only where every wait is preceded by a
  // read, since decrypted data may then sit in OpenSSL's buffer with nothing on the socket.
  void read_ahead(std::size_t buffer);
  // Sends close_notify; does not wait for the peer's.
  void close_notify();

  bool resumed() const;
  bool ktls_send() const;
  bool ktls_receive() const;
  // Plaintext bytes already decrypted and not yet read; at least 1 while records read ahead
  // wait to be decrypted.
  std::size_t pending() const;
  // After the handshake: whether the peer's certificate chains to the trusted CAs and
  // matches the host name (client side), and the reason when it does not.
  bool verified(std::string& why) const;
  // SHA256:<base64> of the peer's public key; empty when it sent no certificate (resumed).
  std::string peer_fingerprint() const;
  // "TLSv1.3 TLS_AES_256_GCM_SHA384", for the log and the trace.
  std::string description() const;

  SSL* native() const { return ssl_; }

 private:
  explicit Session(SSL* ssl, int fd) : ssl_(ssl), fd_(fd) {}
  Step result_of(int status, std::size_t bytes, bool reading);
  SSL* ssl_ = nullptr;
  int fd_ = -1;
};

}  // namespace ferry::tls
