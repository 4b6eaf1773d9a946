#pragma once

// Failed logins per client address (docs/PROTOCOL.md, "LOGIN"): more than `max_failures`
// within `window` lock the address out for `lockout`, during which its sessions are closed
// and new sessions and logins from it are refused. A policy without I/O: the caller logs
// and closes; the clock is injected, so that the tests need not wait. Shared by every worker
// (a mutex); bounded: at most `max_addresses` addresses are remembered at once.

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace ferryd {

struct LoginFailureLimits {
  std::size_t max_failures = 5;       // this many within `window` are allowed
  std::chrono::seconds window{60};    // one more locks the address out
  std::chrono::seconds lockout{60};   // for this long
  std::size_t max_addresses = 10000;  // remembered at once (make_room)
};

class LoginFailures {
 public:
  using Clock = std::chrono::steady_clock;
  using Now = std::function<Clock::time_point()>;

  using Limits = LoginFailureLimits;

  explicit LoginFailures(Limits limits = Limits(), Now now = Clock::now);

  // Counts one failed login from `address`. True exactly when this failure locks the
  // address out (once per lock-out: the caller logs it and closes the address's sessions).
  bool record(const std::string& address);

  // While `address` is locked out: the refusal's text (`too many failed logins from ...`).
  std::optional<std::string> refusal(const std::string& address);

  const Limits& limits() const { return limits_; }
  std::size_t addresses() const;  // remembered now

 private:
  struct Entry {
    std::deque<Clock::time_point> failures;  // within the window, oldest first
    Clock::time_point locked_until{};        // later than now: locked out
  };
  bool stale(const Entry& entry, Clock::time_point now) const;
  void make_room(Clock::time_point now);

  const Limits limits_;
  const Now now_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace ferryd
