// The listener, the workers and the orderly shutdown.

#include "server.hpp"
#include "local_files.hpp"

#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ip/v6_only.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include "use_nothrow.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <ctime>
#include <memory>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <thread>
#include <tuple>

#include "descriptor_budget.hpp"
#include "endpoint_text.hpp"
#include "ferry/fs/confine.hpp"
#include "ferry/fs/file_ops.hpp"
#include "ferry/protocol/message.hpp"
#include "ferry/util/errno_text.hpp"
#include "ferry/version.hpp"
#include "log_failure.hpp"
#include "server_state.hpp"
#include "session_refusals.hpp"
#include "sessions.hpp"
#include "stop_signals.hpp"

namespace ferryd {
namespace {

using asio::awaitable;
using asio::ip::tcp;

// Opens the control listener: the given address, or one dual-stack socket for IPv4 and
// IPv6 (falling back to IPv4 alone where IPv6 is off).
tcp::acceptor open_listener(asio::io_context& context, const ServerConfig& config) {
  tcp::acceptor acceptor(context);
  asio::error_code ec;
  if (!config.bind_address.empty()) {
    const tcp::endpoint endpoint(asio::ip::make_address(config.bind_address), config.port);
    acceptor.open(endpoint.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind(endpoint);
  } else {
    acceptor.open(tcp::v6(), ec);
    if (!ec) acceptor.set_option(asio::ip::v6_only(false), ec);
    if (!ec) {
      acceptor.set_option(tcp::acceptor::reuse_address(true));
      acceptor.bind(tcp::endpoint(tcp::v6(), config.port));
    } else {
      if (acceptor.is_open()) acceptor.close();
      acceptor.open(tcp::v4());
      acceptor.set_option(tcp::acceptor::reuse_address(true));
      acceptor.bind(tcp::endpoint(tcp::v4(), config.port));
    }
  }
  acceptor.listen(asio::socket_base::max_listen_connections);
  return acceptor;
}

// The kernel's ephemeral port range, where transfer ports are picked when no --data-ports
// range is set.
std::pair<std::uint16_t, std::uint16_t> ephemeral_port_range() {
  unsigned low = 32768, high = 60999;
  if (std::FILE* file = std::fopen("/proc/sys/net/ipv4/ip_local_port_range", "r")) {
    unsigned read_low = 0, read_high = 0;
    // NOLINTNEXTLINE(cert-err34-c): the kernel writes this file; the range is checked below
    if (std::fscanf(file, "%u %u", &read_low, &read_high) == 2 && read_low >= 1024 &&
        read_low <= read_high && read_high <= 65535) {
      low = read_low;
      high = read_high;
    }
    static_cast<void>(std::fclose(file));  // read only: nothing to lose
  }
  return {static_cast<std::uint16_t>(low), static_cast<std::uint16_t>(high)};
}

// One descriptor held back for the moment the process has none left (EMFILE): closed, it
// makes room to accept the waiting connection and tell it why it is refused, instead of
// leaving it unanswered in the backlog (a second line of defence: the descriptor budget
// should keep this from happening).
class SpareDescriptor {
 public:
  SpareDescriptor() { take(); }
  SpareDescriptor(const SpareDescriptor&) = delete;
  SpareDescriptor& operator=(const SpareDescriptor&) = delete;
  ~SpareDescriptor() { give_up(); }

  // Accepts one waiting connection from `listener` with the spare's room, answers it
  // `ERROR <reason>` and closes it. False when there was nothing to accept.
  bool refuse_one(int listener, const std::string& reason) {
    give_up();
    const int connection = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (connection >= 0) {
      const std::string answer = ferry::protocol::format_error(reason);
      static_cast<void>(::send(connection, answer.data(), answer.size(), MSG_NOSIGNAL));
      ::close(connection);
    }
    take();
    return connection >= 0;
  }

 private:
  void take() { fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC); }
  void give_up() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int fd_ = -1;
};

class Server {
 public:
  explicit Server(ServerState& state) : state_(state) {}

  awaitable<void> accept_loop(tcp::acceptor& acceptor);
  awaitable<void> shut_down(tcp::acceptor& acceptor, asio::posix::stream_descriptor& signals);
  awaitable<void> sweep(Worker& worker);

 private:
  // SIGHUP: new connections take the certificate and key as they are now in their files;
  // running ones keep theirs. A file that does not load keeps the running context.
  void reload_tls() {
    if (auto error = state_.tls.reload()) {
      spdlog::error("SIGHUP: the TLS certificate was not reloaded: {}", *error);
      return;
    }
    spdlog::info("SIGHUP: TLS certificate reloaded, key fingerprint {}", state_.tls.fingerprint());
  }

