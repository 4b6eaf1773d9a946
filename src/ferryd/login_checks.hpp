#pragma once

// The password checks of LOGIN, off the workers and bounded. Argon2id costs 64 MiB and about
// 0.1 s of a core per check by design (password_hash.hpp), so a flood of LOGINs must find a
// limit: at most `concurrency` checks run at once, on threads of their own at a lower CPU
// priority (nice +10, so that the workers' transfers come first), and at most `max_waiting`
// more wait in order; past that a LOGIN is refused as busy at once. Memory stays below
// concurrency × 64 MiB, and a worker never waits for a check. No asio: the caller's `done`
// posts the result back to its worker.

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace ferryd {

class LoginChecks {
 public:
  // Whether `password` is the one `hash` was made from (verify_password, or a fake in tests).
  using Verify = std::function<bool(const std::string& hash, std::string_view password)>;

  struct Check {
    std::string hash;
    std::string password;  // wiped once checked
    // Set by the session when it ended while its check waited: the check is skipped
    // (done(false) at once). May be null.
    std::shared_ptr<const std::atomic<bool>> abandoned;
    std::function<void(bool matched)> done;  // on the checking thread
  };

  static constexpr std::size_t kMaxWaiting = 64;
  // Two checks at once, or one on a one-core machine.
  static std::size_t default_concurrency();

  LoginChecks(std::size_t concurrency, std::size_t max_waiting, Verify verify);
  LoginChecks(const LoginChecks&) = delete;
  LoginChecks& operator=(const LoginChecks&) = delete;
  ~LoginChecks();  // stop()

  // Queues `check`; false (and its `done` never called) when `max_waiting` checks already
  // wait for a thread.
  bool submit(Check check);

  // Drops the waiting checks (their `done` is destroyed, not called), lets the running ones
  // end, joins the threads. submit() after it returns false.
  void stop();

  std::size_t running() const;
  std::size_t waiting() const;
  std::size_t most_running() const;  // the most that ever ran at once

 private:
  void serve();

  const std::size_t max_waiting_;
  const Verify verify_;
  mutable std::mutex mutex_;
  std::condition_variable work_or_stop_;
  std::deque<Check> waiting_;
  std::size_t running_ = 0;
  std::size_t most_running_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace ferryd
