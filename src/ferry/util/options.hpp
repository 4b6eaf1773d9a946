#pragma once

// Per-command options, parsed one way for every command of the client: single letters,
// clustered or not (`-lh`, `-l -h`), anywhere among the operands; `--` ends them; `-` alone
// is an operand (standard output for `get`). A letter the command does not take is an
// error, never an operand.

#include <string>
#include <string_view>
#include <vector>

namespace ferry::util {

struct Arguments {
  std::string flags;  // the letters given, each once, in the order first seen
  std::vector<std::string> operands;
  std::string error;  // empty on success: `unknown option -r`
  bool ok() const { return error.empty(); }
  bool has(char flag) const { return flags.find(flag) != std::string::npos; }
};

// `allowed`: the letters the command takes.
Arguments parse_options(const std::vector<std::string>& words, std::string_view allowed);

}  // namespace ferry::util