  ServerState& state_;
  SpareDescriptor spare_;
  DrainingRefusals draining_ = std::make_shared<std::atomic<int>>(0);
};

awaitable<void> Server::accept_loop(tcp::acceptor& acceptor) {
  std::size_t next_worker = 0;
  for (;;) {
    Worker& worker = *state_.workers[next_worker++ % state_.workers.size()];
    auto [ec, accepted] = co_await acceptor.async_accept(worker.context, use_nothrow);
    if (state_.stopping) co_return;
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      spdlog::warn("accept failed: {}", ec.message());
      if (ec == asio::error::no_descriptors || ec.value() == ENFILE) {
        while (spare_.refuse_one(acceptor.native_handle(), "server out of descriptors")) {
        }
      }
      // Pause instead of spinning on an error that persists.
      asio::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(100));
      co_await pause.async_wait(use_nothrow);
      continue;
    }
    tcp::socket socket(std::move(accepted));
    const std::uint64_t id = state_.next_session_id.fetch_add(1);
    asio::error_code peer_ec;
    const tcp::endpoint peer = socket.remote_endpoint(peer_ec);
    if (peer_ec) continue;  // already gone
    std::string address = normalize(peer.address()).to_string();
    // An address locked out for failed logins is refused for a while (logged once, when the
    // lock-out began: control_login.cpp).
    if (auto locked_out = state_.accounts ? state_.login_failures.refusal(address) : std::nullopt) {
      spdlog::debug("session {}: refused {}: {}", id, to_text(peer), *locked_out);
      refuse_session(std::move(socket), *locked_out, draining_);
      continue;
    }
    if (const auto admission = state_.sessions.admit(address);
        admission != AddressLimits::Admission::admitted) {
      const std::string refusal = session_refusal(state_.sessions, admission, address);
      spdlog::warn("session {}: refused {}: {}", id, to_text(peer), refusal);
      refuse_session(std::move(socket), refusal, draining_);
      continue;
    }
    start_control_session(std::move(socket), state_, worker, id, std::move(address));
  }
}

// Once a second, ends the control sessions of one worker whose deadline has passed. One
// timer per worker instead of one per session keeps an idle session small.
awaitable<void> Server::sweep(Worker& worker) {
  while (!state_.stopping) {
    worker.sweep_timer.expires_after(std::chrono::seconds(1));
    co_await worker.sweep_timer.async_wait(use_nothrow);
    const auto now = std::chrono::steady_clock::now();
    for (Closable* control : std::vector(worker.controls.begin(), worker.controls.end())) {
      control->sweep(now);
    }
  }
}

awaitable<void> Server::shut_down(tcp::acceptor& acceptor,
                                  asio::posix::stream_descriptor& signals) {
  using asio::posix::stream_descriptor;
  int signal_number = 0;
  while (signal_number == 0 || signal_number == SIGHUP) {
    if (signal_number == SIGHUP) reload_tls();
    auto [ec] = co_await signals.async_wait(stream_descriptor::wait_read, use_nothrow);
    if (ec) co_return;
    signal_number = read_stop_signal(signals.native_handle());
  }
  state_.stopping = true;
  const auto grace = state_.config.shutdown_grace;
  spdlog::info("received {}: no new sessions; running transfers have {} s to finish",
               signal_number == SIGINT ? "SIGINT" : "SIGTERM", grace.count());
  asio::error_code ignored;
  acceptor.close(ignored);
  for (auto& worker : state_.workers) {
    asio::post(worker->context, [&w = *worker] {
      for (Closable* control : std::vector(w.controls.begin(), w.controls.end())) {
        control->close();
      }
    });
  }

  // Wait for the transfers, bounded by the grace period; a second signal cuts it short.
  auto again = std::make_shared<bool>(false);
  signals.async_wait(stream_descriptor::wait_read,
                     [again](const std::error_code& error) { *again = !error; });
  asio::steady_timer tick(acceptor.get_executor());
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (state_.transfers > 0 && !*again && std::chrono::steady_clock::now() < deadline) {
    tick.expires_after(std::chrono::milliseconds(50));
    co_await tick.async_wait(use_nothrow);
  }
  if (state_.transfers > 0) {
    spdlog::warn("aborting {} transfer(s) still running; their uploads are discarded",
                 state_.transfers.load());
  }
  signals.cancel();
  for (auto& worker : state_.workers) {
    asio::post(worker->context, [&w = *worker] {
      for (Closable* transfer : std::vector(w.transfers.begin(), w.transfers.end())) {
        transfer->close();
      }
      w.sweep_timer.cancel();
      w.keep_running.reset();
    });
  }
}

// The configuration with the limits that were left to size filled in from the descriptor
// limit (raised from soft to hard first).
ServerConfig with_descriptor_budget(const ServerConfig& given) {
  ServerConfig config = given;
  const std::uint64_t descriptors = raise_descriptor_limit();
  // The users' folders stay open for the server's life (accounts.hpp).
  const std::uint64_t user_roots =
      std::min<std::uint64_t>(descriptors, user_root_bound(config.users));
  const DescriptorBudget budget = plan_descriptors(
      descriptors - user_roots, config.max_sessions, config.max_sessions_given,
      config.max_transfers, config.max_transfers_per_address, config.max_transfers_per_session);
  config.max_sessions = budget.sessions;
  config.max_transfers = budget.transfers;
  config.max_transfers_per_address = budget.transfers_per_address;
  config.descriptor_limit = descriptors;
  for (const std::string& warning : budget.warnings)
    spdlog::warn("{}", warning);
  return config;
}

