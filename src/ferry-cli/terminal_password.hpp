#pragma once

// Asking for a password at the terminal without echo, as getpass(3) and ssh do.

#include <optional>
#include <string>
#include <string_view>

namespace ferry::cli {

// Whether there is a person to ask: standard input is a terminal (in scripts it is not, and
// nothing may wait for an answer that never comes).
bool can_ask_password();

// Shows `prompt` on the controlling terminal (/dev/tty; standard input and error when there
// is none) and reads one line from it with echo off, restored whatever happens; the line
// feed that ends it is written then, as getpass does. Echo is off before the prompt shows,
// so nothing typed after it appears. nullopt at end of input (Ctrl-D) or when a signal
// arrived (Ctrl-C: net::pending_signal() tells).
std::optional<std::string> ask_password(std::string_view prompt);

}  // namespace ferry::cli
