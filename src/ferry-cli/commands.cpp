#include "commands.hpp"

#include <algorithm>
#include <cstdio>

#include <fmt/format.h>

#include "errors.hpp"
#include "ferry/client/terminal_text.hpp"
#include "ferry/net/error.hpp"
#include "ferry/util/words.hpp"

namespace ferry::cli {
namespace {

void print_unknown(std::string_view name) {
  fmt::print(stderr, "unknown command: {} (type 'help' for a list)\n", client::printable(name));
}

Outcome run_help(ClientContext&, const Call& call) {
  if (!call.operands().empty()) {
    const Command* command = find_command(call.operands()[0]);
    if (command == nullptr) {
      print_unknown(call.operands()[0]);
      return Outcome::failed;
    }
    fmt::print("usage: {}\n{}\n", command->usage, command->help);
    return Outcome::ok;
  }
  fmt::print("commands:\n");
  for (const Command& command : command_table()) {
    const std::string_view first_line = command.help.substr(0, command.help.find('\n'));
    fmt::print("  {:<24} {}\n", command.usage, first_line);
  }
  return Outcome::ok;
}

Outcome run_quit(ClientContext&, const Call&) {
  return Outcome::quit;
}

constexpr Command kCommands[] = {
    {"ls", "", "ls [-l] [-h] [path]",
     "list a remote directory (default: the working directory)\n"
     "path may end in a glob (*, ?, [...]): the matching entries of its directory.\n"
     "On a terminal names are shown in columns; with -l, in scripts and in pipes one line\n"
     "each: type (d directory, f file, l link, o other), size, date (UTC), name.\n"
     "  -l  one entry a line, with type, size and date\n"
     "  -h  sizes in K, M, G (powers of 1024)",
     "lh", "r", 0, 1, run_ls},
    {"get", "", "get <remote> [local]",
     "download a remote file\n"
     "local defaults to the remote file's name; an existing directory receives the file;\n"
     "'-' writes to standard output. Nothing partial is ever left under the local name.",
     "", "rl", 1, 2, run_get},
    {"put", "", "put <local> [remote]",
     "upload a local file\n"
     "remote defaults to the local file's name in the working directory; a remote\n"
     "directory (or a name ending in '/') receives the file.",
     "", "lr", 1, 2, run_put},
    {"cd", "", "cd [dir]",
     "change the remote working directory (default: the served root)\n"
     "Every remote path is taken relative to it; '..' and '/dir' as in a shell.",
     "", "r", 0, 1, run_cd},
    {"pwd", "", "pwd", "show the remote working directory", "", "", 0, 0, run_pwd},
    {"mkdir", "", "mkdir [-p] <dir>...",
     "create remote directories\n"
     "  -p  create missing parents too; an existing directory is no error",
     "p", "r", 1, kAnyNumber, run_mkdir},
    {"rmdir", "", "rmdir <dir>...", "remove empty remote directories", "", "r", 1, kAnyNumber,
     run_rmdir},
    {"rm", "", "rm <path>...",
     "remove remote files (not directories)\n"
     "A path may end in a glob. All the requests go out at once: one round trip.",
     "", "r", 1, kAnyNumber, run_rm},
    {"mv", "rename", "mv [-f] <from> <to>",
     "rename or move a remote file or directory (also: rename)\n"
     "An existing directory as <to> receives <from>; an existing file is replaced only\n"
     "with -f.\n"
     "  -f  replace an existing target",
     "f", "r", 2, 2, run_mv},
    {"stat", "", "stat <path>...",
     "show a remote entry: type, size, modification time, mode, link target", "", "r", 1,
     kAnyNumber, run_stat},
    {"lcd", "", "lcd [dir]", "change the local working directory (default: your home)", "", "l", 0,
     1, run_lcd},
    {"lpwd", "", "lpwd", "show the local working directory", "", "", 0, 0, run_lpwd},
    {"lls", "", "lls [-l] [-h] [path]",
     "list a local directory, as ls lists a remote one\n"
     "  -l  one entry a line, with type, size and date\n"
     "  -h  sizes in K, M, G (powers of 1024)",
     "lh", "l", 0, 1, run_lls},
    {"!", "", "!<command>", "run a local shell command (/bin/sh -c); '!' alone starts your $SHELL",
     "", "l", 0, 1, run_shell},
    {"help", "", "help [command]", "list the commands, or show how to use one", "", "c", 0, 1,
     run_help},
    {"quit", "exit bye", "quit", "end the session (also: exit, bye)", "", "", 0, 0, run_quit},
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

Outcome run_guarded(ClientContext& context, const Command& command, const Call& call) {
  try {
    return command.run(context, call);
  } catch (const ForeignServerError&) {
    throw;  // the session cannot go on: main says so
  } catch (const LoginError&) {
    throw;  // neither can it without its login
  } catch (const net::NetError& e) {
    if (e.kind() == net::ErrorKind::cancelled) {
      fmt::print(stderr, "cancelled\n");
    } else {
      fmt::print(stderr, "error: {}\n", client::printable(e.what()));
    }
  } catch (const UsageError& e) {
    fmt::print(stderr, "{}: {}\nusage: {}\n", command.name, client::printable(e.what()),
               command.usage);
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", client::printable(e.what()));
  }
  return Outcome::failed;
}

}  // namespace

std::span<const Command> command_table() {
  return kCommands;
}

char operand_kind(const Command& command, std::size_t index) {
  const std::string_view kinds = command.operand_kinds;
  if (kinds.empty() || index >= command.max_operands) return 0;
  return kinds[std::min(index, kinds.size() - 1)];
}

const Command* find_command(std::string_view name) {
  for (const Command& command : kCommands) {
    if (command.name == name || has_alias(command.aliases, name)) return &command;
  }
  return nullptr;
}

Outcome run_command(ClientContext& context, std::string_view name,
                    std::vector<std::string> operands) {
  Call call{name, {}};
  call.args.operands = std::move(operands);
  return run_guarded(context, *find_command(name), call);
}

Outcome run_command_line(ClientContext& context, std::string_view line) {
  const std::size_t first = line.find_first_not_of(" \t");
  if (first != std::string_view::npos && line[first] == '!') {
    // The shell gets the line as typed: its own quoting, globs and expansions.
    Call call{"!", {}};
    const std::string_view rest = line.substr(first + 1);
    if (rest.find_first_not_of(" \t") != std::string_view::npos) {
      call.args.operands.emplace_back(rest);
    }
    return run_guarded(context, *find_command("!"), call);
  }
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
  const std::vector<std::string> words(split.words.begin() + 1, split.words.end());
  Call call{split.words[0], util::parse_options(words, command->options)};
  if (!call.args.ok()) {
    fmt::print(stderr, "{}: {}\nusage: {}\n", command->name, client::printable(call.args.error),
               command->usage);
    return Outcome::failed;
  }
  const std::size_t count = call.operands().size();
  if (count < command->min_operands || count > command->max_operands) {
    fmt::print(stderr, "usage: {}\n", command->usage);
    return Outcome::failed;
  }
  return run_guarded(context, *command, call);
}

}  // namespace ferry::cli
