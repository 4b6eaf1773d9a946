#pragma once

// A server's own TLS identity when the operator gives none: a private key and a self-signed
// certificate in its state folder, made on the first start and kept (like OpenSSH's host
// keys). No asio here.

#include <optional>
#include <string>

namespace ferry::tls {

struct Identity {
  std::string cert_file;
  std::string key_file;
  bool created = false;  // made by this start
};

// `$XDG_STATE_HOME/ferryd`, else `$HOME/.local/state/ferryd`; empty when neither is set.
std::string default_state_dir();

// The identity in `state_dir` (key.pem, mode 0600, and cert.pem), made there first when it
// is missing: an EC P-256 key and a certificate for `host_name`, signed by itself. The folder
// is made (mode 0700) when missing. Two servers starting at once make one identity (a lock).
// nullopt with `error` set when the folder or the files cannot be made.
std::optional<Identity> load_or_create_identity(const std::string& state_dir,
                                                const std::string& host_name, std::string& error);

}  // namespace ferry::tls
