#pragma once

// What the session tests of ferryd share (ferryd_session_*_test.cpp): a served root (the tree
// of temp_tree.hpp), a ServerState with one Worker whose io_context runs on a thread of its
// own, and the test's end of each connection as a blocking socket with the test's deadline.
//
// A connection is a loopback TCP pair made here (sessions take asio::ip::tcp::socket): a
// listener on 127.0.0.1:0, the test's socket connected to it, the accepted socket handed to
// the session. Every wait of a test ends at its deadline (kTestTime after SetUp), so a
// session that does not answer fails the test instead of hanging it. At the end every
// connection still open on the worker is closed, as at a shutdown, and the worker must then
// run out of work: a session that leaks a wait or a timer fails the test that made it.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <future>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "config.hpp"
#include "ferry/fs/confine.hpp"
#include "ferry/fs/fd.hpp"
#include "server_state.hpp"
#include "session_context.hpp"
#include "sessions.hpp"
#include "temp_tree.hpp"
#include "transfer_slot.hpp"

namespace ferryd::testing {

using Clock = std::chrono::steady_clock;
using ferry::testing::kInsideContent;
using namespace std::chrono_literals;

// Every test ends within this, waits included (ctest's own limit is 30 s per test).
inline constexpr auto kTestTime = 4s;
// How long the worker may take to run out of work once its connections are closed.
inline constexpr auto kDrainTime = 2s;
inline constexpr const char* kClientAddress = "127.0.0.1";

inline sockaddr_in ipv4_address(const char* address, std::uint16_t port) {
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(port);
  EXPECT_EQ(::inet_pton(AF_INET, address, &in.sin_addr), 1) << address;
  return in;
}

inline std::uint16_t local_port(int fd) {
  sockaddr_in in{};
  socklen_t length = sizeof in;
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&in), &length), 0)
      << std::strerror(errno);
  return ntohs(in.sin_port);
}

// A TCP socket of the test connected to `address`:`port` from `from` (any port). Invalid when
// the connection was refused. A connect on loopback completes (or is refused) at once.
inline ferry::fs::Fd connect_tcp(const char* address, std::uint16_t port,
                                 const char* from = kClientAddress) {
  ferry::fs::Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  EXPECT_TRUE(fd.valid()) << std::strerror(errno);
  const sockaddr_in source = ipv4_address(from, 0);
  EXPECT_EQ(::bind(fd.get(), reinterpret_cast<const sockaddr*>(&source), sizeof source), 0)
      << from << ": " << std::strerror(errno);
  const sockaddr_in target = ipv4_address(address, port);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&target), sizeof target) != 0) {
    fd.reset();
  }
  return fd;
}

// The test's end of a connection: blocking reads and writes that give up at the deadline.
class Peer {
 public:
  Peer(ferry::fs::Fd fd, Clock::time_point deadline) : fd_(std::move(fd)), deadline_(deadline) {}

  int fd() const { return fd_.get(); }
  bool valid() const { return fd_.valid(); }
  void close() { fd_.reset(); }
  void shutdown_send() const { ::shutdown(fd_.get(), SHUT_WR); }

  // Sends all of `data`; false (and a test failure) when the deadline passed or the
  // connection failed first.
  bool send(std::string_view data) {
    while (!data.empty()) {
      if (!wait_for(POLLOUT)) return false;
      const ssize_t n = ::send(fd_.get(), data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n < 0) {
        ADD_FAILURE() << "send: " << std::strerror(errno);
        return false;
      }
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // Sends from `data` until the connection has taken nothing for `stuck` (the peer stopped
  // reading and every buffer between is full) or all was sent; how many bytes it took.
  std::size_t send_until_stuck(std::string_view data, std::chrono::milliseconds stuck) {
    std::size_t sent = 0;
    while (sent < data.size()) {
      pollfd polled{fd_.get(), POLLOUT, 0};
      if (::poll(&polled, 1, static_cast<int>(stuck.count())) <= 0) break;
      const ssize_t n =
          ::send(fd_.get(), data.data() + sent, data.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n < 0) {
        ADD_FAILURE() << "send: " << std::strerror(errno);
        break;
      }
      sent += static_cast<std::size_t>(n);
    }
    return sent;
  }

  // Sends all of `data` while reading what comes back, until `expected` bytes have arrived
  // (or the connection ended, or the deadline passed: a test failure); what arrived.
  std::string exchange(std::string_view data, std::size_t expected) {
    while (buffer_.size() < expected || !data.empty()) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now());
      pollfd polled{fd_.get(), static_cast<short>(POLLIN | (data.empty() ? 0 : POLLOUT)), 0};
      if (left.count() <= 0 || ::poll(&polled, 1, static_cast<int>(left.count())) <= 0) {
        ADD_FAILURE() << "the test's deadline passed with " << data.size() << " bytes to send and "
                      << buffer_.size() << " of " << expected << " received";
        break;
      }
      if ((polled.revents & POLLOUT) != 0) {
        const ssize_t n = ::send(fd_.get(), data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) data.remove_prefix(static_cast<std::size_t>(n));
      }
      if ((polled.revents & (POLLIN | POLLHUP | POLLERR)) != 0 && !fill()) {
        ADD_FAILURE() << "the connection ended with " << buffer_.size() << " of " << expected
                      << " bytes received";
        break;
      }
    }
    return std::exchange(buffer_, std::string());
  }

