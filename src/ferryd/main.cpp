// ferryd: serves a directory over the ferry protocol (docs/PROTOCOL.md).

#include <arpa/inet.h>
#include <spdlog/async.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "accounts.hpp"
#include "adduser.hpp"
#include "config.hpp"
#include "ferry/version.hpp"
#include "server.hpp"
#include "stop_signals.hpp"

namespace {

constexpr int kUsageError = 2;

int usage_error(const std::string& message) {
  static_cast<void>(std::fprintf(stderr, "ferryd: %s (see ferryd --help)\n", message.c_str()));
  return kUsageError;
}

// "MIN-MAX" with 1024 <= MIN <= MAX <= 65535.
bool parse_port_range(const std::string& text, ferryd::ServerConfig& config) {
  unsigned min = 0, max = 0;
  char dash = 0;
  int consumed = 0;
  // NOLINTNEXTLINE(cert-err34-c): at most 5 digits each; a sign or junk fails the checks below
  if (std::sscanf(text.c_str(), "%5u%c%5u%n", &min, &dash, &max, &consumed) != 3 || dash != '-' ||
      static_cast<std::size_t>(consumed) != text.size() || min < 1024 || max > 65535 || min > max) {
    return false;
  }
  config.data_port_min = static_cast<std::uint16_t>(min);
  config.data_port_max = static_cast<std::uint16_t>(max);
  return true;
}

bool is_ip_address(const std::string& text) {
  unsigned char storage[sizeof(in6_addr)];
  return inet_pton(AF_INET, text.c_str(), storage) == 1 ||
         inet_pton(AF_INET6, text.c_str(), storage) == 1;
}

}  // namespace

