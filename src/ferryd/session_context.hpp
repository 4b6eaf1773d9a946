#pragma once

// What a request handler may know of its session: the root its paths resolve in (the served
// root, or a logged-in user's folder), what the session may do, its user and TLS session.
// Handed to every handler, so that none reads the root or the permissions from the server's
// shared state. No asio.

#include <fmt/format.h>

#include <atomic>
#include <cstdint>
#include <string_view>

#include "ferry/fs/fd.hpp"
#include "ferry/protocol/escape.hpp"

namespace ferryd {

// How a log line names a session: `7`, or `7 (alice)` once alice logged in (the name
// escaped as other peer text is). Formatted as `session {}: ...`.
struct SessionLabel {
  // From the id alone too, as every line named a session before users.
  // NOLINTNEXTLINE(google-explicit-constructor)
  SessionLabel(std::uint64_t session, std::string_view name = {}) : id(session), user(name) {}
  std::uint64_t id = 0;
  std::string_view user;  // empty: anonymous, or not logged in yet
};

struct SessionContext {
  std::uint64_t session_id = 0;
  // The served root or the user's folder; both open for the server's life (ServerState).
  const ferry::fs::Fd* root = nullptr;
  std::string_view root_path;                        // as configured, for the log
  bool read_only = false;                            // --read-only: nothing may change the tree
  std::atomic<bool>* root_removal_logged = nullptr;  // shared: the removal is logged once
  bool tls = false;  // the control connection speaks TLS: so must its transfer connections
  std::string_view user = {};   // the logged-in user (Accounts, the server's life); empty: none
  bool user_read_only = false;  // a read-only user: nothing may change the tree (`read-only`)

  SessionLabel label() const { return {session_id, user}; }
};

}  // namespace ferryd

template <>
struct fmt::formatter<ferryd::SessionLabel> {
  constexpr auto parse(fmt::format_parse_context& context) { return context.begin(); }
  template <class Context>
  auto format(const ferryd::SessionLabel& label, Context& context) const {
    if (label.user.empty()) return fmt::format_to(context.out(), "{}", label.id);
    return fmt::format_to(context.out(), "{} ({})", label.id,
                          ferry::protocol::escape_visible(label.user));
  }
};
