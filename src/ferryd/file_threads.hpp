#pragma once

// The threads that wait on the file system for the workers: every request's open, stat,
// mkdir, rename, listing batch, fsync, cold read and disk-bound drain. A fixed pool of four
// let four requests on a slow file system (a hung NFS mount; in bench/slow_fs.py a FUSE
// mount that waits 200 ms a call) hold every thread, and every other session's STAT, LS and
// PUT commit waited behind them in one queue for seconds. So a job starts a thread of its own
// whenever none is idle, up to `max_threads`; a thread idle for `idle_exit` ends. Each
// session has at most one request on the file system at once, so the bound is reached only
// by that many sessions all waiting on it; past it, jobs queue in order.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <list>
#include <mutex>
#include <thread>
#include <vector>

namespace ferryd {

class FileThreads {
 public:
  FileThreads(std::size_t max_threads, std::chrono::milliseconds idle_exit);
  FileThreads(const FileThreads&) = delete;
  FileThreads& operator=(const FileThreads&) = delete;
  ~FileThreads();  // join()

  // Runs `job` on one of the threads, soon: on an idle one, on a new one while fewer than
  // max_threads run, else after the jobs queued before it.
  void run(std::function<void()> job);

  // Runs what is queued, then ends every thread; run() after it is not allowed.
  void join();

  std::size_t threads() const;       // running now (busy or idle)
  std::size_t most_threads() const;  // the most that ever ran at once

 private:
  void serve(std::list<std::thread>::iterator self);
  // Joins the threads that have ended (their handles are in ended_), off the lock.
  void join_ended(std::unique_lock<std::mutex>& lock);

  const std::size_t max_threads_;
  const std::chrono::milliseconds idle_exit_;
  mutable std::mutex mutex_;
  std::condition_variable work_or_stop_;
  std::condition_variable all_ended_;
  std::deque<std::function<void()>> jobs_;
  std::list<std::thread> running_;  // every thread not yet ended; a thread knows its own
  std::vector<std::thread> ended_;  // handed over by each thread as its last step
  std::size_t threads_ = 0;
  std::size_t idle_ = 0;
  std::size_t most_threads_ = 0;
  bool stopping_ = false;
};

}  // namespace ferryd
