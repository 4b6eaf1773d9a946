#pragma once

// The command table: each command's name, usage, options, help and handler, and the
// dispatch of one command line.

#include <cstddef>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "client_context.hpp"
#include "ferry/util/options.hpp"

namespace ferry::cli {

enum class Outcome { ok, failed, quit };

// One command line, parsed: the name as typed (an alias too) and the options and operands.
struct Call {
  std::string_view name;
  util::Arguments args;
  const std::vector<std::string>& operands() const { return args.operands; }
};

inline constexpr std::size_t kAnyNumber = std::numeric_limits<std::size_t>::max();

struct Command {
  std::string_view name;
  std::string_view aliases;  // space-separated
  std::string_view usage;
  std::string_view help;     // first line: the summary; then details and the options
  std::string_view options;  // the option letters it takes
  // What each operand is, for completion: `r` a remote path, `l` a local path, `c` a
  // command name; the last letter stands for every operand after it too. "" none.
  std::string_view operand_kinds;
  std::size_t min_operands;
  std::size_t max_operands;
  Outcome (*run)(ClientContext& context, const Call& call);
};

std::span<const Command> command_table();

// The kind of operand `index` (from 0) of `command`: a letter of operand_kinds, or 0.
char operand_kind(const Command& command, std::size_t index);

// Finds a command by name or alias; nullptr when there is none.
const Command* find_command(std::string_view name);

// Splits the line into words, parses the options and runs the command; a line starting
// with `!` goes to the shell as it is. An empty line is ok. Every failure is printed on
// stderr here; Ctrl-C during a transfer prints `cancelled`.
Outcome run_command_line(ClientContext& context, std::string_view line);

// Runs the command `name` with these operands (no options), printing its failure as
// run_command_line does: for what the command line of ferry itself asks (the folder of a
// ferry:// address).
Outcome run_command(ClientContext& context, std::string_view name,
                    std::vector<std::string> operands);

// The handlers, by family (cmd_transfer.cpp, cmd_manage.cpp, cmd_local.cpp).
Outcome run_ls(ClientContext& context, const Call& call);
Outcome run_get(ClientContext& context, const Call& call);
Outcome run_put(ClientContext& context, const Call& call);
Outcome run_cd(ClientContext& context, const Call& call);
Outcome run_pwd(ClientContext& context, const Call& call);
Outcome run_mkdir(ClientContext& context, const Call& call);
Outcome run_rmdir(ClientContext& context, const Call& call);
Outcome run_rm(ClientContext& context, const Call& call);
Outcome run_mv(ClientContext& context, const Call& call);
Outcome run_stat(ClientContext& context, const Call& call);
Outcome run_lcd(ClientContext& context, const Call& call);
Outcome run_lpwd(ClientContext& context, const Call& call);
Outcome run_lls(ClientContext& context, const Call& call);
Outcome run_shell(ClientContext& context, const Call& call);

}  // namespace ferry::cli
