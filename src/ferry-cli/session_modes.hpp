#pragma once

// The three ways to drive a session. Each returns the exit status: 0 when every command
// succeeded, 1 when one failed, 128 + signal when a signal other than Ctrl-C at the
// prompt ended it.

#include <cstdio>
#include <string>
#include <vector>

#include "client_context.hpp"

namespace ferry::cli {

// `-c 'cmd; cmd'`: the commands given.
int run_command_list(ClientContext& context, const std::vector<std::string>& commands);

// Standard input is not a terminal: one command per line, no prompt. Lines starting
// with `#` are comments.
int run_script(ClientContext& context, std::FILE* input);

// `-b FILE`, as sftp's batch mode: each command echoed as `ftp> cmd` before it runs; the
// first failure ends the session with 1, unless its line starts with `-` (then the
// failure is ignored). Blank lines and `#` comments are skipped.
int run_batch(ClientContext& context, std::FILE* input);

// Standard input is a terminal: the `ftp> ` prompt with readline.
int run_interactive(ClientContext& context);

}  // namespace ferry::cli
