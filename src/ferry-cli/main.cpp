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
#include "login.hpp"
#include "session_modes.hpp"
#include "trace.hpp"

namespace {

constexpr int kUsageError = 2;

struct Options {
  std::string address;
  std::optional<std::string> port;
  std::optional<std::string> commands;
  std::optional<std::string> batch;
  std::optional<std::string> user;
  std::optional<std::string> password_file;
  double timeout_seconds = 30;
  bool quiet = false;
  bool verbose = false;
  bool tls = false;
  bool plain = false;
  ferry::cli::TlsSettings tls_settings;
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

int login_failed(const ferry::cli::LoginError& e) {
  if (*e.what() != '\0') fmt::print(stderr, "ferry: {}\n", e.what());
  return e.status();
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
                 "ferry://HOST:PORT/folder (starting in that remote folder); each may start "
                 "with USER@ to log in as USER")
      ->required();
  app.add_option("PORT", options.port, "server control port, when ADDRESS has none");
  auto* command = app.add_option("-c,--command", options.commands,
                                 "run these commands, separated by ';', then exit");
  app.add_option("-b,--batch", options.batch,
                 "run the commands in FILE ('-': standard input), echoing each; stop at the "
                 "first failure, except of a line starting with '-'")
      ->excludes(command);
  app.add_option("-u,--user", options.user,
                 "log in as USER (as USER@ in ADDRESS); without it, when the server requires a "
                 "login: the login of ~/.netrc's entry for the host, else the local user");
  app.add_option("--password-file", options.password_file,
                 "the login's password: the first line of FILE, which only you may read and "
                 "write; else ~/.netrc ($NETRC) has it, else it is asked at the terminal "
                 "(never given on the command line)");
  app.add_option("--timeout", options.timeout_seconds,
                 "seconds to wait for the network before giving up (default 30)")
      ->check(CLI::Range(0.001, 1e7));
  app.add_flag("-q,--quiet", options.quiet, "no progress line and no transfer summary");
  app.add_flag("-v,--verbose", options.verbose,
               "trace the protocol on stderr: each message head sent (>) and received (<)");
  auto* tls_flag = app.add_flag("--tls", options.tls,
                                "TLS or nothing: no plaintext fallback for a server without TLS");
  app.add_flag("--plain", options.plain,
               "plaintext, no TLS (a server of the seed's protocol; nothing is encrypted)")
      ->excludes(tls_flag);
  app.add_flag("--accept-new", options.tls_settings.accept_new,
               "record the TLS key of a server not known yet without asking (known_hosts)");
  app.add_option("--fingerprint", options.tls_settings.fingerprint,
                 "the server's TLS key fingerprint to expect (SHA256:..., as ferryd logs it)");
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
  const auto user = ferry::client::choose_user(address, options.user);
  if (!user.ok()) {
    fmt::print(stderr, "ferry: {} (try 'ferry --help')\n", user.error);
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
  options.tls_settings.mode = options.tls     ? ferry::cli::TlsSettings::Mode::required
                              : options.plain ? ferry::cli::TlsSettings::Mode::plain
                                              : ferry::cli::TlsSettings::Mode::automatic;
  options.tls_settings.can_ask = ::isatty(STDIN_FILENO) == 1 && ::isatty(STDERR_FILENO) == 1;
  ferry::cli::ControlConnection control(address.host, address.port, timeout, options.tls_settings);
  ferry::cli::Login login(
      control, {user.user, options.password_file, address.host, address.port, options.plain});
  try {
    control.connect();
    // At the prompt the server is asked at once what it is; scripts find out with their
    // first command, which FEATURES goes out with.
    if (interactive) control.probe();
    login.start();
  } catch (const ferry::cli::LoginError& e) {
    return login_failed(e);
  } catch (const ferry::cli::ForeignServerError& e) {
    fmt::print(stderr, "ferry: {}\n", e.what());
    return kUsageError;
  } catch (const ferry::cli::TrustError& e) {
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
  } catch (const ferry::cli::LoginError& e) {
    return login_failed(e);
  } catch (const ferry::cli::ForeignServerError& e) {
    fmt::print(stderr, "ferry: {}\n", e.what());
    return kUsageError;
  }
}
