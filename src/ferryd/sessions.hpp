#pragma once

// Entry points of the two kinds of connection. Each runs as a coroutine on the worker
// that owns its socket.

#include <asio/ip/tcp.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include "session_context.hpp"
#include "transfer_slot.hpp"
#include "transfer_token.hpp"

namespace ferryd {

struct ServerState;
struct Worker;

// A control connection: OPEN, QUIT and the version-2 requests, until the client leaves, idles out
// or the server stops. It holds the place `admitted_address` took in state.sessions, and gives it
// back at its end.
void start_control_session(asio::ip::tcp::socket socket, ServerState& state, Worker& worker,
                           std::uint64_t session_id, std::string admitted_address);

// --users (control_login.cpp): opens every user's folder inside the served root (which
// state.root holds) and starts the password checks. 0, or the exit status (2) after saying
// on stderr what is wrong. Without --users, nothing.
int start_logins(ServerState& state);
// The start's log line that says who may read and write what (after the first one).
void log_access(const ServerState& state);

// A transfer connection: one GET, PUT or LS request and its data. It holds `slot` to its end.
// With a `token` (its port was opened with `TOKEN: yes`), the request must present it.
void start_transfer(asio::ip::tcp::socket socket, ServerState& state, Worker& worker,
                    SessionContext context, TransferSlot slot,
                    std::optional<TransferToken> token = std::nullopt);

}  // namespace ferryd
