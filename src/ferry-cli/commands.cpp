#include "commands.hpp"

#include <cstdio>
#include <optional>

#include <fmt/format.h>

#include "errors.hpp"
#include "ferry/client/terminal_text.hpp"
#include "ferry/net/error.hpp"
#include "ferry/util/words.hpp"
#include "transfers.hpp"

namespace ferry::cli {
namespace {

std::optional<std::string> optional_arg(const std::vector<std::string>& args, std::size_t i) {
  if (i < args.size()) return args[i];
  return std::nullopt;
}

Outcome run_ls(ClientContext& context, const std::vector<std::string>& args) {
  list_remote(context, optional_arg(args, 0));
  return Outcome::ok;
}

Outcome run_get(ClientContext& context, const std::vector<std::string>& args) {
  get_file(context, args[0], optional_arg(args, 1));
  return Outcome::ok;
}

Outcome run_put(ClientContext& context, const std::vector<std::string>& args) {
  put_file(context, args[0], optional_arg(args, 1));
  return Outcome::ok;
}

void print_unknown(std::string_view name) {
  fmt::print(stderr, "unknown command: {} (type 'help' for a list)\n", client::printable(name));
}

Outcome run_help(ClientContext&, const std::vector<std::string>& args) {
  if (!args.empty()) {
    const Command* command = find_command(args[0]);
    if (command == nullptr) {
      print_unknown(args[0]);
      return Outcome::failed;
    }
    fmt::print("usage: {}\n{}\n", command->usage, command->help);
    return Outcome::ok;
  }
  fmt::print("commands:\n");
  for (const Command& command : command_table()) {
    const std::string_view first_line = command.help.substr(0, command.help.find('\n'));
    fmt::print("  {:<22} {}\n", command.usage, first_line);
  }
  return Outcome::ok;
}

Outcome run_quit(ClientContext&, const std::vector<std::string>&) {
  return Outcome::quit;
}

constexpr Command kCommands[] = {
    {"ls", "", "ls [dir]",
     "list a remote directory (default: the served root)\n"
     "Shows type (d directory, f file, l link, o other), size, date (UTC) and name.",
     0, 1, run_ls},
    {"get", "", "get <remote> [local]",
     "download a remote file\n"
     "local defaults to the remote file's name; an existing directory receives the file;\n"
     "'-' writes to standard output. Nothing partial is ever left under the local name.",
     1, 2, run_get},
    {"put", "", "put <local> [remote]",
     "upload a local file\n"
     "remote defaults to the local file's name, in the served root.",
     1, 2, run_put},
    {"help", "", "help [command]", "list the commands, or show how to use one", 0, 1, run_help},
    {"quit", "exit bye", "quit", "end the session (also: exit, bye)", 0, 0, run_quit},
};

bool has_alias(std::string_view aliases, std::string_view name) {
  while (!aliases.empty()) {
    const std::size_t space = aliases.find(' ');
    if (aliases.substr(0, space) == name) return true;
    if (space == std::string_view::npos) break;
    aliases.remove_prefix(space + 1);
  }
  return false;
}

}  // namespace

std::span<const Command> command_table() {
  return kCommands;
}

const Command* find_command(std::string_view name) {
  for (const Command& command : kCommands) {
    if (command.name == name || has_alias(command.aliases, name)) return &command;
  }
  return nullptr;
}

Outcome run_command_line(ClientContext& context, std::string_view line) {
  const auto split = util::split_words(line);
  if (!split.ok()) {
    fmt::print(stderr, "error: {}\n", split.error);
    return Outcome::failed;
  }
  if (split.words.empty()) return Outcome::ok;
  const Command* command = find_command(split.words[0]);
  if (command == nullptr) {
    print_unknown(split.words[0]);
    return Outcome::failed;
  }
  const std::vector<std::string> args(split.words.begin() + 1, split.words.end());
  if (args.size() < command->min_args || args.size() > command->max_args) {
    fmt::print(stderr, "usage: {}\n", command->usage);
    return Outcome::failed;
  }
  try {
    return command->run(context, args);
  } catch (const net::NetError& e) {
    if (e.kind() == net::ErrorKind::cancelled) {
      fmt::print(stderr, "cancelled\n");
    } else {
      fmt::print(stderr, "error: {}\n", client::printable(e.what()));
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", client::printable(e.what()));
  }
  return Outcome::failed;
}

}  // namespace ferry::cli