// Only CLI11 setup (programming errors) and std::bad_alloc can leave main; both end the
// process, as they should.
int main(int argc, char** argv) {  // NOLINT(bugprone-exception-escape)
  // `ferryd adduser ...`: a command of its own, not the server (its options are not PORT's).
  if (argc > 1 && std::string_view(argv[1]) == "adduser") {
    return ferryd::adduser_main(argc - 1, argv + 1);
  }
  ferryd::ServerConfig config;
  std::string data_ports;
  unsigned transfer_timeout = 30, idle_timeout = 300;

  CLI::App app{
      "ferryd: serves a directory to ferry clients over the ferry protocol.\n"
      "Clients connect to PORT (the control connection) and ask it to OPEN a transfer\n"
      "port for each GET, PUT or LS.",
      "ferryd"};
  app.set_version_flag("--version", std::string("ferryd ") + ferry::kVersion);
  app.add_option("PORT", config.port, "TCP port for control connections (0: any free port)")
      ->required()
      ->check(CLI::Range(0, 65535));
  app.add_option("--root", config.root, "Directory to serve (default: the current directory)")
      ->check(CLI::ExistingDirectory);
  app.add_option("--bind", config.bind_address,
                 "Listen on this address only (default: all interfaces, IPv4 and IPv6)");
  app.add_flag("--read-only", config.read_only,
               "Refuse every request that changes files (PUT, MKDIR, RMDIR, DELETE, RENAME)");
  app.add_option("--users", config.users_file,
                 "Users file (ferryd adduser): logins required, each user confined to its own "
                 "folder (default: none, anyone may read and write the root)");
  app.add_flag("--allow-plain-login", config.allow_plain_login,
               "Accept LOGIN without TLS (the password crosses the network in clear)");
  app.add_option("--data-ports", data_ports,
                 "Range for transfer ports chosen by the server, e.g. 50000-50100");
  app.add_option("--transfer-timeout", transfer_timeout,
                 "Seconds an opened transfer port waits for its connection, and a transfer may "
                 "stall (default 30)")
      ->check(CLI::Range(1u, 86400u));
  app.add_option("--idle-timeout", idle_timeout,
                 "Seconds a control connection may stay without a command (default 300)")
      ->check(CLI::Range(1u, 86400u));
  auto* max_sessions =
      app.add_option("--max-sessions", config.max_sessions,
                     "Control sessions served at once; more are refused (default 1000, lowered "
                     "to fit the descriptor limit)")
          ->check(CLI::Range(std::size_t{1}, std::size_t{1'000'000}));
  app.add_option("--max-sessions-per-ip", config.max_sessions_per_address,
                 "Control sessions one client address may hold at once (default 0: no limit)")
      ->check(CLI::Range(std::size_t{0}, std::size_t{1'000'000}));
  app.add_option("--max-open-ports", config.max_open_ports,
                 "Transfer ports a session may hold opened and not yet connected (default 16)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1024}));
  app.add_option("--max-transfers", config.max_transfers,
                 "Transfers (opened ports and connected transfers) at once, in all (default: "
                 "what the descriptor limit holds)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{10'000'000}));
  app.add_option("--max-transfers-per-session", config.max_transfers_per_session,
                 "Transfers one control session may hold at once (default 16)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1'000'000}));
  app.add_option("--max-transfers-per-ip", config.max_transfers_per_address,
                 "Transfers one client address may hold at once over all its sessions "
                 "(default: a quarter of --max-transfers, at least 16)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{10'000'000}));
  app.add_option("--max-listings", config.max_listings,
                 "LS requests listed at once; more are refused as busy (default 32)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{100'000}));
  app.add_option("--min-rate", config.min_rate,
                 "Bytes per second a transfer must move, counted over each --transfer-timeout "
                 "window; slower ones are cut (default 1024; 0: only a stall is cut)")
      ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{1} << 40));
  app.add_option("--threads", config.threads, "Worker threads (default: one per core)")
      ->check(CLI::Range(1u, 256u));
  auto* tls_cert = app.add_option("--tls-cert", config.tls_cert,
                                  "TLS certificate chain (PEM, the server's first); reloaded on "
                                  "SIGHUP (default: a self-signed one made in --state-dir)")
                       ->check(CLI::ExistingFile);
  auto* tls_key = app.add_option("--tls-key", config.tls_key, "The private key of --tls-cert (PEM)")
                      ->check(CLI::ExistingFile);
  tls_cert->needs(tls_key);
  tls_key->needs(tls_cert);
  app.add_option("--state-dir", config.state_dir,
                 "Folder for ferryd's own TLS key and certificate (default "
                 "$XDG_STATE_HOME/ferryd or ~/.local/state/ferryd)");
  app.add_flag("--require-tls", config.require_tls,
               "Refuse plaintext clients (the seed's protocol) with an ERROR");
  app.add_option("--log-level", config.log_level,
                 "trace, debug, info, warn, error or off (default info)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return usage_error(e.what());
  }
  if (!data_ports.empty() && !parse_port_range(data_ports, config)) {
    return usage_error("--data-ports: expected MIN-MAX with 1024 <= MIN <= MAX <= 65535, got " +
                       data_ports);
  }
  if (!config.bind_address.empty() && !is_ip_address(config.bind_address)) {
    return usage_error("--bind: not an IPv4 or IPv6 address: " + config.bind_address);
  }
  config.max_sessions_given = max_sessions->count() > 0;
  config.transfer_timeout = std::chrono::seconds(transfer_timeout);
  config.head_timeout = config.transfer_timeout;
  config.idle_timeout = std::chrono::seconds(idle_timeout);
  std::error_code root_error;  // the directory may be gone since --root was checked
  const auto canonical_root = std::filesystem::canonical(config.root, root_error);
  if (root_error) return usage_error("--root: " + config.root + ": " + root_error.message());
  config.root = canonical_root.string();
  if (!config.users_file.empty()) {
    ferryd::UsersFileRead users = ferryd::read_users_file(config.users_file);
    if (!users.ok()) {
      fmt::print(stderr, "ferryd: --users {}: {}\n", config.users_file, users.error);
      return kUsageError;
    }
    if (users.readable_by_others) {
      fmt::print(stderr,
                 "ferryd: warning: --users {}: group or others may read it (the password "
                 "hashes); chmod 600 it\n",
                 config.users_file);
    }
    config.users = std::move(users.users);
  }

  ferryd::block_stop_signals();  // before the first thread starts
  // Log lines are written by a thread of their own: a stderr that nobody reads (a full
  // pipe) must not stop the workers. When 1,024 lines wait, the oldest go.
  spdlog::init_thread_pool(1024, 1);
  auto logger = spdlog::create_async_nb<spdlog::sinks::stderr_color_sink_mt>("ferryd");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ %v");
  spdlog::set_default_logger(logger);

  // A peer that resets during sendfile must give EPIPE, not kill the server.
  static_cast<void>(std::signal(SIGPIPE, SIG_IGN));
  // A write past RLIMIT_FSIZE (`ulimit -f`) must fail that PUT with EFBIG ("file too
  // large"), not kill the server.
  static_cast<void>(std::signal(SIGXFSZ, SIG_IGN));
  const int status = ferryd::run_server(config);
  spdlog::shutdown();  // writes out what is still queued
  return status;
}
