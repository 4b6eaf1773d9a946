#pragma once

// What is checked before any request's handler runs, on both kinds of connection. No asio.

#include <optional>

#include "ferry/protocol/errors.hpp"
#include "session_context.hpp"

namespace ferryd {

// Why a request may not run, or nullopt: the served directory (or the user's folder) was
// removed (logged once per directory), or the request changes files on a read-only server
// (`server is read-only`) or for a read-only user (`read-only`).
std::optional<ferry::protocol::Error> refusal_before(const SessionContext& context,
                                                     bool changes_files);

}  // namespace ferryd
