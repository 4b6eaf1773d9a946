#pragma once

// A transfer port: picked (or named by the client), bound on the address the client reached
// the server at, waiting for one connection from the client's own address, closed after a
// timeout. OPEN uses it; so will an FTP PASV/EPSV or a TLS transfer.

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

#include "ferry/protocol/errors.hpp"
#include "session_context.hpp"
#include "transfer_slot.hpp"
#include "transfer_token.hpp"

namespace ferryd {

// A port opened and not yet connected to.
struct OpenPort {
  explicit OpenPort(const asio::any_io_executor& executor) : acceptor(executor), timer(executor) {}
  asio::ip::tcp::acceptor acceptor;
  asio::steady_timer timer;
  std::uint16_t port = 0;
  bool timed_out = false;
  std::optional<TransferSlot> slot;    // handed on to the transfer connection
  std::optional<TransferToken> token;  // with `TOKEN: yes`: the request must present it
};

// Where `OPEN 0` picks from, and the only ports a client may name.
struct PortRange {
  std::uint16_t min = 0;
  std::uint16_t max = 0;
};

// Why a port the client named may not be opened (checked before anything is bound), or
// nullopt. 0 (the server picks) always passes.
std::optional<ferry::protocol::Error> refuse_requested_port(std::uint16_t requested,
                                                            PortRange range);

// Binds `port.acceptor` on `local`: the requested port or (0) a free one of `range`, by
// random probes then a scan. The error of the answer when no port could be bound.
std::optional<ferry::protocol::Error> bind_transfer_port(OpenPort& port,
                                                         const asio::ip::address& local,
                                                         std::uint16_t requested, PortRange range);

// Accepts until a connection from `client` arrives (others are closed and logged) or the
// port closes: after `timeout`, or when its owner closes the acceptor. The client's socket,
// or nullopt. `session_id` names the session in the log lines.
asio::awaitable<std::optional<asio::ip::tcp::socket>> accept_from_client(
    std::shared_ptr<OpenPort> port, asio::ip::address client, std::chrono::seconds timeout,
    SessionLabel session_id);

}  // namespace ferryd
