#pragma once

// The client's known_hosts file ($XDG_CONFIG_HOME/ferry/known_hosts): one server a line,
//
//     HOST PORT SHA256:<base64>
//
// HOST as the user names it (lower case; an IPv6 address without brackets). A line for a
// host and port means that server spoke TLS with that key: ferry never falls back to
// plaintext for it. '#' lines and blank lines are kept. Pure functions: no I/O.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace ferry::client {

struct KnownHost {
  std::string fingerprint;
  std::size_t line = 0;  // from 1, for the message that names it
};

// The entry for `host` and `port`, if any. Malformed lines are skipped.
std::optional<KnownHost> find_known_host(std::string_view text, std::string_view host,
                                         std::string_view port);

// `text` with the entry of `host` and `port` set to `fingerprint` (replacing an earlier one,
// or added at the end); every other line as it was.
std::string with_known_host(std::string_view text, std::string_view host, std::string_view port,
                            std::string_view fingerprint);

// The host as known_hosts writes it: lower case.
std::string known_host_name(std::string_view host);

// What to do with a server's certificate after the handshake.
struct TrustInput {
  bool ca_verified = false;             // chains to a trusted CA and matches the name
  std::string fingerprint;              // of the key the server showed
  std::optional<KnownHost> known;       // known_hosts' entry for this host and port
  std::optional<std::string> expected;  // --fingerprint
  bool accept_new = false;              // --accept-new
  bool can_ask = false;                 // a terminal to ask at
};

enum class TrustVerdict {
  trusted,      // known with this key
  trusted_new,  // CA-verified, --fingerprint matches or --accept-new, not on record: record it
  ask,          // not known: show the fingerprint and ask at the terminal
  refused_new,  // not known, and no way to ask (a script): refuse, say how to accept
  changed,      // known with another key: refuse loudly
  mismatch,     // --fingerprint given and different
};

TrustVerdict decide_trust(const TrustInput& input);

}  // namespace ferry::client
