#pragma once

// Where the prompt keeps its history across runs (XDG Base Directory specification).

#include <string>

namespace ferry::client {

// `$XDG_STATE_HOME/ferry/history`, or `$HOME/.local/state/ferry/history` when
// XDG_STATE_HOME is unset, empty or not absolute (the specification says to ignore it
// then); empty when neither gives an absolute directory. Arguments may be null.
std::string history_path(const char* xdg_state_home, const char* home);

}  // namespace ferry::client
