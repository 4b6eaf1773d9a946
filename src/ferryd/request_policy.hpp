#pragma once

// What is checked before any request's handler runs, on both kinds of connection. No asio.

#include <optional>

#include "ferry/protocol/errors.hpp"
#include "session_context.hpp"

namespace ferryd {

// Why a request may not run, or nullopt: the served directory was removed (logged once per
// server), or the request changes files on a read-only server.
std::optional<ferry::protocol::Error> refusal_before(const SessionContext& context,
                                                     bool changes_files);

}  // namespace ferryd
