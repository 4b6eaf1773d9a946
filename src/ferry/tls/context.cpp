#include "ferry/tls/context.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <array>
#include <vector>

namespace ferry::tls {
namespace {

// A control session's tickets stay good this long: its transfers resume within it.
constexpr long kTicketLifetimeSeconds = 8L * 3600;

// The client's new-session callback: the ticket goes to the connection's store.
int keep_ticket(SSL* ssl, SSL_SESSION* session) {
  auto* store = static_cast<TicketStore*>(SSL_get_app_data(ssl));
  if (store == nullptr) return 0;  // not kept: OpenSSL frees it
  store->keep(session);
  return 1;  // kept: the store owns the reference
}

SSL_CTX* new_context(const SSL_METHOD* method) {
  SSL_CTX* context = SSL_CTX_new(method);
  if (context == nullptr) return nullptr;
  SSL_CTX_set_min_proto_version(context, TLS1_3_VERSION);
  SSL_CTX_set_max_proto_version(context, TLS1_3_VERSION);
  // kTLS where the kernel has the `tls` module; OpenSSL falls back by itself otherwise.
  SSL_CTX_set_options(context, SSL_OP_ENABLE_KTLS);
  // Idle connections give their buffers back (memory per idle session).
  SSL_CTX_set_mode(context, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                                SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  return context;
}

}  // namespace

Ticket::~Ticket() {
  SSL_SESSION_free(session_);
}

Context::Context(SSL_CTX* context) : context_(context, SSL_CTX_free) {}

std::optional<Context> Context::server(const std::string& cert_file, const std::string& key_file,
                                       std::string& error) {
  SSL_CTX* raw = new_context(TLS_server_method());
  if (raw == nullptr) {
    error = last_error("cannot make a TLS context");
    return std::nullopt;
  }
  Context context(raw);
  if (SSL_CTX_use_certificate_chain_file(raw, cert_file.c_str()) != 1) {
    error = cert_file + ": " + last_error("not a PEM certificate chain");
    return std::nullopt;
  }
  if (SSL_CTX_use_PrivateKey_file(raw, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    error = key_file + ": " + last_error("not a PEM private key");
    return std::nullopt;
  }
  if (SSL_CTX_check_private_key(raw) != 1) {
    error = key_file + ": the key does not match the certificate of " + cert_file;
    return std::nullopt;
  }
  // Stateless TLS 1.3 tickets: the server keeps nothing per ticket. Transfer connections
  // resume the control connection's session with them (docs/DESIGN.md, "TLS").
  SSL_CTX_set_session_cache_mode(raw, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_timeout(raw, kTicketLifetimeSeconds);
  return context;
}

Context Context::client() {
  SSL_CTX* raw = new_context(TLS_client_method());
  if (raw == nullptr) throw std::bad_alloc();
  SSL_CTX_set_default_verify_paths(raw);
  // The verdict is read after the handshake (Session::verified): a certificate no CA vouches
  // for goes to trust on first use instead of failing the handshake.
  SSL_CTX_set_verify(raw, SSL_VERIFY_NONE, nullptr);
  SSL_CTX_set_session_cache_mode(raw, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(raw, keep_ticket);
  return Context(raw);
}

void Context::adopt_ticket_keys(const Context& other) {
  // 16 bytes of key name, 32 of HMAC key, 32 of AES key (OpenSSL's ticket key layout).
  std::array<unsigned char, 80> keys{};
  if (SSL_CTX_get_tlsext_ticket_keys(other.native(), keys.data(), keys.size()) == 1) {
    SSL_CTX_set_tlsext_ticket_keys(context_.get(), keys.data(), keys.size());
  }
  OPENSSL_cleanse(keys.data(), keys.size());
}

X509* Context::certificate() const {
  return SSL_CTX_get0_certificate(context_.get());
}

std::string fingerprint(X509* certificate) {
  if (certificate == nullptr) return {};
  unsigned char* der = nullptr;
  const int length = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(certificate), &der);
  if (length <= 0) return {};
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_length = 0;
  const int digested = EVP_Digest(der, static_cast<std::size_t>(length), digest.data(),
                                  &digest_length, EVP_sha256(), nullptr);
  OPENSSL_free(der);
  if (digested != 1) return {};
  std::vector<unsigned char> base64(4 * ((digest_length + 2) / 3) + 1);
  const int written =
      EVP_EncodeBlock(base64.data(), digest.data(), static_cast<int>(digest_length));
  std::string text(reinterpret_cast<const char*>(base64.data()), static_cast<std::size_t>(written));
  while (!text.empty() && text.back() == '=')
    text.pop_back();
  return "SHA256:" + text;
}

std::string last_error(const std::string& fallback) {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return fallback;
  std::array<char, 256> text{};
  ERR_error_string_n(code, text.data(), text.size());
  // "error:0A000086:SSL routines::certificate verify failed": the reason is the last field.
  std::string message(text.data());
  const auto colon = message.rfind(':');
  return colon == std::string::npos ? message : message.substr(colon + 1);
}

}  // namespace ferry::tls
