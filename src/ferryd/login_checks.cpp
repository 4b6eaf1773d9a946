#include "login_checks.hpp"

#include <sodium.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

namespace ferryd {
namespace {

constexpr int kNiceIncrement = 10;

// This thread's nice value raised by kNiceIncrement (Linux: nice is per thread). A failure
// leaves it as it is: the bound on concurrent checks holds either way.
void lower_priority() {
  const auto self = static_cast<id_t>(::gettid());
  errno = 0;
  const int current = ::getpriority(PRIO_PROCESS, self);
  if (errno != 0) return;
  static_cast<void>(::setpriority(PRIO_PROCESS, self, std::min(19, current + kNiceIncrement)));
}

}  // namespace

std::size_t LoginChecks::default_concurrency() {
  return std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, 2);
}

LoginChecks::LoginChecks(std::size_t concurrency, std::size_t max_waiting, Verify verify)
    : max_waiting_(max_waiting), verify_(std::move(verify)) {
  concurrency = std::max<std::size_t>(concurrency, 1);
  threads_.reserve(concurrency);
  for (std::size_t i = 0; i < concurrency; ++i) {
    threads_.emplace_back([this] { serve(); });
  }
}

LoginChecks::~LoginChecks() {
  stop();
}

bool LoginChecks::submit(Check check) {
  {
    const std::lock_guard lock(mutex_);
    if (stopping_ || waiting_.size() >= max_waiting_) return false;
    waiting_.push_back(std::move(check));
  }
  work_or_stop_.notify_one();
  return true;
}

void LoginChecks::stop() {
  std::deque<Check> dropped;
  {
    const std::lock_guard lock(mutex_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
    dropped.swap(waiting_);
  }
  work_or_stop_.notify_all();
  for (auto& thread : threads_)
    thread.join();
  threads_.clear();
  for (Check& check : dropped) {
    ::sodium_memzero(check.password.data(), check.password.size());
  }
}

void LoginChecks::serve() {
  lower_priority();
  std::unique_lock lock(mutex_);
  for (;;) {
    work_or_stop_.wait(lock, [this] { return stopping_ || !waiting_.empty(); });
    if (stopping_) return;
    Check check = std::move(waiting_.front());
    waiting_.pop_front();
    ++running_;
    most_running_ = std::max(most_running_, running_);
    lock.unlock();
    const bool skipped = check.abandoned && check.abandoned->load();
    const bool matched = !skipped && verify_(check.hash, check.password);
    ::sodium_memzero(check.password.data(), check.password.size());
    if (check.done) check.done(matched);
    check = Check{};  // what `done` holds goes before the count does
    lock.lock();
    --running_;
  }
}

std::size_t LoginChecks::running() const {
  const std::lock_guard lock(mutex_);
  return running_;
}

std::size_t LoginChecks::waiting() const {
  const std::lock_guard lock(mutex_);
  return waiting_.size();
}

std::size_t LoginChecks::most_running() const {
  const std::lock_guard lock(mutex_);
  return most_running_;
}

}  // namespace ferryd
