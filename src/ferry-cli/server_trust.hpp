#pragma once

// How the client reaches one server: TLS by default, verified by the system's CAs or by
// trust on first use (known_hosts, as OpenSSH does); plaintext only for a server that does
// not speak TLS and is not known as one (docs/DESIGN.md, "TLS and the fallback"). A control
// connection's reconnects and transfer connections keep what its first connect learnt.

#include <chrono>
#include <optional>
#include <string>

#include "ferry/net/link.hpp"
#include "ferry/tls/context.hpp"

namespace ferry::cli {

struct TlsSettings {
  enum class Mode {
    automatic,  // TLS; plaintext after a warning for a server that does not speak it
    required,   // --tls: TLS or nothing
    plain,      // --plain: never TLS
  };
  Mode mode = Mode::automatic;
  bool accept_new = false;                 // --accept-new: record an unknown key
  std::optional<std::string> fingerprint;  // --fingerprint SHA256:...: the key to expect
  bool can_ask = false;                    // a terminal to ask at
  std::string known_hosts_file;            // empty: $XDG_CONFIG_HOME/ferry/known_hosts
};

class ServerTrust {
 public:
  ServerTrust(std::string host, std::string port, TlsSettings settings);

  // A control connection. The first one decides between TLS and plaintext; later ones (a
  // reconnect) keep that decision. Throws NetError, and TrustError when the key is refused.
  net::Link connect_control(net::Timeout timeout);
  // A transfer connection to `endpoint`: TLS when the control connection is, resuming its
  // session, with the same server key. Throws NetError.
  net::Link connect_transfer(const net::Endpoint& endpoint, net::Timeout timeout);

  bool tls() const { return decided_tls_.value_or(false); }

 private:
  enum class Attempt { tls, not_tls };
  Attempt try_tls(net::Link& link, fs::Fd fd, net::Timeout handshake_timeout);
  void check_key(const tls::Session& session);
  bool ask(const std::string& fingerprint) const;
  void remember(const std::string& fingerprint, bool announce) const;
  std::string known_hosts_path() const;

  std::string host_;
  std::string port_;
  TlsSettings settings_;
  tls::Context context_;
  tls::TicketStore tickets_;
  std::optional<bool> decided_tls_;
  std::string fingerprint_;  // the trusted key of the server, once known
};

}  // namespace ferry::cli
