#pragma once

// Whether a session's OPEN must ask for a transfer token (`TOKEN: yes`, docs/PROTOCOL.md,
// "Transfer tokens"). A plaintext session of an anonymous server keeps the seed's exchanges
// byte for byte, so there a token stays the client's choice. With users (`--users`) a
// transfer must belong provably to its logged-in session; with TLS, to its TLS session.
// Pure: no asio, no state.

namespace ferryd {

constexpr bool tokens_required(bool tls, bool users) {
  return tls || users;
}

}  // namespace ferryd
