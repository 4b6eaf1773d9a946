#pragma once

// The command table: each command's name, usage, help and handler, and the dispatch of
// one command line.

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "client_context.hpp"

namespace ferry::cli {

enum class Outcome { ok, failed, quit };

struct Command {
  std::string_view name;
  std::string_view aliases;  // space-separated
  std::string_view usage;
  std::string_view help;
  std::size_t min_args;
  std::size_t max_args;
  Outcome (*run)(ClientContext& context, const std::vector<std::string>& args);
};

std::span<const Command> command_table();

// Finds a command by name or alias; nullptr when there is none.
const Command* find_command(std::string_view name);

// Splits the line into words and runs the command. An empty line is ok. Every failure is
// printed on stderr here; Ctrl-C during a transfer prints `cancelled`.
Outcome run_command_line(ClientContext& context, std::string_view line);

}  // namespace ferry::cli