void log_limits(const ServerConfig& config) {
  spdlog::info(
      "limits: {} descriptors; {} sessions; {} transfers in all, {} per address, {} per "
      "session; {} listings at once; transfers slower than {} bytes/s over {} s are cut",
      config.descriptor_limit, config.max_sessions, config.max_transfers,
      config.max_transfers_per_address, config.max_transfers_per_session, config.max_listings,
      config.min_rate, config.transfer_timeout.count());
}

}  // namespace

int run_server(const ServerConfig& given) {
  const ServerConfig config = with_descriptor_budget(given);
  ServerState state(config);
  if (config.has_data_port_range()) {
    state.pick_port_min = config.data_port_min;
    state.pick_port_max = config.data_port_max;
  } else {
    std::tie(state.pick_port_min, state.pick_port_max) = ephemeral_port_range();
  }
  auto root = ferry::fs::open_root(config.root.c_str());
  if (!root) {
    spdlog::critical("cannot serve {}: {}", config.root, ferry::fs::describe(root.error()));
    return 1;
  }
  state.root = std::move(*root);
  if (const int status = start_logins(state); status != 0) return status;  // --users
  if (auto error = state.tls.load(config)) {
    spdlog::critical("{}", *error);
    return 1;
  }
  state.local_device = local_device(state.root.get());
  // Unfinished uploads of a server that was killed: swept in the background, so that a large
  // tree does not delay the start. Only files written before this start are touched.
  const timespec started = ferry::fs::file_clock_now();
  state.file_threads.run([&state, started] {
    const ferry::fs::SweepReport report = ferry::fs::sweep_stale_uploads(state.root, started);
    if (report.removed > 0) {
      spdlog::info("removed {} unfinished upload(s) left by an earlier run", report.removed);
    }
    if (report.in_use > 0) {
      spdlog::info("kept {} unfinished upload(s) that another server is writing", report.in_use);
    }
    if (!report.stopped_because.empty()) {
      spdlog::warn("the sweep of unfinished uploads stopped early: {}", report.stopped_because);
    }
  });

  const unsigned threads =
      config.threads != 0 ? config.threads : std::max(1u, std::thread::hardware_concurrency());
  // 1 MiB pipes: at most 32 in all, so that an unprivileged ferryd stays clear of the 64 of
  // fs.pipe-user-pages-soft; 2 to 6 a worker (PipePool: a worker whose PUTs all drain on its
  // own thread needs one).
  const std::size_t pipes_per_worker = std::clamp<std::size_t>(32 / threads, 2, 6);
  for (unsigned i = 0; i < threads; ++i) {
    auto& worker = *state.workers.emplace_back(std::make_unique<Worker>(pipes_per_worker));
    worker.keep_running.emplace(worker.context.get_executor());
  }
  asio::io_context& main_context = state.workers.front()->context;

  tcp::acceptor acceptor(main_context);
  try {
    acceptor = open_listener(main_context, config);
  } catch (const std::system_error& e) {
    spdlog::critical("cannot listen on port {}: {}", config.port, e.code().message());
    return 1;
  }
  // SIGINT and SIGTERM are blocked since main() began; one sent at any moment waits here.
  const int signal_fd = open_stop_signal_fd();
  if (signal_fd < 0) {
    spdlog::critical("cannot watch for SIGTERM: {}", ferry::util::errno_text(errno));
    return 1;
  }
  asio::posix::stream_descriptor signals(main_context, signal_fd);
  const tcp::endpoint local = acceptor.local_endpoint();
  const bool dual_stack = config.bind_address.empty() && local.address().is_v6();
  spdlog::info("ferryd {} listening on {}{}, serving {}{}", ferry::kVersion, to_text(local),
               dual_stack ? " (IPv4 and IPv6)" : "", config.root,
               config.read_only ? " (read-only)" : "");
  spdlog::info("TLS key fingerprint {} (identity {}); {}", state.tls.fingerprint(),
               state.tls.origin(),
               config.require_tls ? "plaintext clients are refused (--require-tls)"
                                  : "plaintext clients are served too");
  log_access(state);
  log_limits(config);
  spdlog::set_level(spdlog::level::from_str(config.log_level));

  Server server(state);
  asio::co_spawn(main_context, server.accept_loop(acceptor), log_failure("accept loop"));
  asio::co_spawn(main_context, server.shut_down(acceptor, signals), log_failure("shutdown"));
  for (auto& worker : state.workers) {
    asio::co_spawn(worker->context, server.sweep(*worker), log_failure("sweeper"));
  }

  std::vector<std::thread> threads_running;
  for (std::size_t i = 1; i < state.workers.size(); ++i) {
    threads_running.emplace_back([&context = state.workers[i]->context] { context.run(); });
  }
  main_context.run();
  for (auto& thread : threads_running)
    thread.join();
  state.file_threads.join();
  spdlog::info("ferryd stopped");
  return 0;
}

}  // namespace ferryd
