#pragma once

// TLS settings shared by many connections: OpenSSL's SSL_CTX for a server (its certificate
// and key) or for a client (the system's CAs), TLS 1.3 only, kTLS asked for. No asio here.

#include <memory>
#include <optional>
#include <string>

using SSL_CTX = struct ssl_ctx_st;
using SSL_SESSION = struct ssl_session_st;
using X509 = struct x509_st;

namespace ferry::tls {

// A session a client may resume: a TLS 1.3 ticket the server sent.
class Ticket {
 public:
  explicit Ticket(SSL_SESSION* session) : session_(session) {}
  ~Ticket();
  Ticket(const Ticket&) = delete;
  Ticket& operator=(const Ticket&) = delete;
  SSL_SESSION* native() const { return session_; }

 private:
  SSL_SESSION* session_;
};

// Where a client's connections leave the tickets their servers send (the newest is kept).
class TicketStore {
 public:
  void keep(SSL_SESSION* session) { latest_ = std::make_shared<Ticket>(session); }
  std::shared_ptr<const Ticket> latest() const { return latest_; }
  void clear() { latest_.reset(); }

 private:
  std::shared_ptr<const Ticket> latest_;
};

class Context {
 public:
  // A server with the certificate chain (PEM, the server's first) and the key of these files.
  // nullopt with `error` set when they cannot be read or do not match.
  static std::optional<Context> server(const std::string& cert_file, const std::string& key_file,
                                       std::string& error);
  // A client trusting the system's CAs; each connection's tickets go to the TicketStore
  // named in Session::connect.
  static Context client();

  SSL_CTX* native() const { return context_.get(); }
  // Takes `other`'s session-ticket keys (a server reloading its certificate): tickets the
  // old context issued still resume, so running sessions' transfers keep resuming.
  void adopt_ticket_keys(const Context& other);
  // The server's certificate (server contexts).
  X509* certificate() const;

 private:
  explicit Context(SSL_CTX* context);
  std::shared_ptr<SSL_CTX> context_;
};

// SHA256:<base64 without padding> of the certificate's public key (its SubjectPublicKeyInfo),
// as OpenSSH writes a key's fingerprint. A key kept when the certificate is renewed keeps it.
std::string fingerprint(X509* certificate);

// The text of OpenSSL's newest error on this thread (and the queue emptied), or `fallback`.
std::string last_error(const std::string& fallback);

}  // namespace ferry::tls
