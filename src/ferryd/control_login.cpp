// LOGIN on a server with users (docs/PROTOCOL.md, "LOGIN"). The refusals are answered at
// once; the password check goes to LoginChecks (off the worker, a bounded number at once and
// waiting) and its answer is posted back to the session's worker, which reads no further head
// meanwhile, so that answers stay in order. An unknown user's password is checked against the
// dummy hash, so that every failure costs the same time and gives the same answer. After a
// failure the session waits 1 s (a timer) before it answers anything else; the failures of
// one address are counted in LoginFailures, and too many close every session of the address.
// A password is never logged or kept: the check wipes its copy.

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <asio/post.hpp>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "control_session.hpp"
#include "ferry/protocol/escape.hpp"
#include "ferry/protocol/message.hpp"
#include "password_hash.hpp"
#include "sessions.hpp"

namespace ferryd {
namespace {

namespace protocol = ferry::protocol;
using protocol::Error;
using protocol::ErrorKind;

constexpr auto kWaitAfterFailure = std::chrono::seconds(1);
constexpr std::size_t kLoggedUserLength = 64;  // of a name sent, in the log
constexpr int kUsersError = 2;                 // the exit status of a users file ferryd refuses

// Posts to every worker: each of its control sessions from `address` ends with `reason`.
void close_sessions_from(ServerState& state, const std::string& address,
                         const std::string& reason) {
  for (auto& worker : state.workers) {
    asio::post(worker->context, [&w = *worker, address, reason] {
      for (Closable* control : std::vector(w.controls.begin(), w.controls.end())) {
        control->close_if_from(address, reason);
      }
    });
  }
}

// Why a check did not log the user in, for the log only (the client hears `login failed`).
std::string failure_cause(const LoginAttempt& attempt) {
  if (!attempt.well_formed) return "malformed LOGIN (USER and PASSWORD needed, no argument)";
  const std::string user = protocol::escape_visible(attempt.user);
  if (attempt.account == nullptr) return fmt::format("unknown user \"{}\"", user);
  return fmt::format("wrong password for \"{}\"", user);
}

}  // namespace

void ControlSession::handle(const protocol::Login& request) {
  // Every refusal is answered and logged; none tells anything about the user or password.
  const auto refuse = [this](const Error& error) {
    spdlog::warn("session {}: LOGIN refused: {}", label(), protocol::escape_visible(error.text));
    answer(error);
  };
  if (state_.accounts == nullptr || state_.login_checks == nullptr) {
    refuse(Error{ErrorKind::login, "no logins on this server: it serves everyone without one"});
    return;
  }
  if (account_ != nullptr) {
    refuse(Error{ErrorKind::login, "already logged in"});
    return;
  }
  if (!tls_ && !state_.config.allow_plain_login) {
    refuse(Error{ErrorKind::login, "login needs TLS (or ferryd --allow-plain-login)"});
    return;
  }
  if (auto locked_out = state_.login_failures.refusal(admitted_address_)) {
    refuse(Error{ErrorKind::login, *locked_out});
    close_after_answers("locked out: too many failed logins");
    return;
  }
  const Account* account = request.well_formed ? state_.accounts->find(request.user) : nullptr;
  LoginAttempt attempt{account, request.user.substr(0, kLoggedUserLength), request.well_formed};
  auto abandoned = std::make_shared<std::atomic<bool>>(false);
  LoginChecks::Check check{
      account != nullptr ? account->password_hash : state_.accounts->dummy_hash(), request.password,
      abandoned,
      [self = shared_from_this(), attempt = std::move(attempt),
       worker = asio::make_work_guard(worker_.context)](bool matched) mutable {
        // `self` moves on: the session is released on its own worker, never here.
        asio::post(worker.get_executor(), [self = std::move(self), attempt = std::move(attempt),
                                           matched] { self->login_checked(attempt, matched); });
      }};
  if (!state_.login_checks->submit(std::move(check))) {
    refuse(Error{ErrorKind::busy, "server busy: too many logins in progress"});
    return;
  }
  login_abandoned_ = std::move(abandoned);
  on_file_thread_ = true;  // no further head until the answer is back
}

void ControlSession::login_checked(const LoginAttempt& attempt, bool matched) {
  login_abandoned_.reset();
  on_file_thread_ = false;
  const bool logged_in = matched && attempt.well_formed && attempt.account != nullptr;
  if (ended_) {
    // Nobody reads the answer: neither a login nor a failure that counts.
    spdlog::info("session {}: LOGIN of \"{}\" checked after the session ended", label(),
                 protocol::escape_visible(attempt.user));
    return;
  }
  const auto now = Clock::now();
  deadline_ = now + state_.config.idle_timeout;
  if (head_started_) deadline_ = std::min(deadline_, now + state_.config.head_timeout);
  if (logged_in) {
    account_ = attempt.account;
    spdlog::info("session {}: logged in ({}, root {})", label(),
                 account_->read_only ? "read-only" : "read-write",
                 protocol::escape_visible(account_->root->path));
    answer(protocol::format_message("OK"));
  } else {
    spdlog::warn("session {}: login failed: {}", label(), failure_cause(attempt));
    answer(Error{ErrorKind::login, "login failed"});
    if (state_.login_failures.record(admitted_address_)) {
      const auto& limits = state_.login_failures.limits();
      spdlog::warn(
          "more than {} failed logins within {} s from {}: its sessions are closed and new "
          "ones refused for {} s",
          limits.max_failures, limits.window.count(), admitted_address_, limits.lockout.count());
      close_after_answers("locked out: too many failed logins");
      close_sessions_from(state_, admitted_address_, "locked out: too many failed logins");
    } else {
      wait_after_failed_login();
    }
  }
  if (!write_wait_pending_) pump();
}

// The answer of the failure goes out now; the next one not before kWaitAfterFailure.
void ControlSession::wait_after_failed_login() {
  on_file_thread_ = true;
  if (!login_wait_) login_wait_ = std::make_unique<asio::steady_timer>(socket_.get_executor());
  login_wait_->expires_after(kWaitAfterFailure);
  login_wait_->async_wait([self = shared_from_this()](const std::error_code& error) {
    if (error || self->ended_) return;
    self->on_file_thread_ = false;
    if (!self->write_wait_pending_) self->pump();
  });
}

void ControlSession::abandon_login() {
  if (login_abandoned_) login_abandoned_->store(true);
  if (login_wait_) login_wait_->cancel();
}

int start_logins(ServerState& state) {
  const ServerConfig& config = state.config;
  if (config.users_file.empty()) return 0;
  AccountsOpen opened = open_accounts(state.root, config.root, config.users);
  if (!opened.accounts) {
    fmt::print(stderr, "ferryd: --users {}: {}\n", config.users_file, opened.error);
    return kUsersError;
  }
  state.accounts = std::move(opened.accounts);
  state.login_checks = std::make_unique<LoginChecks>(LoginChecks::default_concurrency(),
                                                     LoginChecks::kMaxWaiting, verify_password);
  return 0;
}

void log_access(const ServerState& state) {
  const ServerConfig& config = state.config;
  const std::string summary =
      access_summary(config.root, config.read_only, state.accounts.get(), config.allow_plain_login);
  if (state.accounts == nullptr) {
    spdlog::warn("{}", summary);
  } else {
    spdlog::info("{} (--users {})", summary, protocol::escape_visible(config.users_file));
  }
}

void ControlSession::close_if_from(const std::string& address, const std::string& reason) {
  if (address == admitted_address_) end(reason);
}

}  // namespace ferryd
