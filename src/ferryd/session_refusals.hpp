#pragma once

// Sessions refused at accept (over --max-sessions, or from a locked-out address): the
// `ERROR` answer, then a short drain before the close, so that a client that spoke first (a
// TLS ClientHello) reads the answer instead of a reset. The accept loop's (server.cpp).

#include <asio/ip/tcp.hpp>

#include <atomic>
#include <memory>
#include <string>

#include "address_limits.hpp"

namespace ferryd {

// How many refused connections are being drained now (at most 64; past that, a refusal
// closes at once).
using DrainingRefusals = std::shared_ptr<std::atomic<int>>;

void refuse_session(asio::ip::tcp::socket socket, const std::string& reason,
                    const DrainingRefusals& draining);

// The refusal text for a session over a limit.
std::string session_refusal(const AddressLimits& limits, AddressLimits::Admission admission,
                            const std::string& address);

}  // namespace ferryd
