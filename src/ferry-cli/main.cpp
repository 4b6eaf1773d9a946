// ferry: the interactive file-transfer client. Parses options, connects the control
// connection and picks the mode: -c commands, a script on standard input, or the prompt.

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <optional>
#include <string>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "client_context.hpp"
#include "control_connection.hpp"
#include "ferry/net/error.hpp"
#include "ferry/net/interrupt.hpp"
#include "ferry/util/words.hpp"
#include "ferry/version.hpp"
#include "session_modes.hpp"

namespace {

constexpr int kUsageError = 2;

struct Options {
  std::string host;
  int port = 0;
  std::optional<std::string> commands;
  double timeout_seconds = 30;
  bool quiet = false;
};

}  // namespace

// Only CLI11 setup (programming errors) and std::bad_alloc can leave main; both end the
// process, as they should.
int main(int argc, char** argv) {  // NOLINT(bugprone-exception-escape)
  CLI::App app{"ferry: a file-transfer client (commands: ls, get, put, help, quit)", "ferry"};
  Options options;
  app.add_option("ADDRESS", options.host, "server host name, IPv4 or IPv6 address")->required();
  app.add_option("PORT", options.port, "server control port")
      ->required()
      ->check(CLI::Range(1, 65535));
  app.add_option("-c,--command", options.commands,
                 "run these commands, separated by ';', then exit");
  app.add_option("--timeout", options.timeout_seconds,
                 "seconds to wait for the network before giving up (default 30)")
      ->check(CLI::Range(0.001, 1e7));
  app.add_flag("-q,--quiet", options.quiet, "no progress line and no transfer summary");
  app.set_version_flag("--version", std::string("ferry ") + ferry::kVersion);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    fmt::print(stderr, "ferry: {} (try 'ferry --help')\n", e.what());
    return kUsageError;
  }

  std::vector<std::string> command_list;
  if (options.commands) {
    auto split = ferry::util::split_commands(*options.commands);
    if (!split.ok()) {
      fmt::print(stderr, "ferry: --command: {}\n", split.error);
      return kUsageError;
    }
    command_list = std::move(split.commands);
  }

  ferry::net::install_interrupt_handler();
  const ferry::net::Timeout timeout(std::llround(options.timeout_seconds * 1000));
  const std::string port = std::to_string(options.port);
  ferry::cli::ControlConnection control(options.host, port, timeout);
  try {
    control.connect();
  } catch (const ferry::net::NetError& e) {
    fmt::print(stderr, "ferry: cannot connect to {} port {}: {}\n", options.host, port, e.what());
    return kUsageError;
  }

  ferry::cli::ClientContext context{control, timeout, options.quiet,
                                    !options.quiet && ::isatty(STDERR_FILENO) == 1};
  if (options.commands) return ferry::cli::run_command_list(context, command_list);
  if (::isatty(STDIN_FILENO) == 1) return ferry::cli::run_interactive(context);
  return ferry::cli::run_script(context, stdin);
}
