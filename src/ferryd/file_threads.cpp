#include "file_threads.hpp"

#include <algorithm>
#include <system_error>
#include <utility>

namespace ferryd {

FileThreads::FileThreads(std::size_t max_threads, std::chrono::milliseconds idle_exit)
    : max_threads_(std::max<std::size_t>(1, max_threads)), idle_exit_(idle_exit) {}

FileThreads::~FileThreads() {
  join();
}

void FileThreads::run(std::function<void()> job) {
  std::unique_lock lock(mutex_);
  jobs_.push_back(std::move(job));
  // Every idle thread already has a job waiting for it: start another.
  if (idle_ < jobs_.size() && threads_ < max_threads_ && !stopping_) {
    ++threads_;
    most_threads_ = std::max(most_threads_, threads_);
    auto self = running_.emplace(running_.end());
    try {
      *self = std::thread([this, self] { serve(self); });
    } catch (const std::system_error&) {
      // No thread to be had (a pids limit, RLIMIT_NPROC): undone; the job waits for one of
      // the threads there are, or, with none, runs here and now rather than never.
      running_.erase(self);
      --threads_;
      if (threads_ == 0) {
        std::function<void()> now = std::move(jobs_.back());
        jobs_.pop_back();
        lock.unlock();
        now();
        lock.lock();
      }
    }
  } else {
    work_or_stop_.notify_one();
  }
  join_ended(lock);
}

void FileThreads::serve(std::list<std::thread>::iterator self) {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (jobs_.empty()) {
      if (stopping_) break;
      ++idle_;
      const bool woken =
          work_or_stop_.wait_for(lock, idle_exit_, [this] { return !jobs_.empty() || stopping_; });
      --idle_;
      if (!woken) break;  // idle for idle_exit_: end
      continue;
    }
    std::function<void()> job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    job();
    job = nullptr;  // what it holds goes now, off the lock
    lock.lock();
  }
  // The last step: its handle goes to ended_, for run() or join() to join; that join
  // waits until this thread has let go of the lock and returned.
  ended_.push_back(std::move(*self));
  running_.erase(self);
  --threads_;
  if (threads_ == 0) all_ended_.notify_all();
}

void FileThreads::join_ended(std::unique_lock<std::mutex>& lock) {
  if (ended_.empty()) return;
  std::vector<std::thread> ended = std::move(ended_);
  ended_.clear();
  lock.unlock();
  for (auto& thread : ended)
    thread.join();
  lock.lock();
}

void FileThreads::join() {
  std::unique_lock lock(mutex_);
  stopping_ = true;
  work_or_stop_.notify_all();
  all_ended_.wait(lock, [this] { return threads_ == 0; });
  join_ended(lock);
  // A job queued after the last thread ended (none is started once stopping): run here.
  while (!jobs_.empty()) {
    std::function<void()> job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    job();
    lock.lock();
  }
}

std::size_t FileThreads::threads() const {
  std::lock_guard lock(mutex_);
  return threads_;
}

std::size_t FileThreads::most_threads() const {
  std::lock_guard lock(mutex_);
  return most_threads_;
}

}  // namespace ferryd
