#pragma once

#include <string_view>

#include "ferry/protocol/message.hpp"

namespace ferry::cli {

// Parses an answer head. Throws ServerError for `ERROR <message>` and NetError(protocol)
// for a malformed head; any other message is returned for the caller to check.
protocol::Message parse_answer(std::string_view head);

// Throws NetError(protocol) naming what was expected and what came instead.
[[noreturn]] void throw_unexpected(const protocol::Message& answer, std::string_view expected);

}  // namespace ferry::cli
