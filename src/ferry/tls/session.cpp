#include "ferry/tls/session.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <cerrno>
#include <climits>

#include "ferry/util/errno_text.hpp"

namespace ferry::tls {
namespace {

std::string truncated(int error) {
  return "the connection ended without TLS close_notify" +
         (error == 0 ? std::string(" (cut short?)") : " (" + util::errno_text(error) + ")");
}

}  // namespace

std::unique_ptr<Session> Session::accept(const Context& context, int fd) {
  SSL* ssl = SSL_new(context.native());
  if (ssl == nullptr) return nullptr;
  std::unique_ptr<Session> session(new Session(ssl, fd));
  if (SSL_set_fd(ssl, fd) != 1) return nullptr;
  SSL_set_accept_state(ssl);
  return session;
}

std::unique_ptr<Session> Session::connect(const Context& context, int fd, const std::string& host,
                                          const Ticket* resume, TicketStore* tickets) {
  SSL* ssl = SSL_new(context.native());
  if (ssl == nullptr) return nullptr;
  std::unique_ptr<Session> session(new Session(ssl, fd));
  if (SSL_set_fd(ssl, fd) != 1) return nullptr;
  SSL_set_app_data(ssl, tickets);
  // SNI only for names (RFC 6066: not for addresses); the host check for both.
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  if (X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) != 1) {
    SSL_set_tlsext_host_name(ssl, host.c_str());
    SSL_set1_host(ssl, host.c_str());
  }
  // A copy: OpenSSL marks a TLS 1.3 session used once as spent (RFC 8446, C.4: so that a
  // client's connections cannot be linked), but a session's transfer connections are linked
  // to it on purpose, and each resumes the control connection's session (docs/DESIGN.md).
  if (resume != nullptr) {
    SSL_SESSION* copy = SSL_SESSION_dup(resume->native());
    if (copy != nullptr) {
      SSL_set_session(ssl, copy);
      SSL_SESSION_free(copy);  // the connection holds its own reference
    }
  }
  SSL_set_connect_state(ssl);
  return session;
}

Session::~Session() {
  SSL_free(ssl_);
}

Step Session::result_of(int status, std::size_t bytes, bool reading) {
  if (status > 0) return Step{Want::done, bytes, {}};
  const int reason = SSL_get_error(ssl_, status);
  switch (reason) {
    case SSL_ERROR_WANT_READ:
      return Step{Want::read, 0, {}};
    case SSL_ERROR_WANT_WRITE:
      return Step{Want::write, 0, {}};
    case SSL_ERROR_ZERO_RETURN:
      return Step{Want::closed, 0, {}};
    case SSL_ERROR_SYSCALL: {
      const int error = errno;
      ERR_clear_error();
      // Data that ends without close_notify may have been cut by anyone on the path (a
      // forged FIN or RST): for a read that is a failure, never the end of the data. A write
      // that finds the peer gone is its close (it may have answered first).
      if (reading) return Step{Want::failed, 0, truncated(error)};
      if (error == 0 || error == ECONNRESET || error == EPIPE) {
        return Step{Want::closed, 0, util::errno_text(error)};
      }
      return Step{Want::failed, 0, util::errno_text(error)};
    }
    default: {
      std::string error = last_error("TLS error");
      // OpenSSL 3 reports a stream that ended without close_notify as an SSL error.
      if (error == "unexpected eof while reading") {
        return reading ? Step{Want::failed, 0, truncated(0)} : Step{Want::closed, 0, {}};
      }
      return Step{Want::failed, 0, std::move(error)};
    }
  }
}

Step Session::handshake() {
  ERR_clear_error();
  return result_of(SSL_do_handshake(ssl_), 0, false);
}

Step Session::read(char* data, std::size_t size) {
  ERR_clear_error();
  std::size_t n = 0;
  const int status = SSL_read_ex(ssl_, data, size, &n);
  return result_of(status, n, true);
}

Step Session::write(const char* data, std::size_t size) {
  ERR_clear_error();
  std::size_t n = 0;
  const int status = SSL_write_ex(ssl_, data, size, &n);
  return result_of(status, n, false);
}

Step Session::send_file(int file, off_t offset, std::size_t size) {
  ERR_clear_error();
  const ossl_ssize_t n = SSL_sendfile(ssl_, file, offset, size, 0);
  if (n >= 0) return Step{Want::done, static_cast<std::size_t>(n), {}};
  const int error = errno;
  if (error == EAGAIN) return Step{Want::write, 0, {}};
  ERR_clear_error();
  return Step{Want::failed, 0, util::errno_text(error)};
}

void Session::hold_reads() {
  BIO* empty = BIO_new(BIO_s_mem());
  if (empty == nullptr) return;
  BIO_set_mem_eof_return(empty, -1);  // "try again", never the end
  SSL_set0_rbio(ssl_, empty);
}

void Session::attach_reads() {
  BIO* socket = BIO_new_socket(fd_, BIO_NOCLOSE);
  if (socket != nullptr) SSL_set0_rbio(ssl_, socket);
}

void Session::read_ahead(std::size_t buffer) {
  SSL_set_read_ahead(ssl_, 1);
  SSL_set_default_read_buffer_len(ssl_, buffer);
}

void Session::close_notify() {
  ERR_clear_error();
  SSL_shutdown(ssl_);
  ERR_clear_error();
}

bool Session::resumed() const {
  return SSL_session_reused(ssl_) == 1;
}

bool Session::ktls_send() const {
  return BIO_get_ktls_send(SSL_get_wbio(ssl_)) == 1;
}

bool Session::ktls_receive() const {
  return BIO_get_ktls_recv(SSL_get_rbio(ssl_)) == 1;
}

std::size_t Session::pending() const {
  const int n = SSL_pending(ssl_);
  if (n > 0) return static_cast<std::size_t>(n);
  return SSL_has_pending(ssl_) == 1 ? 1 : 0;  // records read ahead, not yet decrypted
}

bool Session::verified(std::string& why) const {
  X509* peer = SSL_get0_peer_certificate(ssl_);
  if (peer == nullptr) {
    why = "no certificate";
    return false;
  }
  const long result = SSL_get_verify_result(ssl_);
  if (result == X509_V_OK) return true;
  why = X509_verify_cert_error_string(result);
  return false;
}

std::string Session::peer_fingerprint() const {
  return fingerprint(SSL_get0_peer_certificate(ssl_));
}

std::string Session::description() const {
  const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl_);
  return std::string(SSL_get_version(ssl_)) + " " +
         (cipher != nullptr ? SSL_CIPHER_get_name(cipher) : "-");
}

}  // namespace ferry::tls
