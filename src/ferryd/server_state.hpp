#pragma once

// What every connection of the server shares: the configuration, the root, the workers
// (one io_context and thread each) and the counters.

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "accounts.hpp"
#include "address_limits.hpp"
#include "config.hpp"
#include "ferry/fs/fd.hpp"
#include "file_threads.hpp"
#include "login_checks.hpp"
#include "login_failures.hpp"
#include "pipe_pool.hpp"
#include "server_tls.hpp"

namespace ferryd {

// A connection the server may have to close from outside: at shutdown, (sweep) when its
// deadline has passed, or when its client address was locked out for failed logins.
class Closable {
 public:
  virtual void close() = 0;
  virtual void sweep(std::chrono::steady_clock::time_point /*now*/) {}
  virtual void close_if_from(const std::string& /*address*/, const std::string& /*reason*/) {}

 protected:
  ~Closable() = default;
};

// One io_context driven by one thread. A connection lives on one worker from accept to
// close, so what it owns needs no locks. The sets are touched only on the worker's thread.
struct Worker {
  static constexpr std::size_t kPipeBytes = std::size_t{1} << 20;

  // `max_pipes`: how many splice pipes its PUTs may hold at once (PipePool).
  explicit Worker(std::size_t max_pipes = 6) : pipes(kPipeBytes, max_pipes) {
    pipe_returned.expires_at(asio::steady_timer::time_point::max());
    pipes.on_return([this] { pipe_returned.cancel(); });
  }
  // Coroutines still queued in `context` end with it, after the timer: their leases must not
  // wake it then.
  ~Worker() { pipes.on_return(nullptr); }
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  PipePool pipes;  // before `context`: outlives the frames `context` destroys
  asio::io_context context{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> keep_running;
  asio::steady_timer sweep_timer{context};  // the deadline check of its control sessions
  std::unordered_set<Closable*> controls;
  std::unordered_set<Closable*> transfers;
  // Never expires: cancelled whenever a pipe comes back, which wakes every PUT waiting for one.
  asio::steady_timer pipe_returned{context};
};

// Keeps a connection in one of its worker's sets for as long as it lives.
class Registration {
 public:
  Registration(std::unordered_set<Closable*>& set, Closable* item) : set_(set), item_(item) {
    set_.insert(item_);
  }
  Registration(const Registration&) = delete;
  Registration& operator=(const Registration&) = delete;
  ~Registration() { set_.erase(item_); }

 private:
  std::unordered_set<Closable*>& set_;
  Closable* item_;
};

struct ServerState {
  explicit ServerState(const ServerConfig& settings) : config(settings) {}

  const ServerConfig config;
  std::uint16_t pick_port_min = 0;  // where `OPEN 0` picks from: --data-ports, else the
  std::uint16_t pick_port_max = 0;  // kernel's ephemeral port range
  ferry::fs::Fd root;
  ServerTls tls;  // the TLS context new connections take; SIGHUP reloads it
  // The root's device when it is on a local file system: a GET of a file on it whose names
  // are cached opens on the worker (local_files.hpp). nullopt: every GET on a file thread.
  std::optional<dev_t> local_device;
  AddressLimits sessions{config.max_sessions, config.max_sessions_per_address};
  AddressLimits transfer_slots{config.max_transfers, config.max_transfers_per_address};
  std::atomic<std::size_t> listings{0};  // LS requests being listed now
  std::atomic<bool> root_removal_logged{false};
  std::atomic<std::size_t> transfers{0};  // connected transfer connections (for the drain)
  std::atomic<std::uint64_t> next_session_id{1};
  std::atomic<bool> stopping{false};
  // --users: the users and their open folders, which every session and transfer of a user
  // resolves in (null: anonymous). Outlives the workers, as the root does.
  std::unique_ptr<const Accounts> accounts;
  LoginFailures login_failures;  // counted only with users
  // Destroyed before the limits above: a handler still queued on a worker may end a
  // session, which gives back its places in `sessions` and `transfer_slots`.
  std::vector<std::unique_ptr<Worker>> workers;
  // --users: the password checks, off the workers and bounded (login_checks.hpp). Stopped
  // before the workers go: a check's completion is posted to its worker.
  std::unique_ptr<LoginChecks> login_checks;
  // Waits on the file system, off the workers (and joined before they go: a job's completion
  // is posted to its worker): every version-2 request, GET's open, PUT's
  // start and commit, listing batches, reading a cold file ahead, disk-bound drains, the
  // start-up sweep. A thread per job in flight, up to 64 (file_threads.hpp).
  FileThreads file_threads{64, std::chrono::seconds(10)};
};

}  // namespace ferryd
