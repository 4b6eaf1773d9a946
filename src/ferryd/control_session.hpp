#pragma once

// The control session (sessions.hpp starts one): control_session.cpp holds the connection's
// I/O, its heads and most requests; control_login.cpp holds LOGIN, the wait after a failed
// one and the lock-out. With asio: included by those two files only.

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "accounts.hpp"
#include "channel.hpp"
#include "ferry/protocol/errors.hpp"
#include "ferry/protocol/message.hpp"
#include "ferry/protocol/requests.hpp"
#include "manage_requests.hpp"
#include "server_state.hpp"
#include "session_context.hpp"
#include "transfer_port.hpp"

namespace ferryd {

// A LOGIN whose password is being checked: what its answer and log line need.
struct LoginAttempt {
  const Account* account = nullptr;  // nullptr: no such user (the dummy hash is checked)
  std::string user;                  // as sent, shortened, for the log
  bool well_formed = false;
};

class ControlSession final : public Closable, public std::enable_shared_from_this<ControlSession> {
 public:
  using tcp = asio::ip::tcp;
  using Clock = std::chrono::steady_clock;

  ControlSession(tcp::socket socket, ServerState& state, Worker& worker, std::uint64_t id,
                 std::string admitted_address)
      : socket_(std::move(socket)),
        channel_(socket_.native_handle(), 1),
        state_(state),
        worker_(worker),
        id_(id),
        admitted_address_(std::move(admitted_address)) {}
  ~ControlSession() { state_.sessions.release(admitted_address_); }

  void start();
  void close() override { end("server shutting down"); }
  void sweep(Clock::time_point now) override;
  // The lock-out of `address` for failed logins (control_login.cpp).
  void close_if_from(const std::string& address, const std::string& reason) override;

 private:
  void pump();
  bool open_channel();  // false: the session waits or has ended
  void wait_for(ferry::tls::Want want);
  void handle_buffered_heads();
  void handle(const ferry::protocol::Message& message);
  void refused(const ferry::protocol::RequestFailure& failure);
  // The table of requests: std::visit picks the row by the request's type.
  void handle(const ferry::protocol::Open& request);
  void handle(const ferry::protocol::Quit& request);
  void handle(const ferry::protocol::Features& request);
  void handle(const ferry::protocol::Login& request);  // control_login.cpp
  void handle(ManageRequest request);
  void manage_answered(const ManageRequest& request, const ManageAnswer& result);
  asio::awaitable<void> accept_transfer(std::shared_ptr<OpenPort> port);
  // LOGIN's check is back on this worker; after a failure, the wait; at the end, neither
  // is waited for any more (control_login.cpp).
  void login_checked(const LoginAttempt& attempt, bool matched);
  void wait_after_failed_login();
  void abandon_login();
  // What its handlers see: the served root, or once logged in the user's folder and mode.
  SessionContext context() const {
    SessionContext context{id_, &state_.root, state_.config.root, state_.config.read_only,
                           &state_.root_removal_logged};
    if (account_ != nullptr) {
      context.root = &account_->root->directory;
      context.root_path = account_->root->path;
      context.root_removal_logged = &account_->root->removal_logged;
      context.user = account_->name;
      context.user_read_only = account_->read_only;
    }
    return context;
  }
  // `7`, or `7 (alice)` once logged in: how every log line names the session.
  SessionLabel label() const {
    return {id_, account_ != nullptr ? std::string_view(account_->name) : std::string_view()};
  }
  void answer(const std::string& text) { output_ += text; }
  void answer(const ferry::protocol::Error& error) { output_ += ferry::protocol::render(error); }
  void close_after_answers(std::string reason) {
    closing_ = true;
    reason_ = std::move(reason);
  }
  void end(const std::string& reason);

  tcp::socket socket_;
  Channel channel_;   // plaintext or TLS, on socket_
  bool tls_ = false;  // the client speaks TLS (known once channel_ is open)
  ServerState& state_;
  Worker& worker_;
  std::uint64_t id_;
  std::string admitted_address_;
  std::optional<Registration> registration_;
  asio::ip::address peer_address_;
  asio::ip::address local_address_;
  Clock::time_point started_;
  Clock::time_point deadline_;  // idle deadline, or the started head's deadline
  bool head_started_ = false;   // input_ holds part of a head
  std::string input_;           // bytes of a head not yet complete; empty while idle
  std::string output_;          // answers the socket did not take yet; empty while idle
  std::vector<std::shared_ptr<OpenPort>> open_ports_;
  std::shared_ptr<std::size_t> transfers_held_;  // opened ports + running transfers; at first OPEN
  std::size_t transfers_ = 0;
  bool closing_ = false;  // close once output_ is sent
  bool ended_ = false;
  // A request runs off the worker (on a file thread, a password check) or a failed login's
  // wait runs: read no more heads until it is back.
  bool on_file_thread_ = false;
  bool write_wait_pending_ = false;  // a wait for writability will call pump()
  std::string reason_;
  const Account* account_ = nullptr;  // logged in as (in state_.accounts); nullptr: not
  // While LOGIN's check waits or runs: set when the session ends, so that it is skipped.
  std::shared_ptr<std::atomic<bool>> login_abandoned_;
  std::unique_ptr<asio::steady_timer> login_wait_;  // the wait after a failed login
};

}  // namespace ferryd
