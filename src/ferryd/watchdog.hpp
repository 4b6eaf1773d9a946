#pragma once

#include <asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>

namespace ferryd {

// Calls `on_expire` once when the deadline passes. Moving the deadline is a plain store,
// so progress on a hot path costs no timer operation; the timer only wakes up at the old
// deadline and waits again for the new one.
class Watchdog {
 public:
  using Clock = std::chrono::steady_clock;

  Watchdog(const asio::any_io_executor& executor, std::function<void()> on_expire)
      : timer_(executor), on_expire_(std::move(on_expire)) {}
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;
  ~Watchdog() { *alive_ = false; }

  // May be called from `on_expire` to watch a new deadline.
  void expire_at(Clock::time_point deadline) {
    expired_ = false;
    const bool earlier = deadline < deadline_;
    deadline_ = deadline;
    if (!armed_) {
      armed_ = true;
      wait();
    } else if (earlier) {
      timer_.expires_at(deadline_);  // cancels the pending wait, whose handler then re-arms
    }
  }
  void expire_after(Clock::duration timeout) { expire_at(Clock::now() + timeout); }
  void stop() {
    *alive_ = false;
    timer_.cancel();
  }
  bool expired() const { return expired_; }
  Clock::time_point deadline() const { return deadline_; }

 private:
  void wait() {
    timer_.expires_at(deadline_);
    // The handler may run after this object is gone (it is destroyed with a wait pending):
    // it looks at `alive` before anything else.
    timer_.async_wait([this, alive = alive_](const std::error_code& ec) {
      if (!*alive || (ec && ec != asio::error::operation_aborted)) return;
      if (!ec && Clock::now() >= deadline_) {
        expired_ = true;
        armed_ = false;
        on_expire_();
        return;
      }
      wait();
    });
  }

  asio::steady_timer timer_;
  std::function<void()> on_expire_;
  Clock::time_point deadline_ = Clock::time_point::max();
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  bool armed_ = false;
  bool expired_ = false;
};

}  // namespace ferryd
