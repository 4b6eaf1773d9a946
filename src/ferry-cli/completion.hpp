#pragma once

// Tab completion at the prompt, through readline's hooks: command names for the first
// word; for each operand what the command table says it is (Command::operand_kinds):
// remote paths from listings of the directory being completed (cached a few seconds,
// forgotten after each command), local paths by readline's filename completion. Matches
// are quoted so that the line splits back into the names (util/word_quoting.hpp).
// A listing waits at most --timeout in all; any failure completes nothing.

#include "client_context.hpp"

namespace ferry::cli {

void install_completion(ClientContext& context);

// The listings cached for completion are dropped: the command may have changed them.
void forget_completion_listings();

}  // namespace ferry::cli