  // The next message head, its empty line included; what arrived before the end or the
  // deadline when there is no complete one (with a test failure).
  std::string read_head() {
    for (;;) {
      if (const auto end = buffer_.find("\n\n"); end != std::string::npos) {
        std::string head = buffer_.substr(0, end + 2);
        buffer_.erase(0, end + 2);
        return head;
      }
      if (!fill()) {
        ADD_FAILURE() << "no complete head; got \"" << buffer_ << "\"";
        return std::exchange(buffer_, std::string());
      }
    }
  }

  // Exactly `size` bytes (fewer, with a test failure, when the connection ended first).
  std::string read_exactly(std::size_t size) {
    while (buffer_.size() < size) {
      if (!fill()) {
        ADD_FAILURE() << "expected " << size << " bytes, got " << buffer_.size();
        return std::exchange(buffer_, std::string());
      }
    }
    std::string data = buffer_.substr(0, size);
    buffer_.erase(0, size);
    return data;
  }

  // Everything up to the peer's end of the connection (a test failure if that did not come
  // before the deadline).
  std::string read_to_end() {
    while (fill()) {
    }
    if (!ended_) ADD_FAILURE() << "the connection did not end; got \"" << buffer_ << "\"";
    return std::exchange(buffer_, std::string());
  }

  // True when the server ended the connection (end of stream or reset) before the deadline
  // and sent nothing more.
  bool ends_without_more_data() {
    while (fill()) {
    }
    return ended_ && buffer_.empty();
  }

  // True when nothing arrives and the connection stays open for `quiet`.
  bool stays_quiet_for(std::chrono::milliseconds quiet) {
    pollfd polled{fd_.get(), POLLIN, 0};
    return buffer_.empty() && ::poll(&polled, 1, static_cast<int>(quiet.count())) == 0;
  }

  bool reset_seen() const { return reset_; }

 private:
  bool wait_for(short events) {
    for (;;) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now());
      if (left.count() <= 0) {
        ADD_FAILURE() << "the test's deadline passed";
        return false;
      }
      pollfd polled{fd_.get(), events, 0};
      const int ready = ::poll(&polled, 1, static_cast<int>(left.count()));
      if (ready > 0) return true;
      if (ready < 0 && errno != EINTR) {
        ADD_FAILURE() << "poll: " << std::strerror(errno);
        return false;
      }
    }
  }

  // Reads what is there into buffer_; false at the end of the stream or the deadline.
  bool fill() {
    if (ended_ || !wait_for(POLLIN)) return false;
    char chunk[64 * 1024];
    const ssize_t n = ::recv(fd_.get(), chunk, sizeof chunk, MSG_DONTWAIT);
    if (n > 0) {
      buffer_.append(chunk, static_cast<std::size_t>(n));
      return true;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;
    reset_ = n < 0 && errno == ECONNRESET;
    if (n < 0 && !reset_) ADD_FAILURE() << "recv: " << std::strerror(errno);
    ended_ = true;
    return false;
  }

  ferry::fs::Fd fd_;
  Clock::time_point deadline_;
  std::string buffer_;
  bool ended_ = false;
  bool reset_ = false;
};

