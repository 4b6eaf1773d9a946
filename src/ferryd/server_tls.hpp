#pragma once

// The server's TLS context: the operator's certificate and key (--tls-cert, --tls-key) or
// the identity ferryd made in its state folder. SIGHUP reloads the files: connections that
// start afterwards use the new context, running ones keep theirs. No asio.

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "ferry/tls/context.hpp"

namespace ferryd {

struct ServerConfig;

class ServerTls {
 public:
  // Loads (or makes, in the state folder) the identity; the reason when it cannot.
  std::optional<std::string> load(const ServerConfig& config);
  // Reads the files again; on failure the running context stays and the reason is returned.
  std::optional<std::string> reload();

  std::shared_ptr<const ferry::tls::Context> current() const;
  std::string fingerprint() const;
  // Where the identity comes from, for the log: "made in DIR", "from DIR", "from FILE".
  const std::string& origin() const { return origin_; }

 private:
  std::optional<std::string> read_files();

  std::string cert_file_;
  std::string key_file_;
  std::string origin_;
  mutable std::mutex mutex_;  // current_ and fingerprint_: read by workers, set on SIGHUP
  std::shared_ptr<const ferry::tls::Context> current_;
  std::string fingerprint_;
};

}  // namespace ferryd
