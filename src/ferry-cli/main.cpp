// ferry: the interactive file-transfer client. Parses options, connects the control
// connection and picks the mode: -c commands, -b batch file, a script on standard input,
// or the prompt.

#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "client_context.hpp"
#include "commands.hpp"
#include "control_connection.hpp"
#include "errors.hpp"
#include "ferry/client/server_address.hpp"
#include "ferry/net/error.hpp"
#include "ferry/net/interrupt.hpp"
#include "ferry/util/errno_text.hpp"
#include "ferry/util/words.hpp"
#include "ferry/version.hpp"
#include "session_modes.hpp"
#include "trace.hpp"

namespace {

constexpr int kUsageError = 2;

struct Options {
  std::string address;
  std::optional<std::string> port;
  std::optional<std::string> commands;
  std::optional<std::string> batch;
  double timeout_seconds = 30;
  bool quiet = false;
  bool verbose = false;
};

struct FileCloser {
  void operator()(std::FILE* file) const { static_cast<void>(std::fclose(file)); }
};

int run_session(ferry::cli::ClientContext& context, const Options& options,
                const std::vector<std::string>& command_list, std::FILE* batch) {
  if (options.commands) return ferry::cli::run_command_list(context, command_list);
  if (batch != nullptr) return ferry::cli::run_batch(context, batch);
  if (context.interactive) return ferry::cli::run_interactive(context);
  return ferry::cli::run_script(context, stdin);
}

}  // namespace

// Only CLI11 setup (programming errors) and std::bad_alloc can leave main; both end the
// process, as they should.
int main(int argc, char** argv) {  // NOLINT(bugprone-exception-escape)
  CLI::App app{"ferry: a file-transfer client (type 'help' at its prompt for the commands)",
               "ferry"};
  Options options;
  app.add_option("ADDRESS", options.address,
                 "the server: HOST (then PORT), HOST:PORT, [IPv6]:PORT or "
                 "ferry://HOST:PORT/folder (starting in that remote folder)")
      ->required();
  app.add_option("PORT", options.port, "server control port, when ADDRESS has none");
  auto* command = app.add_option("-c,--command", options.commands,
                                 "run these commands, separated by ';', then exit");
  app.add_option("-b,--batch", options.batch,
                 "run the commands in FILE ('-': standard input), echoing each; stop at the "
                 "first failure, except of a line starting with '-'")
      ->excludes(command);
  app.add_option("--timeout", options.timeout_seconds,
                 "seconds to wait for the network before giving up (default 30)")
      ->check(CLI::Range(0.001, 1e7));
  app.add_flag("-q,--quiet", options.quiet, "no progress line and no transfer summary");
  app.add_flag("-v,--verbose", options.verbose,
               "trace the protocol on stderr: each message head sent (>) and received (<)");
  app.set_version_flag("--version", std::string("ferry ") + ferry::kVersion);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    fmt::print(stderr, "ferry: {} (try 'ferry --help')\n", e.what());
    return kUsageError;
  }
  const auto address = ferry::client::parse_server_address(options.address, options.port);
  if (!address.ok()) {
    fmt::print(stderr, "ferry: {} (try 'ferry --help')\n", address.error);
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
  std::unique_ptr<std::FILE, FileCloser> batch;
  if (options.batch && *options.batch != "-") {
    batch.reset(std::fopen(options.batch->c_str(), "re"));
    if (!batch) {
      fmt::print(stderr, "ferry: cannot read {}: {}\n", *options.batch,
                 ferry::util::errno_text(errno));
      return kUsageError;
    }
  }
  std::FILE* batch_input = options.batch ? (batch ? batch.get() : stdin) : nullptr;
  if (options.verbose) ferry::cli::enable_trace();

  ferry::net::install_interrupt_handler();
  const ferry::net::Timeout timeout(std::llround(options.timeout_seconds * 1000));
  const bool interactive = !options.commands && !options.batch && ::isatty(STDIN_FILENO) == 1;
  ferry::cli::ControlConnection control(address.host, address.port, timeout);
  try {
    control.connect();
    // At the prompt the server is asked at once what it is; scripts find out with their
    // first command, which FEATURES goes out with.
    if (interactive) control.probe();
  } catch (const ferry::cli::ForeignServerError& e) {
    fmt::print(stderr, "ferry: {}\n", e.what());
    return kUsageError;
  } catch (const ferry::net::NetError& e) {
    fmt::print(stderr, "ferry: cannot connect to {} port {}: {}\n", address.host, address.port,
               e.what());
    return kUsageError;
  }

  ferry::cli::ClientContext context{control,       timeout,
                                    options.quiet, !options.quiet && ::isatty(STDERR_FILENO) == 1,
                                    interactive,   ""};
  try {
    if (!address.directory.empty() &&
        ferry::cli::run_command(context, "cd", {address.directory}) != ferry::cli::Outcome::ok) {
      control.quit();
      return 1;
    }
    return run_session(context, options, command_list, batch_input);
  } catch (const ferry::cli::ForeignServerError& e) {
    fmt::print(stderr, "ferry: {}\n", e.what());
    return kUsageError;
  }
}