// The fixture: set config() in the test (or in a derived SetUp), then ask for sessions; the
// server starts with the first.
class SessionTest : public ferry::testing::TempTreeTest {
 protected:
  void SetUp() override {
    TempTreeTest::SetUp();
    deadline_ = Clock::now() + kTestTime;
    config_.root = root_path();
    config_.max_transfers = 64;  // sized from the descriptor limit by run_server() otherwise
    config_.transfer_timeout = 2s;
    config_.head_timeout = 2s;
    config_.idle_timeout = 10s;
    // Log lines are kept for the tests that look for them, and shown when a test fails.
    log_ = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(1000);
    log_->set_pattern("%l %v");
    previous_logger_ = spdlog::default_logger();
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("ferryd-test", log_));
    spdlog::set_level(spdlog::level::info);
  }

  void TearDown() override {
    stop_server();
    if (HasFailure()) {
      for (const std::string& line : log_->last_formatted())
        std::cerr << "log: " << line;
    }
    spdlog::set_default_logger(previous_logger_);
    TempTreeTest::TearDown();
  }

  ServerConfig& config() { return config_; }
  Clock::time_point deadline() const { return deadline_; }

  ServerState& state() {
    start_server();
    return *state_;
  }
  Worker& worker() { return *state().workers.front(); }

  // Runs `work` on the worker's thread and returns its result (waiting at most until the
  // test's deadline).
  template <typename Work>
  auto on_worker(Work work) -> decltype(work()) {
    using Result = decltype(work());
    auto done = std::make_shared<std::promise<Result>>();
    auto result = done->get_future();
    asio::post(worker().context, [done, work = std::move(work)]() mutable {
      if constexpr (std::is_void_v<Result>) {
        work();
        done->set_value();
      } else {
        done->set_value(work());
      }
    });
    if (result.wait_until(deadline_) != std::future_status::ready) {
      ADD_FAILURE() << "the worker did not run the work before the deadline";
      std::abort();  // the work still refers to the test's frame
    }
    return result.get();
  }

  // A connection to a new control session, as the accept loop starts one (admitted first).
  // `small_buffers`: the server's and the test's send buffers kept small, so that a test
  // that does not read fills them soon. (A receive buffer made small after the connection
  // was set up makes loopback drop segments that the window still allows.)
  Peer control_session(bool small_buffers = false) {
    auto [client, server] = loopback_pair();
    if (small_buffers) {
      const int size = 16 * 1024;
      EXPECT_EQ(::setsockopt(server.native_handle(), SOL_SOCKET, SO_SNDBUF, &size, sizeof size), 0);
      EXPECT_EQ(::setsockopt(client.get(), SOL_SOCKET, SO_SNDBUF, &size, sizeof size), 0);
    }
    EXPECT_EQ(state().sessions.admit(kClientAddress), AddressLimits::Admission::admitted);
    start_control_session(std::move(server), state(), worker(), next_session_id_++, kClientAddress);
    return Peer(std::move(client), deadline_);
  }

  // A connection to a new transfer session, as an OPENed port starts one: with the
  // session's context and a transfer slot taken for the client's address.
  Peer transfer_session() {
    auto [client, server] = loopback_pair();
    const std::uint64_t id = next_session_id_++;
    EXPECT_EQ(state().transfer_slots.admit(kClientAddress), AddressLimits::Admission::admitted);
    on_worker([this, id, socket = std::move(server)]() mutable {
      const SessionContext context{id, &state_->root, state_->config.root, state_->config.read_only,
                                   &state_->root_removal_logged};
      TransferSlot slot(state_->transfer_slots, kClientAddress, std::make_shared<std::size_t>(0));
      start_transfer(std::move(socket), *state_, *state_->workers.front(), context,
                     std::move(slot));
    });
    return Peer(std::move(client), deadline_);
  }

  // A connection to `port` on 127.0.0.1 from `from`; invalid when refused.
  Peer connect_to(std::uint16_t port, const char* from = kClientAddress) {
    return Peer(connect_tcp(kClientAddress, port, from), deadline_);
  }

  // The log lines so far (level, then the message).
  std::vector<std::string> log_lines() const { return log_->last_formatted(); }

  // Waits (until the deadline) for a log line that holds `text`; that line, or empty.
  std::string wait_for_log(std::string_view text) const {
    for (;;) {
      for (const std::string& line : log_->last_formatted()) {
        if (line.find(text) != std::string::npos) return line;
      }
      if (Clock::now() >= deadline_) {
        ADD_FAILURE() << "no log line with \"" << text << "\"";
        return {};
      }
      std::this_thread::sleep_for(5ms);
    }
  }

  // Waits (until the deadline) until `done()` holds; false if it never did.
  template <typename Condition>
  bool eventually(Condition done) const {
    while (!done()) {
      if (Clock::now() >= deadline_) return false;
      std::this_thread::sleep_for(5ms);
    }
    return true;
  }

 private:
  void start_server() {
    if (state_) return;
    state_ = std::make_unique<ServerState>(config_);
    if (config_.has_data_port_range()) {
      state_->pick_port_min = config_.data_port_min;
      state_->pick_port_max = config_.data_port_max;
    } else {
      state_->pick_port_min = 32768;  // as run_server() has it without --data-ports: the
      state_->pick_port_max = 60999;  // kernel's usual ephemeral range
    }
    auto root = ferry::fs::open_root(config_.root.c_str());
    EXPECT_TRUE(root.ok()) << ferry::fs::describe(root.error());
    if (root.ok()) state_->root = std::move(*root);
    auto& worker = *state_->workers.emplace_back(std::make_unique<Worker>());
    worker.keep_running.emplace(worker.context.get_executor());
    auto ran_out = std::make_shared<std::promise<void>>();
    worker_done_ = ran_out->get_future();
    runner_ = std::thread([&context = worker.context, ran_out] {
      context.run();
      ran_out->set_value();
    });
  }

  // As at a shutdown: every connection still open is closed, the worker lets go of its
  // keep-alive guard and must run out of work soon after.
  void stop_server() {
    if (!state_) return;
    Worker& worker = *state_->workers.front();
    asio::post(worker.context, [&worker] {
      for (Closable* control : std::vector(worker.controls.begin(), worker.controls.end())) {
        control->close();
      }
      for (Closable* transfer : std::vector(worker.transfers.begin(), worker.transfers.end())) {
        transfer->close();
      }
      worker.keep_running.reset();
    });
    const bool ran_out = worker_done_.wait_for(kDrainTime) == std::future_status::ready;
    if (!ran_out) {
      ADD_FAILURE() << "the worker still had work " << kDrainTime.count()
                    << " s after its connections were closed";
      worker.context.stop();
    }
    runner_.join();
    state_->file_threads.join();
    EXPECT_EQ(state_->sessions.held(), 0u) << "a control session was not released";
    EXPECT_EQ(state_->transfer_slots.held(), 0u) << "a transfer slot was not given back";
    EXPECT_EQ(state_->transfers.load(), 0u) << "a transfer is still counted";
    if (ran_out) {
      // The workers go first: what they still hold refers to the rest of the state.
      state_->workers.clear();
      state_.reset();
    } else {
      // Handlers left in the io_context refer to the worker and the state; destroying them
      // now would be a use after free on top of the failure. Left to the end of the process.
      static_cast<void>(state_.release());  // NOLINT(bugprone-unused-return-value)
    }
  }

  // A connected loopback TCP pair: the test's end, and the server's as an asio socket on the
  // worker's io_context.
  std::pair<ferry::fs::Fd, asio::ip::tcp::socket> loopback_pair() {
    ferry::fs::Fd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    const sockaddr_in any_port = ipv4_address(kClientAddress, 0);
    EXPECT_EQ(::bind(listener.get(), reinterpret_cast<const sockaddr*>(&any_port), sizeof any_port),
              0)
        << std::strerror(errno);
    EXPECT_EQ(::listen(listener.get(), 1), 0) << std::strerror(errno);
    ferry::fs::Fd client = connect_tcp(kClientAddress, local_port(listener.get()));
    EXPECT_TRUE(client.valid()) << std::strerror(errno);
    const int accepted = ::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC);
    EXPECT_GE(accepted, 0) << std::strerror(errno);
    asio::ip::tcp::socket server(worker().context, asio::ip::tcp::v4(), accepted);
    return {std::move(client), std::move(server)};
  }

  ServerConfig config_;
  std::unique_ptr<ServerState> state_;
  std::thread runner_;
  std::future<void> worker_done_;
  Clock::time_point deadline_;
  std::uint64_t next_session_id_ = 1;
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> log_;
  std::shared_ptr<spdlog::logger> previous_logger_;
};

}  // namespace ferryd::testing
