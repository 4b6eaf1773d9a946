#pragma once

// Entry points of the two kinds of connection. Each runs as a coroutine on the worker
// that owns its socket.

#include <asio/ip/tcp.hpp>

#include <cstdint>

namespace ferryd {

struct ServerState;
struct Worker;

// A control connection: OPEN and QUIT, until the client leaves, idles out or the server stops.
void start_control_session(asio::ip::tcp::socket socket, ServerState& state, Worker& worker,
                           std::uint64_t session_id);

// A transfer connection: one GET, PUT or LS request and its data.
void start_transfer(asio::ip::tcp::socket socket, ServerState& state, Worker& worker,
                    std::uint64_t session_id);

}  // namespace ferryd
