#include "server_tls.hpp"

#include <unistd.h>

#include <array>

#include "config.hpp"
#include "ferry/tls/identity.hpp"

namespace ferryd {

std::optional<std::string> ServerTls::load(const ServerConfig& config) {
  if (!config.tls_cert.empty()) {
    cert_file_ = config.tls_cert;
    key_file_ = config.tls_key;
    origin_ = "from " + cert_file_;
    return read_files();
  }
  const std::string state_dir =
      config.state_dir.empty() ? ferry::tls::default_state_dir() : config.state_dir;
  if (state_dir.empty()) {
    return std::string(
        "no state folder: neither XDG_STATE_HOME nor HOME is set (give --state-dir)");
  }
  std::array<char, 256> host{};
  if (::gethostname(host.data(), host.size() - 1) != 0) host = {'f', 'e', 'r', 'r', 'y', 'd'};
  std::string error;
  const auto identity = ferry::tls::load_or_create_identity(state_dir, host.data(), error);
  if (!identity) return "cannot make the TLS identity: " + error;
  cert_file_ = identity->cert_file;
  key_file_ = identity->key_file;
  origin_ = (identity->created ? "made in " : "from ") + state_dir;
  return read_files();
}

std::optional<std::string> ServerTls::reload() {
  return read_files();
}

std::optional<std::string> ServerTls::read_files() {
  std::string error;
  auto context = ferry::tls::Context::server(cert_file_, key_file_, error);
  if (!context) return error;
  std::string print = ferry::tls::fingerprint(context->certificate());
  if (const auto running = current()) context->adopt_ticket_keys(*running);
  auto shared = std::make_shared<const ferry::tls::Context>(std::move(*context));
  const std::lock_guard lock(mutex_);
  current_ = std::move(shared);
  fingerprint_ = std::move(print);
  return std::nullopt;
}

std::shared_ptr<const ferry::tls::Context> ServerTls::current() const {
  const std::lock_guard lock(mutex_);
  return current_;
}

std::string ServerTls::fingerprint() const {
  const std::lock_guard lock(mutex_);
  return fingerprint_;
}

}  // namespace ferryd
